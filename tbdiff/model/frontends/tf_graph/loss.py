"""The training loss of an op graph: function, from_logits, sparse labels, label smoothing and
reduction.

Why from the ops: "categorical cross-entropy" may be a fused SoftmaxCrossEntropyWithLogits on
logits or a Log of clipped probabilities; a Keras loss adds sample weighting and a
`sum_over_batch_size` reduction (Sum + DivNoNan) that equals a plain Mean. Only candidates that
are differentiated (have a `<name>_grad` node) count, so a metric computing the same function is
not mistaken for the loss. Label smoothing is read from the `labels * (1 - ls) + ls / K` chain.
`sigmoid_cross_entropy_with_logits` is `relu(x) - x * z + log1p(exp(-|x|))`: its output is the
Add after the Log1p, and the reduction is read from there.
"""

from __future__ import annotations

import networkx as nx

from tbdiff.model import ops as O
from tbdiff.model import query as Q
from tbdiff.model.description import Loss
from tbdiff.model.numbers import rnd, scalar

_SKIP = frozenset({"Reshape", "ExpandDims", "Squeeze", "Mul", "Neg", *O.PASS_THROUGH})
_MAX_GUESSES = 4


def _input0(g: nx.MultiDiGraph, n: str) -> str:
    return Q.resolve(g, (Q.data_inputs(g, n) or [n])[0])


def _sigmoid_output(g: nx.MultiDiGraph, log1p: str) -> str | None:
    """The Add that finishes sigmoid_cross_entropy_with_logits after `log1p(exp(-|x|))`."""
    if Q.op(g, _input0(g, log1p)) != "Exp":
        return None
    for c in Q.forward_consumers(g, log1p, limit=2):
        if Q.op(g, c) in ("Add", "AddV2"):
            return c
    return log1p


def _candidates(g: nx.MultiDiGraph) -> list[Loss]:
    out = []
    for n, d in g.nodes(data=True):
        o = d.get("op", "")
        if O.is_gradient_node(n):
            continue
        if o in O.XENT_OPS:
            kind, sparse = O.XENT_OPS[o]
            out.append(Loss(kind, from_logits=True, sparse=sparse, op=n))
        elif o == "SquaredDifference" or (o == "Square" and Q.op(g, _input0(g, n)) == "Sub"):
            out.append(Loss("mean_squared_error", from_logits=False, sparse=False, op=n))
        elif o == "Log1p":
            end = _sigmoid_output(g, n)
            if end is not None:
                out.append(Loss("binary_cross_entropy", from_logits=True, sparse=False, op=end))
        elif o == "Log" and Q.op(g, _input0(g, n)) in (*O.CLIP_OPS, "Softmax"):
            kind = "categorical_cross_entropy"
            out.append(Loss(kind, from_logits=False, sparse=False, op=n))
    return out


def _label_smoothing(g: nx.MultiDiGraph, labels: str | None) -> float:
    """ls from `labels * (1 - ls) + ls / K` feeding the loss's labels input (0.0 if absent)."""
    cur = labels
    for _ in range(6):
        if cur is None:
            return 0.0
        cur = Q.resolve(g, cur)
        o = Q.op(g, cur)
        if o in O.RESHAPES:
            cur = Q.input_at(g, cur, 0)
            continue
        if o in ("Add", "AddV2"):
            for x in Q.data_inputs(g, cur):
                x = Q.resolve(g, x)
                if Q.op(g, x) == "Mul":
                    for y in Q.data_inputs(g, x):
                        c = scalar(Q.value(g, y))
                        if c is not None and 0.0 < c < 1.0:
                            return rnd(1.0 - c) or 0.0
        return 0.0
    return 0.0


def _reduction(g: nx.MultiDiGraph, n: str) -> tuple[str, list[str]]:
    """Mean / sum_over_batch_size (Sum + division) / sum, found downstream of the loss op."""
    reducers = O.REDUCE_OPS | O.DIVIDE_OPS
    passes = reducers | _SKIP
    order = [c for c in Q.walk_forward(g, n, 8, passes.__contains__) if Q.op(g, c) in reducers]
    kinds = [Q.op(g, c) for c in order]
    if not kinds:
        return "none", []
    if kinds[0] == "Sum":
        div = next((c for c in order if Q.op(g, c) in O.DIVIDE_OPS), None)
        if div:
            return "sum_over_batch_size", [order[0], div]
        return "sum", order[:1]
    return "mean", order[:1]


def _feeds_the_model(g: nx.MultiDiGraph, n: str, depth: int = 12) -> bool:
    """True when `n` flows back into a layer (batch-norm statistics, an optimizer's square of the
    gradient ...): a loss only flows into reductions, summaries and the backward pass."""
    return any(Q.op(g, c) in O.LINEAR_OPS for c in Q.walk_forward(g, n, depth, lambda o: True))


def losses(g: nx.MultiDiGraph) -> list[Loss]:
    """Losses the graph trains on, main loss first (guesses in an inference graph)."""
    cands = [c for c in _candidates(g) if not _feeds_the_model(g, c.op or "")]
    trained = [c for c in cands if Q.is_trained_on(g, c.op or "")]
    if not trained and not Q.has_backward(g):
        trained = cands
    for c in trained:
        labels = (
            Q.input_at(g, c.op or "", 1)
            if c.from_logits and c.kind.startswith("categorical")
            else None
        )
        c.label_smoothing = _label_smoothing(g, labels)
        c.reduction, red_nodes = _reduction(g, c.op or "")
        c.nodes = [c.op or "", *red_nodes]
    # one loss per kind and op family: several Log nodes of one expression are one loss
    seen: set[tuple] = set()
    uniq = []
    for c in trained:
        key = (c.label, c.reduction, c.label_smoothing, (c.op or "").rpartition("/")[0])
        if key not in seen:
            seen.add(key)
            uniq.append(c)
    if not Q.has_backward(g):
        # inference graph: any reduced squared difference might be the loss; keep the
        # reduced ones, a few at most (they are guesses)
        uniq = [c for c in uniq if c.reduction != "none"][:_MAX_GUESSES]
    return uniq
