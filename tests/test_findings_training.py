"""Training-concept detectors (optimizer, layers/activation, init, loss, regularisation) on graph
pairs written by TensorFlow itself (tests/gen_pairs_training.py, one subprocess per session).

Every pair differs in exactly one concept; the full registry must report that concept with the
contracted id and severity and no other critical finding.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import REALLOGS, generated, need_shared

from tbdiff.findings import compare_graphs
from tbdiff.graph import load_graph
from tbdiff.model import RunInputs, describe


def analyse(g):
    return describe(RunInputs(g))


MINE = ("optimizer", "layer", "activation", "init", "loss", "regularization")


@pytest.fixture(scope="session")
def pairs_dir(tmp_path_factory) -> Path:
    return generated(tmp_path_factory, "gen_pairs_training.py")


_GRAPHS: dict[Path, object] = {}


def graph(pairs_dir: Path, name: str, side: str):
    pairs = json.loads((pairs_dir / "pairs.json").read_text())
    path = pairs_dir / f"{pairs[name]['ab'.index(side)]}.pb"
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
        layers = analyse(graph(pairs_dir, "raw_vs_keras", side)).weight_layers
        assert [x.kernel_init.rule for x in layers] == ["glorot_uniform"] * 3
        assert layers[0].kernel_init.params["max"] == pytest.approx((6 / (784 + 64)) ** 0.5)
        assert {x.bias_init.label for x in layers} == {"normal(0.0, 1.0)"}


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
    assert f.nodes_b and all(n in gb for n in f.nodes_b) and not f.nodes_a


def test_raw_tf_vs_keras_same_mlp_is_benign(pairs_dir):
    """Seed-like pair without dropout: same init, optimizer (v1 Adam wrapped by Keras), loss."""
    _, _, found = findings(pairs_dir, "raw_vs_keras")
    mine = [f for f in found if f.family in MINE and f.severity in ("critical", "warning")]
    assert not mine, [(f.id, f.severity, f.title) for f in mine]
    d = analyse(graph(pairs_dir, "raw_vs_keras", "b"))
    assert d.optimizer.type == "adam"
    assert d.optimizer.hparams["learning_rate"] == pytest.approx(0.001)
    assert d.loss.reduction == "mean"
    assert [x.activation for x in d.weight_layers] == ["relu", "relu", "linear"]


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
    la = analyse(ga).weight_layers
    lb = analyse(gb).weight_layers
    assert [x.name for x in lb] == ["Dense0", "Dense1", "Logits"]
    assert [x.shape for x in la] == [x.shape for x in lb]


def test_inspect_lines_are_json(pairs_dir):
    from tbdiff.findings import inspect_lines

    for path in sorted(pairs_dir.glob("*.pb")):
        lines = inspect_lines(analyse(load_graph(path)))
        assert {"layers", "optimizer", "loss"} <= set(lines), (path.name, lines)
        json.dumps(lines)


def test_seed_pair_with_dropout_nothing_from_training_detectors(pairs_dir):
    """raw tf.nn.dropout(keep_prob=ph) vs Keras Dropout(0.7): layers are still found in order
    across the dropout ops, and no training-concept detector blames anything."""
    ga, gb, found = findings(pairs_dir, "seed_dropout")
    mine = [f for f in found if f.family in MINE and f.severity in ("critical", "warning")]
    assert not mine, [(f.id, f.severity, f.title) for f in mine]
    for g in (ga, gb):
        layers = analyse(g).weight_layers
        assert [x.shape for x in layers] == [[784, 64], [64, 64], [64, 10]]
        assert [x.activation for x in layers] == ["relu", "relu", "linear"]


def test_keras_default_epsilon_is_benign(pairs_dir):
    _, _, found = findings(pairs_dir, "keras_default_epsilon")
    f = only(found, "optimizer.hparam_mismatch", severity="benign")
    assert f.a == {"epsilon": pytest.approx(1e-8)} and f.b == {"epsilon": pytest.approx(1e-7)}
    assert [x for x in found if x.severity in ("critical", "warning")] == []


VICTOR = "VictorNM__triplet-cnn-cbir/logs"


def real_pair(a: str, b: str):
    need_shared(REALLOGS, "real logs")
    from tbdiff.graph import graph_from_path

    ga, gb = graph_from_path(REALLOGS / a)[0], graph_from_path(REALLOGS / b)[0]
    try:
        from tbdiff.align import align

        alignment = align(ga, gb)
    except ImportError:
        alignment = None
    return ga, gb, compare_graphs(ga, gb, alignment)


def test_real_keras_tf113_sgd_runs():
    """Two Keras 2 (TF 1.13) runs of one repo: SGD(lr, momentum) hyper variables, VGG vs small CNN."""
    ga, gb, found = real_pair(
        f"{VICTOR}/2019-05-24 21_06_53/events.out.tfevents.1558706819.b03687c33611",
        f"{VICTOR}/events.out.tfevents.1556988535.victor-ASUS",
    )
    opt = [f for f in found if f.family == "optimizer"]
    assert [(f.id, f.severity) for f in opt] == [("optimizer.hparam_mismatch", "critical")]
    assert opt[0].a == {"learning_rate": pytest.approx(0.001), "momentum": pytest.approx(0.9)}
    assert opt[0].b == {"learning_rate": pytest.approx(0.01), "momentum": 0.0}
    check_evidence(opt[0], ga, gb)
    count = [f for f in found if f.id == "layer.count_mismatch"]
    assert len(count) == 1 and count[0].b["shapes"][-1] == [512, 4]
    losses = [analyse(g).loss for g in (ga, gb)]
    assert {x.label for x in losses} == {"categorical_cross_entropy_probs"}
    assert not [f for f in found if f.family in ("loss", "init", "regularization")]


def test_real_tf1_estimator_vs_session_graph():
    """TF 1.5 estimator (ref variables, ApplyAdam) vs TF 1.8 session graph of other people."""
    ga, gb, found = real_pair(
        "hsbarker__UniqueMNISTsolutions/graph.pbtxt",
        "caozhang1996__mnist_code/tensorboard_file/events.out.tfevents.1534044973.inspiron",
    )
    assert not [f for f in found if f.family == "optimizer"]
    fa = analyse(ga)
    assert fa.optimizer.type == "adam" and fa.optimizer.hparams["beta2"] == 0.999
    ids = {f.id: f for f in found if f.severity == "critical"}
    assert ids["loss.mismatch"].a["loss"] == "mean_squared_error"
    assert ids["loss.mismatch"].b["loss"] == "softmax_cross_entropy"
    init = ids["init.mismatch"]
    assert "truncated_normal(0.0, 0.1)" in json.dumps(init.b)
    assert "glorot_uniform" in json.dumps(init.a)


def test_decoupled_weight_decay(pairs_dir):
    ga, gb, found = findings(pairs_dir, "reg_weight_decay")
    f = only(found, "regularization.mismatch")
    assert "decoupled weight decay" in f.title.lower()
    assert f.b == {
        "0 kernel": pytest.approx(1e-4),
        "1 kernel": pytest.approx(1e-4),
        "2 kernel": pytest.approx(1e-4),
    }
    assert all(gb.nodes[n]["op"] == "AssignSubVariableOp" for n in f.nodes_b)


def test_keras_config_graphs(pairs_dir):
    """Keras model configs (what the TensorBoard callback logs as graph_keras_model) give the same
    layer/init facts as the op graph of the same model, so the two compare without criticals."""
    from tbdiff.graph import graph_from_keras_config

    def cfg(name):
        return graph_from_keras_config((pairs_dir / f"{name}.keras.json").read_text())

    ca, cb = cfg("keras_explicit_init"), cfg("keras_default_init")
    layers = analyse(ca).weight_layers
    assert [x.shape for x in layers] == [[784, 64], [64, 64], [64, 10]]
    assert [x.activation for x in layers] == ["relu", "relu", "linear"]
    f = only(compare_graphs(ca, cb, None), "init.mismatch")
    assert f.a["layer0 (VisibleLayer)"] == {
        "kernel": "uniform(-0.05, 0.05)",
        "bias": "normal(0.0, 1.0)",
    }
    assert f.b["layer0 (VisibleLayer)"] == {"kernel": "glorot_uniform", "bias": "zeros"}
    ops_graph = graph(pairs_dir, "init_keras_default", "b")
    found = compare_graphs(cb, ops_graph, None)
    assert [x for x in found if x.severity in ("critical", "warning")] == []


def test_real_keras_config_vs_op_graph_same_model():
    """styx: a compat.v1 FileWriter op graph and a TF 2.3 callback's Keras config of one model."""
    ga, gb, found = real_pair(
        "muelletm__styx/graph2.pbtxt",
        "muelletm__styx/logs/fit/train/events.out.tfevents.1602769550.DESKTOP-GEJ0BFS.20224.443.v2",
    )
    assert gb.graph["source"] == "keras_model"
    la, lb = (analyse(g).weight_layers for g in (ga, gb))
    assert [x.units for x in la] == [x.units for x in lb] == [32, 10]
    assert [x.activation for x in la] == [x.activation for x in lb] == ["relu", "softmax"]
    mine = [f for f in found if f.family in MINE and f.severity in ("critical", "warning")]
    assert not mine, [(f.id, f.title) for f in mine]
