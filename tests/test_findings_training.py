"""Training-concept detectors (optimizer, layers/activation, init, loss, regularisation) on graph
pairs written by TensorFlow itself (tests/gen_pairs_training.py, one subprocess per session).

Every pair differs in exactly one concept; the full registry must report that concept with the
contracted id and severity and no other critical finding.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tbdiff.findings import analyse, compare_graphs
from tbdiff.graph import load_graph

HERE = Path(__file__).resolve().parent
MINE = ("optimizer", "layer", "activation", "init", "loss", "regularization")


@pytest.fixture(scope="session")
def pairs_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.getbasetemp() / "pairs_training"
    if not (out / "DONE").exists():
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TF_USE_LEGACY_KERAS="1")
        r = subprocess.run(
            [sys.executable, str(HERE / "gen_pairs_training.py"), str(out)],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert r.returncode == 0, r.stderr[-3000:]
    return out


_GRAPHS: dict[Path, object] = {}


def graph(pairs_dir: Path, name: str, side: str):
    path = pairs_dir / f"{name}_{side}.pb"
    if path not in _GRAPHS:
        _GRAPHS[path] = load_graph(path)
    return _GRAPHS[path]


def findings(pairs_dir: Path, name: str):
    ga, gb = graph(pairs_dir, name, "a"), graph(pairs_dir, name, "b")
    try:
        from tbdiff.align import align

        alignment = align(ga, gb)
    except ImportError:
        alignment = None
    return ga, gb, compare_graphs(ga, gb, alignment)


def only(found, fid: str, severity: str = "critical"):
    hits = [f for f in found if f.id == fid and f.severity == severity]
    assert len(hits) == 1, [(f.id, f.severity, f.title) for f in found]
    others = [f for f in found if f.severity == "critical" and f.id != fid]
    assert not others, [(f.id, f.title) for f in others]
    return hits[0]


def check_evidence(f, ga, gb) -> None:
    assert f.nodes_a and f.nodes_b
    assert all(n in ga for n in f.nodes_a), f.nodes_a
    assert all(n in gb for n in f.nodes_b), f.nodes_b
    assert 0.0 <= f.score <= 1.0
    json.dumps(f.to_dict())


def test_optimizer_type(pairs_dir):
    ga, gb, found = findings(pairs_dir, "opt_type")
    f = only(found, "optimizer.type_mismatch")
    assert (f.a["type"], f.b["type"]) == ("adam", "sgd")
    assert f.a["learning_rate"] == pytest.approx(0.001)
    check_evidence(f, ga, gb)


def test_optimizer_learning_rate(pairs_dir):
    ga, gb, found = findings(pairs_dir, "opt_lr")
    f = only(found, "optimizer.hparam_mismatch")
    assert f.a == {"learning_rate": pytest.approx(0.001)}
    assert f.b == {"learning_rate": pytest.approx(0.01)}
    assert all("learning_rate" in n for n in f.nodes_a)
    check_evidence(f, ga, gb)


def test_optimizer_beta1_ranks_below_lr_tenfold(pairs_dir):
    ga, gb, found = findings(pairs_dir, "opt_beta1")
    f = only(found, "optimizer.hparam_mismatch")
    assert f.a == {"beta1": pytest.approx(0.9)} and f.b == {"beta1": pytest.approx(0.5)}
    check_evidence(f, ga, gb)
    lr = only(findings(pairs_dir, "opt_lr")[2], "optimizer.hparam_mismatch")
    assert lr.score > f.score


def test_layer_count(pairs_dir):
    ga, gb, found = findings(pairs_dir, "layer_count")
    f = only(found, "layer.count_mismatch")
    assert (f.a["count"], f.b["count"]) == (5, 4)
    assert f.a["shapes"][0] == [784, 64] and f.a["shapes"][-1] == [64, 10]
    check_evidence(f, ga, gb)


def test_layer_units(pairs_dir):
    ga, gb, found = findings(pairs_dir, "layer_units")
    f = only(found, "layer.shape_mismatch")
    assert f.a["VisibleLayer"]["units"] == 256 and f.b["VisibleLayer"]["units"] == 128
    assert f.a["OutputLayer"]["kernel_shape"] == [256, 10]
    check_evidence(f, ga, gb)


def test_activation(pairs_dir):
    ga, gb, found = findings(pairs_dir, "activation")
    f = only(found, "activation.mismatch")
    assert f.a == {"VisibleLayer": "relu", "HiddenLayer1": "relu"}
    assert f.b == {"VisibleLayer": "tanh", "HiddenLayer1": "tanh"}
    check_evidence(f, ga, gb)


def test_init_explicit_vs_keras_defaults(pairs_dir):
    ga, gb, found = findings(pairs_dir, "init_keras_default")
    f = only(found, "init.mismatch")
    first_a, first_b = f.a["layer0 (VisibleLayer)"], f.b["layer0 (VisibleLayer)"]
    assert first_a == {"kernel": "uniform(-0.05, 0.05)", "bias": "normal(0.0, 1.0)"}
    assert first_b["kernel"].startswith("glorot_uniform = uniform(-0.08")
    assert first_b["bias"] == "zeros"
    assert len(f.a) == 3
    check_evidence(f, ga, gb)


def test_init_bias_only(pairs_dir):
    ga, gb, found = findings(pairs_dir, "init_bias")
    f = only(found, "init.mismatch")
    assert all(set(v) == {"bias"} for v in f.a.values())
    assert set(f.b["layer1 (HiddenLayer1)"].values()) == {"zeros"}
    check_evidence(f, ga, gb)


def test_seed_inits_recognised_through_variables(pairs_dir):
    """Seed case: Keras kernels are initialised from a get_variable (uniform ±sqrt(6/(in+out)))."""
    for side in "ab":
        facts = analyse(graph(pairs_dir, "raw_vs_keras", side))["init"]["layers"]
        assert [x["kernel"]["rule"] for x in facts] == ["glorot_uniform"] * 3
        assert facts[0]["kernel"]["params"]["max"] == pytest.approx((6 / (784 + 64)) ** 0.5)
        assert {x["bias"]["label"] for x in facts} == {"normal(0.0, 1.0)"}


def test_loss_function(pairs_dir):
    ga, gb, found = findings(pairs_dir, "loss_mse")
    f = only(found, "loss.mismatch")
    assert (f.a["loss"], f.b["loss"]) == ("softmax_cross_entropy", "mean_squared_error")
    check_evidence(f, ga, gb)


def test_label_smoothing(pairs_dir):
    ga, gb, found = findings(pairs_dir, "loss_smoothing")
    f = only(found, "loss.mismatch")
    assert f.a == {"label_smoothing": 0.0} and f.b == {"label_smoothing": pytest.approx(0.1)}
    check_evidence(f, ga, gb)


@pytest.mark.parametrize(("name", "coef"), [("reg_l2", 0.005), ("reg_keras_l2", 0.001)])
def test_l2_regularisation(pairs_dir, name, coef):
    ga, gb, found = findings(pairs_dir, name)
    f = only(found, "regularization.mismatch")
    assert set(f.a.values()) == {0.0}
    assert set(f.b) == {"0 kernel l2", "1 kernel l2", "2 kernel l2"}
    assert all(v == pytest.approx(coef) for v in f.b.values())
    check_evidence_b = [n for n in f.nodes_b if n in gb]
    assert check_evidence_b and not f.nodes_a


def test_raw_tf_vs_keras_same_mlp_is_benign(pairs_dir):
    """Seed-like pair without dropout: same init, optimizer (v1 Adam wrapped by Keras), loss."""
    _, _, found = findings(pairs_dir, "raw_vs_keras")
    mine = [f for f in found if f.family in MINE and f.severity in ("critical", "warning")]
    assert not mine, [(f.id, f.severity, f.title) for f in mine]
    facts = analyse(graph(pairs_dir, "raw_vs_keras", "b"))
    assert facts["optimizer"]["type"] == "adam"
    assert facts["optimizer"]["hparams"]["learning_rate"] == pytest.approx(0.001)
    assert facts["loss"]["main"]["reduction"] == "mean"
    assert [x["activation"] for x in facts["layers"]["layers"]] == ["relu", "relu", "linear"]


def test_keras_adam_equals_v1_adam(pairs_dir):
    _, _, found = findings(pairs_dir, "keras_vs_v1_adam")
    opt = [f for f in found if f.family == "optimizer"]
    assert [(f.id, f.severity) for f in opt] == [("optimizer.implementation", "info")]
    assert [f for f in found if f.severity == "critical"] == []


def test_output_softmax_folded_into_loss_is_benign(pairs_dir):
    _, _, found = findings(pairs_dir, "softmax_in_model")
    acts = [f for f in found if f.id == "activation.mismatch"]
    assert [f.severity for f in acts] == ["benign"]
    assert [f for f in found if f.family in MINE and f.severity == "critical"] == []


def test_renamed_scopes_nothing_above_info(pairs_dir):
    ga, gb, found = findings(pairs_dir, "renamed")
    assert [f for f in found if f.severity != "info"] == []
    la = analyse(ga)["layers"]["layers"]
    lb = analyse(gb)["layers"]["layers"]
    assert [x["scope"] for x in lb] == ["Dense0", "Dense1", "Logits"]
    assert [x["kernel_shape"] for x in la] == [x["kernel_shape"] for x in lb]


def test_facts_are_json(pairs_dir):
    for path in sorted(pairs_dir.glob("*.pb")):
        facts = analyse(load_graph(path))
        json.dumps({k: facts[k] for k in ("optimizer", "layers", "init", "loss", "regularization")})
