#!/usr/bin/env python
"""Benchmark scalar extraction: tbdiff.events vs TensorBoard's loaders and tbparse.

Writes two event files of N scalar events each (TF1 `simple_value`, TF2 rank-0 float32 tensor
scalars with plugin metadata on each tag's first occurrence only, as TF2 writers do) under
bench_out/ (cached), then reads each file with every tool in its own subprocess and prints wall
time, ratio to tbdiff and peak RSS.

    python scripts/bench_events.py                 # 3,000,000 events per file, all tools
    python scripts/bench_events.py --events 300000 --skip-slow
    python scripts/bench_events.py --tools tbdiff --baseline main --repeat 3   # before/after

`--baseline REF` also runs the tbdiff of git revision REF (exported with `git archive` to a
temporary folder) as tool "tbdiff@REF", interleaved with the current tree's runs, so a change
is measured side by side in one run on the same (possibly busy) machine. `--repeat N` runs
each tool N times and keeps the fastest. Besides wall seconds the table gives CPU seconds of the
read (user + sys of the reading process), steadier than wall time when the machine is shared.

The files are built with a hand-rolled serializer (fast) whose output is checked byte for byte
against protobuf's own SerializeToString on a sample of records, and every CRC is computed with
the crc32c package; TensorBoard's readers verify those CRCs too.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TAGS = ("loss", "accuracy", "learning_rate")


# ------------------------------------------------------------------------------ generation


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _masked(crc: int) -> int:
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _event(kind: str, tag: str, step: int, wall: float, value: float, first: bool):
    from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2

    if kind == "tf1":
        v = summary_pb2.Summary.Value(tag=tag, simple_value=value)
    else:
        t = tensor_pb2.TensorProto(
            dtype=1,
            tensor_shape=tensor_shape_pb2.TensorShapeProto(),
            tensor_content=struct.pack("<f", value),
        )
        v = summary_pb2.Summary.Value(tag=tag, tensor=t)
        if first:
            v.metadata.plugin_data.plugin_name = "scalars"
            v.metadata.plugin_data.content = b""
    return event_pb2.Event(wall_time=wall, step=step, summary=summary_pb2.Summary(value=[v]))


def generate(path: Path, kind: str, n: int) -> None:
    """Write n scalar events (3 tags round robin) with TFRecord framing."""
    import crc32c
    from tensorboard.compat.proto import event_pb2

    rest = {}  # tag -> serialized `summary` field without the 4 value bytes
    for tag in TAGS:
        body = _event(kind, tag, 0, 0.0, 0.5, first=False).summary.SerializeToString()
        field = b"\x2a" + _varint(len(body)) + body
        assert field.endswith(struct.pack("<f", 0.5))
        rest[tag] = field[:-4]
    crc = crc32c.crc32c
    pack_d, pack_f, pack_q, pack_i = (struct.Struct(f).pack for f in ("<d", "<f", "<Q", "<I"))
    check = set(random.Random(0).sample(range(n), min(n, 2000))) | set(range(10))
    tmp = path.with_suffix(".partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(tmp, "wb") as f:
        out = []

        def frame(payload: bytes) -> None:
            head = pack_q(len(payload))
            out.append(head + pack_i(_masked(crc(head))) + payload + pack_i(_masked(crc(payload))))

        frame(event_pb2.Event(wall_time=1.6e9, file_version="brain.Event:2").SerializeToString())
        for i in range(n):
            tag = TAGS[i % len(TAGS)]
            step = i // len(TAGS)
            wall = 1.6e9 + i * 0.001
            value = struct.unpack("<f", pack_f(((i * 7919) % 10007) / 10007.0))[0]
            if kind == "tf2" and i < len(TAGS):  # plugin metadata only on a tag's first event
                payload = _event(kind, tag, step, wall, value, first=True).SerializeToString()
            else:
                payload = (
                    b"\x09"
                    + pack_d(wall)
                    + (b"\x10" + _varint(step) if step else b"")
                    + rest[tag]
                    + pack_f(value)
                )
                if i in check:
                    assert (
                        payload == _event(kind, tag, step, wall, value, False).SerializeToString()
                    ), i
            frame(payload)
            if len(out) >= 100_000:
                f.write(b"".join(out))
                out.clear()
        f.write(b"".join(out))
    tmp.replace(path)


# ------------------------------------------------------------------------------ tools

_PRELUDE = r"""
import json, resource, sys, time
path = sys.argv[1]
_cpu0 = [0.0]
def start():
    _cpu0[0] = time.process_time()
    return time.perf_counter()
def done(n, t0, **extra):
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    cpu = time.process_time() - _cpu0[0]
    print(json.dumps(dict(n=n, seconds=time.perf_counter() - t0, cpu=cpu, rss_mb=rss, **extra)))
"""

TOOLS: dict[str, tuple[str, bool, str]] = {
    # name: (code, slow?, note)
    "tbdiff": (
        r"""
from pathlib import Path
from tbdiff import events
t0 = start()
rd = events.read_run(events.Run("b", Path(path).parent, [Path(path)]))
done(sum(len(s) for s in rd.scalars.values()), t0, reader="tbdiff (CRC verified)")
""",
        False,
        "scalars -> numpy arrays, CRCs verified",
    ),
    "tbdiff --no-crc": (
        r"""
from pathlib import Path
from tbdiff import events
t0 = start()
rd = events.read_run(events.Run("b", Path(path).parent, [Path(path)]), verify_crc=False)
done(sum(len(s) for s in rd.scalars.values()), t0, reader="tbdiff (no CRC)")
""",
        False,
        "same, CRCs skipped",
    ),
    "LegacyEventFileLoader": (
        r"""
from tensorboard.compat import tf
from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader
reader = "tensorflow" if tf.__version__ != "stub" else "stub"
t0 = start()
n = sum(1 for ev in LegacyEventFileLoader(path).Load() if ev.HasField("summary"))
done(n, t0, reader=reader)
""",
        False,
        "iterates Event protos only",
    ),
    "EventFileLoader": (
        r"""
from tensorboard.compat import tf
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
reader = "tensorflow" if tf.__version__ != "stub" else "stub"
t0 = start()
n = sum(1 for ev in EventFileLoader(path).Load() if ev.HasField("summary"))
done(n, t0, reader=reader)
""",
        False,
        "+ data_compat migrations",
    ),
    "EventAccumulator": (
        r"""
from tensorboard.compat import tf
from tensorboard.backend.event_processing import event_accumulator as ea
reader = "tensorflow" if tf.__version__ != "stub" else "stub"
t0 = start()
acc = ea.EventAccumulator(path, size_guidance={ea.SCALARS: 0, ea.TENSORS: 0})
acc.Reload()
tags = acc.Tags()
n = sum(len(acc.Scalars(t)) for t in tags["scalars"]) + sum(len(acc.Tensors(t)) for t in tags["tensors"])
done(n, t0, reader=reader)
""",
        True,
        "scalars=0, tensors=0 (keep all)",
    ),
    "tbparse": (
        r"""
from tensorboard.compat import tf
reader = "tensorflow" if tf.__version__ != "stub" else "stub"
from tbparse import SummaryReader
t0 = start()
r = SummaryReader(path, pivot=False)
done(int(len(r.scalars) + len(r.tensors)), t0, reader=reader)  # TF2 scalars come as tensors
""",
        True,
        "SummaryReader: .scalars + .tensors",
    ),
}


def run_tool(name: str, path: Path, source: Path = REPO) -> dict:
    code, _slow, note = TOOLS[name.split("@")[0]]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(source))
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _PRELUDE + code, str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=3600,
    )
    total = time.perf_counter() - t0
    if proc.returncode != 0:
        return {
            "tool": name,
            "error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed",
        }
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res.update(tool=name, process_seconds=total, note=note)
    return res


def export_revision(ref: str, out: Path) -> Path:
    """The `tbdiff/` package of git revision `ref`, exported under `out` (no checkout)."""
    dest = out / f"rev-{ref.replace('/', '_')}"
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", ref, "tbdiff"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


# ------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--events", type=int, default=3_000_000, help="scalar events per file (default 3,000,000)"
    )
    ap.add_argument("--skip-slow", action="store_true", help="omit tbparse and EventAccumulator")
    ap.add_argument(
        "--out", type=Path, default=REPO / "bench_out", help="cache folder (default bench_out/)"
    )
    ap.add_argument(
        "--tools", nargs="+", choices=list(TOOLS), default=None, help="run only these tools"
    )
    ap.add_argument("--json", type=Path, default=None, help="also write the results as JSON here")
    ap.add_argument(
        "--baseline", default=None, help="also time the tbdiff of this git revision (tbdiff@REF)"
    )
    ap.add_argument("--repeat", type=int, default=1, help="runs per tool; the fastest is kept")
    args = ap.parse_args(argv)
    sources = {"": REPO}
    if args.baseline:
        sources[args.baseline] = export_revision(args.baseline, args.out)

    names = [n for n, (_c, slow, _n) in TOOLS.items() if not (slow and args.skip_slow)]
    if args.tools:
        names = [n for n in names if n in args.tools]
    results = []
    for kind in ("tf1", "tf2"):
        path = args.out / f"events_{args.events}" / kind / f"events.out.tfevents.1.bench.{kind}"
        if not path.exists():
            t0 = time.perf_counter()
            print(f"generating {path} ...", flush=True)
            generate(path, kind, args.events)
            print(
                f"  {path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s",
                flush=True,
            )
        best: dict[str, dict] = {}
        for _ in range(args.repeat):
            for name in names:
                for ref, source in sources.items():
                    if ref and not name.startswith("tbdiff"):
                        continue
                    label = f"{name}@{ref}" if ref else name
                    print(f"[{kind}] {label} ...", end=" ", flush=True)
                    r = run_tool(label, path, source)
                    r["file"], r["tool"] = kind, label
                    prev = best.get(label)
                    if prev is None or r.get("seconds", 1e9) < prev.get("seconds", 1e9):
                        best[label] = r
                        if prev is not None and "cpu" in prev:  # fastest of each measure
                            r["cpu"] = min(r.get("cpu", 1e9), prev["cpu"])
                    elif "cpu" in r:
                        prev["cpu"] = min(prev.get("cpu", 1e9), r["cpu"])
                    print(
                        f"{r['seconds']:.2f} s" if "seconds" in r else f"ERROR {r['error']}",
                        flush=True,
                    )
        results.extend(best.values())

    print()
    print(
        f"Scalar extraction, {args.events:,} events per file (wall seconds of the read, in-process)"
    )
    head = f"{'file':4} {'tool':22} {'seconds':>8} {'x tbdiff':>8} {'cpu s':>7} {'x tbdiff':>8} {'peak RSS':>9} {'values':>10}  reader / note"
    print(head)
    print("-" * len(head))
    for kind in ("tf1", "tf2"):
        rows = [r for r in results if r["file"] == kind]
        ref = next((r for r in rows if r["tool"] == "tbdiff" and "seconds" in r), None)
        base = ref["seconds"] if ref else None
        base_cpu = ref.get("cpu") if ref else None
        for r in rows:
            if "seconds" not in r:
                print(f"{kind:4} {r['tool']:22} ERROR {r['error']}")
                continue
            ratio = f"{r['seconds'] / base:.2f}x" if base else "-"
            cpu = r.get("cpu", float("nan"))
            cpu_ratio = f"{cpu / base_cpu:.2f}x" if base_cpu else "-"
            print(
                f"{kind:4} {r['tool']:22} {r['seconds']:8.2f} {ratio:>8} {cpu:7.2f} {cpu_ratio:>8} {r['rss_mb']:7.0f}MB {r['n']:>10,}"
                f"  {r.get('reader', '')}; {r['note']}"
            )
    bad = [r for r in results if "n" in r and r["n"] != args.events]
    for r in bad:
        print(f"warning: {r['tool']} on {r['file']} saw {r['n']} values, expected {args.events}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
