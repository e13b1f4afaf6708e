"""The words for a gap: where two runs stand at the end of one paired curve.

`curve_gap` turns a compared pair into a `CurveGap` (which side trails by the metric's goal on
the last common steps, by how much, since which step the curves stay apart, each run's own end
when the runs go on past the common steps); `better_side` is the same judgement as a sign, for
evidence that predicts which run ends better.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

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


def end_window(steps: int) -> int:
    """How many of the last common steps decide who trails: the last tenth of them, at least
    5 (all of them when fewer), so one noisy point does not decide."""
    return min(steps, max(5, math.ceil(steps / 10)))


@dataclass(frozen=True)
class CurveGap:
    """Where two runs stand on one paired curve at the end of their common steps, in words.

    `behind` is the side ("A"/"B") that is worse by the metric's goal (lower accuracy, higher
    loss) over the last common steps (`end_window`; when the curves are apart for good, on
    that part of them), None when equal or the goal is unknown; without common steps, each
    run's own last value decides. `finals` says which values were compared and where ("at the
    end" when both runs end on the common steps); `ends` names the own last step of a run that
    goes on past the common steps. `since` is the step from which the
    curves stay apart (None: not apart for good), by at least `by`.
    """

    name: str  # "test accuracy"
    behind: str | None
    finals: str  # "0.9668 vs 0.9825 at the end" (the behind side's value first)
    size: str  # "1.6 points" / "0.057" / "" (equal)
    direction: str = ""  # "lower" / "higher" (the behind side's value vs the other's)
    since: int | float | None = None
    by: str = ""  # "1.5 points"
    steps: int = 0  # common steps compared
    where: str = "at the end"  # which steps the compared values come from
    ends: str = ""  # "{a} goes on to step 79": a run going on past the common steps

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
        return "not apart for good"

    def sentence(self, label_a: str, label_b: str) -> str:
        """'keras trails on test accuracy: 0.9668 vs 0.9825 at the end (1.6 points lower), ...'"""
        return self._words(label_a, label_b).replace("{a}", label_a).replace("{b}", label_b)

    def _words(self, label_a: str, label_b: str) -> str:
        ends = f"; {self.ends}" if self.ends else ""
        if self.amount == "equal":
            return f"{self.name} {self.finals}{ends}"
        figures = f"{self.finals} ({self.amount}), {self.apart}{ends}"
        if self.behind is None:
            return f"{self.name} {figures}"
        who = label_a if self.behind == "A" else label_b
        if self.since is None:  # behind, but not for good: no "trails"
            figures = f"{self.finals} (by {self.size}), {self.apart}{ends}"
            return f"{who} {self.standing} on {self.name}: {figures}"
        return f"{who} trails on {self.name}: {figures}"

    @property
    def standing(self) -> str:
        """Where the behind side stands when the curves are not apart for good: 'ends lower',
        'is higher' (over a window of common steps)."""
        verb = "ends" if self.where == "at the end" or not self.steps else "is"
        return f"{verb} {self.direction}"

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
        if self.where == "at the end" or not self.steps:
            return f"{who} ends {self.amount}; {self.apart}"
        return f"{who} is {self.amount} {self.where}; {self.apart}"


@dataclass(frozen=True)
class _Compared:
    """The two values a gap compares, where they come from, and whether that is the end."""

    a: float
    b: float
    where: str
    at_end: bool  # both runs end there: "at the end"


def _compared(pair: ScalarPair) -> _Compared:
    """Each run's own last value without common steps; the last values when both runs end
    on the last common step (the finals the report shows next to the curves); else, when one
    run goes on, the means over the end window of the common steps (one point of a run that
    stopped early would decide too much)."""
    fa, fb = float(pair.final_a or 0.0), float(pair.final_b or 0.0)
    n = int(pair.steps)
    if n == 0:
        where = f"at each run's last step ({pair.final_step_a} and {pair.final_step_b})"
        return _Compared(fa, fb, where, False)
    w = end_window(n)
    if pair.diverges_at_step is not None:  # apart for good: the apart part decides
        w = min(w, int(np.count_nonzero(pair.grid_steps >= pair.diverges_at_step)))
    ma, mb = float(np.mean(pair.values_a[-w:])), float(np.mean(pair.values_b[-w:]))
    if not pair.runs_on:
        return _Compared(fa, fb, "at the end", True)
    last = step_value(pair.grid_steps[-1])
    if w == 1:
        return _Compared(ma, mb, f"at step {last}, the last common step", False)
    first = step_value(pair.grid_steps[-w])
    return _Compared(ma, mb, f"averaged over common steps {first}..{last}", False)


def _ends(pair: ScalarPair) -> str:
    """Where a run that goes on past the common steps ends: '{a} goes on to step 79' (its own
    last value is drawn next to its curve, labelled with that step)."""
    if not pair.steps or not pair.runs_on:
        return ""
    own = {"A": pair.final_step_a, "B": pair.final_step_b}
    return ", ".join(f"{{{side.lower()}}} goes on to step {own[side]}" for side in pair.runs_on)


def curve_gap(pair: ScalarPair) -> CurveGap | None:
    """The pair's end state in words (None without a finite final value on both sides)."""
    d = pair.final_diff
    if d is None or not math.isfinite(d) or pair.final_a is None or pair.final_b is None:
        return None
    c = _compared(pair)
    ends = _ends(pair)
    diff = c.b - c.a
    if abs(diff) <= 1e-12 * max(1.0, abs(c.a)):
        if c.at_end and pair.final_step_a == pair.final_step_b:
            finals = f"ends at {_value(c.a)} in both runs"
        elif pair.steps:
            finals = f"is {_value(c.a)} in both runs {c.where}"
        else:
            finals = f"ends at {_value(c.a)} in both runs {c.where}"
        return CurveGap(pair.name, None, finals, "", steps=pair.steps, where=c.where, ends=ends)
    b_better = (diff > 0) == (pair.goal == "max")
    behind = None if pair.goal is None else ("A" if b_better else "B")
    # the behind side's value first; for an unknown goal, the higher one first
    first_is_a = behind == "A" if behind is not None else c.a > c.b
    v1, v2 = (c.a, c.b) if first_is_a else (c.b, c.a)
    if pair.steps:
        finals = f"{_value(v1)} vs {_value(v2)} {c.where}"
    else:  # each run's own last value, at its own last step
        s1, s2 = (
            (pair.final_step_a, pair.final_step_b)
            if first_is_a
            else (pair.final_step_b, pair.final_step_a)
        )
        finals = f"{_value(v1)} at step {s1} vs {_value(v2)} at step {s2}, each run's last"
    direction = ("lower" if v1 < v2 else "higher") if behind is not None else ""
    if behind is None:
        verb = "ends higher" if c.at_end or not pair.steps else "is higher"
        finals = f"{verb} in {'{a}' if first_is_a else '{b}'}: {finals}"
    since = by = None
    if pair.diverges_at_step is not None and pair.apart_by is not None:
        since, by = step_value(pair.diverges_at_step), _amount(pair.apart_by, pair)
    return CurveGap(
        pair.name,
        behind,
        finals,
        _amount(diff, pair),
        direction,
        since,
        by or "",
        pair.steps,
        c.where,
        ends,
    )


def better_side(pair: ScalarPair) -> int:
    """+1 when B ends better than A by the metric's goal, -1 when worse, 0 equal or unknown."""
    gap = curve_gap(pair)
    if gap is None or gap.behind is None:
        return 0
    return 1 if gap.behind == "A" else -1
