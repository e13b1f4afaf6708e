"""PyTorch and Keras-3-to-PyTorch port pairs (issue 11), read from the committed event files
under tests/fixtures/torch (scripts/gen_torch_fixtures.py wrote them with torch's SummaryWriter,
Lightning and Keras 3; no torch or TensorFlow is needed here). Pairs and expectations:
tests/torch_manifest.py; each pair runs `tbdiff compare A B --json` in-process."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pairs_cli as C
import pytest
import torch_manifest as M

from tbdiff import cli
from tbdiff.events import read_run
from tbdiff.events.discovery import find_runs

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "torch"


def tbdiff(*args: str) -> C.CliRun:
    """`tbdiff ARGS` in this process: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([*args, "--width", "100", "--no-color"])
    return C.CliRun(list(args), code, out.getvalue(), err.getvalue())


@pytest.mark.parametrize("pair", M.PAIRS, ids=lambda p: p.name)
def test_pair(pair) -> None:
    res = tbdiff("compare", str(FIXTURES / pair.a), str(FIXTURES / pair.b), "--json")
    C.check_pair(pair, res)
    assert "refer to nodes not in the graph" not in res.stderr  # torch parameter inputs


@pytest.mark.parametrize("check", M.INSPECT, ids=lambda c: f"{c.run}-{c.what[:20]}")
def test_inspect_model_description(check) -> None:
    C.check_inspect(check, tbdiff("inspect", str(FIXTURES / check.run), "--json"))


def test_port_layers_pair_in_data_path_order() -> None:
    """Dense <-> Linear, BatchNormalization <-> BatchNorm1d, Dropout <-> Dropout, in order."""
    doc = tbdiff("compare", str(FIXTURES / "k_port"), str(FIXTURES / "p_equiv"), "--json").doc()
    rows = [(x["a"], x["b"], x["kind"], x["status"]) for x in doc["layers"]]
    assert rows == [
        ("dense", "fc0", "dense", "matched"),
        ("batch_normalization", "bn", "batch_norm", "matched"),
        ("dropout", "drop", "dropout", "matched"),
        ("dense_1", "fc1", "dense", "matched"),
    ], rows


def test_port_text_tables_show_pairs_and_the_fix() -> None:
    """The plain report: the trap named first with its fix; the layers paired (the table with
    both names under -v)."""
    res = tbdiff("compare", str(FIXTURES / "k_port_m09"), str(FIXTURES / "p_m09"))
    assert res.returncode == 1
    text = " ".join(res.stdout.replace("│", " ").split())
    verdict = text[: text.index("Findings")]
    assert "momentum=0.9 means different things" in verdict, verdict
    assert "Fix: BatchNorm*d(momentum=0.1) in p_m09" in verdict, verdict
    assert "Layers: 4 matched in order (2 dense, 1 batch_norm, 1 dropout)" in text, text
    res = tbdiff("compare", str(FIXTURES / "k_port_m09"), str(FIXTURES / "p_m09"), "-v")
    table = " ".join(res.stdout.split())
    table = table[table.index("Layers A B kind") :]
    assert re.search(r"batch_normalization\S* bn batch_norm . matched", table), table


def test_add_hparams_subdirectory_is_part_of_the_run() -> None:
    """add_hparams writes into <run>/<time.time()>/: one run, its hparams the run's own."""
    res = tbdiff("inspect", str(FIXTURES / "t_base"), "--json")
    runs = res.doc()["runs"]
    models = [r for r in runs if r.get("model")]
    assert len(models) == 1 and "hparams" in models[0]["model"]["optimizer"]
    compare = tbdiff("compare", str(FIXTURES / "t_base"), str(FIXTURES / "t_lr01"))
    assert compare.returncode == 1 and "holds 2 runs" not in compare.stderr


def test_fixtures_are_real_pytorch_traces_and_small() -> None:
    total = sum(p.stat().st_size for p in FIXTURES.rglob("*") if p.is_file())
    assert total < 3_000_000, total
    run = find_runs(FIXTURES / "t_bn")[0]
    ops = {n.op for src in read_run(run).graphs for n in src.graph_def().node}
    assert {"aten::linear", "aten::batch_norm", "aten::dropout", "prim::Constant"} <= ops
    assert json.loads(tbdiff("inspect", str(FIXTURES / "l_base"), "--json").stdout)["runs"]


def test_torch_optimizer_hparams_in_one_convention() -> None:
    """PyTorch's weight_decay of Adam is coupled (L2 in the gradient) unless
    decoupled_weight_decay=True; AdamW's is decoupled; unstated settings are torch's defaults."""
    from tbdiff.model.frontends.torch_graph import optimizer

    o = optimizer({"optimizer": "Adam", "lr": 0.01, "weight_decay": 0.1})
    assert (o.type, o.hparams["coupled_weight_decay"], o.hparams["weight_decay"]) == (
        "adam",
        0.1,
        0.0,
    )
    assert o.sources["epsilon"].label == "default of torch.optim.Adam"
    assert o.sources["learning_rate"].label == "hparams lr" and o.hparams["epsilon"] == 1e-8
    o = optimizer({"optimizer": "Adam", "weight_decay": 0.1, "decoupled_weight_decay": True})
    assert (o.hparams["weight_decay"], o.hparams["coupled_weight_decay"]) == (0.1, 0.0)
    o = optimizer({"optimizer": "torch.optim.AdamW"})
    assert o.type == "adamw" and o.hparams["weight_decay"] == 0.01
    assert "coupled_weight_decay" not in o.hparams
    assert optimizer({"lr": 0.1}).type is None and optimizer({}) is None
    o = optimizer({"optimizer": "RMSprop", "alpha": 0.9})
    assert (o.hparams["rho"], o.hparams["learning_rate"], o.hparams["epsilon"]) == (0.9, 1e-2, 1e-8)


def test_add_hparams_time_directory_groups_with_its_run() -> None:
    from tbdiff.selection import group_runs

    class R:
        def __init__(self, name: str) -> None:
            self.name = name

    groups = group_runs([R("a"), R("a/1796194477.5761168"), R("b"), R("b/train"), R("2024")])
    assert [(g.name, [m.name for m in g.members]) for g in groups] == [
        ("2024", ["2024"]),
        ("a", ["a", "a/1796194477.5761168"]),
        ("b", ["b", "b/train"]),
    ]


@pytest.mark.parametrize(
    ("a", "b", "fix"),
    [
        ("k_port_m09", "p_m09", "BatchNorm*d(momentum=0.1) in B"),
        ("k_port", "p_bn_eps", "eps=0.001 in B"),
        ("k_port_wd", "p_adam_wd", "torch.optim.AdamW(weight_decay=0.01)"),
        ("k_port", "p_softmax", "no output activation before a loss on logits in B"),
        ("t_base", "t_fdrop_always", "training=self.training"),
        ("k_port", "p_equiv", "nn.init.xavier_uniform_"),
    ],
)
def test_port_traps_come_with_their_fix(a: str, b: str, fix: str) -> None:
    first = tbdiff("compare", str(FIXTURES / a), str(FIXTURES / b), "--json").doc()["findings"][0]
    assert fix in first.get("fix", ""), first
