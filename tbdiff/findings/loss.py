"""The training loss: function, from_logits, sparse labels, label smoothing and reduction.

Why from the ops: "categorical cross-entropy" may be a fused SoftmaxCrossEntropyWithLogits on
logits or a Log of clipped probabilities; a Keras loss adds sample weighting and a
`sum_over_batch_size` reduction (Sum + DivNoNan) that equals a plain Mean. Only candidates that
are differentiated (have a `<name>_grad` node) count, so a metric computing the same function is
not mistaken for the loss. Label smoothing is read from the `labels * (1 - ls) + ls / K` chain.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from tbdiff.findings import _layers as L
from tbdiff.findings.base import Context, Finding, Hints

NAME = "loss"

_XENT = {
    "SoftmaxCrossEntropyWithLogits": ("softmax_cross_entropy", False),
    "SparseSoftmaxCrossEntropyWithLogits": ("softmax_cross_entropy", True),
}
_CLIPS = frozenset({"ClipByValue", "Maximum", "Minimum"})
_SKIP = frozenset({"Reshape", "ExpandDims", "Squeeze", "Mul", "Neg", *L.PASS_OPS})
_MAX_GUESSES = 4
# Loss pairs that compute the same function up to numerical details.
_EQUIVALENT = {
    frozenset({"softmax_cross_entropy", "categorical_cross_entropy_probs"}),
}


def _candidates(g: nx.MultiDiGraph) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for n, d in g.nodes(data=True):
        o = d.get("op", "")
        if L.is_gradient_node(n):
            continue
        if o in _XENT:
            kind, sparse = _XENT[o]
            out.append((n, {"kind": kind, "from_logits": True, "sparse": sparse}))
        elif o == "SquaredDifference" or (
            o == "Square" and L.op(g, L.through(g, (L.data_inputs(g, n) or [n])[0])) == "Sub"
        ):
            out.append((n, {"kind": "mean_squared_error", "from_logits": False, "sparse": False}))
        elif o == "Log1p" and "logistic_loss" in n:
            out.append((n, {"kind": "sigmoid_cross_entropy", "from_logits": True, "sparse": False}))
        elif o == "Log":
            src = L.through(g, (L.data_inputs(g, n) or [n])[0])
            if L.op(g, src) in _CLIPS or L.op(g, src) == "Softmax":
                out.append(
                    (
                        n,
                        {
                            "kind": "categorical_cross_entropy_probs",
                            "from_logits": False,
                            "sparse": False,
                        },
                    )
                )
    return out


def _label_smoothing(g: nx.MultiDiGraph, labels: str | None) -> float:
    """ls from `labels * (1 - ls) + ls / K` feeding the loss's labels input (0.0 if absent)."""
    cur = labels
    for _ in range(6):
        if cur is None:
            return 0.0
        cur = L.through(g, cur)
        o = L.op(g, cur)
        if o in ("Reshape", "ExpandDims", "Squeeze"):
            cur = L.input_at(g, cur, 0)
            continue
        if o in ("Add", "AddV2"):
            for x in L.data_inputs(g, cur):
                x = L.through(g, x)
                if L.op(g, x) == "Mul":
                    for y in L.data_inputs(g, x):
                        c = L.scalar(L.const_value(g, y))
                        if c is not None and 0.0 < c < 1.0:
                            return L.rnd(1.0 - c) or 0.0
        return 0.0
    return 0.0


def _reduction(g: nx.MultiDiGraph, n: str) -> tuple[str, list[str]]:
    """Mean / sum_over_batch_size (Sum + division) / sum, found downstream of the loss op."""
    reducers = frozenset(("Mean", "Sum", "DivNoNan", "RealDiv", "Div"))
    passes = reducers | frozenset(_SKIP)
    order = [c for c in L.walk_forward(g, n, 8, passes.__contains__) if L.op(g, c) in reducers]
    kinds = [L.op(g, c) for c in order]
    if not kinds:
        return "none", []
    if kinds[0] == "Mean":
        return "mean", order[:1]
    if kinds[0] == "Sum":
        div = next((c for c in order if L.op(g, c) in ("DivNoNan", "RealDiv", "Div")), None)
        if div:
            return "sum_over_batch_size", [order[0], div]
        return "sum", order[:1]
    return "mean", order[:1]


def detect(graph: nx.MultiDiGraph, hints: Hints) -> dict[str, Any]:
    """{"losses": [{kind, from_logits, sparse, label_smoothing, reduction, op, nodes}], "main"}."""
    losses = []
    cands = _candidates(graph)
    trained = [(n, f) for n, f in cands if L.is_trained_on(graph, n)] or (
        cands if not L.differentiated(graph) else []
    )
    for n, facts in trained:
        if facts["kind"] == "categorical_cross_entropy_probs":
            labels = None
        elif facts["kind"] == "softmax_cross_entropy":
            labels = L.input_at(graph, n, 1)
        else:
            labels = None
        red, red_nodes = _reduction(graph, n)
        facts = {
            **facts,
            "label_smoothing": _label_smoothing(graph, labels),
            "reduction": red,
            "op": n,
            "nodes": [n, *red_nodes],
        }
        losses.append(facts)
    # one loss per kind and op family: several Log nodes of one expression are one loss
    seen: set[tuple] = set()
    uniq = []
    for f in losses:
        key = (f["kind"], f["reduction"], f["label_smoothing"], "/".join(f["op"].split("/")[:-1]))
        if key not in seen:
            seen.add(key)
            uniq.append(f)
    if not L.differentiated(graph):
        # inference graph: any reduced squared difference might be the loss; keep the
        # reduced ones, a few at most, and say they are guesses
        uniq = [f for f in uniq if f["reduction"] != "none"][:_MAX_GUESSES]
    return {
        "losses": uniq,
        "main": uniq[0] if uniq else None,
        "trained": bool(L.differentiated(graph)),
    }


def _same_reduction(a: str, b: str) -> bool:
    norm = {"sum_over_batch_size": "mean"}
    return norm.get(a, a) == norm.get(b, b)


def compare(facts_a: dict, facts_b: dict, ctx: Context) -> list[Finding]:
    ma, mb = facts_a.get("main"), facts_b.get("main")
    if ma is None or mb is None:
        return []
    if not (facts_a.get("trained") and facts_b.get("trained")):
        return []  # without a backward pass the "loss" is a guess: do not blame it
    found: list[Finding] = []
    na, nb = ma["nodes"], mb["nodes"]
    if ma["kind"] != mb["kind"]:
        equivalent = frozenset({ma["kind"], mb["kind"]}) in _EQUIVALENT
        found.append(
            Finding(
                id="loss.mismatch",
                severity="benign" if equivalent else "critical",
                title=f"Different loss functions: {ma['kind']} vs {mb['kind']}",
                detail=(
                    "Cross-entropy on logits and on clipped softmax probabilities are the same "
                    "function; only numerical clipping differs."
                    if equivalent
                    else "The models minimise different objectives, so gradients and the "
                    "solution reached differ."
                ),
                a={"loss": ma["kind"], "from_logits": ma["from_logits"]},
                b={"loss": mb["kind"], "from_logits": mb["from_logits"]},
                nodes_a=na,
                nodes_b=nb,
                score=0.1 if equivalent else 0.7,
            )
        )
    elif ma["sparse"] != mb["sparse"]:
        found.append(
            Finding(
                id="loss.mismatch",
                severity="info",
                title="Same loss, labels given as class indices in one model and one-hot in the other",
                detail="Sparse and dense cross-entropy compute the same value.",
                a={"sparse": ma["sparse"]},
                b={"sparse": mb["sparse"]},
                nodes_a=na,
                nodes_b=nb,
            )
        )
    if abs(ma["label_smoothing"] - mb["label_smoothing"]) > 1e-6:
        found.append(
            Finding(
                id="loss.mismatch",
                severity="critical",
                title=(
                    f"Label smoothing differs: {ma['label_smoothing']} vs {mb['label_smoothing']}"
                ),
                detail=(
                    "Label smoothing changes the targets the model is trained towards (and the "
                    "reported loss values), acting as a regulariser."
                ),
                a={"label_smoothing": ma["label_smoothing"]},
                b={"label_smoothing": mb["label_smoothing"]},
                nodes_a=na,
                nodes_b=nb,
                score=min(0.6, 0.2 + 2 * abs(ma["label_smoothing"] - mb["label_smoothing"])),
            )
        )
    if not _same_reduction(ma["reduction"], mb["reduction"]):
        found.append(
            Finding(
                id="loss.mismatch",
                severity="critical",
                title=f"Loss reduction differs: {ma['reduction']} vs {mb['reduction']}",
                detail=(
                    "Summing instead of averaging over the batch scales the gradients by the "
                    "batch size, which acts like a different learning rate."
                ),
                a={"reduction": ma["reduction"]},
                b={"reduction": mb["reduction"]},
                nodes_a=na,
                nodes_b=nb,
                score=0.5,
            )
        )
    return found
