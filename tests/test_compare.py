"""End-to-end: `graphs`, `scalars` and `compare` on the bundled sample_logs (the seed case).

sample_logs/ was recorded by `tbdiff train-and-compare` (raw TF keep_prob fed 0.7 vs Keras
Dropout(0.7)), so these tests check the product's central promise on real event files.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REALLOGS, SAMPLE_LOGS, need_shared, run_tbdiff

from tbdiff.events import read_logdir

SAMPLE = SAMPLE_LOGS
TF_DIR, KERAS_DIR = SAMPLE / "tensorflow", SAMPLE / "keras"
ANSI = re.compile(r"\x1b\[")


def tbdiff(*args: str) -> subprocess.CompletedProcess:
    return run_tbdiff(*args)


@pytest.fixture(scope="module")
def graphs_doc() -> dict:
    proc = tbdiff("graphs", str(TF_DIR), str(KERAS_DIR), "--json")
    assert proc.returncode == 1  # a critical finding, like diff(1)
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def compare_doc() -> dict:
    proc = tbdiff("compare", str(TF_DIR), str(KERAS_DIR), "--json")
    assert proc.returncode == 1
    return json.loads(proc.stdout)


def test_first_finding_is_the_dropout_rate_mismatch(graphs_doc: dict) -> None:
    top = graphs_doc["findings"][0]
    assert top["id"] == "dropout.rate_mismatch"
    assert top["severity"] == "critical"
    assert top["a"]["drop_rate"] == pytest.approx(0.3)
    assert top["b"]["drop_rate"] == pytest.approx(0.7)
    # all four layer pairs are named as evidence
    assert [n for n in top["nodes_a"] if re.fullmatch(r"Dropout[1-4]", n.split("/")[0])]
    for i in range(1, 5):
        assert any(n.split("/")[0] == f"Dropout{i}" for n in top["nodes_a"]), top["nodes_a"]
    for scope in ("dropout", "dropout_1", "dropout_2", "dropout_3"):
        assert any(n.split("/")[0] == scope for n in top["nodes_b"]), top["nodes_b"]
    assert "keep" in top["detail"].lower() and "drop" in top["detail"].lower()


def test_other_seed_differences_are_classified(graphs_doc: dict) -> None:
    by_id = {f["id"]: f for f in graphs_doc["findings"]}
    assert by_id["learning_phase.mechanism"]["severity"] == "benign"
    assert by_id["sample_weights.present"]["severity"] == "benign"
    assert by_id["metrics.optimizer_coupling"]["severity"] == "info"
    critical = [f["id"] for f in graphs_doc["findings"] if f["severity"] == "critical"]
    assert critical == ["dropout.rate_mismatch"]


def test_report_follows_the_json_contract(graphs_doc: dict) -> None:
    doc = graphs_doc
    assert doc["schema"] == "tbdiff.report/1"
    for side in ("a", "b"):
        assert set(doc[side]) >= {"path", "run", "graph_source", "nodes"}
        assert doc[side]["nodes"] > 100
    assert set(doc["graph"]) == {"matched", "only_a", "only_b", "changed"}
    keys = {"id", "severity", "title", "detail", "a", "b", "nodes_a", "nodes_b"}
    for f in doc["findings"]:
        assert keys <= set(f)
        assert f["severity"] in ("critical", "warning", "benign", "info")
        assert "\n" not in f["title"]
    assert isinstance(doc["warnings"], list)
    assert "scalars" not in doc  # graphs only


def test_layers_are_aligned_in_order(graphs_doc: dict) -> None:
    dense = [(lp["a"], lp["b"]) for lp in graphs_doc["layers"] if lp["kind"] == "dense"]
    names = ["VisibleLayer", "HiddenLayer1", "HiddenLayer2", "HiddenLayer3", "OutputLayer"]
    assert dense == [(n, n) for n in names]


def test_compare_quotes_the_measured_gap(compare_doc: dict) -> None:
    runs_a = {r.name: r for r in read_logdir(TF_DIR)}
    runs_b = {r.name: r for r in read_logdir(KERAS_DIR)}
    final_a = float(runs_a["."].scalars["test/accuracy"].values[-1])
    final_b = float(runs_b["."].scalars["epoch_test_accuracy"].values[-1])
    gap_points = f"{abs(final_b - final_a) * 100:.1f} points"
    verdict = compare_doc["verdict"]
    assert "keras drops 70% of units, tensorflow drops 30%" in verdict
    assert f"keras trails on test accuracy: {final_b:.4g} vs {final_a:.4g}" in verdict
    assert f"({gap_points} lower)" in verdict
    pairs = {(s["tag_a"], s["tag_b"]): s for s in compare_doc["scalars"]}
    test_pair = pairs[("test/accuracy", "epoch_test_accuracy")]
    assert test_pair["final_a"] == pytest.approx(final_a)
    assert test_pair["steps"] == 30
    assert ("train/accuracy", "epoch_accuracy") in pairs
    keys = {"tag_a", "tag_b", "steps", "final_a", "final_b", "max_abs_diff", "diverges_at_step"}
    assert all(keys <= set(s) for s in compare_doc["scalars"])
    assert {h["key"] for h in compare_doc["hparams"]} >= {"framework"}


def test_terminal_report_reads_at_80_columns_without_color() -> None:
    proc = tbdiff("compare", str(TF_DIR), str(KERAS_DIR), "--no-color", "--width", "80")
    assert proc.returncode == 1
    out = proc.stdout
    assert not ANSI.search(out)
    assert max(len(line) for line in out.splitlines()) <= 80
    # verdict first, then the evidence sections
    order = [out.index(s) for s in ("Verdict", "Findings", "Curves", "Layers", "Graph nodes")]
    assert order == sorted(order)
    assert "Dropout drops 30% of units in A but 70% in B" in out


def test_html_and_svg_exports_carry_the_same_content(tmp_path: Path) -> None:
    html, svg = tmp_path / "r.html", tmp_path / "r.svg"
    proc = tbdiff(
        "compare", str(TF_DIR), str(KERAS_DIR), "--json", "--html", str(html), "--svg", str(svg)
    )
    doc = json.loads(proc.stdout)
    page = html.read_text(encoding="utf-8")
    assert page.lstrip().lower().startswith("<!doctype html")
    assert "dropout.rate_mismatch" in page
    assert doc["verdict"].split(":")[0] in re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page))
    assert svg.read_text(encoding="utf-8").lstrip().startswith("<svg")


def test_scalars_command_pairs_differently_named_tags() -> None:
    proc = tbdiff("scalars", str(TF_DIR), str(KERAS_DIR), "--json")
    doc = json.loads(proc.stdout)
    assert proc.returncode == 1  # the accuracy curves separate for good
    assert doc["findings"] == [] and doc["graph"] is None
    tags = {(s["tag_a"], s["tag_b"]) for s in doc["scalars"]}
    assert ("train/loss", "epoch_loss") in tags


def test_forced_pair_overrides_name_matching() -> None:
    proc = tbdiff(
        "scalars", str(TF_DIR), str(KERAS_DIR), "--json", "--pair", "train/loss=epoch_test_loss"
    )
    doc = json.loads(proc.stdout)
    tags = {(s["tag_a"], s["tag_b"]) for s in doc["scalars"]}
    assert ("train/loss", "epoch_test_loss") in tags


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["graphs", "/nonexistent/a", str(KERAS_DIR)], "no such file"),
        (["compare", str(TF_DIR), str(KERAS_DIR), "--run-a", "nope"], "no run named"),
        (["graphs", "--feed", "novalue", str(TF_DIR), str(KERAS_DIR)], "NAME=VALUE"),
    ],
)
def test_bad_input_gives_one_line_and_exit_2(args: list[str], needle: str) -> None:
    proc = tbdiff(*args)
    assert proc.returncode == 2
    assert needle in proc.stderr
    assert proc.stdout == ""


def test_graphs_on_a_dir_without_graph_is_a_clear_error() -> None:
    # PyTorch logs hold only scalars (read in place: tbdiff never writes into a log dir)
    strict = need_shared(REALLOGS / "janosh__tensorboard-reducer/tests/runs/strict", "real logs")
    proc = tbdiff("graphs", str(strict / "run_1"), str(KERAS_DIR))
    assert proc.returncode == 2
    assert "no graph" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_analysis_never_imports_tensorflow() -> None:
    code = (
        "import sys, io, contextlib\n"
        "from tbdiff.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['compare', {str(TF_DIR)!r}, {str(KERAS_DIR)!r}, '--json'])\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'tf_keras', 'keras')]\n"
        "print(bad)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip().splitlines()[-1] == "[]", proc.stderr


def test_all_lists_every_node_difference_with_what_changed() -> None:
    proc = tbdiff("graphs", str(TF_DIR), str(KERAS_DIR), "--json", "--all")
    doc = json.loads(proc.stdout)
    rows = doc["node_diffs"]
    counts = doc["graph"]
    assert sum(r["status"] == "only_a" for r in rows) == counts["only_a"]
    assert sum(r["status"] == "only_b" for r in rows) == counts["only_b"]
    changed = [r for r in rows if r["status"] == "changed"]
    assert len(changed) == counts["changed"] and all(r["a"] and r["b"] for r in changed)
    # keep_prob scaling 1/0.7 is a fed value in A; Keras scales by 1/(1-0.7) as a constant
    scale = [r for r in changed if r["a"] == "Dropout1/Const"]
    assert scale and "3.33333" in scale[0]["detail"]
