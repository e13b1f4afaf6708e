"""What a path given on the command line is, checked once, with one message per problem.

Every command accepts the same inputs: a log directory or a single event file (read by
`tbdiff.events`), a `.pb`/`.pbtxt` GraphDef, MetaGraphDef or SavedModel file, or a SavedModel
directory (read by `tbdiff.graph`). A missing or unreadable path gets the same one-line
message whichever command met it, before any reader runs.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from tbdiff.errors import TbdiffError
from tbdiff.events.storage import RemotePath, is_url

GRAPH_FILE_SUFFIXES = (".pb", ".pbtxt", ".pbtext", ".textproto", ".prototxt")
SAVED_MODEL_FILE = "saved_model.pb"


@dataclass(frozen=True)
class Input:
    """A checked input path: `kind` is "logs" (event files) or "graph" (GraphDef/SavedModel)."""

    text: str  # as the user wrote it (used in messages)
    path: Path | RemotePath  # RemotePath for an fsspec URL (log files only)
    kind: str

    @property
    def is_graph(self) -> bool:
        return self.kind == "graph"


def _os_error(text: str, exc: OSError) -> TbdiffError:
    if isinstance(exc, FileNotFoundError):
        return TbdiffError(f"{text}: no such file or directory")
    if isinstance(exc, PermissionError):
        return TbdiffError(f"{text}: permission denied")
    return TbdiffError(f"{text}: cannot read ({exc.strerror or exc})")


def check_input(text: str) -> Input:
    """Classify `text` and make sure it can be read; TbdiffError (one line) otherwise.

    Only the path itself is checked: an unreadable file *inside* a log directory is a warning
    of the reader (partial results), not an error.
    """
    if is_url(text):
        return _check_url(text)
    path = Path(text)
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            with os.scandir(path) as it:  # listing it is what every reader does first
                names = {e.name for e in it}
            if SAVED_MODEL_FILE in names and (path / SAVED_MODEL_FILE).is_file():
                return Input(text, path, "graph")
            return Input(text, path, "logs")
        if not stat.S_ISREG(mode):
            raise TbdiffError(f"{text}: not a file or directory")
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise _os_error(text, exc) from None
    is_graph = "tfevents" not in path.name and path.suffix.lower() in GRAPH_FILE_SUFFIXES
    return Input(text, path, "graph" if is_graph else "logs")


def _check_url(text: str) -> Input:
    """An fsspec URL (s3://bucket/exp ...): log files in object storage (events.storage)."""
    remote = RemotePath.parse(text)
    try:
        found = remote.exists()
    except OSError as exc:
        raise TbdiffError(f"{text}: cannot read ({exc})") from None
    if not found:
        raise TbdiffError(f"{text}: no such file or directory")
    return Input(text, remote, "logs")


def describe_os_error(exc: OSError) -> str:
    """One line for an OSError met later (a file vanishing or losing permission mid-read)."""
    where = exc.filename if exc.filename is not None else "input"
    return str(_os_error(str(where), exc))
