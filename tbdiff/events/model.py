"""The public data model of the events layer: what a run and its files held."""

from __future__ import annotations

import collections
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tensorboard.compat.proto import graph_pb2

from tbdiff.diagnostics import LogWarning
from tbdiff.errors import TbdiffError


@dataclass
class ScalarSeries:
    """One scalar tag of one run, in file order with orphaned values purged (series.py).

    Steps never go back: where a restart made them go back, the earlier values at the
    re-written steps were dropped (`dropped` counts them; a warning says which). Repeated
    steps that do not go back are all kept, in file order.
    """

    tag: str
    steps: np.ndarray  # int64, non-decreasing
    values: np.ndarray  # float64, NaN/inf kept
    wall_times: np.ndarray  # float64
    encoding: str  # "simple_value" | "tensor" | "mixed"
    dropped: int = 0  # values purged as orphaned by a restart or by a later file

    def __len__(self) -> int:
        return int(self.steps.shape[0])


@dataclass
class GraphSource:
    """One graph-carrying record. The payload stays serialized: decode only when needed."""

    kind: str  # "graph_def" | "meta_graph_def" | "run_metadata" | "keras_model"
    file: str
    offset: int
    step: int
    tag: str | None
    node_count: int
    function_count: int
    payload: bytes
    function_node_count: int = 0  # nodes inside library functions (completeness tie-break)

    def graph_def(self) -> graph_pb2.GraphDef:
        """The GraphDef (for keras_model there is none: TbdiffError)."""
        if self.kind == "keras_model":
            raise TbdiffError(
                f"the Keras model record in {self.file} (offset {self.offset}) has no op graph"
            )
        return graph_pb2.GraphDef.FromString(self.payload)

    def keras_config(self) -> dict:
        """The Keras model config (only for kind keras_model)."""
        if self.kind != "keras_model":
            raise TbdiffError(f"{self.kind} record in {self.file} is not a Keras model config")
        try:
            return json.loads(self.payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise TbdiffError(
                f"Keras model config in {self.file} (offset {self.offset}) is not valid JSON: {exc}"
            ) from None

    @property
    def completeness(self) -> int:
        return self.node_count + self.function_node_count


@dataclass
class Run:
    """A directory that directly holds event files (or a single event file)."""

    name: str  # relative to the path given; "." for the path itself
    path: Path
    files: list[Path]


@dataclass
class FileInfo:
    """What one event file held; powers `tbdiff inspect` and the real-log inventory test."""

    path: Path
    size: int = 0
    records: int = 0
    events: collections.Counter = field(default_factory=collections.Counter)  # Event kind -> n
    values: collections.Counter = field(default_factory=collections.Counter)  # plugin -> n
    first_step: int | None = None
    last_step: int | None = None
    truncated_at: int | None = None  # offset of an incomplete final record
    corrupt_at: list[int] = field(default_factory=list)  # offsets of damaged records
    not_event_file: bool = False
    unreadable: bool = False
    empty: bool = False  # zero bytes
    error: str | None = None  # why it could not be read (OS message), when unreadable

    def note_steps(self, lo: int, hi: int) -> None:
        self.first_step = lo if self.first_step is None else min(self.first_step, lo)
        self.last_step = hi if self.last_step is None else max(self.last_step, hi)

    @property
    def content_records(self) -> int:
        """Records that carry something (summaries, graphs ...), not just the file header."""
        return sum(n for kind, n in self.events.items() if kind not in _NOT_CONTENT)

    @property
    def readable(self) -> bool:
        """True when the file holds at least one record with something in it."""
        return self.content_records > 0

    @property
    def problem(self) -> str | None:
        """Why nothing could be read from this file, in plain words (None when readable)."""
        if self.readable:
            return None
        if self.unreadable:
            return f"cannot be read ({self.error})" if self.error else "cannot be read"
        if self.empty:
            return "empty (0 bytes)"
        if self.not_event_file:
            return "not a TensorBoard event file"
        if self.records == 0 and self.truncated_at == 0:
            return f"cut inside its first record ({self.size} bytes)"
        if self.records == 0:
            return "no valid record"
        kinds = ", ".join(sorted(self.events)) or "no event"
        cut = f", cut at offset {self.truncated_at}" if self.truncated_at is not None else ""
        return f"holds only {kinds} record(s), no summaries or graphs{cut}"

    @property
    def status(self) -> str:
        """One word for listings: unreadable, empty, not_event_file, no_content, damaged, ok."""
        if self.unreadable:
            return "unreadable"
        if self.empty:
            return "empty"
        if self.not_event_file:
            return "not_event_file"
        if not self.readable:
            return "no_content"
        if self.truncated_at is not None or self.corrupt_at:
            return "damaged"
        return "ok"


#: Event kinds that carry nothing to analyse (the file header, empty or undecodable records).
_NOT_CONTENT = frozenset({"file_version", "empty", "undecodable"})


@dataclass(frozen=True)
class HParamSource:
    """Where one hyper-parameter value was read: an event file record or Lightning's yaml."""

    source: str  # "event" | "hparams.yaml"
    path: str
    offset: int | None = None  # record offset, for source "event"


@dataclass
class RunData:
    """Everything read from one run."""

    name: str
    path: Path
    files: list[Path]
    scalars: dict[str, ScalarSeries] = field(default_factory=dict)
    graphs: list[GraphSource] = field(default_factory=list)
    hparams: dict[str, float | str | bool] = field(default_factory=dict)
    hparam_sources: dict[str, HParamSource] = field(default_factory=dict)  # same keys as hparams
    counts: collections.Counter = field(default_factory=collections.Counter)
    warnings: list[LogWarning] = field(default_factory=list)
    file_info: list[FileInfo] = field(default_factory=list)
    experiment: dict | None = (
        None  # hparams plugin experiment info: {"hparams": [...], "metrics": [...]}
    )

    def best_graph(self, kind: str = "auto") -> GraphSource | None:
        """The most complete graph record (most op + function nodes; the later one on ties).

        `kind="auto"` prefers op graphs and falls back to the Keras model config only when no
        record holds an op graph with any node; any other kind selects just that kind.
        """
        if kind not in ("auto", "graph_def", "meta_graph_def", "run_metadata", "keras_model"):
            raise TbdiffError(f"unknown graph source kind {kind!r}")
        if kind == "auto":
            ops = [g for g in self.graphs if g.kind != "keras_model" and g.completeness > 0]
            pool = ops or [g for g in self.graphs if g.kind == "keras_model"]
            if not pool:
                pool = [g for g in self.graphs if g.kind != "keras_model"]
        else:
            pool = [g for g in self.graphs if g.kind == kind]
        best: GraphSource | None = None
        for g in pool:  # file order; ">=" keeps the later record on ties
            if best is None or g.completeness >= best.completeness:
                best = g
        return best

    @property
    def events(self) -> int:
        return sum(fi.records for fi in self.file_info)

    @property
    def readable(self) -> bool:
        """True when any file of the run holds something (scalars, graphs, hparams ...)."""
        return any(fi.readable for fi in self.file_info) or bool(self.hparams)


def nothing_readable(runs: list[RunData]) -> str | None:
    """None when some run holds something to analyse; else one line saying why not.

    Files are grouped by problem: "f: empty (0 bytes)" for one file, "3 files: not a
    TensorBoard event file (first: f)" for several. The pipeline turns this into
    "side A has nothing readable: <why>" and exit code 2.
    """
    if any(r.readable for r in runs):
        return None
    by_problem: dict[str, list[Path]] = {}
    for r in runs:
        for fi in r.file_info:
            by_problem.setdefault(fi.problem or "nothing readable", []).append(fi.path)
    if not by_problem:
        return "no event files"
    parts = []
    for problem, paths in by_problem.items():
        if len(paths) == 1:
            parts.append(f"{paths[0]}: {problem}")
        else:
            parts.append(f"{len(paths)} files: {problem} (first: {paths[0]})")
    return "; ".join(parts)
