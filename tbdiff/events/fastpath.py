"""Scalar fast path: decode one-value scalar events of a whole chunk at once.

A one-value scalar event is `wall_time, step, summary{value{tag, v}}`. Events of one tag share
every byte after the step except the last 4 (the float32 value, for TF1 `simple_value` and TF2
rank-0 float tensors alike). Records are grouped by those bytes (a numpy hash, then exact
comparison); one representative per group is parsed with protobuf and *proven* to have that
layout by rewriting its last 4 bytes and parsing again (`check_template`). Steps (varints),
wall times and values of the whole group are then decoded at once. Everything else goes
through the general path in reader.py, in file order.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
from tensorboard.compat.proto import event_pb2

from tbdiff.events.framing import Chunk
from tbdiff.events.values import DECODE_ERRORS, tensor_scalar

_SENTINEL = struct.pack("<f", -1234.5)


@dataclass
class Template:
    ok: bool
    tag: str = ""
    encoding: str = ""
    meta_plugin: str | None = None  # plugin named by the value's own metadata, if it has one


def same_rows(index: np.ndarray, rows: np.ndarray) -> list[tuple[np.ndarray, bytes]]:
    """Split `index` by identical `rows` (hash, then exact comparison); (members, row bytes)."""
    if len(index) == 0:
        return []
    if (rows == rows[0]).all():
        return [(index, rows[0].tobytes())]
    k, width = rows.shape
    padded = np.zeros((k, (width + 7) // 8 * 8), dtype=np.uint8)
    padded[:, :width] = rows
    words = padded.view("<u8")
    h = words[:, 0].copy()
    for j in range(1, words.shape[1]):
        h = h * np.uint64(0x100000001B3) ^ words[:, j]
    _, first, inv = np.unique(h, return_index=True, return_inverse=True)
    inv = inv.reshape(-1)
    exact = (rows == rows[first[inv]]).all(axis=1)
    out = []
    for gi, fi in enumerate(first.tolist()):
        members = index[(inv == gi) & exact]
        if len(members):
            out.append((members, rows[fi].tobytes()))
    return out  # rows that collided with another group's hash stay unmatched -> general path


def value_columns(pay: np.ndarray, sub: np.ndarray, rc: int, width: int):
    """Where the 4 value bytes sit in each one-value summary starting at column `rc`.

    Wire layout: 2a L 0a L 0a Ltag <tag> then 15 <f32> (simple_value) or 42 Lt <tensor> whose
    last 4 bytes are a float32 (dtype, empty shape, then float_val or tensor_content), possibly
    followed by metadata (TF 2.x writes it on every event). Only 1-byte lengths take the fast
    path; the template check proves the layout of each group anyway.
    """
    b = pay[sub]
    ok = (b[:, rc] == 0x2A) & (b[:, rc + 1] < 0x80) & (b[:, rc + 2] == 0x0A)
    ok &= (b[:, rc + 3] < 0x80) & (b[:, rc + 4] == 0x0A) & (b[:, rc + 5] < 0x80)
    c3 = rc + 6 + b[:, rc + 5].astype(np.int64)
    ok &= c3 + 5 <= width
    rows = np.arange(len(sub))
    c3c = np.minimum(c3, width - 2)
    t = b[rows, c3c]
    ln = b[rows, c3c + 1].astype(np.int64)
    simple = t == 0x15
    tensor = (t == 0x42) & (ln < 0x80) & (ln >= 4)
    vpos = np.where(simple, c3 + 1, c3 + 2 + ln - 4)
    ok &= (simple | tensor) & (vpos + 4 <= width)
    return vpos, ok


def check_template(payload: bytes, vpos: int) -> Template:
    """Prove that `payload` is a one-value scalar event whose value is payload[vpos:vpos+4].

    The value bytes are overwritten with a sentinel and the event parsed again: everything must
    be unchanged except the value, which must read back as the sentinel.
    """
    try:
        ev = event_pb2.Event.FromString(payload)
        alt = event_pb2.Event.FromString(payload[:vpos] + _SENTINEL + payload[vpos + 4 :])
    except DECODE_ERRORS:
        return Template(False)
    if {f.name for f, _ in ev.ListFields()} - {"wall_time", "step", "summary"}:
        return Template(False)
    if len(ev.summary.value) != 1 or len(alt.summary.value) != 1:
        return Template(False)
    v, a = ev.summary.value[0], alt.summary.value[0]
    if (
        v.tag != a.tag
        or ev.step != alt.step
        or ev.wall_time != alt.wall_time
        or v.metadata != a.metadata
    ):
        return Template(False)
    meta = v.metadata.plugin_data.plugin_name if v.HasField("metadata") else None
    sentinel = struct.unpack("<f", _SENTINEL)[0]
    kind = v.WhichOneof("value")
    if kind == "simple_value":
        if a.WhichOneof("value") == "simple_value" and a.simple_value == sentinel:
            return Template(True, v.tag, "simple_value", meta)
        return Template(False)
    if kind == "tensor" and v.tensor.dtype == 1:
        x, y = tensor_scalar(v.tensor), tensor_scalar(a.tensor)
        if x is not None and y == sentinel and a.WhichOneof("value") == "tensor":
            return Template(True, v.tag, "tensor", meta)
    return Template(False)


def fast_scalars(
    ch: Chunk, fast_mask: np.ndarray, markers: list, templates: dict[tuple[int, bytes], Template]
) -> list:
    """Decode one-value scalar events of every length group at once (see module doc)."""
    out: list = []
    shifts = (7 * np.arange(10, dtype=np.uint64))[None, :]
    cols = np.arange(10)[None, :]
    for width, sel, rows in ch.groups:
        if width < 16:
            continue
        keep = ch.keep[sel]
        pay = rows[:, 12 : 12 + width]
        c = keep & (pay[:, 0] == 0x09)
        if not c.any():
            continue
        if not c.all():
            sel, rows = sel[c], rows[c]
            pay = rows[:, 12 : 12 + width]
        has_step = pay[:, 9] == 0x10
        g = rows[:, 22:32]  # may run into the CRC trailer: a varint must end inside (checked)
        cont = g >= 0x80
        term = np.argmin(cont, axis=1)
        valid = ~cont[np.arange(len(term)), term]
        step = (
            (((g & 0x7F).astype(np.uint64) << shifts) * (cols <= term[:, None]))
            .sum(axis=1, dtype=np.uint64)
            .view(np.int64)
        )
        step = np.where(has_step, step, 0)
        restcol = np.where(has_step, 11 + term, 9)
        usable = (valid | ~has_step) & (restcol + 8 <= width)
        for rc in np.unique(restcol[usable]).tolist():
            sub = np.flatnonzero(usable & (restcol == rc))
            vpos, ok = value_columns(pay, sub, rc, width)
            sub, vpos = sub[ok], vpos[ok]
            for vp in np.unique(vpos).tolist():
                grp = sub[vpos == vp]
                keys = np.concatenate([pay[grp, rc:vp], pay[grp, vp + 4 : width]], axis=1)
                for members, key in same_rows(grp, keys):
                    tkey = (vp - rc, key)
                    tpl = templates.get(tkey)
                    if tpl is None:
                        tpl = check_template(pay[members[0]].tobytes(), vp)
                        templates[tkey] = tpl
                    if not tpl.ok:
                        continue
                    idx = sel[members]
                    fast_mask[idx] = True
                    markers.append((int(idx[0]), tpl))
                    walls = np.ascontiguousarray(pay[members, 1:9]).view("<f8")[:, 0]
                    vals = np.ascontiguousarray(pay[members, vp : vp + 4]).view("<f4")[:, 0]
                    out.append((tpl, idx, step[members], walls, vals.astype(np.float64)))
    return out
