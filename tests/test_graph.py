"""tbdiff.graph on graphs written by TensorFlow itself and on real graphs of other people."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from google.protobuf import text_format
from helpers import REALLOGS, generated, need_shared
from tensorboard.compat.proto import graph_pb2, meta_graph_pb2, tensor_pb2, types_pb2

from tbdiff.errors import TbdiffError
from tbdiff.graph import (
    decode_tensor,
    graph_from_graph_def,
    graph_from_keras_config,
    graph_from_path,
    load_graph,
)


@pytest.fixture(scope="session")
def fx(tmp_path_factory) -> Path:
    return generated(tmp_path_factory, "gen_graph_fixtures.py")


def _gd(path: Path) -> graph_pb2.GraphDef:
    return graph_pb2.GraphDef.FromString(path.read_bytes())


def _real(rel: str) -> Path:
    return need_shared(REALLOGS / rel, "real logs")


# -- constants ----------------------------------------------------------------------------------


def test_constants_of_all_dtypes_decode_to_the_values_tf_was_given(fx):
    g, _ = graph_from_path(fx / "consts.pb")
    expected = np.load(fx / "consts_expected.npz", allow_pickle=True)
    assert expected.files
    for name in expected.files:
        want = expected[name]
        got = g.nodes[name]["value"]
        if want.shape == ():
            assert not isinstance(got, np.ndarray), name
            if want.dtype.kind == "f":
                assert got == pytest.approx(float(want), rel=1e-3), name
            else:
                assert got == want.item(), name
        else:
            assert isinstance(got, np.ndarray), name
            assert got.shape == want.shape, name
            if want.dtype.kind == "f":
                np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64))
            else:
                assert (got == want).all(), name
        assert g.nodes[name]["shape"] == list(want.shape), name
    # float32 scalars read back as the decimal the user wrote
    assert g.nodes["f32_scalar"]["value"] == 0.7
    assert g.nodes["big"]["value"] is None
    assert g.nodes["big"]["shape"] == [64, 64]


def test_typed_repeated_fields_and_splat():
    def tp(dtype, shape, **fields):
        t = tensor_pb2.TensorProto(dtype=dtype)
        for d in shape:
            t.tensor_shape.dim.add(size=d)
        for k, v in fields.items():
            getattr(t, k).extend(v)
        return t

    half_bits = np.array([0.5, -2.0], dtype=np.float16).view(np.uint16).astype(int).tolist()
    got = decode_tensor(tp(types_pb2.DT_HALF, [2], half_val=half_bits))
    assert got.dtype == np.float16 and got.tolist() == [0.5, -2.0]
    bf16_bits = (np.array([1.5, -3.0], np.float32).view(np.uint32) >> 16).astype(int).tolist()
    assert decode_tensor(tp(types_pb2.DT_BFLOAT16, [2], half_val=bf16_bits)).tolist() == [1.5, -3.0]
    got = decode_tensor(tp(types_pb2.DT_INT64, [2, 3], int64_val=[2**40]))
    assert got.shape == (2, 3) and (got == 2**40).all()
    got = decode_tensor(tp(types_pb2.DT_BOOL, [3], bool_val=[True, False]))
    assert got.tolist() == [True, False, False]  # fewer values: the last one repeats
    assert decode_tensor(tp(types_pb2.DT_STRING, [], string_val=[b"x"])) == "x"
    assert decode_tensor(tp(types_pb2.DT_FLOAT, [0])).shape == (0,)
    assert decode_tensor(tp(types_pb2.DT_FLOAT, [], float_val=[])) == 0.0


# -- seed case graphs ---------------------------------------------------------------------------


def test_keras_dropout_if_is_inlined_with_threshold_constant(fx):
    g, info = graph_from_path(fx / "keras.pb")
    gd = _gd(fx / "keras.pb")
    assert info.functions == len(gd.library.function) > 0
    assert g.graph["functions"] == len(gd.library.function)
    then_y = "dropout/cond/then/dropout/GreaterEqual/y"
    node = g.nodes[then_y]
    assert node["op"] == "Const" and node["value"] == pytest.approx(0.7)
    assert node["function"] and node["call_site"] == "dropout/cond"
    assert node["scope"] == ("dropout", "cond", "then", "dropout", "GreaterEqual")
    # every Dropout layer carries its own instantiation
    thresholds = [n for n, d in g.nodes(data=True) if n.endswith("/then/dropout/GreaterEqual/y")]
    assert len(thresholds) == 4
    # the caller's data input (not the predicate) feeds the body; the body returns into the If
    caller_inputs = [u for u, _, d in g.in_edges("dropout/cond", data=True) if d["kind"] == "data"]
    assert "keras_learning_phase" in caller_inputs
    arg_edges = [
        (u, v) for u, v, d in g.edges(data=True) if d["kind"] == "arg" and "dropout/cond/" in v
    ]
    assert arg_edges and all(u == "VisibleLayer/Relu" for u, _ in arg_edges)
    assert not any(u == "keras_learning_phase" for u, _ in arg_edges)
    rets = {
        (u.split("/")[2], d["dst_port"])
        for u, _, d in g.in_edges("dropout/cond", data=True)
        if d["kind"] == "ret"
    }
    assert ("then", 0) in rets and ("else", 0) in rets


def test_no_inline_keeps_exactly_the_graphdef_nodes(fx):
    gd = _gd(fx / "keras.pb")
    g = graph_from_graph_def(gd, inline=False)
    assert set(g) == {n.name for n in gd.node}


def test_edges_match_graphdef_inputs_ports_and_control(fx):
    gd = _gd(fx / "tf1.pb")
    g = load_graph(gd)
    assert g.graph["warnings"] == []
    for nd in gd.node:
        want = []
        for s in nd.input:
            if s.startswith("^"):
                want.append((s[1:], -1, True))
            else:
                name, _, port = s.partition(":")
                want.append((name, int(port or 0), False))
        got = [(u, d["port"], d["control"]) for u, _, d in g.in_edges(nd.name, data=True)]
        assert sorted(got) == sorted(want), nd.name
        assert g.nodes[nd.name]["inputs"] == list(nd.input)
    # the loss gradient is output 1 ("backprop") of the cross-entropy op
    assert any(
        d["port"] == 1 and g.nodes[u]["op"] == "SoftmaxCrossEntropyWithLogits"
        for u, _, d in g.edges(data=True)
    )


def test_node_attributes_of_a_tf1_graph(fx):
    g, _ = graph_from_path(fx / "tf1.pb")
    w = g.nodes["VisibleLayer/weights"]
    assert w["op"] in ("VariableV2", "VarHandleOp") and w["dtype"].startswith("float32")
    assert w["shape"] == [784, 256]
    assert w["scope"] == ("VisibleLayer",)
    # placeholder_with_default(1.0): the default is a decoded scalar constant feeding it
    (pwd,) = [n for n, d in g.nodes(data=True) if d["op"] == "PlaceholderWithDefault"]
    (default,) = list(g.predecessors(pwd))
    assert g.nodes[default]["value"] == 1.0 and g.nodes[pwd]["shape"] == []
    ph = g.nodes["output"]
    assert ph["op"] == "Placeholder" and ph["shape"] == [None, 10]
    assert ph["attrs"]["dtype"] == "float32"


def test_dangling_input_warns_instead_of_crashing(fx):
    gd = _gd(fx / "tf1.pb")
    victim = "VisibleLayer/weights"
    keep = [n for n in gd.node if n.name != victim]
    del gd.node[:]
    gd.node.extend(keep)
    g = load_graph(gd)
    assert victim not in g
    (w,) = g.graph["warnings"]
    assert w.kind == "graph.load" and victim in w.message


def test_text_meta_graph_and_saved_model_files(fx, tmp_path):
    gd = _gd(fx / "keras.pb")
    want = graph_from_graph_def(gd)
    txt = tmp_path / "g.pbtxt"
    txt.write_text(text_format.MessageToString(gd))
    g, info = graph_from_path(txt)
    assert set(g) == set(want) and info.kind == "graph_def"
    meta = meta_graph_pb2.MetaGraphDef()
    meta.graph_def.CopyFrom(gd)
    meta.meta_info_def.tags.append("serve")
    mpath = tmp_path / "meta.pb"
    mpath.write_bytes(meta.SerializeToString())
    g, info = graph_from_path(mpath)
    assert info.kind == "meta_graph_def" and set(g) == set(want)
    g, info = graph_from_path(fx / "saved_model")
    assert info.kind == "saved_model"
    assert "VisibleLayer/weights" in g and g.number_of_nodes() >= len(_gd(fx / "tf1.pb").node)


def test_unreadable_inputs_raise_one_line_errors(tmp_path):
    bad = tmp_path / "junk.pb"
    bad.write_bytes(b"\xff\xfe not a proto \x00\x01" * 10)
    with pytest.raises(TbdiffError) as e:
        graph_from_path(bad)
    assert "\n" not in str(e.value)
    with pytest.raises(TbdiffError):
        graph_from_path(tmp_path / "missing.pb")


def test_keras_model_config_layer_graph(fx):
    cfg = json.loads((fx / "keras_config.json").read_text())
    g = graph_from_keras_config(cfg)
    assert g.graph["source"] == "keras_model"
    dropouts = [n for n, d in g.nodes(data=True) if d["op"] == "Dropout"]
    assert len(dropouts) == 4
    assert all(g.nodes[n]["attrs"]["rate"] == pytest.approx(0.7) for n in dropouts)
    (after_visible,) = list(g.successors("VisibleLayer"))
    assert g.nodes[after_visible]["op"] == "Dropout"
    assert list(g.successors(after_visible)) == ["HiddenLayer1"]


def test_event_file_graphs_match_the_pb(fx):
    pytest.importorskip("tbdiff.events")
    for name in ("tf1", "keras"):
        want = set(graph_from_path(fx / f"{name}.pb")[0])
        # FileWriter(graph=...) writes the GraphDef and a MetaGraphDef holding the same graph
        g, info = graph_from_path(fx / "logs" / name)
        assert info.kind in ("graph_def", "meta_graph_def") and set(g) == want
        assert info.run == "." and info.file and "tfevents" in info.file
        g, info = graph_from_path(fx / "logs" / name, kind="graph_def")
        assert info.kind == "graph_def" and set(g) == want
        g, info = graph_from_path(Path(info.file))
        assert set(g) == want
    with pytest.raises(TbdiffError):
        graph_from_path(fx / "logs" / "tf1", kind="keras_model")
    with pytest.raises(TbdiffError):
        graph_from_path(fx / "logs", run="nope")


# -- real graphs by other people ----------------------------------------------------------------


def test_styx_keras_dropout_functions_are_inlined():
    path = _real("muelletm__styx/graph2.pbtxt")
    gd = text_format.Parse(path.read_text(), graph_pb2.GraphDef())
    lib = {f.signature.name: f for f in gd.library.function}
    expected_nodes = len(gd.node)
    for n in gd.node:
        if n.op == "If":
            expected_nodes += len(lib[n.attr["then_branch"].func.name].node_def)
            expected_nodes += len(lib[n.attr["else_branch"].func.name].node_def)
    g, info = graph_from_path(path)
    assert info.functions == 2
    assert g.number_of_nodes() == expected_nodes > len(gd.node)
    rate = g.nodes["dropout/cond/then/dropout/rate"]
    assert rate["op"] == "Const" and rate["value"] == pytest.approx(0.2)
    # the body's use of the caller's second input (first is the predicate) is wired in
    assert g.has_edge("dense/Relu", "dropout/cond/then/dropout/Shape")
    assert g.nodes["flatten/Const"]["value"].tolist() == [-1, 784]


def test_estimator_pbtxt_without_functions():
    path = _real("hsbarker__UniqueMNISTsolutions/graph.pbtxt")
    g, info = graph_from_path(path)
    gd = text_format.Parse(path.read_text(), graph_pb2.GraphDef())
    assert g.number_of_nodes() == len(gd.node)
    assert info.functions == 0 and g.graph["warnings"] == []


def test_keras3_logs_with_keras_model_config_and_function_graph():
    pytest.importorskip("tbdiff.events")
    path = _real("ldebris__Rossman/logs")
    g, info = graph_from_path(path, run="train")
    assert info.kind == "graph_def"
    assert any(d["function"] for _, d in g.nodes(data=True))
    assert any(n.startswith("StatefulPartitionedCall/call/") for n in g)
    k, info = graph_from_path(path, run="train", kind="keras_model")
    assert k.graph["source"] == "keras_model"
    emb = [n for n, d in k.nodes(data=True) if d["op"] == "Embedding"]
    assert emb and all(k.in_degree(n) == 1 for n in emb)
    assert k.nodes["day_of_week_Embedd"]["attrs"]["input_dim"] == 7


_FUNCTIONS_PBTXT = """
node { name: "inp" op: "Placeholder" attr { key: "dtype" value { type: DT_INT32 } } }
node { name: "pc" op: "StatefulPartitionedCall" input: "inp"
       attr { key: "f" value { func { name: "outer" } } } }
node { name: "w" op: "While" input: "inp"
       attr { key: "cond" value { func { name: "inner" } } }
       attr { key: "body" value { func { name: "inner" } } } }
node { name: "r" op: "rec" input: "inp" }
node { name: "out" op: "Identity" input: "pc" }
library {
  function {
    signature { name: "inner" input_arg { name: "x" type: DT_INT32 }
                output_arg { name: "a" type: DT_INT32 } output_arg { name: "b" type: DT_INT32 } }
    node_def { name: "u" op: "Unique" input: "x" }
    ret { key: "a" value: "u:y:0" }
    ret { key: "b" value: "u:idx:0" }
  }
  function {
    signature { name: "outer" input_arg { name: "v" type: DT_INT32 }
                output_arg { name: "o" type: DT_INT32 } }
    node_def { name: "call" op: "inner" input: "v" }
    node_def { name: "neg" op: "Neg" input: "call:b:0" }
    ret { key: "o" value: "neg:y:0" }
  }
  function {
    signature { name: "rec" input_arg { name: "x" type: DT_INT32 }
                output_arg { name: "y" type: DT_INT32 } }
    node_def { name: "again" op: "rec" input: "x" }
    ret { key: "y" value: "again:y:0" }
  }
}
"""


def test_nested_calls_ports_while_and_recursion_guard():
    gd = text_format.Parse(_FUNCTIONS_PBTXT, graph_pb2.GraphDef())
    g = load_graph(gd)

    def edges(u, v):
        return [d for _, w, d in g.out_edges(u, data=True) if w == v]

    assert g.nodes["pc/call/call/call/u"]["function"] == "inner"
    assert g.nodes["pc/call/call/call/u"]["call_site"] == "pc/call/call"
    assert g.nodes["pc/call/neg"]["call_site"] == "pc"
    # the caller's input reaches the innermost consumer through two argument levels
    assert [d["kind"] for d in edges("inp", "pc/call/call/call/u")] == ["arg"]
    # "u:idx:0" is Unique's second output; "call:b:0" the call's second output
    (ret_b,) = [d for d in edges("pc/call/call/call/u", "pc/call/call") if d["dst_port"] == 1]
    assert ret_b["port"] == 1 and ret_b["kind"] == "ret"
    assert [d["port"] for d in edges("pc/call/call", "pc/call/neg")] == [1]
    assert g.nodes["pc/call/neg"]["inputs"] == ["pc/call/call:1"]
    assert [(d["port"], d["dst_port"], d["kind"]) for d in edges("pc/call/neg", "pc")] == [
        (0, 0, "ret")
    ]
    # While: cond and body both instantiated; the cond result is not a caller output
    assert {"w/cond/u", "w/body/u"} <= set(g)
    assert {d["dst_port"] for d in edges("w/cond/u", "w")} == {-1}
    assert {d["dst_port"] for d in edges("w/body/u", "w")} == {0, 1}
    # recursion is cut after one level, with a warning
    assert "r/call/again" in g and not any(n.startswith("r/call/again/") for n in g)
    assert any(w.kind == "graph.load" and "recursive" in w.message for w in g.graph["warnings"])
    assert g.graph["inlined_calls"] == 5
