"""`tbdiff runs`: many runs at once — sweeps, seeds, object storage, a Dask cluster.

    engine.py       which logical runs are under the roots; reading them in parallel (local
                    process pool, or `--dask ADDRESS`: dask.distributed on an existing cluster)
    summary.py      the per-run task: read a run, keep hparams, final/best metrics, a short curve
    fingerprint.py  the model key runs are grouped by (Keras config or the detectors' facts)
    analysis.py     groups, varying hparams, seed-noise floor, outliers, hparam effects,
                    findings vs the baseline; the `tbdiff.runs/1` JSON
    render.py       text (rich) and the self-contained HTML page

Memory: workers return small summaries (at most 2 * CURVE_BUCKETS + 2 points per curve), so the
parent grows with the number of runs only by what is kept per run; graphs are re-read only for
the few runs compared (group representatives, outliers).
"""

from __future__ import annotations

from tbdiff.multirun.analysis import SCHEMA, RunsReport, analyse, to_json
from tbdiff.multirun.engine import discover, read_all

__all__ = ["SCHEMA", "RunsReport", "analyse", "discover", "read_all", "to_json"]
