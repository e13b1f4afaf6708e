"""Pair the scalar curves of two runs and say where and how much they differ.

`tags`: what a scalar key means once naming conventions are peeled off (`parse_tag`: metric,
family, context, granularity), the one rule for a curve's role (`curve_role`: train, validation,
test, summary or counter) and goal (`metric_goal`), whether it is a loss (`is_loss`), and the
order curves are shown in (`importance_key`).

`pairing`: which curve of A goes with which of B (`pair_tags`), from strict to loose (forced,
exact, normalised within a family, normalised across train/unspecified or validation/test);
every `TagPair` records how it was made, so a loose pair is never mistaken for an exact one.

`series`: one pair of curves compared (`compare_series` -> `ScalarPair`): cleaned, aligned on a
common step grid (rescaled or interpolated when the grids differ), summarised with numpy only,
so millions of points per curve are fine; `divergence_index` over `noise_level` says from which
step the curves stay apart, `downsample_indices`/`CurvePoints` keep each side's curve for drawing.

`gap`: the words for where two runs stand at the end of one curve (`curve_gap` -> `CurveGap`)
and its sign (`better_side`).

This module: the whole comparison (`compare_scalars` -> `ScalarComparison`) over the scalars of
two sides, keyed `run/tag` by `collect`, plus the public names of the modules above.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tbdiff.diagnostics import LogWarning
from tbdiff.scalars.gap import CurveGap, better_side, curve_gap
from tbdiff.scalars.pairing import TagPair, pair_tags
from tbdiff.scalars.series import (
    DEFAULT_K,
    DRAW_BUCKETS,
    CurvePoints,
    ScalarPair,
    compare_series,
    divergence_index,
    downsample_indices,
    noise_level,
)
from tbdiff.scalars.tags import (
    CURVE_ROLES,
    ROLES,
    TagName,
    curve_name,
    curve_role,
    importance_key,
    is_loss,
    metric_goal,
    parse_tag,
)

if TYPE_CHECKING:  # events is imported for types only: any object with these fields works
    from tbdiff.events import RunData, ScalarSeries

__all__ = [
    "CURVE_ROLES",
    "DEFAULT_K",
    "DRAW_BUCKETS",
    "ROLES",
    "CurveGap",
    "CurvePoints",
    "ScalarComparison",
    "ScalarPair",
    "TagName",
    "TagPair",
    "better_side",
    "collect",
    "compare_scalars",
    "compare_series",
    "curve_gap",
    "curve_name",
    "curve_role",
    "divergence_index",
    "downsample_indices",
    "importance_key",
    "is_loss",
    "metric_goal",
    "noise_level",
    "pair_tags",
    "parse_tag",
]


@dataclass
class ScalarComparison:
    """All paired curves (most important first) and what could not be paired."""

    pairs: list[ScalarPair]
    unpaired_a: list[str]
    unpaired_b: list[str]
    warnings: list[LogWarning] = field(default_factory=list)

    def to_list(self) -> list[dict[str, Any]]:
        """The report's "scalars" array."""
        return [p.to_dict() for p in self.pairs]

    def to_dict(self) -> dict[str, Any]:
        return {
            "pairs": self.to_list(),
            "unpaired_a": list(self.unpaired_a),
            "unpaired_b": list(self.unpaired_b),
            "warnings": [str(w) for w in self.warnings],
        }


def collect(runs: Iterable[RunData]) -> dict[str, ScalarSeries]:
    """Key every scalar of every run as `run/tag` (just `tag` for the run ".")."""
    out: dict[str, ScalarSeries] = {}
    for run in runs:
        name = str(run.name).replace("\\", "/").strip("/")
        for tag, series in run.scalars.items():
            out[tag if name in ("", ".") else f"{name}/{tag}"] = series
    return out


def _as_mapping(runs: Sequence[RunData] | Mapping[str, ScalarSeries]) -> dict[str, ScalarSeries]:
    if isinstance(runs, Mapping):
        return dict(runs)
    return collect(runs)


def compare_scalars(
    runs_a: Sequence[RunData] | Mapping[str, ScalarSeries],
    runs_b: Sequence[RunData] | Mapping[str, ScalarSeries],
    forced: Sequence[tuple[str, str]] = (),
    *,
    k: float = DEFAULT_K,
) -> ScalarComparison:
    """Pair the scalar tags of A and B and compare every pair.

    `forced` pairs (A key, B key) win over automatic pairing; a key may also be given without
    its run prefix when that is unambiguous. Raises TbdiffError for a forced key that does not
    exist; everything else (empty runs, NaN, disjoint steps) yields partial results + notes.
    """
    sa, sb = _as_mapping(runs_a), _as_mapping(runs_b)
    warnings: list[LogWarning] = []
    if not sa:
        warnings.append(LogWarning("scalars.compare", "run A has no scalar summaries"))
    if not sb:
        warnings.append(LogWarning("scalars.compare", "run B has no scalar summaries"))
    tag_pairs, unpaired_a, unpaired_b = pair_tags(sa, sb, forced)
    pairs = [
        compare_series(sa[p.a], sb[p.b], tag_a=p.a, tag_b=p.b, how=p.how, note=p.note, k=k)
        for p in tag_pairs
    ]
    for p in pairs:
        if p.steps == 0:
            warnings.append(
                LogWarning(
                    "scalars.compare", f"scalars {p.tag_a} (A) and {p.tag_b} (B): no common steps"
                )
            )
    return ScalarComparison(
        pairs=pairs, unpaired_a=unpaired_a, unpaired_b=unpaired_b, warnings=warnings
    )
