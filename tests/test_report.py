"""The report model: JSON contract keys, strict JSON, exit codes, verdict wording, sparklines."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from helpers import REALLOGS, SAMPLE_LOGS, need_shared

from tbdiff.findings.base import Finding, rank
from tbdiff.render import sparkline
from tbdiff.report import Report, RunRef, hparam_diffs
from tbdiff.verdict import build_verdict


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
    assert rep.exit_code == 1


def test_exit_code_zero_without_critical_or_warning():
    rep = Report(a=RunRef("a", "."), b=RunRef("b", "."))
    rep.findings = [_finding("learning_phase.mechanism", "benign"), _finding("naming.only", "info")]
    assert rep.exit_code == 0


def test_verdict_uses_the_first_findings_phrase_with_run_labels():
    f = _finding(
        "dropout.rate_mismatch",
        "critical",
        1.0,
        title="t",
        verdict="{b} drops 70% of units, {a} drops 30%",
    )
    v = build_verdict([f], None, "tensorflow", "keras")
    assert v.startswith("keras drops 70% of units, tensorflow drops 30%")  # labels keep case
    assert build_verdict([_finding("x.y", "critical", title="Title")], None, "a", "b") == "Title."


def test_verdict_without_findings_says_so():
    assert "No difference" in build_verdict([], None, "a", "b")


def test_hparam_diffs_lists_changed_and_one_sided_keys():
    d = hparam_diffs({"lr": 0.001, "epochs": 30, "x": 1}, {"lr": 0.01, "epochs": 30, "y": 2})
    assert [(h.key, h.a, h.b) for h in d] == [("lr", 0.001, 0.01), ("x", 1, None), ("y", None, 2)]


def test_sparkline_shared_scale_and_nonfinite():
    line = sparkline(np.array([0.0, 0.5, 1.0, math.nan]), 0.0, 1.0, 10)
    assert line == "▁▅█·"
    assert len(sparkline(np.linspace(0, 1, 1000), 0.0, 1.0, 20)) == 20


def _curves(final_b: float):
    from tbdiff.events import ScalarSeries
    from tbdiff.scalars import compare_scalars

    steps = np.arange(10, dtype=np.int64)
    acc_a = np.linspace(0.8, 0.98, 10)
    acc_b = np.linspace(0.8, final_b, 10)
    zeros = np.zeros(10)
    return compare_scalars(
        {"train/accuracy": ScalarSeries("train/accuracy", steps, acc_a, zeros, "simple_value")},
        {"epoch_accuracy": ScalarSeries("epoch_accuracy", steps, acc_b, zeros, "tensor")},
    )


def test_evidence_puts_the_finding_that_explains_the_gap_first():
    from tbdiff.findings.evidence import rank_by_evidence

    def findings():
        return [
            _finding("optimizer.hparam_mismatch", "critical", 0.6),
            # B drops more: the detector predicts B's accuracy below A's
            _finding("dropout.rate_mismatch", "critical", 0.5, predicts=-1),
            _finding("learning_phase.mechanism", "benign", 0.9),
        ]

    # B drops more and B's accuracy ends lower: dropout explains the gap, so it comes first
    ranked = rank_by_evidence(findings(), _curves(final_b=0.90))
    assert [f.id for f in ranked][:2] == ["dropout.rate_mismatch", "optimizer.hparam_mismatch"]
    # B drops more but B ends higher: dropout contradicts the curves and moves down
    ranked = rank_by_evidence(findings(), _curves(final_b=0.995))
    assert [f.id for f in ranked][:2] == ["optimizer.hparam_mismatch", "dropout.rate_mismatch"]
    # severities never cross
    assert ranked[-1].id == "learning_phase.mechanism"
    # no accuracy curves: the detectors' prior order stands
    assert rank_by_evidence(findings(), None)[0].id == "optimizer.hparam_mismatch"


# ---------------------------------------------------------------- exit rule without models


def _cut_keras_log(tmp_path):
    """sample_logs' Keras run cut at 60,000 bytes: inside its graph record, after some of
    its scalars, as a run killed while writing leaves it."""
    src = next((SAMPLE_LOGS / "keras").glob("events.out.tfevents.*"))
    run = tmp_path / "cut"
    run.mkdir()
    (run / src.name).write_bytes(src.read_bytes()[:60_000])
    return run


def test_compare_without_a_model_exits_by_the_curves(tmp_path):
    import tbdiff

    with pytest.warns(tbdiff.TbdiffWarning) as shown:  # truncated record, no graph
        r = tbdiff.compare(str(_cut_keras_log(tmp_path)), str(SAMPLE_LOGS / "tensorflow"))
    assert len(shown) == 2 and "A has no graph" in str(shown[1].message)
    assert not r.models_compared and r.worst_severity not in ("critical", "warning")
    assert any(p.diverges_at_step is not None for p in r.scalars.pairs)
    assert r.exit_code == 1
    assert r.exit_reason.startswith("the models could not be compared, and ")
    missing = [w.message for w in r.warnings if w.kind == "graph.missing"]
    assert missing == ["A has no graph: only scalars were compared"]
    assert (
        repr(r) == f"<tbdiff.Report 'cut' vs 'tensorflow': {len(r.findings)} finding(s), "
        f"worst {r.worst_severity or 'none'}, exit 1>"
    )


def test_two_graphless_runs_warn_once_and_exit_by_the_curves():
    import tbdiff

    pair = need_shared(
        REALLOGS / "HyoungsungKim__Pytorch-tensorboard_tutorial/scalar/tutorial/sin and cos"
    )
    with pytest.warns(tbdiff.TbdiffWarning, match="neither run has a graph"):
        r = tbdiff.compare(str(pair / "sin"), str(pair / "cos"))
    missing = [w for w in r.warnings if w.kind == "graph.missing"]
    assert [w.message for w in missing] == ["neither run has a graph: only scalars were compared"]
    assert r.exit_code == 1  # sin and cos separate for good (from step 226)
