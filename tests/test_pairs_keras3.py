"""Keras 3 acceptance pairs (issue 10): logs written by Keras 3's TensorBoard callback (model
config with compile_config, epoch scalars) and by tf.summary.trace_export of Keras 3 train
steps, compared with the real CLI. Pairs and expectations: tests/pairs_manifest.py; the runs:
tests/gen_pairs_keras3.py (one subprocess per session, no TF_USE_LEGACY_KERAS)."""

from __future__ import annotations

from pathlib import Path

import pairs_cli as C
import pairs_manifest as M
import pytest

GEN = "keras3"
PAIRS = [p for p in M.PAIRS if p.gen == GEN]
CHECKS = [c for c in M.INSPECT if c.gen == GEN]
SANITY = ("full", "t_full")


@pytest.fixture(scope="session")
def k3_out(request) -> Path:
    return C.outdir(request, GEN)


@pytest.fixture(scope="session")
def k3_cli(k3_out: Path) -> dict:
    return C.session_results(k3_out, GEN, SANITY)


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.name)
def test_pair(pair: M.Pair, k3_out: Path, k3_cli: dict) -> None:
    C.require_runs(k3_out, pair.a, pair.b)
    C.check_pair(pair, k3_cli[("compare", pair.name)])


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.run)
def test_inspect_model_description(check: M.Inspect, k3_out: Path, k3_cli: dict) -> None:
    C.require_runs(k3_out, check.run)
    C.check_inspect(check, k3_cli[("inspect", check.run)])


def test_callback_logs_hold_config_and_scalars_only(k3_out: Path, k3_cli: dict) -> None:
    """What Keras 3.15's TensorBoard callback writes: the model config (with compile_config)
    and epoch scalars in <run>/train, no op graph; a traced run holds a function graph only."""
    C.require_runs(k3_out, *SANITY)
    doc = k3_cli[("inspect", "full")].doc()
    (run,) = doc["runs"]
    assert run["name"] == "train"
    assert [g["kind"] for g in run["graphs"]] == ["keras_model"]
    assert {"epoch_loss", "epoch_accuracy"} <= {s["tag"] for s in run["scalars"]}
    assert run["counts"].get("histograms", 0) == 0
    traced = k3_cli[("inspect", "t_full")].doc()["runs"][0]
    kinds = [g["kind"] for g in traced["graphs"]]
    assert kinds == ["run_metadata"] and traced["scalars"] == []


def test_metric_definition_curves_really_differ(k3_out: Path, k3_cli: dict) -> None:
    """As on real logs: "accuracy" (categorical) climbs to ~0.9, Accuracy() (exact equality of
    one-hot labels and probabilities) stays ~0 while the losses are the same."""
    C.require_runs(k3_out, "acc_string", "acc_class")
    doc = k3_cli[("compare", "k3_metrics_definition")].doc()
    curves = {s["tag_a"].rsplit("/", 1)[-1]: s for s in doc["scalars"]}
    acc, loss = curves["epoch_accuracy"], curves["epoch_loss"]
    assert acc["final_a"] > 0.8 and acc["final_b"] < 0.1, acc
    assert loss["max_abs_diff"] < 1e-4, loss
