"""The terminal report and the curves in the verdict (issue 12, items 1 and 2).

Item 1: at 80 columns the verdict is a short box (cause, measured gap, fix), the explanation
lives once under its finding as readable lines, the default report of sample_logs fits one
80x50 screen and -v / --all show the rest; curves stay readable when one side's values dwarf
the other's. Item 2: every paired curve can carry the verdict (goal from the metric name), each
with a role from one function (`tbdiff.scalars.curve_role`), "apart" needs more than one common
point and states its evidence, "final" is each run's own last value.

Runs go through `tbdiff.cli.main` in-process (capsys) on sample_logs and on real public logs
(../shared/data/reallogs); the pure rules are checked on in-memory series.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from helpers import REALLOGS, SAMPLE_LOGS

from tbdiff.cli import main
from tbdiff.events import ScalarSeries, read_logdir
from tbdiff.findings.base import Finding
from tbdiff.findings.evidence import rank_by_evidence
from tbdiff.render import curve_scale
from tbdiff.scalars import collect, compare_scalars, curve_gap, curve_role, metric_goal
from tbdiff.verdict import build_verdict

TF_DIR, KERAS_DIR = SAMPLE_LOGS / "tensorflow", SAMPLE_LOGS / "keras"
VICTOR = REALLOGS / "VictorNM__triplet-cnn-cbir"
needs_reallogs = pytest.mark.shared("reallogs")


def tbdiff(capsys, monkeypatch, *args: str) -> tuple[int, str]:
    """`tbdiff ARGS` in-process in an 80-column terminal; (exit code, stdout)."""
    monkeypatch.setenv("COLUMNS", "80")
    code = main(list(args))
    return code, capsys.readouterr().out


def verdict_box(out: str) -> list[str]:
    lines = out.splitlines()
    top = next(i for i, line in enumerate(lines) if line.startswith("╭─ Verdict"))
    bottom = next(i for i in range(top, len(lines)) if lines[i].startswith("╰"))
    return lines[top : bottom + 1]


def flat(text: str) -> str:
    """Box-drawing and wrapping removed: the words as one line."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def final_test_accuracies() -> tuple[float, float]:
    a = read_logdir(TF_DIR)[0].scalars["test/accuracy"].values[-1]
    b = read_logdir(KERAS_DIR)[0].scalars["epoch_test_accuracy"].values[-1]
    return float(a), float(b)


# ---------------------------------------------------------------------------------- item 1


def test_default_report_fits_one_80x50_screen(capsys, monkeypatch) -> None:
    code, out = tbdiff(capsys, monkeypatch, "compare", str(TF_DIR), str(KERAS_DIR))
    assert code == 1
    lines = out.splitlines()
    assert len(lines) <= 50, len(lines)
    assert max(len(line) for line in lines) <= 80
    box = verdict_box(out)
    assert len(box) <= 6, box
    verdict = flat("\n".join(box))
    # the cause in the user's words, the measured gap (from the event files), the fix
    assert "keras drops 70% of units, tensorflow drops 30%" in verdict
    assert "keep_prob=0.7 keeps 70%, Dropout(0.7) drops 70%" in verdict
    fa, fb = final_test_accuracies()
    assert f"keras trails on test accuracy: {fb:.4g} vs {fa:.4g} at the end" in verdict
    assert f"({(fa - fb) * 100:.1f} points lower)" in verdict
    assert "apart by at least" in verdict and "from step 0 on" in verdict
    assert "Fix: Dropout(0.3) in keras (rate = 1 - keep_prob)." in verdict
    # the explanation once, under its finding, as lines; no dict dumps anywhere
    assert flat(out).count("keep_prob-vs-rate confusion") == 1
    assert out.index("keep_prob-vs-rate confusion") > out.index("1 critical")
    assert "=(" not in out and "fed=" not in out
    assert any(line.strip().startswith("A: tf.nn.dropout(keep_prob=0.7)") for line in lines)
    assert any(line.strip().startswith("B: Keras Dropout(0.7)") for line in lines)
    # the long tables wait for -v: one line each here
    assert "hyper-parameter" not in out and "Node differences" not in out
    assert "Hparams differ: dropout_rate, feed/PlaceholderWithDefault, framework, keep_prob" in out
    assert "Layers: 9 matched in order (5 dense, 4 dropout)" in out


def test_curves_say_their_scale_and_stay_readable(capsys, monkeypatch) -> None:
    _, out = tbdiff(capsys, monkeypatch, "compare", str(TF_DIR), str(KERAS_DIR))
    lines = out.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("train loss ·"))
    assert "keras trails from step 0 on, by ≥" in lines[head]
    line_a, line_b = lines[head + 1], lines[head + 2]
    # train loss: tensorflow's 0.41 -> 0.007 next to keras' 2.37 -> 0.26, drawn on a log scale
    assert "log scale" in line_a and "0.006906 … 2.369" in line_b
    spark_a = line_a.split()[1]
    assert len(set(spark_a)) >= 4, spark_a  # a shape, not a flat line of ▁
    head = next(i for i, line in enumerate(lines) if line.startswith("test accuracy ·"))
    assert "own scale" in lines[head + 1] and "own scale" in lines[head + 2]


def test_curve_scale_rules() -> None:
    x = np.linspace(0, 1, 50)
    big, small = 2.3 * np.exp(-5 * x) + 0.01, 0.02 * np.exp(-5 * x) + 0.01
    assert curve_scale(big, small, "min").kind == "log"
    acc_low, acc_high = 0.1 + 0.8 * x, 0.95 + 0.01 * x
    scale = curve_scale(acc_low, acc_high, "max")
    assert scale.kind == "own" and scale.range_b == pytest.approx((0.95, 0.96))
    assert curve_scale(acc_low, acc_low + 0.05, "max").kind == "shared"
    assert curve_scale(big - 0.5, small - 0.5, "min").kind == "own"  # negatives: no log


def test_verbose_and_all_show_the_rest(capsys, monkeypatch) -> None:
    _, short = tbdiff(capsys, monkeypatch, "compare", str(TF_DIR), str(KERAS_DIR))
    _, out = tbdiff(capsys, monkeypatch, "compare", str(TF_DIR), str(KERAS_DIR), "-v")
    assert len(out.splitlines()) > len(short.splitlines())
    assert max(len(line) for line in out.splitlines()) <= 80
    doc = json.loads(
        tbdiff(capsys, monkeypatch, "compare", str(TF_DIR), str(KERAS_DIR), "--json")[1]
    )
    for f in doc["findings"]:
        assert f["id"] in out
    assert re.search(r"feed/PlaceholderWithDefault\s+0\.7\s+—", out)  # the hparams table
    assert re.search(r"Dropout1\s+dropout\s+dropout", out)  # the layer table
    assert "test/accuracy ↔ epoch_test_accuracy" in out  # which tags were paired
    assert "fed: A PlaceholderWithDefault: value 0.7; from hparams | B —" in out
    assert "=(" not in out and "Node differences" not in out
    _, everything = tbdiff(capsys, monkeypatch, "graphs", str(TF_DIR), str(KERAS_DIR), "--all")
    assert "Node differences" in everything and "hyper-parameter" in everything


def test_findings_json_carries_the_fix(capsys, monkeypatch) -> None:
    _, text = tbdiff(capsys, monkeypatch, "graphs", str(TF_DIR), str(KERAS_DIR), "--json")
    top = json.loads(text)["findings"][0]
    assert top["fix"] == "Dropout(0.3) in B (rate = 1 - keep_prob)"
    assert top["detail"].splitlines()[0].startswith("A: tf.nn.dropout(keep_prob=0.7)")


# ---------------------------------------------------------------------------------- item 2


@needs_reallogs
@pytest.mark.parametrize(
    ("where", "key", "role"),
    [
        ("hsbarker__UniqueMNISTsolutions", "eval/accuracy", "validation"),  # Estimator eval/
        ("hsbarker__UniqueMNISTsolutions", "loss", "train"),
        ("ldebris__Rossman/logs", "validation/evaluation_loss_vs_iterations", "validation"),
        ("ldebris__Rossman/logs", "validation/epoch_mse", "validation"),
        ("ldebris__Rossman/logs", "train/epoch_learning_rate", "train"),
        ("VictorNM__triplet-cnn-cbir/logs/2019-05-19 20_43_01", "val_acc", "validation"),
        ("VictorNM__triplet-cnn-cbir/logs/2019-05-19 20_43_01", "acc", "train"),
        ("janosh__tensorboard-reducer/tests/runs/strict", "run_1/strict/foo", "train"),
    ],
)
def test_roles_of_real_tags(where: str, key: str, role: str) -> None:
    keys = collect(read_logdir(REALLOGS / where))
    assert key in keys
    assert curve_role(key) == role


@pytest.mark.parametrize(
    ("key", "role"),
    [
        ("test/accuracy", "test"),  # sample_logs, raw TF
        ("epoch_test_accuracy", "test"),  # sample_logs, Keras model.evaluate each epoch
        ("epoch_accuracy", "train"),
        ("validation/epoch_loss", "validation"),
        ("val_loss", "validation"),
        ("interval_loss", "train"),  # "val" inside a word is no role
        ("eval/episode_reward", "validation"),
    ],
)
def test_roles_from_names(key: str, role: str) -> None:
    assert curve_role(key) == role


def test_sample_pairs_carry_roles_and_evidence(capsys, monkeypatch) -> None:
    _, text = tbdiff(capsys, monkeypatch, "scalars", str(TF_DIR), str(KERAS_DIR), "--json")
    doc = json.loads(text)
    by_tags = {(s["tag_a"], s["tag_b"]): s for s in doc["scalars"]}
    test_acc = by_tags[("test/accuracy", "epoch_test_accuracy")]
    assert test_acc["role"] == "test" and by_tags[("train/loss", "epoch_loss")]["role"] == "train"
    assert test_acc["diverges_at_step"] == 0 and test_acc["apart_by"] > 0.01
    # the verdict quotes the evidence in points: from step 0 on by at least apart_by
    assert f"at least {test_acc['apart_by'] * 100:.1f} points" in doc["verdict"]
    assert doc["verdict"].startswith("keras trails on test accuracy")


@needs_reallogs
def test_real_keras_runs_validation_curve_and_own_last_steps(capsys, monkeypatch) -> None:
    a, b = VICTOR / "logs/2019-05-19 20_43_01", VICTOR / "logs/2019-05-24 21_06_53"
    _, text = tbdiff(capsys, monkeypatch, "scalars", str(a), str(b), "--json")
    doc = json.loads(text)
    pair = next(s for s in doc["scalars"] if s["tag_a"] == "val_acc")
    assert pair["role"] == "validation" and pair["final_step_a"] != pair["final_step_b"]
    verdict = doc["verdict"]
    # held-out first, named as such; each run's own last value at its own last step
    assert verdict.startswith("2019-05-24 21_06_53 trails on validation accuracy:")
    assert f"{pair['final_b']:.4g} at step {pair['final_step_b']} vs " in verdict
    assert f"{pair['final_a']:.4g} at step {pair['final_step_a']}, each run's last" in verdict
    assert "train accuracy" in verdict.split(";")[1]
    if pair["diverges_at_step"] is None:
        assert "not apart for good" in verdict


@needs_reallogs
def test_real_keras_compare_reads_at_80_columns(capsys, monkeypatch) -> None:
    # two real runs of a VGG-like Keras model (13 vs 11 layers), graphs and curves
    a, b = VICTOR / "logs/2019-05-19 20_43_01", VICTOR / "logs/2019-05-24 21_06_53"
    code, out = tbdiff(capsys, monkeypatch, "compare", str(a), str(b))
    assert code == 1
    assert max(len(line) for line in out.splitlines()) <= 80
    box = verdict_box(out)
    assert len(box) <= 6, box
    verdict = flat("\n".join(box))
    assert verdict.startswith("Verdict Different number of trainable layers: 13 vs 11.")
    assert "trails on validation accuracy" in verdict and "train accuracy" in verdict
    # evidence as words, never Python reprs of lists or dicts
    assert "['" not in out and "{'" not in out and "=(" not in out
    assert any(
        line.strip().startswith("A: conv2d [3, 3, 3, 64]; conv2d") for line in out.split("\n")
    )


@needs_reallogs
def test_one_common_point_never_separates(capsys, monkeypatch) -> None:
    # a notebook run that logged step 0 only, against a 80-epoch run of the same model
    a, b = VICTOR / "notebooks/logs", VICTOR / "logs/2019-05-19 20_43_01"
    code, text = tbdiff(capsys, monkeypatch, "scalars", str(a), str(b), "--json")
    doc = json.loads(text)
    assert doc["scalars"] and all(s["steps"] == 1 for s in doc["scalars"])
    assert all(s["diverges_at_step"] is None for s in doc["scalars"])
    assert code == 0  # nothing separates for good
    assert "too few common steps (1) to call the curves apart" in doc["verdict"]


def _series(tag: str, steps, values) -> ScalarSeries:
    steps = np.asarray(steps, dtype=np.int64)
    return ScalarSeries(tag, steps, np.asarray(values, float), np.zeros(steps.size), "simple")


def test_final_is_each_runs_own_last_value() -> None:
    shared = np.linspace(1.0, 0.5, 10)
    a = {"loss": _series("loss", range(10), shared)}
    b = {"loss": _series("loss", range(20), np.concatenate([shared, np.linspace(0.5, 0.9, 10)]))}
    (pair,) = compare_scalars(a, b).pairs
    assert pair.final_gap == 0.0  # equal at the last common step ...
    gap = curve_gap(pair)
    assert gap is not None and gap.behind == "B"  # ... but B's own last loss is higher
    text = build_verdict([], compare_scalars(a, b), "a", "b", graphs=False)
    assert text.startswith("b trails on train loss: 0.9 at step 19 vs 0.5 at step 9")
    assert "in both" not in text and "equal" not in text
    same = compare_scalars(a, {"loss": _series("loss", range(10), shared)})
    assert "ends at 0.5 in both runs at the end" in build_verdict([], same, "a", "b", graphs=False)


def test_loss_reward_and_custom_metrics_carry_the_verdict() -> None:
    steps = range(40)
    x = np.linspace(0, 1, 40)
    a = {"eval/episode_reward": _series("r", steps, 100 * x)}
    b = {"eval/episode_reward": _series("r", steps, 60 * x)}
    assert metric_goal("episode_reward") == "max" and metric_goal("val_loss") == "min"
    text = build_verdict([], compare_scalars(a, b), "a", "b", graphs=False)
    assert text.startswith("b trails on validation episode reward: 60 vs 100 at the end (40 lower)")
    a = {"my_metric": _series("m", steps, x)}
    b = {"my_metric": _series("m", steps, 2 * x)}
    text = build_verdict([], compare_scalars(a, b), "a", "b", graphs=False)
    assert text.startswith("Train my metric ends higher in b: 2 vs 1 at the end (by 1)")


def test_observed_loss_gap_reranks_findings() -> None:
    steps = range(30)
    x = np.linspace(0, 1, 30)
    loss_a = {"loss": _series("loss", steps, 2.0 - 1.9 * x)}
    loss_b = {"loss": _series("loss", steps, 2.0 - 1.5 * x)}  # B's loss ends higher: B worse

    def findings() -> list[Finding]:
        return [
            Finding("optimizer.hparam_mismatch", "critical", "t", "d", score=0.6),
            Finding("dropout.rate_mismatch", "critical", "t", "d", score=0.5, predicts=-1),
        ]

    ranked = rank_by_evidence(findings(), compare_scalars(loss_a, loss_b))
    assert ranked[0].id == "dropout.rate_mismatch"
    ranked = rank_by_evidence(findings(), compare_scalars(loss_b, loss_a))
    assert ranked[0].id == "optimizer.hparam_mismatch"


@needs_reallogs
def test_long_paths_stay_on_one_header_line(capsys, monkeypatch) -> None:
    pair = REALLOGS / "HyoungsungKim__Pytorch-tensorboard_tutorial/scalar/tutorial/sin and cos"
    _code, out = tbdiff(capsys, monkeypatch, "compare", str(pair / "sin"), str(pair / "cos"))
    head = out.splitlines()[:2]
    assert [line[:6] for line in head] == ["A sin ", "B cos "]
    assert all(len(line) <= 80 and "…" in line for line in head), head
    assert head[0].endswith("tutorial/sin and cos/sin") and head[1].endswith("sin and cos/cos")


def test_a_run_against_its_own_event_file_is_the_same_run(capsys, monkeypatch) -> None:
    file = next(KERAS_DIR.glob("events.out.tfevents.*"))
    _code, out = tbdiff(capsys, monkeypatch, "compare", str(KERAS_DIR), str(file), "--json")
    doc = json.loads(out)
    same = [w for w in doc["warning_records"] if w["kind"] == "input.same_path"]
    assert [w["message"] for w in same] == [
        f"A and B read the same event file(s) ({file.resolve()})"
    ]
    assert (doc["a"]["label"], doc["b"]["label"]) == ("A", "B")
    _code, out = tbdiff(capsys, monkeypatch, "compare", str(KERAS_DIR), str(file))
    line = out.splitlines()[1]  # the file's path (its middle cut at 80 columns), no "run NAME"
    assert line.startswith("B ") and " run " not in line and len(line) <= 80
    assert line.split(" (graph_def")[0].endswith(file.name[-20:])
