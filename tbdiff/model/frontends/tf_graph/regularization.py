"""Weight penalties added to the loss (L2/L1) and decoupled weight decay in the update step.

A `0.01 * tf.nn.l2_loss(w)` in one model and a Keras `kernel_regularizer=l2(0.001)` (which TF
writes as `0.002 * L2Loss(w)`) in the other look alike in TensorBoard but pull the weights towards
zero with different strength. Penalties are found from the variable side - L2Loss, Square+Sum or
Abs+Sum of a trained layer's kernel/bias read - and kept only if differentiated, so a weight-norm
summary or Keras' second, unused copy of the regulariser ops is not counted. Coefficients are
normalised to the Keras convention `coef * sum(w**2)` (`coef * sum(|w|)` for L1).
"""

from __future__ import annotations

import math

import networkx as nx

from tbdiff.model import ops as O
from tbdiff.model import query as Q
from tbdiff.model.description import Decay, Layer, Penalty
from tbdiff.model.numbers import rnd, scalar

_PASS = frozenset({"Sum", "Identity", "Cast", "Reshape"})


def _is_penalty(g: nx.MultiDiGraph, n: str, depth: int = 6) -> bool:
    if depth <= 0:
        return False
    o = Q.op(g, n)
    if o in O.PENALTY_OPS:
        ins = Q.data_inputs(g, n)
        return bool(ins) and Q.var_source(g, ins[0]) is not None
    if o == "Const":
        return True
    if o in ("Mul", "AddN", "Add", "AddV2", *_PASS):
        return all(_is_penalty(g, x, depth - 1) for x in Q.data_inputs(g, n))
    return False


def _coefficient(g: nx.MultiDiGraph, start: str) -> tuple[float, list[str]]:
    """Product of constant factors applied to a penalty before it joins the loss."""
    coef, cur, path = 1.0, start, [start]
    for _ in range(10):
        cons = [c for c in Q.consumers(g, cur) if not O.is_gradient_node(c)]
        cons = [c for c in cons if Q.is_trained_on(g, c)] or cons
        if len(cons) != 1:
            break
        nxt = cons[0]
        o = Q.op(g, nxt)
        if o == "Mul":
            others = [x for x in Q.data_inputs(g, nxt) if x != cur]
            c = scalar(Q.value(g, others[0])) if others else None
            if c is None:
                break
            coef *= c
        elif o in ("AddN", "Add", "AddV2"):
            # a sum of penalties is still the penalty; a sum with the data loss ends it
            if not all(_is_penalty(g, x) for x in Q.data_inputs(g, nxt)):
                break
        elif o not in _PASS:
            break
        cur = nxt
        path.append(cur)
    return coef, path


def _weight_decay(g: nx.MultiDiGraph, var: str) -> tuple[float, str] | None:
    """Decoupled decay: an AssignSub of `c * var` (or `c * lr * var`) onto the variable."""
    for upd in Q.update_targets(g).get(var, []):
        if Q.op(g, upd) not in ("AssignSub", "AssignSubVariableOp"):
            continue
        val = Q.resolve(g, Q.input_at(g, upd, 1) or upd)
        if Q.op(g, val) != "Mul":
            continue
        ins = Q.data_inputs(g, val)
        reads = [x for x in ins if Q.var_source(g, x) == var]
        consts = [scalar(Q.value(g, x)) for x in ins if x not in reads]
        if reads and consts and all(c is not None for c in consts):
            return rnd(math.prod(c for c in consts if c is not None)) or 0.0, upd
    return None


def penalties(g: nx.MultiDiGraph, layers: list[Layer]) -> tuple[list[Penalty], list[Decay]]:
    """Penalties on the weight layers' kernels/biases, and decoupled decay in their updates."""
    roles: dict[str, tuple[int, str, str]] = {}
    for layer in layers:
        if not layer.has_weights:
            continue
        if layer.kernel:
            roles[layer.kernel] = (layer.index, "kernel", layer.name)
        if layer.bias:
            roles[layer.bias] = (layer.index, "bias", layer.name)
    terms, decay = [], []
    for var, (idx, role, scope) in roles.items():
        for c in Q.forward_consumers(g, var):
            o = Q.op(g, c)
            if o not in O.PENALTY_OPS or not Q.is_trained_on(g, c):
                continue
            kind, norm = O.PENALTY_OPS[o]
            raw, path = _coefficient(g, c)
            if o in ("Square", "Abs") and not any(Q.op(g, p) == "Sum" for p in path):
                continue  # an element-wise square that is not summed is not a penalty
            expr = f"{rnd(raw, 4)} * {'l2_loss' if o == 'L2Loss' else o.lower()}(w)"
            terms.append(
                Penalty(idx, scope, role, var, kind, rnd(raw * norm) or 0.0, expr, path[:4])
            )
        wd = _weight_decay(g, var)
        if wd is not None:
            decay.append(Decay(idx, role, var, wd[0], wd[1]))
    terms.sort(key=lambda t: (t.layer, t.role, t.kind))
    decay.sort(key=lambda t: (t.layer, t.role))
    return terms, decay
