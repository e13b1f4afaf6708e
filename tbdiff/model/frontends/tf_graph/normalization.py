"""Normalisation layers of an op graph: batch norm momentum and epsilon (Keras convention).

Three forms, one reading:
- fused kernels (`FusedBatchNorm*`, TF1 `tf.layers`/tf_keras on 4-D inputs): epsilon is an
  attribute;
- the non-fused formula (tf_keras and Keras 3 on 2-D inputs, TF1 `tf.layers` without fusing):
  `(x - mean) * rsqrt(variance + epsilon) * gamma + beta`, epsilon the constant added before
  `Rsqrt`;
- the moving averages a training step updates: TF1/tf_keras `moving -= (moving - batch) * (1 - m)`
  (an AssignSub by `decay = 1 - m`), Keras 3 `moving = moving * m + batch * (1 - m)`.
Momentum is stated as m (Keras/TF1 convention: the weight of the old average). A normalisation
without moving statistics (layer norm) has no momentum.
"""

from __future__ import annotations

import networkx as nx

from tbdiff.model import ops as O
from tbdiff.model import query as Q
from tbdiff.model.description import Normalization
from tbdiff.model.index import graph_index
from tbdiff.model.numbers import rnd, scalar

_STAT_PLUMBING = O.RESHAPES | O.PASS_THROUGH
_UPDATES = frozenset({"AssignSub", "AssignSubVariableOp", "Assign", "AssignVariableOp"})


def _const(g: nx.MultiDiGraph, n: str) -> float | None:
    return scalar(Q.value(g, n))


def _cores(g: nx.MultiDiGraph) -> list[tuple[str, float | None]]:
    """(normalising op, epsilon): fused kernels and `Rsqrt(variance + epsilon)`."""
    out = []
    for n, d in g.nodes(data=True):
        o = d.get("op")
        if O.is_gradient_node(n):
            continue
        if o in O.FUSED_BATCH_NORM:
            eps = (d.get("attrs") or {}).get("epsilon")
            out.append((n, rnd(float(eps)) if isinstance(eps, int | float) else None))
        elif o == "Rsqrt":
            add = Q.resolve(g, Q.input_at(g, n, 0) or n)
            if Q.op(g, add) not in ("Add", "AddV2"):
                continue
            consts = [c for c in (_const(g, x) for x in Q.data_inputs(g, add)) if c is not None]
            if len(consts) == 1 and 0.0 < consts[0] < 0.1:
                out.append((n, rnd(consts[0])))
    return out


def _update_momentum(g: nx.MultiDiGraph, upd: str) -> float | None:
    """m of one moving-average update (see the module docstring), None if it is none."""
    target = Q.var_source(g, Q.input_at(g, upd, 0) or upd)
    val = Q.resolve(g, Q.input_at(g, upd, 1) or upd)
    if target is None:
        return None
    if Q.op(g, upd) in ("AssignSub", "AssignSubVariableOp") and Q.op(g, val) == "Mul":
        ins = Q.data_inputs(g, val)
        decay = [c for c in (_const(g, x) for x in ins) if c is not None]
        subs = [x for x in ins if Q.op(g, Q.resolve(g, x)) == "Sub"]
        if len(decay) == 1 and subs and 0.0 <= decay[0] <= 1.0:
            return rnd(1.0 - decay[0])
    if Q.op(g, upd) in ("Assign", "AssignVariableOp") and Q.op(g, val) in ("Add", "AddV2"):
        for term in Q.data_inputs(g, val):
            term = Q.resolve(g, term)
            if Q.op(g, term) != "Mul":
                continue
            ins = Q.data_inputs(g, term)
            if any(Q.var_source(g, x) == target for x in ins):
                m = [c for c in (_const(g, x) for x in ins) if c is not None]
                if len(m) == 1 and 0.0 <= m[0] <= 1.0:
                    return rnd(m[0])
    return None


def _momentum(g: nx.MultiDiGraph, core: str) -> tuple[float | None, str | None]:
    """Momentum from the moving-average updates fed by this normalisation's batch statistics
    (the variance behind `Rsqrt`, or a fused kernel's batch mean/variance outputs)."""
    if Q.op(g, core) in O.FUSED_BATCH_NORM:
        stats = [core]
    else:
        add = Q.resolve(g, Q.input_at(g, core, 0) or core)
        stats = [Q.resolve(g, x) for x in Q.data_inputs(g, add) if _const(g, x) is None]
    for stat in stats:
        for c in Q.walk_forward(g, stat, 5, lambda o: o not in _UPDATES):
            if Q.op(g, c) in _UPDATES:
                m = _update_momentum(g, c)
                if m is not None:
                    return m, c
    return None, None


def _uses_moving_stats(g: nx.MultiDiGraph, core: str) -> bool:
    """An inference-mode batch norm reads its moving variance (a variable) directly."""
    if Q.op(g, core) in O.FUSED_BATCH_NORM:
        return Q.var_source(g, Q.input_at(g, core, 4) or core) is not None
    add = Q.resolve(g, Q.input_at(g, core, 0) or core)
    return any(Q.var_source(g, x) is not None for x in Q.data_inputs(g, add))


def normalizations(g: nx.MultiDiGraph) -> list[Normalization]:
    """One entry per normalisation layer, in data-path order (memoised per graph)."""
    return Q.cached(g, "normalizations", lambda: _find(g))


def _find(g: nx.MultiDiGraph) -> list[Normalization]:
    depth, idx = graph_index(g).depth(), graph_index(g).idx
    found: dict[str, tuple[float, Normalization]] = {}
    for core, eps in _cores(g):
        name = Q.layer_name(Q.local_name(g, core), strip=("batchnorm",)) or core
        m, upd = _momentum(g, core)
        batch = m is not None or _uses_moving_stats(g, core) or Q.op(g, core) in O.FUSED_BATCH_NORM
        n = Normalization(
            layer=name,
            kind="batch_norm" if batch else "layer_norm",
            momentum=m,
            epsilon=eps,
            written_momentum=m,
            nodes=[x for x in (core, upd) if x],
        )
        prev = found.get(name)
        if prev is None or (prev[1].momentum is None and m is not None):
            found[name] = (depth[idx[core]], n)
    return [n for _, n in sorted(found.values(), key=lambda t: (t[0], t[1].layer))]
