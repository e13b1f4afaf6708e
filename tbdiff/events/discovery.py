"""Run discovery: which directories are runs and which files are event files."""

from __future__ import annotations

import os
from pathlib import Path

from tbdiff.diagnostics import LogWarning
from tbdiff.errors import TbdiffError
from tbdiff.events.framing import sniff_file
from tbdiff.events.model import Run
from tbdiff.events.storage import RemotePath, is_url

EVENT_FILE_MARKER = "tfevents"


def is_event_file_name(name: str) -> bool:
    """TensorBoard's rule: the base name contains "tfevents" (covers `.v2` and `.profile-empty`)."""
    return EVENT_FILE_MARKER in name


_NOT_EVENT_WHY = {
    "empty": "an empty file, not a TensorBoard event file",
    "not_event": "not a TensorBoard event file",
    "cut": "not a TensorBoard event file (too short for one record)",
    "unreadable": "cannot be read",
}


def find_runs(path: str | Path | RemotePath, warnings: list[LogWarning] | None = None) -> list[Run]:
    """Runs under `path`: every directory that directly holds event files, sorted by name.

    A single file is a run of its own when it is named like an event file, or when its content
    starts with a valid record header (an event file renamed); any other file is a TbdiffError
    (a zero-byte `projector_config.pbtxt` is not an event file). Symlinked directories are not
    followed (no loops); unreadable directories are skipped (noted in `warnings`). TbdiffError
    when nothing is found.
    """
    if is_url(path) or isinstance(path, RemotePath):
        return find_remote_runs(path if isinstance(path, RemotePath) else RemotePath.parse(path))
    root = Path(path)
    if not root.exists():
        raise TbdiffError(f"path does not exist: {root}")
    if root.is_file():
        if not is_event_file_name(root.name):
            kind = sniff_file(root)
            if kind != "event":
                raise TbdiffError(f"{root}: {_NOT_EVENT_WHY.get(kind, 'not an event file')}")
        return [Run(name=root.name, path=root.parent, files=[root])]
    if not root.is_dir():
        raise TbdiffError(f"not a file or directory: {root}")
    runs: list[Run] = []
    walk_errors: list[OSError] = []
    top = str(root)
    for dirpath, folder, files in _walk(top, walk_errors):
        if files:
            rel = dirpath[len(top) :].lstrip(os.sep) or "."  # dirpath is top or below it
            runs.append(Run(name=rel.replace(os.sep, "/"), path=folder, files=files))
    if warnings is not None:
        for err in walk_errors:
            why = f"skipped, cannot list ({err.strerror or err})"
            warnings.append(LogWarning("io.unreadable", why, str(err.filename)))
    if not runs:
        hint = f" ({len(walk_errors)} director(ies) could not be read)" if walk_errors else ""
        raise TbdiffError(f"no TensorBoard event files (events.out.tfevents.*) under {root}{hint}")
    runs.sort(key=lambda r: r.name)
    return runs


def _walk(top: str, errors: list[OSError]):
    """(folder, as a Path, its regular event files sorted by name) for every folder under `top`.

    os.scandir's entry types come with the listing (no stat per file, unlike Path.is_file);
    symlinked folders are not entered (no loops); listing errors are collected.
    """
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as exc:
            errors.append(exc)
            continue
        files, subdirs = [], []
        for e in entries:
            try:
                if e.is_dir(follow_symlinks=False):
                    subdirs.append(e.path)
                elif is_event_file_name(e.name) and e.is_file():
                    files.append(e.name)
            except OSError:
                continue
        base = Path(folder)
        yield folder, base, [base / n for n in sorted(files)]
        stack.extend(sorted(subdirs, reverse=True))


def find_remote_runs(root: RemotePath) -> list[Run]:
    """`find_runs` for object storage: one listing of the prefix, files grouped by folder.

    Storage has no real folders (a prefix is one), so there are no unreadable directories or
    symlinks to care about; a listing error is a TbdiffError naming the URL.
    """
    try:
        if root.is_file():
            if not is_event_file_name(root.name) and sniff_file(root) != "event":
                raise TbdiffError(f"{root}: not a TensorBoard event file")
            return [Run(name=root.name, path=root.parent, files=[root])]
        listing = root.find_files()
    except OSError as exc:
        raise TbdiffError(f"cannot list {root}: {exc}") from None
    by_dir: dict[str, list[str]] = {}
    for key in listing:
        folder, _, name = key.rpartition("/")
        if is_event_file_name(name):
            by_dir.setdefault(folder, []).append(key)
    if not by_dir:
        raise TbdiffError(f"no TensorBoard event files (events.out.tfevents.*) under {root}")
    runs = []
    for folder, keys in by_dir.items():
        rel = folder[len(root.key) :].strip("/") or "."
        files = [
            RemotePath(root.protocol, k) for k in sorted(keys, key=lambda k: k.rpartition("/")[2])
        ]
        runs.append(Run(name=rel, path=RemotePath(root.protocol, folder), files=files))
    runs.sort(key=lambda r: r.name)
    return runs
