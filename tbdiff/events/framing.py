"""TFRecord framing: walk the records of one file, verify their CRCs, recover from damage.

A record is `u64 length, u32 masked crc32c(length), payload, u32 masked crc32c(payload)`.
Files are read in 4 MiB chunks (memory flat in the number of events). The framing walk is
inherently sequential; `_walk` keeps it off the interpreter for regular logs by speculation
(scalar logs repeat a short cycle of record sizes, checked with one numpy gather). A bad header
CRC means the length can't be trusted: we scan forward for the next offset whose header CRC
verifies and resume there. Every problem is reported with its file offset.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import crc32c
import numpy as np
from numpy.lib.stride_tricks import as_strided

from tbdiff.diagnostics import LogWarning
from tbdiff.events.crc import crc_rows, gather, masked, u32_at
from tbdiff.events.model import FileInfo
from tbdiff.events.storage import RemotePath, as_path, open_binary

_CHUNK = 4 << 20  # bytes read at a time (working memory: a few times this)
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


_PLAIN_STEPS = 32  # sequential steps before each try to speculate (2 x the longest period)


def _cycle_starts(pos: int, cycle: list[int], count: int) -> np.ndarray:
    """Offsets of `count` records from `pos` whose sizes repeat `cycle`."""
    period, total = len(cycle), sum(cycle)
    prefix = np.cumsum([0, *cycle[:-1]])
    rounds = -(-count // period)
    grid = pos + np.arange(rounds, dtype=np.int64)[:, None] * total + prefix[None, :]
    return grid.reshape(-1)[:count]


def _predicted(buf: bytes, pos: int, cycle: list[int], count: int) -> int:
    """How many of the next `count` records from `pos` really have the sizes `cycle` repeats
    (the first mismatch ends the prediction; a record must fit in buf): one strided read of
    the length headers per position in the cycle, no gather."""
    period, total, end = len(cycle), sum(cycle), len(buf)
    first_bad = count
    offset = pos
    for r, size in enumerate(cycle):
        if r >= count:
            break
        n = (count - r + period - 1) // period  # records of this residue among the count
        fit = (end - offset - size) // total + 1 if end - offset >= size else 0
        n_fit = min(n, max(fit, 0))
        if n_fit:
            heads = np.ndarray((n_fit,), "<u8", buf, offset, (total,))
            bad = np.flatnonzero(heads != size - 16)
            j = int(bad[0]) if len(bad) else n_fit
        else:
            j = 0
        if j < n:
            first_bad = min(first_bad, j * period + r)
        offset += size
    return first_bad


def _walk(buf: bytes, start: int) -> tuple[np.ndarray, int]:
    """Offsets of consecutive records that fit in `buf`, and where the walk stopped.

    Lengths are not trusted here; the caller checks the header CRCs afterwards. Each step
    depends on the previous length, so the walk is sequential; to keep it off the Python
    interpreter for long regular runs (scalar logs repeat a short cycle of record sizes) we
    *speculate*: after 32 plain steps (2p + 1 after a cycle of period p held), if the last
    record sizes repeat with a period p <= 16,
    predict the next positions by repeating that cycle and check the real length at every
    predicted position with one numpy gather. Predictions are accepted up to the first
    mismatch, which is exact: a position is right iff all sizes before it were.
    """
    end = len(buf)
    lim = end - 12
    segments: list[np.ndarray] = []
    if start > lim:
        return np.zeros(0, np.int64), start
    unpack = struct.Struct("<Q").unpack_from
    pos = start
    batch = 4096
    plain = _PLAIN_STEPS
    stopped = False
    while not stopped and pos <= lim:
        offs: list[int] = []
        ap = offs.append
        for _ in range(plain):
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
        if stopped or pos > lim or len(offs) < plain:
            continue
        tail = [*offs[-33:], pos]
        sizes = [b - a for a, b in zip(tail[:-1], tail[1:], strict=True)]
        longest = min(16, len(sizes) // 2)
        period = next((p for p in range(1, longest + 1) if sizes[-2 * p : -p] == sizes[-p:]), 0)
        plain = _PLAIN_STEPS
        if not period:
            continue
        cycle = sizes[-period:]
        count = min(batch, (end - pos) // min(cycle) + 1)
        k = _predicted(buf, pos, cycle, count)
        if k:
            starts = _cycle_starts(pos, cycle, k)
            segments.append(starts)
            pos = int(starts[-1]) + cycle[(k - 1) % period]
            batch = min(batch * 4, 1 << 18) if k == count else 4096
            # a cycle that held for a while often changes to one of the same period (a step
            # varint one byte longer): look for it after 2 periods, not 32 steps
            plain = max(5, 2 * period + 1)
    if not segments:
        return np.zeros(0, np.int64), pos
    return np.concatenate(segments), pos


@dataclass
class RowGroup:
    """The records of one payload length in a chunk, as a (records x bytes) array.

    A row is a whole record: 12-byte header, payload, 4-byte CRC. `column` reads one field of
    every row without copying.
    """

    width: int  # payload length
    sel: np.ndarray  # record indices in the chunk
    src: np.ndarray  # uint8 buffer the rows live in
    offset: int  # of row 0 in src
    stride: int  # bytes from one row to the next

    @cached_property
    def rows(self) -> np.ndarray:
        k = len(self.sel)
        return as_strided(
            self.src[self.offset :], shape=(k, self.width + 16), strides=(self.stride, 1)
        )

    def column(self, offset: int, dtype: str) -> np.ndarray:
        """Read-only view of the value of `dtype` at byte `offset` of every row."""
        return np.ndarray(
            (len(self.sel),),
            dtype=dtype,
            buffer=self.src,
            offset=self.offset + offset,
            strides=(self.stride,),
        )

    def stored_crcs(self) -> np.ndarray:
        return self.column(12 + self.width, "<u4")


@dataclass
class Chunk:
    """Walked records of one read of a file. Payload CRCs of small records are verified lazily:

    the scalar fast path checks the records it decodes itself (cheaper: it knows which bytes
    differ between them, crc.crc_rows_delta); `settle()` checks every record left unchecked.
    """

    buf: bytes
    arr: np.ndarray
    base: int  # file offset of buf[0]
    starts: np.ndarray  # payload start within buf (int64), every walked record
    lengths: np.ndarray  # payload length (int64)
    keep: np.ndarray  # bool: payload CRC verified (or not checked, or not verified yet)
    checked: np.ndarray  # bool: keep is final for this record
    groups: list[RowGroup]  # records of one length, as rows (small records only)

    def settle(self) -> None:
        """Verify the payload CRC of every record not checked yet (keep becomes final)."""
        if self.checked.all():
            return
        for g in self.groups:
            todo = np.flatnonzero(~self.checked[g.sel])
            if len(todo) == 0:
                continue
            pay = g.rows[todo, 12 : 12 + g.width] if len(todo) < len(g.sel) else None
            if pay is None:
                pay = g.rows[:, 12 : 12 + g.width]
            if len(todo) >= 16:
                got = masked(crc_rows(np.ascontiguousarray(pay)))
            else:
                got = np.array([masked(crc32c.crc32c(r.tobytes())) for r in pay], np.uint32)
            self.keep[g.sel[todo]] = got == g.stored_crcs()[todo]
        self.checked[:] = True


_ROWS_MAX = 300  # records up to this payload size are also gathered as rows (fast path)
#: lengths with fewer records than this are not gathered as rows: their CRCs are checked one by
#: one at once and the general path reads them (a handful of protobuf parses costs less than a
#: row group's fixed cost of numpy calls: a tag's first event with its metadata, the first
#: steps of each varint length ... several per small file)
_ROWS_MIN = 8


def _split_lengths(lengths: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(length, record indices) per distinct length; cheap for the usual handful of lengths."""
    if len(lengths) == 0:
        return []
    if int(lengths.max()) < 1 << 16:
        uniq = np.flatnonzero(np.bincount(lengths))
        if len(uniq) <= 16:
            return [(int(w), np.flatnonzero(lengths == w)) for w in uniq.tolist()]
    uniq, inverse = np.unique(lengths, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(uniq) + 1))
    return [(int(w), order[bounds[i] : bounds[i + 1]]) for i, w in enumerate(uniq.tolist())]


def _row_group(arr: np.ndarray, starts: np.ndarray, width: int, sel: np.ndarray) -> RowGroup:
    """Records of one length as a contiguous copy of their rows.

    One strided copy when the records are evenly spaced (a tag logged in a fixed cycle), else a
    gather. Copying is worth it: every later pass reads columns, and columns of a compact copy
    are several times faster to read than the same bytes spread over the whole chunk.
    """
    k = len(starts)
    rows = None
    if k > 2:
        step = int(starts[1] - starts[0])
        if step >= width and (np.diff(starts) == step).all():
            view = as_strided(arr[int(starts[0]) :], shape=(k, width), strides=(step, 1))
            rows = np.ascontiguousarray(view)
    if rows is None:
        rows = np.ascontiguousarray(gather(arr, starts, width))
    return RowGroup(width - 16, sel, rows.reshape(-1), 0, width)


def _bad_header(ch: Chunk) -> int | None:
    """Index of the first record whose length header's CRC fails (one CRC per length)."""
    pack = struct.Struct("<Q").pack
    first: int | None = None
    for g in ch.groups:
        ok = g.column(8, "<u4") == masked(crc32c.crc32c(pack(g.width)))
        if not ok.all():
            i = int(g.sel[int(np.argmin(ok))])
            first = i if first is None else min(first, i)
    in_rows = np.zeros(len(ch.lengths), dtype=bool)
    for g in ch.groups:
        in_rows[g.sel] = True
    for i in np.flatnonzero(~in_rows).tolist():
        s = int(ch.starts[i]) - 12
        if not _header_ok(ch.buf, s):
            first = i if first is None else min(first, i)
            break
    return first


def _make_chunk(
    buf: bytes, arr: np.ndarray, base: int, o: np.ndarray, lengths: np.ndarray, verify: bool
) -> Chunk:
    """Group records by length (small ones as row arrays); big records' CRCs checked now."""
    n = len(o)
    keep = np.ones(n, dtype=bool)
    checked = np.full(n, not verify)
    groups: list[RowGroup] = []
    crc = crc32c.crc32c
    for width, sel in _split_lengths(lengths):
        if width <= _ROWS_MAX and len(sel) >= _ROWS_MIN:
            groups.append(_row_group(arr, o[sel], width + 16, sel))
        elif verify:
            for i in sel.tolist():
                s = int(o[i]) + 12
                stored = struct.unpack_from("<I", buf, s + width)[0]
                keep[i] = masked(crc(buf[s : s + width])) == stored
            checked[sel] = True
    return Chunk(buf, arr, base, o + 12, lengths, keep, checked, groups)


def _report_corrupt(ch: Chunk, info: FileInfo, rep: Reporter) -> None:
    _report_corrupt_range(ch, 0, len(ch.starts), -ch.base, info, rep)


def _report_corrupt_range(
    ch: Chunk, lo: int, hi: int, base: int, info: FileInfo, rep: Reporter
) -> None:
    """Records lo..hi-1 of the chunk that failed their payload CRC; ch.buf[base] is the
    file's offset 0 (a chunk may hold several files, batch.py)."""
    bad = np.flatnonzero(~ch.keep[lo:hi]) + lo
    for off in (ch.starts[bad] - 12 - base).tolist():
        info.corrupt_at.append(off)
        rep.warn(
            "record.corrupt",
            f"corrupt record at offset {off} (payload CRC mismatch), skipped",
            off,
        )


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


def sniff_file(path: str | Path | RemotePath) -> str:
    """`classify_start` of a file; "unreadable" when it cannot be opened or read."""
    try:
        f, size = open_binary(path if isinstance(path, RemotePath) else Path(path))
        with f:
            head = f.read(12)
            kind = classify_start(head, size)
            if kind == "damaged":
                kind = "event" if _resync(f, 1, size) is not None else "not_event"
    except OSError:
        return "unreadable"
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


def chunks(
    path: Path | RemotePath, info: FileInfo, rep: Reporter, verify_crc: bool
) -> Iterator[Chunk]:
    """Validated records of one file, a chunk at a time. Handles truncation and corruption."""
    try:
        f, size = open_binary(path)
    except OSError as exc:
        info.unreadable, info.error = True, str(exc.strerror or exc)
        rep.warn("io.unreadable", f"cannot read ({info.error})")
        return
    try:
        info.size = size
        base = _start(f, size, info, rep)
        want = _CHUNK
        while base is not None and base < size:
            f.seek(base)
            buf = f.read(min(want, size - base))
            want = _CHUNK
            at_eof = base + len(buf) >= size
            o, stop = _walk(buf, 0)
            arr = np.frombuffer(buf, dtype=np.uint8)
            lengths = np.diff(o, append=stop) - 16  # the walk followed the length headers
            ch = _make_chunk(buf, arr, base, o, lengths, verify_crc)
            bad_header: int | None = None
            if verify_crc and len(o):
                i = _bad_header(ch)
                if i is not None:
                    bad_header = int(o[i])
                    o, lengths = o[:i], lengths[:i]
                    ch = _make_chunk(buf, arr, base, o, lengths, verify_crc)
            if bad_header is None and stop + 12 <= len(buf) and verify_crc:
                if not _header_ok(buf, stop):
                    bad_header = stop
            if len(o):
                yield ch  # the consumer may verify some CRCs itself (fast path)
                ch.settle()
                _report_corrupt(ch, info, rep)
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
    file: str | Path | RemotePath,
    *,
    verify_crc: bool = True,
    warnings: list[LogWarning] | None = None,
) -> Iterator[tuple[int, bytes]]:
    """Yield (record offset, payload) of every valid record; problems go to `warnings`."""
    path = as_path(file) if not isinstance(file, RemotePath) else file
    sink = warnings if warnings is not None else []
    info = FileInfo(path)
    rep = Reporter(path, sink, info)
    for ch in chunks(path, info, rep, verify_crc):
        ch.settle()
        for s, n, k in zip(ch.starts.tolist(), ch.lengths.tolist(), ch.keep.tolist(), strict=True):
            if k:
                info.records += 1
                yield ch.base + s - 12, ch.buf[s : s + n]
