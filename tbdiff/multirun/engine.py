"""Which runs there are under the roots, and reading them in parallel.

Discovery is one listing per root (local walk or one object-storage listing); runs are
TensorBoard's run folders grouped into logical runs by the one run selector
(`tbdiff.selection.group_runs`: Keras' train/ and validation/ are one run). Each logical run
is one task (`summary.summarise`), mapped over:

* a local process pool (default; `jobs` processes, serial for a handful of runs), in batches
  of up to _BATCH runs (`summary.summarise_many`: their small files read in shared passes), or
* an existing Dask cluster (`dask_address`, dask.distributed's Client.map/gather): the
  scheduler places the tasks; workers need tbdiff (and s3fs/gcsfs for URLs) installed.

Results come back in task order; only the small summaries travel.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator, Sequence

from tbdiff.diagnostics import LogWarning
from tbdiff.errors import TbdiffError
from tbdiff.multirun.summary import RunSummary, RunTask, summarise, summarise_many

_SERIAL_BELOW = 4  # fewer runs than this are read in this process (no pool start-up)
_MODEL_LAYER = "tbdiff.findings"  # what fingerprint.model_key imports
_BATCH = 16  # runs per pool task: their small files are read in shared passes


def discover(
    roots: Sequence[str], *, verify_crc: bool = True, warnings: list[LogWarning] | None = None
) -> list[RunTask]:
    """One task per logical run under the roots. TbdiffError when a root holds no run."""
    from tbdiff import events
    from tbdiff.events import storage
    from tbdiff.selection import group_runs

    options = tuple(
        (proto, tuple(sorted((k, v) for k, v in opts.items() if isinstance(v, str))))
        for proto, opts in storage._OPTIONS.items()
    )
    labels = _root_labels(roots)
    tasks: list[RunTask] = []
    for root, label in zip(roots, labels, strict=True):
        found = events.find_runs(storage.as_path(root), warnings)
        for group in group_runs(found):
            name = group.name if len(roots) == 1 else f"{label}/{group.name}".rstrip("/.")
            parts = tuple(
                (group.relative(rd), str(rd.path), tuple(str(f) for f in rd.files))
                for rd in group.members
            )
            tasks.append(RunTask(name or label, str(root), parts, verify_crc, options))
    return tasks


def _root_labels(roots: Sequence[str]) -> list[str]:
    names = [str(r).rstrip("/").rsplit("/", 1)[-1] or str(r) for r in roots]
    if len(set(names)) == len(names):
        return names
    return [str(r).rstrip("/") for r in roots]


def read_all(
    tasks: Sequence[RunTask],
    *,
    jobs: int | None = None,
    dask_address: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[RunSummary]:
    """Summaries of every task, in order (see module doc)."""
    if dask_address:
        return _dask(tasks, dask_address, progress)
    jobs = jobs or os.cpu_count() or 1
    if jobs <= 1 or len(tasks) < _SERIAL_BELOW:
        results = map(summarise, tasks)
    else:
        results = _pool(tasks, jobs)
    out = []
    for i, r in enumerate(results, 1):
        out.append(r)
        if progress is not None:
            progress(i, len(tasks))
    return out


def _pool(tasks: Sequence[RunTask], jobs: int) -> Iterator[RunSummary]:
    """Worker processes by fork (cheapest) for local logs; by forkserver when any run is in
    object storage (fsspec's async filesystems are not fork-safe once used in the parent)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from tbdiff.events.storage import is_url

    remote = any(is_url(folder) for t in tasks for _p, folder, _f in t.parts)
    ctx = multiprocessing.get_context("forkserver" if remote else "fork")
    # the model layer (networkx, front-ends, detectors) that model keys need, imported once
    # before the workers start instead of once in each of them
    if remote:
        ctx.set_forkserver_preload([_MODEL_LAYER])
    else:
        importlib.import_module(_MODEL_LAYER)
    size = max(1, min(_BATCH, len(tasks) // (jobs * 4)))
    batches = [list(tasks[i : i + size]) for i in range(0, len(tasks), size)]
    with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=ctx) as pool:
        for done in pool.map(summarise_many, batches):
            yield from done


def _dask(
    tasks: Sequence[RunTask], address: str, progress: Callable[[int, int], None] | None
) -> list[RunSummary]:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise TbdiffError("--dask needs dask.distributed (pip install 'tbdiff[dask]')") from None
    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise TbdiffError(f"cannot connect to the Dask scheduler at {address}: {exc}") from None
    try:
        futures = client.map(summarise, list(tasks), pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        out: list[RunSummary | None] = [None] * len(tasks)
        for done, fut in enumerate(as_completed(futures), 1):
            out[index[fut.key]] = fut.result()
            if progress is not None:
                progress(done, len(tasks))
        return [r for r in out if r is not None]
    finally:
        client.close()
