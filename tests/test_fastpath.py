"""The scalar fast path on long files written by TensorBoard's own writer.

Files hold thousands of events (enough for every length group to take the bulk path), each
compared bit for bit with TensorBoard's EventAccumulator; damaged copies check that the CRCs the
fast path derives by linearity catch a flipped byte wherever it is in a record.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from tbdiff import events
from tbdiff.events import reader as reader_mod

N = 3000


def _value(i: int, j: int) -> float:
    return struct.unpack("<f", struct.pack("<f", np.sin(i * 0.37 + j) * (1 + j)))[0]


def _write(logdir: Path, tag_sets: list[tuple[str, ...]], n: int = N) -> Path:
    """n events, cycling through tag_sets; each event carries one value per tag of its set."""
    w = EventFileWriter(str(logdir), max_queue_size=100000, flush_secs=3600)
    for i in range(n):
        tags = tag_sets[i % len(tag_sets)]
        values = [
            summary_pb2.Summary.Value(tag=t, simple_value=_value(i, j)) for j, t in enumerate(tags)
        ]
        ev = event_pb2.Event(wall_time=1.7e9 + i * 0.25, step=i // len(tag_sets) * 7)
        ev.summary.CopyFrom(summary_pb2.Summary(value=values))
        w.add_event(ev)
    w.close()
    (f,) = logdir.glob("events.out.tfevents.*")
    return f


def _tensorboard(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    acc = ea.EventAccumulator(str(path), size_guidance={ea.SCALARS: 0})
    acc.Reload()
    out = {}
    for tag in acc.Tags()["scalars"]:
        s = acc.Scalars(tag)
        out[tag] = (
            np.array([e.step for e in s]),
            np.array([e.value for e in s]),
            np.array([e.wall_time for e in s]),
        )
    return out


def _read(path: Path, monkeypatch=None) -> tuple[events.RunData, int]:
    """tbdiff's read of one file, and how many records took the general (protobuf) path."""
    calls = [0]
    if monkeypatch is not None:
        slow = reader_mod.RunReader._slow

        def counting(self, *a):
            calls[0] += 1
            return slow(self, *a)

        monkeypatch.setattr(reader_mod.RunReader, "_slow", counting)
    rd = events.read_run(events.Run("r", path.parent, [path]))
    return rd, calls[0]


def _same(rd: events.RunData, ref: dict) -> None:
    assert sorted(rd.scalars) == sorted(ref)
    for tag, (steps, values, walls) in ref.items():
        s = rd.scalars[tag]
        np.testing.assert_array_equal(s.steps, steps)
        np.testing.assert_array_equal(s.values, values)  # bit for bit (float32 -> float64)
        np.testing.assert_array_equal(s.wall_times, walls)


@pytest.mark.parametrize(
    "tag_sets",
    [
        [("loss", "accuracy")],  # tf_keras v1 TensorBoard callback: every metric in one Summary
        [("loss", "acc", "val_loss", "val_acc", "lr")],
        [("train/acc",), ("valid/acc",)],  # two tags, one record length: a mixed length group
        [("loss",), ("loss", "accuracy"), ("epoch_accuracy",)],
    ],
)
def test_scalars_match_tensorboard_and_take_the_fast_path(tmp_path, monkeypatch, tag_sets):
    f = _write(tmp_path, tag_sets)
    rd, slow = _read(f, monkeypatch)
    _same(rd, _tensorboard(f))
    assert sum(len(s) for s in rd.scalars.values()) == sum(
        len(tag_sets[i % len(tag_sets)]) for i in range(N)
    )
    assert rd.file_info[0].events["summary"] == N
    # the general path reads the file header and the first events of each tag set (steps < 128
    # have 1-byte varints: a record length of their own), not the bulk
    assert slow < 40, slow
    assert not rd.warnings


def _records(data: bytes) -> list[tuple[int, int]]:
    out, pos = [], 0
    while pos < len(data):
        n = struct.unpack_from("<Q", data, pos)[0]
        out.append((pos, n))
        pos += n + 16
    return out


@pytest.mark.parametrize(
    "where",
    ["wall", "step", "tag", "value", "second value", "payload crc"],
)
def test_one_flipped_byte_is_one_corrupt_record(tmp_path, where):
    f = _write(tmp_path / "w", [("loss", "accuracy")])
    data = bytearray(f.read_bytes())
    recs = _records(bytes(data))
    off, n = recs[N // 2]
    body = off + 12
    col = {
        "wall": 3,  # inside the f64 wall time
        "step": 10,  # the step varint's first byte
        "tag": n - 11,  # a byte of "accuracy" (payload ends 0a 08 accuracy 15 <f32>)
        "value": n - 20,  # inside the first value (its f32 ends 17 bytes before the end)
        "second value": n - 2,
        "payload crc": n + 1,
    }[where]
    data[body + col] ^= 0x04
    bad = tmp_path / "bad"
    bad.mkdir()
    g = bad / f.name
    g.write_bytes(bytes(data))
    rd = events.read_run(events.Run("r", bad, [g]))
    assert rd.file_info[0].corrupt_at == [off]
    (w,) = rd.warnings
    assert (w.kind, w.offset) == ("record.corrupt", off)
    ref = _tensorboard(f)
    dropped = N // 2 - 1  # recs[0] is the file_version record
    for tag, (steps, values, walls) in ref.items():
        keep = np.ones(len(steps), bool)
        keep[dropped] = False
        s = rd.scalars[tag]
        np.testing.assert_array_equal(s.steps, steps[keep])
        np.testing.assert_array_equal(s.values, values[keep])
        np.testing.assert_array_equal(s.wall_times, walls[keep])


def test_no_crc_reads_the_same(tmp_path):
    f = _write(tmp_path, [("loss", "accuracy"), ("lr",)])
    a = events.read_run(events.Run("r", f.parent, [f]))
    b = events.read_run(events.Run("r", f.parent, [f]), verify_crc=False)
    for tag in a.scalars:
        np.testing.assert_array_equal(a.scalars[tag].values, b.scalars[tag].values)
        np.testing.assert_array_equal(a.scalars[tag].steps, b.scalars[tag].steps)


# ------------------------------------------------------------------ many small runs in one pass


def _snapshot(rd: events.RunData) -> dict:
    """Everything a RunData holds that a reader decides, comparable with ==."""
    return {
        "scalars": {
            t: (s.steps.tolist(), s.values.tobytes(), s.wall_times.tolist(), s.encoding, s.dropped)
            for t, s in rd.scalars.items()
        },
        "hparams": rd.hparams,
        "graphs": [(g.kind, g.file, g.offset, g.step, g.tag, g.payload) for g in rd.graphs],
        "warnings": [w.to_dict() for w in rd.warnings],
        "counts": dict(rd.counts),
        "files": [
            (
                str(f.path),
                f.size,
                f.records,
                dict(f.events),
                dict(f.values),
                f.first_step,
                f.last_step,
                f.truncated_at,
                f.corrupt_at,
                f.not_event_file,
                f.empty,
            )
            for f in rd.file_info
        ],
    }


def _batched_equals_one_by_one(root: Path, monkeypatch=None) -> int:
    """read_runs == read_run of each run; with `monkeypatch`, also that no run was read on
    its own (all went through the shared pass)."""
    from tbdiff.events import batch

    runs = events.find_runs(root)
    one = [_snapshot(events.read_run(r)) for r in runs]
    if monkeypatch is not None:
        monkeypatch.setattr(batch, "read_run", None)  # a fallback would fail here
    assert [_snapshot(rd) for rd in batch.read_runs(runs)] == one
    if monkeypatch is not None:
        monkeypatch.undo()
    return len(runs)


def _flip(f: Path, record: int) -> None:
    data = bytearray(f.read_bytes())
    off, _n = _records(bytes(data))[record]
    data[off + 14] ^= 0x04  # a byte of the wall time: the payload CRC fails
    f.write_bytes(bytes(data))


def test_many_runs_in_one_pass_read_as_one_by_one(tmp_path, event_fx, monkeypatch):
    import shutil

    sweep = tmp_path / "sweep"
    for i in range(6):  # small runs of two tag sets, as a sweep writes them
        _write(sweep / f"run_{i}", [("loss", "accuracy"), ("lr",)], n=300 + 50 * i)
    assert _batched_equals_one_by_one(sweep, monkeypatch) == 6
    assert _batched_equals_one_by_one(event_fx) >= 10  # every writer of the event fixtures
    # damaged payloads stay in the shared pass; a cut tail, an empty file or a length header
    # that no longer verifies send that run (or batch) to read_run
    flipped = tmp_path / "flipped"
    shutil.copytree(sweep, flipped)
    for k, f in enumerate(sorted(flipped.rglob("events.out.tfevents.*"))[:3]):
        _flip(f, 5 + 100 * k)
    assert _batched_equals_one_by_one(flipped, monkeypatch) == 6
    damaged = tmp_path / "damaged"
    shutil.copytree(sweep, damaged)
    a, b, c, d = sorted(damaged.rglob("events.out.tfevents.*"))[:4]
    _flip(a, 7)
    b.write_bytes(b.read_bytes()[:-7])
    c.write_bytes(b"")
    data = bytearray(d.read_bytes())
    data[_records(bytes(data))[9][0]] ^= 0x01  # a length header
    d.write_bytes(bytes(data))
    assert _batched_equals_one_by_one(damaged) == 6


@pytest.mark.shared("reallogs")
def test_real_logs_in_one_pass_read_as_one_by_one():
    from helpers import REALLOGS

    assert _batched_equals_one_by_one(REALLOGS) > 20
