"""Warnings as records: what went wrong, where, and how bad — formatted only by renderers.

Readers (events, graph loading, scalars) never build display strings for problems: they append
`LogWarning` records. Renderers decide how to show them (one stderr line each, a JSON object,
an HTML list), and code that needs to know *what* happened tests `kind`, never the message text.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

#: Known kinds. A new reader may add kinds; keep them short, lower-case, dotted by area.
KINDS = (
    "io.unreadable",  # a file or directory could not be opened or listed
    "io.empty",  # a zero-byte event file
    "io.not_event_file",  # a file named like an event file whose content is not TFRecord
    "record.truncated",  # the file ends inside a record (still being written, or cut)
    "record.corrupt",  # a CRC or length check failed; reading resumed after it
    "record.suppressed",  # further warnings for this file were suppressed
    "event.undecodable",  # a record whose payload is not an Event
    "value.skipped",  # a summary value that could not be used (e.g. a scalar that is not rank 0)
    "scalars.restart",  # steps went back (a restart): orphaned values were purged
    "scalars.overlap",  # several files wrote the same steps of a tag
    "scalars.compare",  # a side without scalars, a pair of curves without common steps
    "graph.load",  # a graph record could not be decoded or inlined fully
    "graph.missing",  # a side has no graph to compare
    "run.selection",  # how a run was chosen among several
    "input.same_path",  # A and B name the same run
    "hparams",  # hyper-parameters that could not be read
    "other",
)


@dataclass(frozen=True)
class LogWarning:
    """One problem met while reading: `message` is plain words without the path."""

    kind: str
    message: str
    path: str | None = None
    offset: int | None = None

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "path": self.path,
            "offset": self.offset,
            "message": self.message,
        }


#: Kinds whose messages differ from file to file (offsets, steps, file names) but mean one
#: thing when many files of one folder have them: the verb phrase that sums them up after
#: "N files" (`group_warnings(by_folder=True)`; the records keep every detail).
FOLDER_SUMMARIES = {
    "scalars.overlap": "re-write steps that earlier files of their run wrote (restarts from a "
    "checkpoint, or runs appended in one folder); the earlier values were dropped",
    "scalars.restart": "went back in steps (restarts); the orphaned earlier values were dropped",
    "record.truncated": "end inside a record (cut, or still being written)",
    "record.corrupt": "have damaged records (a CRC or length check failed; reading resumed "
    "after each)",
}


@dataclass
class WarningGroup:
    """Warnings with the same kind and message (e.g. 5,000 empty files), in first-seen order;
    or, with `folder`, warnings of one FOLDER_SUMMARIES kind in one folder (`message` is then
    the summary phrase)."""

    kind: str
    message: str
    records: list[LogWarning] = field(default_factory=list)
    folder: str | None = None

    @property
    def paths(self) -> list[str]:
        return [w.path for w in self.records if w.path is not None]


def group_warnings(records: Iterable[LogWarning], *, by_folder: bool = False) -> list[WarningGroup]:
    """One group per (kind, message), in the order each was first met; with `by_folder`, the
    kinds of FOLDER_SUMMARIES are grouped per (kind, folder) under their summary phrase."""
    groups: dict[tuple[str, str, str | None], WarningGroup] = {}
    for w in records:
        summary = FOLDER_SUMMARIES.get(w.kind) if by_folder and w.path else None
        folder = posixpath.dirname(w.path.replace("\\", "/")) if summary and w.path else None
        key = (w.kind, summary or w.message, folder)
        if key not in groups:
            groups[key] = WarningGroup(w.kind, summary or w.message, folder=folder)
        groups[key].records.append(w)
    return list(groups.values())


class TbdiffWarning(UserWarning):
    """A LogWarning shown through Python's `warnings` by the Python API (one per stderr line
    the command would print)."""
