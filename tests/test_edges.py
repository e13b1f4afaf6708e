"""Trust at the edges (issue 9): run selection, bad input, streams, exit codes, first contact.

Every test runs the real CLI in a subprocess on real event files (sample_logs/ written by
`train-and-compare`, files written by TensorFlow/TensorBoard writers in tests/gen_*.py, or
written here with TensorBoard's own EventFileWriter) and checks exit code, stream and message.
Exit codes: 0 no critical/warning difference, 1 a critical or warning finding, 2 bad input.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import REALLOGS, ROOT, SAMPLE_LOGS

TF_DIR, KERAS_DIR = SAMPLE_LOGS / "tensorflow", SAMPLE_LOGS / "keras"
KERAS_FILE = next(KERAS_DIR.glob("events.out.tfevents.*"))
WARNING_LINE = re.compile(r"^\W*(tbdiff: )?warning", re.M | re.I)


def one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    """Exit 2, nothing on stdout, exactly one line on stderr holding every needle."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("tbdiff: error: "), lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def write_run(logdir: Path, hparams: dict, losses: list[float]) -> Path:
    """A run written by TensorBoard's own EventFileWriter: hparams (plugin summary) + loss."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.plugins.hparams import summary_v2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    w = EventFileWriter(str(logdir))
    w.add_event(event_pb2.Event(wall_time=time.time(), summary=summary_v2.hparams_pb(hparams)))
    for step, v in enumerate(losses):
        value = summary_pb2.Summary.Value(tag="loss", simple_value=v)
        w.add_event(
            event_pb2.Event(
                wall_time=time.time(), step=step, summary=summary_pb2.Summary(value=[value])
            )
        )
    w.close()
    return logdir


# ------------------------------------------------------------------ 2: one run selector


@pytest.mark.parametrize("command", ["compare", "graphs", "scalars"])
def test_several_runs_where_one_is_expected_is_exit_2(cli, command: str) -> None:
    proc = cli(command, "sample_logs", "sample_logs/keras")
    one_line_error(
        proc, "A: sample_logs holds 2 runs (keras, tensorflow)", "--run-a", "sample_logs/keras"
    )
    proc = cli(command, "sample_logs/keras", "sample_logs")
    one_line_error(proc, "B: sample_logs holds 2 runs", "--run-b")


def test_run_flag_picks_one_run_and_sibling_hparams_never_mix(cli) -> None:
    proc = cli("compare", "sample_logs", "sample_logs/tensorflow", "--run-a", "keras", "--json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["a"]["run"] == "keras" and doc["a"]["label"] == "keras"
    assert doc["findings"][0]["id"] == "dropout.rate_mismatch"
    hp = {h["key"]: (h["a"], h["b"]) for h in doc["hparams"]}
    # keep_prob was recorded by the tensorflow run only: it must not leak into A (keras)
    assert hp["keep_prob"] == (None, pytest.approx(0.7))
    assert hp["dropout_rate"] == (pytest.approx(0.7), None)
    direct = json.loads(cli("compare", str(KERAS_DIR), str(TF_DIR), "--json").stdout)
    assert [f["id"] for f in direct["findings"]] == [f["id"] for f in doc["findings"]]


def test_run_flag_that_names_no_run_is_exit_2(cli, graph_fx: Path) -> None:
    proc = cli("compare", "sample_logs", str(KERAS_DIR), "--run-a", "nope")
    one_line_error(
        proc, "A: --run-a nope: no run named 'nope' in sample_logs; runs: keras, tensorflow"
    )
    proc = cli("compare", str(KERAS_DIR), str(TF_DIR), "--run-b", "keras")
    one_line_error(proc, "B: --run-b keras: no run named 'keras'", "runs: (the path itself)")
    proc = cli("graphs", str(graph_fx / "tf1.pb"), str(KERAS_DIR), "--run-a", "train")
    one_line_error(proc, "A: --run-a train:", "is a graph file, not a log directory")


def test_graph_loading_uses_the_same_selector() -> None:
    from tbdiff.errors import TbdiffError
    from tbdiff.graph import graph_from_path

    with pytest.raises(TbdiffError, match=r"holds 2 runs \(keras, tensorflow\)"):
        graph_from_path(SAMPLE_LOGS)
    g, info = graph_from_path(SAMPLE_LOGS, run="keras")
    assert info.run == "keras" and g.number_of_nodes() == 883


def test_train_and_validation_parts_are_one_run(cli, event_fx: Path) -> None:
    keras = event_fx / "keras"  # the Keras TensorBoard callback: keras/train, keras/validation
    proc = cli("scalars", str(keras), str(keras), "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["a"]["run"] == "."
    tags = {s["tag_a"] for s in doc["scalars"]}
    assert {"train/epoch_loss", "validation/epoch_loss"} <= tags
    # a part can still be picked on its own
    proc = cli("scalars", str(keras), str(keras), "--run-a", "train", "--json")
    assert json.loads(proc.stdout)["a"]["run"] == "train"
    # the fixture root holds several runs; keras/train and keras/validation count as one
    from tbdiff import events
    from tbdiff.selection import group_runs

    n = len(group_runs(events.find_runs(event_fx)))
    proc = cli("graphs", str(event_fx), str(KERAS_DIR))
    one_line_error(proc, f"holds {n} runs (", "keras, ")
    assert "keras/train" not in proc.stderr and "keras/validation" not in proc.stderr
    # inspect stars one graph per run: the one compare uses
    inv = json.loads(cli("inspect", str(event_fx), "--json", "--no-model").stdout)
    parts = [r for r in inv["runs"] if r["name"].startswith("keras/")]
    assert sum(g["best"] for r in parts for g in r["graphs"]) == 1


REDUCER = REALLOGS / "janosh__tensorboard-reducer/tests/runs"  # run_1..3 in strict/, lax/ ...
JAN_LOGS = REALLOGS / "Jan1995__Mnist/logs"  # event files of its own, and log_test/ below
CAO = REALLOGS / "caozhang1996__mnist_code/tensorboard_file"


def _listed(message: str) -> list[str]:
    """The run names a "several runs ... end with it" error quotes."""
    inner = re.search(r"end with it \((.*)\); give more of the name", message)
    assert inner, message
    return inner.group(1).split(", ")


@pytest.mark.shared("reallogs")
def test_a_unique_name_end_picks_its_run_and_an_ambiguous_one_lists_each_run_once(cli) -> None:
    run_2 = str(REDUCER / "strict/run_2")
    for wanted, full in [
        ("strict/run_1", "janosh__tensorboard-reducer/tests/runs/strict/run_1"),
        ("version_1", "FKnorring__restaurant-name-prediction/lightning_logs/version_1"),
    ]:
        b = str(REALLOGS / full.replace("run_1", "run_2"))  # a run with the same tags
        proc = cli("scalars", str(REALLOGS), b, "--run-a", wanted, "--json")
        assert proc.returncode in (0, 1), proc.stderr
        assert json.loads(proc.stdout)["a"]["run"] == full
    line = one_line_error(
        cli("scalars", str(REALLOGS), run_2, "--run-a", "run_1"),
        "--run-a run_1: several runs of",
        "give more of the name",
    )
    assert sorted(_listed(line)) == [
        f"janosh__tensorboard-reducer/tests/runs/{d}/run_1"
        for d in ("duplicate_steps", "lax", "strict")
    ]
    import tbdiff

    frame = tbdiff.read_scalars(REALLOGS, run="strict/run_1")
    assert set(frame["run"]) == {"janosh__tensorboard-reducer/tests/runs/strict/run_1"}


@pytest.mark.shared("reallogs")
def test_every_real_run_is_a_candidate_once_and_every_suggested_directory_works() -> None:
    """In every folder of the real logs: each run and part is picked by its full name and by its
    last component when no other candidate ends so; an ambiguous end lists each candidate once;
    a "choose one" message's example directory holds one run and `.` picks the folder's files."""
    from tbdiff import events
    from tbdiff.errors import TbdiffError
    from tbdiff.selection import group_runs, select_run

    folders = {REALLOGS} | {p for p in REALLOGS.rglob("*") if p.is_dir() and not p.is_symlink()}
    checked = suggested = 0
    for folder in sorted(folders):
        try:
            runs = events.find_runs(folder)
        except TbdiffError:
            continue  # no event files below
        groups = group_runs(runs)
        names = {g.name for g in groups} | {r.name for r in runs}
        for name in sorted(names):
            assert select_run(runs, name, path=str(folder)).name == name
            end = name.rpartition("/")[2]
            ending = sorted(n for n in names if n == end or n.endswith("/" + end))
            if end in names or len(ending) == 1:
                assert select_run(runs, end, path=str(folder)).name == (
                    end if end in names else name
                )
                checked += 1
                continue
            with pytest.raises(TbdiffError, match="several runs") as err:
                select_run(runs, end, path=str(folder))
            listed = _listed(str(err.value))
            assert len(listed) == len(set(listed)), listed  # each run once
            if len(ending) <= 6:  # longer lists end with "... and N more"
                assert sorted(listed) == ending
        if len(groups) < 2:
            continue
        with pytest.raises(TbdiffError, match="holds") as err:
            select_run(runs, None, path=str(folder), flag="--run-a")
        example = shlex.split(str(err.value).rpartition("e.g. ")[2])[0]
        assert len(group_runs(events.find_runs(example))) == 1, (folder, example)
        if "." in {g.name for g in groups}:
            assert "--run-a . for its own event files" in str(err.value)
            assert select_run(runs, ".", path=str(folder)).name == "."
        suggested += 1
    assert checked > 50 and suggested > 10, (checked, suggested)


@pytest.mark.shared("reallogs")
def test_a_folder_with_its_own_files_and_a_run_below_suggests_working_choices(cli) -> None:
    line = one_line_error(
        cli("compare", str(JAN_LOGS), str(CAO)),
        f"A: {JAN_LOGS} holds 2 runs ((the path itself), log_test)",
        "--run-a . for its own event files",
    )
    example = shlex.split(line.rpartition("e.g. ")[2])[0]
    assert example == str(JAN_LOGS / "log_test")
    for args in ([example], [str(JAN_LOGS), "--run-a", "."]):
        proc = cli("compare", *args, str(CAO), "--json")
        assert proc.returncode in (0, 1), proc.stderr
    assert json.loads(proc.stdout)["a"]["run"] == "."


# ------------------------------------------------------------------ 3: nothing compared


@pytest.mark.parametrize(
    ("case", "why"),
    [
        ("empty", ["nothing readable", "empty (0 bytes)"]),
        ("cut10", ["nothing readable", "cut inside its first record"]),
        ("cut100", []),  # a header record only: nothing to compare either
        ("text", ["nothing readable"]),
    ],
)
def test_a_side_with_nothing_readable_is_exit_2(
    cli, tmp_path: Path, case: str, why: list[str]
) -> None:
    data = KERAS_FILE.read_bytes()
    content = {
        "empty": b"",
        "cut10": data[:10],
        "cut100": data[:100],
        "text": b"these are my notes, not an event file\n",
    }[case]
    run = tmp_path / "run"
    run.mkdir()
    (run / "events.out.tfevents.1700000000.host").write_bytes(content)
    for command in ("compare", "graphs", "scalars"):
        one_line_error(cli(command, str(run), str(KERAS_DIR)), f"A: {run}: ", *why)
    one_line_error(cli("compare", str(KERAS_DIR), str(run)), f"B: {run}: ", *why)


def test_graphs_of_a_run_without_graph_is_exit_2(cli, tmp_path: Path) -> None:
    scalars_only = write_run(tmp_path / "run", {"lr": 0.1}, [1.0, 0.5])  # like PyTorch logs
    proc = cli("graphs", str(scalars_only), str(KERAS_DIR))
    one_line_error(proc, f"A: {scalars_only}: no graph to compare in run '.'", "file_version 1")


def test_nothing_compared_is_exit_2(cli, graph_fx: Path, tmp_path: Path, event_fx: Path) -> None:
    scalars_only = write_run(tmp_path / "run", {"lr": 0.1}, [1.0, 0.5])
    proc = cli("compare", str(graph_fx / "tf1.pb"), str(scalars_only))
    one_line_error(
        proc, "nothing compared: A has a graph and no scalars, B has no graph and scalars"
    )
    proc = cli("scalars", str(event_fx / "tf1"), str(event_fx / "hparams"))
    one_line_error(proc, "nothing compared: no scalar tag of A pairs", "--pair A_TAG=B_TAG")


# ------------------------------------------------------------------ 6: permissions


def _without_file_permission_capabilities() -> list[str]:
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot drop the file-permission capabilities")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search"]


def test_unreadable_paths_are_one_line_exit_2(tmp_path: Path) -> None:
    prefix = _without_file_permission_capabilities()
    locked = tmp_path / "locked"
    locked.mkdir()
    shutil.copy(KERAS_FILE, locked)
    shut = tmp_path / "shut"
    shut.mkdir()
    (shut / KERAS_FILE.name).write_bytes(KERAS_FILE.read_bytes())
    (shut / KERAS_FILE.name).chmod(0)
    locked.chmod(0)

    def run(*args: str) -> subprocess.CompletedProcess:
        cmd = [*prefix, sys.executable, "-m", "tbdiff", *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc

    try:
        for command in ("compare", "graphs", "scalars"):
            one_line_error(
                run(command, str(locked), str(KERAS_DIR)), f"A: {locked}: permission denied"
            )
            one_line_error(
                run(command, str(shut), str(KERAS_DIR)),
                f"A: {shut}: nothing readable",
                "cannot be read",
            )
        one_line_error(run("inspect", str(locked)), f"{locked}: permission denied")
        single = shut / KERAS_FILE.name
        one_line_error(run("inspect", str(single)), f"{single}: permission denied")
    finally:
        locked.chmod(0o755)
        (shut / KERAS_FILE.name).chmod(0o644)


# ------------------------------------------------------------------ 7, 8: usage errors


@pytest.mark.parametrize("width", ["0", "-5", "20", "abc"])
def test_unreadable_width_is_a_usage_error(cli, width: str) -> None:
    proc = cli("compare", str(TF_DIR), str(KERAS_DIR), "--width", width)
    one_line_error(proc, "argument --width", "see 'tbdiff compare --help'")
    one_line_error(cli("inspect", "sample_logs", "--width", width), "argument --width")


def test_minimum_width_still_reads(cli) -> None:
    proc = cli("compare", str(TF_DIR), str(KERAS_DIR), "--width", "60", "--no-color")
    assert proc.returncode == 1
    assert max(len(line) for line in proc.stdout.splitlines()) <= 60
    assert "Dropout drops 30% of units in A but 70%" in proc.stdout


@pytest.mark.parametrize(
    ("feed", "needles"),
    [
        (
            "PlaceholderWithDefault=1.5",
            ["--feed PlaceholderWithDefault=1.5", "keep_prob", "[0, 1]"],
        ),
        ("PlaceholderWithDefault=-0.2", ["keep_prob", "[0, 1]"]),
        ("Nonexistent=0.5", ["no placeholder named 'Nonexistent'", "A: PlaceholderWithDefault"]),
        ("foo", ["argument --feed", "NAME=VALUE", "see 'tbdiff graphs --help'"]),
        ("PlaceholderWithDefault=nan", ["argument --feed", "finite"]),
    ],
)
def test_bad_feed_is_one_line_exit_2(cli, feed: str, needles: list[str]) -> None:
    one_line_error(cli("graphs", str(TF_DIR), str(KERAS_DIR), "--feed", feed), *needles)


def test_valid_feed_is_used(cli) -> None:
    proc = cli(
        "graphs", str(TF_DIR), str(KERAS_DIR), "--feed", "PlaceholderWithDefault=0.5", "--json"
    )
    assert proc.returncode == 1, proc.stderr
    top = json.loads(proc.stdout)["findings"][0]
    assert top["id"] == "dropout.rate_mismatch" and top["a"]["drop_rate"] == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["compare", "sample_logs/keras"], "required: LOGDIR_B"),
        (["frobnicate"], "invalid choice"),
        (["graphs", "a", "b", "--graph-source", "nope"], "argument --graph-source"),
        (
            ["compare", "a", "b", "--bogus"],
            "unrecognized arguments: --bogus (see 'tbdiff compare --help')",
        ),
        (["inspect", "a", "--bogus", "x"], "--bogus x (see 'tbdiff inspect --help')"),
        (["--bogus"], "unrecognized arguments: --bogus (see 'tbdiff --help')"),
    ],
)
def test_usage_errors_are_one_line_with_a_pointer_to_help(cli, args, needle) -> None:
    one_line_error(cli(*args), needle, "--help')")


# ------------------------------------------------------------------ 9, 17: streams and records


def test_warnings_go_to_stderr_and_stdout_holds_the_report(cli, tmp_path: Path) -> None:
    run = tmp_path / "tensorflow"
    run.mkdir()
    src = next(TF_DIR.glob("events.out.tfevents.*"))
    cut = run / src.name
    cut.write_bytes(src.read_bytes()[:-7])  # a job killed while writing its last scalar
    proc = cli("compare", str(cut.parent), str(KERAS_DIR), "--no-color", "--width", "80")
    assert proc.returncode == 1, proc.stderr
    assert "truncated" not in proc.stdout and not WARNING_LINE.search(proc.stdout)
    warn = [ln for ln in proc.stderr.splitlines() if ln.startswith("tbdiff: warning: ")]
    assert any(str(cut) in ln and "truncated" in ln for ln in warn), proc.stderr
    assert proc.stdout.startswith("A tensorflow")
    proc = cli("compare", str(run), str(KERAS_DIR), "--json")
    doc = json.loads(proc.stdout)  # stdout is exactly one JSON object
    assert doc["findings"][0]["id"] == "dropout.rate_mismatch"
    assert any("truncated" in w for w in doc["warnings"])
    assert any(str(cut) in ln and "truncated" in ln for ln in proc.stderr.splitlines())
    proc = cli("inspect", str(run), "--no-color")
    assert proc.returncode == 0
    assert "truncated at offset" in " ".join(proc.stdout.split())  # the file's state, in its row
    assert not WARNING_LINE.search(proc.stdout)
    assert any(str(cut) in ln for ln in proc.stderr.splitlines())


def test_warnings_are_records_in_json(cli, tmp_path: Path) -> None:
    b = write_run(tmp_path / "torchlike", {"lr": 0.001}, [2.0, 1.0, 0.5])  # scalars, no graph
    proc = cli("compare", str(TF_DIR), str(b), "--json")
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads(proc.stdout)
    records = doc["warning_records"]
    assert len(records) == len(doc["warnings"])
    for rec, text in zip(records, doc["warnings"], strict=True):
        assert set(rec) == {"kind", "path", "offset", "message"}
        assert text == (f"{rec['path']}: {rec['message']}" if rec["path"] else rec["message"])
    missing = [r for r in records if r["kind"] == "graph.missing"]
    assert [r["path"] for r in missing] == [str(b)]
    assert doc["graph"] is None and doc["scalars"]  # the scalars were compared


# ------------------------------------------------------------------ 10, 11: inputs


def test_inspect_accepts_graph_files_and_saved_models(cli, graph_fx: Path, tmp_path: Path) -> None:
    from google.protobuf import text_format
    from tensorboard.compat.proto import graph_pb2

    gd = graph_pb2.GraphDef.FromString((graph_fx / "tf1.pb").read_bytes())
    pbtxt = tmp_path / "tf1.pbtxt"
    pbtxt.write_text(text_format.MessageToString(gd))
    for path, kind in (
        (graph_fx / "tf1.pb", "graph_def"),
        (pbtxt, "graph_def"),
        (graph_fx / "saved_model", "saved_model"),  # the same graph plus save/restore ops
    ):
        proc = cli("inspect", str(path), "--json")
        assert proc.returncode == 0, proc.stderr
        (run,) = json.loads(proc.stdout)["runs"]
        (g,) = run["graphs"]
        assert g["kind"] == kind and g["best"]
        assert g["nodes"] == len(gd.node) if kind == "graph_def" else g["nodes"] > len(gd.node)
        assert "dropout" in run["model"]
        proc = cli("inspect", str(path), "--no-color", "--width", "80")
        assert proc.returncode == 0 and "graph file" in proc.stdout and kind in proc.stdout


def test_a_missing_path_has_one_message(cli, tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    one_line_error(cli("inspect", str(missing)), f"error: {missing}: no such file or directory")
    for command in ("compare", "graphs", "scalars"):
        one_line_error(
            cli(command, str(missing), str(KERAS_DIR)), f"A: {missing}: no such file or directory"
        )
        one_line_error(
            cli(command, str(KERAS_DIR), str(missing)), f"B: {missing}: no such file or directory"
        )


# ------------------------------------------------------------------ 12: set-up


def test_demo_installs_the_analysis_only(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        pytest.skip("make not installed")
    venv = tmp_path / "v"

    def plan(target: str) -> str:
        proc = subprocess.run(
            ["make", "-n", target, f"VENV={venv}"], capture_output=True, text=True, cwd=ROOT
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    demo = plan("demo")
    installs = [ln for ln in demo.splitlines() if " install " in ln]
    assert installs and all(ln.rstrip().endswith("-e .") for ln in installs), installs
    assert "[dev" not in demo and "train" not in demo
    assert "-e '.[dev,train]'" in plan("test")
    assert "-e '.[dev,train]'" in plan("train-and-compare")
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert not [d for d in deps if re.match(r"(tensorflow|tf-keras|torch|keras)\b", d)]


def test_train_and_compare_without_tensorflow_says_how_to_install() -> None:
    code = (
        "import sys; sys.modules['tensorflow'] = None\n"
        "from tbdiff.cli import main\n"
        "raise SystemExit(main(['train-and-compare', '--epochs', '1']))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    one_line_error(proc, "train-and-compare needs tensorflow", "pip install -e '.[train]'")


# ------------------------------------------------------------------ 13: ../shared


def _inner_pytest(env: dict[str, str]) -> subprocess.CompletedProcess:
    test = "tests/test_inspect.py::test_real_logs_inspect"  # reads ../shared/data/reallogs
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=dict(os.environ, **env),
    )


def test_skips_for_missing_shared_data_are_reported_loudly(tmp_path: Path) -> None:
    nowhere = tmp_path / "nowhere"
    proc = _inner_pytest({"TBDIFF_REALLOGS": str(nowhere), "TBDIFF_REQUIRE_SHARED": "0"})
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "1 test(s) SKIPPED: ../shared data not found" in proc.stdout
    assert f"real logs: {nowhere} not found" in proc.stdout


def test_ci_fails_when_shared_data_is_missing(tmp_path: Path) -> None:
    nowhere = tmp_path / "nowhere"
    proc = _inner_pytest({"TBDIFF_REALLOGS": str(nowhere), "TBDIFF_REQUIRE_SHARED": "1"})
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert "1 failed" in proc.stdout and "TBDIFF_REQUIRE_SHARED=1 requires it" in proc.stdout
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^export TBDIFF_REQUIRE_SHARED=1$", ci, re.M)


# ------------------------------------------------------------------ 15: small things


def test_same_path_on_both_sides_is_said(cli) -> None:
    proc = cli("compare", str(KERAS_DIR), str(KERAS_DIR), "--no-color", "--width", "200")
    assert proc.returncode == 0
    assert f"tbdiff: warning: A and B are the same run ({KERAS_DIR})" in proc.stderr
    a_line, b_line = proc.stdout.splitlines()[:2]
    assert a_line.startswith(f"A {KERAS_DIR}") and b_line.startswith(f"B {KERAS_DIR}")


def test_same_run_name_in_two_places_gets_distinct_labels(cli, tmp_path: Path) -> None:
    other = tmp_path / "yesterday" / "keras"
    shutil.copytree(KERAS_DIR, other)
    doc = json.loads(cli("compare", str(other), str(TF_DIR), "--json").stdout)
    assert (doc["a"]["label"], doc["b"]["label"]) == ("keras", "tensorflow")
    doc = json.loads(cli("compare", str(other), str(KERAS_DIR), "--json").stdout)
    assert (doc["a"]["label"], doc["b"]["label"]) == ("yesterday/keras", "sample_logs/keras")


def test_integral_hparams_print_the_same_in_compare_and_inspect(cli, tmp_path: Path) -> None:
    a = write_run(tmp_path / "a", {"n_train": 55000, "lr": 0.001}, [1.0, 0.5, 0.25])
    b = write_run(tmp_path / "b", {"n_train": 60000, "lr": 0.001}, [1.0, 0.6, 0.3])
    proc = cli("compare", str(a), str(b), "--no-color", "--width", "80", "-v")  # -v: the table
    assert proc.returncode in (0, 1), proc.stderr
    row = next(ln for ln in proc.stdout.splitlines() if ln.startswith("n_train"))
    assert row.split()[1:] == ["55000", "60000"]
    proc = cli("inspect", str(a), "--no-color", "--width", "80")
    assert "n_train=55000" in proc.stdout and "e+04" not in proc.stdout


def test_exports_say_what_they_wrote(cli, tmp_path: Path) -> None:
    html, svg = tmp_path / "r.html", tmp_path / "r.svg"
    proc = cli("compare", str(TF_DIR), str(KERAS_DIR), "--html", str(html), "--svg", str(svg))
    assert proc.returncode == 1
    assert f"tbdiff: wrote {html}" in proc.stderr.splitlines()
    assert f"tbdiff: wrote {svg}" in proc.stderr.splitlines()
    assert "wrote" not in proc.stdout and html.stat().st_size > 0 and svg.stat().st_size > 0


def test_many_empty_event_files_are_summarised(cli, tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(KERAS_FILE, run)
    for i in range(5000):
        (run / f"events.out.tfevents.{1700000000 + i}.host").touch()
    proc = cli("inspect", str(run), "--no-color", "--width", "80", "--no-model")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(proc.stdout.splitlines()) < 40, proc.stdout[-3000:]
    assert "5,000 files" in proc.stdout and "empty (0 bytes)" in proc.stdout
    assert KERAS_FILE.name in proc.stdout  # the file with content keeps its own row
    assert len(proc.stderr.splitlines()) <= 5


def test_node_counts_say_whether_functions_are_inlined(cli) -> None:
    doc = json.loads(cli("compare", str(TF_DIR), str(KERAS_DIR), "--json").stdout)
    inv = json.loads(cli("inspect", str(KERAS_DIR), "--json").stdout)
    (best,) = [g for g in inv["runs"][0]["graphs"] if g["best"]]
    assert best["inlined_nodes"] == doc["b"]["nodes"] > best["nodes"]
    text = cli("inspect", str(KERAS_DIR), "--no-color", "--width", "80").stdout
    flat = " ".join(text.split())
    assert f"{best['nodes']} nodes as recorded, {doc['b']['nodes']} with its" in flat
    header = cli("compare", str(TF_DIR), str(KERAS_DIR), "--no-color", "--width", "100").stdout
    assert f"{doc['b']['nodes']} nodes, {doc['b']['functions']} functions inlined" in header


# ------------------------------------------------------------------ 16: --all


def test_all_shows_every_node_name_in_full(cli) -> None:
    doc = json.loads(cli("graphs", str(TF_DIR), str(KERAS_DIR), "--json", "--all").stdout)
    proc = cli("graphs", str(TF_DIR), str(KERAS_DIR), "--all", "--no-color", "--width", "80")
    assert max(len(line) for line in proc.stdout.splitlines()) <= 80
    section = proc.stdout[proc.stdout.index("Node differences") :]
    assert "…" not in section and "..." not in section
    flat = "".join(section.split())
    rows = doc["node_diffs"]
    assert len(rows) > 500
    for row in rows:
        for name in (row["a"], row["b"]):
            if name:
                assert "".join(name.split()) in flat, name
