"""The public data model of the events layer: what a run and its files held."""

from __future__ import annotations

import collections
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tensorboard.compat.proto import graph_pb2

from tbdiff.errors import TbdiffError


@dataclass
class ScalarSeries:
    """One scalar tag of one run, sorted by step (stable: duplicate steps keep file order)."""

    tag: str
    steps: np.ndarray  # int64
    values: np.ndarray  # float64, NaN/inf kept
    wall_times: np.ndarray  # float64
    encoding: str  # "simple_value" | "tensor" | "mixed"

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

    def note_steps(self, lo: int, hi: int) -> None:
        self.first_step = lo if self.first_step is None else min(self.first_step, lo)
        self.last_step = hi if self.last_step is None else max(self.last_step, hi)


@dataclass
class RunData:
    """Everything read from one run."""

    name: str
    path: Path
    files: list[Path]
    scalars: dict[str, ScalarSeries] = field(default_factory=dict)
    graphs: list[GraphSource] = field(default_factory=list)
    hparams: dict[str, float | str | bool] = field(default_factory=dict)
    counts: collections.Counter = field(default_factory=collections.Counter)
    warnings: list[str] = field(default_factory=list)
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
