#!/usr/bin/env python
"""Benchmark `tbdiff.read_scalars` against tbparse's `SummaryReader`, side by side in one run.

Reads the 3M-value TF1 (`simple_value`) and TF2 (rank-0 tensor) files that
scripts/bench_events.py generates (cached under bench_out/), each tool in its own process
(bench_events.run_tool), the tools interleaved so all meet the same machine load, and prints
the ratios against the targets of issue 12: read_scalars at least 20x faster than tbparse at no
more than a tenth of its peak RSS. Both tools return a long pandas DataFrame of every value:
tbparse's `SummaryReader(path, pivot=False)` gives TF1 scalars in `.scalars` and TF2 scalar
tensors in `.tensors` (both are read); read_scalars gives run, tag, step, value and wall_time,
CRCs verified.

read_scalars is measured as a script uses it (`import tbdiff`, then the call, which imports
pandas itself once the data is read: its seconds and memory are charged to the read), twice:
with pandas alone, as `pip install 'tbdiff[pandas]'` installs it (pyarrow's import is blocked
in that process), and with pyarrow as well (the dev environment; `tbdiff[parquet]`), since
pandas 3 imports pyarrow whenever it is installed (+35 MB).

    nice python scripts/bench_api.py                  # 3,000,000 values per file
    nice python scripts/bench_api.py --events 300000 --repeat 3

Seconds are the whole process (spawn to exit, imports included: tbparse imports TensorFlow
when it is installed, as it is in the dev environment), the read alone (in-process, after
`import tbdiff` / `import tbparse`) and the read's CPU seconds (steadier than wall time on a
shared machine); peak RSS is the process's maximum resident set (getrusage). The targets are
checked on the read's seconds and the peak RSS.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_events  # noqa: E402

OURS = ("read_scalars-nopyarrow", "read_scalars")  # labels: LABELS
TOOLS = (*OURS, "tbparse")
LABELS = {"read_scalars-nopyarrow": "pandas", "read_scalars": "+pyarrow"}
TARGET_SPEED, TARGET_MEMORY = 20.0, 10.0


def _row(kind: str, tool: str, res: dict[str, dict]) -> str:
    ours, theirs = res[tool], res["tbparse"]
    label = f"{kind} {LABELS[tool]}"
    if "seconds" not in ours or "seconds" not in theirs:
        return f"{label:12}  error: {ours.get('error') or theirs.get('error')}"
    keys = ("seconds", "read_seconds", "read_cpu")
    ratios = [theirs[k] / ours[k] for k in keys] + [theirs["rss_mb"] / ours["rss_mb"]]
    met = ratios[1] >= TARGET_SPEED and ratios[3] >= TARGET_MEMORY
    cells = [f"{ours[k]:8.2f}" for k in keys] + [f"{ours['rss_mb']:6.0f}MB"]
    cells += [f"{theirs[k]:8.2f}" for k in keys] + [f"{theirs['rss_mb']:6.0f}MB"]
    cells += [f"{r:7.1f}x" for r in ratios]
    return f"{label:12} " + " ".join(cells) + f"  {'yes' if met else 'NO'}"


_COLS = " ".join(f"{c:>8}" for c in ("process", "read", "read cpu", "peak"))
HEADER = (
    f"{'':12} {'read_scalars (s, MB)':^35} {'tbparse (s, MB)':^35} {'tbparse / read_scalars':^35}\n"
    f"{'file':12} {_COLS} {_COLS} {_COLS}  target met (read x20, memory x10)"
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=3_000_000, help="values per file")
    ap.add_argument("--repeat", type=int, default=1, help="runs per tool; the fastest is kept")
    ap.add_argument("--files", nargs="+", choices=["tf1", "tf2"], default=["tf1", "tf2"])
    ap.add_argument("--out", type=Path, default=bench_events.REPO / "bench_out")
    args = ap.parse_args(argv)
    rows = []
    for kind in args.files:
        path = args.out / f"events_{args.events}" / kind / f"events.out.tfevents.1.bench.{kind}"
        if not path.exists():
            print(f"generating {path} ...", flush=True)
            bench_events.generate(path, kind, args.events)
        best: dict[str, dict] = {}
        for _ in range(args.repeat):
            for tool in TOOLS:
                print(f"[{kind}] {tool} ...", end=" ", flush=True)
                r = bench_events.run_tool(tool, path)
                print(f"{r['seconds']:.2f} s" if "seconds" in r else r["error"], flush=True)
                if r.get("n") not in (None, args.events):
                    print(f"warning: {tool} saw {r['n']} values, expected {args.events}")
                prev = best.get(tool)
                if prev is None or r.get("seconds", 1e9) < prev.get("seconds", 1e9):
                    best[tool] = r
        rows.extend(_row(kind, tool, best) for tool in OURS)
    print(f"\nread_scalars vs tbparse, {args.events:,} values per file (x = tbparse / tbdiff)")
    print(HEADER)
    for row in rows:
        print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
