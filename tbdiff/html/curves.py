"""Curve data for the HTML charts: each run's own curve, downsampled for drawing.

One shape (`ChartData`: a list of `Series`) for both pages, drawn by one script
(`assets/report.js`): the compare page's two runs of a scalar pair (`charts`, from
`ScalarPair.points_a` / `points_b`) and the runs page's every run of a metric
(`tbdiff.multirun.render`, from each run's `Curve.drawn`). Each run is drawn over its own steps
(a run that trains longer, or logs at other steps, shows as such). Method (stated in the page
too): a run's step range is cut into `buckets` equal step intervals (about one per pixel of a
wide chart); in each interval the points holding its minimum and maximum are kept, plus the
first and last point (`tbdiff.scalars.downsample_indices`). Only real points are kept (no
averaging), so the hover values are exact for every point drawn, and every spike and dip stays
visible. A curve with fewer points than the budget is sent whole. Smoothing happens in the browser on the points
sent, as TensorBoard smooths the points its backend sampled.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
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
class Series:
    """One run's curve in a chart: who it is, how it is coloured, and its points as JSON text."""

    id: str  # "a" / "b" on the compare page, "r<row>" on the runs page
    label: str  # its name on hover: "A · tensorflow", "run_0003 (M2)"
    total: int  # finite points logged (one per step)
    shown: int  # points sent to the page
    first_step: int | None
    last_step: int | None
    steps_json: str
    values_json: str
    css: str = ""  # a class that colours it ("a", "b"), else `color`
    color: str | None = None
    main: bool = False  # drawn thicker, on top (the runs page's baseline)

    def to_json(self) -> str:
        head = json.dumps(
            {
                "id": self.id,
                "label": self.label,
                "css": self.css,
                "color": self.color,
                "main": self.main,
            }
        )
        return head[:-1] + f',"steps":{self.steps_json},"values":{self.values_json}}}'


def series_data(points: CurvePoints, buckets: int, sid: str, label: str, **style: Any) -> Series:
    """One run's own points (`CurvePoints`, already its whole step range), downsampled to
    `buckets`; `style`: css, color, main (see `Series`)."""
    steps = np.asarray(points.steps, dtype=np.float64)
    values = np.asarray(points.values, dtype=np.float64)
    idx = downsample_indices(steps, [values], buckets) if steps.size else np.zeros(0, np.int64)
    return Series(
        id=sid,
        label=label,
        total=points.total,
        shown=int(idx.size),
        first_step=int(points.steps[0]) if steps.size else None,
        last_step=int(points.steps[-1]) if steps.size else None,
        steps_json=_numbers(steps[idx]),
        values_json=_numbers(values[idx]),
        **style,
    )


@dataclass
class ChartData:
    """One chart: each run's own points to draw, and what to mark on it. The compare page and
    the runs page send the same shape; `assets/report.js` draws both."""

    index: int
    series: list[Series]
    compared: list[int | float] | None = None  # [first, last] step the statistics cover
    diverges_at_step: Any = None
    diff: bool = False  # two runs: hover shows B - A where both logged the step
    info: dict[str, Any] = field(default_factory=dict)  # more keys for the JSON (tags ...)

    @property
    def sampled(self) -> bool:
        return any(s.shown < s.total for s in self.series)

    def to_json(self) -> str:
        head = json.dumps(
            {
                "index": self.index,
                **self.info,
                "compared": self.compared,
                "diverges_at_step": self.diverges_at_step,
                "diff": self.diff,
            }
        )
        return head[:-1] + ',"series":[' + ",".join(s.to_json() for s in self.series) + "]}"


def buckets_for(n_series: int, floor: int = MIN_BUCKETS) -> int:
    """Buckets per curve so that all curves of a page together stay near POINT_BUDGET points
    (a curve keeps at most 2 points per bucket), at least `floor`."""
    if n_series <= 0:
        return MAX_BUCKETS
    return max(floor, min(MAX_BUCKETS, POINT_BUDGET // (2 * n_series)))


def chart_data(pair: ScalarPair, index: int, buckets: int, labels: tuple[str, str]) -> ChartData:
    """Each run's own points of one pair (see the module docstring)."""
    div = pair.diverges_at_step
    grid = np.asarray(pair.grid_steps, dtype=np.float64)
    compared = [_step(float(grid[0])), _step(float(grid[-1]))] if grid.size else None
    a = series_data(pair.points_a, buckets, "a", f"A \u00b7 {labels[0]}", css="a")
    b = series_data(pair.points_b, buckets, "b", f"B \u00b7 {labels[1]}", css="b")
    return ChartData(
        index=index,
        series=[a, b],
        compared=compared,
        diverges_at_step=None if div is None else _step(float(div)),
        diff=True,
        info={"tag_a": pair.tag_a, "tag_b": pair.tag_b, "common": int(pair.steps)},
    )


def charts(
    scalars: ScalarComparison | None, labels: tuple[str, str] = ("A", "B")
) -> list[ChartData]:
    """Chart data for every paired curve with a finite point on either side, in report order;
    `labels` name the runs on hover."""
    if scalars is None:
        return []
    pairs = [(i, p) for i, p in enumerate(scalars.pairs) if p.points_a.total or p.points_b.total]
    buckets = buckets_for(2 * len(pairs))
    return [chart_data(p, i, buckets, labels) for i, p in pairs]
