"""One run, read and reduced to what `tbdiff runs` keeps: the per-run task of the engine.

`summarise` runs in a worker (a local process, or a Dask worker): it reads a logical run (its
parts: Keras' train/ and validation/ ...), and returns a small `RunSummary` — hyper-parameters,
per-metric final/best values and each curve over its own steps, downsampled to at most
2 * `CURVE_BUCKETS` + 2 points (`tbdiff.scalars.CurvePoints`: every step bucket's minimum and
maximum kept, as the compare page draws its runs), the model fingerprint and where the run's
graph is. Nothing of size proportional to the run's events leaves the
worker, so the parent's memory grows with the number of runs only by what is kept per run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from tbdiff.diagnostics import LogWarning
from tbdiff.multirun.fingerprint import ModelKey, model_key

if TYPE_CHECKING:
    from tbdiff.events import ScalarSeries
    from tbdiff.scalars import CurvePoints

# step buckets kept per curve (sparklines, the HTML charts): at most 2 * 60 + 2 = 122 points
CURVE_BUCKETS = 60


def higher_is_better(metric: str) -> bool:
    """A metric name (after tbdiff.scalars.parse_tag) whose goal is "max" (accuracy, reward ...:
    `tbdiff.scalars.metric_goal`, the one rule); the rest counts as lower is better."""
    from tbdiff.scalars import metric_goal

    return metric_goal(metric) == "max"


@dataclass
class Curve:
    """One scalar tag of one run: final and best values, and its curve for drawing."""

    # "part/tag" when the run has parts (validation/epoch_accuracy), else the tag; the run
    # folder's own files' tags are plain (keyed as `compare` keys them: scalars.collect)
    tag: str
    final: float
    best: float
    best_step: int
    last_step: int
    points: int  # records logged
    drawn: CurvePoints  # its own step range, first to last finite point, downsampled


Record = tuple[str, str, int]  # (part folder, event file, offset) of a graph record


@dataclass
class RunSummary:
    """What is kept of one logical run."""

    name: str  # relative to its root; prefixed with the root when several roots are given
    path: str
    root: str
    hparams: dict[str, float | str | bool] = field(default_factory=dict)  # objects: class names
    curves: dict[str, Curve] = field(default_factory=dict)
    model: ModelKey | None = None
    graph: Record | None = None  # the graph used (selection.best_graph)
    keras: tuple[Record, ...] = ()  # its Keras model config records, latest first
    warnings: list[LogWarning] = field(default_factory=list)
    readable: bool = True


@dataclass(frozen=True)
class RunTask:
    """A logical run to read: its parts (run folders) under one root."""

    name: str
    root: str
    # (part name relative to the run: "train", "." for the run folder itself; folder; files)
    parts: tuple[tuple[str, str, tuple[str, ...]], ...]
    verify_crc: bool = True
    storage_options: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()


def summarise(task: RunTask) -> RunSummary:
    """Read one logical run and reduce it (see module doc). Never raises for bad logs."""
    return summarise_many([task])[0]


def summarise_many(tasks: list[RunTask]) -> list[RunSummary]:
    """`summarise` of several runs, their small files read in shared passes
    (`events.batch.read_runs`: the per-file costs of many small runs paid once)."""
    from tbdiff import events
    from tbdiff.events import storage
    from tbdiff.events.batch import read_runs

    for task in tasks:
        for protocol, options in task.storage_options:
            storage.set_storage_options(protocol, **dict(options))
    parts = [
        events.Run(part, storage.as_path(folder), [storage.as_path(f) for f in files])
        for task in tasks
        for part, folder, files in task.parts
    ]
    data = read_runs(parts, verify_crc=all(t.verify_crc for t in tasks))  # one flag (discover)
    out, k = [], 0
    for task in tasks:
        out.append(_summary(task, data[k : k + len(task.parts)]))
        k += len(task.parts)
    return out


def _summary(task: RunTask, members: list) -> RunSummary:
    """The summary of one logical run from its parts' RunData."""
    from tbdiff.events.hparams import same_object
    from tbdiff.selection import best_graph, group_hparams, keras_records

    path = task.parts[0][1] if len(task.parts) == 1 else _common(task)
    out = RunSummary(name=task.name, path=path, root=task.root)
    for rd in members:
        out.warnings.extend(rd.warnings)
    out.readable = any(rd.readable for rd in members)
    chosen = best_graph(members)
    hparams = group_hparams(members, chosen[0] if chosen else None)
    out.hparams = {k: same_object(v) for k, v in hparams.items()}
    multi = len(members) > 1
    for (part, _folder, _files), rd in zip(task.parts, members, strict=True):
        for tag, series in rd.scalars.items():
            name = (tag if part == "." else f"{part}/{tag}") if multi else tag
            curve = _curve(name, series)
            if curve is not None:
                out.curves[name] = curve
    if chosen is not None:
        rd, source = chosen
        out.graph = (str(rd.path), source.file, source.offset)
        out.keras = tuple(
            (str(m.path), s.file, s.offset) for m in reversed(members) for s in keras_records([m])
        )
        out.model = model_key(members, source, out.warnings, str(rd.path))
    return out


def _common(task: RunTask) -> str:
    folders = [f for _p, f, _fs in task.parts]
    prefix = folders[0]
    for f in folders[1:]:
        while not f.startswith(prefix.rstrip("/") + "/") and f != prefix:
            prefix = prefix.rsplit("/", 1)[0]
    return prefix


@lru_cache(maxsize=4096)
def _higher(tag: str) -> bool:
    from tbdiff.scalars import parse_tag

    return higher_is_better(parse_tag(tag).metric)


def _curve(tag: str, series: ScalarSeries) -> Curve | None:
    from tbdiff.scalars import CurvePoints

    steps, values = series.steps, series.values
    if len(values) == 0:
        return None
    finite = np.isfinite(values)
    hi = _higher(tag)
    if finite.all():
        i = int(np.argmax(values) if hi else np.argmin(values))
    elif finite.any():
        v = np.where(finite, values, -np.inf if hi else np.inf)
        i = int(np.argmax(v) if hi else np.argmin(v))
    else:
        i = len(values) - 1
    return Curve(
        tag=tag,
        final=float(values[-1]),
        best=float(values[i]),
        best_step=int(steps[i]),
        last_step=int(steps[-1]),
        points=int(len(values)),
        drawn=CurvePoints.of_series(series, CURVE_BUCKETS),
    )
