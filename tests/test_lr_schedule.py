"""The learning rate over training: a logged schedule (Keras' `lr`, `epoch_learning_rate`) in the
model description, compared by `findings.lr_schedule`, and Keras' legacy `decay` graded by its
effect over the run's updates. On real event files."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from helpers import REALLOGS, ROOT, need_shared

from tbdiff import events
from tbdiff.events.reader import read_run
from tbdiff.findings import compare, inspect_lines
from tbdiff.model import describe
from tbdiff.model.description import ModelDescription
from tbdiff.pipeline import build_report, run_inputs
from tbdiff.scalars.tags import is_learning_rate

TRIPLET = REALLOGS / "VictorNM__triplet-cnn-cbir/logs"
A_DIR, B_DIR = TRIPLET / "2019-05-19 20_43_01", TRIPLET / "2019-05-24 21_06_53"
TORCH = ROOT / "tests/fixtures/torch"


def _model(path: Path) -> ModelDescription:
    """A run's description as `compare` builds it (graph left out: the optimizer comes from
    the graph in `compare`; here only what the scalars add is asked for)."""
    runs = [read_run(r) for r in events.find_runs(path, [])]
    return describe(run_inputs(runs, None, {}, {}))


def test_learning_rate_tags():
    lr = ["lr", "epoch_learning_rate", "train/lr", "learning_rate", "lr-Adam", "lr-Adam/pg1"]
    other = ["loss", "val_acc", "lr-Adam-momentum", "momentum-Adam", "epoch", "hp_metric"]
    assert all(is_learning_rate(k) for k in lr)
    assert not any(is_learning_rate(k) for k in other)


@pytest.mark.shared("reallogs")
def test_logged_step_schedule_is_read_with_its_steps():
    d = _model(need_shared(B_DIR))
    sch = d.optimizer.schedule
    assert sch.shape == "step" and sch.source.where == "lr"
    assert (sch.start, sch.end) == (0.001, 1e-06)
    # float32 noise at step 72 (1.0000001e-06 -> 9.9999999e-07) is no change
    assert sch.changes == [(41, 0.0001), (54, 1e-05), (67, 1e-06)]
    assert (sch.first_step, sch.last_step) == (1, 75)
    assert sch.at(40) == 0.001 and sch.at(41) == 0.0001 and sch.at(1000) == 1e-06
    assert d.training.last_step == 75 and d.training.step_unit is None
    assert not d.optimizer.recorded and d.is_empty  # a curve alone describes no model


@pytest.mark.shared("reallogs")
def test_triplet_schedule_finding_and_decay_graded_by_its_effect():
    """B logs lr 1e-3 -> 1e-6 in three drops, A logs none (constant 0.001 in its graph):
    critical, first; A's legacy decay 1e-6 vs 0 is a warning (updates unknown), no longer a
    critical optimizer difference."""
    need_shared(TRIPLET)
    rep = build_report(str(A_DIR), str(B_DIR))
    by_id = {f.id: f for f in rep.findings}
    f = by_id["lr_schedule.mismatch"]
    assert f.severity == "critical" and rep.findings[0] is f
    assert f.a == {"learning_rate": 0.001, "schedule": None, "source": "graph"}
    assert f.b["schedule"] == "step" and (f.b["start"], f.b["end"]) == (0.001, 1e-06)
    assert f.b["changes"] == [[41, 0.0001], [54, 1e-05], [67, 1e-06]]
    assert "B lowers it 1000x in steps (0.001 -> 1e-06)" in f.title
    assert "0.0001 from step 41, 1e-05 from step 54, 1e-06 from step 67" in f.detail
    assert "35 of 75 logged steps (from step 41)" in f.detail
    assert f.fix and f.verdict.startswith("the learning rate evolves differently")
    d = by_id["lr_schedule.legacy_decay"]
    assert d.severity == "warning" and (d.a["decay"], d.b["decay"]) == (1e-06, 0.0)
    assert d.a["updates"] == 80 and not d.a["updates_exact"]
    assert "10% after 111,111" in d.detail and "fewer than 126 updates" in d.detail
    assert not any(x.id == "optimizer.hparam_mismatch" for x in rep.findings)
    assert "lowers it 1000x" in rep.verdict


@pytest.mark.shared("reallogs")
def test_decay_with_known_updates_is_graded_by_the_lr_change():
    """With the update count known (curves logged per update), decay 1e-6 over 80 updates
    changes the rate by 0.008%: benign."""
    need_shared(TRIPLET)
    rep_a, rep_b = (
        describe(run_inputs([read_run(r) for r in events.find_runs(p, [])], g, {}, {}))
        for p, g in ((A_DIR, _graph(A_DIR)), (B_DIR, _graph(B_DIR)))
    )
    per_update = [
        dataclasses.replace(m, training=dataclasses.replace(m.training, step_unit="batch"))
        for m in (rep_a, rep_b)
    ]
    found = {f.id: f for f in compare(*per_update)}
    d = found["lr_schedule.legacy_decay"]
    assert d.severity == "benign" and d.a["updates_exact"]
    assert "after 80 updates divides it by 1.00008 (0.008% lower)" in d.detail


def _graph(path: Path):
    from tbdiff.pipeline import load_side

    return load_side(str(path)).graph


@pytest.mark.shared("reallogs")
def test_same_logged_schedule_is_no_finding():
    need_shared(B_DIR)
    rep = build_report(str(B_DIR), str(B_DIR))
    assert not [f for f in rep.findings if f.family == "lr_schedule"]
    lines = inspect_lines(_model(B_DIR))
    assert lines["lr schedule"].startswith("step 0.001 -> 1e-06, changes at step(s) 41, 54, 67")


def test_two_runs_with_the_same_constant_logged_rate_differ_in_nothing_about_it():
    """k_port and k_port_wd (Keras 3) both log epoch_learning_rate 0.001 throughout."""
    for name in ("k_port", "k_port_wd"):
        sch = _model(TORCH / name).optimizer.schedule
        assert sch.shape == "constant" and sch.start == 0.001 and sch.changes == []
    rep = build_report(str(TORCH / "k_port"), str(TORCH / "k_port_wd"))
    assert not [f for f in rep.findings if f.family == "lr_schedule"]


def test_a_long_per_update_curve_keeps_every_change_and_a_sample(tmp_path: Path) -> None:
    # Lightning's LearningRateMonitor logs every optimizer step: 30,000 points, halved every
    # 7,000 steps, written by TensorBoard's own writer
    from test_scalars import write_run

    steps = list(range(30_000))
    values = [1e-3 * 0.5 ** (s // 7_000) for s in steps]
    write_run(tmp_path / "run", {"lr-Adam": (steps, values)})
    (opt,) = _model(tmp_path / "run").optimizers
    sch = opt.schedule
    assert sch.shape == "step" and sch.start == 1e-3 and sch.end == pytest.approx(6.25e-5)
    assert [s for s, _ in sch.changes] == [7_000, 14_000, 21_000, 28_000]
    assert len(sch.points) <= 2_100  # not 30,000: every change with its step, and a sample
    assert sch.at(20_999) == pytest.approx(2.5e-4) and sch.at(21_000) == pytest.approx(1.25e-4)
