"""The Python API: `read_scalars`, `read_hparams` and `compare`, for notebooks and scripts.

Each function is the matching command without the printing: the same reader, run selector,
pipeline and report (`compare` returns the `tbdiff.report.Report` the `compare` command
renders). Errors are `tbdiff.errors.TbdiffError` (or a subclass) carrying the one-line message
the command prints after `tbdiff: error: `; problems met while reading are issued as
`TbdiffWarning`s (Python's `warnings`, one per line the command prints on stderr) and kept as
`LogWarning` records (`df.attrs["warnings"]`, `report.warnings`).
"""

from __future__ import annotations

import contextlib
import warnings as pywarnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tbdiff.diagnostics import TbdiffWarning
from tbdiff.errors import TbdiffError, UsageError

if TYPE_CHECKING:
    from os import PathLike

    import pandas as pd

    from tbdiff.diagnostics import LogWarning
    from tbdiff.report import Report


@contextlib.contextmanager
def _one_line_errors() -> Iterator[None]:
    """A file vanishing or losing its permission mid-read: the CLI's one-line TbdiffError."""
    from tbdiff.inputs import describe_os_error

    try:
        yield
    except OSError as exc:
        raise TbdiffError(describe_os_error(exc)) from None


def _warn(records: Sequence[LogWarning]) -> None:
    if not records:
        return  # the renderer (rich and the report model) is imported only to show some
    from tbdiff.render import warning_lines

    for line in warning_lines(records):
        pywarnings.warn(line, TbdiffWarning, stacklevel=3)


def read_scalars(
    path: str | PathLike,
    tags: str | Iterable[str] | None = None,
    *,
    run: str | None = None,
    verify_crc: bool = True,
) -> pd.DataFrame:
    """Every scalar value under `path` as a long pandas DataFrame.

    Columns: `run` (the TensorBoard run: the folder holding the event files, relative to
    `path`, "." for `path` itself, the file name for a single file), `tag`, `step` (int64),
    `value`, `wall_time` (float64, seconds since the epoch). `value` keeps NaN and inf and is
    float32 when every value read is exactly a float32, as TF1 `simple_value` and TF2
    `tf.summary.scalar` tensors are stored (so nothing is rounded, and CSV shows `0.1`, not
    `0.10000000149011612`); float64 as soon as one value is not (a float64 tensor's 1/3).
    `run` and `tag` are pandas categoricals (compare them with strings as usual). Rows come
    by run, then tag (sorted), then in logged order: steps never go back (values orphaned by
    a restart are dropped, as TensorBoard does, with a warning).

    `path`: a folder of runs, one run's folder, an event file, or an fsspec URL
    (`s3://bucket/exp`, with `tbdiff[s3]`). `tags`: a tag name or names to keep, matched
    exactly (no globs or patterns; filter the frame for those). `run`: only this run and its
    parts (as `--run-a`: a run name, a part such as `train`, or the end of a name).
    `verify_crc=False` skips checksums (faster, less safe).

    Raises TbdiffError (one line) when the path cannot be read, holds no scalars, or holds
    none of `tags`; MissingDependencyError when pandas is not installed.
    """
    from tbdiff.frames import scalar_table

    with _one_line_errors():
        table = scalar_table(str(path), tags, run=run, verify_crc=verify_crc)
    _warn(table.warnings)
    table.frame.attrs["warnings"] = table.warnings
    return table.frame


def read_hparams(
    path: str | PathLike, *, run: str | None = None, verify_crc: bool = True
) -> pd.DataFrame:
    """Hyper-parameters as a DataFrame with one row per TensorBoard run under `path`.

    Columns: `run` (as in `read_scalars`, so the two frames join on it), then one column per
    hyper-parameter name, sorted (NaN where a run did not record it). Values come from every
    writer's hparams summaries and Lightning's hparams.yaml; the parts of one run (Keras'
    `train/`, `validation/`) each get that run's values, never a sibling run's. `path`, `run`
    and errors as for `read_scalars`.
    """
    from tbdiff.frames import hparam_table

    with _one_line_errors():
        table = hparam_table(str(path), run=run, verify_crc=verify_crc)
    _warn(table.warnings)
    table.frame.attrs["warnings"] = table.warnings
    return table.frame


def _feeds(feeds: Mapping[str, float] | Iterable[Any] | None) -> dict[str, float]:
    """`--feed NAME=VALUE`: a mapping, (name, value) pairs or "NAME=VALUE" strings."""
    from tbdiff.cli import feed_value, parse_feed

    items = feeds.items() if isinstance(feeds, Mapping) else feeds or []
    out: dict[str, float] = {}
    for item in items:
        try:
            name, value = parse_feed(item) if isinstance(item, str) else item
            out[str(name)] = feed_value(name, value)
        except ValueError as exc:
            raise UsageError(f"feeds: {exc}") from None
    return out


def _pairs(pairs: Mapping[str, str] | Iterable[Any] | None) -> list[tuple[str, str]]:
    """`--pair A_TAG=B_TAG`: a mapping, (a_tag, b_tag) pairs or "A_TAG=B_TAG" strings."""
    from tbdiff.cli import parse_pair

    items = pairs.items() if isinstance(pairs, Mapping) else pairs or []
    out = []
    for item in items:
        try:
            a, b = parse_pair(item) if isinstance(item, str) else item
        except ValueError as exc:
            raise UsageError(f"pairs: {exc}") from None
        out.append((str(a), str(b)))
    return out


def compare(
    a: str | PathLike,
    b: str | PathLike,
    *,
    run_a: str | None = None,
    run_b: str | None = None,
    graph_source: str = "auto",
    feeds: Mapping[str, float] | Iterable[Any] | None = None,
    pairs: Mapping[str, str] | Iterable[Any] | None = None,
    all_nodes: bool = False,
    graphs: bool = True,
    scalars: bool = True,
) -> Report:
    """Compare two runs, as `tbdiff compare A B`, and return the `Report`.

    Options mirror the command's flags: `run_a`/`run_b` (`--run-a/--run-b`), `graph_source`
    (`--graph-source`), `feeds` (`--feed`: {"keep_prob": 0.7} or ["keep_prob=0.7"]), `pairs`
    (`--pair`: {"train/accuracy": "epoch_accuracy"}), `all_nodes` (`--all`: list every node
    difference). `graphs=False` compares the curves only (the `scalars` command),
    `scalars=False` the graphs only (`graphs`); `report.exit_code` follows the command's rule.

    The report: `.verdict` (one sentence), `.findings` (`id`, `severity`, `title`, `detail`,
    most likely cause first), `.scalars` (the paired curves), `.to_dict()`/`.to_json()` (the
    JSON contract of `--json`), `.to_html()`; in Jupyter it shows as the HTML report, and
    `rich.print(report)` draws the terminal report. Raises TbdiffError with the one-line
    message the command prints.
    """
    from tbdiff.cli import GRAPH_SOURCES
    from tbdiff.pipeline import build_report

    if graph_source not in GRAPH_SOURCES:
        raise UsageError(f"graph_source: {graph_source!r} is not one of {', '.join(GRAPH_SOURCES)}")
    if not (graphs or scalars):
        raise UsageError("graphs=False and scalars=False: nothing to compare")
    with _one_line_errors():
        report = build_report(
            str(a),
            str(b),
            run_a=run_a,
            run_b=run_b,
            kind=graph_source,
            feeds=_feeds(feeds),
            graphs=graphs,
            scalars=scalars,
            forced_pairs=_pairs(pairs),
            list_nodes=all_nodes,
        )
    _warn(report.warnings)
    return report
