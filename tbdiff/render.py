"""Rich rendering only: turn already-computed data into terminal output.

Every function takes plain data (dicts/dataclasses built elsewhere) and a `rich` Console, so
the JSON and the terminal views are built from the same facts. Layouts are designed to read
at 80 columns and without colour.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from tbdiff.diagnostics import LogWarning, group_warnings
from tbdiff.report import Report

_INSPECT_MAX_SCALARS = 25  # rows per run in the table; --json has them all
_INSPECT_MAX_FILES = 12  # file rows per run before the rest are summarised
_SAME_WARNINGS = 3  # identical problems listed one by one before they are summarised


def value_text(x: Any) -> str:
    """A recorded value (hparam, scalar) as `inspect` and `compare` both print it: integral
    numbers without exponent (n_train=55000 whether stored as int or float), others to 6
    significant digits."""
    if x is None:
        return "-"
    if isinstance(x, bool) or isinstance(x, str):  # nan / inf are kept as text by the inventory
        return str(x)
    if isinstance(x, float):
        if math.isfinite(x) and x.is_integer() and abs(x) < 1e15:
            return str(int(x))
        return f"{x:.6g}"
    return str(x)


_inspect_num = value_text


def warning_lines(records: Sequence[LogWarning]) -> list[str]:
    """One line per warning; the same problem in many files becomes one line with a count."""
    groups = {(g.kind, g.message): g for g in group_warnings(records)}
    lines: list[str] = []
    for w in records:  # first-seen order
        g = groups.pop((w.kind, w.message), None)
        if g is None:  # already shown, one by one or summarised
            continue
        if len(g.records) <= _SAME_WARNINGS or len(g.paths) < len(g.records):
            lines.extend(str(x) for x in g.records)
        else:
            first, last = g.paths[0], g.paths[-1]
            lines.append(f"{len(g.records):,} files: {g.message} (first: {first}, last: {last})")
    return lines


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
        best = bool(g.get("best"))
        kind = Text(str(g.get("kind")) + (" *" if best else ""), style="bold" if best else "")
        nodes = "config" if g.get("kind") == "keras_model" else value_text(g.get("nodes"))
        cells = [kind, _inspect_short(g.get("tag") or "-", 24), value_text(g.get("step")), nodes]
        cells += [value_text(g.get("functions")), value_text(g.get("offset"))]
        if multi:
            cells.append(f"#{files.index(g['file']) + 1}" if g.get("file") in files else "?")
        t.add_row(*cells)
    return t


def _graph_note(graphs: list[dict]) -> Text | None:
    """Which node count is which: inspect lists records as written, compare inlines functions."""
    best = next((g for g in graphs if g.get("best")), None)
    if best is None or best.get("kind") == "keras_model":
        return None
    inlined = best.get("inlined_nodes")
    if not isinstance(inlined, int) or isinstance(inlined, bool) or inlined == best.get("nodes"):
        return None
    fns = best.get("functions") or 0
    return Text(
        f"* {best.get('kind')}: {best.get('nodes')} nodes as recorded, {inlined} with its "
        f"{fns} function(s) inlined (the count compare reports)",
        style="dim",
    )


def _file_status(f: dict) -> str:
    size, records = f.get("size"), f.get("records") or 0
    if f.get("format") == "graph":
        return f"graph file, {size:,} bytes" if isinstance(size, int) else "graph file"
    if size == 0:
        return "empty (0 bytes)"
    if f.get("first_step") is not None:
        parts = [f"{records} ev, steps {f['first_step']}..{f['last_step']}"]
    else:
        parts = [f"{records} ev, no steps"]
    if f.get("truncated_at") is not None:
        parts.append(f"truncated at offset {f['truncated_at']}")
    if f.get("corrupt_at"):
        parts.append(f"{len(f['corrupt_at'])} damaged record(s)")
    return ", ".join(parts)


def _file_rows(files: list[dict]) -> list[tuple[str, Text]]:
    """(label, text) per file; many empty files become one row, a long list is cut."""
    multi = len(files) > 1
    empty = [i for i, f in enumerate(files) if f.get("size") == 0]
    collapse = len(empty) > _SAME_WARNINGS
    rows: list[tuple[str, Text]] = []
    for i, f in enumerate(files):
        if collapse and f.get("size") == 0:
            if i == empty[0]:
                first, last = (
                    str(files[j].get("path", "?")).rsplit("/", 1)[-1] for j in (empty[0], empty[-1])
                )
                rows.append(
                    (f"{len(empty):,} files", Text(f"empty (0 bytes): {first} ... {last}", "dim"))
                )
            continue
        name = str(f.get("path", "?")).rsplit("/", 1)[-1]
        label = f"file #{i + 1}" if multi else "file"
        rows.append((label, Text.assemble(name, (f"  {_file_status(f)}", "dim"))))
    if len(rows) > _INSPECT_MAX_FILES:
        more = len(rows) - _INSPECT_MAX_FILES + 1
        rows = rows[: _INSPECT_MAX_FILES - 1] + [("...", Text(f"{more} more (see --json)", "dim"))]
    return rows


def _inspect_run(r: dict, console: Console) -> None:
    title = Text()
    title.append("run ", style="dim")
    title.append(str(r.get("name")), style="bold magenta")
    files = r.get("files") or []
    n_events = sum(f.get("records") or 0 for f in files)
    title.append(f"  ({len(files)} file{'s' if len(files) != 1 else ''}, ", style="dim")
    title.append(f"{n_events} events)", style="dim")
    console.print(title)
    console.rule(style="dim")
    counts = r.get("counts") or {}
    event_kinds = [k for k in _INSPECT_EVENT_KINDS if k in counts]
    value_kinds = sorted(k for k in counts if k not in _INSPECT_EVENT_KINDS)
    info = Table.grid(padding=(0, 1))
    info.add_column(style="dim", no_wrap=True)
    info.add_column(overflow="fold")
    for label, text in _file_rows(files):
        info.add_row(label, text)
    if not all(f.get("format") == "graph" for f in files):
        info.add_row("events", Text(_inspect_counts(counts, event_kinds)))
        info.add_row("values", Text(_inspect_counts(counts, value_kinds)))
    if r.get("hparams"):
        hp = ", ".join(f"{k}={value_text(v)}" for k, v in sorted(r["hparams"].items()))
        info.add_row("hparams", Text(hp))
    for concept, line in (r.get("model") or {}).items():
        info.add_row(concept, Text(line))
    console.print(info)
    if r.get("scalars"):
        console.print(_inspect_scalars_table(r["scalars"]))
    graphs = r.get("graphs") or []
    if graphs:
        console.print(_inspect_graphs_table(graphs, [f.get("path") for f in files]))
        note = _graph_note(graphs)
        if note is not None:
            console.print(note)


def render_inspect(inv: dict, console: Console) -> None:
    """Render an inventory dict (`tbdiff.events.inventory`, schema tbdiff.inspect/1).

    Warnings are not drawn here (they go to stderr); a damaged file shows its state in its row.
    """
    runs = inv.get("runs") or []
    n_files = sum(len(r.get("files") or []) for r in runs)
    n_records = sum(f.get("records") or 0 for r in runs for f in r.get("files") or [])
    head = Text()
    head.append("tbdiff inspect ", style="bold")
    head.append(str(inv.get("path")), style="cyan")
    head.append(f"\n{len(runs)} run(s), {n_files} file(s), {n_records} event(s)")
    console.print(head)
    for r in runs:
        console.print()
        _inspect_run(r, console)
    if any(g.get("best") for r in runs for g in r.get("graphs") or []):
        console.print()
        console.print(Text("* = graph used for comparisons (most complete)", style="dim"))


# ------------------------------------------------------------------ comparison report

SEVERITY_STYLE = {
    "critical": "bold red",
    "warning": "bold yellow",
    "benign": "green",
    "info": "cyan",
}
STATUS_STYLE = {"matched": "green", "changed": "yellow", "only_a": "red", "only_b": "red"}
_BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: np.ndarray, lo: float, hi: float, width: int) -> str:
    """Block-character curve of `values` resampled to `width` cells on a shared [lo, hi] scale."""
    vals = np.asarray(values, dtype=float)
    if vals.size == 0:
        return ""
    if vals.size > width:  # average into `width` buckets so spikes don't vanish entirely
        edges = np.linspace(0, vals.size, width + 1).astype(int)
        with warnings.catch_warnings():  # an all-NaN bucket is shown as '·', not warned about
            warnings.simplefilter("ignore", RuntimeWarning)
            vals = np.array(
                [
                    np.nanmean(vals[s:e]) if e > s else np.nan
                    for s, e in zip(edges[:-1], edges[1:], strict=True)
                ]
            )
    span = hi - lo if hi > lo else 1.0
    out = []
    for v in vals:
        if not math.isfinite(v):
            out.append("·")
        else:
            idx = int(round((v - lo) / span * (len(_BLOCKS) - 1)))
            out.append(_BLOCKS[min(max(idx, 0), len(_BLOCKS) - 1)])
    return "".join(out)


def _fmt(v: Any, nested: bool = False) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        return f"{v:.4g}"
    if isinstance(v, dict):
        inner = ", ".join(f"{k}={_fmt(x, True)}" for k, x in v.items())
        return f"({inner})" if nested else inner
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt(x, True) for x in v) + "]"
    return str(v)


def _side(ref: Any, letter: str, graphs: bool) -> Text:
    t = Text()
    t.append(f"{letter} ", style="bold")
    if ref.label and ref.label != letter:
        t.append(ref.label, style="bold magenta" if letter == "A" else "bold blue")
        t.append("  ")
    run = "" if ref.run in ("", ".") else f" run {ref.run}"
    t.append(f"{ref.path}{run}", style="dim")
    if graphs:
        src = "no graph"
        if ref.graph_source:
            inlined = f", {ref.functions} functions inlined" if ref.functions else ""
            src = f"{ref.graph_source}, {ref.nodes} nodes{inlined}"
        t.append(f" ({src})", style="dim")
    return t


def verdict_panel(report: Report) -> Panel:
    worst = report.worst_severity or "info"
    style = {"critical": "red", "warning": "yellow"}.get(worst, "green")
    body = Text(report.verdict or "No comparison result.", style="bold")
    top = report.findings[0] if report.findings else None
    parts: list[Any] = [body]
    if top is not None and top.severity in ("critical", "warning"):
        parts.append(Text(""))
        parts.append(Text(top.detail))
    return Panel(Group(*parts), title="Verdict", title_align="left", border_style=style)


def findings_table(report: Report, width: int) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, expand=False, pad_edge=False)
    table.add_column("#", justify="right", style="dim", no_wrap=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("finding", ratio=1)
    for i, f in enumerate(report.findings, 1):
        sev = Text(f.severity, style=SEVERITY_STYLE[f.severity])
        cell = Text()
        cell.append(f.title)
        cell.append(f"  {f.id}", style="dim")
        if f.severity in ("critical", "warning") and (f.a or f.b):
            cell.append(f"\n  A: {_fmt(f.a)}", style="magenta")
            cell.append(f"\n  B: {_fmt(f.b)}", style="blue")
        table.add_row(str(i), sev, cell)
    return table


def scalars_table(report: Report, width: int) -> Table | None:
    comp = report.scalars
    if comp is None or not comp.pairs:
        return None
    spark_w = max(10, min(40, width - 44))
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("scalar (A ↔ B)", ratio=1)
    table.add_column("curves", no_wrap=True)
    table.add_column("final", justify="right", no_wrap=True)
    for p in comp.pairs:
        va, vb = np.asarray(p.values_a, float), np.asarray(p.values_b, float)
        both = np.concatenate([va, vb]) if va.size or vb.size else np.array([])
        finite = both[np.isfinite(both)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        name = Text(p.tag_a, style="bold")
        if p.tag_b != p.tag_a:
            name.append(f"\n↔ {p.tag_b}")
        facts = f"\n{p.steps} steps, max |Δ| {_fmt(p.max_abs_diff)}"
        if p.diverges_at_step is not None:
            facts += f"\napart from step {p.diverges_at_step}"
        name.append(facts, style="dim")
        if p.note:
            name.append(f"\n{p.note}", style="dim italic")
        curves = Text()
        curves.append("A ", style="bold magenta")
        curves.append(sparkline(va, lo, hi, spark_w), style="magenta")
        curves.append("\nB ", style="bold blue")
        curves.append(sparkline(vb, lo, hi, spark_w), style="blue")
        curves.append(f"\n  {_fmt(lo)} … {_fmt(hi)}", style="dim")
        final = Text(f"{_fmt(p.final_a)}\n{_fmt(p.final_b)}")
        table.add_row(name, curves, final)
    return table


def layers_table(report: Report) -> Table | None:
    if not report.layers:
        return None
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("A", ratio=1, style="magenta")
    table.add_column("B", ratio=1, style="blue")
    table.add_column("kind", no_wrap=True)
    table.add_column("shape A / B")
    table.add_column("status", no_wrap=True)
    for lp in report.layers:
        shapes = (
            _fmt(lp.shape_a)
            if lp.shape_a == lp.shape_b
            else f"{_fmt(lp.shape_a)} / {_fmt(lp.shape_b)}"
        )
        table.add_row(
            lp.a or "—",
            lp.b or "—",
            lp.kind,
            shapes,
            Text(lp.status, style=STATUS_STYLE.get(lp.status, "")),
        )
    return table


def hparams_table(report: Report) -> Table | None:
    if not report.hparams:
        return None
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("hyper-parameter", ratio=1)
    table.add_column("A", style="magenta")
    table.add_column("B", style="blue")
    for h in report.hparams:
        table.add_row(
            h.key, "—" if h.a is None else value_text(h.a), "—" if h.b is None else value_text(h.b)
        )
    return table


def counts_line(report: Report) -> Text | None:
    c = report.graph_counts
    if not c:
        return None
    t = Text("Nodes: ")
    for key, label in (
        ("matched", "matched"),
        ("changed", "changed"),
        ("only_a", "only in A"),
        ("only_b", "only in B"),
    ):
        t.append(f"{c.get(key, 0)} {label}", style=STATUS_STYLE.get(key, ""))
        t.append("  ")
    return t


def _section(title: str) -> Text:
    return Text(f"\n{title}", style="bold underline")


def render_report(report: Report, console: Console) -> None:
    """Draw the whole report: verdict first, then the evidence, then bookkeeping."""
    width = console.width
    graphs = report.graph_counts is not None or bool(report.findings)
    console.print(_side(report.a, "A", graphs))
    console.print(_side(report.b, "B", graphs))
    console.print(verdict_panel(report))
    if report.findings:
        console.print(_section(f"Findings ({len(report.findings)}, most likely cause first)"))
        console.print(findings_table(report, width))
    elif report.graph_counts is not None:
        console.print(Text("\nNo differences found in the graphs.", style="green"))
    table = scalars_table(report, width)
    if table is not None:
        console.print(_section("Scalars"))
        console.print(table)
        comp = report.scalars
        if comp.unpaired_a or comp.unpaired_b:
            console.print(
                Text(
                    f"unpaired: A {', '.join(comp.unpaired_a) or '—'} | B {', '.join(comp.unpaired_b) or '—'}",
                    style="dim",
                )
            )
    table = layers_table(report)
    if table is not None:
        console.print(_section("Layers"))
        console.print(table)
    table = hparams_table(report)
    if table is not None:
        console.print(_section("Hyper-parameters that differ"))
        console.print(table)
    line = counts_line(report)
    if line is not None:
        console.print(_section("Graph alignment"))
        console.print(line)
    if report.node_diffs:
        console.print(_section(f"Node differences ({len(report.node_diffs)})"))
        console.print(node_diffs_table(report))


def node_diffs_table(report: Report) -> Table:
    """`--all`: node names in full (long ones wrap, never cut), A above B, then what changed."""
    nd = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    nd.add_column("status", no_wrap=True)
    nd.add_column("node (A / B) and what changed", ratio=1, overflow="fold")
    for status, a, b, what in report.node_diffs:
        cell = Text()
        if a:
            cell.append("A ", style="bold magenta")
            cell.append(a)
        if b:
            cell.append("\n" if a else "")
            cell.append("B ", style="bold blue")
            cell.append(b)
        if what:
            cell.append(f"\n  {what}", style="dim")
        nd.add_row(Text(status, style=STATUS_STYLE.get(status, "")), cell)
    return nd
