"""The Report data model and the JSON contract (shared/spec/report.md).

The report is plain data: `render.py` draws it with rich, `to_json` serialises it, and
`tbdiff.verdict` writes its verdict (once, so every output says the same thing).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tbdiff.diagnostics import LogWarning
from tbdiff.findings.base import SEVERITY_RANK, Finding

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import RenderableType

    from tbdiff.align import LayerPair
    from tbdiff.scalars import ScalarComparison

SCHEMA = "tbdiff.report/1"


@dataclass
class RunRef:
    """Which run of which path a side of the report describes."""

    path: str
    run: str
    graph_source: str | None = None
    nodes: int = 0
    functions: int = 0
    label: str = ""  # short name used in sentences ("tensorflow", "keras")

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "run": self.run,
            "graph_source": self.graph_source,
            "nodes": self.nodes,
            "functions": self.functions,
            "label": self.label,
        }


@dataclass
class HparamDiff:
    key: str
    a: Any
    b: Any


@dataclass
class Report:
    """Everything one comparison found; sections are None when that part was not compared."""

    a: RunRef
    b: RunRef
    graph_counts: dict[str, int] | None = None
    findings: list[Finding] = field(default_factory=list)
    scalars: ScalarComparison | None = None
    layers: list[LayerPair] = field(default_factory=list)
    hparams: list[HparamDiff] = field(default_factory=list)
    # (status, node in A, node in B, what changed) for every node difference, filled with --all
    node_diffs: list[tuple[str, str, str, str]] = field(default_factory=list)
    warnings: list[LogWarning] = field(default_factory=list)  # formatted by renderers only
    verdict: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. train-and-compare accuracies
    # what was compared: "compare" (graphs + scalars), "graphs" or "scalars" (the commands)
    scope: str = "compare"
    # the two runs' models were described and compared (False: a side had no graph and nothing
    # else to describe it, so the findings could not look at the models)
    models_compared: bool = True

    @property
    def worst_severity(self) -> str | None:
        if not self.findings:
            return None
        return min((f.severity for f in self.findings), key=SEVERITY_RANK.__getitem__)

    @property
    def exit_code(self) -> int:
        """The command's exit code, like diff(1): 1 when a critical or warning finding exists,
        else 0; for the scalars-only comparison (`tbdiff scalars`, `compare(graphs=False)`),
        and for a comparison whose models could not be compared, 1 when a paired curve
        separates for good. (2, bad input, is an error, never a report.)"""
        return self._exit_rule()[0]

    @property
    def exit_reason(self) -> str:
        """Why `exit_code` is what it is, in words, from the same rule ("a critical or warning
        finding", "no paired curve separates for good", ...)."""
        return self._exit_rule()[1]

    def _exit_rule(self) -> tuple[int, str]:
        if self.scope == "scalars":
            return self._curves_rule()
        if self.worst_severity in ("critical", "warning"):
            return 1, "a critical or warning finding"
        if self.scope == "compare" and not self.models_compared:
            code, why = self._curves_rule()
            return code, f"the models could not be compared, and {why}"
        return 0, "no critical or warning finding"

    def _curves_rule(self) -> tuple[int, str]:
        pairs = self.scalars.pairs if self.scalars is not None else []
        apart = [p for p in pairs if p.diverges_at_step is not None]
        if apart:
            return 1, f"{len(apart)} of {len(pairs)} paired curve(s) separate for good"
        return 0, "no paired curve separates for good"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema": SCHEMA,
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
            "graph": dict(self.graph_counts) if self.graph_counts is not None else None,
            "findings": [f.to_dict() for f in self.findings],
        }
        if self.scalars is not None:
            out["scalars"] = self.scalars.to_list()
            out["unpaired_scalars"] = {
                "a": list(self.scalars.unpaired_a),
                "b": list(self.scalars.unpaired_b),
            }
        out["layers"] = [_layer_dict(lp) for lp in self.layers]
        out["hparams"] = [{"key": h.key, "a": h.a, "b": h.b} for h in self.hparams]
        out["verdict"] = self.verdict
        out["exit_code"] = self.exit_code
        if self.node_diffs:
            out["node_diffs"] = [
                {"status": s, "a": a, "b": b, "detail": d} for s, a, b, d in self.node_diffs
            ]
        out.update(self.extra)
        out["warnings"] = [str(w) for w in self.warnings]  # the contract's [str]
        out["warning_records"] = [w.to_dict() for w in self.warnings]
        return out

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(_json_safe(self.to_dict()), indent=indent, allow_nan=False)

    # ---- the Python API's views (tbdiff.display); the renderers own the layouts

    def to_html(self) -> str:
        """The self-contained HTML report (what `--html FILE` writes)."""
        from tbdiff.html import render_html

        return render_html(self)

    def _repr_html_(self) -> str:
        """Jupyter: the HTML report in a sandboxed iframe (its styles and scripts stay in it)."""
        from tbdiff.display import notebook_html

        return notebook_html(self)

    def __repr__(self) -> str:
        """One line (the dataclass's own repr would print every section, kilobytes)."""
        worst = self.worst_severity or "none"
        return (
            f"<tbdiff.Report {self.a.label or self.a.run!r} vs {self.b.label or self.b.run!r}: "
            f"{len(self.findings)} finding(s), worst {worst}, exit {self.exit_code}>"
        )

    def __rich__(self) -> RenderableType:
        """`rich.print(report)`: the terminal report, at the console's width and colours."""
        from tbdiff.display import TerminalReport

        return TerminalReport(self)

    def scalars_frame(self) -> pd.DataFrame:
        """The paired curves as a pandas DataFrame, one row per pair (the JSON `scalars`)."""
        from tbdiff.frames import require_pandas

        pd = require_pandas("Report.scalars_frame")
        rows = self.scalars.to_list() if self.scalars is not None else []
        return pd.DataFrame(rows)


def _layer_dict(lp: LayerPair) -> dict[str, Any]:
    return {
        "a": lp.a,
        "b": lp.b,
        "kind": lp.kind,
        "shape_a": _json_safe(lp.shape_a),
        "shape_b": _json_safe(lp.shape_b),
        "status": lp.status,
    }


def _json_safe(obj: Any) -> Any:
    """Recursively turn numpy values, tuples and non-finite floats into strict-JSON values."""
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if hasattr(obj, "tolist") and not isinstance(obj, (str, bytes)):
        return _json_safe(obj.tolist())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "replace")
    return obj


def hparam_diffs(a: dict[str, Any], b: dict[str, Any]) -> list[HparamDiff]:
    """Hyper-parameters recorded by both runs whose values differ, plus those only one recorded."""
    out = []
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key), b.get(key)
        if va != vb:
            out.append(HparamDiff(key, va, vb))
    return out
