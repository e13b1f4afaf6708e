"""Curve data for the HTML charts: the aligned points of each scalar pair, downsampled for drawing.

Method (stated in the page too): the common step range of a pair is cut into `buckets` equal
step intervals (about one per pixel of a wide chart); in each interval the points holding the
minimum and the maximum of A and of B are kept, plus the first and last point. Only real
points are kept (no averaging), so the hover values are exact for every point drawn, and every
spike and dip of either curve stays visible. A curve with fewer points than the budget is sent
whole. Smoothing happens in the browser on the points sent, as TensorBoard smooths the points
its backend sampled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from tbdiff.scalars import ScalarComparison, ScalarPair

# about one bucket per pixel of a full-width chart
MAX_BUCKETS = 1000
# all charts of one page together send at most about this many points (keeps the file small)
POINT_BUDGET = 100_000
MIN_BUCKETS = 200


def downsample_indices(steps: np.ndarray, series: list[np.ndarray], buckets: int) -> np.ndarray:
    """Sorted indices of the points to draw: first, last, and per step bucket the argmin and
    argmax of every series. `steps` is ascending; all arrays have the same length."""
    n = int(steps.size)
    if n <= 4 * buckets + 2:
        return np.arange(n)
    lo, hi = float(steps[0]), float(steps[-1])
    span = hi - lo
    if span > 0:
        bucket = np.minimum(((steps - lo) / span * buckets).astype(np.int64), buckets - 1)
    else:
        bucket = np.arange(n) * buckets // n
    keep = [np.array([0, n - 1])]
    for values in series:
        # sort by (bucket, value): the first index of each bucket run is its argmin, the last
        # its argmax; ties keep step order because lexsort is stable
        order = np.lexsort((values, bucket))
        b_sorted = bucket[order]
        starts = np.flatnonzero(np.r_[True, b_sorted[1:] != b_sorted[:-1]])
        ends = np.r_[starts[1:] - 1, n - 1]
        keep += [order[starts], order[ends]]
    return np.unique(np.concatenate(keep))


def number(x: float) -> str:
    """JSON text for one value: the shortest text that reads back to the logged float32 when
    the value is one (0.9825, not 0.9825000166893005), else Python's shortest float repr."""
    if not math.isfinite(x):
        return "null"
    if float(x).is_integer() and abs(x) < 2**53:
        return str(int(x))
    f32 = np.float32(x)
    if float(f32) == x:
        return repr(float(str(f32)))
    return repr(float(x))


def _step(x: float) -> int | float:
    return int(x) if x.is_integer() else x


def _numbers(values: np.ndarray) -> str:
    return "[" + ",".join(number(float(v)) for v in values) + "]"


@dataclass
class ChartData:
    """One chart: the pair's identity and the points to draw, as JSON text pieces."""

    index: int
    tag_a: str
    tag_b: str
    total: int  # points on the common grid
    shown: int  # points sent to the page
    steps_json: str
    a_json: str
    b_json: str
    diverges_at_step: Any

    def to_json(self) -> str:
        import json

        head = json.dumps(
            {
                "index": self.index,
                "tag_a": self.tag_a,
                "tag_b": self.tag_b,
                "total": self.total,
                "shown": self.shown,
                "diverges_at_step": self.diverges_at_step,
            }
        )
        return head[:-1] + f',"steps":{self.steps_json},"a":{self.a_json},"b":{self.b_json}' + "}"


def buckets_for(n_charts: int) -> int:
    """Buckets per chart so that all charts together stay near POINT_BUDGET points."""
    if n_charts <= 0:
        return MAX_BUCKETS
    return max(MIN_BUCKETS, min(MAX_BUCKETS, POINT_BUDGET // (4 * n_charts)))


def chart_data(pair: ScalarPair, index: int, buckets: int) -> ChartData:
    """The points of one pair on its common step grid (see the module docstring)."""
    steps = np.asarray(pair.grid_steps, dtype=np.float64)
    va = np.asarray(pair.values_a, dtype=np.float64)
    vb = np.asarray(pair.values_b, dtype=np.float64)
    idx = downsample_indices(steps, [va, vb], buckets) if steps.size else np.zeros(0, np.int64)
    div = pair.diverges_at_step
    return ChartData(
        index=index,
        tag_a=pair.tag_a,
        tag_b=pair.tag_b,
        total=int(steps.size),
        shown=int(idx.size),
        steps_json=_numbers(steps[idx]),
        a_json=_numbers(va[idx]),
        b_json=_numbers(vb[idx]),
        diverges_at_step=None if div is None else _step(float(div)),
    )


def charts(scalars: ScalarComparison | None) -> list[ChartData]:
    """Chart data for every paired curve that has common steps, in report order."""
    if scalars is None:
        return []
    pairs = [(i, p) for i, p in enumerate(scalars.pairs) if p.steps > 0]
    buckets = buckets_for(len(pairs))
    return [chart_data(p, i, buckets) for i, p in pairs]
