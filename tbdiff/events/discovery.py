"""Run discovery: which directories are runs and which files are event files."""

from __future__ import annotations

import os
from pathlib import Path

from tbdiff.errors import TbdiffError
from tbdiff.events.model import Run

EVENT_FILE_MARKER = "tfevents"


def is_event_file_name(name: str) -> bool:
    """TensorBoard's rule: the base name contains "tfevents" (covers `.v2` and `.profile-empty`)."""
    return EVENT_FILE_MARKER in name


def find_runs(path: str | Path, warnings: list[str] | None = None) -> list[Run]:
    """Runs under `path`: every directory that directly holds event files, sorted by name.

    A single event file is accepted as a run of its own. Symlinked directories are not followed
    (no loops); unreadable directories are skipped (noted in `warnings`). TbdiffError when
    nothing is found.
    """
    root = Path(path)
    if not root.exists():
        raise TbdiffError(f"path does not exist: {root}")
    if root.is_file():
        return [Run(name=root.name, path=root.parent, files=[root])]
    if not root.is_dir():
        raise TbdiffError(f"not a file or directory: {root}")
    runs: list[Run] = []
    walk_errors: list[OSError] = []
    for dirpath, dirnames, filenames in os.walk(
        root, followlinks=False, onerror=walk_errors.append
    ):
        dirnames.sort()
        names = sorted(n for n in filenames if is_event_file_name(n))
        files = [Path(dirpath) / n for n in names if (Path(dirpath) / n).is_file()]
        if files:
            rel = os.path.relpath(dirpath, root)
            runs.append(Run(name=Path(rel).as_posix(), path=Path(dirpath), files=files))
    if warnings is not None:
        for err in walk_errors:
            warnings.append(f"{err.filename}: skipped, cannot list ({err.strerror or err})")
    if not runs:
        hint = f" ({len(walk_errors)} director(ies) could not be read)" if walk_errors else ""
        raise TbdiffError(f"no TensorBoard event files (events.out.tfevents.*) under {root}{hint}")
    runs.sort(key=lambda r: r.name)
    return runs
