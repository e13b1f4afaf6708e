"""Inventory: the data behind `tbdiff inspect`, one JSON-ready dict (schema tbdiff.inspect/1)."""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np

from tbdiff.diagnostics import LogWarning, group_warnings
from tbdiff.events.model import FileInfo, GraphSource, RunData, nothing_readable

INSPECT_SCHEMA = "tbdiff.inspect/1"


def _json_float(x: float) -> float | str:
    """JSON has no NaN/inf: keep them readable as strings."""
    x = float(x)
    return x if np.isfinite(x) else str(x)


def _file(fi: FileInfo) -> dict:
    return {
        "path": str(fi.path),
        "size": fi.size,
        "records": fi.records,
        "events": dict(sorted(fi.events.items())),
        "values": dict(sorted(fi.values.items())),
        "first_step": fi.first_step,
        "last_step": fi.last_step,
        "truncated_at": fi.truncated_at,
        "corrupt_at": list(fi.corrupt_at),
        "status": fi.status,  # ok | damaged | no_content | empty | not_event_file | unreadable
        "problem": fi.problem,  # why nothing could be read, or None
    }


def _graph(g: GraphSource, best: GraphSource | None) -> dict:
    return {
        "kind": g.kind,
        "tag": g.tag,
        "step": g.step,
        "nodes": g.node_count,  # top-level nodes as recorded: function bodies not inlined
        "nodes_inlined": False,  # label: `nodes` does not count inlined function bodies
        "functions": g.function_count,
        "function_nodes": g.function_node_count,  # nodes inside library functions, once each
        "file": g.file,
        "offset": g.offset,
        "best": g is best,
    }


def _run(rd: RunData) -> dict:
    best = rd.best_graph()
    return {
        "name": rd.name,
        "path": str(rd.path),
        "files": [_file(fi) for fi in rd.file_info],
        "file_status": dict(sorted(collections.Counter(fi.status for fi in rd.file_info).items())),
        "readable": rd.readable,
        "counts": dict(sorted(rd.counts.items())),
        "scalars": [
            {
                "tag": s.tag,
                "steps": len(s),
                "first_step": int(s.steps[0]) if len(s) else None,
                "last_step": int(s.steps[-1]) if len(s) else None,
                "last_value": _json_float(s.values[-1]) if len(s) else None,
                "encoding": s.encoding,
            }
            for s in rd.scalars.values()
        ],
        "graphs": [_graph(g, best) for g in rd.graphs],
        "hparams": {
            k: _json_float(v) if isinstance(v, float) else v for k, v in rd.hparams.items()
        },
        "hparam_sources": {
            k: {"source": src.source, "path": src.path, "offset": src.offset}
            for k, src in rd.hparam_sources.items()
        },
        "experiment": rd.experiment,
        "warnings": [str(w) for w in rd.warnings],
        "warning_records": [w.to_dict() for w in rd.warnings],
    }


def warning_groups(warnings: list[LogWarning]) -> list[dict]:
    """Warnings with the same kind and message as one entry each (`count`, up to 5 `paths`)."""
    return [
        {"kind": g.kind, "message": g.message, "count": len(g.records), "paths": g.paths[:5]}
        for g in group_warnings(warnings)
    ]


def inventory(path: str | Path, runs: list[RunData]) -> dict:
    """One JSON-serialisable dict describing every run (schema `tbdiff.inspect/1`).

    Warnings come three ways: `warnings` (one display line each, "path: message"),
    `warning_records` (kind, path, offset, message) and `warning_groups` (identical kind and
    message counted once, for summarising thousands of empty files).
    """
    records = [w for rd in runs for w in rd.warnings]
    return {
        "schema": INSPECT_SCHEMA,
        "path": str(path),
        "runs": [_run(rd) for rd in runs],
        "nothing_readable": nothing_readable(runs),
        "warnings": [str(w) for w in records],
        "warning_records": [w.to_dict() for w in records],
        "warning_groups": warning_groups(records),
    }
