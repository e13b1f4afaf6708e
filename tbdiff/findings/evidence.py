"""Re-rank findings by what the scalar curves show: the cause that explains the gap comes first.

Detectors score a finding by how much it *can* change learning (a prior) and, when they can say
so honestly, which run it predicts to end better (`Finding.predicts`, e.g. more dropout lowers
the accuracy of the run that has it). When both runs logged a curve whose goal the name tells
(accuracy, loss, reward ...: `tbdiff.scalars.better_side`), a finding that predicts the
direction of the observed gap is a better explanation than one that predicts the opposite.
Findings that cannot say keep their prior score.
"""

from __future__ import annotations

from typing import Any

from tbdiff.findings.base import Finding, comparable_losses, rank
from tbdiff.scalars import better_side, is_loss

BONUS = 0.3  # reorders findings within one severity (ranking is by severity first)


def observed_direction(scalars: Any, losses_comparable: bool = True) -> int:
    """+1 when B ends better than A on the first paired curve whose goal is known (train curves
    first: the detectors' predictions are about what training does; counters never; loss
    curves only when the runs compute the same loss), -1 worse, 0 no evidence."""
    pairs = [
        p
        for p in getattr(scalars, "pairs", None) or []
        if p.goal and p.role != "counter" and (losses_comparable or not is_loss(p.tag_a))
    ]
    pairs.sort(key=lambda p: p.role != "train")  # stable: importance order within a role
    for p in pairs:
        side = better_side(p)
        if side:
            return side
    return 0


def rank_by_evidence(findings: list[Finding], scalars: Any) -> list[Finding]:
    """Findings whose predicted direction matches the observed gap move up within their level."""
    observed = observed_direction(scalars, comparable_losses(findings))
    if not observed:
        return rank(findings)
    for f in findings:
        if f.predicts:
            f.score += BONUS if f.predicts == observed else -BONUS
    return rank(findings)
