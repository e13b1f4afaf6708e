"""TF1 graph-mode acceptance pairs (issue 10): GraphDefs written by tf.compat.v1's FileWriter and
tf_keras graph-mode fit() logs, compared with the real CLI. Pairs and expectations:
tests/pairs_manifest.py; the runs: tests/gen_pairs_tf1.py (one subprocess per session)."""

from __future__ import annotations

from pathlib import Path

import pairs_cli as C
import pairs_manifest as M
import pytest

GEN = "tf1"
PAIRS = [p for p in M.PAIRS if p.gen == GEN]
CHECKS = [c for c in M.INSPECT if c.gen == GEN]
SANITY = ("fit_acc_string", "tf_bn")


@pytest.fixture(scope="session")
def tf1_out(request) -> Path:
    return C.outdir(request, GEN)


@pytest.fixture(scope="session")
def tf1_cli(tf1_out: Path) -> dict:
    return C.session_results(tf1_out, GEN, SANITY)


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.name)
def test_pair(pair: M.Pair, tf1_out: Path, tf1_cli: dict) -> None:
    C.require_runs(tf1_out, pair.a, pair.b)
    C.check_pair(pair, tf1_cli[("compare", pair.name)])


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.run)
def test_inspect_model_description(check: M.Inspect, tf1_out: Path, tf1_cli: dict) -> None:
    C.require_runs(tf1_out, check.run)
    C.check_inspect(check, tf1_cli[("inspect", check.run)])


def test_fixture_logs_are_what_the_writers_write(tf1_out: Path, tf1_cli: dict) -> None:
    """A FileWriter run holds the graph (graph_def, and meta_graph_def when the graph has
    collections to export) and nothing else; a tf_keras graph-mode fit() run holds the epoch
    scalars of its TensorBoard callback and the complete graph (train function included; the
    v1 callback writes it as a GraphDef, without a MetaGraphDef)."""
    C.require_runs(tf1_out, *SANITY)
    (fw,) = tf1_cli[("inspect", "tf_bn")].doc()["runs"]
    assert {g["kind"] for g in fw["graphs"]} <= {"graph_def", "meta_graph_def"}
    assert "graph_def" in {g["kind"] for g in fw["graphs"]} and fw["scalars"] == []
    (fit,) = tf1_cli[("inspect", "fit_acc_string")].doc()["runs"]
    assert "graph_def" in {g["kind"] for g in fit["graphs"]}
    assert {"epoch_accuracy", "epoch_loss"} <= {s["tag"] for s in fit["scalars"]}


def test_metric_definition_curves_really_differ(tf1_out: Path, tf1_cli: dict) -> None:
    C.require_runs(tf1_out, "fit_acc_string", "fit_acc_class")
    doc = tf1_cli[("compare", "tf1_metrics_definition")].doc()
    curves = {s["tag_a"].rsplit("/", 1)[-1]: s for s in doc["scalars"]}
    acc = curves["epoch_accuracy"]
    assert acc["final_a"] > 0.8 and acc["final_b"] < 0.1, acc
