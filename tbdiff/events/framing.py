"""TFRecord framing: walk the records of one file, verify their CRCs, recover from damage.

A record is `u64 length, u32 masked crc32c(length), payload, u32 masked crc32c(payload)`.
Files are read in 8 MiB chunks (memory flat in the number of events). The framing walk is
inherently sequential; `_walk` keeps it off the interpreter for regular logs by speculation
(scalar logs repeat a short cycle of record sizes, checked with one numpy gather). A bad header
CRC means the length can't be trusted: we scan forward for the next offset whose header CRC
verifies and resume there. Every problem is reported with its file offset.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import crc32c
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tbdiff.diagnostics import LogWarning
from tbdiff.events.crc import crc_rows, gather, masked, u32_at
from tbdiff.events.model import FileInfo

_CHUNK = 8 << 20  # bytes read at a time
_MAX_WARNINGS_PER_FILE = 20


class Reporter:
    """Collects the warnings of one file, capped so a shredded file stays readable."""

    def __init__(self, path: Path, sink: list[LogWarning], info: FileInfo):
        self.path, self.sink, self.info, self.n = path, sink, info, 0

    def warn(self, kind: str, message: str, offset: int | None = None) -> None:
        self.n += 1
        if self.n <= _MAX_WARNINGS_PER_FILE:
            self.sink.append(LogWarning(kind, message, str(self.path), offset))
        elif self.n == _MAX_WARNINGS_PER_FILE + 1:
            what = "further warnings for this file suppressed"
            self.sink.append(LogWarning("record.suppressed", what, str(self.path)))


def _header_ok(buf: bytes, pos: int) -> bool:
    n_crc = struct.unpack_from("<I", buf, pos + 8)[0]
    return masked(crc32c.crc32c(buf[pos : pos + 8])) == n_crc


def _resync(f, start: int, size: int) -> int | None:
    """First offset >= start whose 12-byte header has a valid length CRC and fits the file."""
    window = 1 << 18
    pos = start
    while pos + 12 <= size:
        f.seek(pos)
        buf = f.read(min(window + 11, size - pos))
        arr = np.frombuffer(buf, dtype=np.uint8)
        m = len(buf) - 11
        if m <= 0:
            return None
        cand = np.arange(m, dtype=np.int64)
        got = crc_rows(gather(arr, cand, 8))
        want = u32_at(arr, cand + 8)
        hits = np.flatnonzero(masked(got) == want)
        for h in hits:
            q = pos + int(h)
            n = struct.unpack_from("<Q", buf, int(h))[0]
            if q + 16 + n <= size:
                return q
        pos += m
    return None


def _walk(buf: bytes, start: int) -> tuple[np.ndarray, int]:
    """Offsets of consecutive records that fit in `buf`, and where the walk stopped.

    Lengths are not trusted here; the caller checks the header CRCs afterwards. Each step
    depends on the previous length, so the walk is sequential; to keep it off the Python
    interpreter for long regular runs (scalar logs repeat a short cycle of record sizes) we
    *speculate*: after 64 plain steps, if the last record sizes repeat with a period p <= 16,
    predict the next positions by repeating that cycle and check the real length at every
    predicted position with one numpy gather. Predictions are accepted up to the first
    mismatch, which is exact: a position is right iff all sizes before it were.
    """
    end = len(buf)
    lim = end - 12
    segments: list[np.ndarray] = []
    if start > lim:
        return np.zeros(0, np.int64), start
    arr = np.frombuffer(buf, dtype=np.uint8)
    win8 = sliding_window_view(arr, 8)
    unpack = struct.Struct("<Q").unpack_from
    pos = start
    batch = 4096
    stopped = False
    while not stopped and pos <= lim:
        offs: list[int] = []
        ap = offs.append
        for _ in range(64):
            if pos > lim:
                break
            nxt = pos + unpack(buf, pos)[0] + 16
            if nxt > end:
                stopped = True
                break
            ap(pos)
            pos = nxt
        if offs:
            segments.append(np.asarray(offs, dtype=np.int64))
        if stopped or pos > lim or len(offs) < 64:
            continue
        sizes = np.diff(np.append(offs[-33:], pos))
        period = next((p for p in range(1, 17) if (sizes[-2 * p : -p] == sizes[-p:]).all()), 0)
        if not period:
            continue
        cycle = sizes[-period:]
        count = min(batch, (end - pos) // int(cycle.min()) + 1)
        pred = np.tile(cycle, count // period + 1)[:count]
        starts = pos + np.concatenate(([0], np.cumsum(pred[:-1])))
        fits = starts + pred <= end
        k = int(np.argmin(fits)) if not fits.all() else count
        if k == 0:
            continue
        actual = np.ascontiguousarray(win8[starts[:k]]).view("<u8")[:, 0] + 16
        same = actual == pred[:k].astype(np.uint64)
        k = int(np.argmin(same)) if not same.all() else k
        if k:
            segments.append(starts[:k])
            pos = int(starts[k - 1] + pred[k - 1])
            batch = min(batch * 4, 1 << 18) if k == count else 4096
    if not segments:
        return np.zeros(0, np.int64), pos
    return np.concatenate(segments), pos


@dataclass
class Chunk:
    buf: bytes
    arr: np.ndarray
    base: int  # file offset of buf[0]
    starts: np.ndarray  # payload start within buf (int64), every walked record
    lengths: np.ndarray  # payload length (int64)
    keep: np.ndarray  # bool: payload CRC verified (or not checked)
    groups: list[tuple[int, np.ndarray, np.ndarray]]  # (length, record indices, whole-record rows)


_ROWS_MAX = 300  # records up to this payload size are also gathered as rows (fast path)


def _length_groups(
    arr: np.ndarray, buf: bytes, o: np.ndarray, lengths: np.ndarray, verify: bool
) -> tuple[np.ndarray, list[tuple[int, np.ndarray, np.ndarray]]]:
    """Check payload CRCs, grouping records by length so each group is one 2-D array.

    Returns the keep mask and, for small records, (length, indices, rows) where a row is the
    whole record (12-byte header, payload, 4-byte CRC): one gather serves the CRC check and
    the scalar fast path.
    """
    keep = np.ones(len(o), dtype=bool)
    groups: list[tuple[int, np.ndarray, np.ndarray]] = []
    if len(o) == 0:
        return keep, groups
    uniq, inverse = np.unique(lengths, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(uniq) + 1))
    crc = crc32c.crc32c
    for gi, width in enumerate(uniq.tolist()):
        sel = order[bounds[gi] : bounds[gi + 1]]
        if width <= _ROWS_MAX:
            rows = gather(arr, o[sel], width + 16)
            if verify:
                if len(sel) >= 16:
                    got = masked(crc_rows(rows[:, 12 : 12 + width]))
                    want = np.ascontiguousarray(rows[:, 12 + width :]).view("<u4")[:, 0]
                    keep[sel] = got == want
                else:
                    for j, i in enumerate(sel.tolist()):
                        r = rows[j]
                        keep[i] = masked(crc(r[12 : 12 + width].tobytes())) == int(
                            r[12 + width :].view("<u4")[0]
                        )
            groups.append((width, sel, rows))
        elif verify:
            for i in sel.tolist():
                s = int(o[i]) + 12
                stored = struct.unpack_from("<I", buf, s + width)[0]
                keep[i] = masked(crc(buf[s : s + width])) == stored
    return keep, groups


_MAX_FIRST_RECORD = 1 << 24  # a first record longer than this is not a plausible event header


def classify_start(head: bytes, size: int) -> str:
    """What a file is, judged from its first bytes (at least 12 of them when it has them).

    "empty" (0 bytes), "event" (the first record header's CRC verifies), "cut" (fewer than 12
    bytes, but they start like a record length: an event file cut inside its first header),
    "not_event" (too short, or a length no writer would put first), "damaged" (12 bytes or
    more whose header does not verify: either not an event file or a damaged one; only a scan
    for a later valid header can tell).
    """
    if size == 0:
        return "empty"
    if len(head) < 12:
        if len(head) >= 8 and struct.unpack_from("<Q", head)[0] < _MAX_FIRST_RECORD:
            return "cut"
        return "not_event"
    return "event" if _header_ok(head, 0) else "damaged"


def sniff_file(path: str | Path) -> str:
    """`classify_start` of a file on disk; "unreadable" when it cannot be opened or read."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            size = os.fstat(f.fileno()).st_size
    except OSError:
        return "unreadable"
    kind = classify_start(head, size)
    if kind == "damaged":
        with open(path, "rb") as f:
            kind = "event" if _resync(f, 1, size) is not None else "not_event"
    return kind


def _start(f, size: int, info: FileInfo, rep: Reporter) -> int | None:
    """Where reading starts (0, or after a damaged first header); None when nothing to read.

    The first header is always checked, even without --crc verification: it is what tells an
    event file from anything else named like one.
    """
    head = f.read(12)
    kind = classify_start(head, size)
    if kind == "event":
        return 0
    if kind == "empty":
        info.empty = True
        rep.warn("io.empty", "empty event file (0 bytes)")
    elif kind == "cut":
        info.truncated_at = 0
        rep.warn(
            "record.truncated",
            f"truncated record at offset 0 (only {size} bytes: cut inside the first record header)",
            0,
        )
    elif kind == "not_event":
        info.not_event_file = True
        rep.warn("io.not_event_file", f"not a TensorBoard event file ({size} bytes)")
    else:
        return _after_bad_header(f, 0, size, info, rep)
    return None


def _after_bad_header(f, bad_abs: int, size: int, info: FileInfo, rep: Reporter) -> int | None:
    """Resume after a header whose CRC failed: the next verifying header, or None."""
    nxt = _resync(f, bad_abs + 1, size)
    if nxt is None and bad_abs == 0 and info.records == 0:
        info.not_event_file = True
        rep.warn("io.not_event_file", "not a TensorBoard event file (no valid record header)")
        return None
    info.corrupt_at.append(bad_abs)
    if nxt is None:
        rep.warn(
            "record.corrupt",
            f"corrupt record header at offset {bad_abs}; no valid record after it",
            bad_abs,
        )
        return None
    rep.warn(
        "record.corrupt",
        f"corrupt record header at offset {bad_abs}; resumed at offset {nxt} "
        f"({nxt - bad_abs} bytes skipped)",
        bad_abs,
    )
    return nxt


def _truncated(info: FileInfo, rep: Reporter, offset: int, detail: str) -> None:
    info.truncated_at = offset
    rep.warn(
        "record.truncated",
        f"truncated record at offset {offset} ({detail}; file still being written?)",
        offset,
    )


def chunks(path: Path, info: FileInfo, rep: Reporter, verify_crc: bool) -> Iterator[Chunk]:
    """Validated records of one file, a chunk at a time. Handles truncation and corruption."""
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed in finally
    except OSError as exc:
        info.unreadable, info.error = True, str(exc.strerror or exc)
        rep.warn("io.unreadable", f"cannot read ({info.error})")
        return
    try:
        size = os.fstat(f.fileno()).st_size
        info.size = size
        base = _start(f, size, info, rep)
        want = _CHUNK
        while base is not None and base < size:
            f.seek(base)
            buf = f.read(min(want, size - base))
            want = _CHUNK
            at_eof = base + len(buf) >= size
            offs, stop = _walk(buf, 0)
            arr = np.frombuffer(buf, dtype=np.uint8)
            o = offs
            hdr = gather(arr, o, 12)
            lengths = np.ascontiguousarray(hdr[:, :8]).view("<u8")[:, 0].astype(np.int64)
            bad_header: int | None = None
            if verify_crc and len(o):
                want_crc = np.ascontiguousarray(hdr[:, 8:]).view("<u4")[:, 0]
                ok = masked(crc_rows(hdr[:, :8])) == want_crc
                if not ok.all():
                    i = int(np.argmin(ok))
                    bad_header = int(o[i])
                    o, lengths = o[:i], lengths[:i]
            del hdr
            if bad_header is None and stop + 12 <= len(buf) and verify_crc:
                if not _header_ok(buf, stop):
                    bad_header = stop
            if len(o):
                keep, groups = _length_groups(arr, buf, o, lengths, verify_crc)
                if not keep.all():
                    for off in o[~keep].tolist():
                        info.corrupt_at.append(base + off)
                        rep.warn(
                            "record.corrupt",
                            f"corrupt record at offset {base + off} (payload CRC mismatch), skipped",
                            base + off,
                        )
                yield Chunk(buf, arr, base, o + 12, lengths, keep, groups)
            if bad_header is not None:
                base = _after_bad_header(f, base + bad_header, size, info, rep)
                continue
            # the walk stopped at a record that does not fit in buf
            if stop >= len(buf):
                base += stop
                continue
            if stop + 12 > len(buf):
                if at_eof:
                    _truncated(info, rep, base + stop, f"{len(buf) - stop} bytes of header left")
                    return
                base += stop
                continue
            n = struct.unpack_from("<Q", buf, stop)[0]
            need = 16 + n
            if base + stop + need > size:
                left = size - base - stop - 12
                _truncated(info, rep, base + stop, f"length {n}, only {left} bytes left")
                return
            base += stop
            want = max(_CHUNK, need)
    except OSError as exc:
        info.unreadable, info.error = True, str(exc.strerror or exc)
        rep.warn("io.unreadable", f"read error ({info.error})")
    finally:
        f.close()


def iter_records(
    file: str | Path, *, verify_crc: bool = True, warnings: list[LogWarning] | None = None
) -> Iterator[tuple[int, bytes]]:
    """Yield (record offset, payload) of every valid record; problems go to `warnings`."""
    path = Path(file)
    sink = warnings if warnings is not None else []
    info = FileInfo(path)
    rep = Reporter(path, sink, info)
    for ch in chunks(path, info, rep, verify_crc):
        for s, n, k in zip(ch.starts.tolist(), ch.lengths.tolist(), ch.keep.tolist(), strict=True):
            if k:
                info.records += 1
                yield ch.base + s - 12, ch.buf[s : s + n]
