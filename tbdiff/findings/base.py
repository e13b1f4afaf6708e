"""The Finding type and the protocol every detector module follows.

A detector owns one concept (dropout, optimizer, ...): it compares two model descriptions
(`tbdiff.model.ModelDescription`, built once per run by the front-ends), decides severity,
writes the plain-words title/detail (a newline in the detail starts a new line in the terminal),
the `inspect` line for one run, the phrase the verdict uses when its finding comes first, the
one-line fix, the direction of the accuracy gap it predicts, and what it does to the curves
(`curve_note`, `losses_differ`). Nothing outside the detector switches on its finding ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tbdiff.align import Alignment
    from tbdiff.model.description import Source

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
    #: what the verdict says when this finding comes first; `{a}` / `{b}` stand for the runs'
    #: labels (empty: the title is used)
    verdict: str = ""
    #: the gap this difference predicts: +1 B ends better than A (higher accuracy, lower loss),
    #: -1 B worse, 0 cannot say
    predicts: int = 0
    #: a caveat about the runs' *train* curves, e.g. "measured with dropout active in {a}"
    curve_note: str = ""
    #: the runs' loss curves measure different functions because of this difference (another
    #: loss, reduction or label smoothing): their values are not comparable between the runs
    losses_differ: bool = False
    #: the change that removes the difference, one line, `{a}`/`{b}` as in `verdict`
    #: (empty: the detector cannot say which side to change or how)
    fix: str = ""

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
        } | ({"fix": labelled(self.fix, "A", "B")} if self.fix else {})


def comparable_losses(findings: Iterable[Finding]) -> bool:
    """False when a finding says the runs' loss curves measure different functions."""
    return not any(f.losses_differ for f in findings)


def labelled(template: str, label_a: str, label_b: str) -> str:
    """A detector's phrase (`verdict`, `fix`, `curve_note`) with `{a}`/`{b}` replaced by labels."""
    return template.replace("{a}", label_a).replace("{b}", label_b)


@dataclass
class Context:
    """Everything a detector's `compare` may look at besides the two descriptions."""

    alignment: Alignment | None = None


def provenance(sources_a: Iterable[Source], sources_b: Iterable[Source]) -> str:
    """ " Facts from: A Keras config; B graph." when a fact did not come from an op graph (a
    detector appends it to its detail so the finding says where each side's facts came from)."""
    la = sorted({s.label for s in sources_a})
    lb = sorted({s.label for s in sources_b})
    if set(la) | set(lb) <= {"graph"}:
        return ""
    return f" Facts from: A {', '.join(la) or '-'}; B {', '.join(lb) or '-'}."


def rank(findings: list[Finding]) -> list[Finding]:
    """Most likely cause first: severity, then score (desc), then id for a stable order."""
    return sorted(findings, key=lambda f: (SEVERITY_RANK[f.severity], -f.score, f.id))
