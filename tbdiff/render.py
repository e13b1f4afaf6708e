"""Rich rendering only: turn already-computed data into terminal output.

Every function takes plain data (dicts/dataclasses built elsewhere) and a `rich` Console, so
the JSON and the terminal views are built from the same facts. Layouts are designed to read
at 80 columns and without colour.
"""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

_INSPECT_MAX_SCALARS = 25  # rows per run in the table; --json has them all


def _inspect_num(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, str):  # nan / inf, kept as text by the inventory
        return x
    if isinstance(x, float):
        return f"{x:.6g}"
    return str(x)


def _inspect_short(text: str, width: int = 40) -> str:
    """Keep both ends of a long tag readable instead of folding it over many lines."""
    if len(text) <= width:
        return text
    head = (width - 3) // 2
    return text[:head] + "..." + text[-(width - 3 - head) :]


def _inspect_counts(counts: dict[str, int], keys: list[str]) -> str:
    parts = [f"{k} {counts[k]}" for k in keys if counts.get(k)]
    return ", ".join(parts) if parts else "-"


_INSPECT_EVENT_KINDS = [
    "summary",
    "graph_def",
    "meta_graph_def",
    "tagged_run_metadata",
    "session_log",
    "log_message",
    "file_version",
    "empty",
    "undecodable",
]


def _inspect_scalars_table(scalars: list[dict]) -> Table:
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, expand=False, show_edge=False)
    t.add_column("scalar tag", overflow="fold", ratio=3)
    t.add_column("n", justify="right", no_wrap=True)
    t.add_column("steps", justify="right", no_wrap=True)
    t.add_column("last", justify="right", no_wrap=True)
    t.add_column("enc", no_wrap=True)
    for s in scalars[:_INSPECT_MAX_SCALARS]:
        rng = f"{s['first_step']}..{s['last_step']}"
        enc = {"simple_value": "simple", "tensor": "tensor"}.get(s["encoding"], s["encoding"])
        t.add_row(
            _inspect_short(s["tag"]), str(s["steps"]), rng, _inspect_num(s["last_value"]), enc
        )
    if len(scalars) > _INSPECT_MAX_SCALARS:
        t.add_row(Text(f"... {len(scalars) - _INSPECT_MAX_SCALARS} more (see --json)", style="dim"))
    return t


def _inspect_graphs_table(graphs: list[dict], files: list[str]) -> Table:
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    multi = len(files) > 1
    t.add_column("graph source", no_wrap=True)
    t.add_column("tag", overflow="fold")
    t.add_column("step", justify="right", no_wrap=True)
    t.add_column("nodes", justify="right", no_wrap=True)
    t.add_column("fns", justify="right", no_wrap=True)
    t.add_column("@offset", justify="right", no_wrap=True)
    if multi:
        t.add_column("file", justify="right", no_wrap=True)
    for g in graphs:
        kind = Text(g["kind"] + (" *" if g["best"] else ""), style="bold" if g["best"] else "")
        nodes = "config" if g["kind"] == "keras_model" else str(g["nodes"])
        cells = [kind, _inspect_short(g["tag"] or "-", 24), str(g["step"]), nodes]
        cells += [str(g["functions"]), str(g["offset"])]
        if multi:
            cells.append(f"#{files.index(g['file']) + 1}" if g["file"] in files else "?")
        t.add_row(*cells)
    return t


def render_inspect(inv: dict, console: Console) -> None:
    """Render an inventory dict (`tbdiff.events.inventory`, schema tbdiff.inspect/1)."""
    runs = inv["runs"]
    n_files = sum(len(r["files"]) for r in runs)
    n_records = sum(f["records"] for r in runs for f in r["files"])
    head = Text()
    head.append("tbdiff inspect ", style="bold")
    head.append(inv["path"], style="cyan")
    head.append(f"\n{len(runs)} run(s), {n_files} file(s), {n_records} event(s)")
    console.print(head)
    for r in runs:
        console.print()
        title = Text()
        title.append("run ", style="dim")
        title.append(r["name"], style="bold magenta")
        files = r["files"]
        title.append(f"  ({len(files)} file{'s' if len(files) != 1 else ''}, ", style="dim")
        title.append(f"{sum(f['records'] for f in files)} events)", style="dim")
        console.print(title)
        console.rule(style="dim")
        counts = r["counts"]
        event_kinds = [k for k in _INSPECT_EVENT_KINDS if k in counts]
        value_kinds = sorted(k for k in counts if k not in _INSPECT_EVENT_KINDS)
        info = Table.grid(padding=(0, 1))
        info.add_column(style="dim", no_wrap=True)
        info.add_column(overflow="fold")
        for i, f in enumerate(files, start=1):
            steps = (
                f"steps {f['first_step']}..{f['last_step']}"
                if f["first_step"] is not None
                else "no steps"
            )
            name = f["path"].rsplit("/", 1)[-1]
            info.add_row(
                f"file #{i}" if len(files) > 1 else "file",
                Text.assemble(name, (f"  {f['records']} ev, {steps}", "dim")),
            )
        info.add_row("events", Text(_inspect_counts(counts, event_kinds)))
        info.add_row("values", Text(_inspect_counts(counts, value_kinds)))
        if r["hparams"]:
            hp = ", ".join(f"{k}={_inspect_num(v)}" for k, v in sorted(r["hparams"].items()))
            info.add_row("hparams", Text(hp))
        console.print(info)
        if r["scalars"]:
            console.print(_inspect_scalars_table(r["scalars"]))
        if r["graphs"]:
            console.print(_inspect_graphs_table(r["graphs"], [f["path"] for f in files]))
        for w in r["warnings"]:
            for i, f in enumerate(files, start=1):  # the file is listed above: name it by number
                if w.startswith(f["path"] + ": "):
                    label = f"file #{i}" if len(files) > 1 else "file"
                    w = f"{label}: " + w[len(f["path"]) + 2 :]
                    break
            console.print(Text("! " + w, style="yellow"), overflow="fold")
    if any(g["best"] for r in runs for g in r["graphs"]):
        console.print()
        console.print(Text("* = graph used for comparisons (most complete)", style="dim"))
