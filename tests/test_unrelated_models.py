"""Two evidently different models are said to be so, first (tbdiff/findings/task.py).

Real event files only: a Keras 3 regression network (ldebris/Rossman: 55 inputs, one linear
output, mean squared error) against a Keras 10-class classifier (muelletm/styx, config only),
the seed case (raw TF vs Keras, one MLP) and one model recorded three ways (styx). The Keras vs
PyTorch ports and the acceptance pairs are checked by tests/pairs_cli.py (`check_pair` rejects
model.unrelated in every pair of tests/pairs_manifest.py and tests/torch_manifest.py).
"""

from __future__ import annotations

import json
import re

import pytest
from helpers import REALLOGS, SAMPLE_LOGS, run_tbdiff

from tbdiff.findings import task
from tbdiff.model import describe
from tbdiff.pipeline import load_side, run_inputs

ROSSMAN = REALLOGS / "ldebris__Rossman" / "logs"
STYX_FIT = REALLOGS / "muelletm__styx" / "logs" / "fit"
STYX_GRAPH = REALLOGS / "muelletm__styx" / "log" / "events.out.tfevents.1602787491.DESKTOP-GEJ0BFS"
JAN = REALLOGS / "Jan1995__Mnist" / "logs" / "events.out.tfevents.1531978802.DESKTOP-MTJCVR8"
UNRELATED = "model.unrelated"

pytestmark = pytest.mark.shared("reallogs")


def compare_json(a, b) -> tuple[int, dict]:
    proc = run_tbdiff("compare", str(a), str(b), "--json")
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def shape(path) -> task.Shape:
    side = load_side(str(path))
    return task.shape_of(describe(run_inputs(side.runs, side.graph, side.hparams, {})))


def test_regression_model_vs_classifier_is_said_first() -> None:
    code, doc = compare_json(ROSSMAN, STYX_FIT)
    first = doc["findings"][0]
    assert code == 1  # critical: a CI gate pointed at an unrelated run does not pass
    assert (first["id"], first["severity"]) == (UNRELATED, "critical")
    assert first["title"].startswith("These look like different models: A is a regression")
    assert "10-class classifier" in first["title"]
    assert "task regression vs classification; outputs 1 vs 10" in first["detail"]
    assert first["a"] == {
        "task": "regression",
        "outputs": 1,
        "inputs": 55,
        "weight_layers": 3,
        "loss": "mean_squared_error",
    }
    assert (first["b"]["task"], first["b"]["outputs"]) == ("classification", 10)
    # the dropout difference is still reported, after it, and is not the verdict's cause
    ids = [f["id"] for f in doc["findings"]]
    assert "dropout.count_mismatch" in ids[1:]
    verdict = doc["verdict"]
    assert verdict.startswith("logs and fit look like different models, not two versions")
    assert "dropout" not in verdict
    assert "trails" not in verdict  # no MSE curve quoted against a cross-entropy curve
    assert verdict.endswith("Fix: compare logs with a run of the same model.")


def test_either_order_gives_the_same_evidence() -> None:
    _, ab = compare_json(ROSSMAN, STYX_FIT)
    _, ba = compare_json(STYX_FIT, ROSSMAN)
    assert ba["findings"][0]["id"] == UNRELATED
    assert ba["findings"][0]["a"] == ab["findings"][0]["b"]
    assert "task classification vs regression; outputs 10 vs 1" in ba["findings"][0]["detail"]


def test_terminal_verdict_stays_short() -> None:
    proc = run_tbdiff("compare", str(ROSSMAN), str(STYX_FIT), env={"COLUMNS": "80"})
    lines = proc.stdout.splitlines()
    top = next(i for i, line in enumerate(lines) if line.startswith("╭─ Verdict"))
    bottom = next(i for i in range(top, len(lines)) if lines[i].startswith("╰"))
    assert bottom - top - 1 <= 4
    assert re.search(r"^1 critical These look like different models", proc.stdout, re.M)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (SAMPLE_LOGS / "tensorflow", SAMPLE_LOGS / "keras"),  # the seed case: one MLP, two APIs
        (STYX_GRAPH, STYX_FIT),  # one model: its graph vs its Keras config
    ],
    ids=["seed-case", "styx-graph-vs-config"],
)
def test_versions_of_one_model_are_not_unrelated(a, b) -> None:
    _, doc = compare_json(a, b)
    assert UNRELATED not in [f["id"] for f in doc["findings"]]
    assert task.evidence(shape(a), shape(b)) == []


def test_one_kind_of_evidence_is_not_enough() -> None:
    """A one-layer softmax regression vs the seed MLP, both on MNIST: only the layers differ."""
    found = task.evidence(shape(JAN), shape(SAMPLE_LOGS / "tensorflow"))
    assert found == ["0 of 5 weight layers pair with the same kind and shape"]
    _, doc = compare_json(JAN, SAMPLE_LOGS / "tensorflow")
    assert doc["findings"][0]["id"] == "layer.count_mismatch"
    assert UNRELATED not in [f["id"] for f in doc["findings"]]


def test_task_is_read_from_output_loss_and_metrics() -> None:
    rossman, styx, seed = shape(ROSSMAN), shape(STYX_FIT), shape(SAMPLE_LOGS / "keras")
    assert (rossman.task, rossman.outputs, rossman.inputs) == ("regression", 1, 55)
    assert (styx.task, styx.outputs, styx.inputs, styx.loss) == ("classification", 10, None, None)
    assert styx.short == "a 10-class classifier (softmax output)"  # no loss: from the softmax
    assert (seed.task, seed.outputs, seed.inputs) == ("classification", 10, 784)
    assert seed.short == "a 10-class classifier (categorical cross entropy)"  # linear + logits
