"""Scalar pairing and comparison on event files written by TensorBoard's own writer.

Fixtures are written with TensorBoard's own `RecordWriter` (the framing + CRC layer under
`EventFileWriter`, used directly because `EventFileWriter` imports TensorFlow for gfile when it
is installed, which costs ~5 s): TF1-style `simple_value` summaries and TF2-style rank-0 tensor
summaries tagged for the scalars plugin. They are read
back with tbdiff.events, so these tests cover the path a user's logs take.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from helpers import REALLOGS
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.record_writer import RecordWriter
from tensorboard.util import tensor_util

from tbdiff.cli import main
from tbdiff.errors import TbdiffError
from tbdiff.events import ScalarSeries, read_logdir
from tbdiff.scalars import (
    ScalarComparison,
    collect,
    compare_scalars,
    compare_series,
    divergence_index,
    noise_level,
    pair_tags,
    parse_tag,
)

# ---------------------------------------------------------------------------------------------
# Fixture writing
# ---------------------------------------------------------------------------------------------


def _value(tag: str, v: float, encoding: str) -> summary_pb2.Summary.Value:
    if encoding == "simple_value":
        return summary_pb2.Summary.Value(tag=tag, simple_value=v)
    meta = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars")
    )
    tensor = tensor_util.make_tensor_proto(np.float32(v))
    return summary_pb2.Summary.Value(tag=tag, metadata=meta, tensor=tensor)


def write_run(
    logdir: Path,
    curves: dict[str, tuple],
    *,
    encoding: str = "simple_value",
    wall_start: float = 1.7e9,
    wall_per_point: float = 1.0,
) -> Path:
    """Write {tag: (steps, values)} into one event file under `logdir`.

    Wall times are explicit (wall_start + i * wall_per_point for the i-th point of a curve) so
    tests control how long a run "took".
    """
    logdir.mkdir(parents=True, exist_ok=True)
    path = logdir / f"events.out.tfevents.{int(wall_start)}.testhost.{os.getpid()}.0"
    writer = RecordWriter(open(path, "wb"))  # RecordWriter owns and closes the file
    version = event_pb2.Event(wall_time=wall_start, file_version="brain.Event:2")
    writer.write(version.SerializeToString())
    for tag, (steps, values) in curves.items():
        for i, (s, v) in enumerate(zip(steps, values, strict=True)):
            summary = summary_pb2.Summary(value=[_value(tag, float(v), encoding)])
            event = event_pb2.Event(
                wall_time=wall_start + i * wall_per_point, step=int(s), summary=summary
            )
            writer.write(event.SerializeToString())
    writer.close()
    return logdir


def curve(steps, fn) -> tuple[np.ndarray, np.ndarray]:
    steps = np.asarray(steps)
    return steps, fn(steps)


def acc_fn(x):
    return 0.98 - 0.5 * np.exp(-np.asarray(x, dtype=np.float64) / 6.0)


def loss_fn(x):
    return 0.05 + 2.0 * np.exp(-np.asarray(x, dtype=np.float64) / 5.0)


def by_a(cmp: ScalarComparison) -> dict:
    return {p.tag_a: p for p in cmp.pairs}


# ---------------------------------------------------------------------------------------------
# Pairing names
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("epoch_accuracy", "accuracy"),
        ("epoch_accuracy", "Accuracy/accuracy"),
        ("accuracy", "train/accuracy"),
        ("acc", "epoch_accuracy"),
        ("epoch_loss", "Loss/loss"),
        ("loss", "epoch_loss"),
        ("val_acc", "validation/epoch_accuracy"),
        ("val_acc", "test/accuracy"),
        ("val_loss", "eval/loss"),
        ("accuracy/train", "train/epoch_accuracy"),
    ],
)
def test_normalised_names_pair(a: str, b: str) -> None:
    pairs, ua, ub = pair_tags([a], [b])
    assert [(p.a, p.b, p.how) for p in pairs] == [(a, b, "normalised")]
    assert ua == [] and ub == []


def test_train_and_heldout_never_pair_and_test_stays_apart_from_validation() -> None:
    pairs, ua, ub = pair_tags(["loss"], ["validation/epoch_loss"])
    assert pairs == [] and ua == ["loss"] and ub == ["validation/epoch_loss"]

    pairs, ua, ub = pair_tags(
        ["val_acc", "test_acc", "acc"], ["test/accuracy", "validation/accuracy", "train/accuracy"]
    )
    got = {p.a: p.b for p in pairs}
    assert got == {
        "val_acc": "validation/accuracy",
        "test_acc": "test/accuracy",
        "acc": "train/accuracy",
    }
    # held-out curves come first (test, then validation), then train
    assert [p.a for p in pairs] == ["test_acc", "val_acc", "acc"]


def test_epoch_level_curve_preferred_over_batch_level() -> None:
    pairs, ua, _ = pair_tags(["train/batch_loss", "train/epoch_loss"], ["loss"])
    assert [(p.a, p.b) for p in pairs] == [("train/epoch_loss", "loss")]
    assert ua == ["train/batch_loss"]
    pairs, ua, _ = pair_tags(
        ["r1/batch_loss", "r1/epoch_loss", "r2/epoch_loss"], ["r1/loss", "r2/loss"]
    )
    assert {(p.a, p.b) for p in pairs} == {
        ("r1/epoch_loss", "r1/loss"),
        ("r2/epoch_loss", "r2/loss"),
    }
    assert ua == ["r1/batch_loss"]


def test_parse_tag_drops_repeats_and_reads_family_from_run() -> None:
    n = parse_tag("validation/epoch_loss")
    assert (n.metric, n.family, n.gran) == ("loss", "validation", "epoch")
    n = parse_tag("Accuracy/accuracy")
    assert (n.metric, n.context) == ("accuracy", ())
    n = parse_tag("run_1/strict/foo")
    assert (n.metric, n.family, n.context) == ("foo", "", ("run_1", "strict"))


# ---------------------------------------------------------------------------------------------
# Event files: names, sub-runs, encodings
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keras_vs_tf(tmp_path_factory) -> tuple[Path, Path]:
    """A: raw-TF style flat tags; B: Keras TF2 style train/ and validation/ sub-runs."""
    root = tmp_path_factory.mktemp("names")
    e = np.arange(30)
    write_run(
        root / "tf",
        {
            "Accuracy/accuracy": curve(e, acc_fn),
            "Loss/loss": curve(e, loss_fn),
            "val_acc": curve(e, lambda x: acc_fn(x) - 0.01),
            "val_loss": curve(e, lambda x: loss_fn(x) + 0.02),
            "my_custom_thing": curve(e, lambda x: x * 0.0 + 1.0),
        },
    )
    write_run(
        root / "keras" / "train",
        {
            "epoch_accuracy": curve(e, lambda x: acc_fn(x) - 0.02),
            "epoch_loss": curve(e, loss_fn),
            "epoch_learning_rate": curve(e, lambda x: x * 0.0 + 1e-3),
        },
        encoding="tensor",
    )
    write_run(
        root / "keras" / "validation",
        {
            "epoch_accuracy": curve(e, lambda x: acc_fn(x) - 0.03),
            "epoch_loss": curve(e, lambda x: loss_fn(x) + 0.02),
        },
        encoding="tensor",
    )
    return root / "tf", root / "keras"


def test_renamed_tags_and_subruns_pair_from_event_files(keras_vs_tf) -> None:
    a_dir, b_dir = keras_vs_tf
    runs_b = read_logdir(b_dir)
    keys_b = set(collect(runs_b))
    assert keys_b == {
        "train/epoch_accuracy",
        "train/epoch_loss",
        "train/epoch_learning_rate",
        "validation/epoch_accuracy",
        "validation/epoch_loss",
    }
    cmp = compare_scalars(read_logdir(a_dir), runs_b)
    got = {p.tag_a: (p.tag_b, p.how) for p in cmp.pairs}
    assert got == {
        "Accuracy/accuracy": ("train/epoch_accuracy", "normalised"),
        "Loss/loss": ("train/epoch_loss", "normalised"),
        "val_acc": ("validation/epoch_accuracy", "normalised"),
        "val_loss": ("validation/epoch_loss", "normalised"),
    }
    # importance: held-out accuracy, held-out loss, train accuracy, train loss
    assert [p.tag_a for p in cmp.pairs] == ["val_acc", "val_loss", "Accuracy/accuracy", "Loss/loss"]
    assert cmp.unpaired_a == ["my_custom_thing"]
    assert cmp.unpaired_b == ["train/epoch_learning_rate"]

    p = by_a(cmp)["val_acc"]
    assert p.steps == 30 and p.goal == "max"
    assert p.final_gap == pytest.approx(-0.02, abs=1e-6)
    assert p.mean_diff == pytest.approx(-0.02, abs=1e-6)
    assert p.best_a == pytest.approx(acc_fn(29) - 0.01, abs=1e-6)
    assert p.diverges_at_step == 0  # a constant offset on smooth curves: apart from the start
    loss = by_a(cmp)["Loss/loss"]
    assert loss.goal == "min" and loss.best_b == pytest.approx(loss_fn(29), rel=1e-6)
    assert loss.max_abs_diff == pytest.approx(0.0, abs=1e-6)
    assert loss.diverges_at_step is None

    rows = cmp.to_list()
    text = json.dumps(rows, allow_nan=False)
    for key in (
        "tag_a",
        "tag_b",
        "steps",
        "final_a",
        "final_b",
        "max_abs_diff",
        "diverges_at_step",
    ):
        assert all(key in r for r in rows), key
    assert json.loads(text)[0]["tag_a"] == "val_acc"


def test_tf1_and_tf2_encodings_give_identical_results(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    steps = np.arange(0, 200, 2)
    vals = acc_fn(steps / 10) + rng.normal(0, 0.01, steps.size)
    other = acc_fn(steps / 10) + rng.normal(0, 0.01, steps.size) - 0.15 * (steps >= 120)
    write_run(tmp_path / "v1", {"accuracy": (steps, vals)}, encoding="simple_value")
    write_run(tmp_path / "v2", {"accuracy": (steps, vals)}, encoding="tensor")
    write_run(tmp_path / "c", {"epoch_accuracy": (steps, other)}, encoding="tensor")
    r1, r2, rc = (read_logdir(tmp_path / d) for d in ("v1", "v2", "c"))
    assert r1[0].scalars["accuracy"].encoding == "simple_value"
    assert r2[0].scalars["accuracy"].encoding == "tensor"
    same = compare_scalars(r1, r2)
    p = same.pairs[0]
    assert (p.how, p.steps, p.max_abs_diff, p.diverges_at_step) == ("exact", 100, 0.0, None)
    d1 = compare_scalars(r1, rc).to_list()
    d2 = compare_scalars(r2, rc).to_list()
    assert d1 == d2
    assert d1[0]["diverges_at_step"] == 120


# ---------------------------------------------------------------------------------------------
# Step grids
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def grids(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("grids")
    e = np.arange(30)
    # per epoch, 30 points, one per epoch over ~30 minutes of training
    write_run(root / "epoch", {"epoch_accuracy": curve(e, acc_fn)}, wall_per_point=60.0)
    # the same curve logged every 550 global steps (550 batches per epoch)
    write_run(root / "every550", {"accuracy": (e * 550, acc_fn(e))}, wall_per_point=60.0)
    # every batch, 16500 points over the same ~30 minutes
    b = np.arange(16500)
    write_run(
        root / "batch",
        {"batch_accuracy": (b, acc_fn(b / 550.0))},
        wall_per_point=30 * 60.0 / 16500,
    )
    # the same epochs counted from 1
    write_run(root / "from1", {"accuracy": (e + 1, acc_fn(e))})
    # linear curves at strides 2 and 3: interpolation must be exact
    s2, s3 = np.arange(0, 60, 2), np.arange(0, 60, 3)
    write_run(root / "stride2", {"loss": (s2, 3.0 - 0.01 * s2)})
    write_run(root / "stride3", {"loss": (s3, 3.0 - 0.01 * s3)})
    return root


def test_epoch_vs_every_550_steps_compares_on_epochs(grids: Path) -> None:
    cmp = compare_scalars(read_logdir(grids / "epoch"), read_logdir(grids / "every550"))
    (p,) = cmp.pairs
    assert (p.tag_a, p.tag_b, p.how) == ("epoch_accuracy", "accuracy", "normalised")
    assert p.steps == 30 and p.resampled
    assert "step units differ" in p.note and "550" in p.note
    assert p.max_abs_diff == pytest.approx(0.0, abs=1e-6)
    assert p.grid_steps[0] == 0 and p.grid_steps[-1] == 29


def test_epoch_vs_every_batch_resamples_onto_epochs(grids: Path) -> None:
    cmp = compare_scalars(read_logdir(grids / "epoch"), read_logdir(grids / "batch"))
    (p,) = cmp.pairs
    assert p.tag_b == "batch_accuracy"
    assert p.steps == 30  # the coarser (per-epoch) grid
    assert "step units differ" in p.note
    assert p.max_abs_diff == pytest.approx(0.0, abs=1e-5)
    assert p.diverges_at_step is None


def test_steps_offset_by_one(grids: Path) -> None:
    (p,) = compare_scalars(read_logdir(grids / "epoch"), read_logdir(grids / "from1")).pairs
    assert p.steps == 29  # overlap 1..29
    assert list(p.grid_steps[[0, -1]]) == [1, 29]
    assert "ranges differ" in p.note
    # B is A shifted right by one epoch, so on common steps B lags A (accuracy rises)
    assert p.mean_diff < 0


def test_different_strides_interpolate_on_coarser_grid(grids: Path) -> None:
    (p,) = compare_scalars(read_logdir(grids / "stride2"), read_logdir(grids / "stride3")).pairs
    assert p.how == "exact"
    assert p.steps == 20  # B's steps 0,3,...,57 inside the overlap 0..57 (A ends at 58)
    assert p.resampled
    assert "interpolated" in p.note
    assert p.max_abs_diff == pytest.approx(0.0, abs=1e-5)


def test_shorter_run_is_compared_on_the_common_part(tmp_path: Path) -> None:
    e = np.arange(30)
    write_run(tmp_path / "a", {"accuracy": curve(e, acc_fn)})
    write_run(tmp_path / "b", {"accuracy": curve(e[:20], lambda x: acc_fn(x) + 0.001)})
    (p,) = compare_scalars(read_logdir(tmp_path / "a"), read_logdir(tmp_path / "b")).pairs
    assert p.steps == 20
    assert (p.final_step_a, p.final_step_b) == (29, 19)
    assert p.final_a == pytest.approx(acc_fn(29), abs=1e-6)
    assert p.final_gap == pytest.approx(0.001, abs=1e-6)
    assert "ranges differ" in p.note and "step units" not in p.note


def test_run_that_stopped_early_is_not_rescaled(tmp_path: Path) -> None:
    s = np.arange(1000)
    write_run(tmp_path / "a", {"loss": curve(s, lambda x: loss_fn(x / 100))})
    # stopped after 100 of 1000 steps: fewer points and a 10x shorter wall-clock span
    write_run(tmp_path / "b", {"loss": curve(s[:100], lambda x: loss_fn(x / 100))})
    (p,) = compare_scalars(read_logdir(tmp_path / "a"), read_logdir(tmp_path / "b")).pairs
    assert p.steps == 100 and "step units" not in p.note
    assert p.max_abs_diff == pytest.approx(0.0, abs=1e-6)


# ---------------------------------------------------------------------------------------------
# Bad values, duplicates, divergence
# ---------------------------------------------------------------------------------------------


def test_nan_and_inf_are_ignored_counted_and_noted(tmp_path: Path) -> None:
    e = np.arange(30)
    bad = acc_fn(e)
    bad[5], bad[12] = np.nan, np.inf
    write_run(tmp_path / "a", {"accuracy": (e, bad), "loss": (e, np.full(30, np.nan))})
    write_run(tmp_path / "b", {"accuracy": curve(e, acc_fn), "loss": curve(e, loss_fn)})
    cmp = compare_scalars(read_logdir(tmp_path / "a"), read_logdir(tmp_path / "b"))
    acc, loss = by_a(cmp)["accuracy"], by_a(cmp)["loss"]
    assert acc.nonfinite_a == 2 and acc.nonfinite_b == 0
    assert "2 non-finite values (1 NaN, 1 inf; first at step 5)" in acc.note
    assert acc.steps == 28  # A's finite points; B has all 30
    assert "B has 2 steps that A lacks" in acc.note and not acc.resampled
    assert 5 not in acc.grid_steps and 12 not in acc.grid_steps
    assert acc.max_abs_diff == pytest.approx(0.0, abs=1e-6)
    assert acc.best_a == pytest.approx(acc_fn(29), abs=1e-6)
    assert loss.nonfinite_a == 30 and loss.steps == 0 and loss.final_a is None
    rows = json.loads(json.dumps(cmp.to_list(), allow_nan=False))
    assert [r for r in rows if r["tag_a"] == "loss"][0]["max_abs_diff"] is None
    assert any("no common steps" in w.message for w in cmp.warnings)


def test_duplicate_steps_keep_last_value(tmp_path: Path) -> None:
    e = np.arange(10)
    # each step written twice in a row (steps never go back): compare keeps the last value
    steps = np.repeat(e, 2)
    vals = np.stack([acc_fn(e) - 0.2, acc_fn(e)], axis=1).reshape(-1)
    write_run(tmp_path / "a", {"accuracy": (steps, vals)})
    write_run(tmp_path / "b", {"accuracy": curve(e, acc_fn)})
    (p,) = compare_scalars(read_logdir(tmp_path / "a"), read_logdir(tmp_path / "b")).pairs
    assert p.duplicates_a == 10 and p.steps == 10
    assert "duplicate steps" in p.note
    assert p.max_abs_diff == pytest.approx(0.0, abs=1e-6)


def test_restarted_session_is_purged_by_the_reader(tmp_path: Path) -> None:
    e = np.arange(10)
    # two sessions appended: the second rewrites steps 0..9; the reader drops the orphans
    steps = np.concatenate([e, e])
    vals = np.concatenate([acc_fn(e) - 0.2, acc_fn(e)])
    write_run(tmp_path / "a", {"accuracy": (steps, vals)})
    write_run(tmp_path / "b", {"accuracy": curve(e, acc_fn)})
    (ra,) = read_logdir(tmp_path / "a")
    assert ra.scalars["accuracy"].dropped == 10
    assert [w.kind for w in ra.warnings] == ["scalars.restart"]
    (p,) = compare_scalars([ra], read_logdir(tmp_path / "b")).pairs
    assert p.duplicates_a == 0 and p.steps == 10
    assert p.max_abs_diff == pytest.approx(0.0, abs=1e-6)


def test_diverges_at_known_step_and_not_for_noise(tmp_path: Path) -> None:
    steps = np.arange(0, 200)
    for seed in range(5):
        rng = np.random.default_rng(seed)
        a = acc_fn(steps / 10) + rng.normal(0, 0.01, steps.size)
        b = acc_fn(steps / 10) + rng.normal(0, 0.01, steps.size)
        split = b - 0.15 * (steps >= 120)
        d = tmp_path / str(seed)
        write_run(d / "a", {"accuracy": (steps, a)})
        write_run(d / "b", {"accuracy": (steps, b)})
        write_run(d / "split", {"accuracy": (steps, split)})
        ra, rb, rs = (read_logdir(d / x) for x in ("a", "b", "split"))
        assert compare_scalars(ra, rs).pairs[0].diverges_at_step == 120, seed
        assert compare_scalars(ra, rb).pairs[0].diverges_at_step is None, seed


def test_divergence_needs_more_than_one_last_point() -> None:
    a = np.zeros(50)
    b = np.zeros(50)
    b[-1] = 1.0
    assert divergence_index(a, b) is None
    b[-2] = 1.0
    assert divergence_index(a, b) == 48


def test_noisy_curves_on_one_side_are_apart_and_a_slow_wander_is_not() -> None:
    steps = np.arange(200)
    rng = np.random.default_rng(7)
    base = acc_fn(steps / 20)
    a = base + rng.normal(0, 0.05, steps.size)
    # every point of b above a, though by less than the curves' own noise at many steps
    b = a + 0.04 + np.abs(rng.normal(0, 0.05, steps.size))
    assert noise_level(a) > 0.04
    assert divergence_index(a, b) == 0
    # two runs sharing their noise (same seed and data order) whose gap wanders slowly: one
    # side for the last 100 points, but that is one slow swing, not 100 independent draws
    wander = 0.3 * np.sin(2 * np.pi * steps / 200)
    assert divergence_index(a, a + wander) is None
    # too short a same-side tail is no evidence either
    crossing = b.copy()
    crossing[-12] = a[-12] - 0.01
    assert divergence_index(a, crossing) is None


# ---------------------------------------------------------------------------------------------
# Forced pairs
# ---------------------------------------------------------------------------------------------


def test_forced_pairs_win_and_unknown_tags_error(keras_vs_tf) -> None:
    a_dir, b_dir = keras_vs_tf
    ra, rb = read_logdir(a_dir), read_logdir(b_dir)
    cmp = compare_scalars(
        ra,
        rb,
        forced=[("my_custom_thing", "epoch_learning_rate"), ("val_acc", "train/epoch_accuracy")],
    )
    got = {p.tag_a: (p.tag_b, p.how) for p in cmp.pairs}
    assert got["my_custom_thing"] == ("train/epoch_learning_rate", "forced")
    assert got["val_acc"] == ("train/epoch_accuracy", "forced")
    # the automatic pass still pairs the rest, without reusing forced tags: the train accuracy
    # of A has lost its partner and is never paired with B's validation accuracy
    assert got["val_loss"] == ("validation/epoch_loss", "normalised")
    assert "Accuracy/accuracy" in cmp.unpaired_a
    assert "validation/epoch_accuracy" in cmp.unpaired_b
    with pytest.raises(TbdiffError, match="no scalar tag 'nope'"):
        compare_scalars(ra, rb, forced=[("nope", "epoch_loss")])
    with pytest.raises(TbdiffError, match="ambiguous"):
        compare_scalars(ra, rb, forced=[("val_acc", "epoch_loss")])


# ---------------------------------------------------------------------------------------------
# Real logs written by other people
# ---------------------------------------------------------------------------------------------

needs_reallogs = pytest.mark.shared("reallogs")


@needs_reallogs
def test_real_pytorch_strict_vs_lax() -> None:
    base = REALLOGS / "janosh__tensorboard-reducer/tests/runs"
    strict, lax = read_logdir(base / "strict"), read_logdir(base / "lax")
    cmp = compare_scalars(strict, lax)
    got = {p.tag_a: p.tag_b for p in cmp.pairs}
    assert got == {f"run_{i}/strict/foo": f"run_{i}/lax/foo" for i in (1, 2, 3)}
    assert all(p.how == "normalised" and p.steps > 0 for p in cmp.pairs)
    assert "matched on shared path 'run_2'" in by_a(cmp)["run_2/strict/foo"].note
    # strict logs every 5 steps, lax every step: compared on strict's steps, not rescaled
    assert all(not p.resampled and "step units" not in p.note for p in cmp.pairs)
    assert cmp.unpaired_a == []
    lax_keys = set(collect(lax))
    assert set(cmp.unpaired_b) == lax_keys - set(got.values())
    assert all("bar" in k for k in cmp.unpaired_b) and cmp.unpaired_b
    json.dumps(cmp.to_list(), allow_nan=False)
    # run_i of strict and of lax are independent draws of one noisy curve: never apart
    assert all(p.diverges_at_step is None for p in cmp.pairs)


@needs_reallogs
@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("lax/run_1", "lax/run_3"),
        ("strict/run_1", "strict/run_2"),
        ("strict/run_1", "strict/run_3"),
    ],
)
def test_real_noisy_curves_that_never_cross_are_apart(a: str, b: str, capsys) -> None:
    # each curve's step-to-step noise (~0.3) is larger than the smallest gap (0.08 for strict),
    # yet B is above A at every common step (110 and 100 of them): apart from the first one;
    # run_1 vs run_3 (never closer than 1.11) must not be "apart" from its last two points only
    base = REALLOGS / "janosh__tensorboard-reducer/tests/runs"
    (p,) = compare_scalars(read_logdir(base / a), read_logdir(base / b)).pairs
    gap = p.values_b - p.values_a
    assert p.steps >= 100 and np.all(gap > 0)
    assert gap.min() < 3 * (noise_level(p.values_a) + noise_level(p.values_b))
    assert p.diverges_at_step == p.grid_steps[0] and p.apart_by == pytest.approx(gap.min())
    assert main(["scalars", str(base / a), str(base / b)]) == 1  # a curve separates for good
    out = capsys.readouterr().out
    assert "apart by at least" in out and "not apart for good" not in out


@needs_reallogs
def test_real_keras3_subruns_against_itself_and_against_flat_keras_names(tmp_path: Path) -> None:
    rossman = read_logdir(REALLOGS / "ldebris__Rossman/logs")
    keys = collect(rossman)
    assert "train/epoch_loss" in keys and "validation/epoch_loss" in keys
    same = compare_scalars(rossman, rossman)
    assert same.unpaired_a == [] and same.unpaired_b == []
    assert all(p.how == "exact" and p.max_abs_diff == 0.0 for p in same.pairs)
    assert all(p.diverges_at_step is None for p in same.pairs)
    # several sessions were appended into one folder: the reader kept the last session of each
    # step and said so (scalars.overlap); compare sees no repeated steps
    assert any(w.kind == "scalars.overlap" for r in rossman for w in r.warnings)
    assert all(p.duplicates_a == 0 for p in same.pairs)

    # old-Keras style flat names for the same curves
    flat = {
        "loss": keys["train/epoch_loss"],
        "val_loss": keys["validation/epoch_loss"],
        "mse": keys["train/epoch_mse"],
        "val_mse": keys["validation/epoch_mse"],
        "lr": keys["train/epoch_learning_rate"],
    }
    cmp = compare_scalars(rossman, flat)
    got = {p.tag_a: p.tag_b for p in cmp.pairs}
    assert got == {
        "train/epoch_loss": "loss",
        "validation/epoch_loss": "val_loss",
        "train/epoch_mse": "mse",
        "validation/epoch_mse": "val_mse",
        "train/epoch_learning_rate": "lr",
    }
    assert [p.tag_a for p in cmp.pairs][:2] == ["validation/epoch_loss", "train/epoch_loss"]
    assert all(p.max_abs_diff == 0.0 for p in cmp.pairs)
    assert sorted(cmp.unpaired_a) == [
        "validation/evaluation_loss_vs_iterations",
        "validation/evaluation_mse_vs_iterations",
    ]


# ---------------------------------------------------------------------------------------------
# Scale
# ---------------------------------------------------------------------------------------------


def test_two_million_points_compare_on_the_coarser_grid() -> None:
    n = 2_000_000
    rng = np.random.default_rng(1)
    steps = np.arange(n, dtype=np.int64)
    a = ScalarSeries("loss", steps, rng.normal(1.0, 0.01, n), np.zeros(n), "simple_value")
    b = ScalarSeries(
        "loss",
        steps[::3].copy(),
        rng.normal(1.0, 0.01, steps[::3].size),
        np.zeros(steps[::3].size),
        "tensor",
    )
    p = compare_series(a, b)
    assert p.steps == steps[::3].size
    assert p.diverges_at_step is None
