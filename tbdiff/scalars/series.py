"""Curve comparison: one pair of curves put on a common step grid and summarised.

Each series is cleaned (sorted, one point per step, non-finite values counted and dropped),
both are aligned (identical steps, epoch-vs-batch step units rescaled, or the coarser grid with
the finer curve interpolated), then summarised: finals, bests, differences and the step from
which the curves stay apart beyond their own noise. Works on numpy arrays only (no Python loop
over points), so millions of points per curve are fine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from tbdiff.scalars.tags import ROLES, curve_name, curve_role, parse_tag

if TYPE_CHECKING:  # events is imported for types only: any object with these fields works
    from tbdiff.events import ScalarSeries

# k in "apart = |a - b| > K * (noise_a + noise_b) + eps"
DEFAULT_K = 3.0
# Step axes whose spans differ by at least this factor may count different units (epoch vs batch);
# below it, a different span is more likely a longer run or another logging stride.
_UNIT_RATIO = 10.0


@dataclass
class _Clean:
    """A series reduced to finite points, one per step, plus what was removed."""

    steps: np.ndarray  # int64, strictly increasing
    values: np.ndarray  # float64, finite
    wall: np.ndarray
    duplicates: int
    nan: int
    inf: int
    first_nonfinite_step: int | None


def _clean(s: ScalarSeries) -> _Clean:
    steps = np.asarray(s.steps, dtype=np.int64).ravel()
    values = np.asarray(s.values, dtype=np.float64).ravel()
    wall = np.asarray(getattr(s, "wall_times", np.zeros(0)), dtype=np.float64).ravel()
    if wall.shape != steps.shape:
        wall = np.zeros(steps.shape, dtype=np.float64)
    if steps.size > 1 and np.any(steps[1:] < steps[:-1]):
        order = np.argsort(steps, kind="stable")
        steps, values, wall = steps[order], values[order], wall[order]
    # Several records for one step (appended sessions, restarts): the last one written wins,
    # like TensorBoard shows after a restart purge.
    last = np.ones(steps.shape, dtype=bool)
    if steps.size > 1:
        last[:-1] = steps[1:] != steps[:-1]
    duplicates = int(steps.size - last.sum())
    steps, values, wall = steps[last], values[last], wall[last]
    finite = np.isfinite(values)
    bad = ~finite
    first_bad = int(steps[bad][0]) if bad.any() else None
    return _Clean(
        steps=steps[finite],
        values=values[finite],
        wall=wall[finite],
        duplicates=duplicates,
        nan=int(np.isnan(values).sum()),
        inf=int(np.isinf(values).sum()),
        first_nonfinite_step=first_bad,
    )


def _stride(steps: np.ndarray) -> float:
    return float(np.median(np.diff(steps))) if steps.size > 1 else 0.0


def _span_text(steps: np.ndarray) -> str:
    if steps.size == 0:
        return "no points"
    stride = _stride(steps)
    every = f", every {stride:g}" if steps.size > 1 else ""
    return f"{steps.size} points at steps {_fmt(steps[0])}..{_fmt(steps[-1])}{every}"


def _fmt(x: float) -> str:
    return f"{x:g}" if float(x) != int(x) else str(int(x))


def _unit_scale(
    ca: _Clean, cb: _Clean, gran_a: str | None, gran_b: str | None
) -> tuple[str, float] | None:
    """Detect step axes counting different units (epochs vs batches) -> (side to divide, factor).

    Both runs must have several points, step spans differing at least `_UNIT_RATIO`-fold, the
    shorter axis counting 1, 2, 3... (an epoch counter), plus one piece of evidence that they
    cover the same training: about as many points (one per epoch each, e.g. steps 0..29 vs
    every 550), about the same wall-clock duration, or names saying epoch vs batch. A run that
    simply stopped early has a shorter wall-clock span and fewer points, so it is not rescaled.
    The factor assumes both runs cover the same training (it maps span onto span).
    """
    if ca.steps.size < 2 or cb.steps.size < 2:
        return None
    span_a = float(ca.steps[-1] - ca.steps[0])
    span_b = float(cb.steps[-1] - cb.steps[0])
    if min(span_a, span_b) <= 0:
        return None
    big, small = (ca, cb) if span_a > span_b else (cb, ca)
    side = "A" if big is ca else "B"
    span_big, span_small = max(span_a, span_b), min(span_a, span_b)
    # An epoch counter goes up by one; a much longer axis then counts batches or samples.
    if span_big / span_small < _UNIT_RATIO or _stride(small.steps) != 1:
        return None
    count_ratio = big.steps.size / small.steps.size
    similar_counts = 0.8 <= count_ratio <= 1.25
    wb, ws = np.ptp(big.wall), np.ptp(small.wall)
    similar_walls = wb > 0 and ws > 0 and 1 / 3 <= wb / ws <= 3
    gran_big, gran_small = (gran_a, gran_b) if side == "A" else (gran_b, gran_a)
    named = gran_big == "batch" and gran_small == "epoch"
    if not (similar_counts or similar_walls or named):
        return None
    factor = (span_big + _stride(big.steps)) / (span_small + _stride(small.steps))
    return side, factor


@dataclass
class _Aligned:
    grid: np.ndarray
    va: np.ndarray
    vb: np.ndarray
    notes: list[str]
    resampled: bool = False
    runs_on: str = ""  # "A", "B" or "AB": the sides whose steps go on past the common ones


def _runs_on(sa: np.ndarray, sb: np.ndarray, hi: float, *, rescaled: bool) -> str:
    """The sides ("A", "B", "AB" or "") whose steps go on past the last common step `hi`
    (by more than half a stride once rescaled: a mapped axis need not land on it exactly)."""
    tol = 0.5 * max(_stride(sa), _stride(sb)) if rescaled else 0.0
    return "".join(side for side, s in (("A", sa), ("B", sb)) if float(s[-1]) - hi > tol)


def _align(ca: _Clean, cb: _Clean, gran_a: str | None, gran_b: str | None) -> _Aligned:
    """Put both curves on one step grid: identical steps, or the coarser grid + interpolation."""
    notes: list[str] = []
    resampled = False
    sa: np.ndarray = ca.steps
    sb: np.ndarray = cb.steps
    scale = _unit_scale(ca, cb, gran_a, gran_b)
    if scale is not None:
        side, factor = scale
        resampled = True
        if side == "A":
            sa = ca.steps / factor
        else:
            sb = cb.steps / factor
        other = "B" if side == "A" else "A"
        notes.append(
            f"step units differ ({side} counts ~{factor:.4g}x more steps for the same training): "
            f"{side}'s steps divided by {factor:.4g} to compare on {other}'s scale"
        )
    empty = np.zeros(0)
    if sa.size == 0 or sb.size == 0:
        return _Aligned(empty, empty, empty, notes)
    lo, hi = max(sa[0], sb[0]), min(sa[-1], sb[-1])
    if lo > hi:
        notes.append(
            f"no overlapping steps (A {_fmt(sa[0])}..{_fmt(sa[-1])}, B {_fmt(sb[0])}..{_fmt(sb[-1])})"
        )
        return _Aligned(empty, empty, empty, notes)
    ma = (sa >= lo) & (sa <= hi)
    mb = (sb >= lo) & (sb <= hi)
    ga, gb = sa[ma], sb[mb]
    if ga.size == gb.size and np.array_equal(ga, gb):
        grid, va, vb = ga, ca.values[ma], cb.values[mb]
    else:
        # The coarser grid has the fewer points in the overlap; ties go to the unscaled side,
        # then to A. Interpolating the finer curve never extrapolates: grid is inside its range.
        use_a = ga.size < gb.size or (ga.size == gb.size and (scale is None or scale[0] == "B"))
        if use_a:
            grid, va, vb = ga, ca.values[ma], np.interp(ga, sb, cb.values)
        else:
            grid, va, vb = gb, np.interp(gb, sa, ca.values), cb.values[mb]
        coarse, fine = ("A", "B") if use_a else ("B", "A")
        if np.isin(grid, sb if use_a else sa).all():
            # Only missing points (e.g. dropped non-finite values): no interpolation happened.
            notes.append(
                f"{fine} has {abs(int(gb.size) - int(ga.size))} steps that {coarse} lacks: "
                f"compared on {coarse}'s {grid.size} steps"
            )
        else:
            resampled = True
            notes.append(
                f"step grids differ (A: {_span_text(sa)}; B: {_span_text(sb)}): {fine} linearly "
                f"interpolated onto {coarse}'s steps {_fmt(grid[0])}..{_fmt(grid[-1])}"
            )
    if sa[-1] != sb[-1] or sa[0] != sb[0]:
        notes.append(
            f"ranges differ (A {_fmt(sa[0])}..{_fmt(sa[-1])}, B {_fmt(sb[0])}..{_fmt(sb[-1])}): "
            f"compared on {_fmt(lo)}..{_fmt(hi)} only"
        )
    return _Aligned(
        np.asarray(grid),
        np.asarray(va, dtype=np.float64),
        np.asarray(vb, dtype=np.float64),
        notes,
        resampled,
        runs_on=_runs_on(sa, sb, float(hi), rescaled=scale is not None),
    )


def noise_level(values: np.ndarray) -> float:
    """Robust step-to-step noise (a standard deviation) of one curve.

    Median absolute *second* difference, scaled for Gaussian noise: unlike first differences
    it ignores a steady trend (a loss falling 0.01 per step is not noise), and the median
    ignores the few large jumps (a learning-rate drop, the point where two curves split).
    Falls back to first differences for curves of 2-3 points.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.size >= 4:
        d2 = v[2:] - 2.0 * v[1:-1] + v[:-2]
        return float(np.median(np.abs(d2)) / (0.6745 * math.sqrt(6.0)))
    if v.size >= 2:
        return float(np.median(np.abs(np.diff(v))) / (0.6745 * math.sqrt(2.0)))
    return 0.0


def divergence_index(
    va: np.ndarray, vb: np.ndarray, *, k: float = DEFAULT_K, min_run: int = 2
) -> int | None:
    """First index from which the curves stay apart to the end, beyond their own noise.

    Two kinds of evidence. The first, when it holds on at least `SAME_SIDE_POINTS` points,
    gives the step (it is exact where the gap is clear); on a shorter tail the second's start
    wins when it is earlier (well separated noisy curves whose noise keeps the first below its
    threshold until the last points):

    - every point apart: |a - b| stays above k*(noise_a + noise_b) + eps to the end (smooth
      curves; the step found is where the gap becomes larger than the noise);
    - one side every time (`_same_side_start`): b - a keeps one sign to the end, on enough
      effectively independent points that chance cannot explain it, with a mean gap k standard
      errors from zero (noisy curves whose point-to-point noise is as large as the gap, yet that
      never cross: two seeds of one model cross again and again).

    None when the curves are together at the end, or apart only on the last point (a single
    outlier is not a divergence; `min_run` points are needed, so curves with one common point
    never "separate"). eps is relative to the values' magnitude so float32 rounding of
    identical curves never counts as apart.
    """
    n = va.size
    if n < max(min_run, 2):
        return None
    scale = float(max(np.max(np.abs(va)), np.max(np.abs(vb))))
    eps = 1e-6 * scale + 1e-12
    threshold = k * (noise_level(va) + noise_level(vb)) + eps
    d = vb - va
    apart = np.abs(d) > threshold
    starts = []
    if apart[-1]:
        together = np.flatnonzero(~apart)
        start = int(together[-1]) + 1 if together.size else 0
        if n - start >= max(min_run, SAME_SIDE_POINTS):
            return start
        if n - start >= min_run:
            starts.append(start)
    side = _same_side_start(d, eps, k)
    if side is not None:
        starts.append(side)
    return min(starts, default=None)


# Same-side evidence needs this many effectively independent points: for independent noise
# the chance that the last m differences share one sign is 2**(1 - m) (0.05% for 12).
SAME_SIDE_POINTS = 12


def _same_side_start(d: np.ndarray, eps: float, k: float) -> int | None:
    """Start of the tail on which b - a keeps one sign (|b - a| > eps), when that tail is
    evidence of a real gap: at least `SAME_SIDE_POINTS` effective points (the tail's length
    shrunk by the lag-1 autocorrelation of its own fluctuations, so a slow wander of two
    smooth curves does not count as many independent draws) and a mean gap more than k
    standard errors from zero. None otherwise."""
    side = np.sign(d) * (np.abs(d) > eps)
    if side[-1] == 0:
        return None
    other = np.flatnonzero(side != side[-1])
    start = int(other[-1]) + 1 if other.size else 0
    tail = d[start:]
    m = tail.size
    if m < SAME_SIDE_POINTS:
        return None
    resid = tail - tail.mean()
    var = float(np.mean(resid * resid))
    rho = float(np.mean(resid[1:] * resid[:-1]) / var) if var > 0 else 0.0
    rho = min(max(rho, 0.0), 0.999)
    effective = m * (1.0 - rho) / (1.0 + rho)
    if effective < SAME_SIDE_POINTS:
        return None
    if abs(float(tail.mean())) <= k * math.sqrt(var / effective):
        return None
    return start


def _num(x: Any) -> float | None:
    """JSON-safe float: NaN/inf/None -> None."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def step_value(x: Any) -> int | float | None:
    if x is None:
        return None
    x = float(x)
    return int(x) if x.is_integer() else round(x, 6)


def downsample_indices(steps: np.ndarray, series: list[np.ndarray], buckets: int) -> np.ndarray:
    """Sorted indices of the points to draw: first, last, and per step bucket the argmin and
    argmax of every series (at most 2 * len(series) * buckets + 2; fewer points are all kept).
    `steps` is ascending; all arrays have the same length. Only real points are kept, so every
    spike and dip stays visible and every value drawn is a logged one."""
    n = int(steps.size)
    if n <= 2 * len(series) * buckets + 2:
        return np.arange(n)
    gaps = np.diff(steps)
    if (gaps == gaps[0]).all() and all(np.isfinite(v).all() for v in series):
        return _even_extremes(n, series, buckets)
    lo, hi = float(steps[0]), float(steps[-1])
    span = hi - lo
    if span > 0:
        bucket = np.minimum(((steps - lo) / span * buckets).astype(np.int64), buckets - 1)
    else:
        bucket = np.arange(n) * buckets // n
    # steps ascend, so each bucket is one run of indices: O(n) per-run extremes, no sort
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    counts = np.diff(np.r_[starts, n])
    keep = [np.array([0, n - 1])]
    for values in series:
        for extreme in (np.minimum, np.maximum):
            per_bucket = np.repeat(extreme.reduceat(values, starts), counts)
            hits = np.flatnonzero(values == per_bucket)  # NaN never hits: skipped
            first = np.searchsorted(hits, starts)  # the first hit at or after each run start
            keep.append(hits[first[first < hits.size]])
    return np.unique(np.concatenate(keep))


def _even_extremes(n: int, series: list[np.ndarray], buckets: int) -> np.ndarray:
    """`downsample_indices` for evenly spaced steps (nearly every log): the step buckets are
    runs of equal length, so each series is one (buckets, length) matrix and its extremes are
    two argmin/argmax calls (5-10x faster than per-run reductions; a sweep summarises every
    curve of every run). The last bucket is padded with the last value, which argmin/argmax
    never pick over the real one (they return the first of equal values)."""
    width = -(-n // buckets)  # points per bucket
    rows = -(-n // width)
    base = np.arange(rows) * width
    pairs = []
    for values in series:
        grid = np.empty(rows * width, dtype=values.dtype)
        grid[:n] = values
        grid[n:] = values[-1]
        grid = grid.reshape(rows, width)
        pairs.append((base + grid.argmin(axis=1), base + grid.argmax(axis=1)))
    if len(pairs) > 1:
        return np.unique(np.concatenate([[0, n - 1], *(i for pair in pairs for i in pair)]))
    lo, hi = pairs[0]  # one series: each row's two picks in order, rows in order (no sort)
    idx = np.empty(2 * rows + 2, dtype=np.int64)
    idx[0], idx[-1] = 0, n - 1
    idx[1:-1:2], idx[2:-1:2] = np.minimum(lo, hi), np.maximum(lo, hi)
    return idx[np.r_[True, idx[1:] != idx[:-1]]]


# step buckets of each side's own curve kept for drawing (about one per pixel of a wide chart)
DRAW_BUCKETS = 1000


@dataclass(frozen=True)
class CurvePoints:
    """One side's own curve for drawing, over its whole step range (not only the common steps):
    its finite points, one per step, downsampled by `downsample_indices` to at most
    2 * DRAW_BUCKETS + 2 points with every bucket's minimum and maximum kept."""

    steps: np.ndarray  # int64, ascending
    values: np.ndarray  # float64, finite
    total: int  # finite points before downsampling

    @classmethod
    def of(cls, steps: np.ndarray, values: np.ndarray, buckets: int = DRAW_BUCKETS) -> CurvePoints:
        idx = downsample_indices(steps.astype(np.float64), [values], buckets)
        return cls(steps[idx], values[idx], int(steps.size))

    @classmethod
    def of_series(cls, series: ScalarSeries, buckets: int = DRAW_BUCKETS) -> CurvePoints:
        """A raw series' own curve for drawing: cleaned as for comparing (one point per step,
        the last record written; finite values only), then downsampled as `of`."""
        steps, values = np.asarray(series.steps), np.asarray(series.values, dtype=np.float64)
        if np.all(steps[1:] > steps[:-1]) and np.isfinite(values).all():  # clean already
            return cls.of(steps.astype(np.int64, copy=False), values, buckets)
        c = _clean(series)
        return cls.of(c.steps, c.values, buckets)


def _no_points() -> CurvePoints:
    return CurvePoints(np.zeros(0, np.int64), np.zeros(0), 0)


@dataclass
class ScalarPair:
    """The comparison of one paired curve. Statistics ignore non-finite points (counted)."""

    tag_a: str
    tag_b: str
    how: str  # "exact" | "normalised" | "forced"
    steps: int  # number of common grid steps
    first_a: float | None
    first_b: float | None
    final_a: float | None  # last finite value of A's own series (its own last step)
    final_b: float | None
    best_a: float | None  # max or min by name (see `goal`); None when the goal is unknown
    best_b: float | None
    max_abs_diff: float | None  # on the common grid
    mean_diff: float | None  # mean of (b - a) on the common grid
    final_gap: float | None  # b - a at the last common step
    diverges_at_step: int | float | None  # grid step from which the curves stay apart
    note: str
    grid_steps: np.ndarray = field(repr=False)
    values_a: np.ndarray = field(repr=False)
    values_b: np.ndarray = field(repr=False)
    goal: str | None = None  # "max" | "min" | None
    final_step_a: int | None = None
    final_step_b: int | None = None
    nonfinite_a: int = 0
    nonfinite_b: int = 0
    duplicates_a: int = 0
    duplicates_b: int = 0
    resampled: bool = False
    role_a: str = "train"  # `curve_role` of each key
    role_b: str = "train"
    apart_by: float | None = None  # smallest |b - a| from `diverges_at_step` on (the evidence)
    # the sides ("A", "B", "AB") whose steps go on past the common ones ("": both runs end on
    # the last common step, on one scale, so it is each run's own end)
    runs_on: str = ""
    # each side's own curve over its own steps, downsampled (the HTML charts draw these)
    points_a: CurvePoints = field(default_factory=_no_points, repr=False)
    points_b: CurvePoints = field(default_factory=_no_points, repr=False)

    @property
    def role(self) -> str:
        """The pair's role: the sides' common one, "validation/test" when they differ."""
        if self.role_a == self.role_b:
            return self.role_a
        return "/".join(r for r in ROLES if r in (self.role_a, self.role_b))

    @property
    def name(self) -> str:
        """What the pair measures in words: "test accuracy", "train loss", "epoch counter"."""
        return curve_name(self.role, parse_tag(self.tag_a).metric)

    @property
    def final_diff(self) -> float | None:
        """final_b - final_a: each run's own last value (their last steps may differ)."""
        if self.final_a is None or self.final_b is None:
            return None
        return self.final_b - self.final_a

    def to_dict(self) -> dict[str, Any]:
        """The report.md keys (tag_a, tag_b, steps, final_a, final_b, max_abs_diff,
        diverges_at_step) plus extras; JSON-safe (NaN -> null, numpy -> Python)."""
        return {
            "tag_a": self.tag_a,
            "tag_b": self.tag_b,
            "steps": int(self.steps),
            "final_a": _num(self.final_a),
            "final_b": _num(self.final_b),
            "max_abs_diff": _num(self.max_abs_diff),
            "diverges_at_step": step_value(self.diverges_at_step),
            "how": self.how,
            "first_a": _num(self.first_a),
            "first_b": _num(self.first_b),
            "best_a": _num(self.best_a),
            "best_b": _num(self.best_b),
            "goal": self.goal,
            "mean_diff": _num(self.mean_diff),
            "final_gap": _num(self.final_gap),
            "final_step_a": self.final_step_a,
            "final_step_b": self.final_step_b,
            "nonfinite_a": int(self.nonfinite_a),
            "nonfinite_b": int(self.nonfinite_b),
            "duplicates_a": int(self.duplicates_a),
            "duplicates_b": int(self.duplicates_b),
            "resampled": bool(self.resampled),
            "note": self.note,
            "role": self.role,
            "role_a": self.role_a,
            "role_b": self.role_b,
            "apart_by": _num(self.apart_by),
            "runs_on": self.runs_on,
        }


def _removed_note(side: str, c: _Clean) -> list[str]:
    notes = []
    if c.duplicates:
        notes.append(
            f"{side}: {c.duplicates} duplicate steps (kept the last value written per step)"
        )
    if c.nan or c.inf:
        notes.append(
            f"{side}: {c.nan + c.inf} non-finite values ({c.nan} NaN, {c.inf} inf; first at step "
            f"{c.first_nonfinite_step}) ignored"
        )
    return notes


def compare_series(
    a: ScalarSeries,
    b: ScalarSeries,
    *,
    tag_a: str | None = None,
    tag_b: str | None = None,
    how: str = "exact",
    note: str = "",
    k: float = DEFAULT_K,
) -> ScalarPair:
    """Compare two curves: align on a common step grid, then summarise in O(N) with numpy."""
    tag_a = tag_a if tag_a is not None else a.tag
    tag_b = tag_b if tag_b is not None else b.tag
    na, nb = parse_tag(tag_a), parse_tag(tag_b)
    goal = na.goal or nb.goal
    ca, cb = _clean(a), _clean(b)
    al = _align(ca, cb, na.gran, nb.gran)
    notes = [note] if note else []
    notes += _removed_note("A", ca) + _removed_note("B", cb) + al.notes
    if ca.steps.size == 0 or cb.steps.size == 0:
        notes.append(f"{'A' if ca.steps.size == 0 else 'B'} has no finite values")

    def best(c: _Clean) -> float | None:
        if c.values.size == 0 or goal is None:
            return None
        return float(c.values.max() if goal == "max" else c.values.min())

    def end(c: _Clean, i: int) -> float | None:
        return float(c.values[i]) if c.values.size else None

    n = int(al.grid.size)
    diff = al.vb - al.va
    div = divergence_index(al.va, al.vb, k=k) if n else None
    return ScalarPair(
        tag_a=tag_a,
        tag_b=tag_b,
        how=how,
        steps=n,
        first_a=end(ca, 0),
        first_b=end(cb, 0),
        final_a=end(ca, -1),
        final_b=end(cb, -1),
        best_a=best(ca),
        best_b=best(cb),
        max_abs_diff=float(np.max(np.abs(diff))) if n else None,
        mean_diff=float(np.mean(diff)) if n else None,
        final_gap=float(diff[-1]) if n else None,
        diverges_at_step=(al.grid[div].item() if div is not None else None),
        note="; ".join(notes),
        grid_steps=al.grid,
        values_a=al.va,
        values_b=al.vb,
        goal=goal,
        final_step_a=int(ca.steps[-1]) if ca.steps.size else None,
        final_step_b=int(cb.steps[-1]) if cb.steps.size else None,
        nonfinite_a=ca.nan + ca.inf,
        nonfinite_b=cb.nan + cb.inf,
        duplicates_a=ca.duplicates,
        duplicates_b=cb.duplicates,
        resampled=al.resampled,
        role_a=curve_role(tag_a),
        role_b=curve_role(tag_b),
        apart_by=float(np.min(np.abs(diff[div:]))) if div is not None else None,
        runs_on=al.runs_on,
        points_a=CurvePoints.of(ca.steps, ca.values),
        points_b=CurvePoints.of(cb.steps, cb.values),
    )
