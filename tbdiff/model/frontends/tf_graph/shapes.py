"""Kernel shapes of layers in graphs that do not record them (traced TF2 functions).

A `trace_export` graph keeps no `_output_shapes` and captures variables as resource arguments,
so a dense kernel's shape is not written anywhere. It still follows from what the graph does
know: the batch's shapes (the step's arguments, `IteratorGetNext.output_shapes`), the shapes
folded into constants that feed random ops (a dropout mask has the shape of the activations it
masks) and element-wise ops, which give their inputs and output one shape. Shapes are
propagated forwards and backwards over those ops a few times; a MatMul then gives its kernel
`[input width, output width]`, a dimension staying None when nothing pins it.
"""

from __future__ import annotations

from itertools import zip_longest

import networkx as nx
import numpy as np

from tbdiff.model import ops as O
from tbdiff.model import query as Q
from tbdiff.model.description import Layer
from tbdiff.model.index import graph_index

Tensor = tuple[str, int]  # (producer node, output port)
Shape = list[int | None]

_UNARY = frozenset(
    {*O.ACTIVATION_OPS, *O.PASS_THROUGH, "Neg", "Square", "Sqrt", "Rsqrt", "Exp", "Log", "Floor"}
)
_ELEMENTWISE = frozenset(
    {
        "Add",
        "AddV2",
        "Sub",
        "Mul",
        "RealDiv",
        "Maximum",
        "Minimum",
        "SelectV2",
        "Select",
        *O.THRESHOLD_OPS,
        "Less",
        "LessEqual",
    }
)
_PASSES = 3


def _inputs(g: nx.MultiDiGraph, n: str) -> list[Tensor]:
    ins = sorted(
        (int(d.get("dst_port", 0)), u, int(d.get("port", 0)))
        for u, _, d in g.in_edges(n, data=True)
        if not d.get("control") and d.get("kind", "data") in Q.INPUT_KINDS
    )
    return [(u, p) for _, u, p in ins]


def _seed(g: nx.MultiDiGraph) -> dict[Tensor, Shape]:
    """Shapes the graph states: recorded shapes, batch element shapes, random-op shapes."""
    known: dict[Tensor, Shape] = {}
    for n, d in g.nodes(data=True):
        o = d.get("op")
        shapes = (d.get("attrs") or {}).get("output_shapes")
        if isinstance(shapes, list) and shapes and all(isinstance(s, list) for s in shapes):
            known.update({(n, i): list(s) for i, s in enumerate(shapes)})
        elif d.get("shape") is not None and d.get("dtype") != "resource":
            known[(n, 0)] = list(d["shape"])
        elif o in O.RANDOM_OPS:
            v = Q.value(g, Q.input_at(g, n, 0) or n)
            if isinstance(v, np.ndarray) and v.ndim == 1 and v.dtype.kind in "iuf":
                known[(n, 0)] = [int(x) for x in v]
    return known


def _is_scalar(g: nx.MultiDiGraph, t: Tensor) -> bool:
    v = Q.value(g, t[0]) if Q.op(g, Q.resolve(g, t[0])) == "Const" else None
    return v is not None and np.ndim(v) == 0


def _broadcast(shapes: list[Shape]) -> Shape:
    out: Shape = []
    for dims in zip_longest(*(reversed(s) for s in shapes), fillvalue=1):
        known = [x for x in dims if x not in (None, 1)]
        out.append(known[0] if known else (1 if all(x == 1 for x in dims) else None))
    return list(reversed(out))


def _forward(g: nx.MultiDiGraph, n: str, ins: list[Tensor], known: dict) -> Shape | None:
    o = Q.op(g, n)
    got = [known.get(t) for t in ins]
    if o in _UNARY and got and got[0] is not None:
        return got[0]
    if o == "BiasAdd" and got and got[0] is not None:
        return got[0]
    if o in ("SelectV2", "Select") and got and got[0] is not None and len(got[0]) > 0:
        return got[0]  # the mask decides the shape (t and e broadcast into it)
    if o in _ELEMENTWISE and got and all(s is not None for s in got):
        return _broadcast([s for s in got if s is not None])
    if o == "MatMul" and len(got) == 2 and all(s is not None and len(s) == 2 for s in got):
        a, b = got[0], got[1]
        attrs = g.nodes[n].get("attrs") or {}
        rows = a[1] if attrs.get("transpose_a") else a[0]
        cols = b[0] if attrs.get("transpose_b") else b[1]
        return [rows, cols]
    return None


def _unreshaped(g: nx.MultiDiGraph, t: Tensor) -> Tensor:
    while Q.op(g, t[0]) == "Reshape":
        ins = _inputs(g, t[0])
        if not ins:
            break
        t = ins[0]
    return t


def _xent(g: nx.MultiDiGraph, n: str, ins: list[Tensor], known: dict) -> None:
    """Dense cross-entropy: the logits have the labels' shape (both flattened the same way)."""
    if Q.op(g, n) != "SoftmaxCrossEntropyWithLogits" or len(ins) != 2:
        return
    logits, labels = (_unreshaped(g, t) for t in ins)
    if labels in known and logits not in known:
        known[logits] = list(known[labels])


def _backward(g: nx.MultiDiGraph, n: str, ins: list[Tensor], out: Shape, known: dict) -> None:
    """An element-wise op's full-rank inputs have its output's shape."""
    o = Q.op(g, n)
    if o in _UNARY or o == "BiasAdd":
        targets = ins[:1]
    elif o in _ELEMENTWISE:
        targets = [t for t in ins if not _is_scalar(g, t)]
        ranks = [len(known[t]) for t in targets if t in known]
        if any(r < len(out) for r in ranks):  # a lower-rank operand (bias) broadcasts: skip it
            targets = [t for t in targets if t not in known]
    else:
        return
    for t in targets:
        if t not in known and Q.var_source(g, t[0]) is None:  # a bias read keeps its own shape
            known[t] = list(out)


def infer(g: nx.MultiDiGraph) -> dict[Tensor, Shape]:
    """Shapes of as many tensors as the graph pins down (memoised per graph)."""

    def make() -> dict[Tensor, Shape]:
        known = _seed(g)
        ix = graph_index(g)
        depth = ix.depth()
        order = sorted(range(len(ix.names)), key=depth.__getitem__)
        nodes = [ix.names[i] for i in order if not O.is_gradient_node(ix.names[i])]
        ins = {n: _inputs(g, n) for n in nodes}
        for _ in range(_PASSES):
            for n in nodes:
                if (n, 0) not in known and (s := _forward(g, n, ins[n], known)) is not None:
                    known[(n, 0)] = s
            for n in reversed(nodes):
                _xent(g, n, ins[n], known)
                if (n, 0) in known:
                    _backward(g, n, ins[n], known[(n, 0)], known)
        return known

    return Q.cached(g, "shapes", make)


def fill_kernel_shapes(g: nx.MultiDiGraph, layers: list[Layer]) -> None:
    """Set `[input width, output width]` on dense layers whose kernel shape is unknown."""
    todo = [x for x in layers if x.kind == "dense" and x.shape is None and x.op in g]
    todo = [x for x in todo if Q.op(g, x.op or "") == "MatMul"]
    if not todo:
        return
    known = infer(g)
    for layer in todo:
        ins = _inputs(g, layer.op or "")
        if len(ins) != 2:
            continue
        x = known.get(ins[0])
        out = known.get((layer.op or "", 0))
        attrs = g.nodes[layer.op].get("attrs") or {}
        width_in = (x[0] if attrs.get("transpose_a") else x[-1]) if x else None
        width_out = out[-1] if out else None
        if width_in is not None or width_out is not None:
            layer.shape = [width_in, width_out]
            if layer.bias is not None and layer.bias_shape is None and width_out is not None:
                layer.bias_shape = [width_out]
