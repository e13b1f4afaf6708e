"""Scalars and hyper-parameters as pandas DataFrames: the tables of the Python API and `export`.

The same reader as every command (`tbdiff.events`: CRC-checked, damaged records reported,
orphans of a restart purged) and the one run selector (`tbdiff.selection`). The reader already
keeps each scalar series as numpy columns (steps, values, wall times); the long table is those
columns copied once into the table's columns (each series released as it is copied), with `run`
and `tag` as pandas categoricals (codes, no Python object per row) and `value` in float32 when
every value is one (as TF writers store them), so 3M rows cost ~63 MB and no per-row Python
work.

pandas is an optional extra (`pip install 'tbdiff[pandas]'`), pyarrow too for parquet
(`'tbdiff[parquet]'`): each is imported only here, lazily, with an error that says what to
install. Problems met while reading come back as `LogWarning` records; callers show them.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from tbdiff.diagnostics import LogWarning
from tbdiff.errors import MissingDependencyError, TbdiffError
from tbdiff.events.memory import release_freed_memory

if TYPE_CHECKING:
    import pandas as pd

    from tbdiff.events import Run

COLUMNS = ("run", "tag", "step", "value", "wall_time")
_LISTED = 8  # tag names quoted in a "no such tag" message
_TRIM_BYTES = 16 << 20  # copied series' memory given back to the OS every 16 MiB


def require_pandas(what: str, *, load: bool = True):
    """The pandas module, or a MissingDependencyError saying how to install it. `load=False`
    only checks that it is installed (importing it costs ~50 MB of memory: readers import it
    once their data is read, when the reader's working memory is free again)."""
    if not load:
        if importlib.util.find_spec("pandas") is not None:
            return None
    else:
        try:
            import pandas
        except ImportError:
            pass
        else:
            return pandas
    raise MissingDependencyError(
        f"{what} needs pandas, which is not installed: pip install 'tbdiff[pandas]'"
    )


def require_pyarrow(what: str) -> None:
    """MissingDependencyError unless pyarrow (pandas' parquet engine) is installed."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise MissingDependencyError(
            f"{what} needs pyarrow, which is not installed: pip install 'tbdiff[parquet]'"
        ) from None


@dataclass
class Table:
    """A DataFrame and the problems met while reading it (callers decide how to show them)."""

    frame: pd.DataFrame
    warnings: list[LogWarning] = field(default_factory=list)


def _tag_set(tags: str | Iterable[str] | None) -> set[str] | None:
    if tags is None:
        return None
    if isinstance(tags, str):
        return {tags}
    wanted = set()
    for t in tags:
        if not isinstance(t, str):
            raise TbdiffError(f"tags: expected tag names (str), got {t!r}")
        wanted.add(t)
    return wanted


def find_selected_runs(
    path: str, run: str | None, warnings: list[LogWarning], *, flag: str = "run"
) -> list[Run]:
    """The TensorBoard runs under `path` (a folder of runs, a run, a file, an fsspec URL);
    with `run`, only that run and its parts (`tbdiff.selection.select_run`)."""
    from tbdiff import events
    from tbdiff.inputs import check_input
    from tbdiff.selection import select_run

    source = check_input(path)
    if source.is_graph:
        raise TbdiffError(f"{path}: a graph file, not event files (it holds no scalars)")
    found = events.find_runs(source.path, warnings)
    if run is None:
        return found
    return list(select_run(found, run, path=path, flag=flag).members)


def _check_tags(path: str, wanted: set[str] | None, seen: set[str]) -> None:
    if not seen:
        raise TbdiffError(f"{path}: no scalar summaries")
    if wanted is not None and not wanted & seen:
        names = sorted(seen)
        more = f" ... and {len(names) - _LISTED} more" if len(names) > _LISTED else ""
        raise TbdiffError(
            f"tags {', '.join(sorted(wanted))}: none found in {path}; tags: "
            f"{', '.join(names[:_LISTED])}{more}"
        )


def _codes(per_series: list[int], counts: np.ndarray) -> np.ndarray:
    """Categorical codes, one per row, in the smallest signed integer type that holds them."""
    top = max(per_series, default=0)
    dtype = np.int8 if top < 2**7 else np.int16 if top < 2**15 else np.int32
    return np.repeat(np.asarray(per_series, dtype=dtype), counts)


def _column(parts: list[np.ndarray]) -> np.ndarray:
    """The series' arrays end to end, each released as soon as it is copied (peak: the data
    plus one series, not plus one column). float32 values stay float32 only if all are."""
    if len(parts) == 1:
        return parts.pop()
    out = np.empty(sum(len(p) for p in parts), np.result_type(*parts) if parts else np.float64)
    at = freed = 0
    parts.reverse()
    while parts:
        part = parts.pop()
        out[at : at + len(part)] = part
        at += len(part)
        freed += part.nbytes
        del part
        if freed >= _TRIM_BYTES:  # not per series: a sweep has many small ones
            release_freed_memory()
            freed = 0
    return out


def scalar_table(
    path: str,
    tags: str | Iterable[str] | None = None,
    *,
    run: str | None = None,
    verify_crc: bool = True,
    flag: str = "run",
) -> Table:
    """Every scalar value under `path` as one long DataFrame (`COLUMNS`); see
    `tbdiff.read_scalars`. TbdiffError when no scalar (or no wanted tag) is found."""
    from tbdiff import events

    require_pandas("reading scalars into a table", load=False)
    wanted = _tag_set(tags)
    warnings: list[LogWarning] = []
    runs = find_selected_runs(path, run, warnings, flag=flag)
    names: list[str] = []
    seen: set[str] = set()
    columns: dict[str, list[np.ndarray]] = {"step": [], "value": [], "wall_time": []}
    keys: list[tuple[int, str, int]] = []  # (run index, tag, rows) of each series, in order
    for r in runs:
        rd = events.read_run(
            r, verify_crc=verify_crc, scalars=True, graphs=False, float32_values=True
        )
        warnings.extend(rd.warnings)
        seen.update(rd.scalars)
        for tag in sorted(rd.scalars):
            s = rd.scalars.pop(tag)  # the run's copy goes as soon as the column has it
            if (wanted is not None and tag not in wanted) or len(s) == 0:
                continue
            if not names or names[-1] != rd.name:
                names.append(rd.name)
            keys.append((len(names) - 1, tag, len(s)))
            columns["step"].append(s.steps)
            columns["value"].append(s.values)
            columns["wall_time"].append(s.wall_times)
        s = None  # the last series' arrays belong to the columns alone
    _check_tags(path, wanted, seen)
    if wanted is not None and wanted - seen:
        missing = ", ".join(sorted(wanted - seen))
        warnings.append(LogWarning("other", f"tag(s) not found: {missing}", path))
    # the columns are joined before pandas is imported: its ~50 MB then meet the data alone,
    # not the data plus the copy's spare pages
    numeric = {name: _column(columns.pop(name)) for name in ("step", "value", "wall_time")}
    release_freed_memory()
    pd = require_pandas("reading scalars into a table")
    tag_names = sorted({k[1] for k in keys})
    tag_code = {t: i for i, t in enumerate(tag_names)}
    counts = np.array([k[2] for k in keys], dtype=np.int64)
    data: dict[str, Any] = {
        "run": pd.Categorical.from_codes(_codes([k[0] for k in keys], counts), names),
        "tag": pd.Categorical.from_codes(_codes([tag_code[k[1]] for k in keys], counts), tag_names),
        **numeric,
    }
    frame = pd.DataFrame(data, columns=list(COLUMNS), copy=False)
    return Table(frame, warnings)


def hparam_table(path: str, *, run: str | None = None, verify_crc: bool = True) -> Table:
    """One row per TensorBoard run under `path`: `run`, then one column per hyper-parameter
    (sorted by name; missing where a run did not record it). A part of a run (Keras' `train/`,
    `validation/`) gets its run's hyper-parameters (`tbdiff.selection.group_hparams`), never a
    sibling run's, so the table joins the scalar table on `run`."""
    from tbdiff import events
    from tbdiff.selection import group_hparams, group_runs

    pd = require_pandas("reading hyper-parameters into a table")
    warnings: list[LogWarning] = []
    runs = find_selected_runs(path, run, warnings)
    read = [events.read_run(r, verify_crc=verify_crc, scalars=False, graphs=False) for r in runs]
    rows: dict[str, dict[str, Any]] = {}
    for group in group_runs(read):
        hp = group_hparams(group.members)
        for rd in group.members:
            warnings.extend(rd.warnings)
            rows[rd.name] = {**hp, "run": rd.name}
    keys = sorted({k for row in rows.values() for k in row} - {"run"})
    ordered = [rows[rd.name] for rd in read]
    frame = pd.DataFrame(ordered, columns=["run", *keys])
    return Table(frame, warnings)
