"""Detectors that recognise what ops *mean*, and the registry that runs them.

Every detector is a module with:
    NAME: str
    detect(graph: nx.MultiDiGraph, hints: Hints) -> dict   # JSON-able facts about ONE graph
    compare(facts_a: dict, facts_b: dict, ctx: Context) -> list[Finding]
Adding a detector = writing the module and listing it in `DETECTORS` below.
"""

from __future__ import annotations

import importlib
from typing import Any

import networkx as nx

from tbdiff.findings import _trace
from tbdiff.findings.base import SEVERITIES, Context, FeedSpec, Finding, Hints, rank

# Order only matters for `inspect` output; findings are ranked by severity and score.
_DETECTOR_MODULES = (
    "dropout",
    "learning_phase",
    "sample_weights",
    "metrics",
    "optimizer",
    "layers",
    "init",
    "loss",
    "regularization",
    "naming",
)


def _load(names: tuple[str, ...]) -> list[Any]:
    mods = []
    for name in names:
        try:
            mods.append(importlib.import_module(f"tbdiff.findings.{name}"))
        except ModuleNotFoundError as exc:  # a detector not written yet must not break the rest
            if exc.name != f"tbdiff.findings.{name}":
                raise
    return mods


DETECTORS = _load(_DETECTOR_MODULES)


def analyse(graph: nx.MultiDiGraph, hints: Hints | None = None) -> dict[str, dict]:
    """Facts every detector finds in one graph, keyed by detector name (powers `inspect`)."""
    hints = hints or Hints()
    return {mod.NAME: mod.detect(graph, hints) for mod in DETECTORS}


def compare_graphs(
    graph_a: nx.MultiDiGraph,
    graph_b: nx.MultiDiGraph,
    alignment: Any,
    hints_a: Hints | None = None,
    hints_b: Hints | None = None,
) -> list[Finding]:
    """All findings between two graphs, most likely cause of a behaviour gap first."""
    ctx = Context(graph_a, graph_b, alignment, hints_a or Hints(), hints_b or Hints())
    facts_a = analyse(graph_a, ctx.hints_a)
    facts_b = analyse(graph_b, ctx.hints_b)
    found: list[Finding] = []
    for mod in DETECTORS:
        found.extend(mod.compare(facts_a[mod.NAME], facts_b[mod.NAME], ctx))
    return rank(found)


def placeholders(graph: nx.MultiDiGraph) -> list[str]:
    """Names of the graph's placeholders (what `--feed NAME=VALUE` can name)."""
    return sorted(n for n, d in graph.nodes(data=True) if d.get("op") in _trace.PLACEHOLDERS)


def feed_specs(graph: nx.MultiDiGraph, hints: Hints | None = None) -> list[FeedSpec]:
    """What each detector knows a fed placeholder means (a detector may define `feed_specs`)."""
    hints = hints or Hints()
    return [
        s for mod in DETECTORS if hasattr(mod, "feed_specs") for s in mod.feed_specs(graph, hints)
    ]


__all__ = [
    "DETECTORS",
    "SEVERITIES",
    "Context",
    "FeedSpec",
    "Finding",
    "Hints",
    "analyse",
    "compare_graphs",
    "feed_specs",
    "placeholders",
    "rank",
]
