"""The layers of a TF op graph, found along the data path (never from names).

A weight layer is a variable read by a linear op (variable -> read -> MatMul/Conv/Einsum), with
the 1-D variable added to its output as bias and the activation applied after it, so raw
`tf.matmul + tf.add + tf.nn.relu` and a Keras `Dense(activation="relu")` give the same layer.
Variables no linear op reads are grouped by scope (batch norm, embeddings, layer norm ...);
dropout layers come from the dropout sites. Optimizer slots and hyper-parameter variables are
not layers. Everything is ordered by data-path depth (`GraphIndex.depth`).

Complexity: O(V + E) for the index and depths, plus a few-hop walk per variable.
"""

from __future__ import annotations

import re
from collections import defaultdict

import networkx as nx

from tbdiff.model import names as N
from tbdiff.model import ops as O
from tbdiff.model import query as Q
from tbdiff.model.description import Layer
from tbdiff.model.frontends.tf_graph.dropout import site_nodes
from tbdiff.model.index import GraphIndex, graph_index

_LEAF_SYNONYMS = {"weights": "kernel", "weight": "kernel", "w": "kernel", "biases": "bias"}
#: scopes whose variables belong to the training machinery, not to the model
_TRAINING_SCOPES = N.OPTIMIZER_SCOPES | {
    "training",
    "optimizer",
    "tfoptimizer",
    "gradients",
    "gradient_tape",
    "metrics",
}


def find_layers(g: nx.MultiDiGraph) -> list[Layer]:
    """Every layer of op graph `g` in data-path order (memoised per graph)."""
    return Q.cached(g, "layers", lambda: _find_layers(g))


def _leaf(name: str) -> str:
    leaf = name.rsplit("/", 1)[-1].lower()
    while leaf[-1:].isdigit() and "_" in leaf:
        head, _, tail = leaf.rpartition("_")
        if not tail.isdigit():
            break
        leaf = head
    return _LEAF_SYNONYMS.get(leaf, leaf)


def _slots(ix: GraphIndex) -> set[int]:
    """Variables feeding a fused optimizer kernel at an input other than the updated one."""
    out: set[int] = set()
    for i, o in enumerate(ix.op):
        if O.is_apply(o):
            out.update(u for u, _p, dp, k in ix.ins[i] if k == 0 and dp > 0)
    return out


def _consumers(ix: GraphIndex, i: int, depth: int = 4) -> list[int]:
    """Forward ops reading variable i through reads/identities (not initialisers/updates)."""
    found: list[int] = []
    frontier, seen = [i], {i}
    for _ in range(depth):
        nxt = []
        for u in frontier:
            for w, _p, _dp, k in ix.outs[u]:
                if k == 1 or w in seen:
                    continue
                seen.add(w)
                o = ix.op[w]
                if o in O.NOT_USES or O.is_apply(o) or O.is_gradient_node(ix.names[w]):
                    continue
                if o in O.PASS_THROUGH:
                    nxt.append(w)
                else:
                    found.append(w)
        frontier = nxt
    return found


def _model_variables(g: nx.MultiDiGraph, ix: GraphIndex) -> list[int]:
    slots = _slots(ix)
    var_names = set(Q.variables(g))
    out = []
    for n in Q.variables(g):
        i = ix.idx[n]
        scope = n.rpartition("/")[0]
        if i in slots or scope in var_names:  # var/biased, var/local_step: helpers
            continue
        parts = [re.sub(r"(_\d+)+$", "", p.lower()) for p in scope.split("/")] if scope else []
        if any(p in _TRAINING_SCOPES for p in parts):
            continue  # optimizer slots / hyper variables, metric accumulators
        out.append(i)
    return out


def _scope_of(g: nx.MultiDiGraph, var: str, op: str) -> str:
    """Layer name: the variable's scope for a real variable, else the op's layer scope (TF2
    function graphs capture variables as placeholders named after the call argument)."""
    if Q.op(g, var) in O.VARIABLE_OPS and "/" in var:
        return var.rpartition("/")[0]
    return Q.layer_name(Q.local_name(g, op)) or Q.local_name(g, op)


def _weight_layer(g: nx.MultiDiGraph, var: str, lop: str, kind: str) -> Layer:
    layer = Layer(
        name=_scope_of(g, var, lop),
        kind=kind,
        shape=Q.var_shape(g, var),
        op=lop,
        kernel=var,
        variables=[var],
    )
    out = lop
    for c in Q.forward_consumers(g, lop):
        if Q.op(g, c) not in O.BIAS_OPS:
            continue
        other = [x for x in Q.data_inputs(g, c) if x != lop]
        bvar = Q.var_source(g, other[0]) if other else None
        if bvar and len(Q.var_shape(g, bvar) or [0]) == 1:
            layer.bias, layer.bias_shape, layer.bias_op = bvar, Q.var_shape(g, bvar), c
            layer.variables.append(bvar)
            out = c
            break
    acts = [c for c in Q.forward_consumers(g, out) if Q.op(g, c) in O.ACTIVATION_OPS]
    if acts:
        layer.activation_op = acts[0]
        layer.activation = layer.trained_activation = O.ACTIVATION_OPS[Q.op(g, acts[0])]
    layer.nodes = [x for x in (var, lop, layer.bias, layer.bias_op, layer.activation_op) if x]
    return layer


def _group_kind(g: nx.MultiDiGraph, scope: str, members: list[str], kinds: set[str]) -> str:
    leaves = {_leaf(m) for m in members}
    rank = max(len(g.nodes[m].get("shape") or []) for m in members)
    if "batch_norm" in kinds or {"moving_mean", "moving_variance"} & leaves:
        return "batch_norm"
    if "embedding" in kinds or {"embeddings", "embedding"} & leaves:
        return "embedding"
    if rank >= 4 and not kinds - {""}:
        return "conv2d"
    if leaves <= {"gamma", "beta", "scale", "offset"}:
        return "layer_norm" if "layernorm" in scope.lower().replace("_", "") else "norm"
    return "variables"


def _find_layers(g: nx.MultiDiGraph) -> list[Layer]:
    ix = graph_index(g)
    depth = ix.depth()
    weight: dict[str, Layer] = {}  # kernel variable -> layer
    leftovers: list[tuple[int, list[int]]] = []
    for i in _model_variables(g, ix):
        var = ix.names[i]
        cons = _consumers(ix, i)
        shape = Q.var_shape(g, var)
        linear = [c for c in cons if ix.op[c] in O.LINEAR_OPS]
        if linear and (shape is None or len(shape) >= 2):
            lop = min(linear, key=lambda c: (depth[c], ix.names[c]))
            layer = _weight_layer(g, var, ix.names[lop], O.LINEAR_OPS[ix.op[lop]])
            layer.position = depth[lop]
            weight[var] = layer
        else:
            leftovers.append((i, cons))
    taken = {v for layer in weight.values() for v in layer.variables}
    by_name = {layer.name: layer for layer in weight.values()}
    groups: dict[str, list[tuple[int, list[int]]]] = defaultdict(list)
    for i, cons in leftovers:
        var = ix.names[i]
        if var in taken or not g.nodes[var].get("shape"):
            continue
        scope = var.rpartition("/")[0]
        if scope in by_name:  # e.g. a bias added by an op we do not follow
            by_name[scope].variables.append(var)
            continue
        groups[scope].append((i, cons))
    layers = list(weight.values())
    for scope, members in groups.items():
        layers.append(_group(g, ix, depth, scope, members))
    layers.extend(_dropout_layers(g, depth, ix))
    layers.sort(key=lambda x: (x.position, Q.natural_key(x.name)))
    for k, layer in enumerate(x for x in layers if x.has_weights):
        layer.index = k
    return layers


def _group(
    g: nx.MultiDiGraph,
    ix: GraphIndex,
    depth: list[float],
    scope: str,
    members: list[tuple[int, list[int]]],
) -> Layer:
    kinds: set[str] = set()
    pos = any_pos = float("inf")
    for _i, cons in members:
        for c in cons:
            kind = O.KIND_BY_CONSUMER.get(ix.op[c], "")
            kinds.add(kind)
            any_pos = min(any_pos, depth[c])
            if kind:  # the op that defines the layer lies on the data path
                pos = min(pos, depth[c])
    names = [ix.names[i] for i, _ in members]
    main = max(names, key=lambda m: (len(g.nodes[m]["shape"]), _leaf(m) == "kernel"))
    return Layer(
        name=scope or main,
        kind=_group_kind(g, scope, names, kinds),
        shape=list(g.nodes[main]["shape"]),
        variables=names,
        position=pos if pos != float("inf") else any_pos,
        nodes=names,
    )


def _dropout_layers(g: nx.MultiDiGraph, depth: list[float], ix: GraphIndex) -> list[Layer]:
    found: dict[str, Layer] = {}
    for s in site_nodes(g):
        layer = found.setdefault(s.layer, Layer(name=s.layer, kind="dropout"))
        layer.anchors.append(s.random)
        layer.nodes.append(s.node)
        layer.position = min(layer.position, depth[ix.idx[s.random]])
    return list(found.values())
