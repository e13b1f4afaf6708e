"""Weight penalties added to the loss (L2/L1) and decoupled weight decay in the update step.

A `0.01 * tf.nn.l2_loss(w)` in one model and a Keras `kernel_regularizer=l2(0.001)` (which TF
writes as `0.002 * L2Loss(w)`) in the other look alike in TensorBoard but pull the weights
towards zero with different strength. The front-ends normalise every coefficient to the Keras
convention `coef * sum(w**2)` (`coef * sum(|w|)` for L1); this module compares per layer and role.
"""

from __future__ import annotations

import math

from tbdiff.findings.base import Context, Finding, provenance
from tbdiff.model.description import Decay, ModelDescription, Penalty
from tbdiff.model.numbers import fmt_num, rnd

NAME = "regularization"
LABEL = "regularization"

_Slots = dict[tuple, float]


def _by_slot(items: list[Penalty] | list[Decay]) -> _Slots:
    out: _Slots = {}
    for t in items:
        key = (t.layer, t.role, t.kind) if isinstance(t, Penalty) else (t.layer, t.role)
        out[key] = out.get(key, 0.0) + float(t.coef)
    return out


def _fmt(slots: _Slots) -> dict[str, float]:
    return {" ".join(str(k) for k in key): rnd(v) or 0.0 for key, v in sorted(slots.items())}


def _summary(items: list[Penalty] | list[Decay]) -> str:
    kinds = sorted({f"{getattr(t, 'kind', 'decay')} {t.coef}" for t in items})
    return ", ".join(kinds)


def _evidence(items: list[Penalty] | list[Decay]) -> list[str]:
    out = []
    for t in items:
        first = (t.nodes if isinstance(t, Penalty) else [t.op])[:1]
        out += [n for n in first if n]
    return out


def _finding(
    what: str, ia: list[Penalty] | list[Decay], ib: list[Penalty] | list[Decay]
) -> Finding | None:
    sa, sb = _by_slot(ia), _by_slot(ib)
    diff = {
        k
        for k in set(sa) | set(sb)
        if not math.isclose(sa.get(k, 0.0), sb.get(k, 0.0), rel_tol=1e-3, abs_tol=1e-12)
    }
    if not diff:
        return None
    da = {k: sa.get(k, 0.0) for k in diff}
    db = {k: sb.get(k, 0.0) for k in diff}
    biggest = max(abs(da[k] - db[k]) for k in diff)
    only = "A" if not sb else ("B" if not sa else None)
    title = (
        f"{what.capitalize()} only in {only}: {_summary(ia or ib)}"
        if only
        else f"Different {what} coefficients"
    )
    return Finding(
        id="regularization.mismatch",
        severity="critical",
        title=title,
        detail=(
            "A weight penalty pulls weights towards zero; a different strength changes the "
            "solution reached (coefficients normalised to coef * sum(w**2) for L2, "
            "coef * sum(|w|) for L1; keys are 'layer role kind')."
            + provenance((t.source for t in ia), (t.source for t in ib))
        ),
        a=_fmt(da),
        b=_fmt(db),
        nodes_a=_evidence(ia),
        nodes_b=_evidence(ib),
        score=min(0.6, 0.2 + 10 * biggest),
    )


def compare(a: ModelDescription, b: ModelDescription, ctx: Context) -> list[Finding]:
    if not a.weight_layers or not b.weight_layers:
        return []  # no trained layers recognised on one side: nothing to compare
    found = [
        _finding("weight penalty", a.penalties, b.penalties),
        _finding("decoupled weight decay", a.decay, b.decay),
    ]
    return [f for f in found if f]


def inspect(d: ModelDescription) -> str | None:
    if not d.penalties and not d.decay:
        return None
    parts = [f"{t.kind} {fmt_num(t.coef)} on {t.layer}" for t in d.penalties]
    parts += [f"weight decay {fmt_num(t.coef)} on {t.layer}" for t in d.decay]
    src = sorted({t.source.label for t in [*d.penalties, *d.decay]})
    return "; ".join(parts) + f" [{', '.join(src)}]"
