"""Curve data for the HTML charts: each run's own curve of a scalar pair, downsampled for drawing.

Each side is drawn over its own steps (a run that trains longer, or logs at other steps, shows
as such), from `ScalarPair.points_a` / `points_b`. Method (stated in the page too): a side's
step range is cut into `buckets` equal step intervals (about one per pixel of a wide chart); in
each interval the points holding its minimum and maximum are kept, plus the first and last
point (`tbdiff.scalars.downsample_indices`). Only real points are kept (no averaging), so the
hover values are exact for every point drawn, and every spike and dip stays visible. A curve
with fewer points than the budget is sent whole. Smoothing happens in the browser on the points
sent, as TensorBoard smooths the points its backend sampled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tbdiff.scalars import downsample_indices

if TYPE_CHECKING:
    from tbdiff.scalars import CurvePoints, ScalarComparison, ScalarPair

# about one bucket per pixel of a full-width chart
MAX_BUCKETS = 1000
# all charts of one page together send at most about this many points (keeps the file small)
POINT_BUDGET = 100_000
MIN_BUCKETS = 200


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
class Side:
    """One run's points of a chart, as JSON text, and how many it logged."""

    total: int  # finite points logged (one per step)
    shown: int  # points sent to the page
    first_step: int | None
    last_step: int | None
    steps_json: str
    values_json: str

    def to_json(self) -> str:
        return f'{{"steps":{self.steps_json},"values":{self.values_json}}}'


def side_data(points: CurvePoints, buckets: int) -> Side:
    steps = np.asarray(points.steps, dtype=np.float64)
    values = np.asarray(points.values, dtype=np.float64)
    idx = downsample_indices(steps, [values], buckets) if steps.size else np.zeros(0, np.int64)
    return Side(
        total=points.total,
        shown=int(idx.size),
        first_step=int(points.steps[0]) if steps.size else None,
        last_step=int(points.steps[-1]) if steps.size else None,
        steps_json=_numbers(steps[idx]),
        values_json=_numbers(values[idx]),
    )


@dataclass
class ChartData:
    """One chart: the pair's identity and each run's own points to draw."""

    index: int
    tag_a: str
    tag_b: str
    a: Side
    b: Side
    common: int  # common steps compared
    compared: list[int | float] | None  # [first, last] common step: what the statistics cover
    diverges_at_step: Any

    @property
    def sampled(self) -> bool:
        return self.a.shown < self.a.total or self.b.shown < self.b.total

    def to_json(self) -> str:
        import json

        head = json.dumps(
            {
                "index": self.index,
                "tag_a": self.tag_a,
                "tag_b": self.tag_b,
                "common": self.common,
                "compared": self.compared,
                "diverges_at_step": self.diverges_at_step,
            }
        )
        return head[:-1] + f',"a":{self.a.to_json()},"b":{self.b.to_json()}' + "}"


def buckets_for(n_charts: int) -> int:
    """Buckets per chart so that all charts together stay near POINT_BUDGET points (a side
    keeps at most 2 points per bucket, so a chart at most 4)."""
    if n_charts <= 0:
        return MAX_BUCKETS
    return max(MIN_BUCKETS, min(MAX_BUCKETS, POINT_BUDGET // (4 * n_charts)))


def chart_data(pair: ScalarPair, index: int, buckets: int) -> ChartData:
    """Each run's own points of one pair (see the module docstring)."""
    div = pair.diverges_at_step
    grid = np.asarray(pair.grid_steps, dtype=np.float64)
    compared = [_step(float(grid[0])), _step(float(grid[-1]))] if grid.size else None
    return ChartData(
        index=index,
        tag_a=pair.tag_a,
        tag_b=pair.tag_b,
        a=side_data(pair.points_a, buckets),
        b=side_data(pair.points_b, buckets),
        common=int(pair.steps),
        compared=compared,
        diverges_at_step=None if div is None else _step(float(div)),
    )


def charts(scalars: ScalarComparison | None) -> list[ChartData]:
    """Chart data for every paired curve with a finite point on either side, in report order."""
    if scalars is None:
        return []
    pairs = [(i, p) for i, p in enumerate(scalars.pairs) if p.points_a.total or p.points_b.total]
    buckets = buckets_for(len(pairs))
    return [chart_data(p, i, buckets) for i, p in pairs]
