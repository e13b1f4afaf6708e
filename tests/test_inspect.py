"""`tbdiff inspect` end to end, as a user runs it: a subprocess, real event files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_event_fixtures  # noqa: E402
from helpers import REALLOGS, need_shared, run_tbdiff  # noqa: E402

from tbdiff import events  # noqa: E402

ANSI = re.compile(r"\x1b\[")


@pytest.fixture(scope="session")
def fx(tmp_path_factory) -> Path:
    return gen_event_fixtures.generated(tmp_path_factory)


def tbdiff(*args: str, importtime: bool = False) -> subprocess.CompletedProcess:
    if not importtime:
        return run_tbdiff(*args, env={"COLUMNS": "120"})
    env = dict(os.environ, COLUMNS="120", TF_CPP_MIN_LOG_LEVEL="2")
    cmd = [sys.executable, "-X", "importtime", "-m", "tbdiff", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


def _imported(stderr: str) -> set[str]:
    mods = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            mods.add(line.rsplit("|", 1)[1].strip())
    return mods


def test_json_inventory_without_tensorflow(fx: Path) -> None:
    proc = tbdiff("inspect", str(fx), "--json", importtime=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    mods = _imported(proc.stderr)
    assert "tbdiff.events" in mods  # the import log is really there
    assert not {
        m for m in mods if m == "tensorflow" or m.startswith(("tensorflow.", "tf_keras", "keras"))
    }
    inv = json.loads(proc.stdout)
    assert inv["schema"] == "tbdiff.inspect/1"
    runs = {r["name"]: r for r in inv["runs"]}
    assert list(runs) == [r.name for r in events.find_runs(fx)]
    assert {"hparams", "keras/train", "keras/validation", "mixed dir", "tf1", "tf2"} <= set(runs)
    written = json.loads((fx / "written.json").read_text())
    loss = next(s for s in runs["tf1"]["scalars"] if s["tag"] == "loss")
    exp = written["tf1"]["scalars"]["loss"]
    assert loss["steps"] == len(exp["steps"]) and loss["last_step"] == exp["steps"][-1]
    assert loss["last_value"] == float(np.float32(exp["values"][-1]))
    assert loss["encoding"] == "simple_value"
    kinds = [g["kind"] for g in runs["tf1"]["graphs"]]
    assert kinds == ["graph_def", "meta_graph_def", "run_metadata"]
    assert runs["tf1"]["graphs"][0]["nodes"] == written["tf1"]["graph_nodes"]
    assert sum(g["best"] for g in runs["tf1"]["graphs"]) == 1
    assert runs["keras/train"]["graphs"][0]["kind"] == "keras_model"
    assert runs["hparams"]["hparams"]["optimizer"] == "adam"
    special = next(s for s in runs["mixed dir"]["scalars"] if s["tag"] == "special")
    assert special["last_value"] == pytest.approx(1e38, rel=1e-6)
    assert runs["tf2"]["counts"]["histograms"] == 2 and runs["tf2"]["counts"]["text"] == 1
    # the only warnings: the orphaned steps of the restart fixtures (and of "mixed dir")
    kinds = {(w["kind"], Path(w["path"]).parent.name) for w in inv["warning_records"]}
    assert kinds == {
        ("scalars.restart", "mixed dir"),
        ("scalars.restart", "restart_tf1"),
        ("scalars.restart", "restart_tf2"),
        ("scalars.overlap", "overlap"),
    }
    assert inv["warnings"] == [f"{w['path']}: {w['message']}" for w in inv["warning_records"]]


def test_table_fits_80_columns_without_color(fx: Path) -> None:
    proc = tbdiff("inspect", str(fx), "--no-color", "--width", "80")
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert not ANSI.search(out)
    assert max(len(line) for line in out.splitlines()) <= 80
    for needle in (
        "tf1",
        "keras/train",
        "mixed dir",
        "metrics/accuracy",
        "run_metadata",
        "keras_model",
    ):
        assert needle in out
    assert "dropout_rate=0.3" in out


def test_damaged_logs_give_warnings_not_tracebacks(fx: Path, tmp_path: Path) -> None:
    src = next((fx / "tf1").glob("events.out.tfevents.*"))
    data = src.read_bytes()
    (tmp_path / "run").mkdir()
    cut = len(data) - 7
    (tmp_path / "run" / src.name).write_bytes(data[:cut])
    last = list(events.iter_records(src))[-1][0]
    proc = tbdiff("inspect", str(tmp_path), "--no-color")
    assert proc.returncode == 0
    assert "Traceback" not in proc.stderr
    assert f"truncated record at offset {last}" in proc.stderr
    assert "truncated" in proc.stdout  # also shown in the table

    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "events.out.tfevents.9.host").write_bytes(os.urandom(3000))
    proc = tbdiff("inspect", str(junk))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert (
        "not a TensorBoard event file" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    )


@pytest.mark.parametrize("case", ["missing", "no_events"])
def test_bad_paths_exit_2(tmp_path: Path, case: str) -> None:
    target = tmp_path / "missing"
    if case == "no_events":
        target = tmp_path
        (tmp_path / "readme.txt").write_text("nothing")
    proc = tbdiff("inspect", str(target))
    assert proc.returncode == 2
    assert proc.stderr.startswith("tbdiff: error: ") and "Traceback" not in proc.stderr


def test_single_file_and_no_crc(fx: Path) -> None:
    src = next((fx / "tf2").glob("events.out.tfevents.*"))
    proc = tbdiff("inspect", str(src), "--json", "--no-crc")
    assert proc.returncode == 0, proc.stderr
    (run,) = json.loads(proc.stdout)["runs"]
    assert {s["tag"] for s in run["scalars"]} == {"loss", "metrics/accuracy"}


def test_real_logs_inspect(tmp_path: Path) -> None:
    root = need_shared(REALLOGS, "real logs")
    proc = tbdiff("inspect", str(root), "--no-color", "--width", "80")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    assert "183917" in proc.stderr
    assert max(len(line) for line in proc.stdout.splitlines()) <= 80


def test_inspect_says_what_each_graph_does() -> None:
    """The detectors' one-graph half powers inspect: dropout read per run, no comparison needed."""
    sample = Path(__file__).resolve().parents[1] / "sample_logs"
    proc = subprocess.run(
        [sys.executable, "-m", "tbdiff", "inspect", str(sample), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    runs = {r["name"]: r for r in json.loads(proc.stdout)["runs"]}
    assert "drops 30%" in runs["tensorflow"]["model"]["dropout"]
    assert "keep_prob=0.7" in runs["tensorflow"]["model"]["dropout"]
    assert "drops 70% (rate=0.7)" in runs["keras"]["model"]["dropout"]
    assert runs["keras"]["model"]["optimizer"].startswith("adam (learning_rate=0.001")
    assert runs["tensorflow"]["model"]["layers"].startswith("5 trainable")
