"""The report model: JSON contract keys, strict JSON, exit codes, verdict wording, sparklines."""

from __future__ import annotations

import json
import math

import numpy as np

from tbdiff.findings.base import Finding, rank
from tbdiff.render import sparkline
from tbdiff.report import Report, RunRef, build_verdict, hparam_diffs


def _finding(fid: str, sev: str, score: float = 0.0, **kw) -> Finding:
    return Finding(id=fid, severity=sev, title=kw.pop("title", fid), detail="d", score=score, **kw)


def test_rank_orders_by_severity_then_score():
    fs = [
        _finding("naming.only", "info"),
        _finding("optimizer.hparam_mismatch", "critical", 0.2),
        _finding("learning_phase.mechanism", "benign"),
        _finding("dropout.rate_mismatch", "critical", 0.9),
        _finding("dropout.runtime_fed", "warning"),
    ]
    assert [f.id for f in rank(fs)] == [
        "dropout.rate_mismatch",
        "optimizer.hparam_mismatch",
        "dropout.runtime_fed",
        "learning_phase.mechanism",
        "naming.only",
    ]


def test_json_has_contract_keys_and_is_strict():
    rep = Report(
        a=RunRef("x/tensorflow", ".", "graph_def", 10, label="tensorflow"),
        b=RunRef("x/keras", ".", None, 0),
    )
    rep.graph_counts = {"matched": 1, "changed": 0, "only_a": 2, "only_b": 3}
    rep.findings = [
        _finding(
            "dropout.rate_mismatch", "critical", a={"drop_rate": float("nan")}, b={"drop_rate": 0.7}
        )
    ]
    doc = json.loads(rep.to_json())
    assert doc["schema"] == "tbdiff.report/1"
    assert set(doc["a"]) >= {"path", "run", "graph_source", "nodes"}
    assert doc["graph"] == {"matched": 1, "changed": 0, "only_a": 2, "only_b": 3}
    f = doc["findings"][0]
    assert set(f) == {"id", "severity", "title", "detail", "a", "b", "nodes_a", "nodes_b"}
    assert f["a"]["drop_rate"] is None  # NaN becomes null: strict JSON parsers must accept it
    assert isinstance(doc["warnings"], list)
    assert rep.exit_code() == 1


def test_exit_code_zero_without_critical_or_warning():
    rep = Report(a=RunRef("a", "."), b=RunRef("b", "."))
    rep.findings = [_finding("learning_phase.mechanism", "benign"), _finding("naming.only", "info")]
    assert rep.exit_code() == 0


def test_verdict_names_dropout_rates_per_side():
    f = _finding(
        "dropout.rate_mismatch",
        "critical",
        1.0,
        title="t",
        a={"drop_rate": 0.3},
        b={"drop_rate": 0.7},
    )
    v = build_verdict([f], None, "tensorflow", "keras")
    assert v.startswith("Keras drops 70% of units, tensorflow drops 30%")


def test_verdict_without_findings_says_so():
    assert "No difference" in build_verdict([], None, "a", "b")


def test_hparam_diffs_lists_changed_and_one_sided_keys():
    d = hparam_diffs({"lr": 0.001, "epochs": 30, "x": 1}, {"lr": 0.01, "epochs": 30, "y": 2})
    assert [(h.key, h.a, h.b) for h in d] == [("lr", 0.001, 0.01), ("x", 1, None), ("y", None, 2)]


def test_sparkline_shared_scale_and_nonfinite():
    line = sparkline(np.array([0.0, 0.5, 1.0, math.nan]), 0.0, 1.0, 10)
    assert line == "▁▅█·"
    assert len(sparkline(np.linspace(0, 1, 1000), 0.0, 1.0, 20)) == 20
