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

from tbdiff.findings.base import SEVERITIES, Context, Finding, Hints, rank

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


__all__ = [
    "DETECTORS",
    "SEVERITIES",
    "Context",
    "Finding",
    "Hints",
    "analyse",
    "compare_graphs",
    "rank",
]
