"""The verdict: the most likely cause, what the curves measured, and the fix, in a few lines.

Built once per report (not in a renderer) so the terminal, JSON, HTML and SVG say the same thing
in the same words. The cause and the fix are the first finding's own phrases (its detector owns
them); the curve evidence comes from `tbdiff.scalars` (roles, goals, separation, finals).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tbdiff.findings.base import comparable_losses, labelled
from tbdiff.scalars import CURVE_ROLES, CurveGap, curve_gap, is_loss, parse_tag

if TYPE_CHECKING:
    from tbdiff.findings.base import Finding
    from tbdiff.scalars import ScalarComparison, ScalarPair


def verdict_pairs(pairs: list[ScalarPair], losses_comparable: bool = True) -> list[ScalarPair]:
    """The curves the verdict quotes: the most important held-out curve, then the train curve
    of the same metric (else the most important train curve). Pairs come in importance order
    (accuracy-like, then loss, then other metrics whose goal the name tells; test before
    validation before train); curves whose goal is unknown are used only when no other is, a
    held-out curve without common steps (each run's own final evaluation) only when none has
    them, summary values (`hp_metric`, `hparam/*`) only when no curve can, counters (`epoch`)
    never, and loss curves not at all when the runs compute different losses
    (`losses_comparable=False`)."""
    usable = [
        p
        for p in pairs
        if p.role != "counter"
        and (losses_comparable or not (is_loss(p.tag_a) or is_loss(p.tag_b)))
        and curve_gap(p) is not None
    ]
    known = [p for p in usable if p.goal] or usable
    curves = [p for p in known if p.role_a in CURVE_ROLES and p.role_b in CURVE_ROLES]
    held = sorted((p for p in curves if p.role != "train"), key=lambda p: p.steps == 0)
    train = [p for p in curves if p.role == "train" and p.steps > 0]
    if not held and not train:
        return [p for p in known if p.role == "summary"][:1]
    picks = held[:1]
    if train:
        metric = parse_tag(picks[0].tag_a).metric if picks else None
        same = [p for p in train if parse_tag(p.tag_a).metric == metric]
        picks.append((same or train)[0])
    return picks


def curve_evidence(
    scalars: ScalarComparison | None,
    label_a: str,
    label_b: str,
    train_note: str = "",
    *,
    losses_comparable: bool = True,
) -> str:
    """Plain words for what the curves show: who trails on which curve, by how much, since when.

    `train_note` is a caveat a detector raised about the train curves (e.g. "measured with
    dropout active in keras"): a caveated train curve is quoted only when no held-out curve
    exists, and then with its caveat. `losses_comparable=False` (a detector found that the
    runs compute different losses) keeps loss curves out of the evidence.
    """
    pairs = verdict_pairs(list(getattr(scalars, "pairs", None) or []), losses_comparable)
    gaps: list[tuple[CurveGap, str]] = []
    for p in pairs:
        gap = curve_gap(p)
        note = train_note if p.role == "train" else ""
        if gap is None or (note and gaps):
            continue
        gaps.append((gap, note))
    parts: list[str] = []
    for i, (gap, note) in enumerate(gaps):
        text = (
            gap.sentence(label_a, label_b) if i == 0 else _short(gap, gaps[0][0], label_a, label_b)
        )
        parts.append(f"{text} ({note})" if note else text)
    return "; ".join(parts)


def _short(gap: CurveGap, first: CurveGap, label_a: str, label_b: str) -> str:
    """A second curve, shorter (the curves section has the details): 'on train accuracy by
    6.5 points' when the same run trails, 'keras trails on train accuracy by 3.6 points' when
    the other one does."""
    since = f", {gap.apart}" if gap.since is not None else ""
    if gap.behind is not None and gap.behind == first.behind:
        return f"on {gap.name} by {gap.size}{since}"
    if gap.behind is not None:
        who = label_a if gap.behind == "A" else label_b
        if gap.since is None:
            return f"{who} {gap.standing} on {gap.name} by {gap.size}"
        return f"{who} trails on {gap.name} by {gap.size}{since}"
    return gap.sentence(label_a, label_b)


def build_verdict(
    findings: list[Finding],
    scalars: ScalarComparison | None,
    label_a: str,
    label_b: str,
    *,
    graphs: bool = True,
) -> str:
    """A few sentences: the most likely cause, what the curves measured, the fix.

    The cause is the first finding's own verdict phrase (its title when it has none); caveats
    detectors raise about the train curves qualify the curve evidence, and loss curves are left
    out when a detector found that the runs compute different losses. With `graphs=False` (the
    `scalars` command) only the curves are described: claiming the graphs hold no difference
    would be wrong when they were never read.
    """
    notes = [labelled(f.curve_note, label_a, label_b) for f in findings if f.curve_note]
    evidence = curve_evidence(
        scalars,
        label_a,
        label_b,
        "; ".join(notes),
        losses_comparable=comparable_losses(findings),
    )
    top = findings[0] if findings else None

    def sentence(text: str) -> str:  # a run's label keeps its spelling ("keras trails ...")
        text = text.strip().rstrip(".")
        if not text.startswith((label_a, label_b)):
            text = text[:1].upper() + text[1:]
        return text + "."

    if not graphs:
        if not evidence:
            return "No graphs compared and no paired curves to compare."
        return sentence(evidence)
    if top is None or top.severity not in ("critical", "warning"):
        cause = "No difference that changes what the models learn was found in the graphs"
        if top is not None and top.severity == "benign":
            cause += " (only equivalent structural differences)"
        return sentence(f"{cause}; {evidence}" if evidence else cause)
    cause = labelled(top.verdict, label_a, label_b) if top.verdict else top.title
    out = [sentence(cause)]
    if evidence:
        out.append(sentence(evidence))
    if top.fix:
        out.append(f"Fix: {labelled(top.fix, label_a, label_b).rstrip('.')}.")
    return " ".join(out)
