"""`tbdiff train-and-compare` end to end on the real MNIST files, plus its pure helpers.

The training runs in a subprocess (TF1 graph mode is process-global) once per session;
the event files it writes are read back with tbdiff.events, so these tests check what a
user would later feed to `tbdiff compare`: graphs with the optimizer, the Keras learning
phase and dropout `If` functions, hparams and one scalar per epoch for every tag.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from helpers import MNIST_DIR

from tbdiff.cli import build_parser
from tbdiff.errors import TbdiffError
from tbdiff.events import read_logdir
from tbdiff.experiment.train import config_from_args, make_run_dir, mean_std

REAL_DATA = MNIST_DIR
needs_data = pytest.mark.shared("mnist")  # TBDIFF_DATA_DIR; skipped and counted without it
EPOCHS = 2


def _train(logdir: Path, *extra: str) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TBDIFF_OFFLINE="1")
    cmd = [sys.executable, "-m", "tbdiff", "train-and-compare", "--logdir", str(logdir)]
    cmd += ["--data-dir", str(REAL_DATA), "--json", "--no-color", *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    # like diff(1): 1 = trained fine and diagnosed a critical/warning difference
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    doc = json.loads(proc.stdout)  # --json: nothing but JSON on stdout
    if doc.get("schema") == "tbdiff.report/1":
        assert proc.returncode == doc["exit_code"]
        doc["experiment"]["_report"] = doc
    else:  # --only one model: nothing to compare
        assert doc["schema"] == "tbdiff.experiment/1" and proc.returncode == 0
    return doc["experiment"]


@pytest.fixture(scope="session")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    logdir = tmp_path_factory.mktemp("runs")
    out = _train(logdir, "--epochs", str(EPOCHS), "--limit-train", "2000")
    runs = {Path(r.path).name: r for r in read_logdir(out["run_dir"])}
    return out, runs


def _graph(run):
    src = run.best_graph()
    # raw TF's FileWriter(graph=...) writes a GraphDef and a MetaGraphDef of the same graph
    assert src is not None and src.kind in ("graph_def", "meta_graph_def")
    return src.graph_def()


def _ops(gd) -> set[str]:
    return {n.op for n in gd.node}


def _library_float_consts(gd, fn_prefix: str) -> list[float]:
    vals = []
    for fn in gd.library.function:
        if fn.signature.name.startswith(fn_prefix):
            for node in fn.node_def:
                if node.op == "Const":
                    vals += list(node.attr["value"].tensor.float_val)
    return vals


@needs_data
def test_run_folders_and_json(default_run) -> None:
    out, runs = default_run
    run_dir = Path(out["run_dir"])
    assert set(runs) == {"tensorflow", "keras"}
    assert datetime.strptime(run_dir.name[:15], "%Y%m%d-%H%M%S")
    (run,) = out["runs"]
    for fw in ("tensorflow", "keras"):
        assert Path(run[fw]["logdir"]) == run_dir / fw
        assert len(run[fw]["epochs"]) == EPOCHS
        assert 0.0 <= run[fw]["test_accuracy"] <= 1.0
    assert run["gap"] == pytest.approx(
        run["tensorflow"]["test_accuracy"] - run["keras"]["test_accuracy"]
    )
    assert out["summary"]["tensorflow"]["n"] == 1
    assert out["config"]["keras_dropout_rate"] == 0.7  # the original mistake by default


@needs_data
def test_scalars_one_value_per_epoch(default_run) -> None:
    out, runs = default_run
    expect = {
        "tensorflow": ["train/loss", "train/accuracy", "test/accuracy", "test/loss"],
        "keras": ["epoch_loss", "epoch_accuracy", "epoch_test_accuracy", "epoch_test_loss"],
    }
    for fw, tags in expect.items():
        scalars = runs[fw].scalars
        for tag in tags:
            assert list(scalars[tag].steps) == list(range(EPOCHS)), (fw, tag)
        assert "histograms" not in runs[fw].counts
        assert not runs[fw].warnings
    # the JSON numbers are the ones in the event files
    (run,) = out["runs"]
    assert runs["tensorflow"].scalars["test/accuracy"].values[-1] == pytest.approx(
        run["tensorflow"]["test_accuracy"], abs=1e-6
    )
    assert runs["keras"].scalars["epoch_test_accuracy"].values[-1] == pytest.approx(
        run["keras"]["test_accuracy"], abs=1e-6
    )


@needs_data
def test_hparams_recorded(default_run) -> None:
    _, runs = default_run
    tf_h, kr_h = runs["tensorflow"].hparams, runs["keras"].hparams
    assert tf_h["framework"] == "tensorflow" and kr_h["framework"] == "keras"
    assert tf_h["keep_prob"] == pytest.approx(0.7)
    feeds = {k: v for k, v in tf_h.items() if k.startswith("feed/")}
    assert feeds == {"feed/PlaceholderWithDefault": pytest.approx(0.7)}
    assert kr_h["dropout_rate"] == pytest.approx(0.7)
    for h in (tf_h, kr_h):
        assert h["learning_rate"] == pytest.approx(0.001)
        assert h["batch_size"] == 100 and h["epochs"] == EPOCHS and h["seed"] == 0
        assert h["limit_train"] == 2000
        assert "AdamOptimizer" in h["optimizer"]


@needs_data
def test_tensorflow_graph(default_run) -> None:
    _, runs = default_run
    gd = _graph(runs["tensorflow"])
    ops = _ops(gd)
    assert ops & {"ApplyAdam", "ResourceApplyAdam"}
    names = {n.name for n in gd.node}
    for i in range(1, 5):
        assert any(n.startswith(f"Dropout{i}/") for n in names)
    for layer in ("VisibleLayer", "HiddenLayer1", "HiddenLayer2", "HiddenLayer3", "OutputLayer"):
        assert f"{layer}/weights" in names and f"{layer}/bias" in names
    assert "PlaceholderWithDefault" in names
    assert any(n.startswith("Optimizer/Trainer") for n in names)  # Adam's update ops
    assert "keras_learning_phase" not in names


@needs_data
def test_keras_graph(default_run) -> None:
    _, runs = default_run
    gd = _graph(runs["keras"])
    ops = _ops(gd)
    names = {n.name for n in gd.node}
    assert ops & {"ApplyAdam", "ResourceApplyAdam"}  # written after the train op exists
    assert "keras_learning_phase" in names
    # forward dropout conds (the other If ops are their gradients)
    ifs = [n for n in gd.node if n.op in ("If", "StatelessIf") and n.name.endswith("/cond")]
    assert sorted(n.name for n in ifs) == [f"dropout{s}/cond" for s in ("", "_1", "_2", "_3")]
    assert all(n.input[0] == "keras_learning_phase" for n in ifs)
    consts = _library_float_consts(gd, "dropout")
    assert pytest.approx(0.7) in consts  # the drop rate, inside the If's then-branch
    assert any(n.startswith("VisibleLayer/") for n in names)


@needs_data
def test_fix_changes_only_the_keras_rate(tmp_path: Path) -> None:
    out = _train(tmp_path, "--epochs", "1", "--limit-train", "1000", "--only", "keras", "--fix")
    runs = {Path(r.path).name: r for r in read_logdir(out["run_dir"])}
    assert set(runs) == {"keras"}
    assert runs["keras"].hparams["dropout_rate"] == pytest.approx(0.3)
    consts = _library_float_consts(_graph(runs["keras"]), "dropout")
    assert pytest.approx(0.3) in consts and pytest.approx(0.7) not in consts
    assert "gap" not in out["summary"]


def _args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["train-and-compare", *argv])


def test_config_from_args() -> None:
    assert config_from_args(_args())["keras_dropout_rate"] == 0.7
    assert config_from_args(_args("--fix"))["keras_dropout_rate"] == pytest.approx(0.3)
    assert config_from_args(_args("--fix", "--keep-prob", "0.9"))[
        "keras_dropout_rate"
    ] == pytest.approx(0.1)
    assert config_from_args(_args("--keras-dropout-rate", "0.5"))["keras_dropout_rate"] == 0.5
    for bad in (
        ["--fix", "--keras-dropout-rate", "0.3"],
        ["--keep-prob", "0"],
        ["--keras-dropout-rate", "1"],
        ["--epochs", "0"],
        ["--seeds", "0"],
        ["--limit-train", "50"],
    ):
        with pytest.raises(TbdiffError):
            config_from_args(_args(*bad))


def test_run_dirs_never_reused(tmp_path: Path) -> None:
    now = datetime(2026, 11, 26, 15, 30, 0)
    a, b, c = (make_run_dir(tmp_path / "runs", now) for _ in range(3))
    assert [p.name for p in (a, b, c)] == [
        "20261126-153000",
        "20261126-153000-2",
        "20261126-153000-3",
    ]
    assert all(p.is_dir() for p in (a, b, c))


def test_mean_std() -> None:
    s = mean_std([0.96, 0.98])
    assert s["n"] == 2 and s["mean"] == pytest.approx(0.97)
    assert s["std"] == pytest.approx(0.0141421356, rel=1e-6)  # sample std (ddof=1)
    assert mean_std([0.5])["std"] is None and mean_std([])["mean"] is None


@needs_data
def test_train_and_compare_ends_with_the_diagnosis(default_run) -> None:
    out, _runs = default_run
    report = out["_report"]
    assert report["schema"] == "tbdiff.report/1"
    top = report["findings"][0]
    assert (top["id"], top["severity"]) == ("dropout.rate_mismatch", "critical")
    assert (top["a"]["drop_rate"], top["b"]["drop_rate"]) == (0.3, 0.7)
    assert {s["tag_a"] for s in report["scalars"]} >= {"test/accuracy", "train/accuracy"}
    assert "drops 70% of units" in report["verdict"]
