#!/usr/bin/env python
"""Benchmark `tbdiff runs` on a synthetic sweep next to TensorBoard's Rust data server.

    python scripts/bench_runs.py [--runs 1000] [--steps 1000] [--repeat 3] [--out bench_out]

Generates (cached) a sweep with scripts/make_sweep.py: N runs in Keras' layout, each a Keras
model config record, hparams and 4 scalar tags x S steps, 3 distinct models (+ the planted one),
written with TensorBoard's own writer. Then, side by side in one run, each as a whole process:
the Rust data server loading the folder once (bench_events.rust_server: --checksum, all
scalars kept, to "Finished load cycle") and `tbdiff runs DIR --json` (read, group, analyse;
CRCs verified; default local process pool; Python bytecode cached as installed, see
`python_env`). Peak RSS of tbdiff's parent process and of its
largest worker are given for the first 250, 500 and all runs (hard-linked subsets), to show
that memory does not grow with the number of runs beyond the values kept. The machine is
shared: each size is measured `--repeat` times, the Rust server and tbdiff alternated, and
medians are shown (the load average is printed before and after).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from statistics import median

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
from bench_events import rust_server  # noqa: E402

_TBDIFF = r"""
import json, resource, sys, time
from tbdiff.cli import main
t0 = time.perf_counter()
import io, contextlib
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    code = main(["runs", sys.argv[1], "--json"])
doc = json.loads(buf.getvalue())
me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps(dict(code=code, runs=len(doc["runs"]), groups=len(doc["groups"]),
                      outliers=len(doc["outliers"]), parent_mb=me, worker_mb=kids)))
"""


def python_env(pycache: Path) -> dict[str, str]:
    """The environment tbdiff runs in: modules' bytecode cached as an installed package has it
    (pip compiles it at install). Where PYTHONDONTWRITEBYTECODE is set and the interpreter's
    site-packages hold no bytecode (this machine), every process would compile networkx and
    tbdiff from source (~2 s); a private PYTHONPYCACHEPREFIX, warmed once, gives installed
    behaviour without writing into the interpreter's environment."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return dict(env, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPYCACHEPREFIX=str(pycache))


def warm_bytecode(env: dict[str, str]) -> None:
    code = "import tbdiff.cli, tbdiff.app, tbdiff.multirun, tbdiff.multirun.render, tbdiff.findings"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, env=env)


def tbdiff_runs(folder: Path, env: dict[str, str]) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _TBDIFF, str(folder)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
    )
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:]}
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return dict(res, seconds=seconds, cpu=cpu)


def subset(src: Path, n: int) -> Path:
    dest = src.parent / f"{src.name}_first{n}"
    if not dest.exists():
        tmp = dest.with_suffix(".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        for run in sorted(p for p in src.iterdir() if p.is_dir())[:n]:
            shutil.copytree(run, tmp / run.name, copy_function=os.link)
        tmp.replace(dest)
    return dest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=REPO / "bench_out")
    ap.add_argument("--repeat", type=int, default=3, help="alternated runs per size (medians)")
    args = ap.parse_args(argv)
    sweep = args.out / f"sweep_{args.runs}x{args.steps}"
    if not (sweep / "sweep.json").exists():
        print(f"generating {sweep} ...", flush=True)
        t0 = time.perf_counter()
        cmd = [sys.executable, str(REPO / "scripts/make_sweep.py"), str(sweep)]
        cmd += ["--runs", str(args.runs), "--steps", str(args.steps), "--outlier"]
        subprocess.run(cmd, check=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
        print(f"  {time.perf_counter() - t0:.0f} s", flush=True)
    sizes = sorted({n for n in (args.runs // 4, args.runs // 2) if n > 0} | {args.runs})
    env = python_env(args.out / "pycache")
    warm_bytecode(env)
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    rows = []
    for n in sizes:
        folder = sweep if n == args.runs else subset(sweep, n)
        pairs = []
        for _ in range(args.repeat):  # alternated, so both see the same machine load
            rust = rust_server(folder)
            ours = tbdiff_runs(folder, env)
            pairs.append((rust, ours))
            print(n, json.dumps(rust), json.dumps(ours), flush=True)
        rows.append((n, pairs))
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print()
    print(
        f"tbdiff runs vs Rust data server, sweep of {args.runs} runs x 4 tags x {args.steps} steps"
        f" (medians of {args.repeat} alternated runs; ratios: median of the pairs' ratios)"
    )
    head = f"{'runs':>5} {'rust s':>7} {'cpu':>6} {'RSS MB':>7} | {'tbdiff s':>8} {'cpu':>6} {'x rust':>7} {'cpu x':>6} {'parent MB':>9} {'worker MB':>9}  groups outliers"
    print(head)
    print("-" * len(head))
    for n, pairs in rows:
        bad = [p for p in pairs if "error" in p[0] or "error" in p[1]]
        if bad:
            print(n, bad[0][0].get("error"), bad[0][1].get("error"))
            continue
        rust = {k: median([p[0][k] for p in pairs]) for k in ("seconds", "cpu", "rss_mb")}
        ours = {k: median([p[1][k] for p in pairs]) for k in ("seconds", "cpu")}
        ours.update({k: max(p[1][k] for p in pairs) for k in ("parent_mb", "worker_mb")})
        wall = median([p[1]["seconds"] / p[0]["seconds"] for p in pairs])
        cpu = median([p[1]["cpu"] / p[0]["cpu"] for p in pairs])
        last = pairs[-1][1]
        print(
            f"{n:5} {rust['seconds']:7.2f} {rust['cpu']:6.2f} {rust['rss_mb']:7.0f} | "
            f"{ours['seconds']:8.2f} {ours['cpu']:6.2f} {wall:6.2f}x "
            f"{cpu:5.2f}x {ours['parent_mb']:9.0f} {ours['worker_mb']:9.0f}"
            f"  {last['groups']} {last['outliers']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
