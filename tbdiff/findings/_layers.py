"""Shared graph queries for the training-concept detectors (optimizer, layers, init, loss, regularisation).

Why one module: all of them need the same few facts about a graph — which variables are trained,
how they group into layers, which forward ops are differentiated (so a metric or summary that
merely *looks* like a loss is ignored), and the value of small constant expressions such as
`random_uniform/max - random_uniform/min`. Names are never trusted for meaning: layers are found
along the data path (variable -> read -> MatMul/Conv -> BiasAdd/Add -> activation), so renamed
scopes give the same facts.
"""

from __future__ import annotations

import math
import re
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

VARIABLE_OPS = frozenset({"VariableV2", "Variable", "VarHandleOp"})
# Ops that forward a tensor unchanged for our purposes (reading a variable included).
PASS_OPS = frozenset({"Identity", "ReadVariableOp", "Cast", "Enter", "Snapshot", "StopGradient"})
LINEAR_OPS = {
    "MatMul": "dense",
    "BatchMatMulV2": "dense",
    "Conv2D": "conv2d",
    "Conv1D": "conv1d",
    "Conv3D": "conv3d",
    "DepthwiseConv2dNative": "depthwise_conv2d",
    "Conv2DBackpropInput": "conv2d_transpose",
}
BIAS_OPS = frozenset({"BiasAdd", "Add", "AddV2"})
ACTIVATION_OPS = {
    "Relu": "relu",
    "Relu6": "relu6",
    "Elu": "elu",
    "Selu": "selu",
    "LeakyRelu": "leaky_relu",
    "Tanh": "tanh",
    "Sigmoid": "sigmoid",
    "Softmax": "softmax",
    "LogSoftmax": "log_softmax",
    "Softplus": "softplus",
    "Softsign": "softsign",
    "Gelu": "gelu",
}
_INPUT_KINDS = ("data", "arg")  # "ret" edges feed a caller's outputs, not an input
_GRAD_RE = re.compile(r"(?:^|/)gradients(?:_\d+)?/(.+?)_grad(?:/|$)")
# TF2 tape gradients: `<prefix>/gradient_tape/<forward name>/<grad op>`
_TAPE_RE = re.compile(r"^(.*?)gradient_tape/(.+)/[^/]+$")
_GRAD_SCOPE_RE = re.compile(r"(?:^|/)(?:gradients(?:_\d+)?|gradient_tape)(?:/|$)")


def op(g: nx.MultiDiGraph, n: str) -> str:
    return g.nodes[n].get("op", "")


def data_inputs(g: nx.MultiDiGraph, n: str) -> list[str]:
    """Producers of `n`'s data inputs, ordered by input index (control edges ignored)."""
    ins = [
        (d.get("dst_port", 0), u)
        for u, _, d in g.in_edges(n, data=True)
        if not d.get("control") and d.get("kind", "data") in _INPUT_KINDS
    ]
    return [u for _, u in sorted(ins, key=lambda t: t[0])]


def input_at(g: nx.MultiDiGraph, n: str, index: int) -> str | None:
    for u, _, d in g.in_edges(n, data=True):
        if (
            not d.get("control")
            and d.get("kind", "data") in _INPUT_KINDS
            and d.get("dst_port", 0) == index
        ):
            return u
    return None


def data_consumers(g: nx.MultiDiGraph, n: str) -> list[str]:
    return sorted({v for _, v, d in g.out_edges(n, data=True) if not d.get("control")})


def walk_forward(
    g: nx.MultiDiGraph, start: str, depth: int, pass_through: Callable[[str], bool]
) -> Iterator[str]:
    """Forward-pass data consumers of `start`, breadth first, at most `depth` hops away.

    Every newly reached node is yielded; the walk continues only past nodes whose op satisfies
    `pass_through` (e.g. reshapes and identities). Gradient nodes are skipped: detectors describe
    the forward computation. O(visited nodes + their out-edges).
    """
    frontier, seen = [start], {start}
    for _ in range(depth):
        nxt = []
        for m in frontier:
            for c in data_consumers(g, m):
                if c in seen or is_gradient_node(c):
                    continue
                seen.add(c)
                yield c
                if pass_through(op(g, c)):
                    nxt.append(c)
        frontier = nxt


def is_gradient_node(name: str) -> bool:
    """True for nodes TF's autodiff created (`gradients/`, `training/Adam/gradients_1/` ...)."""
    return bool(_GRAD_SCOPE_RE.search(name))


def through(g: nx.MultiDiGraph, n: str, limit: int = 16) -> str:
    """Follow pass-through ops (Identity, ReadVariableOp, Cast ...) back to the real producer."""
    for _ in range(limit):
        if op(g, n) not in PASS_OPS:
            return n
        ins = data_inputs(g, n)
        if not ins:
            return n
        n = ins[0]
    return n


def forward_consumers(g: nx.MultiDiGraph, n: str, limit: int = 6) -> list[str]:
    """Consumers of `n` behind pass-through ops, skipping autodiff nodes."""
    return [c for c in walk_forward(g, n, limit, PASS_OPS.__contains__) if op(g, c) not in PASS_OPS]


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cached(g: nx.MultiDiGraph, key: str, make):
    """Per-graph memo (graphs are not mutated after loading; detectors share these queries)."""
    slot = _CACHE.setdefault(g, {})
    if key not in slot:
        slot[key] = make()
    return slot[key]


def differentiated(g: nx.MultiDiGraph) -> frozenset[str]:
    """Forward node names that have a gradient node (`.../gradients/<name>_grad/...`).

    A loss or penalty that is really trained on is differentiated; a metric or a summary of the
    same ops is not. Empty for inference-only graphs (callers then accept every candidate).
    """

    def make() -> frozenset[str]:
        out = {m.group(1) for n in g.nodes if (m := _GRAD_RE.search(n))}
        for n in g.nodes:
            if "gradient_tape/" in n and (m := _TAPE_RE.match(n)):
                out.add(m.group(1) + m.group(2))
        return frozenset(out)

    return _cached(g, "differentiated", make)


def is_trained_on(g: nx.MultiDiGraph, n: str) -> bool:
    """True if `n` takes part in the backward pass (or the graph has none at all).

    TF1 names gradients after the forward op (`gradients/<name>_grad/`); TF2 tapes use scope
    names that do not always match, so a gradient node consuming `n` directly also counts.
    """
    diff = differentiated(g)
    if not diff or n in diff:
        return True
    return any(is_gradient_node(c) for c in data_consumers(g, n))


# ---------------------------------------------------------------- constants


def initial_value_node(g: nx.MultiDiGraph, var: str) -> str | None:
    """The tensor a variable is initialised from (input 1 of its initializer Assign)."""
    best = None
    for _, c, d in g.out_edges(var, data=True):
        if d.get("control") or d.get("dst_port", 0) != 0:
            continue
        if op(g, c) in ("Assign", "AssignVariableOp"):
            val = input_at(g, c, 1)
            if val is None:
                continue
            if c == f"{var}/Assign" or "Initializer" in val or "initial_value" in val:
                return val
            best = best or val
    return best


def const_value(g: nx.MultiDiGraph, n: str, depth: int = 12) -> Any:
    """Value of a small constant expression ending at `n`, or None when it is not constant.

    Follows Identity/Cast/ReadVariableOp (a variable's value = its initial value, which is what
    hyper-parameter variables of Keras optimizers hold) and folds simple arithmetic, because
    TF writes e.g. a uniform range as `max - min` and an l2 penalty as `2.0 * l2`.
    """
    if depth <= 0 or n not in g:
        return None
    o = op(g, n)
    d = g.nodes[n]
    if o == "Const":
        v = d.get("value")
        return None if v is None else v
    if o in PASS_OPS:
        ins = data_inputs(g, n)
        return const_value(g, ins[0], depth - 1) if ins else None
    if o in VARIABLE_OPS:
        init = initial_value_node(g, n)
        return const_value(g, init, depth - 1) if init else None
    if o == "PlaceholderWithDefault":
        ins = data_inputs(g, n)
        return const_value(g, ins[0], depth - 1) if ins else None
    if o == "Fill":
        ins = data_inputs(g, n)
        return const_value(g, ins[1], depth - 1) if len(ins) == 2 else None
    fold = _FOLD.get(o)
    if fold is None:
        return None
    vals = [const_value(g, i, depth - 1) for i in data_inputs(g, n)]
    if not vals or any(v is None for v in vals):
        return None
    try:
        with np.errstate(all="ignore"):
            out = fold(*[np.asarray(v, dtype=np.float64) for v in vals])
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    out = np.asarray(out)
    return float(out) if out.ndim == 0 else out


_FOLD = {
    "Add": np.add,
    "AddV2": np.add,
    "Sub": np.subtract,
    "Mul": np.multiply,
    "RealDiv": np.divide,
    "Div": np.divide,
    "Sqrt": np.sqrt,
    "Rsqrt": lambda x: 1.0 / np.sqrt(x),
    "Neg": np.negative,
    "Maximum": np.maximum,
    "Minimum": np.minimum,
    "Square": np.square,
    "Pow": np.power,
}


def scalar(v: Any) -> float | None:
    """A constant as one float when it is a scalar or all its elements are equal."""
    if v is None:
        return None
    try:
        arr = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if arr.size == 0:
        return None
    flat = arr.ravel()
    if np.all(flat == flat[0]):
        return float(flat[0])
    return None


def rnd(x: float | None, digits: int = 6) -> float | None:
    """Round to significant digits so float32 constants compare and print cleanly."""
    if x is None or not math.isfinite(x) or x == 0:
        return x
    return float(f"{x:.{digits}g}")


# ---------------------------------------------------------------- variables and layers


@dataclass
class Layer:
    """One trainable layer found along the data path."""

    index: int
    kind: str  # dense / conv2d ...
    op: str  # the MatMul/Conv node
    kernel: str  # variable node
    kernel_shape: list[int | None] | None
    bias: str | None = None
    bias_shape: list[int | None] | None = None
    bias_op: str | None = None  # BiasAdd/Add node (the pre-activation output)
    activation: str = "linear"
    activation_op: str | None = None
    scope: str = ""
    nodes: list[str] = field(default_factory=list)

    @property
    def units(self) -> int | None:
        if self.kernel_shape:
            return self.kernel_shape[-1]
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "kind": self.kind,
            "scope": self.scope,
            "kernel": self.kernel,
            "kernel_shape": self.kernel_shape,
            "bias": self.bias,
            "bias_shape": self.bias_shape,
            "units": self.units,
            "activation": self.activation,
            "op": self.op,
            "bias_op": self.bias_op,
            "activation_op": self.activation_op,
        }


def is_variable(g: nx.MultiDiGraph, n: str) -> bool:
    """Variable ops, and resource placeholders (variables captured by a TF2 function graph)."""
    d = g.nodes[n]
    o = d.get("op")
    return o in VARIABLE_OPS or (o == "Placeholder" and d.get("dtype") == "resource")


def variables(g: nx.MultiDiGraph) -> list[str]:
    return [n for n in g.nodes if is_variable(g, n)]


def var_shape(g: nx.MultiDiGraph, var: str) -> list[int | None] | None:
    """A variable's shape; for a resource placeholder, the shape its reads produce."""
    if op(g, var) in VARIABLE_OPS:
        return g.nodes[var].get("shape")
    for c in data_consumers(g, var):
        if op(g, c) == "ReadVariableOp" and g.nodes[c].get("shape") is not None:
            return g.nodes[c]["shape"]
    return None


def var_source(g: nx.MultiDiGraph, n: str) -> str | None:
    """The variable a tensor is a plain read of, else None."""
    src = through(g, n)
    return src if is_variable(g, src) else None


def _layer_order(g: nx.MultiDiGraph, ops: list[str]) -> list[str]:
    """Order layer ops from input to output along data edges.

    Kahn's algorithm over the data edges, O(N + E) once (networkx's topological sort on a
    filtered view is ~100x slower on big graphs). Nodes on a cycle (While/NextIteration) never
    reach in-degree 0; they keep their discovery order after the acyclic part.
    """
    if len(ops) < 2:
        return list(ops)
    succ: dict[str, list[str]] = {}
    indeg: dict[str, int] = dict.fromkeys(g.nodes, 0)
    for u, nbrs in g.succ.items():
        outs = [v for v, keyed in nbrs.items() if any(not d.get("control") for d in keyed.values())]
        succ[u] = outs
        for v in outs:
            indeg[v] += 1
    ready = [n for n, k in indeg.items() if k == 0]
    pos: dict[str, int] = {}
    while ready:
        n = ready.pop()
        pos[n] = len(pos)
        for v in succ.get(n, ()):
            indeg[v] -= 1
            if indeg[v] == 0:
                ready.append(v)
    big = len(pos)
    return sorted(ops, key=lambda n: (pos.get(n, big), n))


def layers(g: nx.MultiDiGraph) -> list[Layer]:
    """Trainable layers (kernel + optional bias) ordered along the input->output data path."""
    return _cached(g, "layers", lambda: _find_layers(g))


_KERAS_LAYERS = {
    "Dense": "dense",
    "Conv1D": "conv1d",
    "Conv2D": "conv2d",
    "Conv3D": "conv3d",
    "DepthwiseConv2D": "depthwise_conv2d",
    "Conv2DTranspose": "conv2d_transpose",
}
_KERAS_SAME_SHAPE = frozenset(
    {
        "Dropout",
        "AlphaDropout",
        "GaussianDropout",
        "GaussianNoise",
        "SpatialDropout1D",
        "SpatialDropout2D",
        "Activation",
        "ReLU",
        "LeakyReLU",
        "Softmax",
        "BatchNormalization",
        "LayerNormalization",
    }
)
_KERAS_ACT_LAYERS = {"ReLU": "relu", "Softmax": "softmax", "LeakyReLU": "leaky_relu"}


def _keras_in_dim(g: nx.MultiDiGraph, n: str) -> int | None:
    """Input width of a Keras layer: previous Dense units or the Input's last dim."""
    for _ in range(32):
        preds = data_inputs(g, n)
        if len(preds) != 1:
            return None
        n = preds[0]
        o, a = op(g, n), g.nodes[n].get("attrs") or {}
        if o == "Dense":
            return a.get("units")
        if o == "InputLayer":
            shape = a.get("batch_input_shape") or a.get("batch_shape") or g.nodes[n].get("shape")
            return shape[-1] if shape else None
        if o not in _KERAS_SAME_SHAPE:
            return None
    return None


def _keras_activation(value: Any) -> str:
    if isinstance(value, dict):  # Keras 3 may serialise activations as objects
        value = value.get("config", {}).get("name") or value.get("class_name")
    return str(value or "linear").lower()


def _keras_layers(g: nx.MultiDiGraph) -> list[Layer]:
    """Layers of a Keras model-config graph (no ops: shapes and activations from the config)."""
    result: list[Layer] = []
    order = list(nx.topological_sort(g)) if nx.is_directed_acyclic_graph(g) else list(g.nodes)
    for n in order:
        kind = _KERAS_LAYERS.get(op(g, n))
        if kind is None:
            continue
        a = g.nodes[n].get("attrs") or {}
        out = a.get("units") or a.get("filters")
        if kind == "dense":
            shape = [_keras_in_dim(g, n), out]
        else:
            shape = [*(a.get("kernel_size") or []), None, out]
        layer = Layer(
            index=len(result),
            kind=kind,
            op=n,
            kernel=n,
            kernel_shape=shape,
            bias=n if a.get("use_bias", True) else None,
            bias_shape=[out] if a.get("use_bias", True) else None,
            activation=_keras_activation(a.get("activation")),
            scope=n,
        )
        if layer.activation == "linear":  # a separate Activation/ReLU/Softmax layer after it
            nxt = data_consumers(g, n)
            if len(nxt) == 1:
                o2, a2 = op(g, nxt[0]), g.nodes[nxt[0]].get("attrs") or {}
                act = _KERAS_ACT_LAYERS.get(o2) or (
                    _keras_activation(a2.get("activation")) if o2 == "Activation" else None
                )
                if act:
                    layer.activation, layer.activation_op = act, nxt[0]
        layer.nodes = [x for x in (n, layer.activation_op) if x]
        result.append(layer)
    return result


def is_keras_config(g: nx.MultiDiGraph) -> bool:
    """A layer-level graph built from a Keras model config (no TF ops)."""
    return g.graph.get("source") == "keras_model"


def _find_layers(g: nx.MultiDiGraph) -> list[Layer]:
    if is_keras_config(g):
        return _keras_layers(g)
    found: dict[str, tuple[str, str]] = {}  # linear op -> (kernel var, kind)
    for var in variables(g):
        shape = var_shape(g, var)
        if not shape or len(shape) < 2:
            continue
        for c in forward_consumers(g, var):
            kind = LINEAR_OPS.get(op(g, c))
            if kind and var in {var_source(g, x) for x in data_inputs(g, c)}:
                found.setdefault(c, (var, kind))
    result: list[Layer] = []
    for i, lop in enumerate(_layer_order(g, list(found))):
        var, kind = found[lop]
        layer = Layer(
            index=i,
            kind=kind,
            op=lop,
            kernel=var,
            kernel_shape=var_shape(g, var),
            scope="/".join(g.nodes[lop].get("scope", ()) or ()),
        )
        out = lop
        for c in forward_consumers(g, lop):
            if op(g, c) not in BIAS_OPS:
                continue
            other = [x for x in data_inputs(g, c) if x != lop]
            bvar = var_source(g, other[0]) if other else None
            if bvar and len(var_shape(g, bvar) or []) == 1:
                layer.bias, layer.bias_shape, layer.bias_op = bvar, var_shape(g, bvar), c
                out = c
                break
        acts = [c for c in forward_consumers(g, out) if op(g, c) in ACTIVATION_OPS]
        if acts:
            layer.activation_op = acts[0]
            layer.activation = ACTIVATION_OPS[op(g, acts[0])]
        layer.nodes = [x for x in (var, lop, layer.bias, layer.bias_op, layer.activation_op) if x]
        result.append(layer)
    return result


def apply_targets(g: nx.MultiDiGraph) -> dict[str, list[str]]:
    """Variable -> optimizer update ops writing it (Apply*/ResourceApply*/AssignSub*), memoised."""

    def make() -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for n, d in g.nodes(data=True):
            o = d.get("op", "")
            if "Apply" in o or o in ("AssignSubVariableOp", "AssignSub"):
                tgt = input_at(g, n, 0)
                if tgt is not None:
                    out.setdefault(through(g, tgt), []).append(n)
        return out

    return _cached(g, "apply_targets", make)
