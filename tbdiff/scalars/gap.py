"""The words for a gap: where two runs stand at the end of one paired curve.

`curve_gap` turns a compared pair into a `CurveGap` (which side trails by the metric's goal,
the finals, by how much, since which step the curves stay apart); `better_side` is the same
judgement as a sign, for evidence that predicts which run ends better.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tbdiff.scalars.series import step_value

if TYPE_CHECKING:
    from tbdiff.scalars.series import ScalarPair


def _value(x: float) -> str:
    return f"{x:.4g}"


def _amount(d: float, pair: ScalarPair) -> str:
    """|d| as accuracy points for a 0..1 higher-is-better metric, else as a plain number."""
    finals = (pair.final_a or 0.0, pair.final_b or 0.0)
    if pair.goal == "max" and all(0.0 <= f <= 1.0 for f in finals):
        return f"{abs(d) * 100:.1f} points"
    return f"{abs(d):.3g}"


@dataclass(frozen=True)
class CurveGap:
    """Where two runs stand on one paired curve at the end, and the evidence, in words.

    `behind` is the side ("A"/"B") whose final value is worse by the metric's goal (lower
    accuracy, higher loss); None when the finals are equal or the goal is unknown. "Final" is
    each run's own last value: `finals` says at which steps when they differ. `since` is the
    step from which the curves stay apart (None: not apart for good), by at least `by`.
    """

    name: str  # "test accuracy"
    behind: str | None
    finals: str  # "0.9668 vs 0.9825 at the end" (the behind side's value first)
    size: str  # "1.6 points" / "0.057" / "" (equal)
    direction: str = ""  # "lower" / "higher" (the behind side's final vs the other's)
    since: int | float | None = None
    by: str = ""  # "1.5 points"
    steps: int = 0  # common steps compared

    @property
    def amount(self) -> str:
        """'1.6 points lower', 'by 0.057' (direction unknown), 'equal'."""
        if not self.size:
            return "equal"
        return f"{self.size} {self.direction}" if self.direction else f"by {self.size}"

    @property
    def apart(self) -> str:
        """The separation evidence: 'apart by at least 1.5 points from step 0 on'."""
        if self.since is not None:
            return f"apart by at least {self.by} from step {self.since} on"
        if self.steps < 2:
            return f"too few common steps ({self.steps}) to call the curves apart"
        return "the curves are not apart for good"

    def sentence(self, label_a: str, label_b: str) -> str:
        """'keras trails on test accuracy: 0.9668 vs 0.9825 at the end (1.6 points lower), ...'"""
        return self._words(label_a, label_b).replace("{a}", label_a).replace("{b}", label_b)

    def _words(self, label_a: str, label_b: str) -> str:
        if self.amount == "equal":
            return f"{self.name} {self.finals}"
        figures = f"{self.finals} ({self.amount}), {self.apart}"
        if self.behind is None:
            return f"{self.name} {figures}"
        who = label_a if self.behind == "A" else label_b
        return f"{who} trails on {self.name}: {figures}"

    def status(self, label_a: str, label_b: str) -> str:
        """Short form: 'keras trails from step 0 on, by ≥1.5 points' / 'keras ends 0.2 lower;
        the curves are not apart for good'."""
        text = self._status(label_a, label_b)
        return text.replace("{a}", label_a).replace("{b}", label_b)

    def _status(self, label_a: str, label_b: str) -> str:
        if self.behind is None or self.amount == "equal":
            return self.finals if self.amount == "equal" else f"{self.finals}; {self.apart}"
        who = label_a if self.behind == "A" else label_b
        if self.since is not None:
            return f"{who} trails from step {self.since} on, by ≥{self.by}"
        return f"{who} ends {self.amount}; {self.apart}"


def curve_gap(pair: ScalarPair) -> CurveGap | None:
    """The pair's end state in words (None without a finite final value on both sides)."""
    d = pair.final_diff
    if d is None or not math.isfinite(d) or pair.final_a is None or pair.final_b is None:
        return None
    fa, fb = pair.final_a, pair.final_b
    sa, sb = pair.final_step_a, pair.final_step_b
    if abs(d) <= 1e-12 * max(1.0, abs(fa)):
        at = "at the end" if sa == sb else f"at each run's last step ({sa} and {sb})"
        return CurveGap(pair.name, None, f"ends at {_value(fa)} in both runs {at}", "")
    b_better = (d > 0) == (pair.goal == "max")
    behind = None if pair.goal is None else ("A" if b_better else "B")
    # the behind side's value first; for an unknown goal, the higher one first
    first_is_a = behind == "A" if behind is not None else fa > fb
    (v1, s1), (v2, s2) = ((fa, sa), (fb, sb)) if first_is_a else ((fb, sb), (fa, sa))
    if sa == sb:
        finals = f"{_value(v1)} vs {_value(v2)} at the end"
    else:  # each run's own last value, at its own last step
        finals = f"{_value(v1)} at step {s1} vs {_value(v2)} at step {s2}, each run's last"
    direction = ("lower" if v1 < v2 else "higher") if behind is not None else ""
    if behind is None:
        finals = f"ends higher in {'{a}' if first_is_a else '{b}'}: {finals}"
    since = by = None
    if pair.diverges_at_step is not None and pair.apart_by is not None:
        since, by = step_value(pair.diverges_at_step), _amount(pair.apart_by, pair)
    gap = _amount(d, pair)
    return CurveGap(pair.name, behind, finals, gap, direction, since, by or "", pair.steps)


def better_side(pair: ScalarPair) -> int:
    """+1 when B ends better than A by the metric's goal, -1 when worse, 0 equal or unknown."""
    gap = curve_gap(pair)
    if gap is None or gap.behind is None:
        return 0
    return 1 if gap.behind == "A" else -1
