"""GraphDef (+ function library) -> ``networkx.MultiDiGraph``.

Why a graph model of our own: TensorBoard shows graphs but cannot compare them, and TF2 hides most
of a Keras model inside library functions (``If`` branches of Dropout, ``StatefulPartitionedCall``
bodies).  Everything downstream (alignment, findings) works on one flat graph in which function
bodies are inlined under their caller's name scope, constants are decoded to numpy values and
edges carry output ports.  TensorFlow itself is never imported: protos come from
``tensorboard.compat.proto``.

Entry points:

- :func:`load_graph` turns a ``GraphSource`` (events layer), a ``GraphDef`` or a path into a graph.
- :func:`graph_from_path` additionally reports where the graph came from (:class:`GraphInfo`).
- :func:`graph_from_keras_config` builds a layer-level graph from a Keras model config.

Node key = full node name; inlined nodes are ``{caller}/{branch}/{fn_node}`` with branch ``then`` /
``else`` (If), ``cond`` / ``body`` (While), ``branch{i}`` (Case), ``call`` (PartitionedCall and
plain function calls).  Node attributes: ``op``, ``device``, ``scope``, ``dtype``, ``shape``,
``value``, ``attrs``, ``function``, ``call_site``, ``inputs``.  Edge attributes: ``port`` (producer
output index), ``dst_port`` (consumer input index), ``control`` (bool) and ``kind`` (``"data"``,
``"control"``, ``"arg"`` = caller input -> function body consumer, ``"ret"`` = returned tensor ->
caller, where ``dst_port`` is the caller's output index, or -1 for a While loop predicate).

Complexity: O(N + E + F) time and memory, N nodes, E inputs, F = size of all inlined function
bodies (each function is instantiated once per call site, so F can exceed the library size).
"""

from __future__ import annotations

import dataclasses
import gc
import json
import logging
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format
from google.protobuf.message import DecodeError
from tensorboard.compat.proto import (
    attr_value_pb2,
    function_pb2,
    graph_pb2,
    meta_graph_pb2,
    tensor_pb2,
    types_pb2,
)

from tbdiff.diagnostics import LogWarning
from tbdiff.errors import TbdiffError

log = logging.getLogger(__name__)

#: Constants with more elements than this keep ``value=None`` (their shape is still recorded).
MAX_CONST_ELEMENTS = 1024
#: Nested function calls deeper than this are left as opaque call nodes (with a warning).
MAX_INLINE_DEPTH = 16

GRAPH_KINDS = ("graph_def", "meta_graph_def", "run_metadata", "keras_model")


def _saved_model_class() -> type:
    """tensorboard.compat.proto has no saved_model.proto; declare the two fields we need.

    SavedModel = {1: int64 saved_model_schema_version, 2: repeated MetaGraphDef meta_graphs}
    (tensorflow/core/protobuf/saved_model.proto), registered against tensorboard's MetaGraphDef.
    """
    pool = descriptor_pool.Default()
    full = "tbdiff_saved_model.SavedModel"
    try:
        return message_factory.GetMessageClass(pool.FindMessageTypeByName(full))
    except KeyError:
        pass
    fdp = descriptor_pb2.FileDescriptorProto(
        name="tbdiff/saved_model.proto",
        package="tbdiff_saved_model",
        dependency=[meta_graph_pb2.DESCRIPTOR.name],
        syntax="proto3",
    )
    m = fdp.message_type.add(name="SavedModel")
    f = descriptor_pb2.FieldDescriptorProto
    m.field.add(
        name="saved_model_schema_version", number=1, type=f.TYPE_INT64, label=f.LABEL_OPTIONAL
    )
    m.field.add(
        name="meta_graphs",
        number=2,
        type=f.TYPE_MESSAGE,
        label=f.LABEL_REPEATED,
        type_name="." + meta_graph_pb2.MetaGraphDef.DESCRIPTOR.full_name,
    )
    pool.Add(fdp)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(full))


SavedModel = _saved_model_class()

# --------------------------------------------------------------------------------------------
# dtypes and attribute decoding
# --------------------------------------------------------------------------------------------

_DT_NAMES = {
    "DT_FLOAT": "float32",
    "DT_DOUBLE": "float64",
    "DT_HALF": "float16",
    "DT_BFLOAT16": "bfloat16",
    "DT_INT8": "int8",
    "DT_INT16": "int16",
    "DT_INT32": "int32",
    "DT_INT64": "int64",
    "DT_UINT8": "uint8",
    "DT_UINT16": "uint16",
    "DT_UINT32": "uint32",
    "DT_UINT64": "uint64",
    "DT_BOOL": "bool",
    "DT_STRING": "string",
    "DT_COMPLEX64": "complex64",
    "DT_COMPLEX128": "complex128",
    "DT_RESOURCE": "resource",
    "DT_VARIANT": "variant",
}


def _build_dtype_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for name, num in types_pb2.DataType.items():
        base = name[:-4] if name.endswith("_REF") else name
        pretty = _DT_NAMES.get(base, base[3:].lower() if base.startswith("DT_") else base.lower())
        table[num] = pretty + "_ref" if name.endswith("_REF") else pretty
    return table


_DTYPES = _build_dtype_table()


def dtype_name(enum_value: int) -> str:
    """``types_pb2.DT_FLOAT`` -> ``"float32"`` (``_ref`` suffix kept for TF1 ref types)."""
    return _DTYPES.get(enum_value, f"dtype{enum_value}")


# numpy dtype and the TensorProto repeated field that holds values when tensor_content is empty.
_NP_FIELDS: dict[str, tuple[Any, str]] = {
    "float32": (np.float32, "float_val"),
    "float64": (np.float64, "double_val"),
    "float16": (np.float16, "half_val"),
    "bfloat16": (np.float32, "half_val"),
    "int8": (np.int8, "int_val"),
    "int16": (np.int16, "int_val"),
    "int32": (np.int32, "int_val"),
    "int64": (np.int64, "int64_val"),
    "uint8": (np.uint8, "int_val"),
    "uint16": (np.uint16, "int_val"),
    "uint32": (np.uint32, "uint32_val"),
    "uint64": (np.uint64, "uint64_val"),
    "bool": (np.bool_, "bool_val"),
    "complex64": (np.complex64, "scomplex_val"),
    "complex128": (np.complex128, "dcomplex_val"),
    "qint8": (np.int8, "int_val"),
    "quint8": (np.uint8, "int_val"),
    "qint16": (np.int16, "int_val"),
    "quint16": (np.uint16, "int_val"),
    "qint32": (np.int32, "int_val"),
}


def shape_to_list(shape_proto: Any) -> list[int | None] | None:
    """TensorShapeProto -> list of dims (unknown dims as None), None for unknown rank."""
    if shape_proto.unknown_rank:
        return None
    return [d.size if d.size >= 0 else None for d in shape_proto.dim]


def _bits_to_float(bits: np.ndarray, dtype: str) -> np.ndarray:
    """half_val / tensor_content of half and bfloat16 hold 16-bit patterns."""
    bits = bits.astype(np.uint16)
    if dtype == "float16":
        return bits.view(np.float16)
    return (bits.astype(np.uint32) << 16).view(np.float32)


def _short_float32(v: float) -> float:
    """Shortest decimal that round-trips in float32: 0.7, not 0.699999988 (what users wrote)."""
    if v != v or v in (float("inf"), float("-inf")):
        return v
    packed = struct.pack("<f", v)
    for digits in (6, 7, 8, 9):
        r = float(f"{v:.{digits}g}")
        if struct.pack("<f", r) == packed:
            return r
    return v


def decode_tensor(t: tensor_pb2.TensorProto, max_elements: int = MAX_CONST_ELEMENTS) -> Any:
    """Decode a TensorProto to a numpy array (scalars as Python numbers / str).

    Returns None when the tensor has more than ``max_elements`` elements, unknown shape, or a
    dtype we cannot represent (resource, variant).  A single stored value is splat to the full
    shape; fewer stored values than elements repeat the last one (TF's own convention).
    """
    if t.dtype == types_pb2.DT_FLOAT and not t.tensor_shape.dim and not t.tensor_content:
        # fast path for the most common constant: a float32 scalar
        return _short_float32(t.float_val[0] if t.float_val else 0.0)
    dtype = dtype_name(t.dtype)
    shape = [d.size for d in t.tensor_shape.dim]
    if any(s < 0 for s in shape):
        return None
    n = int(np.prod(shape)) if shape else 1
    if n > max_elements:
        return None
    if dtype == "string":
        vals = [v.decode("utf-8", errors="replace") for v in t.string_val]
        if n == 0:
            return np.array([], dtype=object).reshape(shape)
        if not vals:
            vals = [""]
        if len(vals) < n:
            vals = vals + [vals[-1]] * (n - len(vals))
        if not shape:
            return vals[0]
        return np.array(vals[:n], dtype=object).reshape(shape)
    spec = _NP_FIELDS.get(dtype)
    if spec is None:
        return None
    np_type, fld = spec
    if t.tensor_content:
        if dtype in ("float16", "bfloat16"):
            raw = np.frombuffer(t.tensor_content, dtype="<u2")
            arr = _bits_to_float(raw, dtype)
        else:
            arr = np.frombuffer(t.tensor_content, dtype=np.dtype(np_type).newbyteorder("<"))
        arr = arr.astype(np_type if dtype != "bfloat16" else np.float32)
        if arr.size != n:
            return None
    else:
        raw_vals = list(getattr(t, fld))
        if dtype.startswith("complex"):
            pairs = np.array(raw_vals, dtype=np.float64).reshape(-1, 2)
            vals = pairs[:, 0] + 1j * pairs[:, 1]
            arr = vals.astype(np_type)
        elif dtype in ("float16", "bfloat16"):
            arr = _bits_to_float(np.array(raw_vals, dtype=np.int64), dtype)
        else:
            arr = np.array(raw_vals, dtype=np_type)
        if n == 0:
            arr = arr[:0]
        elif arr.size == 0:
            arr = np.zeros(1, dtype=arr.dtype)
        if 0 < arr.size < n:
            arr = np.concatenate([arr, np.repeat(arr[-1:], n - arr.size)])
        arr = arr[:n]
    if not shape:
        if not arr.size:
            return None
        if dtype in ("float32", "float16", "bfloat16"):
            return _short_float32(float(arr.reshape(())))
        return arr.reshape(()).item()
    return arr.reshape(shape)


def decode_attr(v: attr_value_pb2.AttrValue) -> Any:
    """AttrValue -> plain Python (str, int, float, bool, dtype name, shape list, func name ...)."""
    which = v.WhichOneof("value")
    if which == "s":
        return v.s.decode("utf-8", errors="replace")
    if which == "i":
        return int(v.i)
    if which == "f":
        return float(v.f)
    if which == "b":
        return bool(v.b)
    if which == "type":
        return dtype_name(v.type)
    if which == "shape":
        return shape_to_list(v.shape)
    if which == "tensor":
        return decode_tensor(v.tensor)
    if which == "func":
        return v.func.name
    if which == "placeholder":
        return "$" + v.placeholder
    if which == "list":
        lv = v.list
        if lv.s:
            return [s.decode("utf-8", errors="replace") for s in lv.s]
        if lv.i:
            return [int(i) for i in lv.i]
        if lv.f:
            return [float(f) for f in lv.f]
        if lv.b:
            return [bool(b) for b in lv.b]
        if lv.type:
            return [dtype_name(t) for t in lv.type]
        if lv.shape:
            return [shape_to_list(s) for s in lv.shape]
        if lv.tensor:
            return [decode_tensor(t) for t in lv.tensor]
        if lv.func:
            return [f.name for f in lv.func]
        return []
    return None


# --------------------------------------------------------------------------------------------
# function-body tensor references ("node:out_arg:idx") -> ports
# --------------------------------------------------------------------------------------------

#: Output arg names of common ops with more than one output arg (in OpDef order).  For any op
#: not listed, ``node:arg:idx`` maps to port ``idx`` (true for all single-output-arg ops).
MULTI_OUTPUT_OPS: dict[str, tuple[str, ...]] = {
    "Switch": ("output_false", "output_true"),
    "RefSwitch": ("output_false", "output_true"),
    "Merge": ("output", "value_index"),
    "RefMerge": ("output", "value_index"),
    "Unique": ("y", "idx"),
    "UniqueV2": ("y", "idx"),
    "UniqueWithCounts": ("y", "idx", "count"),
    "ListDiff": ("out", "idx"),
    "TopK": ("values", "indices"),
    "TopKV2": ("values", "indices"),
    "BroadcastGradientArgs": ("r0", "r1"),
    "SoftmaxCrossEntropyWithLogits": ("loss", "backprop"),
    "SparseSoftmaxCrossEntropyWithLogits": ("loss", "backprop"),
    "FusedBatchNorm": ("y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2"),
    "FusedBatchNormV2": ("y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2"),
    "FusedBatchNormV3": (
        "y",
        "batch_mean",
        "batch_variance",
        "reserve_space_1",
        "reserve_space_2",
        "reserve_space_3",
    ),
    "FusedBatchNormGrad": (
        "x_backprop",
        "scale_backprop",
        "offset_backprop",
        "reserve_space_3",
        "reserve_space_4",
    ),
    "FusedBatchNormGradV2": (
        "x_backprop",
        "scale_backprop",
        "offset_backprop",
        "reserve_space_3",
        "reserve_space_4",
    ),
    "FusedBatchNormGradV3": (
        "x_backprop",
        "scale_backprop",
        "offset_backprop",
        "reserve_space_4",
        "reserve_space_5",
    ),
    "MaxPoolWithArgmax": ("output", "argmax"),
    "Svd": ("s", "u", "v"),
    "Qr": ("q", "r"),
    "SelfAdjointEigV2": ("e", "v"),
    "Lu": ("lu", "p"),
    "NonMaxSuppressionV4": ("selected_indices", "valid_outputs"),
    "NonMaxSuppressionV5": ("selected_indices", "selected_scores", "valid_outputs"),
    "TensorListPopBack": ("output_handle", "tensor"),
    "TensorListSplit": ("output_handle",),
    "CudnnRNN": ("output", "output_h", "output_c", "reserve_space"),
    "CudnnRNNV2": ("output", "output_h", "output_c", "reserve_space", "host_reserved"),
    "CudnnRNNV3": ("output", "output_h", "output_c", "reserve_space", "host_reserved"),
    "LSTMBlockCell": ("i", "cs", "f", "o", "ci", "co", "h"),
    "QuantizeV2": ("output", "output_min", "output_max"),
    "Dequantize": ("output",),
    "SparseFillEmptyRows": (
        "output_indices",
        "output_values",
        "empty_row_indicator",
        "reverse_index_map",
    ),
    "SparseReshape": ("output_indices", "output_shape"),
    "DenseToDenseSetOperation": ("result_indices", "result_values", "result_shape"),
    "CTCLoss": ("loss", "gradient"),
    "IteratorGetNextAsOptional": ("optional",),
}


def _port_for(op: str | None, out_arg: str, idx: int, fn_outputs: dict[str, list[str]]) -> int:
    """Port of ``node:out_arg:idx`` given the producing node's op."""
    if op is not None:
        names = fn_outputs.get(op) or MULTI_OUTPUT_OPS.get(op)
        if names and out_arg in names:
            return names.index(out_arg) + idx
    return idx


def _parse_graph_input(s: str) -> tuple[str, int, bool]:
    """Top-level GraphDef input ``name`` / ``name:N`` / ``^name`` -> (name, port, control)."""
    if s.startswith("^"):
        return s[1:], -1, True
    name, sep, port = s.rpartition(":")
    if sep and port.isdigit():
        return name, int(port), False
    return s, 0, False


# --------------------------------------------------------------------------------------------
# the builder
# --------------------------------------------------------------------------------------------

_IF_OPS = {"If", "StatelessIf", "_If"}
_WHILE_OPS = {"While", "StatelessWhile", "_While"}
_CASE_OPS = {"Case", "StatelessCase"}
_CALL_OPS = {"PartitionedCall", "StatefulPartitionedCall"}

_INLINE_OPS = _IF_OPS | _WHILE_OPS | _CASE_OPS | _CALL_OPS


@dataclass
class _Ctx:
    """Resolution context for one function instantiation (or the top level: prefix "")."""

    prefix: str
    args: dict[str, tuple[str, int] | None]  # arg name -> (producer node, port) in the graph
    ops: dict[str, str]  # local node name -> op (for out_arg -> port mapping)
    function: str | None
    call_site: str | None


@dataclass
class _Builder:
    library: dict[str, function_pb2.FunctionDef]
    inline: bool
    warnings: list[LogWarning] = field(default_factory=list)
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    # (u, v, attrs); producers may be unknown at the time the edge is recorded
    edges: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    fn_outputs: dict[str, list[str]] = field(default_factory=dict)
    inlined: int = 0
    _dangling: int = 0

    def __post_init__(self) -> None:
        self.fn_outputs = {
            name: [a.name for a in fd.signature.output_arg] for name, fd in self.library.items()
        }

    def _warn(self, message: str) -> None:
        self.warnings.append(LogWarning("graph.load", message))

    # -- node attrs ------------------------------------------------------------------------
    def _node_attrs(self, nd: Any, ctx: _Ctx) -> dict[str, Any]:
        name = ctx.prefix + nd.name
        attrs: dict[str, Any] = {}
        value = None
        shape = None
        dtype = None
        for key, av in nd.attr.items():
            if key == "value" and av.WhichOneof("value") == "tensor":
                value = decode_tensor(av.tensor)
                shape = [d.size if d.size >= 0 else None for d in av.tensor.tensor_shape.dim]
                continue
            if key == "_output_shapes":
                if av.list.shape:
                    shape = shape_to_list(av.list.shape[0])
                continue
            attrs[key] = decode_attr(av)
        if "shape" in attrs and (isinstance(attrs["shape"], list) or attrs["shape"] is None):
            if nd.op in ("Placeholder", "PlaceholderV2", "VariableV2", "Variable", "VarHandleOp"):
                shape = attrs["shape"]
            elif shape is None:
                shape = attrs["shape"]
        dt = attrs.get("dtype", attrs.get("T", attrs.get("DstT")))
        if isinstance(dt, str):
            dtype = dt
        parts = name.split("/")
        return {
            "op": nd.op,
            "device": nd.device,
            "scope": tuple(parts[:-1]),
            "dtype": dtype,
            "shape": shape,
            "value": value,
            "attrs": attrs,
            "function": ctx.function,
            "call_site": ctx.call_site,
            "inputs": [],
        }

    # -- input resolution ------------------------------------------------------------------
    def _resolve(self, s: str, ctx: _Ctx) -> tuple[str | None, int, bool, str]:
        """Input string -> (producer graph node or None, port, control, renamed input string)."""
        control = s.startswith("^")
        body = s[1:] if control else s
        if ctx.function is None:
            name, port, control = _parse_graph_input(s)
            text = s
            return name, port, control, text
        parts = body.split(":")
        if parts[0] in ctx.args and (len(parts) == 1 or (len(parts) == 2 and parts[1] == "0")):
            src = ctx.args[body]
            if src is None:
                return None, 0, control, ("^" if control else "") + ctx.prefix + parts[0]
            text = src[0] if src[1] == 0 else f"{src[0]}:{src[1]}"
            return src[0], (-1 if control else src[1]), control, ("^" + src[0]) if control else text
        local = parts[0]
        if len(parts) == 3 and parts[2].isdigit():
            port = _port_for(ctx.ops.get(local), parts[1], int(parts[2]), self.fn_outputs)
        elif len(parts) == 2 and parts[1].isdigit():
            port = int(parts[1])
        else:
            port = 0
        node = ctx.prefix + local
        if control:
            return node, -1, True, "^" + node
        return node, port, False, node if port == 0 else f"{node}:{port}"

    # -- main recursion --------------------------------------------------------------------
    def add_nodes(self, node_defs: Iterable[Any], ctx: _Ctx, depth: int, stack: tuple[str, ...]):
        node_defs = list(node_defs)
        for nd in node_defs:
            ctx.ops[nd.name] = nd.op
        for nd in node_defs:
            name = ctx.prefix + nd.name
            data = self._node_attrs(nd, ctx)
            if name in self.nodes:
                self._warn(f"duplicate node name {name!r}: later definition kept")
            self.nodes[name] = data
            resolved: list[tuple[str | None, int, bool]] = []
            dst = 0
            for s in nd.input:
                producer, port, control, text = self._resolve(s, ctx)
                data["inputs"].append(text)
                resolved.append((producer, port, control))
                if producer is not None:
                    self.edges.append(
                        (
                            producer,
                            name,
                            {
                                "port": port,
                                "dst_port": -1 if control else dst,
                                "control": control,
                                "kind": "control" if control else "data",
                            },
                        )
                    )
                if not control:
                    dst += 1
            if self.inline:
                self._maybe_inline(nd, name, resolved, ctx, depth, stack)

    def _maybe_inline(self, nd, name, resolved, ctx: _Ctx, depth: int, stack) -> None:
        op = nd.op
        if op not in _INLINE_OPS and op not in self.library:
            return
        data_inputs = [(p, port) if p is not None else None for p, port, c in resolved if not c]
        calls: list[tuple[str, str, list, str]] = []  # (branch, fn name, arg sources, role)

        def fname(key: str) -> str | None:
            av = nd.attr.get(key)
            return av.func.name if av is not None and av.func.name else None

        if op in _IF_OPS:
            for branch, key in (("then", "then_branch"), ("else", "else_branch")):
                fn = fname(key)
                if fn:
                    calls.append((branch, fn, data_inputs[1:], "ret"))
        elif op in _WHILE_OPS:
            fn = fname("cond")
            if fn:
                calls.append(("cond", fn, data_inputs, "cond"))
            fn = fname("body")
            if fn:
                calls.append(("body", fn, data_inputs, "ret"))
        elif op in _CASE_OPS:
            av = nd.attr.get("branches")
            if av is not None:
                for i, f in enumerate(av.list.func):
                    calls.append((f"branch{i}", f.name, data_inputs[1:], "ret"))
        elif op in _CALL_OPS:
            fn = fname("f")
            if fn:
                calls.append(("call", fn, data_inputs, "ret"))
        elif op in self.library:
            calls.append(("call", op, data_inputs, "ret"))
        for branch, fn, args, role in calls:
            self._instantiate(name, branch, fn, args, role, depth + 1, stack)

    def _instantiate(self, caller, branch, fn, args, role, depth, stack) -> None:
        fd = self.library.get(fn)
        if fd is None:
            self._warn(f"{caller}: function {fn!r} not in the graph's library")
            return
        if fn in stack:
            self._warn(f"{caller}: recursive call of {fn!r} not inlined")
            return
        if depth > MAX_INLINE_DEPTH:
            self._warn(f"{caller}: function nesting deeper than {MAX_INLINE_DEPTH}")
            return
        in_args = [a.name for a in fd.signature.input_arg]
        if len(args) != len(in_args):
            self._warn(
                f"{caller}: {len(args)} inputs for {len(in_args)} args of {fn!r}; mapped by position"
            )
        arg_map = {a: (args[i] if i < len(args) else None) for i, a in enumerate(in_args)}
        ctx = _Ctx(
            prefix=f"{caller}/{branch}/",
            args=arg_map,
            ops={},
            function=fn,
            call_site=caller,
        )
        self.inlined += 1
        # arg edges are re-labelled after resolution: mark edges created for this body
        start = len(self.edges)
        self.add_nodes(fd.node_def, ctx, depth, stack + (fn,))
        arg_sources = {v for v in arg_map.values() if v is not None}
        if arg_sources:
            prefix = ctx.prefix
            for i in range(start, len(self.edges)):
                u, v, a = self.edges[i]
                if (
                    a["kind"] == "data"
                    and v.startswith(prefix)
                    and not u.startswith(prefix)
                    and (u, a["port"]) in arg_sources
                ):
                    a["kind"] = "arg"
        for i, out in enumerate(fd.signature.output_arg):
            ref = fd.ret.get(out.name)
            if ref is None:
                continue
            producer, port, _c, _t = self._resolve(ref, ctx)
            if producer is None:
                continue
            self.edges.append(
                (
                    producer,
                    caller,
                    {
                        "port": port,
                        "dst_port": -1 if role == "cond" else i,
                        "control": False,
                        "kind": "ret",
                    },
                )
            )

    def build(self, source: str) -> nx.MultiDiGraph:
        g = nx.MultiDiGraph()
        g.graph["source"] = source
        g.graph["functions"] = len(self.library)
        g.graph["inlined_calls"] = self.inlined
        g.graph["warnings"] = self.warnings
        g.add_nodes_from(self.nodes.items())
        missing: dict[str, int] = {}
        # Fill the adjacency directly: MultiDiGraph.add_edges_from costs ~10x more per edge.
        # Same structure networkx builds: succ[u][v] is pred[v][u], a dict key -> edge attrs.
        succ, pred = g._succ, g._pred
        nodes = self.nodes
        for u, v, a in self.edges:
            if u not in nodes:
                # a PyTorch trace reads parameters with prim::GetAttr from the module object,
                # which is not a node of the graph: nothing is missing there
                if nodes[v]["op"] != "prim::GetAttr":
                    missing[u] = missing.get(u, 0) + 1
                continue
            su = succ[u]
            keydict = su.get(v)
            if keydict is None:
                keydict = su[v] = {}
                pred[v][u] = keydict
            keydict[len(keydict)] = a
        if missing:
            names = sorted(missing)
            shown = ", ".join(names[:5]) + (" ..." if len(names) > 5 else "")
            self._warn(
                f"{len(names)} input(s) refer to nodes not in the graph (edges dropped): {shown}"
            )
        return g


def graph_from_graph_def(
    gd: graph_pb2.GraphDef, *, inline: bool = True, source: str = "graph_def"
) -> nx.MultiDiGraph:
    """Convert a GraphDef (with its function library) into a MultiDiGraph."""
    library = {f.signature.name: f for f in gd.library.function}
    b = _Builder(library=library, inline=inline)
    ctx = _Ctx(prefix="", args={}, ops={}, function=None, call_site=None)
    # The cyclic GC would rescan the growing graph every few thousand allocations; nothing
    # built here forms reference cycles, so pausing it is safe and ~35 % faster.
    was = gc.isenabled()
    gc.disable()
    try:
        b.add_nodes(gd.node, ctx, 0, ())
        return b.build(source)
    finally:
        if was:
            gc.enable()


# --------------------------------------------------------------------------------------------
# Keras model config -> layer graph
# --------------------------------------------------------------------------------------------


def _keras_histories(obj: Any) -> list[str]:
    """Inbound layer names from a Keras 3 ``inbound_nodes`` entry (``keras_history`` anywhere)."""
    found: list[str] = []
    stack = [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, dict):
            kh = o.get("keras_history")
            if isinstance(kh, list) and kh and isinstance(kh[0], str):
                found.append(kh[0])
                continue
            stack.extend(reversed(list(o.values())))
        elif isinstance(o, list):
            stack.extend(reversed(o))
    return found


def _keras2_inbound(entry: Any) -> list[str]:
    """Keras 2 ``inbound_nodes`` entry: ``[[name, node_idx, tensor_idx, kwargs], ...]``."""
    names = []
    if isinstance(entry, list):
        for item in entry:
            if isinstance(item, list) and item and isinstance(item[0], str):
                names.append(item[0])
            elif isinstance(item, list):
                names.extend(_keras2_inbound(item))
    return names


def _keras_dtype(cfg: dict) -> str | None:
    dt = cfg.get("dtype")
    if isinstance(dt, dict):
        dt = (dt.get("config") or {}).get("name")
    return dt if isinstance(dt, str) else None


def graph_from_keras_config(config: dict | str) -> nx.MultiDiGraph:
    """Layer-level graph from a Keras model config (``graph_keras_model`` summaries).

    One node per layer (op = layer class name, attrs = layer config), edges from ``inbound_nodes``
    (Keras 2 nested lists and Keras 3 ``args``/``keras_history``) or, for Sequential models, the
    layer order.  Nested models are kept as single nodes.
    """
    if isinstance(config, str):
        try:
            config = json.loads(config)
        except json.JSONDecodeError as e:
            raise TbdiffError(f"keras model config is not valid JSON: {e}") from None
    g = nx.MultiDiGraph()
    g.graph.update(source="keras_model", functions=0, warnings=[], inlined_calls=0)
    model_cfg = config.get("config", {}) if isinstance(config, dict) else {}
    if isinstance(model_cfg, list):  # very old Sequential configs: the list of layers itself
        layers = model_cfg
    else:
        layers = model_cfg.get("layers", []) if isinstance(model_cfg, dict) else []
    g.graph["model_class"] = config.get("class_name") if isinstance(config, dict) else None
    g.graph["model_name"] = model_cfg.get("name") if isinstance(model_cfg, dict) else None
    sequential = g.graph["model_class"] == "Sequential"
    prev = None
    for i, layer in enumerate(layers):
        cfg = layer.get("config", {}) or {}
        name = layer.get("name") or cfg.get("name") or f"layer_{i}"
        shape = cfg.get("batch_input_shape") or cfg.get("batch_shape")
        g.add_node(
            name,
            op=layer.get("class_name", "?"),
            device="",
            scope=(),
            dtype=_keras_dtype(cfg),
            shape=list(shape) if isinstance(shape, list) else None,
            value=None,
            attrs=dict(cfg),
            function=None,
            call_site=None,
            inputs=[],
        )
        inbound = layer.get("inbound_nodes") or []
        srcs: list[str] = []
        for entry in inbound:
            if isinstance(entry, dict):
                srcs.extend(_keras_histories(entry))
            else:
                srcs.extend(_keras2_inbound(entry))
        if not srcs and sequential and prev is not None:
            srcs = [prev]
        for dst_port, s in enumerate(srcs):
            g.nodes[name]["inputs"].append(s)
            if s not in g:
                g.graph["warnings"].append(
                    LogWarning("graph.load", f"keras layer {name!r}: unknown inbound layer {s!r}")
                )
                continue
            g.add_edge(s, name, port=0, dst_port=dst_port, control=False, kind="data")
        prev = name
    return g


# --------------------------------------------------------------------------------------------
# files and event logs
# --------------------------------------------------------------------------------------------


@dataclass
class GraphInfo:
    """Where a graph came from, for reports and error messages."""

    path: str
    kind: str  # graph_def | meta_graph_def | run_metadata | keras_model | pb | pbtxt | saved_model
    run: str | None = None
    file: str | None = None
    step: int | None = None
    tag: str | None = None
    nodes: int = 0
    functions: int = 0
    warnings: list[LogWarning] = field(default_factory=list)


_OP_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_>.\-]*$")


def _plausible(gd: graph_pb2.GraphDef) -> int:
    """Number of nodes if every node looks like a real NodeDef, else -1 (wrong message type)."""
    if not gd.node and not gd.library.function:
        return -1
    for n in gd.node:
        if not n.name or not _OP_RE.match(n.op):
            return -1
    return len(gd.node) + sum(len(f.node_def) for f in gd.library.function)


def _graph_def_from_bytes(data: bytes, text: bool | None, what: str) -> tuple[Any, str]:
    """Parse GraphDef / MetaGraphDef / SavedModel from binary or text proto bytes."""
    candidates: list[tuple[int, Any, str]] = []
    if text is not False:
        try:
            s = data.decode("utf-8")
        except UnicodeDecodeError:
            s = None
        if s is not None:
            for cls, kind in (
                (graph_pb2.GraphDef, "graph_def"),
                (meta_graph_pb2.MetaGraphDef, "meta_graph_def"),
                (SavedModel, "saved_model"),
            ):
                try:
                    msg = text_format.Parse(s, cls())
                except (text_format.ParseError, UnicodeDecodeError):
                    continue
                gd = _extract(msg, kind)
                if gd is not None and _plausible(gd) >= 0:
                    return gd, kind
    if text is not True:
        for cls, kind in (
            (graph_pb2.GraphDef, "graph_def"),
            (meta_graph_pb2.MetaGraphDef, "meta_graph_def"),
            (SavedModel, "saved_model"),
        ):
            try:
                msg = cls.FromString(data)
            except (DecodeError, RuntimeError, ValueError):
                continue
            gd = _extract(msg, kind)
            if gd is not None:
                score = _plausible(gd)
                if score >= 0:
                    candidates.append((score, gd, kind))
    if not candidates:
        raise TbdiffError(f"{what}: not a GraphDef, MetaGraphDef or SavedModel (binary or text)")
    candidates.sort(key=lambda c: -c[0])
    return candidates[0][1], candidates[0][2]


def _extract(msg: Any, kind: str) -> graph_pb2.GraphDef | None:
    if kind == "graph_def":
        return msg
    if kind == "meta_graph_def":
        return msg.graph_def if msg.HasField("graph_def") else None
    if msg.meta_graphs and msg.meta_graphs[0].HasField("graph_def"):
        return msg.meta_graphs[0].graph_def
    return None


def _load_proto_file(path: Path) -> tuple[nx.MultiDiGraph, GraphInfo]:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise TbdiffError(f"cannot read {path}: {e.strerror}") from None
    suffix = path.suffix.lower()
    text = True if suffix in (".pbtxt", ".txt", ".prototxt") else None
    if suffix == ".pb":
        text = False
    gd, kind = _graph_def_from_bytes(data, text, str(path))
    g = graph_from_graph_def(gd, source=kind)
    g.graph["warnings"] = [dataclasses.replace(w, path=str(path)) for w in g.graph["warnings"]]
    info = GraphInfo(
        path=str(path),
        kind=kind,
        file=str(path),
        nodes=g.number_of_nodes(),
        functions=len(gd.library.function),
        warnings=g.graph["warnings"],
    )
    return g, info


def _is_event_file(p: Path) -> bool:
    return "tfevents" in p.name


def load_graph(source: Any, *, inline: bool = True) -> nx.MultiDiGraph:
    """GraphSource | GraphDef | MetaGraphDef | keras config dict | path -> MultiDiGraph."""
    if isinstance(source, graph_pb2.GraphDef):
        return graph_from_graph_def(source, inline=inline)
    if isinstance(source, meta_graph_pb2.MetaGraphDef):
        return graph_from_graph_def(source.graph_def, inline=inline, source="meta_graph_def")
    if isinstance(source, str | Path):
        return graph_from_path(source)[0]
    if isinstance(source, dict):
        return graph_from_keras_config(source)
    kind = getattr(source, "kind", None)
    if kind == "keras_model":
        return _located(graph_from_keras_config(source.keras_config()), source)
    if kind is not None and hasattr(source, "graph_def"):
        g = graph_from_graph_def(source.graph_def(), inline=inline, source=kind)
        return _located(g, source)
    raise TbdiffError(f"cannot build a graph from {type(source).__name__}")


def _located(g: nx.MultiDiGraph, source: Any) -> nx.MultiDiGraph:
    """Give the graph's warnings the event file and record offset they came from."""
    where = {"path": str(source.file), "offset": source.offset}
    g.graph["warnings"] = [
        dataclasses.replace(w, **where) if w.path is None else w for w in g.graph["warnings"]
    ]
    return g


def _from_events(path: Path, run: str | None, kind: str) -> tuple[nx.MultiDiGraph, GraphInfo]:
    from tbdiff import events  # events layer owns log reading
    from tbdiff.selection import best_graph, select_run  # the one run selector

    if kind not in ("auto", *GRAPH_KINDS):
        raise TbdiffError(
            f"unknown graph kind {kind!r} (use auto or one of {', '.join(GRAPH_KINDS)})"
        )
    group = select_run(events.find_runs(path), run, path=str(path))
    parts = [events.read_run(r, scalars=False) for r in group.members]
    warnings: list[LogWarning] = [w for data in parts for w in data.warnings]
    chosen = best_graph(parts, kind)
    if chosen is None:
        what = "graphs" if kind == "auto" else f"{kind} graphs"
        raise TbdiffError(f"{path}: no {what} found in the event files")
    data, src = chosen
    g = load_graph(src)
    g.graph["warnings"] = warnings + g.graph["warnings"]
    info = GraphInfo(
        path=str(path),
        kind=src.kind,
        run=data.name,
        file=str(src.file),
        step=src.step,
        tag=src.tag,
        nodes=g.number_of_nodes(),
        functions=src.function_count,
        warnings=g.graph["warnings"],
    )
    return g, info


def graph_from_path(
    path: str | Path, run: str | None = None, kind: str = "auto"
) -> tuple[nx.MultiDiGraph, GraphInfo]:
    """Load a graph from a log dir, event file, ``.pb``/``.pbtxt`` file or SavedModel dir.

    ``kind`` picks the record type inside event files (default: the most complete op graph of
    the run, falling back to the Keras model config); ``run`` picks a run of a log dir.
    """
    p = Path(path)
    if not p.exists():
        raise TbdiffError(f"{p}: no such file or directory")
    if p.is_dir():
        sm = p / "saved_model.pb"
        if sm.is_file() and kind in ("auto", "graph_def", "meta_graph_def"):
            g, info = _load_proto_file(sm)
            info.path = str(p)
            info.kind = "saved_model"
            return g, info
        return _from_events(p, run, kind)
    if _is_event_file(p):
        return _from_events(p, run, kind)
    return _load_proto_file(p)
