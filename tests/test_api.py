"""The Python API (tbdiff.read_scalars / read_hparams / compare, the Report's views) and
`tbdiff export`, on real event files: the writers' fixtures (event_fx) and sample_logs.

Every error is checked against what the command prints for the same input, so the API and the
CLI keep one message per problem.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from helpers import ROOT, SAMPLE_LOGS
from rich.console import Console

import tbdiff
from tbdiff.cli import main
from tbdiff.errors import MissingDependencyError, TbdiffError, UsageError

# the writers' fixtures hold restarts on purpose: reading all of event_fx warns about them
pytestmark = pytest.mark.filterwarnings("ignore::tbdiff.diagnostics.TbdiffWarning")
TF = str(SAMPLE_LOGS / "tensorflow")
KERAS = str(SAMPLE_LOGS / "keras")


def _f32(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float32).astype(np.float64)


def _cli_error(capsys, *argv: str) -> str:
    """The one line the command prints for bad input (exit 2), without 'tbdiff: error: '."""
    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as exc:  # usage errors exit from argparse
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0].removeprefix("tbdiff: error: ")


# ------------------------------------------------------------------ read_scalars


def test_read_scalars_equal_what_the_writers_wrote(event_fx):
    written = json.loads((event_fx / "written.json").read_text())
    for name in ("tf1", "tf2"):
        df = tbdiff.read_scalars(event_fx / name)
        assert list(df.columns) == ["run", "tag", "step", "value", "wall_time"]
        assert [str(t) for t in df.dtypes] == [
            "category",
            "category",
            "int64",
            "float32",  # simple_value and float32 tensors are float32 on disk: exact
            "float64",
        ]
        assert set(df["run"]) == {"."}
        for tag, want in written[name]["scalars"].items():
            got = df[df["tag"] == tag]
            assert got["step"].tolist() == want["steps"]
            np.testing.assert_array_equal(got["value"].to_numpy(), _f32(want["values"]))
            assert (got["wall_time"] > 1.5e9).all()


def test_read_scalars_value_dtype_is_float32_only_when_that_loses_nothing(event_fx, capsys):
    mixed = event_fx / "mixed dir"  # float32, float64 and int64 tensors, simple_value, NaN, inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its restart warning is tested elsewhere
        assert tbdiff.read_scalars(mixed, tags=["a", "special", "tint"])["value"].dtype == "float32"
        df = tbdiff.read_scalars(mixed)
    assert df["value"].dtype == "float64"  # t64's i/3.0 is no float32: the column widens
    t64 = df[df["tag"] == "t64"]["value"].tolist()
    assert t64 == [i / 3.0 for i in range(5)]  # exactly, not rounded through float32
    special = df[df["tag"] == "special"]["value"].to_numpy()
    np.testing.assert_array_equal(special, [np.nan, np.inf, -np.inf, np.float32(1e38)])
    # CSV shows a float32 as its shortest exact text (what was logged, as TensorBoard shows it)
    assert main(["export", str(event_fx / "tf1"), "--csv", "-"]) == 0
    rows = [line.split(",") for line in capsys.readouterr().out.splitlines()[1:]]
    want = tbdiff.read_scalars(event_fx / "tf1")["value"].to_numpy()
    assert [np.float32(r[3]) for r in rows] == want.tolist()
    assert all(len(r[3]) <= 16 for r in rows)  # no 0.10000000149011612 widening noise


def test_read_scalars_of_a_logdir_names_runs_like_tensorboard(event_fx):
    written = json.loads((event_fx / "written.json").read_text())["keras"]
    df = tbdiff.read_scalars(event_fx, tags=["epoch_loss", "epoch_accuracy"])
    runs = set(df["run"])
    assert {"keras/train", "keras/validation"} <= runs
    assert set(df["tag"]) == {"epoch_loss", "epoch_accuracy"}
    val = df[(df["run"] == "keras/validation") & (df["tag"] == "epoch_loss")]
    np.testing.assert_allclose(val["value"], written["history"]["val_loss"], rtol=1e-6)
    assert val["step"].tolist() == list(range(written["epochs"]))
    # rows by run, then tag, then step: each (run, tag) block is contiguous and ordered
    keys = list(zip(df["run"], df["tag"], strict=True))
    blocks = [k for i, k in enumerate(keys) if i == 0 or keys[i - 1] != k]
    assert blocks == sorted(set(blocks))
    # one run selected with the run selector: its parts, nothing else
    one = tbdiff.read_scalars(event_fx, run="keras")
    assert set(one["run"]) == {"keras/train", "keras/validation"}
    assert one[one["tag"] == "epoch_loss"].shape[0] == 2 * written["epochs"]


def test_read_scalars_single_file_and_exact_tags(event_fx):
    file = next((event_fx / "tf2").glob("events.out.tfevents.*"))
    df = tbdiff.read_scalars(file, tags="loss")
    assert set(df["tag"]) == {"loss"} and set(df["run"]) == {file.name}
    with pytest.warns(tbdiff.TbdiffWarning, match="tag.s. not found: los"):
        both = tbdiff.read_scalars(file, tags=["loss", "los"])  # exact names: no prefix match
    assert len(both) == len(df)


def test_read_scalars_purges_a_restart_and_warns(event_fx):
    written = json.loads((event_fx / "written.json").read_text())["restarts"]
    with pytest.warns(tbdiff.TbdiffWarning, match="a restart"):
        df = tbdiff.read_scalars(event_fx / "restart_tf2")
    loss = df[df["tag"] == "loss"]
    keep = written["restart_step"]
    np.testing.assert_array_equal(loss["value"], _f32(written["first"][:keep] + written["second"]))
    assert (np.diff(loss["step"]) >= 0).all()
    assert [w.kind for w in df.attrs["warnings"]] == ["scalars.restart"]


def test_read_scalars_errors_are_the_commands_one_line(capsys, tmp_path, event_fx):
    cases = [
        (str(tmp_path / "missing"), {}, []),
        (str(SAMPLE_LOGS), {"tags": "nope"}, ["--tag", "nope"]),
        (str(SAMPLE_LOGS), {"run": "nope"}, ["--run", "nope"]),
        (str(event_fx / "tf1"), {"tags": ["loss"], "run": "x"}, ["--tag", "loss", "--run", "x"]),
    ]
    for path, kw, flags in cases:
        with pytest.raises(TbdiffError) as exc:
            tbdiff.read_scalars(path, **kw)
        cli = _cli_error(capsys, "export", path, "--csv", str(tmp_path / "out.csv"), *flags)
        # the same message; only the option's name differs (keyword run, flag --run)
        assert str(exc.value) == cli.replace("--run ", "run ", 1)
    assert not (tmp_path / "out.csv").exists()
    graphs_only = tmp_path / "only_graph"
    graphs_only.mkdir()
    (graphs_only / "g.pbtxt").write_text("node { name: 'x' op: 'Const' }")
    with pytest.raises(TbdiffError, match="holds no scalars"):
        tbdiff.read_scalars(graphs_only / "g.pbtxt")


def test_without_pandas_the_error_says_what_to_install(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "pandas", None)  # what `import pandas` does when absent
    with pytest.raises(MissingDependencyError, match=re.escape("pip install 'tbdiff[pandas]'")):
        tbdiff.read_scalars(SAMPLE_LOGS)
    with pytest.raises(ImportError):  # also an ImportError, for code that expects one
        tbdiff.read_hparams(SAMPLE_LOGS)
    msg = _cli_error(capsys, "export", str(SAMPLE_LOGS), "--csv", str(tmp_path / "x.csv"))
    assert msg.endswith("pip install 'tbdiff[pandas]'")


# ------------------------------------------------------------------ read_hparams


def test_read_hparams_one_row_per_run_joinable_with_scalars(event_fx):
    written = json.loads((event_fx / "written.json").read_text())
    hp = tbdiff.read_hparams(event_fx).set_index("run")
    assert hp.index.is_unique
    for key, value in written["hparams"]["hparams"].items():
        assert hp.loc["hparams", key] == value
    for key, value in written["hparams_torch"]["hparams"].items():
        assert hp.loc[written["hparams_torch"]["run"], key] == value
    assert pd.isna(hp.loc["tf1", "dropout_rate"])  # not recorded there: missing, not borrowed
    scalars = tbdiff.read_scalars(event_fx, tags="accuracy")
    joined = scalars.merge(hp.reset_index(), on="run")
    assert (joined[joined["run"] == "hparams"]["optimizer"] == "adam").all()


def test_read_hparams_of_sample_logs():
    hp = tbdiff.read_hparams(SAMPLE_LOGS).set_index("run")
    assert list(hp.index) == ["keras", "tensorflow"]
    assert hp.loc["keras", "dropout_rate"] == 0.7 and hp.loc["tensorflow", "keep_prob"] == 0.7
    assert list(tbdiff.read_hparams(SAMPLE_LOGS, run="keras")["run"]) == ["keras"]


# ------------------------------------------------------------------ compare and the Report


@pytest.fixture(scope="module")
def report():
    return tbdiff.compare(TF, KERAS)


def test_compare_is_the_compare_command(report, capsys):
    assert main(["compare", TF, KERAS, "--json"]) == report.exit_code == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc == json.loads(report.to_json())
    assert report.to_dict()["exit_code"] == report.exit_code
    assert report.verdict == doc["verdict"] and "70%" in report.verdict
    top = report.findings[0]
    assert (top.id, top.severity) == ("dropout.rate_mismatch", "critical")
    assert top.title and top.detail
    assert [p.tag_b for p in report.scalars.pairs] == [p["tag_b"] for p in doc["scalars"]]
    frame = report.scalars_frame()
    assert list(frame["tag_a"]) == [p["tag_a"] for p in doc["scalars"]]


def test_scalars_only_exit_code_is_the_scalars_commands(capsys):
    rep = tbdiff.compare(TF, KERAS, graphs=False)
    assert rep.scope == "scalars" and not rep.findings
    code = main(["scalars", TF, KERAS, "--json"])
    assert code == rep.exit_code == json.loads(capsys.readouterr().out)["exit_code"]
    assert code == 1  # the accuracy curves separate for good
    graphs = tbdiff.compare(TF, KERAS, scalars=False)
    assert graphs.scalars is None and graphs.exit_code == main(["graphs", TF, KERAS, "--json"])


def test_compare_options_mirror_the_flags(capsys):
    rep = tbdiff.compare(TF, KERAS, graphs=False, pairs={"train/accuracy": "epoch_test_accuracy"})
    forced = [p for p in rep.scalars.pairs if p.how == "forced"]
    assert [(p.tag_a, p.tag_b) for p in forced] == [("train/accuracy", "epoch_test_accuracy")]
    listed = tbdiff.compare(TF, KERAS, scalars=False, all_nodes=True)
    assert listed.node_diffs and not tbdiff.compare(TF, KERAS, scalars=False).node_diffs
    picked = tbdiff.compare(SAMPLE_LOGS, SAMPLE_LOGS, run_a="tensorflow", run_b="keras")
    assert (picked.a.run, picked.b.run) == ("tensorflow", "keras")
    with pytest.raises(TbdiffError) as exc:
        tbdiff.compare(TF, KERAS, feeds=["nope=0.5"])
    assert str(exc.value) == _cli_error(capsys, "compare", TF, KERAS, "--feed", "nope=0.5")
    for bad in ({"feeds": {"x": "y"}}, {"feeds": ["x"]}, {"pairs": ["a="]}, {"graph_source": "x"}):
        with pytest.raises(UsageError):
            tbdiff.compare(TF, KERAS, **bad)


def test_compare_errors_are_the_commands_one_line(capsys, tmp_path):
    for a, b in ((str(SAMPLE_LOGS), KERAS), (TF, str(tmp_path / "missing"))):
        with pytest.raises(TbdiffError) as exc:
            tbdiff.compare(a, b)
        assert str(exc.value) == _cli_error(capsys, "compare", a, b)


def test_repr_html_is_the_html_report_in_a_sandboxed_iframe(report):
    out = report._repr_html_()
    m = re.fullmatch(r'<iframe [^>]*srcdoc="([^"]*)"[^>]*></iframe>', out, re.S)
    assert m, out[:300]
    assert html.unescape(m.group(1)) == report.to_html()  # the page, byte for byte
    assert 'sandbox="allow-scripts"' in out and "allow-same-origin" not in out
    assert "<script" not in out.replace(m.group(1), "")  # nothing runs outside the frame


def test_rich_draws_the_terminal_report(report):
    console = Console(width=72, record=True, color_system="truecolor", force_terminal=True)
    console.print(report)
    text = console.export_text()
    lines = text.splitlines()
    assert "Verdict" in text and report.findings[0].title in " ".join(text.split())
    assert max(len(line) for line in lines) <= 72
    styled = console.export_html(inline_styles=True)
    assert "color:" in styled  # colours survive the trip through the renderable


def test_import_tbdiff_stays_light():
    code = "import sys, tbdiff; tbdiff.compare; print(sorted({'pandas', 'tensorboard'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "[]", out.stderr


# ------------------------------------------------------------------ tbdiff export


def test_export_csv_is_the_read_scalars_table(tmp_path, capsys):
    target = tmp_path / "scalars.csv"
    assert main(["export", str(SAMPLE_LOGS), "--csv", str(target)]) == 0
    cap = capsys.readouterr()
    assert cap.err == f"tbdiff: wrote {target}\n" and cap.out == ""
    back = pd.read_csv(target)
    df = tbdiff.read_scalars(SAMPLE_LOGS)
    assert list(back.columns) == list(df.columns) and len(back) == len(df) == 240
    np.testing.assert_array_equal(back["value"].astype(df["value"].dtype), df["value"])
    np.testing.assert_array_equal(back["wall_time"], df["wall_time"])
    assert back["run"].tolist() == df["run"].astype(str).tolist()
    assert sorted(p.name for p in SAMPLE_LOGS.rglob("*.csv")) == []  # nothing next to the logs


def test_export_to_stdout_and_refusals(tmp_path, capsys):
    assert main(["export", KERAS, "--csv", "-", "--tag", "epoch_loss"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "run,tag,step,value,wall_time" and len(lines) == 31
    assert all(line.startswith(".,epoch_loss,") for line in lines[1:])
    event_name = tmp_path / "events.out.tfevents.123.host"
    assert "refusing" in _cli_error(capsys, "export", KERAS, "--csv", str(event_name))
    assert not event_name.exists()
    assert "--csv" in _cli_error(capsys, "export", KERAS)
    assert "cannot write" in _cli_error(capsys, "export", KERAS, "--csv", str(tmp_path / "no/x"))


def test_export_parquet(tmp_path, capsys):
    target = tmp_path / "scalars.parquet"
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        msg = _cli_error(capsys, "export", str(SAMPLE_LOGS), "--parquet", str(target))
        assert msg.endswith("pip install 'tbdiff[parquet]'") and not target.exists()
        pytest.skip("pyarrow is not installed: only the missing-pyarrow error was checked")
    assert main(["export", str(SAMPLE_LOGS), "--parquet", str(target)]) == 0
    back = pd.read_parquet(target)
    pd.testing.assert_frame_equal(back, tbdiff.read_scalars(SAMPLE_LOGS), check_categorical=False)


def test_warnings_api_matches_stderr(event_fx, capsys, tmp_path):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        tbdiff.read_scalars(event_fx / "restart_tf1")
    main(["export", str(event_fx / "restart_tf1"), "--csv", str(tmp_path / "r.csv")])
    err = [ln.removeprefix("tbdiff: warning: ") for ln in capsys.readouterr().err.splitlines()]
    assert [str(w.message) for w in seen] == [ln for ln in err if not ln.startswith("tbdiff: ")]
    assert seen and all(w.category is tbdiff.TbdiffWarning for w in seen)
