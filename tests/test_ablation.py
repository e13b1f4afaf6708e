"""`tbdiff train-and-compare --ablate`: the study end to end on real MNIST, and its statistics.

The end-to-end run trains all ten models (the two seed models and one variant per difference
in each direction) for one epoch on 2,000 images, in a subprocess as a user runs it. At those
settings 70% dropout keeps a model near chance while 30% dropout reaches ~35-40%, so the
dropout variants move accuracy in the predicted direction by tens of points on every seed we
tried (seeds 0-3), far beyond noise; the sample-weight variants are bit-for-bit their seed
model (a product with 1.0 is exact and training is deterministic).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import MNIST_DIR

from tbdiff.cli import main
from tbdiff.errors import TbdiffError
from tbdiff.events import read_logdir
from tbdiff.experiment import ablation

needs_data = pytest.mark.shared("mnist")
DIRECTIONS = ("keras-to-tf", "tf-to-keras")


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    logdir = tmp_path_factory.mktemp("ablate")
    env = dict(os.environ, TBDIFF_OFFLINE="1")
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # tbdiff's own default must silence TensorFlow
    cmd = [sys.executable, "-m", "tbdiff", "train-and-compare", "--ablate", "--json"]
    cmd += ["--epochs", "1", "--limit-train", "2000", "--logdir", str(logdir)]
    cmd += ["--data-dir", str(MNIST_DIR)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 1, proc.stderr[-3000:]  # a critical finding, like compare
    return json.loads(proc.stdout), proc.stderr


@needs_data
def test_ablation_structure(study) -> None:
    report, _ = study
    assert report["schema"] == "tbdiff.report/1"
    ab = report["ablation"]
    assert ab["schema"] == "tbdiff.ablation/1" and ab["jobs"] == {"done": 10, "total": 10}
    assert [d["key"] for d in ab["differences"]] == [d.key for d in ablation.DIFFERENCES]
    for d in ab["differences"]:
        assert all(d["findings"][i] is not None for i in d["findings"]), d  # named by compare
        for direction in DIRECTIONS:
            e = d[direction]
            assert e["variant"] == f"{direction}.{d['key']}"
            assert e["accuracy"]["n"] == 1 and e["points"]["n"] == 1
            assert e["p_value"] is None or d["key"] in ("sample_weights", "train_metrics")
            assert e["status"] in ("1 seed", "identical")
    # what no knob removes is listed as such
    assert {f["id"] for f in ab["not_ablated"]} == {"naming.only"}
    assert "measured (1 seed, 1 epoch" in report["verdict"]


@needs_data
def test_dropout_variants_move_accuracy_as_predicted(study) -> None:
    ab = study[0]["ablation"]
    dropout = next(d for d in ab["differences"] if d["key"] == "dropout")
    # Keras with raw TF's 30% dropout gains, raw TF with Keras' 70% loses: both by > 10 points
    assert dropout["keras-to-tf"]["points"]["mean"] > 10
    assert dropout["tf-to-keras"]["points"]["mean"] > 10
    sw = next(d for d in ab["differences"] if d["key"] == "sample_weights")
    assert sw["keras-to-tf"]["points"]["mean"] == 0.0 and sw["tf-to-keras"]["points"]["mean"] == 0.0


@needs_data
def test_every_variant_has_its_own_logdir(study) -> None:
    ab = study[0]["ablation"]
    assert len(ab["logdirs"]) == 10
    for path in ab["logdirs"].values():
        (run,) = read_logdir(path)
        assert run.best_graph() is not None
        assert run.hparams["spec/switch"] in ("placeholder", "learning_phase")
        assert len(run.scalars) == 4  # train/test loss and accuracy, one point each


@needs_data
def test_compare_works_on_two_variants(study, capsys) -> None:
    logdirs = study[0]["ablation"]["logdirs"]

    def findings(a: str, b: str) -> tuple[int, set[str]]:
        code = main(["compare", logdirs[a], logdirs[b], "--json"])
        return code, {f["id"] for f in json.loads(capsys.readouterr().out)["findings"]}

    # Keras with raw TF's dropout semantics: only the benign differences are left
    code, ids = findings("tensorflow/seed0", "keras-to-tf.dropout/seed0")
    assert code == 0 and "dropout.rate_mismatch" not in ids
    assert {"learning_phase.mechanism", "sample_weights.present"} <= ids
    # against its own seed model only the rate differs
    code, ids = findings("keras/seed0", "keras-to-tf.dropout/seed0")
    assert code == 1 and "dropout.rate_mismatch" in ids
    assert {"learning_phase.mechanism", "sample_weights.present"}.isdisjoint(ids)


@needs_data
def test_tensorflow_log_lines_silenced(study) -> None:
    stderr = study[1]
    assert "absl::InitializeLog" not in stderr and "I0000" not in stderr
    assert "keras-to-tf.dropout seed 0 keras: epoch 1/1" in stderr  # progress still shown


@needs_data
def test_resume_of_a_finished_study_trains_nothing(study, capsys) -> None:
    run_dir = study[0]["ablation"]["run_dir"]
    code = main(["train-and-compare", "--ablate", "--resume", run_dir, "--json"])
    captured = capsys.readouterr()
    assert code == 1 and "0 run(s) trained" in captured.err
    assert json.loads(captured.out)["ablation"]["jobs"]["done"] == 10


# ------------------------------------------------------------------ pure helpers


@pytest.mark.parametrize(
    ("t", "df"),
    [(12.706, 1), (4.303, 2), (3.182, 3), (2.776, 4), (2.571, 5), (2.228, 10)],
)
def test_t_test_p_matches_the_t_table(t: float, df: int) -> None:
    # n values whose one-sample t statistic is t: mean m, sample std 1 -> t = m * sqrt(n)
    n = df + 1
    values = [v + t / n**0.5 for v in _unit_sd(n)]
    assert ablation.t_test_p(values) == pytest.approx(0.05, abs=5e-4)


def _unit_sd(n: int) -> list[float]:
    raw = [float(i) for i in range(n)]
    mean = sum(raw) / n
    sd = (sum((x - mean) ** 2 for x in raw) / (n - 1)) ** 0.5
    return [(x - mean) / sd for x in raw]


def test_t_test_p_edges() -> None:
    assert ablation.t_test_p([0.3]) is None
    assert ablation.t_test_p([0.0, 0.0, 0.0]) == 1.0
    assert ablation.t_test_p([0.2, 0.2]) == 0.0


def _write(run_dir: Path, variant: str, seed: int, acc: float) -> None:
    rec = {"variant": variant, "seed": seed, "test_accuracy": acc, "seconds": 1.0}
    (run_dir / "results" / f"{variant}-seed{seed}.json").write_text(json.dumps(rec))


def _study(tmp_path: Path, seeds: int) -> ablation.StudyConfig:
    cfg = {"epochs": 2, "keep_prob": 0.7, "keras_dropout_rate": 0.7, "seed": 0, "seeds": seeds}
    cfg["limit_train"] = None
    return ablation.open_study(tmp_path, ablation.study_config(cfg))


def test_partial_study_summary(tmp_path: Path) -> None:
    study = _study(tmp_path, seeds=3)
    accs = {"tensorflow": 0.98, "keras": 0.96, "keras-to-tf.dropout": 0.981}
    for seed, jitter in ((0, 0.0), (1, 0.001)):
        for variant, acc in accs.items():
            _write(tmp_path, variant, seed, acc + jitter)
    _write(tmp_path, "keras-to-tf.sample_weights", 0, 0.96)
    _write(tmp_path, "keras-to-tf.learning_phase", 0, 0.962)
    s = ablation.summarize(tmp_path, study)
    assert (s.jobs_done, s.jobs_total) == (8, 30)
    assert s.gap.n == 2 and s.gap.mean == pytest.approx(2.0)
    drop = s.differences[0].keras_to_tf
    assert drop.by_seed == {0: pytest.approx(2.1), 1: pytest.approx(2.1)}
    assert drop.percent_of_gap == pytest.approx(105.0)
    assert drop.status == "explains" and drop.p_value < 0.001
    assert s.differences[1].keras_to_tf.status == "1 seed"
    assert s.differences[2].keras_to_tf.status == "identical"
    assert s.differences[1].tf_to_keras.status == "not run"
    # the JSON document (`ablation` of --json): strict JSON, by_seed keyed by the seed as text
    doc = json.loads(json.dumps(s.to_json(), allow_nan=False))
    assert doc["schema"] == "tbdiff.ablation/1" and doc["jobs"] == {"done": 8, "total": 30}
    points = doc["differences"][0]["keras-to-tf"]["points"]
    assert points["by_seed"] == {"0": pytest.approx(2.1), "1": pytest.approx(2.1)}
    assert points["n"] == 2 and doc["gap"]["values"] == [pytest.approx(2.0)] * 2
    assert len(doc["logdirs"]) == 8 and doc["not_ablated"] == []
    line = ablation.verdict_line(s)
    assert (
        line.startswith("measured (2 seeds, 2 epochs") and "2.10 ± 0.00 of the 2.00 ± 0.00" in line
    )
    assert "the other 2 differences 0.20 (1 not run yet)." in line  # seeds all of them have


def test_study_config_reads_back_as_written(tmp_path: Path) -> None:
    study = _study(tmp_path, seeds=2)
    assert ablation.open_study(tmp_path, None) == study  # what --resume continues with
    assert [j.name for j in ablation.plan(study)][:3] == [
        "tensorflow-seed0",
        "keras-seed0",
        "keras-to-tf.dropout-seed0",
    ]
    (tmp_path / "ablation.json").write_text('{"epochs": 2}')
    with pytest.raises(TbdiffError, match="not an ablation run folder"):
        ablation.open_study(tmp_path, None)


def test_a_dead_workers_lock_is_taken_over(tmp_path: Path) -> None:
    lock = tmp_path / "job.lock"
    assert ablation._claim(lock)
    assert not ablation._claim(lock)  # held by this (live) process
    lock.write_text("999999999")  # no such process
    assert ablation._claim(lock) and lock.read_text() == str(os.getpid())


def test_resume_needs_an_ablation_folder(tmp_path: Path, capsys) -> None:
    code = main(["train-and-compare", "--ablate", "--resume", str(tmp_path)])
    assert code == 2 and "not an ablation run folder" in capsys.readouterr().err
    code = main(["train-and-compare", "--resume", str(tmp_path)])
    assert code == 2 and "add --ablate" in capsys.readouterr().err
    code = main(["train-and-compare", "--ablate", "--only", "keras"])
    assert code == 2 and "drop --only/--fix" in capsys.readouterr().err
