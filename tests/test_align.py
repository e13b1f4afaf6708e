"""tbdiff.align on the seed case graphs written by TensorFlow (raw TF1 vs tf_keras)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import REALLOGS, generated, need_shared
from tensorboard.compat.proto import graph_pb2

from tbdiff.align import align, normalise_name
from tbdiff.graph import load_graph
from tbdiff.model import find_layers

DENSE = ["VisibleLayer", "HiddenLayer1", "HiddenLayer2", "HiddenLayer3", "OutputLayer"]


@pytest.fixture(scope="session")
def fx(tmp_path_factory) -> Path:
    return generated(tmp_path_factory, "gen_graph_fixtures.py")


def _gd(path: Path) -> graph_pb2.GraphDef:
    return graph_pb2.GraphDef.FromString(path.read_bytes())


@pytest.fixture(scope="session")
def seed(fx):
    ga, gb = load_graph(_gd(fx / "tf1.pb")), load_graph(_gd(fx / "keras.pb"))
    return ga, gb, align(ga, gb)


def test_normalised_names():
    assert normalise_name("training/Adam/dense_1/kernel/m_3") == "dense/kernel/m"
    assert normalise_name("VisibleLayer/weights") == normalise_name("VisibleLayer/kernel")


def test_seed_dense_and_dropout_layers_pair_in_order(seed):
    _ga, _gb, al = seed
    dense = [(p.a, p.b) for p in al.layers if p.kind == "dense"]
    assert dense == [(n, n) for n in DENSE]
    assert all(p.status == "matched" for p in al.layers if p.kind == "dense")
    drop = [(p.a, p.b) for p in al.layers if p.kind == "dropout"]
    assert drop == [
        ("Dropout1", "dropout"),
        ("Dropout2", "dropout_1"),
        ("Dropout3", "dropout_2"),
        ("Dropout4", "dropout_3"),
    ]
    # the layer list follows the input -> output order, dropout between dense layers
    kinds = [p.kind for p in al.layers]
    assert kinds == ["dense", "dropout"] * 4 + ["dense"]
    shapes = [p.shape_a for p in al.layers if p.kind == "dense"]
    assert shapes == [[784, 256], [256, 256], [256, 256], [256, 256], [256, 10]]


def test_seed_nodes_matched_by_role_not_name(seed):
    ga, gb, al = seed
    for layer in DENSE:
        assert al.pairs[f"{layer}/weights"] == f"{layer}/kernel"
        assert al.pairs[f"{layer}/bias"] == f"{layer}/bias"
        assert al.pairs[f"{layer}/MatMul"] == f"{layer}/MatMul"
        # tf.add(matmul, bias) vs Keras BiasAdd: same role, different op
        assert al.pairs[f"{layer}/Add"] == f"{layer}/BiasAdd"
        assert al.status_a[f"{layer}/Add"] == "changed"
        assert any("BiasAdd" in c for c in al.changes[f"{layer}/Add"])
    # the hand-made keep_prob placeholder plays the role of keras_learning_phase
    (pwd,) = [n for n, d in ga.nodes(data=True) if d["op"] == "PlaceholderWithDefault"]
    assert al.pairs[pwd] == "keras_learning_phase"
    # dropout internals: TF1 ops matched to the ops inlined from the Keras If branch
    for i, kscope in enumerate(["dropout", "dropout_1", "dropout_2", "dropout_3"], start=1):
        rnd = f"Dropout{i}/random_uniform/RandomUniform"
        assert al.pairs[rnd] == f"{kscope}/cond/then/dropout/random_uniform/RandomUniform"
        assert al.pairs[f"Dropout{i}/GreaterEqual"] == f"{kscope}/cond/then/dropout/GreaterEqual"

    # the drop threshold: TF1 computes 1 - keep_prob, Keras has the constant 0.7; both feed
    # input 1 of the GreaterEqual that makes the mask
    def threshold(g, node):
        return next(u for u, _, d in g.in_edges(node, data=True) if d["dst_port"] == 1)

    thr_a = threshold(ga, "Dropout1/GreaterEqual")
    thr_b = threshold(gb, "dropout/cond/then/dropout/GreaterEqual")
    assert gb.nodes[thr_b]["value"] == pytest.approx(0.7)
    assert al.pairs[thr_a] == thr_b and al.status_a[thr_a] == "changed"
    # the loss and the metric
    assert al.pairs["Loss/Mean"].startswith("loss/")
    assert al.pairs["Accuracy/Mean"].startswith("metrics/")


def test_seed_optimizer_updates_pair_by_variable(seed):
    ga, gb, al = seed
    applies = [n for n, d in ga.nodes(data=True) if d["op"].endswith("ApplyAdam")]
    assert len(applies) == 10
    for n in applies:
        partner = al.pairs[n]
        assert gb.nodes[partner]["op"] == ga.nodes[n]["op"]
        var_a = next(u for u, _, d in ga.in_edges(n, data=True) if d["dst_port"] == 0)
        var_b = next(u for u, _, d in gb.in_edges(partner, data=True) if d["dst_port"] == 0)
        assert al.pairs[var_a] == var_b


def test_seed_status_and_counts_are_consistent(seed):
    ga, gb, al = seed
    assert set(al.status_a) == set(ga) and set(al.status_b) == set(gb)
    assert len(set(al.pairs.values())) == len(al.pairs)
    c = al.counts()
    assert c["matched"] + c["changed"] == len(al.pairs)
    assert c["matched"] + c["changed"] + c["only_a"] == ga.number_of_nodes()
    assert c["matched"] + c["changed"] + c["only_b"] == gb.number_of_nodes()
    # the Keras learning-phase machinery (If + inlined else branches) has no TF1 counterpart
    assert al.status_b["dropout/cond/else/Identity"] == "only_b"
    # most of the smaller graph finds a partner
    assert len(al.pairs) > 0.7 * ga.number_of_nodes()


def _rename_scopes(gd: graph_pb2.GraphDef) -> tuple[graph_pb2.GraphDef, dict[str, str]]:
    """Every scope component replaced by an opaque token; leaf names and structure kept."""
    comps: dict[str, str] = {}

    def rn(name: str) -> str:
        parts = name.split("/")
        scope = [comps.setdefault(p, f"q{len(comps)}") for p in parts[:-1]]
        return "/".join([*scope, parts[-1]])

    out = graph_pb2.GraphDef()
    out.CopyFrom(gd)
    mapping = {}
    for n in out.node:
        mapping[n.name] = rn(n.name)
        n.name = mapping[n.name]
        new_inputs = []
        for s in n.input:
            ctrl = s.startswith("^")
            name, sep, port = (s[1:] if ctrl else s).partition(":")
            new_inputs.append(("^" if ctrl else "") + rn(name) + sep + port)
        del n.input[:]
        n.input.extend(new_inputs)
    return out, mapping


@pytest.mark.parametrize("name", ["tf1", "keras"])
def test_graph_against_itself_with_all_scopes_renamed(fx, name):
    gd = _gd(fx / f"{name}.pb")
    renamed, mapping = _rename_scopes(gd)
    ga, gb = load_graph(gd), load_graph(renamed)
    assert not set(ga) & set(gb) - {n for n in ga if "/" not in n}

    def expected(n: str) -> str:
        d = ga.nodes[n]
        if d["call_site"] is None:
            return mapping[n]
        site = d["call_site"]
        while ga.nodes[site]["call_site"] is not None:
            site = ga.nodes[site]["call_site"]
        return mapping[site] + n[len(site) :]

    al = align(ga, gb)
    wrong = [(n, al.pairs.get(n), expected(n)) for n in ga if al.pairs.get(n) != expected(n)]
    assert wrong == []
    assert al.counts() == {
        "matched": ga.number_of_nodes(),
        "changed": 0,
        "only_a": 0,
        "only_b": 0,
    }
    assert [p.status for p in al.layers] == ["matched"] * len(al.layers)
    assert len(al.layers) == 9


def test_changed_constant_is_reported_with_values(fx):
    gd = _gd(fx / "keras.pb")
    changed = graph_pb2.GraphDef()
    changed.CopyFrom(gd)
    caller = next(n for n in changed.node if n.name == "dropout_1/cond")
    fn_name = caller.attr["then_branch"].func.name
    fn = next(f for f in changed.library.function if f.signature.name == fn_name)
    (const,) = [n for n in fn.node_def if n.name == "dropout/GreaterEqual/y"]
    del const.attr["value"].tensor.float_val[:]
    const.attr["value"].tensor.float_val.append(0.3)
    ga, gb = load_graph(gd), load_graph(changed)
    al = align(ga, gb)
    target = "dropout_1/cond/then/dropout/GreaterEqual/y"
    assert al.pairs[target] == target
    assert al.status_a[target] == "changed"
    assert al.changes[target] == ["value: 0.7 -> 0.3"]
    assert [n for n, s in al.status_a.items() if s != "matched"] == [target]


def test_keras_layer_graph_against_the_tf1_op_graph(fx):
    import json

    from tbdiff.graph import graph_from_keras_config

    gk = graph_from_keras_config(json.loads((fx / "keras_config.json").read_text()))
    al = align(gk, load_graph(_gd(fx / "tf1.pb")))
    assert [(p.a, p.b) for p in al.layers] == [
        ("VisibleLayer", "VisibleLayer"),
        ("dropout", "Dropout1"),
        ("HiddenLayer1", "HiddenLayer1"),
        ("dropout_1", "Dropout2"),
        ("HiddenLayer2", "HiddenLayer2"),
        ("dropout_2", "Dropout3"),
        ("HiddenLayer3", "HiddenLayer3"),
        ("dropout_3", "Dropout4"),
        ("OutputLayer", "OutputLayer"),
    ]
    # the config's Dense input width follows from the previous layer (one layer model)
    assert al.layers[-1].shape_a == [256, 10] and al.layers[-1].shape_b == [256, 10]
    assert al.pairs == {}  # layers and ops are different things: no node pairs


def test_layers_of_a_real_estimator_graph():
    path = need_shared(REALLOGS / "hsbarker__UniqueMNISTsolutions/graph.pbtxt", "real logs")
    from tbdiff.graph import graph_from_path

    g, _ = graph_from_path(path)
    layers = find_layers(g)
    assert layers, "trainable variables should form layers"
    weights = [L for L in layers if L.family in ("dense", "conv")]
    assert weights and all(L.shape for L in weights)
    # slot variables of Adam are not layers
    assert not any("Adam" in v for L in layers for v in L.variables)
    al = align(g, g)
    assert al.counts()["matched"] == g.number_of_nodes()
