"""Many small runs read in one vectorised pass: `read_runs(runs)` = `[read_run(r) for r in runs]`.

A sweep is thousands of small files (a few thousand records each); reading them one at a time
costs a fixed number of numpy calls per file and per record length (framing, CRCs, the scalar
fast path), which dominates on files that small. Complete event files are record streams that
can be laid end to end, so the files of a batch of runs are read into one buffer, each walked
on its own (record offsets), and framed, CRC-checked and fast-path decoded as ONE chunk: the
records of one length and layout from every file form one group. Each run's reader then takes
its files' shares of the chunk in file order (`RunReader.consume`), exactly as if it had read
them one by one: same records, sequence numbers, first-occurrence plugin rule, warnings.

Only local files that are small (`_BATCH_FILE_MAX`), start with a valid record header and walk
to their exact end go in a batch; a run with any other file (remote, big, empty, truncated,
damaged) is read by `read_run`, as is the whole batch when a length header's CRC fails.
"""

from __future__ import annotations

import numpy as np

from tbdiff.events.fastpath import FastGroup, fast_scalars
from tbdiff.events.framing import (
    _bad_header,
    _make_chunk,
    _report_corrupt_range,
    _walk,
    classify_start,
)
from tbdiff.events.model import Run, RunData
from tbdiff.events.reader import RunReader, finish_run, read_run
from tbdiff.events.storage import RemotePath

_BATCH_FILE_MAX = 1 << 20  # files up to this size are read in batches
_BATCH_BYTES = 32 << 20  # bytes per batch at most


def read_runs(
    runs: list[Run], *, verify_crc: bool = True, scalars: bool = True, graphs: bool = True
) -> list[RunData]:
    """`read_run` of every run, small local files in shared passes (module doc)."""
    out: list[RunData | None] = [None] * len(runs)
    batch: list[tuple[int, list[tuple[bytes, np.ndarray]]]] = []
    size = 0
    for i, run in enumerate(runs):
        files = _loaded(run)
        if files is None:
            out[i] = read_run(run, verify_crc=verify_crc, scalars=scalars, graphs=graphs)
            continue
        batch.append((i, files))
        size += sum(len(b) for b, _o in files)
        if size >= _BATCH_BYTES:
            _read_batch(runs, batch, out, verify_crc, scalars, graphs)
            batch, size = [], 0
    if batch:
        _read_batch(runs, batch, out, verify_crc, scalars, graphs)
    done = [r for r in out if r is not None]
    assert len(done) == len(runs)  # every run read, in order
    return done


def _loaded(run: Run) -> list[tuple[bytes, np.ndarray]] | None:
    """(bytes, record offsets) of each file of a run that can go in a batch, or None."""
    files = []
    for path in run.files:
        if isinstance(path, RemotePath):
            return None
        try:
            with open(path, "rb") as f:
                buf = f.read(_BATCH_FILE_MAX + 1)
        except OSError:
            return None
        if len(buf) > _BATCH_FILE_MAX or classify_start(buf[:12], len(buf)) != "event":
            return None
        offsets, stop = _walk(buf, 0)
        if stop != len(buf) or len(offsets) == 0:
            return None
        files.append((buf, offsets))
    return files


def _read_batch(runs, batch, out, verify_crc: bool, scalars: bool, graphs: bool) -> None:
    bufs = [b for _i, files in batch for b, _o in files]
    bases = np.cumsum([0] + [len(b) for b in bufs])
    offsets = np.concatenate(
        [o + base for (_b, o), base in zip(_files(batch), bases[:-1].tolist(), strict=True)]
    )
    ends = np.append(offsets[1:], bases[-1])
    big = b"".join(bufs)
    arr = np.frombuffer(big, dtype=np.uint8)
    ch = _make_chunk(big, arr, 0, offsets, ends - offsets - 16, verify_crc)
    if verify_crc and _bad_header(ch) is not None:  # a damaged file: each run on its own
        for i, _unused in batch:
            out[i] = read_run(runs[i], verify_crc=verify_crc, scalars=scalars, graphs=graphs)
        return
    fast_mask = np.zeros(len(offsets), dtype=bool)
    groups = fast_scalars(ch, fast_mask, [], {})  # settles every CRC
    firsts = np.searchsorted(offsets, bases).tolist()  # first record of each file
    k = 0
    for i, files in batch:
        reader = RunReader(runs[i], verify_crc, scalars, graphs)
        for path, (buf, _o) in zip(runs[i].files, files, strict=True):
            lo, hi, base = firsts[k], firsts[k + 1], int(bases[k])
            info = reader.start_file(path)
            info.size = len(buf)
            reader.consume(ch, lo, hi, -base, fast_mask, _share(groups, lo, hi))
            _report_corrupt_range(ch, lo, hi, base, info, reader.rep)
            reader.end_file()
            reader.data.file_info.append(info)
            k += 1
        out[i] = finish_run(reader, runs[i])


def _files(batch) -> list[tuple[bytes, np.ndarray]]:
    return [f for _i, files in batch for f in files]


def _share(groups: list[FastGroup], lo: int, hi: int) -> list[FastGroup]:
    """The parts of the fast groups whose records are in lo..hi-1 (indices are sorted)."""
    out = []
    for tpl, idx, steps, walls, vals in groups:
        a, b = np.searchsorted(idx, (lo, hi)).tolist()
        if b > a:
            out.append((tpl, idx[a:b], steps[a:b], walls[a:b], [v[a:b] for v in vals]))
    return out


__all__ = ["read_runs"]
