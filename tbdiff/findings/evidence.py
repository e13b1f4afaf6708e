"""Re-rank findings by what the scalar curves show: the cause that explains the gap comes first.

Detectors score a finding by how much it *can* change learning (a prior) and, when they can say
so honestly, which run it predicts to reach the higher accuracy (`Finding.predicts`, e.g. more
dropout lowers the accuracy of the run that has it). When both runs logged accuracy curves, a
finding that predicts the direction of the observed gap is a better explanation than one that
predicts the opposite. Findings that cannot say keep their prior score.
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


def rank_by_evidence(findings: list[Finding], scalars: Any) -> list[Finding]:
    """Findings whose predicted direction matches the observed gap move up within their level."""
    gap = observed_accuracy_gap(scalars)
    if gap is None:
        return rank(findings)
    observed = 1 if gap > 0 else -1
    for f in findings:
        if f.predicts:
            f.score += BONUS if f.predicts == observed else -BONUS
    return rank(findings)
