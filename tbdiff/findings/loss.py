"""The training loss: function, logits vs probabilities, sparse labels, label smoothing, reduction.

The front-ends read the loss from the differentiated ops of an op graph (a fused
SoftmaxCrossEntropyWithLogits on logits, or a Log of clipped softmax probabilities; a Keras
`sum_over_batch_size` reduction equals a plain Mean) or from Keras 3's `compile_config`. Facts a
source does not state (None) are not compared.
"""

from __future__ import annotations

from tbdiff.findings.base import Context, Finding
from tbdiff.model.description import Loss, ModelDescription

NAME = "loss"
LABEL = "loss"

_SAME_REDUCTION = {"sum_over_batch_size": "mean", "mean": "mean"}


def _same_reduction(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return True
    return _SAME_REDUCTION.get(a, a) == _SAME_REDUCTION.get(b, b)


def _src(x: Loss, y: Loss) -> str:
    if x.source.origin == y.source.origin == "graph":
        return ""
    return f" (A from {x.source.label}, B from {y.source.label})"


def _input_problem(x: Loss, d: ModelDescription) -> str | None:
    """What is wrong with what a configured cross-entropy receives, None when fine or unknown.

    An op graph shows the function really computed; a config only says `from_logits`, which
    must match the model's output activation (conventions.md: cross-entropy input)."""
    if x.source.origin == "graph" or x.from_logits is None or not d.weight_layers:
        return None
    if x.kind not in ("categorical_cross_entropy", "binary_cross_entropy"):
        return None
    out = d.weight_layers[-1].activation
    squash = out in ("softmax", "sigmoid")
    if x.from_logits and squash:
        return f"from_logits=True on a {out} output applies {out} twice"
    if not x.from_logits and not squash:
        return f"from_logits=False on a {out} output reads logits as probabilities"
    return None


def _problems(pa: str | None, pb: str | None) -> str:
    """'A: ...; B: ...' for the sides whose output does not fit their loss."""
    return "; ".join(f"{side}: {p}" for side, p in (("A", pa), ("B", pb)) if p)


def _no_output_activation(pa: str | None) -> str:
    """The fix when one side's output is squashed before a loss on logits (A if `pa`)."""
    return f"no output activation before a loss on logits in {{{'a' if pa else 'b'}}}"


def _logits(
    x: Loss, y: Loss, a: ModelDescription, b: ModelDescription, na: list[str], nb: list[str]
) -> Finding:
    pa, pb = _input_problem(x, a), _input_problem(y, b)
    facts_a = {"loss": x.label, "from_logits": x.from_logits}
    facts_b = {"loss": y.label, "from_logits": y.from_logits}
    if pa or pb:
        what = _problems(pa, pb)
        return Finding(
            id="loss.mismatch",
            severity="critical",
            title=f"Cross-entropy input differs: from_logits={x.from_logits} vs {y.from_logits}",
            detail=f"{what}{_src(x, y)}. The loss then computes a different function of the "
            "model's output, so the gradients, the loss values and what is learned differ.",
            a=facts_a,
            b=facts_b,
            nodes_a=na,
            nodes_b=nb,
            score=0.7,
            losses_differ=True,
            verdict="the loss reads the model output differently ({a}: from_logits="
            f"{x.from_logits}, {{b}}: from_logits={y.from_logits})",
            fix=_no_output_activation(pa)
            if bool(pa) != bool(pb) and "twice" in (pa or pb or "")
            else "",
        )
    graph = "graph" in (x.source.origin, y.source.origin)
    return Finding(
        id="loss.mismatch",
        severity="benign" if graph else "info",
        title=f"Different loss functions: {x.label} vs {y.label}"
        if graph
        else "Cross-entropy written differently, same function: on probabilities after a "
        "softmax output in one model, on logits with the softmax inside the loss in the other",
        detail="Cross-entropy on logits and on clipped softmax probabilities are the same "
        f"function; only numerical clipping differs{_src(x, y)}.",
        a=facts_a,
        b=facts_b,
        nodes_a=na,
        nodes_b=nb,
        score=0.1,
    )


def _double(
    x: Loss, y: Loss, pa: str | None, pb: str | None, na: list[str], nb: list[str]
) -> Finding:
    """Same loss settings, but one model's output does not fit them (e.g. a softmax output
    trained with PyTorch's CrossEntropyLoss, which applies log-softmax itself)."""
    what = _problems(pa, pb)
    return Finding(
        id="loss.mismatch",
        severity="critical",
        title=f"The loss reads the model output wrongly in {'A' if pa else 'B'} ({what})",
        detail=f"{what}{_src(x, y)}. A loss that takes logits (PyTorch CrossEntropyLoss, "
        "from_logits=True) applied to softmax probabilities squashes them a second time: the "
        "gradients shrink and training slows down or stalls. Remove the output softmax (or "
        "use a loss on probabilities).",
        a={"loss": x.label, "from_logits": x.from_logits, "problem": pa},
        b={"loss": y.label, "from_logits": y.from_logits, "problem": pb},
        nodes_a=na,
        nodes_b=nb,
        score=0.75,
        losses_differ=True,
        verdict=f"the loss reads the output of {{{'a' if pa else 'b'}}} wrongly ({pa or pb})",
        fix=_no_output_activation(pa),
    )


def _kind(
    x: Loss, y: Loss, a: ModelDescription, b: ModelDescription, na: list[str], nb: list[str]
) -> Finding | None:
    if x.kind != y.kind:
        return Finding(
            id="loss.mismatch",
            severity="critical",
            title=f"Different loss functions: {x.label} vs {y.label}",
            detail="The models minimise different objectives, so gradients and the solution "
            f"reached differ{_src(x, y)}.",
            a={"loss": x.label, "from_logits": x.from_logits},
            b={"loss": y.label, "from_logits": y.from_logits},
            nodes_a=na,
            nodes_b=nb,
            score=0.7,
            verdict=f"the runs minimise different losses ({{a}}: {x.label}, {{b}}: {y.label})",
            losses_differ=True,
        )
    if x.from_logits is not None and y.from_logits is not None and x.from_logits != y.from_logits:
        return _logits(x, y, a, b, na, nb)
    if (pa := _input_problem(x, a)) != (pb := _input_problem(y, b)):
        return _double(x, y, pa, pb, na, nb)
    if x.sparse is not None and y.sparse is not None and x.sparse != y.sparse:
        return Finding(
            id="loss.mismatch",
            severity="info",
            title="Same loss, labels given as class indices in one model and one-hot in the other",
            detail="Sparse and dense cross-entropy compute the same value.",
            a={"sparse": x.sparse},
            b={"sparse": y.sparse},
            nodes_a=na,
            nodes_b=nb,
        )
    return None


def _smoothing(x: Loss, y: Loss, na: list[str], nb: list[str]) -> Finding | None:
    la, lb = x.label_smoothing, y.label_smoothing
    if la is None or lb is None or abs(la - lb) <= 1e-6:
        return None
    return Finding(
        id="loss.mismatch",
        severity="critical",
        title=f"Label smoothing differs: {la} vs {lb}",
        detail="Label smoothing changes the targets the model is trained towards (and the "
        f"reported loss values), acting as a regulariser{_src(x, y)}.",
        a={"label_smoothing": la},
        b={"label_smoothing": lb},
        nodes_a=na,
        nodes_b=nb,
        score=min(0.6, 0.2 + 2 * abs(la - lb)),
        losses_differ=True,
        verdict=f"label smoothing differs ({{a}}: {la:g}, {{b}}: {lb:g})",
    )


def _reduction(x: Loss, y: Loss, na: list[str], nb: list[str]) -> Finding | None:
    if _same_reduction(x.reduction, y.reduction):
        return None
    return Finding(
        id="loss.mismatch",
        severity="critical",
        title=f"Loss reduction differs: {x.reduction} vs {y.reduction}",
        detail="Summing instead of averaging over the batch scales the gradients by the batch "
        f"size, which acts like a different learning rate{_src(x, y)}.",
        a={"reduction": x.reduction},
        b={"reduction": y.reduction},
        nodes_a=na,
        nodes_b=nb,
        score=0.5,
        losses_differ=True,
    )


def compare(a: ModelDescription, b: ModelDescription, ctx: Context) -> list[Finding]:
    x, y = a.loss, b.loss
    if x is None or y is None:
        return []
    if x.source.origin == "graph" and not a.trained or y.source.origin == "graph" and not b.trained:
        return []  # without a backward pass the "loss" is a guess: do not blame it
    na, nb = x.nodes, y.nodes
    found = [_kind(x, y, a, b, na, nb), _smoothing(x, y, na, nb), _reduction(x, y, na, nb)]
    return [f for f in found if f]


def inspect(d: ModelDescription) -> str | None:
    x = d.loss
    if x is None:
        return None
    bits = [x.label]
    if x.from_logits:
        bits.append("from logits")
    if x.label_smoothing:
        bits.append(f"label smoothing {x.label_smoothing:.4g}")
    if x.reduction:
        bits.append(f"reduction {x.reduction}")
    return ", ".join(bits) + f" [{x.source.label}]"
