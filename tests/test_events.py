"""tbdiff.events on event files written by TensorFlow's and TensorBoard's own writers.

Damaged-file tests start from those real files and cut or flip bytes, the way a crashed or
still-running job leaves them.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_event_fixtures  # noqa: E402

from tbdiff import events  # noqa: E402
from tbdiff.errors import TbdiffError  # noqa: E402


@pytest.fixture(scope="session")
def fx(tmp_path_factory) -> Path:
    return gen_event_fixtures.generated(tmp_path_factory)


@pytest.fixture(scope="session")
def written(fx: Path) -> dict:
    return json.loads((fx / "written.json").read_text())


def _run(fx: Path, name: str) -> events.RunData:
    runs = {r.name: r for r in events.read_logdir(fx)}
    return runs[name]


def _one_file(fx: Path, run: str) -> Path:
    (f,) = sorted((fx / run).glob("events.out.tfevents.*"))
    return f


def _f32(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float32).astype(np.float64)


# ---------------------------------------------------------------- finding runs


def test_find_runs_sorted_with_spaces_and_nested(fx: Path) -> None:
    names = [r.name for r in events.find_runs(fx)]
    assert names == [
        "hparams",
        "hparams_keras",
        "hparams_torch",
        "hparams_torch/trial",
        "keras/train",
        "keras/validation",
        "lightning/version_0",
        "lightning/version_1",
        "mixed dir",
        "overlap",
        "restart_tf1",
        "restart_tf2",
        "tf1",
        "tf2",
    ]
    single = events.find_runs(_one_file(fx, "tf1"))
    assert len(single) == 1 and single[0].files == [_one_file(fx, "tf1")]


def test_find_runs_errors(tmp_path: Path) -> None:
    with pytest.raises(TbdiffError, match="does not exist"):
        events.find_runs(tmp_path / "nope")
    (tmp_path / "notes.txt").write_text("no events here")
    with pytest.raises(TbdiffError, match="no TensorBoard event files"):
        events.find_runs(tmp_path)


def test_symlink_loop_and_profile_empty(fx: Path, tmp_path: Path) -> None:
    root = tmp_path / "logs"
    shutil.copytree(fx / "tf1", root / "run")
    (root / "run" / "loop").symlink_to(root, target_is_directory=True)
    (root / "plugins").mkdir()
    empty_marker = root / "plugins" / "events.out.tfevents.1.host.profile-empty"
    empty_marker.write_bytes(b"")
    runs = events.find_runs(root)
    assert [r.name for r in runs] == ["plugins", "run"]
    data = events.read_logdir(root)
    assert data[0].events == 0 and not data[0].readable
    assert [(w.kind, w.path) for w in data[0].warnings] == [("io.empty", str(empty_marker))]
    assert len(data[1].scalars["loss"]) == 25 and data[1].readable and not data[1].warnings


# ---------------------------------------------------------------- content


def test_tf1_file_writer(fx: Path, written: dict) -> None:
    rd = _run(fx, "tf1")
    w = written["tf1"]
    s = rd.scalars["loss"]
    assert s.encoding == "simple_value"
    assert s.steps.tolist() == w["scalars"]["loss"]["steps"]
    np.testing.assert_array_equal(s.values, _f32(w["scalars"]["loss"]["values"]))
    kinds = {g.kind: g for g in rd.graphs}
    assert kinds["graph_def"].node_count == w["graph_nodes"]
    assert kinds["meta_graph_def"].node_count == w["graph_nodes"]
    assert kinds["graph_def"].graph_def().node[0].name  # bytes decode on demand
    rm = kinds["run_metadata"]
    assert rm.tag == w["run_metadata_tag"] and rm.node_count > 0
    assert {n.op for n in rm.graph_def().node} & {"MatMul", "_Retval", "_Recv", "_Send"}
    assert rd.counts["graph_def"] == 1 and rd.counts["tagged_run_metadata"] == 1
    assert rd.counts["scalars"] == 25
    assert rd.best_graph().node_count == w["graph_nodes"]
    assert rd.best_graph("run_metadata") is rm


def test_tf2_tensor_scalars_text_histogram_trace(fx: Path, written: dict) -> None:
    rd = _run(fx, "tf2")
    for tag, exp in written["tf2"]["scalars"].items():
        s = rd.scalars[tag]
        assert s.encoding == "tensor"
        assert s.steps.tolist() == exp["steps"]
        np.testing.assert_array_equal(s.values, _f32(exp["values"]))
    assert set(rd.scalars) == set(written["tf2"]["scalars"])  # text/histogram are not scalars
    assert rd.counts["text"] == written["tf2"]["text"]
    assert rd.counts["histograms"] == written["tf2"]["histograms"]
    (g,) = rd.graphs
    assert g.kind == "run_metadata" and g.tag == written["tf2"]["trace_tag"]
    ops = {n.op for n in g.graph_def().node} | {
        n.op for f in g.graph_def().library.function for n in f.node_def
    }
    assert "MatMul" in ops and "Relu" in ops


def test_keras_callback(fx: Path, written: dict) -> None:
    w = written["keras"]
    train = _run(fx, "keras/train")
    keras = [g for g in train.graphs if g.kind == "keras_model"]
    assert len(keras) == 1 and keras[0].tag == "keras" and keras[0].node_count == 0
    cfg = keras[0].keras_config()
    names = [layer["config"]["name"] for layer in cfg["config"]["layers"]]
    assert [n for n in names if n in w["layers"]] == w["layers"]
    with pytest.raises(TbdiffError):
        keras[0].graph_def()
    if not [g for g in train.graphs if g.kind != "keras_model" and g.node_count]:
        assert train.best_graph() is keras[0]
    for tag, hist_key in (("epoch_loss", "loss"), ("epoch_accuracy", "accuracy")):
        s = train.scalars[tag]
        assert s.steps.tolist() == list(range(w["epochs"]))
        np.testing.assert_allclose(s.values, w["history"][hist_key], rtol=1e-6)
    val = _run(fx, "keras/validation")
    np.testing.assert_allclose(
        val.scalars["epoch_loss"].values, w["history"]["val_loss"], rtol=1e-6
    )


def test_hparams(fx: Path, written: dict) -> None:
    rd = _run(fx, "hparams")
    exp = written["hparams"]["hparams"]
    assert rd.hparams == {k: (float(v) if type(v) is int else v) for k, v in exp.items()}
    assert rd.experiment is not None
    assert sorted(rd.experiment["hparams"]) == sorted(exp)
    assert rd.experiment["metrics"] == written["hparams"]["metrics"]
    assert rd.counts["hparams"] >= 2 and "accuracy" in rd.scalars


def _numbers_as_floats(hparams: dict) -> dict:
    return {k: (float(v) if type(v) is int else v) for k, v in hparams.items()}


def test_hparams_of_every_writer_shape_equal_tensorboard(fx: Path, written: dict) -> None:
    """Each writer's hparams record (with a null tensor: TensorBoard's hp API and KerasCallback;
    metadata alone: PyTorch/tensorboardX add_hparams, Lightning) reads exactly as TensorBoard's
    own hparams plugin parses it, and as the writer was given it."""
    runs = {r.name: r for r in events.read_logdir(fx)}
    tb = gen_event_fixtures.tensorboard_hparams([r.path for r in runs.values()])
    expected = {
        "hparams": written["hparams"]["hparams"],
        "hparams_keras": written["hparams_keras"]["hparams"],
        written["hparams_torch"]["run"]: written["hparams_torch"]["hparams"],
        written["lightning"]["run"]: written["lightning"]["flat"],
    }
    for name, rd in runs.items():
        from_events = {
            k: v for k, v in rd.hparams.items() if rd.hparam_sources[k].source == "event"
        }
        assert from_events == tb.get(str(rd.path), {}), name
        assert from_events == _numbers_as_floats(expected.get(name, {})), name
        assert not [w for w in rd.warnings if w.kind == "hparams"], name
    for name in expected:
        src = next(iter(runs[name].hparam_sources.values()))
        assert src.path in map(str, runs[name].files) and src.offset is not None


def test_lightning_hparams_yaml(fx: Path, written: dict) -> None:
    """hparams.yaml beside the event file: flattened with "/", kept out of the way of the event
    file's values, provenance said, a pickled object shown by its tag and never built."""
    lw = written["lightning"]
    logged = _run(fx, lw["run"])
    assert set(logged.hparams) == set(lw["flat"])  # yaml adds nothing the event file has
    assert {s.source for s in logged.hparam_sources.values()} == {"event"}
    only_yaml = _run(fx, lw["yaml_only_run"])
    assert only_yaml.events == 1 and not only_yaml.file_info[0].readable
    assert only_yaml.readable  # its hparams are something to compare
    want = _numbers_as_floats(lw["flat"]) | {"loss": lw["loss_tag"]}
    assert only_yaml.hparams == want
    yaml_path = str(fx / lw["yaml_only_run"] / "hparams.yaml")
    assert {(s.source, s.path) for s in only_yaml.hparam_sources.values()} == {
        ("hparams.yaml", yaml_path)
    }


def test_hparams_yaml_problems_are_warnings(fx: Path, tmp_path: Path) -> None:
    run = tmp_path / "version_0"
    shutil.copytree(fx / "lightning" / "version_1", run)
    (run / "hparams.yaml").write_text("lr: [0.1\n")
    (rd,) = events.read_logdir(run)
    (w,) = rd.warnings
    assert (w.kind, w.path) == ("hparams", str(run / "hparams.yaml"))
    assert "not valid YAML" in w.message and rd.hparams == {}
    (run / "hparams.yaml").write_text("- 1\n- 2\n")
    (rd,) = events.read_logdir(run)
    assert [w.kind for w in rd.warnings] == ["hparams"] and rd.hparams == {}


def test_second_hparams_record_keeps_the_first_like_tensorboard(fx: Path, tmp_path: Path) -> None:
    """Two sessions appended in one run: TensorBoard keeps a tag's first metadata; so do we."""
    first = _one_file(fx, "hparams")
    (tmp_path / "run").mkdir()
    shutil.copy(first, tmp_path / "run" / "events.out.tfevents.1.a")
    shutil.copy(_one_file(fx, "hparams_keras"), tmp_path / "run" / "events.out.tfevents.2.b")
    (rd,) = events.read_logdir(tmp_path / "run")
    tb = gen_event_fixtures.tensorboard_hparams([tmp_path / "run"])
    assert rd.hparams == tb[str(tmp_path / "run")] == _run(fx, "hparams").hparams
    (w,) = rd.warnings
    assert w.kind == "hparams" and w.path.endswith("events.out.tfevents.2.b")


def test_scalars_equal_tensorboard_loader(fx: Path) -> None:
    """Every (tag, step, value) equals what TensorBoard's EventFileLoader yields, file by file,
    except the values purged as orphaned (counted in `dropped`)."""
    files = [f for r in events.find_runs(fx) for f in r.files]
    tb = gen_event_fixtures.tensorboard_scalars(files)
    for f in files:
        run = events.read_run(events.Run(f.name, f.parent, [f]))
        ours = collections.Counter(
            (tag, int(st), repr(float(v)))
            for tag, s in run.scalars.items()
            for st, v in zip(s.steps, s.values, strict=True)
        )
        theirs = collections.Counter((t, st, v) for t, st, v in tb[str(f)])
        dropped = sum(s.dropped for s in run.scalars.values())
        assert not ours - theirs and sum((theirs - ours).values()) == dropped, f
    mixed = _run(fx, "mixed dir")
    # steps 3, 3, 3 (kept in file order), then 2: a restart orphaned the three values at 3
    assert mixed.scalars["dup"].steps.tolist() == [2]
    assert mixed.scalars["dup"].values.tolist() == [9.0] and mixed.scalars["dup"].dropped == 3
    (w,) = mixed.warnings
    assert (
        w.kind == "scalars.restart" and "'dup'" in w.message and "3 earlier value(s)" in w.message
    )
    assert "nometa" not in mixed.scalars and "late" not in mixed.scalars
    assert mixed.scalars["t64"].encoding == "tensor"
    assert mixed.counts["empty"] == 1  # the zero-length record


def _is_subsequence(short: list, long: list) -> bool:
    it = iter(long)
    return all(any(x == y for y in it) for x in short)


def test_scalars_equal_tensorboard_accumulator(fx: Path, written: dict) -> None:
    """Per run, in order: TensorBoard's EventAccumulator after its own purging, minus only the
    orphans we also purge (TensorBoard purges on SessionLog.START only; we also purge a tag
    whose steps go back, and a later file re-writing an earlier one's steps)."""
    runs = events.read_logdir(fx)
    tb = gen_event_fixtures.tensorboard_run_scalars([r.path for r in runs])
    for rd in runs:
        theirs = tb[str(rd.path)]
        assert set(rd.scalars) == set(theirs), rd.name
        for tag, s in rd.scalars.items():
            ours = [[int(st), repr(float(v))] for st, v in zip(s.steps, s.values, strict=True)]
            assert _is_subsequence(ours, theirs[tag]), (rd.name, tag)
            assert len(theirs[tag]) - len(ours) <= s.dropped, (rd.name, tag)
            if s.dropped == 0:
                assert ours == theirs[tag], (rd.name, tag)
    r = written["restarts"]
    want = _f32(r["first"][: r["restart_step"]] + r["second"])
    by_name = {rd.name: rd for rd in runs}
    for name, kind in (
        ("restart_tf1", "scalars.restart"),
        ("restart_tf2", "scalars.restart"),
        ("overlap", "scalars.overlap"),
    ):
        rd = by_name[name]
        loss = rd.scalars["loss"]
        assert loss.steps.tolist() == list(range(25)), name
        np.testing.assert_array_equal(loss.values, want)
        assert loss.dropped == 20 - r["restart_step"]
        (w,) = rd.warnings
        assert w.kind == kind and "steps 10..19" in w.message, name
        assert w.path == str(rd.files[-1])
    # TensorBoard purges on SessionLog.START too, every tag, even one not written again
    tf1 = by_name["restart_tf1"]
    assert tf1.scalars["lr"].steps.tolist() == list(range(10))
    assert len(tb[str(tf1.path)]["loss"]) == 25 and len(tb[str(tf1.path)]["lr"]) == 10
    assert "2 tag(s)" in tf1.warnings[0].message


def test_fast_path_equals_general_path(fx: Path, tmp_path: Path) -> None:
    """Thousands of scalar events (fast path) decode exactly like protobuf does, one by one."""
    from tensorboard.compat.proto import event_pb2
    from tensorboard.summary.writer.record_writer import RecordWriter

    src = _one_file(fx, "tf2")
    big = tmp_path / "events.out.tfevents.big"
    payloads = [p for _off, p in events.iter_records(src)]
    with open(big, "wb") as fh:  # 60 sessions, steps shifted on: varint lengths vary too
        writer = RecordWriter(fh)
        for k in range(60):
            for p in payloads:
                ev = event_pb2.Event.FromString(p)
                if ev.HasField("summary"):
                    ev.step += 100 * k
                writer.write(ev.SerializeToString())
    rd = events.read_run(events.Run("big", tmp_path, [big]))
    expect: dict[str, list] = {}
    first: dict[str, str] = {}
    for _off, payload in events.iter_records(big):
        ev = event_pb2.Event.FromString(payload)
        for v in ev.summary.value:
            plugin = first.setdefault(v.tag, v.metadata.plugin_data.plugin_name)
            if plugin == "scalars":
                t = v.tensor
                x = t.float_val[0] if t.float_val else np.frombuffer(t.tensor_content, "<f4")[0]
                expect.setdefault(v.tag, []).append((ev.step, float(np.float32(x))))
    for tag, rows in expect.items():
        s = rd.scalars[tag]
        got = list(zip(s.steps.tolist(), s.values.tolist(), strict=True))
        assert got == rows and s.dropped == 0, tag
    assert len(rd.scalars["loss"]) == 60 * 30 and not rd.warnings


def test_no_crc_mode_reads_the_same(fx: Path) -> None:
    f = _one_file(fx, "tf1")
    a = events.read_run(events.Run("a", f.parent, [f]), verify_crc=True)
    b = events.read_run(events.Run("b", f.parent, [f]), verify_crc=False)
    np.testing.assert_array_equal(a.scalars["loss"].values, b.scalars["loss"].values)


def test_iter_records_offsets(fx: Path) -> None:
    f = _one_file(fx, "tf1")
    data = f.read_bytes()
    recs = list(events.iter_records(f))
    assert recs[0][0] == 0
    for off, payload in recs:
        (n,) = struct.unpack_from("<Q", data, off)
        assert data[off + 12 : off + 12 + n] == payload
    last_off, last = recs[-1]
    assert last_off + 16 + len(last) == len(data)


# ---------------------------------------------------------------- damage


def _copy(fx: Path, run: str, tmp_path: Path) -> tuple[Path, bytes, list[tuple[int, bytes]]]:
    src = _one_file(fx, run)
    dst = tmp_path / src.name
    data = src.read_bytes()
    dst.write_bytes(data)
    return dst, data, list(events.iter_records(src))


def test_truncated_final_record(fx: Path, tmp_path: Path) -> None:
    f, data, recs = _copy(fx, "tf1", tmp_path)
    last_off = recs[-1][0]
    f.write_bytes(data[: last_off + 20])  # cut inside the last record
    rd = events.read_run(events.Run("t", tmp_path, [f]))
    (fi,) = rd.file_info
    assert fi.truncated_at == last_off and fi.records == len(recs) - 1
    (w,) = rd.warnings
    assert (w.kind, w.path, w.offset) == ("record.truncated", str(f), last_off)
    assert str(w).startswith(f"{f}: truncated record at offset {last_off} ")
    f.write_bytes(data[: last_off + 5])  # cut inside the header
    assert events.read_run(events.Run("t", tmp_path, [f])).file_info[0].truncated_at == last_off


def test_bit_flip_in_payload_skips_one_record(fx: Path, tmp_path: Path) -> None:
    f, data, recs = _copy(fx, "tf1", tmp_path)
    off, payload = recs[10]
    buf = bytearray(data)
    buf[off + 12 + len(payload) // 2] ^= 0x10
    f.write_bytes(bytes(buf))
    rd = events.read_run(events.Run("t", tmp_path, [f]))
    assert rd.file_info[0].corrupt_at == [off]
    assert rd.file_info[0].records == len(recs) - 1
    (w,) = rd.warnings
    assert (w.kind, w.path, w.offset) == ("record.corrupt", str(f), off)
    assert "payload CRC" in w.message


def test_bit_flip_in_length_resyncs(fx: Path, tmp_path: Path) -> None:
    f, data, recs = _copy(fx, "tf1", tmp_path)
    off, _ = recs[8]
    buf = bytearray(data)
    buf[off + 1] ^= 0x40
    f.write_bytes(bytes(buf))
    rd = events.read_run(events.Run("t", tmp_path, [f]))
    assert rd.file_info[0].corrupt_at == [off]
    assert rd.file_info[0].records == len(recs) - 1  # everything after the damaged record
    (w,) = rd.warnings
    assert (w.kind, w.offset) == ("record.corrupt", off)
    assert f"resumed at offset {recs[9][0]}" in w.message


def test_empty_and_non_event_files(fx: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty" / "events.out.tfevents.0.host"
    empty.parent.mkdir()
    empty.write_bytes(b"")
    rd = events.read_logdir(empty.parent)[0]
    assert rd.events == 0 and [w.kind for w in rd.warnings] == ["io.empty"]
    junk = tmp_path / "junk" / "events.out.tfevents.1.host"
    junk.parent.mkdir()
    junk.write_bytes(os.urandom(5000))
    with pytest.raises(TbdiffError, match="not a TensorBoard event file"):
        events.read_logdir(junk.parent)
    text = tmp_path / "junk" / "events.out.tfevents.2.host"
    text.write_text("step,loss\n1,0.5\n" * 50)
    with pytest.raises(TbdiffError, match="not a TensorBoard event file"):
        events.read_logdir(junk.parent)
    shutil.copy(_one_file(fx, "tf1"), junk.parent / "events.out.tfevents.3.host")
    (rd,) = events.read_logdir(junk.parent)  # mixed: warnings name the bad files
    assert len(rd.scalars["loss"]) == 25
    kinds = [(w.kind, w.path) for w in rd.warnings]
    assert kinds == [("io.not_event_file", str(junk)), ("io.not_event_file", str(text))]


def test_reading_never_writes_into_logdir(fx: Path) -> None:
    before = sorted((p, p.stat().st_mtime_ns, p.stat().st_size) for p in fx.rglob("*"))
    events.read_logdir(fx)
    after = sorted((p, p.stat().st_mtime_ns, p.stat().st_size) for p in fx.rglob("*"))
    assert before == after


_SETPRIV = shutil.which("setpriv")


@pytest.mark.skipif(
    os.geteuid() == 0 and _SETPRIV is None, reason="root without setpriv reads any file"
)
def test_unreadable_file_is_a_warning(fx: Path, tmp_path: Path) -> None:
    """A file the user may not read: a warning with the OS reason, the rest still read.

    As root, the read runs in a subprocess without the file-permission capabilities."""
    import subprocess

    shutil.copy(_one_file(fx, "tf1"), tmp_path / "events.out.tfevents.1.a")
    bad = tmp_path / "events.out.tfevents.2.b"
    bad.write_bytes(b"x")
    bad.chmod(0)
    code = (
        "import json, sys; from tbdiff import events\n"
        "(rd,) = events.read_logdir(sys.argv[1])\n"
        "print(json.dumps([[w.kind, w.path, w.message] for w in rd.warnings]"
        " + [[sorted(rd.scalars), events.nothing_readable([rd])]]))"
    )
    cmd = [sys.executable, "-c", code, str(tmp_path)]
    if os.geteuid() == 0:
        cmd = [_SETPRIV, "--bounding-set=-dac_override,-dac_read_search", *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    *warns, (tags, why) = json.loads(proc.stdout)
    assert warns == [["io.unreadable", str(bad), "cannot read (Permission denied)"]]
    assert tags == ["loss"] and why is None


def _naive_offsets(data: bytes) -> list[int]:
    """Reference framing walk, one record at a time (valid files only)."""
    offs, pos = [], 0
    while pos + 12 <= len(data):
        (n,) = struct.unpack_from("<Q", data, pos)
        if pos + 16 + n > len(data):
            break
        offs.append(pos)
        pos += 16 + n
    return offs


def test_speculative_walk_matches_naive_walk(fx: Path, tmp_path: Path) -> None:
    """Regular stretches (walked by prediction) broken by irregular records land exactly."""
    regular = _one_file(fx, "tf2").read_bytes()
    irregular = _one_file(fx, "mixed dir").read_bytes()
    data = regular * 40 + irregular + regular * 7 + irregular * 2 + regular * 90
    f = tmp_path / "events.out.tfevents.walk"
    f.write_bytes(data)
    assert [off for off, _ in events.iter_records(f)] == _naive_offsets(data)


def test_random_damage_never_raises(fx: Path, tmp_path: Path) -> None:
    import random

    rng = random.Random(7)
    sources = [f for r in events.find_runs(fx) for f in r.files]
    for it in range(60):
        data = bytearray(rng.choice(sources).read_bytes())
        for _ in range(rng.randint(1, 4)):
            op = rng.random()
            if op < 0.6:
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
            elif op < 0.8:
                data = data[: rng.randrange(len(data))]
            else:
                i = rng.randrange(len(data))
                data[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 30)))
        f = tmp_path / f"events.out.tfevents.{it}"
        f.write_bytes(bytes(data))
        for verify in (True, False):
            rd = events.read_run(events.Run("x", tmp_path, [f]), verify_crc=verify)
            events.inventory(tmp_path, [rd])
        f.unlink()


# ---------------------------------------------------------------- what a file is (issue 9, 3-5)


def _cases(fx: Path, root: Path) -> dict[str, Path]:
    """One run folder per kind of bad input, each holding one file named like an event file."""
    real = _one_file(fx, "tf1").read_bytes()
    contents = {
        "zero": b"",
        "text3": b"abc",
        "text10": b"hello wor\n",
        "csv": b"step,loss\n1,0.5\n" * 20,
        "cut10": real[:10],
        "cut100": real[:100],
    }
    out = {}
    for name, data in contents.items():
        f = root / name / "events.out.tfevents.1.host"
        f.parent.mkdir(parents=True)
        f.write_bytes(data)
        out[name] = f
    return out


def test_files_told_apart_by_content(fx: Path, tmp_path: Path) -> None:
    cases = _cases(fx, tmp_path)
    for verify in (True, False):  # the first header is checked even with --no-crc
        got = {}
        for name, f in cases.items():
            rd = events.read_run(events.Run(name, f.parent, [f]), verify_crc=verify)
            (fi,) = rd.file_info
            got[name] = (fi.status, [(w.kind, w.path, w.offset) for w in rd.warnings])
            assert not rd.readable and fi.problem, name
            assert all("truncated" not in w.message for w in rd.warnings if name[:4] == "text")
        p = str
        assert got == {
            "zero": ("empty", [("io.empty", p(cases["zero"]), None)]),
            "text3": ("not_event_file", [("io.not_event_file", p(cases["text3"]), None)]),
            "text10": ("not_event_file", [("io.not_event_file", p(cases["text10"]), None)]),
            "csv": ("not_event_file", [("io.not_event_file", p(cases["csv"]), None)]),
            "cut10": ("no_content", [("record.truncated", p(cases["cut10"]), 0)]),
            "cut100": ("no_content", [("record.truncated", p(cases["cut100"]), 78)]),
        }, verify
    assert [events.sniff_file(f) for f in cases.values()] == [
        "empty",
        "not_event",
        "not_event",
        "not_event",
        "cut",
        "event",
    ]
    assert events.sniff_file(_one_file(fx, "tf2")) == "event"


def test_non_event_file_given_directly_is_an_error(fx: Path, tmp_path: Path) -> None:
    projector = tmp_path / "run" / "projector_config.pbtxt"
    projector.parent.mkdir()
    projector.write_bytes(b"")
    with pytest.raises(TbdiffError, match="projector_config.pbtxt: an empty file"):
        events.find_runs(projector)
    with pytest.raises(TbdiffError, match="no TensorBoard event files"):
        events.find_runs(projector.parent)  # never taken as an event file in a folder
    shutil.copy(_one_file(fx, "tf1"), tmp_path / "run" / "renamed.bin")  # content decides
    (run,) = events.find_runs(tmp_path / "run" / "renamed.bin")
    assert run.files == [tmp_path / "run" / "renamed.bin"]


def test_nothing_readable_says_why(fx: Path, tmp_path: Path) -> None:
    cases = _cases(fx, tmp_path)

    def why(*names: str) -> str | None:
        runs = [events.read_run(events.Run(n, cases[n].parent, [cases[n]])) for n in names]
        return events.nothing_readable(runs)

    assert why("zero") == f"{cases['zero']}: empty (0 bytes)"
    assert why("text3") == f"{cases['text3']}: not a TensorBoard event file"
    assert why("cut10") == f"{cases['cut10']}: cut inside its first record (10 bytes)"
    assert why("cut100") == (
        f"{cases['cut100']}: holds only file_version record(s), no summaries or graphs, "
        "cut at offset 78"
    )
    assert why("text3", "text10", "zero") == (
        f"2 files: not a TensorBoard event file (first: {cases['text3']}); "
        f"{cases['zero']}: empty (0 bytes)"
    )
    good = events.read_logdir(fx / "tf1")
    assert events.nothing_readable(good) is None and good[0].readable
    assert good[0].file_info[0].problem is None and good[0].file_info[0].status == "ok"
    assert why("zero", "cut100") is not None
    assert events.nothing_readable([*good, *events.read_logdir(cases["zero"].parent)]) is None


def test_inventory_groups_repeated_problems(fx: Path, tmp_path: Path) -> None:
    """Thousands of empty event files: one grouped count for the renderer, not 5,000 lines."""
    run = tmp_path / "many"
    run.mkdir()
    for i in range(300):
        (run / f"events.out.tfevents.{i}.host").write_bytes(b"")
    src = _one_file(fx, "tf1")
    data = src.read_bytes()
    cut = run / "events.out.tfevents.999.real"
    cut.write_bytes(data[: len(data) - 7])
    runs = events.read_logdir(run)
    inv = events.inventory(run, runs)
    (r,) = inv["runs"]
    assert r["file_status"] == {"damaged": 1, "empty": 300}
    groups = {(g["kind"], g["message"]): g for g in inv["warning_groups"]}
    empty = groups[("io.empty", "empty event file (0 bytes)")]
    assert empty["count"] == 300 and len(empty["paths"]) == 5
    (trunc,) = [w for w in inv["warning_records"] if w["kind"] == "record.truncated"]
    assert trunc["path"] == str(cut) and trunc["offset"] == list(events.iter_records(src))[-1][0]
    assert len(inv["warnings"]) == len(inv["warning_records"]) == 301
    assert inv["nothing_readable"] is None
    json.dumps(inv)  # JSON-ready


def test_inventory_labels_graph_node_counts() -> None:
    """`nodes` counts top-level nodes; function bodies are counted apart, never inlined."""
    keras = Path(__file__).resolve().parents[1] / "sample_logs" / "keras"
    (rd,) = events.read_logdir(keras)
    (g,) = events.inventory(keras, [rd])["runs"][0]["graphs"]
    src = rd.graphs[0]
    assert g["nodes_inlined"] is False and g["functions"] > 0
    assert (g["nodes"], g["function_nodes"]) == (src.node_count, src.function_node_count)
    assert len(src.graph_def().node) == g["nodes"] and g["function_nodes"] > 0
