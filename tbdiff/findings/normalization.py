"""Normalisation layers: batch norm present on one side only, or momentum / epsilon differ.

The front-ends state momentum in one convention (Keras/TF1: moving = m * moving + (1 - m) *
batch; PyTorch's momentum=0.1 is m = 0.9) and keep the written number, so two ports compare by
effect: "written differently, same effect" is info, while the same written number with different
meanings (Keras momentum=0.9 vs PyTorch momentum=0.9) is named first. Momentum decides the moving
statistics the model uses at evaluation; epsilon is added to the variance before dividing.
"""

from __future__ import annotations

import math
from typing import Any

from tbdiff.findings.base import Context, Finding, provenance
from tbdiff.model.description import ModelDescription, Normalization
from tbdiff.model.numbers import fmt_num

NAME = "normalization"
LABEL = "normalization"

_REL = 1e-3


def _close(x: float | None, y: float | None) -> bool:
    if x is None or y is None:
        return True  # not stated on one side: not comparable
    return math.isclose(x, y, rel_tol=_REL, abs_tol=1e-9)


def _facts(n: Normalization) -> dict[str, Any]:
    return {
        "layer": n.layer,
        "kind": n.kind,
        "momentum": n.momentum,
        "written_momentum": n.written_momentum,
        "convention": n.convention,
        "epsilon": n.epsilon,
        "source": n.source.label,
    }


def _presence(a: list[Normalization], b: list[Normalization], kind: str) -> Finding:
    side, has = ("B", a) if a else ("A", b)
    names = ", ".join(n.layer for n in has)
    return Finding(
        id="normalization.mismatch",
        severity="critical",
        title=f"{kind} in {'A' if a else 'B'} only ({len(has)} layer(s): {names})",
        detail=(
            f"{side} has no {kind} layer. Normalisation changes how activations are scaled "
            "during training (and, for batch norm, which statistics are used at evaluation), so "
            "the two models train and predict differently."
            + provenance((n.source for n in a), (n.source for n in b))
        ),
        a={"count": len(a), "layers": [n.layer for n in a]},
        b={"count": len(b), "layers": [n.layer for n in b]},
        nodes_a=[x for n in a for x in n.nodes[:1]],
        nodes_b=[x for n in b for x in n.nodes[:1]],
        score=0.7,
    )


def _written(n: Normalization) -> str:
    """'Keras momentum=0.99' / 'PyTorch momentum=0.01' (the number as the program wrote it)."""
    who = "PyTorch" if n.convention == "torch" else "Keras"
    return f"{who} momentum={fmt_num(n.written_momentum)}"


def _port_note() -> str:
    """The two frameworks' momentum conventions and defaults (a cross-framework pair)."""
    return (
        " PyTorch momentum = 1 - Keras momentum: Keras' default 0.99 is PyTorch's 0.01, and "
        "PyTorch's default 0.1 is Keras' 0.9."
    )


def _torch_side(x: Normalization, y: Normalization) -> str:
    """'{b}' / '{a}': the PyTorch side of a cross-framework pair (B when both or neither)."""
    return "{a}" if x.convention == "torch" and y.convention != "torch" else "{b}"


def _momentum_fix(x: Normalization, y: Normalization, cross: bool) -> str:
    if cross:
        keras = y if x.convention == "torch" else x
        km = keras.momentum if keras.momentum is not None else 0.0
        return (
            f"BatchNorm*d(momentum={fmt_num(round(1 - km, 6))}) in {_torch_side(x, y)} "
            f"(PyTorch momentum = 1 - Keras momentum {fmt_num(km)})"
        )
    return f"momentum={fmt_num(x.written_momentum)} in {{b}} as in {{a}}"


def _momentum_finding(
    bad: list[tuple[Normalization, Normalization]], trap: bool, cross: bool
) -> Finding:
    x, y = bad[0]
    ma, mb = x.momentum or 0.0, y.momentum or 0.0
    detail = (
        f"The moving averages batch norm keeps for evaluation are updated as moving = m * "
        f"moving + (1 - m) * batch with m = {fmt_num(ma)} in A ({x.layer}, {_written(x)}) and "
        f"m = {fmt_num(mb)} in B ({y.layer}, {_written(y)})."
    )
    if trap:
        title = (
            f"Batch norm momentum={fmt_num(x.written_momentum)} means different things in A "
            f"and B: the moving average keeps {fmt_num(ma * 100)}% of the old value per step "
            f"in A but {fmt_num(mb * 100)}% in B"
        )
        detail += (
            " The same number means different things: Keras' momentum is the weight of the "
            "old average, PyTorch's the weight of the new batch."
        )
    else:
        title = (
            f"Batch norm momentum differs: {fmt_num(ma)} vs {fmt_num(mb)} (as moving = m * "
            f"moving + (1 - m) * batch) in {len(bad)} layer(s)"
        )
    if cross:
        detail += _port_note()
    detail += (
        " A short memory (small m) makes the evaluation statistics follow the last few "
        "batches, so test accuracy is noisier and usually lower."
    )
    score = min(0.9, 0.3 + 0.2 * abs(math.log10(max(1 - ma, 1e-6) / max(1 - mb, 1e-6))))
    return Finding(
        id="normalization.mismatch",
        severity="critical",
        title=title,
        detail=detail,
        a={x.layer: _facts(x) for x, _ in bad},
        b={y.layer: _facts(y) for _, y in bad},
        nodes_a=[n for x, _ in bad for n in x.nodes[:1]],
        nodes_b=[n for _, y in bad for n in y.nodes[:1]],
        score=score + (0.1 if trap else 0.0),
        verdict=f"batch norm momentum={fmt_num(x.written_momentum)} means different things "
        f"in Keras and PyTorch ({{a}} keeps {fmt_num(ma)} of the old average per step, {{b}} "
        f"{fmt_num(mb)})"
        if trap
        else "batch norm momentum differs ({a}: "
        f"{fmt_num(ma)}, {{b}}: {fmt_num(mb)} as the weight of the old average)",
        fix=_momentum_fix(x, y, cross),
    )


def _momentum(pairs: list[tuple[Normalization, Normalization]]) -> list[Finding]:
    bad = [(x, y) for x, y in pairs if not _close(x.momentum, y.momentum)]
    out = []
    if bad:
        trap = any(
            x.written_momentum is not None and x.written_momentum == y.written_momentum
            for x, y in bad
        )
        cross = any(x.convention != y.convention for x, y in bad)
        out.append(_momentum_finding(bad, trap, cross))
    written = [
        (x, y)
        for x, y in pairs
        if _close(x.momentum, y.momentum)
        and x.written_momentum is not None
        and y.written_momentum is not None
        and not _close(x.written_momentum, y.written_momentum)
    ]
    if written:
        x, y = written[0]
        out.append(
            Finding(
                id="normalization.mismatch",
                severity="info",
                title=f"Batch norm momentum written differently, same effect "
                f"({_written(x)} = {_written(y)})",
                detail="Both keep moving = m * moving + (1 - m) * batch with m = "
                f"{fmt_num(x.momentum)}; the frameworks just spell momentum differently.",
                a={x.layer: _facts(x) for x, _ in written},
                b={y.layer: _facts(y) for _, y in written},
                nodes_a=[n for x, _ in written for n in x.nodes[:1]],
                nodes_b=[n for _, y in written for n in y.nodes[:1]],
                score=0.02,
            )
        )
    return out


def _epsilon(pairs: list[tuple[Normalization, Normalization]]) -> Finding | None:
    bad = [(x, y) for x, y in pairs if not _close(x.epsilon, y.epsilon)]
    if not bad:
        return None
    x, y = bad[0]
    ea, eb = x.epsilon or 0.0, y.epsilon or 0.0
    ratio = max(ea, eb) / max(min(ea, eb), 1e-12)
    big = max(ea, eb) >= 1e-2 or ratio >= 10
    return Finding(
        id="normalization.mismatch",
        severity="critical" if big else "benign",
        title=f"Normalisation epsilon differs: {fmt_num(ea)} vs {fmt_num(eb)} in {len(bad)} "
        "layer(s)",
        detail=(
            "Epsilon is added to the variance before dividing by its square root (Keras "
            "defaults to 1e-3, PyTorch to 1e-5, so a port that keeps the defaults changes it "
            "silently: write BatchNorm*d(eps=1e-3) in PyTorch to match Keras). "
            + (
                "A value this large noticeably damps the normalisation of low-variance features."
                if big
                else "At these sizes it only matters for features with almost no variance."
            )
        ),
        a={x.layer: _facts(x) for x, _ in bad},
        b={y.layer: _facts(y) for _, y in bad},
        nodes_a=[n for x, _ in bad for n in x.nodes[:1]],
        nodes_b=[n for _, y in bad for n in y.nodes[:1]],
        score=0.35 if big else 0.05,
        fix=f"eps={fmt_num(ea if y.convention == 'torch' else eb)} in "
        f"{_torch_side(x, y) if x.convention != y.convention else '{b}'}",
    )


def compare(a: ModelDescription, b: ModelDescription, ctx: Context) -> list[Finding]:
    found: list[Finding] = []
    for kind in ("batch_norm", "layer_norm"):
        na = [n for n in a.normalization if n.kind == kind]
        nb = [n for n in b.normalization if n.kind == kind]
        if not na and not nb:
            continue
        if not na or not nb:
            if (a.has_ops or a.config_only) and (b.has_ops or b.config_only):
                found.append(_presence(na, nb, kind.replace("_", " ")))
            continue
        pairs = list(zip(na, nb, strict=False))
        found += _momentum(pairs)
        eps = _epsilon(pairs)
        if eps:
            found.append(eps)
    return found


def inspect(d: ModelDescription) -> str | None:
    if not d.normalization:
        return None
    groups: dict[str, list[str]] = {}
    for n in d.normalization:
        bits = [n.kind]
        if n.momentum is not None:
            bits.append(f"momentum={fmt_num(n.momentum)}")
        if n.epsilon is not None:
            bits.append(f"epsilon={fmt_num(n.epsilon)}")
        groups.setdefault(" ".join(bits) + f" [{n.source.label}]", []).append(n.layer)
    return "; ".join(f"{', '.join(v)}: {k}" for k, v in groups.items())
