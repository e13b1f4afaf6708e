"""Re-rank findings by what the scalar curves show: the cause that explains the gap comes first.

Detectors score a finding by how much it *can* change learning (a prior). When both runs also
logged accuracy curves, a finding that predicts the direction of the observed gap is a better
explanation than one that predicts the opposite. Only directions we can state honestly are
used: more dropout (a higher drop rate, or more dropout layers) lowers the accuracy of the run
that has it, at least on the training curve. Everything else keeps its prior score.
"""

from __future__ import annotations

import math
from typing import Any

from tbdiff.findings.base import Finding, rank

BONUS = 0.3  # reorders findings within one severity (ranking is by severity first)


def observed_accuracy_gap(scalars: Any) -> float | None:
    """Sign-bearing gap (B - A) of the first paired accuracy curve, train preferred; None if none."""
    pairs = [p for p in getattr(scalars, "pairs", None) or [] if "acc" in p.tag_a.lower()]
    held_out = ("test", "val", "eval")
    pairs.sort(key=lambda p: any(w in p.tag_a.lower() for w in held_out))  # train first
    for p in pairs:
        gap = p.final_gap
        if gap is not None and math.isfinite(gap) and abs(gap) > 1e-9:
            return gap
    return None


def _predicted_sign(f: Finding) -> int:
    """+1 when the finding predicts B's accuracy above A's, -1 below, 0 when it cannot say."""
    a, b = f.a or {}, f.b or {}
    if f.id == "dropout.rate_mismatch":
        ra, rb = a.get("drop_rate"), b.get("drop_rate")
        if isinstance(ra, (int, float)) and isinstance(rb, (int, float)) and ra != rb:
            return 1 if rb < ra else -1
    if f.id == "dropout.count_mismatch":
        ca, cb = a.get("count"), b.get("count")
        if isinstance(ca, int) and isinstance(cb, int) and ca != cb:
            return 1 if cb < ca else -1
    return 0


def rank_by_evidence(findings: list[Finding], scalars: Any) -> list[Finding]:
    """Findings whose predicted direction matches the observed gap move up within their level."""
    gap = observed_accuracy_gap(scalars)
    if gap is None:
        return rank(findings)
    observed = 1 if gap > 0 else -1
    for f in findings:
        sign = _predicted_sign(f)
        if sign:
            f.score += BONUS if sign == observed else -BONUS
    return rank(findings)
