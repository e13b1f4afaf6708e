"""TF2 function-graph acceptance pairs (issue 10): tf_keras 2.21 train functions written by its
TensorBoard callback with tf.summary.graph(), custom tf.function steps written with
tf.summary.trace_export, and hparams-only runs, compared with the real CLI. Pairs and
expectations: tests/pairs_manifest.py; the runs: tests/gen_pairs_tf2fn.py (one subprocess per
session). Keras 3 traced train steps are in test_pairs_keras3.py (gen "keras3")."""

from __future__ import annotations

from pathlib import Path

import pairs_cli as C
import pairs_manifest as M
import pytest

GEN = "tf2fn"
PAIRS = [p for p in M.PAIRS if p.gen == GEN]
CHECKS = [c for c in M.INSPECT if c.gen == GEN]
SANITY = ("k2_full", "fn_base", "hp_adam")


@pytest.fixture(scope="session")
def fn_out(request) -> Path:
    return C.outdir(request, GEN)


@pytest.fixture(scope="session")
def fn_cli(fn_out: Path) -> dict:
    return C.session_results(fn_out, GEN, SANITY)


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.name)
def test_pair(pair: M.Pair, fn_out: Path, fn_cli: dict) -> None:
    C.require_runs(fn_out, pair.a, pair.b)
    C.check_pair(pair, fn_cli[("compare", pair.name)])


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: f"{c.run}-{'-'.join(c.facts)}")
def test_inspect_model_description(check: M.Inspect, fn_out: Path, fn_cli: dict) -> None:
    C.require_runs(fn_out, check.run)
    C.check_inspect(check, fn_cli[("inspect", check.run)])


def test_fixture_logs_are_what_the_writers_write(fn_out: Path, fn_cli: dict) -> None:
    """tf_keras' callback (write_steps_per_second=True) writes the Keras config AND the train
    function graph; trace_export writes a run_metadata graph; hparams-only runs hold no graph."""
    C.require_runs(fn_out, *SANITY)
    (k2,) = fn_cli[("inspect", "k2_full")].doc()["runs"]
    assert sorted(g["kind"] for g in k2["graphs"]) == ["graph_def", "keras_model"]
    assert k2["hparams"] == {"learning_rate": 0.003}
    (fn,) = fn_cli[("inspect", "fn_base")].doc()["runs"]
    assert [g["kind"] for g in fn["graphs"]] == ["run_metadata"]
    (hp,) = fn_cli[("inspect", "hp_adam")].doc()["runs"]
    assert hp["graphs"] == [] and hp["hparams"]["optimizer"] == "adam"
