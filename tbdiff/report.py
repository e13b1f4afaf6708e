"""The Report data model, the verdict sentence, and the JSON contract (shared/spec/report.md).

The report is plain data: `render.py` draws it with rich, `to_json` serialises it. Building the
verdict here (not in the renderer) keeps the terminal, JSON, HTML and SVG outputs saying the same
thing in the same words.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from tbdiff.diagnostics import LogWarning
from tbdiff.findings.base import SEVERITY_RANK, Finding

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
    scalars: Any = None  # tbdiff.scalars.ScalarComparison
    layers: list[Any] = field(default_factory=list)  # tbdiff.align.LayerPair
    hparams: list[HparamDiff] = field(default_factory=list)
    # (status, node in A, node in B, what changed) for every node difference, filled with --all
    node_diffs: list[tuple[str, str, str, str]] = field(default_factory=list)
    warnings: list[LogWarning] = field(default_factory=list)  # formatted by renderers only
    verdict: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. train-and-compare accuracies

    @property
    def worst_severity(self) -> str | None:
        if not self.findings:
            return None
        return min((f.severity for f in self.findings), key=SEVERITY_RANK.__getitem__)

    def exit_code(self) -> int:
        """Like diff(1): 1 when a critical or warning finding exists, else 0."""
        return 1 if self.worst_severity in ("critical", "warning") else 0

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
        out["exit_code"] = self.exit_code()
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


def _layer_dict(lp: Any) -> dict[str, Any]:
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


# ---------------------------------------------------------------------------------- verdict


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%" if abs(x * 100 - round(x * 100)) < 0.05 else f"{x * 100:.1f}%"


def _is_accuracy(tag: str) -> bool:
    t = tag.lower()
    return "acc" in t


def _held_out(tag: str) -> bool:
    t = tag.lower()
    return any(w in t for w in ("test", "val", "eval", "held"))


def _points(x: float, percent_scale: bool) -> str:
    return f"{abs(x) * 100:.1f} points" if percent_scale else f"{abs(x):.4g}"


def scalar_evidence(scalars: Any, label_a: str, label_b: str, dropout_metrics: str = "") -> str:
    """Plain words for what the curves show: who trails, from when, and the final test gap.

    `dropout_metrics` names the run whose train metrics were measured with dropout active, so
    the sentence does not present an unfair train-curve comparison as evidence on its own.
    """
    if scalars is None or not getattr(scalars, "pairs", None):
        return ""
    acc = [p for p in scalars.pairs if _is_accuracy(p.tag_a) and p.steps > 0]
    parts: list[str] = []
    train = next((p for p in acc if not _held_out(p.tag_a)), None)
    test = next((p for p in acc if _held_out(p.tag_a)), None)
    for pair, what in ((train, "train accuracy"), (test, "test accuracy")):
        if pair is None or pair.final_gap is None or not math.isfinite(pair.final_gap):
            continue
        scale = max(abs(pair.final_a), abs(pair.final_b)) <= 1.0
        gap = pair.final_gap  # b - a
        if abs(gap) < 1e-9:
            parts.append(f"{what} ends equal")
            continue
        lower = label_b if gap < 0 else label_a
        if what == "train accuracy" and pair.diverges_at_step is not None:
            text = (
                f"{lower} {what} trails from step {pair.diverges_at_step} on "
                f"({_points(gap, scale)} at the end"
            )
            if dropout_metrics:
                text += f", measured with dropout active in {dropout_metrics}"
            parts.append(text + ")")
        else:
            parts.append(f"{lower} {what} ends {_points(gap, scale)} lower")
    return ", ".join(parts)


def build_verdict(
    findings: list[Finding], scalars: Any, label_a: str, label_b: str, *, graphs: bool = True
) -> str:
    """One sentence: the most likely cause, tied to what the curves show.

    With `graphs=False` (the `scalars` command) only the curves are described: claiming the
    graphs hold no difference would be wrong when they were never read.
    """
    dropout_metrics = ""
    for f in findings:
        if f.id == "metrics.train_mode":
            side_a = (f.a or {}).get("train_metrics") == "dropout_active"
            side_b = (f.b or {}).get("train_metrics") == "dropout_active"
            dropout_metrics = label_a if side_a and not side_b else label_b if side_b else ""
    evidence = scalar_evidence(scalars, label_a, label_b, dropout_metrics)
    top = findings[0] if findings else None
    if not graphs:
        if not evidence:
            return "No graphs compared and no paired accuracy curves to compare."
        return evidence[0].upper() + evidence[1:] + "."
    if top is None or top.severity not in ("critical", "warning"):
        cause = "No difference that changes what the models learn was found in the graphs"
        if top is not None and top.severity == "benign":
            cause += " (only equivalent structural differences)"
        return f"{cause}; {evidence}." if evidence else f"{cause}."
    cause = top.title.rstrip(".")
    if top.id == "dropout.rate_mismatch" and top.a and top.b:
        ra, rb = top.a.get("drop_rate"), top.b.get("drop_rate")
        if isinstance(ra, (int, float)) and isinstance(rb, (int, float)):
            hi, lo = (label_a, label_b) if ra > rb else (label_b, label_a)
            cause = f"{hi} drops {_pct(max(ra, rb))} of units, {lo} drops {_pct(min(ra, rb))}"
    sentence = f"{cause}: {evidence}." if evidence else f"{cause}."
    return sentence[:1].upper() + sentence[1:]
