"""What a run's model *is*, as a hashable key: runs with equal keys are one model group.

The interface `tbdiff runs` groups by is `model_key(graph record, hparams) -> ModelKey`: a key
(equal for equal models) and a few plain-words facts to show. Until the model-semantics layer
(`tbdiff.model`'s ModelDescription) lands, the key is made here from what the run recorded:

* a Keras model config (what Keras' TensorBoard callback writes): the config with every name
  and seed removed (layer names differ between two builds of the same model), canonical JSON.
  Cheap: no graph is built, so a sweep of thousands of runs is grouped in milliseconds per run.
* an op graph (TF1 GraphDef, TF2 function graphs): the detectors' one-graph facts
  (`findings.analyse` + `summary.describe`: layers, dropout, optimizer, loss, init ...).

Runs without any graph record get no key (their group is "no model recorded").
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tbdiff.diagnostics import LogWarning
from tbdiff.errors import TbdiffError

if TYPE_CHECKING:
    from tbdiff.events import GraphSource

_DROP_KEYS = frozenset(
    {"name", "seed", "registered_name", "module", "build_config", "shared_object_id"}
)


@dataclass(frozen=True)
class ModelKey:
    key: str  # short hash; equal keys = the same model
    source: str  # "keras_model" | "graph_def" | ...
    facts: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


def model_key(
    source: GraphSource, hparams: dict, warnings: list[LogWarning], where: str
) -> ModelKey | None:
    """The key of the model a graph record describes; None (with a warning) when unreadable."""
    try:
        if source.kind == "keras_model":
            config = source.keras_config()
            canon = json.dumps(_strip(config), sort_keys=True, separators=(",", ":"))
            return ModelKey(_hash(canon), source.kind, {"layers": keras_layers(config)})
        facts = _graph_facts(source, hparams)
    except TbdiffError as exc:
        warnings.append(LogWarning("graph.load", f"model not identified: {exc}", path=where))
        return None
    canon = json.dumps(facts, sort_keys=True)
    return ModelKey(_hash(canon), source.kind, facts)


def _hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def _strip(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if k not in _DROP_KEYS}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def _graph_facts(source: GraphSource, hparams: dict) -> dict[str, str]:
    """The run's model description as its `inspect` lines (one model-semantics layer)."""
    from tbdiff import graph
    from tbdiff.findings import inspect_lines
    from tbdiff.model import RunInputs, describe

    d = describe(RunInputs(graph=graph.load_graph(source), hparams=dict(hparams)))
    return {str(k): str(v) for k, v in inspect_lines(d).items()}


def keras_layers(config: dict) -> str:
    """A Keras model config's layers in one line: Dense(128, relu) > Dropout(0.2) > Dense(10)."""
    layers = (config.get("config") or {}).get("layers") or []
    parts = []
    for layer in layers:
        cls = str(layer.get("class_name", "?"))
        c = layer.get("config") or {}
        if cls == "InputLayer":
            continue
        args = [str(c[k]) for k in ("units", "filters", "rate") if k in c]
        if "kernel_size" in c:
            args.append("x".join(str(x) for x in c["kernel_size"]))
        act = c.get("activation")
        if isinstance(act, str) and act != "linear":
            args.append(act)
        parts.append(f"{cls}({', '.join(args)})" if args else cls)
    return " > ".join(parts) if parts else "(no layers)"
