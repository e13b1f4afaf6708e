"""The Finding type and the small protocol every detector module follows.

A detector recognises one concept (dropout, optimizer, ...) in *one* graph — so the same
code powers `tbdiff inspect` — and then compares the facts found in two graphs. Keeping the
two halves separate means a detector never needs to know how the other graph was built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx

SEVERITIES = ("critical", "warning", "benign", "info")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}


@dataclass
class Finding:
    """One explained difference; `to_dict` gives exactly the report contract's keys."""

    id: str
    severity: str
    title: str
    detail: str
    a: dict[str, Any] | None = None
    b: dict[str, Any] | None = None
    nodes_a: list[str] = field(default_factory=list)
    nodes_b: list[str] = field(default_factory=list)
    # within a severity: how much this can explain a behaviour gap (higher first)
    score: float = 0.0

    def __post_init__(self) -> None:
        if self.severity not in SEVERITY_RANK:
            raise ValueError(f"unknown severity {self.severity!r}")

    @property
    def family(self) -> str:
        return self.id.split(".", 1)[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "severity": self.severity,
            "title": self.title,
            "detail": self.detail,
            "a": self.a,
            "b": self.b,
            "nodes_a": list(self.nodes_a),
            "nodes_b": list(self.nodes_b),
        }


@dataclass
class Hints:
    """What we know about one run besides its graph: recorded hparams and user --feed values."""

    hparams: dict[str, Any] = field(default_factory=dict)
    feeds: dict[str, float] = field(default_factory=dict)

    def fed_value(self, placeholder: str) -> tuple[float | None, str | None]:
        """Value fed to `placeholder` at run time and where it came from ('--feed' or 'hparams')."""
        for name in (placeholder, placeholder.split(":")[0]):
            if name in self.feeds:
                return float(self.feeds[name]), "--feed"
        for key in (f"feed/{placeholder}", f"feed/{placeholder.split(':')[0]}"):
            if key in self.hparams:
                try:
                    return float(self.hparams[key]), "hparams"
                except (TypeError, ValueError):
                    return None, None
        return None, None


@dataclass(frozen=True)
class FeedSpec:
    """What the value fed to a placeholder means to a detector, and the range it must lie in
    (checked against `--feed` before any comparison)."""

    placeholder: str
    meaning: str  # e.g. "the keep_prob of dropout Dropout1"
    low: float
    high: float


@dataclass
class Context:
    """Everything a detector's `compare` may look at besides the two fact sets."""

    graph_a: nx.MultiDiGraph
    graph_b: nx.MultiDiGraph
    alignment: Any  # tbdiff.align.Alignment (Any to keep findings importable on its own)
    hints_a: Hints
    hints_b: Hints


def rank(findings: list[Finding]) -> list[Finding]:
    """Most likely cause first: severity, then score (desc), then id for a stable order."""
    return sorted(findings, key=lambda f: (SEVERITY_RANK[f.severity], -f.score, f.id))
