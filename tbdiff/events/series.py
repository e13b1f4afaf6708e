"""Scalar columns of one tag, and what TensorBoard calls purging orphaned data.

Values are kept in file order (the files of a run in name order, like TensorBoard). When a
job restarts from a checkpoint, its steps go back: the values the first session wrote after
the checkpoint were orphaned (the model that produced them was thrown away). TensorBoard's
EventAccumulator (`purge_orphaned_data=True`) drops them, but only on a `SessionLog.START`
event (files with `file_version` >= 2, i.e. every writer today, and only TF1's Supervisor
writes START) or, for older files, when a step is lower than the last step of *any* tag. We
do what it does, and better:

* per tag: a value whose step is lower than the tag's previous step drops the tag's earlier
  values at steps >= it (TensorBoard's out-of-order rule, without mixing tags logged at
  different rates);
* `SessionLog.START` after the first one in a run drops every tag's earlier values at steps
  >= the START's step (TensorBoard's restart rule);
* every drop is reported (`Purge`, turned into a `scalars.restart` warning when the dropped
  values and the new one are in one file, `scalars.overlap` when a later file re-writes steps
  of an earlier one).

The result has non-decreasing steps, so "sorted by step" still holds for every consumer.
Monotonic series (nearly all) are checked with one vectorised comparison and left alone.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tbdiff.diagnostics import LogWarning
from tbdiff.events.model import ScalarSeries


@dataclass(frozen=True)
class Purge:
    """Values of one tag dropped at one restart point."""

    tag: str
    new_seq: int  # record (run-wide sequence number) that showed the restart
    new_step: int
    count: int
    lo: int  # step range of the dropped values
    hi: int
    first_seq: int  # sequence numbers of the first and last dropped values
    last_seq: int
    by_session_start: bool  # a SessionLog.START record, not the tag's own step going back


class Series:
    """Growing columns for one tag; numpy blocks from the fast path, lists from the slow one."""

    __slots__ = ("blocks", "order", "steps", "values", "walls", "encodings")

    def __init__(self) -> None:
        self.blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.order: list[int] = []
        self.steps: list[int] = []
        self.values: list[float] = []
        self.walls: list[float] = []
        self.encodings: set[str] = set()

    def flush(self) -> None:
        if self.order:
            self.blocks.append(
                (
                    np.asarray(self.order, np.int64),
                    np.asarray(self.steps, np.int64),
                    _exact_float32(np.asarray(self.values, np.float64)),
                    np.asarray(self.walls, np.float64),
                )
            )
            self.order, self.steps, self.values, self.walls = [], [], [], []

    def finish(
        self, tag: str, starts: list[tuple[int, int]], *, float32_values: bool = False
    ) -> tuple[ScalarSeries, list[Purge]]:
        """The series in file order, orphans purged; `starts` = (seq, step) of restart STARTs.
        Values are float64, or float32 with `float32_values` when every one is a float32."""
        self.flush()
        order, steps, values, walls = self._columns(None if float32_values else np.float64)
        if len(order) > 1 and not (order[1:] > order[:-1]).all():
            idx = np.argsort(order, kind="stable")  # nearly sorted blocks: timsort runs
            order, steps, values, walls = order[idx], steps[idx], values[idx], walls[idx]
        enc = next(iter(self.encodings)) if len(self.encodings) == 1 else "mixed"
        purges: list[Purge] = []
        if starts or (len(steps) > 1 and (steps[1:] < steps[:-1]).any()):
            keep, purges = _purge(tag, order, steps, starts)
            order, steps, values, walls = order[keep], steps[keep], values[keep], walls[keep]
        dropped = sum(p.count for p in purges)
        return ScalarSeries(tag, steps, values, walls, enc, dropped), purges

    def _columns(self, value_dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The blocks concatenated one column at a time, each column's blocks released as soon
        as it is built (peak: the blocks plus one column, not twice the blocks). Values in
        `value_dtype`, or None: float32 if every block is (a float32 read from the file, or a
        value that is exactly one), else float64."""
        columns = [list(col) for col in zip(*self.blocks, strict=True)]
        self.blocks.clear()
        out = []
        for i, parts in enumerate(columns):
            dtype = value_dtype if i == 2 else None
            if len(parts) > 1:
                out.append(np.concatenate(parts, dtype=dtype))
            else:
                out.append(np.ascontiguousarray(parts[0], dtype=dtype))
            parts.clear()
        return out[0], out[1], out[2], out[3]


def _exact_float32(values: np.ndarray) -> np.ndarray:
    """`values` as float32 if that loses nothing (NaN and inf included), else unchanged."""
    with np.errstate(over="ignore"):
        narrow = values.astype(np.float32)
    same = (narrow == values) | (np.isnan(narrow) & np.isnan(values))
    return narrow if same.all() else values


def _purge(
    tag: str, order: np.ndarray, steps: np.ndarray, starts: list[tuple[int, int]]
) -> tuple[np.ndarray, list[Purge]]:
    """Keep mask after every restart point (steps going back, or a SessionLog.START)."""
    back = np.flatnonzero(steps[1:] < steps[:-1]) + 1
    points = [(int(i), int(steps[i]), False, int(order[i])) for i in back]
    for seq, step in starts:
        points.append((int(np.searchsorted(order, seq)), step, True, seq))
    points.sort(key=lambda p: (p[0], not p[2]))  # a START precedes the value at its position
    keep = np.ones(len(steps), dtype=bool)
    purges: list[Purge] = []
    for pos, step, by_start, seq in points:
        gone = np.flatnonzero(keep[:pos] & (steps[:pos] >= step))
        if len(gone) == 0:
            continue
        keep[gone] = False
        purges.append(
            Purge(
                tag,
                seq,
                step,
                len(gone),
                int(steps[gone].min()),
                int(steps[gone].max()),
                int(order[gone[0]]),
                int(order[gone[-1]]),
                by_start,
            )
        )
    return keep, purges


def purge_warnings(purges: list[Purge], files: list[tuple[int, str]]) -> list[LogWarning]:
    """One warning per restart point and file (tags grouped), saying what was dropped.

    `files` = (first sequence number, path) of each file of the run, in reading order.
    """
    firsts = [f[0] for f in files]

    def file_of(seq: int) -> str:
        return files[max(0, bisect.bisect_right(firsts, seq) - 1)][1]

    groups: dict[tuple, list[Purge]] = {}
    for p in purges:
        new_file = file_of(p.new_seq)
        old = tuple(dict.fromkeys((file_of(p.first_seq), file_of(p.last_seq))))
        if p.by_session_start:
            key = ("start", new_file, p.new_seq, p.new_step, old)
        elif old == (new_file,):
            key = ("restart", new_file, p.new_step, old)
        else:
            key = ("overlap", new_file, old)
        groups.setdefault(key, []).append(p)
    out = []
    for key, ps in groups.items():
        kind, new_file, old = key[0], key[1], key[-1]
        count = sum(p.count for p in ps)
        lo, hi = min(p.lo for p in ps), max(p.hi for p in ps)
        what = f"{count} earlier value(s) of {_tags(ps)} at steps {lo}..{hi} dropped"
        if kind == "start":
            msg = f"SessionLog START at step {ps[0].new_step} (a restart): {what}"
        elif kind == "restart":
            msg = f"steps went back to {ps[0].new_step} after step {hi} (a restart): {what}"
        else:
            olds = ", ".join(Path(f).name for f in old)
            msg = (
                f"re-writes steps {lo}..{hi} already written by {olds} (a restart from a "
                f"checkpoint, or runs appended in one folder): {what}"
            )
        kinds = {"start": "scalars.restart", "restart": "scalars.restart"}
        out.append(LogWarning(kinds.get(kind, "scalars.overlap"), msg, new_file))
    return out


def _tags(ps: list[Purge]) -> str:
    names = sorted({p.tag for p in ps})
    shown = ", ".join(repr(t) for t in names[:3])
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return f"{len(names)} tag(s) ({shown}{more})"
