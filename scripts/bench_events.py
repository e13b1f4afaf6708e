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
import compileall
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


# kind -> tags of one Summary (one event); every event carries one value per tag
KINDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "tf1": tuple((t,) for t in TAGS),  # TF1 simple_value, one value per event, 3 tags
    "tf2": tuple((t,) for t in TAGS),  # TF2 rank-0 float32 tensors
    "tf1x2": (("loss", "accuracy"),),  # two simple_values per event (tf_keras v1 callback style)
}


def _event(kind: str, tags: tuple[str, ...], step: int, wall: float, values, first: bool):
    from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2

    out = []
    for tag, value in zip(tags, values, strict=True):
        if kind != "tf2":
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
        out.append(v)
    return event_pb2.Event(wall_time=wall, step=step, summary=summary_pb2.Summary(value=out))


def _pieces(kind: str, tags: tuple[str, ...]) -> list[bytes]:
    """The serialized `summary` field split around its value slots (4 bytes each)."""
    marks = [struct.pack("<f", 0.125 + i) for i in range(len(tags))]
    body = _event(kind, tags, 0, 0.0, [0.125 + i for i in range(len(tags))], False)
    body = body.summary.SerializeToString()
    field = b"\x2a" + _varint(len(body)) + body
    pieces, pos = [], 0
    for m in marks:
        at = field.index(m, pos)
        pieces.append(field[pos:at])
        pos = at + 4
    assert pos == len(field)
    return pieces


def generate(path: Path, kind: str, n: int) -> None:
    """Write n scalar values (tags round robin, len(tags) values per event), TFRecord framed."""
    import crc32c
    from tensorboard.compat.proto import event_pb2

    groups = KINDS[kind]
    pieces = {tags: _pieces(kind, tags) for tags in groups}
    crc = crc32c.crc32c
    pack_d, pack_f, pack_q, pack_i = (struct.Struct(f).pack for f in ("<d", "<f", "<Q", "<I"))
    per_event = len(groups[0])
    n_events = n // per_event
    check = set(random.Random(0).sample(range(n_events), min(n_events, 2000))) | set(range(10))
    tmp = path.with_suffix(".partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(tmp, "wb") as f:
        out = []

        def frame(payload: bytes) -> None:
            head = pack_q(len(payload))
            out.append(head + pack_i(_masked(crc(head))) + payload + pack_i(_masked(crc(payload))))

        frame(event_pb2.Event(wall_time=1.6e9, file_version="brain.Event:2").SerializeToString())
        for i in range(n_events):
            tags = groups[i % len(groups)]
            step = i // len(groups)
            wall = 1.6e9 + i * 0.001
            values = [
                struct.unpack("<f", pack_f((((i + j) * 7919) % 10007) / 10007.0))[0]
                for j in range(len(tags))
            ]
            if kind == "tf2" and i < len(groups):  # plugin metadata only on a tag's first event
                payload = _event(kind, tags, step, wall, values, first=True).SerializeToString()
            else:
                parts = [b"\x09", pack_d(wall), b"\x10" + _varint(step) if step else b""]
                for piece, value in zip(pieces[tags], values, strict=True):
                    parts += [piece, pack_f(value)]
                payload = b"".join(parts)
                if i in check:
                    want = _event(kind, tags, step, wall, values, False).SerializeToString()
                    assert payload == want, i
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
    usage = resource.getrusage(resource.RUSAGE_SELF)
    rss = usage.ru_maxrss / 1024.0
    cpu = time.process_time() - _cpu0[0]
    out = dict(n=n, seconds=time.perf_counter() - t0, cpu=cpu, rss_mb=rss)
    print(json.dumps(dict(out, **extra)))
"""

_READ_SCALARS = r"""
import tbdiff
t0 = start()
df = tbdiff.read_scalars(path)
done(len(df), t0, reader="tbdiff.read_scalars (CRC verified)" + (
    ", pandas without pyarrow" if "pyarrow" in sys.modules and sys.modules["pyarrow"] is None
    else ""))
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
    # `import tbdiff` before the clock, as a script does; read_scalars imports pandas itself
    # (once the data is read), so the read's seconds and peak include pandas' import
    "read_scalars": (
        _READ_SCALARS,
        False,
        "long DataFrame run/tag/step/value/wall_time; pyarrow as installed",
    ),
    "read_scalars-nopyarrow": (
        # as if pyarrow were not installed (`pip install 'tbdiff[pandas]'`)
        'import sys\nsys.modules["pyarrow"] = None\n' + _READ_SCALARS,
        False,
        "the same, pandas without pyarrow (pandas 3 imports pyarrow when it is installed)",
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


RUST = "rustboard"  # TensorBoard's Rust data server, timed as a whole process (see rust_server)


def rust_server_binary() -> Path | None:
    """The `server` binary shipped in the tensorboard_data_server wheel, if installed."""
    try:
        import tensorboard_data_server
    except ImportError:
        return None
    path = Path(tensorboard_data_server.__file__).parent / "bin" / "server"
    return path if path.is_file() else None


def rust_server(logdir: Path, *, checksum: bool = True, timeout: float = 3600) -> dict:
    """Time TensorBoard's Rust data server loading `logdir` once, as a whole process.

    `server --logdir DIR --reload once --checksum --samples-per-plugin scalars=all -v` logs
    "Finished load cycle" at INFO level when every run is loaded (all scalar points kept, every
    record checksummed, as tbdiff does); seconds are from process start to that line. CPU
    seconds (all threads) and peak RSS are read from /proc before the server is stopped (it
    keeps serving otherwise; `--die-after-stdin` stops it when we close its stdin).
    """
    binary = rust_server_binary()
    if binary is None:
        return {"tool": RUST, "error": "tensorboard_data_server not installed"}
    cmd = [str(binary), "--logdir", str(logdir), "--reload", "once", "--port", "0", "-v"]
    cmd += ["--samples-per-plugin", "scalars=all", "--die-after-stdin"]
    cmd += ["--checksum"] if checksum else ["--no-checksum"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    seconds, tail = None, []
    try:
        for line in proc.stderr:
            tail.append(line.strip())
            if "Finished load cycle" in line:
                seconds = time.perf_counter() - t0
                break
            if time.perf_counter() - t0 > timeout:
                break
        stat = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        cpu = (int(stat[11]) + int(stat[12])) / tick  # utime + stime, every thread
        status = Path(f"/proc/{proc.pid}/status").read_text()
        hwm = next(ln for ln in status.splitlines() if ln.startswith("VmHWM"))
        rss_mb = int(hwm.split()[1]) / 1024.0
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if seconds is None:
        return {"tool": RUST, "error": tail[-1] if tail else "no 'Finished load cycle' line"}
    return {
        "tool": RUST,
        "seconds": seconds,
        "process_seconds": seconds,
        "cpu": cpu,
        "rss_mb": rss_mb,
        "n": None,
        "reader": "Rust data server (--checksum, scalars=all)",
        "note": "whole process, to 'Finished load cycle'",
    }


def run_tool(name: str, path: Path, source: Path = REPO) -> dict:
    """Run one reader in its own process; seconds/cpu are whole-process (spawn to exit).

    The in-process read alone is kept as `read_seconds`/`read_cpu`.
    """
    if name == RUST:
        return rust_server(path.parent)
    code, _slow, note = TOOLS[name.split("@")[0]]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(source))
    # imports from bytecode caches, as installed packages are: compiling every module from
    # source in each process costs ~1 s and ~10 MB (pandas alone) and is no reader's cost
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    compileall.compile_dir(str(Path(source) / "tbdiff"), quiet=1)
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", _PRELUDE + code, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=str(source),  # `python -c` puts the cwd first on sys.path: it must be `source`
    )
    out, err = proc.communicate(timeout=3600)
    total = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    whole_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if proc.returncode != 0:
        return {"tool": name, "error": err.strip().splitlines()[-1] if err.strip() else "failed"}
    res = json.loads(out.strip().splitlines()[-1])
    res.update(tool=name, note=note, read_seconds=res["seconds"], read_cpu=res["cpu"])
    res.update(seconds=total, cpu=whole_cpu)
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


def _measure(kinds, names, sources, args) -> list[dict]:
    results = []
    for kind in kinds:
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
    return results


def _table(results: list[dict], kinds, args) -> None:
    print()
    print(
        f"Scalar extraction, {args.events:,} values per file; seconds and CPU seconds of the whole "
        "process (spawn to exit, or to the Rust server's 'Finished load cycle'); read = the read "
        "alone, in-process"
    )
    head = (
        f"{'file':5} {'tool':22} {'seconds':>8} {'x rust':>7} {'cpu s':>7} {'x rust':>7} "
        f"{'read s':>7} {'peak RSS':>9} {'values':>10}  reader / note"
    )
    print(head)
    print("-" * len(head))
    for kind in kinds:
        rows = [r for r in results if r["file"] == kind]
        ref = next((r for r in rows if r["tool"] == RUST and "seconds" in r), None)
        for r in rows:
            if "seconds" not in r:
                print(f"{kind:5} {r['tool']:22} ERROR {r['error']}")
                continue
            ratio = f"{r['seconds'] / ref['seconds']:.2f}x" if ref else "-"
            cpu = r.get("cpu", float("nan"))
            cpu_ratio = f"{cpu / ref['cpu']:.2f}x" if ref else "-"
            read = f"{r['read_seconds']:7.2f}" if "read_seconds" in r else f"{'-':>7}"
            n = f"{r['n']:>10,}" if r.get("n") is not None else f"{'-':>10}"
            print(
                f"{kind:5} {r['tool']:22} {r['seconds']:8.2f} {ratio:>7} {cpu:7.2f} {cpu_ratio:>7} "
                f"{read} {r['rss_mb']:7.0f}MB {n}  {r.get('reader', '')}; {r['note']}"
            )
    bad = [r for r in results if r.get("n") is not None and r["n"] != args.events]
    for r in bad:
        print(f"warning: {r['tool']} on {r['file']} saw {r['n']} values, expected {args.events}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--events", type=int, default=3_000_000, help="scalar values per file (default 3,000,000)"
    )
    ap.add_argument("--skip-slow", action="store_true", help="omit tbparse and EventAccumulator")
    ap.add_argument(
        "--out", type=Path, default=REPO / "bench_out", help="cache folder (default bench_out/)"
    )
    ap.add_argument(
        "--tools",
        nargs="+",
        choices=[*TOOLS, RUST],
        default=None,
        help="run only these tools",
    )
    ap.add_argument(
        "--files",
        nargs="+",
        choices=list(KINDS),
        default=list(KINDS),
        help="which files (tf1, tf2: one value per event; tf1x2: two per event)",
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
    names = [RUST] + [n for n, (_c, slow, _n) in TOOLS.items() if not (slow and args.skip_slow)]
    if args.tools:
        names = [n for n in names if n in args.tools]
    results = _measure(args.files, names, sources, args)
    _table(results, args.files, args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
