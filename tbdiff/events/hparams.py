"""Hyper-parameters: the hparams plugin's summary metadata, and Lightning's `hparams.yaml`.

What TensorBoard's hparams plugin reads, and so what we read:

* Every writer puts hparams in the *summary metadata* of a value whose plugin is "hparams"
  (`plugin_data.content` is an `HParamsPluginData`). Whether the value also carries a tensor
  differs: TensorBoard's own `hp.hparams` writes a null tensor, PyTorch's `add_hparams`,
  Lightning's TensorBoardLogger (through `torch.utils.tensorboard.summary.hparams` or
  tensorboardX) and TF 2.1's `hp.KerasCallback` write the metadata alone. TensorBoard
  (`dataclass_compat` + the accumulator) reads the metadata either way, so we do too.
* Per run, only a tag's first metadata counts (the accumulator keeps the first
  `SummaryMetadata` of each tag): a second `_hparams_/session_start_info` is ignored, with a
  warning when its values differ.
* `HParamsPluginData.version` must be 0 (`metadata.PLUGIN_DATA_VERSION`), as the plugin checks.

Lightning's TensorBoardLogger also saves the run's hparams to `hparams.yaml` beside the event
file (unflattened, unsanitized: objects pickled as `!!python/...` tags). We read it with a safe
loader; rules:

* Nested mappings are flattened with "/" (Lightning's own `_flatten_dict` rule, so keys match
  the ones it wrote to the event file): `{"optim": {"lr": 0.1}}` -> `optim/lr`.
* Numbers become floats (as the event file's `number_value`), booleans and strings stay,
  anything else becomes `str(value)` (Lightning's `_sanitize_params` rule: `None` -> "None",
  lists -> "[1, 2]"); an object Lightning pickled (`!!python/object:m.Cls`) becomes its tag,
  "!!python/object:m.Cls" (never constructed). The event file holds the same object as its
  `str()` (`Cls()`); `same_object` names both `Cls`, for comparing runs (`tbdiff runs`).
* A key the event file already holds keeps the event file's value (that is what TensorBoard
  shows); the others are added. `RunData.hparam_sources` says which file each value came from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from tbdiff.events.model import HParamSource, RunData
from tbdiff.events.values import DECODE_ERRORS

Warn = Callable[[str, str, int | None], None]  # (kind, message, offset)

LIGHTNING_YAML = "hparams.yaml"
_PLUGIN_DATA_VERSION = 0  # tensorboard.plugins.hparams.metadata.PLUGIN_DATA_VERSION
_MAX_YAML_BYTES = 4 << 20


class Collector:
    """The hparams of one run, from the first hparams metadata of each tag (file order)."""

    def __init__(self, data: RunData):
        self.data = data
        self.first: dict[str, bytes] = {}  # tag -> content of its first metadata

    def record(self, tag: str, content: bytes, path: str, offset: int, warn: Warn) -> None:
        """One value whose own metadata names the hparams plugin."""
        if tag in self.first:
            if content != self.first[tag] and _is_session_start(content):
                warn(
                    "hparams",
                    f"hparams recorded again at offset {offset} with other values; "
                    "the first record is used, as TensorBoard does",
                    offset,
                )
            return
        self.first[tag] = content
        try:
            from tensorboard.plugins.hparams import plugin_data_pb2

            pd = plugin_data_pb2.HParamsPluginData.FromString(content)
        except DECODE_ERRORS:
            warn("hparams", f"undecodable hparams record at offset {offset}", offset)
            return
        if pd.version != _PLUGIN_DATA_VERSION:
            warn("hparams", f"hparams record version {pd.version} at offset {offset}", offset)
            return
        which = pd.WhichOneof("data")
        if which == "session_start_info":
            where = HParamSource("event", path, offset)
            for name, val in pd.session_start_info.hparams.items():
                self.data.hparams[name] = _proto_value(val)
                self.data.hparam_sources[name] = where
        elif which == "experiment":
            exp = pd.experiment
            self.data.experiment = {
                "hparams": [h.name for h in exp.hparam_infos],
                "metrics": [m.name.tag for m in exp.metric_infos],
            }


def _is_session_start(content: bytes) -> bool:
    from tensorboard.plugins.hparams import plugin_data_pb2

    try:
        pd = plugin_data_pb2.HParamsPluginData.FromString(content)
    except DECODE_ERRORS:
        return False
    return pd.WhichOneof("data") == "session_start_info"


def _proto_value(val) -> float | str | bool:
    """A google.protobuf.Value as the plugin shows it: number, string, bool, else JSON text."""
    kind = val.WhichOneof("kind")
    if kind == "number_value":
        return val.number_value
    if kind == "string_value":
        return val.string_value
    if kind == "bool_value":
        return val.bool_value
    from google.protobuf import json_format

    return json.dumps(json_format.MessageToDict(val), sort_keys=True)


# --------------------------------------------------------------------------------------------
# Lightning's hparams.yaml
# --------------------------------------------------------------------------------------------


def read_lightning_yaml(run_dir: Path, data: RunData, warn: Warn) -> None:
    """Add the hparams of `run_dir/hparams.yaml` that the event files did not hold."""
    path = run_dir / LIGHTNING_YAML
    if not path.is_file():
        return
    try:
        if path.stat().st_size > _MAX_YAML_BYTES:
            warn("hparams", f"{LIGHTNING_YAML} is over {_MAX_YAML_BYTES >> 20} MiB, not read", None)
            return
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        warn("io.unreadable", f"cannot read {LIGHTNING_YAML} ({exc.strerror or exc})", None)
        return
    import yaml

    try:
        doc = yaml.load(text, Loader=_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        warn("hparams", f"{LIGHTNING_YAML} is not valid YAML ({first})", None)
        return
    if doc is None:
        return
    if not isinstance(doc, dict):
        warn("hparams", f"{LIGHTNING_YAML} holds a {type(doc).__name__}, not a mapping", None)
        return
    where = HParamSource(LIGHTNING_YAML, str(path))
    for key, value in flatten(doc).items():
        if key not in data.hparams:
            data.hparams[key] = _plain(value)
            data.hparam_sources[key] = where


def flatten(mapping: dict, prefix: str = "") -> dict:
    """Nested mappings flattened with "/" (Lightning's `_flatten_dict` rule)."""
    out: dict = {}
    for k, v in mapping.items():
        key = f"{prefix}/{k}" if prefix else str(k)
        if isinstance(v, dict):
            out.update(flatten(v, key))
        else:
            out[key] = v
    return out


def _plain(value) -> float | str | bool:
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return float(value)
    return str(value)


_OBJECT_TAG = re.compile(r"!!python/(?:object|object/new|object/apply|name):(?:[\w.]+\.)?(\w+)")
_BARE_REPR = re.compile(r"([A-Za-z_]\w*)\(\s*\)")


def same_object(value: float | str | bool) -> float | str | bool:
    """An object's value as its class name: the tag Lightning's hparams.yaml gives a pickled
    object (`!!python/object:__main__.WMAPE`) and the `str()` its event file holds when the
    object shows no arguments (`WMAPE()`) both become `WMAPE`. Anything else (a repr with
    arguments included: they tell objects of one class apart) is returned as it is."""
    if not isinstance(value, str):
        return value
    m = _OBJECT_TAG.fullmatch(value.strip()) or _BARE_REPR.fullmatch(value.strip())
    return m.group(1) if m else value


_LOADER = None


def _loader():
    """yaml.SafeLoader that turns tags it does not know (`!!python/object:...`) into text."""
    global _LOADER
    if _LOADER is None:
        import yaml

        class Loader(yaml.SafeLoader):
            pass

        def unknown(loader, node) -> str:  # never constructs the tagged object
            return node.tag.replace("tag:yaml.org,2002:", "!!")

        Loader.add_constructor(None, unknown)
        _LOADER = Loader
    return _LOADER
