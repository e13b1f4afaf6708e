"""Detectors: one module per concept, comparing two model descriptions.

Every detector is a module with:
    NAME: str                                   # the concept, also the inspect line's label
    compare(a: ModelDescription, b: ModelDescription, ctx: Context) -> list[Finding]
    inspect(d: ModelDescription) -> str | None  # one plain-words line about one run
Findings carry their verdict phrase, predicted direction and curve caveats (see `base.Finding`).
Adding a detector = writing the module and listing it in `_DETECTOR_MODULES` below; a detector
that fails to import fails loudly.
"""

from __future__ import annotations

import dataclasses
import importlib
from types import ModuleType
from typing import TYPE_CHECKING

from tbdiff.findings.base import SEVERITIES, Context, Finding, rank
from tbdiff.model import RunInputs, describe

if TYPE_CHECKING:
    import networkx as nx

    from tbdiff.align import Alignment
    from tbdiff.model.description import ModelDescription

# Order is the order of `inspect` lines; findings are ranked by severity and score.
_DETECTOR_MODULES = (
    "task",
    "layers",
    "dropout",
    "learning_phase",
    "normalization",
    "optimizer",
    "lr_schedule",
    "loss",
    "metrics",
    "init",
    "regularization",
    "sample_weights",
    "graph",
    "naming",
)

DETECTORS: list[ModuleType] = [
    importlib.import_module(f"tbdiff.findings.{name}") for name in _DETECTOR_MODULES
]


def compare(
    a: ModelDescription, b: ModelDescription, alignment: Alignment | None = None
) -> list[Finding]:
    """All findings between two runs' models, most likely cause of a behaviour gap first."""
    ctx = Context(alignment)
    found: list[Finding] = []
    for mod in DETECTORS:
        found.extend(mod.compare(a, b, ctx))
    return rank(found)


def compare_graphs(
    graph_a: nx.MultiDiGraph,
    graph_b: nx.MultiDiGraph,
    alignment: Alignment | None = None,
    inputs_a: RunInputs | None = None,
    inputs_b: RunInputs | None = None,
) -> list[Finding]:
    """`compare` for two graphs (plus what else each run recorded, e.g. hparams, --feed)."""
    ia = dataclasses.replace(inputs_a or RunInputs(), graph=graph_a)
    ib = dataclasses.replace(inputs_b or RunInputs(), graph=graph_b)
    return compare(describe(ia), describe(ib), alignment)


def inspect_lines(d: ModelDescription) -> dict[str, str]:
    """One line per concept the run's description shows (what `tbdiff inspect` prints)."""
    from tbdiff.findings.summary import describe as lines

    return lines(d)


__all__ = [
    "DETECTORS",
    "SEVERITIES",
    "Context",
    "Finding",
    "RunInputs",
    "compare",
    "compare_graphs",
    "inspect_lines",
    "rank",
]
