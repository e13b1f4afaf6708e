"""Sample weights: a per-example weight input to the loss that exists in one run only.

Keras graphs built by compile()/fit() may carry an ``<output>_sample_weights`` placeholder
that multiplies each example's loss (a plain Placeholder in TF1 Keras, a
``placeholder_with_default`` of ones in tf_keras). When fit() gets no ``sample_weight`` /
``class_weight``, Keras feeds ones, and a weight of 1 for every example changes nothing.
It only matters if the run passed non-uniform weights, which the run's hparams may record.
"""

from __future__ import annotations

from typing import Any

from tbdiff.findings.base import Context, Finding
from tbdiff.model.description import ModelDescription, SampleWeights

NAME = "sample_weights"
LABEL = "sample weights"


def inspect(d: ModelDescription) -> str | None:
    f = d.sample_weights
    if f is None or f.weighting in ("none", "unknown"):
        return None
    if f.weighting == "constant" and f.constants and all(c.all_ones for c in f.constants):
        return "constant 1 (none passed: no effect)"
    if f.weighting == "placeholder":
        names = ", ".join(p.node for p in f.placeholders)
        return f"fed per sample ({names})" if names else "fed per sample"
    return f.weighting


def _side(f: SampleWeights) -> dict[str, Any]:
    entries = f.placeholders or f.constants
    return {
        "weighting": f.weighting,
        "sample_weights": [p.node for p in entries],
        "default": [p.default for p in entries] or None,
        "passed": f.passed,
    }


def _explain(f: SampleWeights) -> str:
    if f.weighting == "none":
        return "no per-sample weighting of the loss"
    if f.weighting == "data":
        names = ", ".join(p.node for p in f.placeholders)
        return f"each example's loss is multiplied by a weight that comes with the batch ({names})"
    if f.weighting == "constant":
        vals = sorted({v for c in f.constants for v in c.default})
        return (
            "the loss is multiplied by a constant sample weight "
            f"{', '.join(f'{v:g}' for v in vals)} ({', '.join(c.node for c in f.constants)}), "
            "which Keras inserts when no sample weights can be passed"
        )
    kinds = []
    for p in f.placeholders:
        if p.op == "PlaceholderWithDefault":
            ones = "ones" if p.all_ones else f"{p.default}"
            kinds.append(f"{p.node!r}, a placeholder_with_default({ones})")
        else:
            kinds.append(
                f"{p.node!r}, a plain placeholder that Keras' fit() feeds with ones when no "
                "sample_weight/class_weight is passed"
            )
    return "the loss takes per-sample weights from " + "; ".join(kinds)


def _evidence(f: SampleWeights) -> list[str]:
    return [p.node for p in (f.placeholders or f.constants)]


def _data_weighted(fa: SampleWeights, fb: SampleWeights, side: str, how: str) -> Finding:
    return Finding(
        id="sample_weights.present",
        severity="warning",
        title=f"{side} weights each example's loss with sample weights passed with its data",
        detail=f"{how} {side}'s training step receives per-example weights with every batch "
        "(fit(x, y, sample_weight=w) or a dataset of (x, y, w)): examples count differently in "
        "the loss, which changes the gradients and what the model learns, while the other run "
        "weights all examples equally. The logs do not hold the weights themselves.",
        a=_side(fa),
        b=_side(fb),
        nodes_a=_evidence(fa),
        nodes_b=_evidence(fb),
        score=0.4,
    )


def compare(a: ModelDescription, b: ModelDescription, ctx: Context) -> list[Finding]:
    fa, fb = a.sample_weights, b.sample_weights
    if fa is None or fb is None:
        return []
    wa, wb = fa.weighting, fb.weighting
    if "unknown" in (wa, wb):
        return []
    na = wa == "placeholder" and fa.passed == "non_uniform"
    nb = wb == "placeholder" and fb.passed == "non_uniform"
    ca = wa == "constant" and not all(c.all_ones for c in fa.constants)
    cb = wb == "constant" and not all(c.all_ones for c in fb.constants)
    if wa == wb and na == nb and ca == cb:
        return []
    how = f"A: {_explain(fa)}. B: {_explain(fb)}."
    da = wa == "data" and fa.passed != "uniform"
    db = wb == "data" and fb.passed != "uniform"
    if da != db:
        return [_data_weighted(fa, fb, "A" if da else "B", how)]
    if na or nb:
        side = "A" if na else "B"
        key = (fa if na else fb).passed_key
        sev, score = "warning", 0.4
        title = f"{side} trains with non-uniform sample weights"
        detail = (
            f"{how} The run's hparams ({key}) say non-uniform weights were passed to {side}: some "
            "examples count more than others in the loss, which changes the gradients and what the "
            "model learns, while the other run weights all examples equally."
        )
    elif ca or cb:
        side = "A" if ca else "B"
        sev, score = "warning", 0.3
        title = f"{side}'s loss is scaled by a constant sample weight other than 1"
        detail = (
            f"{how} A constant weight scales the whole loss and thus every gradient; with SGD "
            "that acts like a different learning rate, with Adam it mostly cancels out."
        )
    else:
        side = "B" if wa == "none" or (wa == "constant" and wb == "placeholder") else "A"
        sev, score = "benign", 0.1
        mine = fb if side == "B" else fa
        if mine.weighting == "placeholder":
            title = f"Loss takes per-sample weights in {side} only (all ones unless passed)"
        else:
            title = f"{side}'s loss is multiplied by a constant sample weight of 1 (no effect)"
        known = mine.passed == "uniform"
        detail = (
            f"{how} Keras weights every example's loss by a sample weight; when fit() is called "
            "without sample_weight or class_weight the weight is 1.0 for every example, and "
            "multiplying a loss by 1 changes nothing, so this extra input to the loss is harmless"
            + (
                " (the run's hparams confirm no weights were passed)."
                if known
                else (
                    ". It would only matter if the program passed sample_weight=/class_weight= "
                    "to fit(), which these logs do not record."
                    if mine.weighting == "placeholder"
                    else "."
                )
            )
        )
    return [
        Finding(
            id="sample_weights.present",
            severity=sev,
            title=title,
            detail=detail,
            a=_side(fa),
            b=_side(fb),
            nodes_a=_evidence(fa),
            nodes_b=_evidence(fb),
            score=score,
        )
    ]
