"""Scalar fast path: decode scalar events of a whole chunk at once.

A scalar event is `wall_time, step, summary{value{tag, v}, ...}` with one or more values
(TF1 Keras callbacks put every metric of an epoch in one Summary). Events of one tag set share
every byte except the wall time, the step and the 4 bytes of each value (a float32, for TF1
`simple_value` and TF2 rank-0 float tensors alike). One representative per layout is parsed
with protobuf and *proven* to have that layout by rewriting its value bytes and parsing again
(`check_template`); wall times, steps (varints) and values of the whole group are then decoded
at once. Everything else goes through the general path in reader.py, in file order.

Two ways to find the groups of a chunk's length group (framing.RowGroup):

* by representative: the usual case, one tag set per record length (or a few). The columns
  that differ between the records are known from the CRC step; a representative's layout says
  which of them may differ (wall time, step, values), and records equal to it in the others
  share its layout. No hashing, no copies beyond the decoded columns.
* mixed, for what is left: layouts parsed per record (vectorised), records grouped by layout
  and by their remaining bytes (sort-based).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from tensorboard.compat.proto import event_pb2

from tbdiff.events.crc import crc_rows_delta, masked
from tbdiff.events.framing import Chunk, RowGroup
from tbdiff.events.values import DECODE_ERRORS, tensor_scalar

_MAX_VALUES = 16  # values per summary taken by the fast path; more go the general way


@dataclass(frozen=True)
class Slot:
    """One value of a scalar template: its tag, encoding and metadata plugin (if any)."""

    tag: str
    encoding: str  # "simple_value" | "tensor"
    meta_plugin: str | None  # plugin named by the value's own metadata, if it has one


@dataclass(frozen=True)
class Template:
    ok: bool
    slots: tuple[Slot, ...] = ()


# what fast_scalars returns per group: template, record indices, steps, walls, values per slot
FastGroup = tuple[Template, np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]


def _sentinel(i: int) -> bytes:
    return struct.pack("<f", -1234.5 - i)


def check_template(payload: bytes, vpos: tuple[int, ...]) -> Template:
    """Prove that `payload` is a scalar event whose i-th value is payload[vpos[i]:vpos[i]+4].

    Each value slot is overwritten with its own sentinel and the event parsed again: everything
    must be unchanged except the values, the i-th reading back as the i-th sentinel.
    """
    alt = bytearray(payload)
    for i, vp in enumerate(vpos):
        alt[vp : vp + 4] = _sentinel(i)
    try:
        ev = event_pb2.Event.FromString(payload)
        al = event_pb2.Event.FromString(bytes(alt))
    except DECODE_ERRORS:
        return Template(False)
    if {f.name for f, _ in ev.ListFields()} - {"wall_time", "step", "summary"}:
        return Template(False)
    n = len(vpos)
    if len(ev.summary.value) != n or len(al.summary.value) != n:
        return Template(False)
    if ev.step != al.step or ev.wall_time != al.wall_time:
        return Template(False)
    if len({v.tag for v in ev.summary.value}) != n:  # a tag twice in one event: general path
        return Template(False)
    slots = []
    for i, (v, a) in enumerate(zip(ev.summary.value, al.summary.value, strict=True)):
        slot = _check_slot(v, a, struct.unpack("<f", _sentinel(i))[0])
        if slot is None:
            return Template(False)
        slots.append(slot)
    return Template(True, tuple(slots))


def _check_slot(v, a, sentinel: float) -> Slot | None:
    if v.tag != a.tag or v.metadata != a.metadata:
        return None
    meta = v.metadata.plugin_data.plugin_name if v.HasField("metadata") else None
    kind = v.WhichOneof("value")
    if kind != a.WhichOneof("value"):
        return None
    if kind == "simple_value":
        return Slot(v.tag, "simple_value", meta) if a.simple_value == sentinel else None
    if kind == "tensor" and v.tensor.dtype == 1:
        if tensor_scalar(v.tensor) is not None and tensor_scalar(a.tensor) == sentinel:
            return Slot(v.tag, "tensor", meta)
    return None


# --------------------------------------------------------------------------------------------
# Layouts
# --------------------------------------------------------------------------------------------


def row_layout(row: bytes, width: int) -> tuple[int, tuple[int, ...]] | None:
    """(summary column, value positions) of one record's payload, or None if not plain.

    Wire layout: 09 <f64 wall> [10 <varint step>] 2a Ls (0a Lv 0a Lt <tag> 15 <f32> |
    0a Lv 0a Lt <tag> 42 Ln <tensor ending in a float32> [metadata])... with 1-byte lengths.
    """
    if width < 16 or row[0] != 0x09:
        return None
    rc = 9
    if row[9] == 0x10:
        rc = 10
        while rc < min(width, 20) and row[rc] >= 0x80:
            rc += 1
        rc += 1
    if rc + 2 > width or row[rc] != 0x2A or row[rc + 1] >= 0x80 or rc + 2 + row[rc + 1] != width:
        return None
    pos, out = rc + 2, []
    while pos < width and len(out) < _MAX_VALUES:
        vend = pos + 2 + row[pos + 1] if pos + 1 < width else width + 1
        q = pos + 2
        if row[pos] != 0x0A or row[pos + 1] >= 0x80 or vend > width or q + 2 > vend:
            return None
        if row[q] != 0x0A or row[q + 1] >= 0x80:
            return None
        c3 = q + 2 + row[q + 1]
        if c3 + 5 > vend:
            return None
        if row[c3] == 0x15:
            vp = c3 + 1
        elif row[c3] == 0x42 and 4 <= row[c3 + 1] < 0x80:
            vp = c3 + 2 + row[c3 + 1] - 4
        else:
            return None
        if vp + 4 > vend:
            return None
        out.append(vp)
        pos = vend
    if pos != width or not out:
        return None
    return rc, tuple(out)


def _layouts(
    pay: np.ndarray, sub: np.ndarray, rc: int, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """`row_layout`'s value positions for many records with the same summary column, at once.

    Returns (V, ok): V is (k, _MAX_VALUES) with -1 past the last value.
    """
    k = len(sub)
    last = width - 1

    def at(col: np.ndarray) -> np.ndarray:
        return pay[sub, np.clip(col, 0, last)].astype(np.int64)

    ok = (pay[sub, rc] == 0x2A) & (pay[sub, rc + 1] < 0x80)
    ok &= rc + 2 + pay[sub, rc + 1].astype(np.int64) == width
    pos = np.full(k, rc + 2, dtype=np.int64)
    vpos = np.full((k, _MAX_VALUES), -1, dtype=np.int64)
    for i in range(_MAX_VALUES):
        active = ok & (pos < width)
        if not active.any():
            break
        lv, q = at(pos + 1), pos + 2
        vend = pos + 2 + lv
        lt = at(q + 1)
        c3 = q + 2 + lt
        t, ln = at(c3), at(c3 + 1)
        good = (at(pos) == 0x0A) & (lv < 0x80) & (vend <= width) & (at(q) == 0x0A) & (lt < 0x80)
        simple = t == 0x15
        tensor = (t == 0x42) & (ln < 0x80) & (ln >= 4)
        vp = np.where(simple, c3 + 1, c3 + 2 + ln - 4)
        good &= (c3 + 5 <= vend) & (simple | tensor) & (vp + 4 <= vend)
        ok &= ~active | good
        vpos[active & good, i] = vp[active & good]
        pos = np.where(active, vend, pos)
    ok &= (pos == width) & (vpos[:, 0] >= 0)
    return vpos, ok


def _decode(
    g: RowGroup, members: np.ndarray, rc: int, vpos: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Steps, wall times and the values of every slot of the given records."""
    whole = len(members) == len(g.sel)

    def pick(col: np.ndarray) -> np.ndarray:
        return col.copy() if whole else col[members]

    walls = pick(g.column(13, "<f8"))
    vals = [pick(g.column(12 + vp, "<f4")).astype(np.float32) for vp in vpos]  # as on disk
    steps = np.zeros(len(members), dtype=np.uint64)
    for j in range(rc - 10):
        byte = pick(g.column(22 + j, "u1"))
        steps |= (byte & 0x7F).astype(np.uint64) << np.uint64(7 * j)
    return steps.view(np.int64), walls, vals


# --------------------------------------------------------------------------------------------
# Grouping
# --------------------------------------------------------------------------------------------


def same_rows(index: np.ndarray, rows: np.ndarray) -> list[tuple[np.ndarray, bytes]]:
    """Split `index` by identical `rows` (sort-based); (members, row bytes) per distinct row."""
    if len(index) == 0:
        return []
    if (rows == rows[0]).all():
        return [(index, rows[0].tobytes())]
    k, width = rows.shape
    padded = np.zeros((k, (width + 7) // 8 * 8), dtype=np.uint8)
    padded[:, :width] = rows
    words = padded.view("<u8")
    order = np.lexsort(words.T[::-1])
    w = words[order]
    new = np.ones(k, dtype=bool)
    new[1:] = (w[1:] != w[:-1]).any(axis=1)
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], k)
    return [
        (np.sort(index[order[s:e]]), rows[order[s]].tobytes())
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True)
    ]


# Templates already proven, process-wide: a proof depends only on the bytes of the key (the
# summary with its value slots zeroed), so it holds for every file; many small runs of one
# sweep share a handful of them.
_PROVEN: dict[tuple, Template] = {}
_PROVEN_MAX = 4096


class _Emitter:
    """Turns proven groups into FastGroups; remembers templates across the chunks of a file."""

    def __init__(self, fast_mask, markers, templates, out: list[FastGroup]):
        self.fast_mask, self.markers, self.templates, self.out = fast_mask, markers, templates, out

    def emit(self, g: RowGroup, members: np.ndarray, rc: int, vpos: tuple[int, ...]) -> None:
        pay = g.rows[:, 12 : 12 + g.width]
        row = pay[members[0]]
        key = (rc, vpos, _masked_key(row, rc, vpos))
        tpl = self.templates.get(key) or _PROVEN.get(key)
        if tpl is None:
            tpl = check_template(row.tobytes(), vpos)
            if len(_PROVEN) < _PROVEN_MAX:
                _PROVEN[key] = tpl
        self.templates[key] = tpl
        if not tpl.ok:
            return
        idx = g.sel[members]
        self.fast_mask[idx] = True
        self.markers.append((int(idx[0]), tpl))
        steps, walls, vals = _decode(g, members, rc, vpos)
        self.out.append((tpl, idx, steps, walls, vals))


def _masked_key(row: np.ndarray, rc: int, vpos: tuple[int, ...]) -> bytes:
    """The bytes a template is defined by: the summary, value slots zeroed."""
    b = bytearray(row[rc:].tobytes())
    for vp in vpos:
        b[vp - rc : vp - rc + 4] = b"\0\0\0\0"
    return bytes(b)


def _runs(cols: list[int]) -> list[tuple[int, int]]:
    """Sorted column numbers as (start, length) runs of consecutive columns."""
    runs: list[tuple[int, int]] = []
    for c in cols:
        if runs and runs[-1][0] + runs[-1][1] == c:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((c, 1))
    return runs


@lru_cache(maxsize=1024)
def _free_bytes(width: int, rc: int, vpos: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(free columns, mask) of a layout: the bytes that may differ between the records of one
    template (wall time, step, values), and the mask that compares the others; read-only."""
    free = np.zeros(width, dtype=bool)
    free[1:9] = True
    free[10:rc] = True
    for vp in vpos:
        free[vp : vp + 4] = True
    # equal to rep outside the free bytes, and the same step-varint length (the high bits of
    # the varint bytes): one masked comparison of whole rows
    mask = np.where(free, 0, 0xFF).astype(np.uint8)
    mask[10:rc] = 0x80
    cols = np.flatnonzero(free)
    cols.flags.writeable = False
    mask.flags.writeable = False
    return cols, mask


def _by_representative(g: RowGroup, ch: Chunk, em: _Emitter) -> np.ndarray:
    """Decode the records that share a representative's layout; the rest is returned.

    The representative is the last record still to do (later steps dominate a file); its
    layout says which columns may differ (wall time, step, values). Records equal to it in
    every other byte (and in the high bits of the step varint's bytes) have its layout;
    their CRCs follow from the representative's by linearity over the columns that may differ.
    Up to 8 representatives per group (several tags may share a record length); what is left
    is returned for `_mixed`.
    """
    pay = g.rows[:, 12 : 12 + g.width]
    todo = ch.keep[g.sel] | ~ch.checked[g.sel]
    for _ in range(8):
        left = np.flatnonzero(todo)
        if len(left) == 0:
            break
        rep = int(left[-1])
        layout = row_layout(pay[rep].tobytes(), g.width)
        if layout is None:
            todo[rep] = False  # not a plain scalar event: the general path reads it
            continue
        rc, vpos = layout
        free_cols, mask = _free_bytes(g.width, rc, vpos)
        delta = pay ^ pay[rep]
        match, colbits = _matching(delta, todo, mask)
        todo &= ~match
        members = np.flatnonzero(match)
        unchecked = ~ch.checked[g.sel[members]]
        if unchecked.any():
            members = _verify(g, ch, members, rep, delta, free_cols, colbits)
        if len(members):
            em.emit(g, members, rc, vpos)
    return todo


def _matching(
    delta: np.ndarray, todo: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None]:
    """Rows still to do whose `delta` is zero under `mask`, and the OR of every row's delta
    per column (None unless every row is to do). One OR down the columns says which masked
    columns differ anywhere, usually none; only those are then checked row by row."""
    whole = bool(todo.all())
    colbits = np.bitwise_or.reduce(delta if whole else delta[todo], axis=0)
    odd = np.flatnonzero(colbits & mask)
    if len(odd) == 0:
        return todo.copy(), colbits if whole else None
    if len(odd) > 8:
        return todo & ~(delta & mask).any(axis=1), colbits if whole else None
    bad = np.zeros(len(todo), dtype=bool)
    for c in odd.tolist():
        bad |= (delta[:, c] & mask[c]) != 0
    return todo & ~bad, colbits if whole else None


def _verify(
    g: RowGroup,
    ch: Chunk,
    members: np.ndarray,
    rep: int,
    delta: np.ndarray,
    cols: np.ndarray,
    colbits: np.ndarray | None = None,
) -> np.ndarray:
    """Check the payload CRCs of `members` (equal to `rep` outside columns `cols`); the good ones.

    `delta` is every row XOR the representative's: only the free bytes that change within
    the group (not the high bytes of a wall time) cost a table lookup (crc.crc_rows_delta);
    `colbits`, when given, is the OR of every row's delta per column.
    """
    whole = len(members) == len(g.sel)
    d = delta if whole else delta[members]
    if whole and colbits is not None:  # the OR of every row's delta per column, known
        changed = cols[colbits[cols] != 0]
    else:
        changed = cols[d[:, cols].any(axis=0)] if len(d) else cols[:0]
    ref = g.rows[rep, 12 : 12 + g.width].tobytes()
    got = masked(crc_rows_delta(ref, [(j, d[:, j]) for j in changed.tolist()], len(members)))
    stored = g.stored_crcs()
    good = got == (stored if whole else stored[members])
    idx = g.sel[members]
    ch.keep[idx] = good
    ch.checked[idx] = True
    return members[good]


_WORD = {8: "<u8", 4: "<u4", 2: "<u2", 1: "u1"}
_SHIFT = [np.uint64(8 * b) for b in range(8)]


def _mixed(g: RowGroup, keep: np.ndarray, em: _Emitter) -> None:
    """Several layouts or tag sets in one length group: parse layouts per record, group."""
    width = g.width
    pay = g.rows[:, 12 : 12 + width]
    cand = keep & (pay[:, 0] == 0x09)
    has_step = pay[:, 9] == 0x10
    g10 = pay[:, 10 : min(20, width)]
    cont = g10 >= 0x80
    term = np.argmin(cont, axis=1)
    ended = ~cont[np.arange(len(term)), term]
    rc_all = np.where(has_step, 11 + term, 9)
    usable = cand & (ended | ~has_step) & (rc_all + 2 <= width)
    for rc in np.unique(rc_all[usable]).tolist():
        sub = np.flatnonzero(usable & (rc_all == rc))
        vpos, ok = _layouts(pay, sub, rc, width)
        sub, vpos = sub[ok], vpos[ok]
        if len(sub) == 0:
            continue
        shapes, inv = np.unique(vpos, axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        for si, shape in enumerate(shapes.tolist()):
            vp = tuple(v for v in shape if v >= 0)
            grp = sub[inv == si]
            cols = np.ones(width, dtype=bool)
            cols[:rc] = False
            for v in vp:
                cols[v : v + 4] = False
            keys = pay[grp][:, cols]
            for members, _key in same_rows(grp, keys):
                em.emit(g, members, rc, vp)


def fast_scalars(
    ch: Chunk, fast_mask: np.ndarray, markers: list, templates: dict[tuple, Template]
) -> list[FastGroup]:
    """Decode the scalar events of every length group at once (see module doc).

    Verifies the CRCs of the chunk (`ch.keep` is final afterwards). Marks decoded records in
    `fast_mask`; `markers` gets (first record index, template) per
    group, so the reader can apply the tag-plugin rule in file order.
    """
    out: list[FastGroup] = []
    em = _Emitter(fast_mask, markers, templates, out)
    rest = []
    for g in ch.groups:
        if g.width >= 16:
            rest.append((g, _by_representative(g, ch, em)))
    ch.settle()  # CRCs of the records not decoded above
    for g, left in rest:
        left &= ch.keep[g.sel]
        if left.any():
            _mixed(g, left, em)
    return out
