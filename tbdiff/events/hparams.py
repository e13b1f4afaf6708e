"""Hyper-parameters: the hparams plugin's summary metadata (session start info, experiment)."""

from __future__ import annotations

from collections.abc import Callable

from tbdiff.events.model import RunData
from tbdiff.events.values import DECODE_ERRORS

Warn = Callable[[str, str, int | None], None]  # (kind, message, offset)


def plugin_record(content: bytes, offset: int, data: RunData, warn: Warn) -> None:
    """One hparams plugin record: session hparams or the experiment's declared hparams/metrics."""
    from tensorboard.plugins.hparams import plugin_data_pb2

    try:
        pd = plugin_data_pb2.HParamsPluginData.FromString(content)
    except DECODE_ERRORS:
        warn("hparams", f"undecodable hparams record at offset {offset}", offset)
        return
    which = pd.WhichOneof("data")
    if which == "session_start_info":
        for name, val in pd.session_start_info.hparams.items():
            k = val.WhichOneof("kind")
            if k == "number_value":
                data.hparams[name] = val.number_value
            elif k == "string_value":
                data.hparams[name] = val.string_value
            elif k == "bool_value":
                data.hparams[name] = val.bool_value
    elif which == "experiment":
        exp = pd.experiment
        data.experiment = {
            "hparams": [h.name for h in exp.hparam_infos],
            "metrics": [m.name.tag for m in exp.metric_infos],
        }
