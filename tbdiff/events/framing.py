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

from tbdiff.events.crc import crc_rows, gather, masked, u32_at
from tbdiff.events.model import FileInfo

_CHUNK = 8 << 20  # bytes read at a time
_MAX_WARNINGS_PER_FILE = 20


class Reporter:
    """Collects one-line warnings for one file, capped so a shredded file stays readable."""

    def __init__(self, path: Path, sink: list[str], info: FileInfo):
        self.path, self.sink, self.info, self.n = path, sink, info, 0

    def warn(self, msg: str) -> None:
        self.n += 1
        if self.n <= _MAX_WARNINGS_PER_FILE:
            self.sink.append(f"{self.path}: {msg}")
        elif self.n == _MAX_WARNINGS_PER_FILE + 1:
            self.sink.append(f"{self.path}: further warnings for this file suppressed")


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


def chunks(path: Path, info: FileInfo, rep: Reporter, verify_crc: bool) -> Iterator[Chunk]:
    """Validated records of one file, a chunk at a time. Handles truncation and corruption."""
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed in finally
    except OSError as exc:
        info.unreadable = True
        rep.warn(f"cannot read ({exc.strerror or exc})")
        return
    try:
        size = os.fstat(f.fileno()).st_size
        info.size = size
        base = 0
        want = _CHUNK
        while base < size:
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
                            f"corrupt record at offset {base + off} (payload CRC mismatch), skipped"
                        )
                yield Chunk(buf, arr, base, o + 12, lengths, keep, groups)
            if bad_header is not None:
                bad_abs = base + bad_header
                info.corrupt_at.append(bad_abs)
                nxt = _resync(f, bad_abs + 1, size)
                if nxt is None:
                    if bad_abs == 0 and info.records == 0:
                        info.not_event_file = True
                        rep.warn("not a TFRecord event file (no valid record header)")
                    else:
                        rep.warn(
                            f"corrupt record header at offset {bad_abs}; no valid record after it"
                        )
                    return
                rep.warn(
                    f"corrupt record header at offset {bad_abs}; resumed at offset {nxt} ({nxt - bad_abs} bytes skipped)"
                )
                base = nxt
                continue
            # the walk stopped at a record that does not fit in buf
            if stop >= len(buf):
                base += stop
                continue
            if stop + 12 > len(buf):
                if at_eof:
                    info.truncated_at = base + stop
                    rep.warn(
                        f"truncated record at offset {base + stop} ({len(buf) - stop} bytes of header left; file still being written?)"
                    )
                    return
                base += stop
                continue
            n = struct.unpack_from("<Q", buf, stop)[0]
            need = 16 + n
            if base + stop + need > size:
                info.truncated_at = base + stop
                rep.warn(
                    f"truncated record at offset {base + stop} (length {n}, only {size - base - stop - 12} "
                    "bytes left; file still being written?)"
                )
                return
            base += stop
            want = max(_CHUNK, need)
    except OSError as exc:
        info.unreadable = True
        rep.warn(f"read error ({exc.strerror or exc})")
    finally:
        f.close()


def iter_records(
    file: str | Path, *, verify_crc: bool = True, warnings: list[str] | None = None
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
