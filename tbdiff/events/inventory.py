"""Inventory: the data behind `tbdiff inspect`, one JSON-ready dict (schema tbdiff.inspect/1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tbdiff.events.model import RunData

INSPECT_SCHEMA = "tbdiff.inspect/1"


def _json_float(x: float) -> float | str:
    """JSON has no NaN/inf: keep them readable as strings."""
    x = float(x)
    return x if np.isfinite(x) else str(x)


def inventory(path: str | Path, runs: list[RunData]) -> dict:
    """One JSON-serialisable dict describing every run (schema `tbdiff.inspect/1`)."""
    out_runs = []
    for rd in runs:
        best = rd.best_graph()
        out_runs.append(
            {
                "name": rd.name,
                "path": str(rd.path),
                "files": [
                    {
                        "path": str(fi.path),
                        "size": fi.size,
                        "records": fi.records,
                        "events": dict(sorted(fi.events.items())),
                        "values": dict(sorted(fi.values.items())),
                        "first_step": fi.first_step,
                        "last_step": fi.last_step,
                        "truncated_at": fi.truncated_at,
                        "corrupt_at": list(fi.corrupt_at),
                    }
                    for fi in rd.file_info
                ],
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
                "graphs": [
                    {
                        "kind": g.kind,
                        "tag": g.tag,
                        "step": g.step,
                        "nodes": g.node_count,
                        "functions": g.function_count,
                        "function_nodes": g.function_node_count,
                        "file": g.file,
                        "offset": g.offset,
                        "best": g is best,
                    }
                    for g in rd.graphs
                ],
                "hparams": {
                    k: _json_float(v) if isinstance(v, float) else v for k, v in rd.hparams.items()
                },
                "experiment": rd.experiment,
                "warnings": list(rd.warnings),
            }
        )
    return {
        "schema": INSPECT_SCHEMA,
        "path": str(path),
        "runs": out_runs,
        "warnings": [w for rd in runs for w in rd.warnings],
    }
