"""`--feed NAME=VALUE` checked against the graphs it is meant for, before any comparison.

A value fed to a placeholder that does not exist would be silently ignored, and a value outside
what the placeholder means (a keep_prob of 1.5) would produce nonsense ("drops -50%"). Both are
bad input: one line naming the placeholders that exist, or what the named one is.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from tbdiff.errors import TbdiffError
from tbdiff.findings import Hints, feed_specs, placeholders

if TYPE_CHECKING:
    import networkx as nx

_LISTED = 8


def _base(name: str) -> str:
    return name.split(":", 1)[0]


def _listing(found: dict[str, list[str]]) -> str:
    parts = []
    for letter, names in found.items():
        shown = ", ".join(names[:_LISTED]) or "none"
        more = f" ... and {len(names) - _LISTED} more" if len(names) > _LISTED else ""
        parts.append(f"{letter}: {shown}{more}")
    return "; ".join(parts)


def check_feeds(
    feeds: dict[str, float], sides: dict[str, tuple[nx.MultiDiGraph | None, Hints]]
) -> None:
    """TbdiffError unless every fed name is a placeholder of some side's graph, with a value
    its detectors accept. `sides` maps "A"/"B" to (graph or None, hints)."""
    if not feeds:
        return
    graphs = {letter: (g, h) for letter, (g, h) in sides.items() if g is not None}
    if not graphs:
        raise TbdiffError("--feed: neither side has a graph to feed")
    names = {letter: placeholders(g) for letter, (g, _h) in graphs.items()}
    for name, value in feeds.items():
        text = f"--feed {name}={value:g}"
        if not math.isfinite(value):
            raise TbdiffError(f"{text}: the value must be a finite number")
        holders = [letter for letter, found in names.items() if _base(name) in found]
        if not holders:
            raise TbdiffError(
                f"--feed {name}: no placeholder named {_base(name)!r}; placeholders in "
                + _listing(names)
            )
        for letter in holders:
            g, hints = graphs[letter]
            for spec in feed_specs(g, hints):
                if spec.placeholder == _base(name) and not spec.low <= value <= spec.high:
                    raise TbdiffError(
                        f"{text}: in {letter}, {spec.placeholder!r} is {spec.meaning}, "
                        f"which must lie in [{spec.low:g}, {spec.high:g}]"
                    )
