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
    assert not [line for line in lines if line.endswith(" ")]  # no padding to paste along
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
def test_real_keras_runs_trail_on_the_common_steps_not_on_finals_at_other_steps(
    capsys, monkeypatch
) -> None:
    # A logged 80 epochs (0..79), B 76 (0..75): A's final at step 79 is higher than B's at 75,
    # but on the common steps B is ahead at the end (equal at 75, higher on 8 of the last 10)
    a, b = VICTOR / "logs/2019-05-19 20_43_01", VICTOR / "logs/2019-05-24 21_06_53"
    _, text = tbdiff(capsys, monkeypatch, "scalars", str(a), str(b), "--json")
    doc = json.loads(text)
    pair = next(s for s in doc["scalars"] if s["tag_a"] == "val_acc")
    assert pair["role"] == "validation" and (pair["final_step_a"], pair["final_step_b"]) == (79, 75)
    assert pair["runs_on"] == "A"
    va = read_logdir(a)[0].scalars["val_acc"].values[-12:-4]  # A at steps 68..75
    vb = read_logdir(b)[0].scalars["val_acc"].values[-8:]  # B at steps 68..75
    assert float(np.mean(va)) < float(np.mean(vb))
    verdict = doc["verdict"]
    # held-out first, named as such, decided on the common steps and saying so
    assert verdict.startswith(
        f"2019-05-19 20_43_01 is lower on validation accuracy: {np.mean(va):.4g} vs "
        f"{np.mean(vb):.4g} averaged over common steps 68..75"
    ), verdict  # "trails" only for curves apart for good
    assert "2019-05-19 20_43_01 goes on to step 79" in verdict
    assert "21_06_53 trails on validation" not in verdict and "trails" not in verdict
    assert "train accuracy" in verdict.split(";")[-1]
    if pair["diverges_at_step"] is None:
        assert "not apart for good" in verdict


@needs_reallogs
def test_one_epoch_run_is_compared_at_its_only_common_step(capsys, monkeypatch) -> None:
    # a notebook run that logged step 0 only, against a 76-epoch run: the gap is the one at
    # step 0 (0.1 vs 0.5), never step 0 of one run against step 75 of the other
    a, b = VICTOR / "notebooks/logs", VICTOR / "logs/2019-05-24 21_06_53"
    _, text = tbdiff(capsys, monkeypatch, "scalars", str(a), str(b), "--json")
    verdict = json.loads(text)["verdict"]
    assert verdict.startswith(
        "logs is lower on validation accuracy: 0.1 vs 0.5 at step 0, the last common step "
        "(by 40.0 points), too few common steps (1) to call the curves apart; "
        "2019-05-24 21_06_53 goes on to step 75"
    ), verdict
    assert "79.7" not in verdict


@needs_reallogs
def test_loss_curves_of_different_loss_functions_never_carry_the_verdict(
    capsys, monkeypatch
) -> None:
    # an Estimator CNN trained with MSE against sample_logs' MLP trained with cross-entropy:
    # their train losses (4.7 vs 0.007) measure different functions; the held-out accuracy,
    # each run's own final evaluation (no common steps), is what can be compared
    a = REALLOGS / "hsbarker__UniqueMNISTsolutions"
    _, text = tbdiff(capsys, monkeypatch, "compare", str(a), str(TF_DIR), "--json")
    doc = json.loads(text)
    loss = next(f for f in doc["findings"] if f["title"].startswith("Different loss functions"))
    assert loss["a"]["loss"] != loss["b"]["loss"]
    verdict = doc["verdict"]
    assert "loss" not in verdict.split(". ", 1)[1], verdict
    assert (
        "tensorflow ends lower on validation/test accuracy: 0.9825 at step 29 vs 0.9884 at "
        "step 20000, each run's last (by 0.6 points)"
    ) in verdict


def test_losses_differ_is_read_from_the_finding_not_its_id() -> None:
    steps = range(30)
    x = np.linspace(0, 1, 30)
    a = {"val_loss": _series("l", steps, 5 - x), "accuracy": _series("a", steps, 0.5 + 0.4 * x)}
    b = {"val_loss": _series("l", steps, 0.5 - x / 4), "accuracy": _series("a", steps, 0.5 + x / 4)}
    cmp = compare_scalars(a, b)
    same = Finding("x.any", "critical", "t", "d", verdict="cause")
    other = Finding("x.any", "critical", "t", "d", verdict="cause", losses_differ=True)
    text = build_verdict([same], cmp, "a", "b")
    assert text.startswith("Cause. a trails on validation loss: 4 vs 0.25 at the end"), text
    assert "b trails on train accuracy by 15.0 points" in text
    text = build_verdict([other], cmp, "a", "b")
    assert text.startswith("Cause. b trails on train accuracy: 0.75 vs 0.9 at the end"), text
    assert "loss" not in text


TORCH = SAMPLE_LOGS.parent / "tests/fixtures/torch"


@pytest.mark.parametrize(
    ("key", "role", "name"),
    [
        ("epoch", "counter", "epoch counter"),  # Lightning's epoch counter
        ("hp_metric", "summary", "hp metric summary"),  # Lightning's hyper-parameter metric
        ("1796195012.4943311/hparam/final_loss", "summary", "final loss summary"),  # add_hparams
        ("train_loss", "train", "train loss"),
        ("epoch_loss", "train", "train loss"),  # Keras' epoch-level prefix is no counter
        ("validation/epoch_accuracy", "validation", "validation accuracy"),
    ],
)
def test_counters_and_summaries_are_no_train_curves(key: str, role: str, name: str) -> None:
    (pair,) = compare_scalars(
        {key: _series(key, range(3), [1.0, 2.0, 3.0])}, {key: _series(key, range(3), [1, 2, 4])}
    ).pairs
    assert curve_role(key) == role and pair.role == role and pair.name == name


def test_lightning_and_add_hparams_fixtures_show_counters_and_summaries(
    capsys, monkeypatch
) -> None:
    _, text = tbdiff(
        capsys, monkeypatch, "compare", str(TORCH / "l_base"), str(TORCH / "l_lr01"), "--json"
    )
    roles = {s["tag_a"]: s["role"] for s in json.loads(text)["scalars"]}
    assert roles == {"train_loss": "train", "epoch": "counter", "hp_metric": "summary"}
    _, out = tbdiff(capsys, monkeypatch, "compare", str(TORCH / "t_base"), str(TORCH / "t_drop05"))
    assert "final loss summary ·" in out and "train final loss" not in out
    heads = [line.split(" · ")[0] for line in out.splitlines() if " · " in line]
    assert heads[-1] == "final loss summary", heads  # after the curves
    # a counter never carries the verdict, even when it is the only curve that differs
    a = {"epoch": _series("epoch", range(5), [0, 0, 1, 1, 2])}
    b = {"epoch": _series("epoch", range(5), [0, 1, 2, 3, 4])}
    assert build_verdict([], compare_scalars(a, b), "a", "b", graphs=False).startswith("No ")


@needs_reallogs
def test_real_keras_compare_reads_at_80_columns(capsys, monkeypatch) -> None:
    # two real runs of a VGG-like Keras model (13 vs 11 layers), graphs and curves
    a, b = VICTOR / "logs/2019-05-19 20_43_01", VICTOR / "logs/2019-05-24 21_06_53"
    code, out = tbdiff(capsys, monkeypatch, "compare", str(a), str(b))
    assert code == 1
    assert max(len(line) for line in out.splitlines()) <= 80
    box = verdict_box(out)
    assert len(box) <= 9, box  # long run labels (dates with spaces), named 4 times
    verdict = flat("\n".join(box))
    # B's logged lr falls 1000x (1e-3 -> 1e-6): the first cause, before the 13 vs 11 layers
    assert verdict.startswith("Verdict The learning rate evolves differently: 2019-05-19")
    assert "is lower on validation accuracy" in verdict and "train accuracy" in verdict
    # evidence as words, never Python reprs of lists or dicts
    assert "['" not in out and "{'" not in out and "=(" not in out
    assert any(
        line.strip().startswith("A: conv2d [3, 3, 3, 64]; conv2d") for line in out.split("\n")
    )


@needs_reallogs
def test_one_common_point_never_separates(capsys, monkeypatch) -> None:
    # a notebook run that logged step 0 only, against an 80-epoch run of the same model
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


def test_who_trails_is_decided_on_the_common_steps() -> None:
    shared = np.linspace(1.0, 0.5, 10)
    a = {"loss": _series("loss", range(10), shared)}
    b = {"loss": _series("loss", range(20), np.concatenate([shared, np.linspace(0.5, 0.9, 10)]))}
    (pair,) = compare_scalars(a, b).pairs
    assert pair.final_gap == 0.0 and pair.runs_on == "B"  # equal on the common steps ...
    gap = curve_gap(pair)
    assert gap is not None and gap.behind is None  # ... so nobody trails there
    text = build_verdict([], compare_scalars(a, b), "a", "b", graphs=False)
    # the common steps compared, and the run that goes on past them with its own last step
    assert (
        text
        == "Train loss is 0.6111 in both runs averaged over common steps 5..9; b goes on to step 19."
    )
    same = compare_scalars(a, {"loss": _series("loss", range(10), shared)})
    words = build_verdict([], same, "a", "b", graphs=False)
    assert "ends at 0.5 in both runs" in words and "at the end" not in words  # said once
    # where both end on the common steps, the finals are quoted "at the end"
    lower = compare_scalars(a, {"loss": _series("loss", range(10), shared - 0.1)})
    assert build_verdict([], lower, "a", "b", graphs=False).startswith(
        "a trails on train loss: 0.5 vs 0.4 at the end (0.1 higher)"
    )


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


@pytest.mark.parametrize("b", ["t_nodrop", "t_softmax_out"])
def test_who_is_behind_is_read_off_the_finals_when_both_runs_end_together(b: str) -> None:
    # noisy PyTorch curves whose last values and last-window means point opposite ways: the
    # report shows the finals next to each curve, so they decide (and equal finals are equal)
    torch = SAMPLE_LOGS.parent / "tests/fixtures/torch"
    a_runs, b_runs = read_logdir(torch / "t_base"), read_logdir(torch / b)
    checked = 0
    for p in compare_scalars(a_runs, b_runs).pairs:
        if p.runs_on or not p.steps or p.goal is None:
            continue
        gap = curve_gap(p)
        worse_a = p.final_a < p.final_b if p.goal == "max" else p.final_a > p.final_b
        expected = None if p.final_a == p.final_b else ("A" if worse_a else "B")
        assert gap.behind == expected, (p.tag_a, p.final_a, p.final_b, gap)
        checked += 1
    assert checked >= 2
