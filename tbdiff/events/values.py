"""Value decoding shared by both paths: plugin names, legacy value kinds, rank-0 tensors."""

from __future__ import annotations

import numpy as np
from google.protobuf.message import DecodeError

# what protobuf raises for bytes that are not the message they claim to be
DECODE_ERRORS: tuple[type[BaseException], ...] = (DecodeError, RuntimeError, ValueError)

SCALAR_PLUGIN = "scalars"
KERAS_PLUGIN = "graph_keras_model"
RUN_METADATA_PLUGINS = ("graph_run_metadata", "graph_run_metadata_graph")
HPARAMS_PLUGIN = "hparams"
LEGACY_KIND = {
    "simple_value": "scalars",
    "histo": "histograms",
    "image": "images",
    "audio": "audio",
    "obsolete_old_style_histogram": "histograms",
}
# dtype enum -> (TensorProto repeated field, numpy dtype of tensor_content)
_TENSOR_FIELDS: dict[int, tuple[str, str]] = {
    1: ("float_val", "<f4"),
    2: ("double_val", "<f8"),
    3: ("int_val", "<i4"),
    4: ("int_val", "u1"),
    5: ("int_val", "<i2"),
    6: ("int_val", "i1"),
    9: ("int64_val", "<i8"),
    10: ("bool_val", "?"),
    17: ("int_val", "<u2"),
    19: ("half_val", "<f2"),
    22: ("uint32_val", "<u4"),
    23: ("uint64_val", "<u8"),
}


def tensor_scalar(t) -> float | None:
    """Value of a rank-0 numeric TensorProto as float, else None."""
    if len(t.tensor_shape.dim) != 0:
        return None
    dtype = t.dtype
    if dtype == 14:  # bfloat16: half_val holds the upper 16 bits of a float32
        if t.tensor_content:
            bits = int(np.frombuffer(t.tensor_content[:2], "<u2")[0])
        elif t.half_val:
            bits = t.half_val[0]
        else:
            return None
        return float(np.array([bits << 16], np.uint32).view(np.float32)[0])
    spec = _TENSOR_FIELDS.get(dtype)
    if spec is None:
        return None
    fname, npdt = spec
    if t.tensor_content:
        a = np.frombuffer(t.tensor_content, dtype=npdt)
        return float(a[0]) if a.size == 1 else None
    vals = getattr(t, fname)
    if len(vals) != 1:
        return None
    if dtype == 19:
        return float(np.array([vals[0]], np.uint16).view(np.float16)[0])
    return float(vals[0])
