"""Semantic detectors (dropout, learning phase, sample weights, metrics, naming) on graphs that
TensorFlow / tf_keras really build (tests/gen_pairs_semantics.py, one subprocess per session)
and on real logs written by other people."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import REALLOGS, generated, need_shared

from tbdiff.findings import compare_graphs, inspect_lines
from tbdiff.findings.base import Finding
from tbdiff.graph import graph_from_path, load_graph
from tbdiff.model import RunInputs, describe

try:  # alignment is optional for these detectors; use it when it exists
    from tbdiff.align import align
except ImportError:  # pragma: no cover - only while align.py is being written
    align = None

SEED_FEED = "PlaceholderWithDefault"
N_IN, N_OUT = 784, 10  # tf.compat.v1.placeholder_with_default(1.0)'s default name


@pytest.fixture(scope="session")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated(tmp_path_factory, "gen_pairs_semantics.py")


@pytest.fixture(scope="session")
def manifest(pairs: Path) -> dict:
    return json.loads((pairs / "manifest.json").read_text())


_GRAPHS: dict[Path, object] = {}


def graph(pairs: Path, name: str):
    p = pairs / f"{name}.pb"
    if p not in _GRAPHS:
        _GRAPHS[p] = load_graph(p)
    return _GRAPHS[p]


def run(pairs: Path, a: str, b: str, ha: RunInputs | None = None, hb: RunInputs | None = None):
    ga, gb = graph(pairs, a), graph(pairs, b)
    alignment = align(ga, gb) if align is not None else None
    return compare_graphs(ga, gb, alignment, ha, hb)


def by_id(findings: list[Finding], fid: str) -> list[Finding]:
    return [f for f in findings if f.id == fid]


def one(findings: list[Finding], fid: str) -> Finding:
    found = by_id(findings, fid)
    assert len(found) == 1, [f.id for f in findings]
    return found[0]


def criticals_except(findings: list[Finding], fid: str | None) -> list[str]:
    return [f"{f.id}: {f.title}" for f in findings if f.severity == "critical" and f.id != fid]


def dropout_above_info(findings: list[Finding]) -> list[str]:
    return [f.id for f in findings if f.family == "dropout" and f.severity != "info"]


# --------------------------------------------------------------------------------------------
# dropout
# --------------------------------------------------------------------------------------------


def test_seed_pair_rate_mismatch_is_first(pairs: Path, manifest: dict) -> None:
    ph = manifest["tf_keep_ph"]["placeholder"]
    assert ph == SEED_FEED
    found = run(pairs, "tf_keep_ph", "keras_d07", RunInputs(hparams={f"feed/{ph}": 0.7}))
    first = found[0]
    assert first.id == "dropout.rate_mismatch" and first.severity == "critical"
    assert first.a["drop_rate"] == pytest.approx(0.3) and first.b["drop_rate"] == pytest.approx(0.7)
    assert first.a["argument"] == "keep_prob" and first.b["argument"] == "rate"
    assert first.title == "Dropout drops 30% of units in A but 70% in B"
    # all four layer pairs named, in data-path order
    assert first.a["sites"] == ["Dropout1", "Dropout2", "Dropout3", "Dropout4"]
    assert first.b["sites"] == ["dropout", "dropout_1", "dropout_2", "dropout_3"]
    ga, gb = graph(pairs, "tf_keep_ph"), graph(pairs, "keras_d07")
    sites_a = [n for n in first.nodes_a if ga.nodes[n]["op"] == "GreaterEqual"]
    sites_b = [n for n in first.nodes_b if gb.nodes[n]["op"] == "GreaterEqual"]
    assert len(sites_a) == 4 and len(sites_b) == 4
    assert ph in first.nodes_a
    for la, lb in zip(first.a["sites"], first.b["sites"], strict=True):
        assert f"{la} <-> {lb}" in first.detail
    assert "keep_prob-vs-rate" in first.detail and first.fix.startswith("Dropout(0.3) in {b}")
    assert "the share to KEEP" in first.detail and "the share to DROP" in first.detail
    assert "drops 30%, keeps 70%" in first.detail and "drops 70%, keeps 30%" in first.detail
    assert criticals_except(found, "dropout.rate_mismatch") == []
    assert one(found, "learning_phase.mechanism").severity == "benign"
    assert one(found, "sample_weights.present").severity == "benign"
    assert one(found, "metrics.optimizer_coupling").severity == "info"
    assert one(found, "metrics.train_mode").severity == "info"
    assert not by_id(found, "dropout.runtime_fed")  # the hparam resolved the fed value


def test_seed_pair_without_alignment(pairs: Path) -> None:
    ga, gb = graph(pairs, "tf_keep_ph"), graph(pairs, "keras_d07")
    found = compare_graphs(ga, gb, None, RunInputs(hparams={f"feed/{SEED_FEED}": 0.7}))
    assert found[0].id == "dropout.rate_mismatch"
    assert found[0].a["sites"] == ["Dropout1", "Dropout2", "Dropout3", "Dropout4"]
    assert "Dropout4 <-> dropout_3" in found[0].detail
    assert not by_id(found, "naming.only")  # needs an alignment


def test_seed_pair_user_feed_resolves_too(pairs: Path) -> None:
    found = run(pairs, "tf_keep_ph", "keras_d07", RunInputs(feeds={SEED_FEED: 0.7}))
    f = one(found, "dropout.rate_mismatch")
    assert f.a["fed"][SEED_FEED] == {"value": 0.7, "from": "--feed"}


def test_keep_prob_const_vs_equivalent_keras_rate(pairs: Path) -> None:
    found = run(pairs, "tf_keep_const07", "keras_d03")
    assert dropout_above_info(found) == []
    eq = one(found, "dropout.equivalent")
    assert eq.a["drop_rate"] == pytest.approx(0.3) == eq.b["drop_rate"]
    assert criticals_except(found, None) == []
    # the raw TF program has no train/eval switch: its dropout also runs at evaluation
    lp = one(found, "learning_phase.mechanism")
    assert lp.severity == "warning" and lp.a["dropout_at_eval"] is True
    assert lp.b["dropout_at_eval"] is False


def test_tf2_rate_vs_tf1_keep_prob_tensor(pairs: Path) -> None:
    found = run(pairs, "tf_rate05", "tf_keep_tensor07")
    f = one(found, "dropout.rate_mismatch")
    assert f.severity == "critical"
    assert f.a["drop_rate"] == pytest.approx(0.5) and f.b["drop_rate"] == pytest.approx(0.3)
    assert f.a["argument"] == "rate" and f.b["argument"] == "keep_prob"
    assert f.b["argument_value"] == pytest.approx(0.7)
    assert "keep_prob" in f.nodes_b  # the tf.constant the keep probability came from
    assert criticals_except(found, "dropout.rate_mismatch") == []


def test_four_vs_three_dropout_layers(pairs: Path) -> None:
    found = run(pairs, "keras_d03", "keras_d03_3drop")
    f = one(found, "dropout.count_mismatch")
    assert f.severity == "critical" and (f.a["count"], f.b["count"]) == (4, 3)
    assert criticals_except(found, "dropout.count_mismatch") == []
    assert not by_id(found, "dropout.rate_mismatch")  # same 30% everywhere
    if align is not None:
        assert "only in A: dropout_3" in f.detail


def test_dropout_vs_no_dropout(pairs: Path) -> None:
    found = run(pairs, "tf_keep_plain_ph", "tf_nodrop")
    f = one(found, "dropout.count_mismatch")
    assert f.severity == "critical" and f.b["count"] == 0 and "has none" in f.title


def test_runtime_fed_without_hints_then_resolved(pairs: Path) -> None:
    found = run(pairs, "tf_keep_ph", "keras_d03")
    f = one(found, "dropout.runtime_fed")
    assert f.severity == "warning"
    assert f.a["placeholders"] == [SEED_FEED] and f.b is None
    assert f.a["default_drop_rate"] == 0.0  # placeholder_with_default(1.0): no dropout unfed
    assert "KEEP" in f.detail and "DROP" in f.detail and f"--feed {SEED_FEED}=" in f.detail
    assert criticals_except(found, None) == []

    resolved = run(pairs, "tf_keep_ph", "keras_d03", RunInputs(feeds={SEED_FEED: 0.7}))
    assert dropout_above_info(resolved) == []
    assert criticals_except(resolved, None) == []
    assert by_id(resolved, "dropout.equivalent")


def sites(g, **inputs):
    return describe(RunInputs(graph=g, **inputs)).dropout


def test_plain_placeholder_keep_prob_is_runtime_fed(pairs: Path) -> None:
    found = sites(graph(pairs, "tf_keep_plain_ph"))
    assert len(found) == 4 and sorted({p for s in found for p in s.unresolved}) == ["keep_prob"]
    assert all(s.drop_rate is None and s.default_drop_rate is None for s in found)
    fed = sites(graph(pairs, "tf_keep_plain_ph"), hparams={"feed/keep_prob": 0.5})
    assert [s.drop_rate for s in fed] == [0.5] * 4 and not any(s.unresolved for s in fed)
    # an hparam named like the placeholder is taken as its fed value as well
    named = sites(graph(pairs, "tf_keep_plain_ph"), hparams={"keep_prob": 0.8})
    assert [s.drop_rate for s in named] == [pytest.approx(0.2)] * 4


# --------------------------------------------------------------------------------------------
# sample weights, metrics, naming
# --------------------------------------------------------------------------------------------


def test_sample_weights_present_in_one_graph(pairs: Path) -> None:
    found = run(pairs, "keras_d03", "keras_d03_sw")
    f = one(found, "sample_weights.present")
    assert f.severity == "benign"
    assert f.b["weighting"] == "placeholder" and f.b["sample_weights"] == [
        "OutputLayer_sample_weights"
    ]
    assert f.b["default"] == [[1.0]]
    assert criticals_except(found, None) == []

    weighted = run(
        pairs,
        "keras_d03",
        "keras_d03_sw",
        None,
        RunInputs(hparams={"sample_weights": "non_uniform"}),
    )
    assert one(weighted, "sample_weights.present").severity == "warning"


def test_metrics_wired_to_optimizer_in_one_graph(pairs: Path) -> None:
    found = run(pairs, "keras_d03", "keras_d03_nometrics")
    f = one(found, "metrics.optimizer_coupling")
    assert f.severity == "info" and f.a["coupled"] is True and f.b["coupled"] is False
    assert f.a["metrics"] == ["metrics/accuracy"]
    assert criticals_except(found, None) == []
    assert [x.id for x in found if x.severity in ("critical", "warning")] == []


def test_train_mode_from_hparams(pairs: Path) -> None:
    found = run(
        pairs,
        "keras_d03",
        "keras_d03_renamed",
        RunInputs(hparams={"train_metrics": "dropout_active"}),
        RunInputs(hparams={"train_metrics": "dropout_off"}),
    )
    f = one(found, "metrics.train_mode")
    assert f.severity == "info" and f.a["source"] == "hparams:train_metrics"
    assert "not comparable" in f.detail


@pytest.mark.parametrize(
    "a,b", [("tf_keep_const07", "tf_keep_const07_renamed"), ("keras_d03", "keras_d03_renamed")]
)
def test_renamed_scopes_give_nothing_above_info(pairs: Path, a: str, b: str) -> None:
    found = run(pairs, a, b)
    assert [f.id for f in found if f.severity != "info"] == []
    if align is not None:
        f = one(found, "naming.only")
        assert f.a["renamed"] > 10 and f.nodes_a and f.nodes_b


def test_inspect_lines_are_json(pairs: Path) -> None:
    for name in ("tf_keep_ph", "keras_d07", "keras_d03_sw", "tf_keep_plain_ph"):
        d = describe(RunInputs(graph(pairs, name), hparams={f"feed/{SEED_FEED}": 0.7}))
        lines = inspect_lines(d)
        assert lines["dropout"].endswith("[graph]") and lines["layers"].startswith("5 trainable")
        json.dumps(lines)


# --------------------------------------------------------------------------------------------
# diagnosis defects the model-semantics layer must get right (issue 10, item 3)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("twin", ["tf_keep_ph_twin", "tf_keep_ph_renamed"])
def test_same_fed_placeholder_on_both_sides_is_one_note(pairs: Path, twin: str) -> None:
    found = run(pairs, "tf_keep_ph", twin)
    f = one(found, "dropout.runtime_fed")
    assert f.severity == "info" and "--feed" in f.detail
    assert f.a["placeholders"] == [SEED_FEED] and f.b["placeholders"]
    assert [x.id for x in found if x.severity != "info"] == []
    # one side fed by the user: the other side's unknown value is a warning again
    fed_a = run(pairs, "tf_keep_ph", twin, RunInputs(feeds={SEED_FEED: 0.7}))
    assert one(fed_a, "dropout.runtime_fed").severity == "warning"


def test_sigmoid_cross_entropy_is_no_dropout_and_reduces_by_mean(pairs: Path) -> None:
    d = describe(RunInputs(graph(pairs, "tf_keep_const07_sigmoid")))
    assert len(d.dropout) == 4  # logistic_loss's `logits >= 0` is not a fifth dropout site
    assert (d.loss.label, d.loss.reduction) == ("sigmoid_cross_entropy", "mean")
    found = run(pairs, "tf_keep_const07", "tf_keep_const07_sigmoid")
    f = one(found, "loss.mismatch")
    assert f.severity == "critical" and (f.a["loss"], f.b["loss"]) == (
        "softmax_cross_entropy",
        "sigmoid_cross_entropy",
    )
    assert criticals_except(found, "loss.mismatch") == []
    assert not by_id(found, "dropout.count_mismatch") and not by_id(
        found, "learning_phase.mechanism"
    )


def test_layers_of_an_earlier_model_are_stale_not_a_depth_difference(pairs: Path) -> None:
    d = describe(RunInputs(graph(pairs, "keras_d03_stale")))
    assert [x.shape for x in d.stale_layers] == [[N_IN, 32], [32, N_OUT]]
    assert len(d.weight_layers) == 5 and len(d.dropout) == 4
    assert d.loss.label == "softmax_cross_entropy"  # the trained model's loss, not the mse
    found = run(pairs, "keras_d03", "keras_d03_stale")
    f = one(found, "graph.stale_layers")
    assert f.severity == "info" and len(f.b["stale_layers"]) == 2 and not f.a["stale_layers"]
    assert not by_id(found, "layer.count_mismatch") and not by_id(found, "loss.mismatch")
    assert [x.id for x in found if x.severity in ("critical", "warning")] == []
    assert "not connected to the trained loss" in inspect_lines(d)["stale layers"]


# --------------------------------------------------------------------------------------------
# real logs written by others (read-only)
# --------------------------------------------------------------------------------------------


def _real(rel: str) -> Path:
    return need_shared(REALLOGS / rel, "real logs")


def test_real_tf23_keras_functional_cond_dropout() -> None:
    g, _ = graph_from_path(_real("muelletm__styx/graph2.pbtxt"))
    d = describe(RunInputs(g))
    assert [s.drop_rate for s in d.dropout] == [pytest.approx(0.2)]
    assert d.dropout[0].switch.node == "keras_learning_phase"
    assert inspect_lines(d)["learning phase"] == "keras learning phase"


def test_real_tf1_keras_switch_merge_dropout_and_sample_weights() -> None:
    p = _real("VictorNM__triplet-cnn-cbir/logs/2019-05-24 21_06_53")
    try:
        g, _ = graph_from_path(p)
    except Exception as exc:  # events layer still being written by another helper
        pytest.skip(f"cannot read event file yet: {exc}")
    d = describe(RunInputs(g))
    assert [s.drop_rate for s in d.dropout] == [0.5, 0.5]
    assert [s.layer for s in d.dropout] == ["dropout_1", "dropout_2"]
    assert all((s.switch.node or "").endswith("keras_learning_phase") for s in d.dropout)
    sw = d.sample_weights
    assert sw is not None and sw.weighting == "placeholder"
    assert sw.placeholders[0].node == "predictions_sample_weights"
    assert sw.placeholders[0].op == "Placeholder"


def test_keras_model_config_dropout() -> None:
    """TF2 / Keras 3 logs without an op graph: Dropout layers of the model config."""
    p = _real("muelletm__styx/logs/fit/train")
    try:
        g, info = graph_from_path(p, kind="keras_model")
    except Exception as exc:
        pytest.skip(f"cannot read keras model config yet: {exc}")
    layers = {n: float(d["attrs"]["rate"]) for n, d in g.nodes(data=True) if d["op"] == "Dropout"}
    assert len(layers) == 1 and list(layers.values()) == [pytest.approx(0.2)]
    found = sites(g)
    assert {s.layer: s.drop_rate for s in found} == pytest.approx(layers)
    assert all(s.framework == "keras_config" for s in found)
    # the same model's op graph (TF 2.3 If on keras_learning_phase) agrees: nothing above info
    g_ops, _ = graph_from_path(_real("muelletm__styx/graph2.pbtxt"))
    found = compare_graphs(g_ops, g, None)
    assert [f.id for f in found if f.family == "dropout" and f.severity != "info"] == []


# --------------------------------------------------------------------------------------------
# the seed case end to end on sample_logs (written by tbdiff.experiment)
# --------------------------------------------------------------------------------------------

SAMPLE_LOGS = Path(__file__).resolve().parents[1] / "sample_logs"


def test_seed_case_on_sample_logs() -> None:
    tf_dir, kr_dir = SAMPLE_LOGS / "tensorflow", SAMPLE_LOGS / "keras"
    if not (tf_dir.exists() and kr_dir.exists()):
        pytest.skip("sample_logs not produced yet")
    from tbdiff.pipeline import build_report

    report = build_report(str(tf_dir), str(kr_dir), scalars=False)
    found = report.findings
    first = found[0]
    assert first.id == "dropout.rate_mismatch" and first.severity == "critical"
    assert (first.a["drop_rate"], first.b["drop_rate"]) == (pytest.approx(0.3), pytest.approx(0.7))
    assert len(first.a["sites"]) == 4 == len(first.b["sites"])
    assert "keep_prob-vs-rate" in first.detail
    assert one(found, "learning_phase.mechanism").severity == "benign"
    assert [f.severity for f in by_id(found, "sample_weights.present")] in ([], ["benign"])
    assert one(found, "metrics.optimizer_coupling").severity == "info"
    assert criticals_except(found, "dropout.rate_mismatch") == []
