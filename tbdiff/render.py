"""Rich rendering only: turn already-computed data into terminal output.

Every function takes plain data (dicts/dataclasses built elsewhere) and a `rich` Console, so
the JSON and the terminal views are built from the same facts. Layouts are designed to read
at 80 columns and without colour.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from rich import box
from rich.console import Console, Group
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from tbdiff.diagnostics import LogWarning, group_warnings
from tbdiff.findings.base import labelled
from tbdiff.report import Report, RunRef
from tbdiff.scalars import curve_gap
from tbdiff.words import count

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
    """One line per warning; the same problem in many files becomes one line with a count
    (`group_warnings(by_folder=True)`: also problems of one kind in many files of a folder)."""
    lines: list[str] = []
    for g in group_warnings(records, by_folder=True):  # first-seen order
        files = list(dict.fromkeys(g.paths))
        if len(files) <= _SAME_WARNINGS or len(g.paths) < len(g.records):
            lines.extend(str(x) for x in g.records)
        elif g.folder is not None:
            first, last = files[0].rsplit("/", 1)[-1], files[-1].rsplit("/", 1)[-1]
            lines.append(
                f"{g.folder}: {len(files):,} files {g.message} (first: {first}, last: {last}; "
                "--json lists each)"
            )
        else:
            first, last = files[0], files[-1]
            lines.append(f"{len(files):,} files: {g.message} (first: {first}, last: {last})")
    return lines


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
        t.add_row(_middle(s["tag"], 40), str(s["steps"]), rng, _inspect_num(s["last_value"]), enc)
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
        cells = [kind, _middle(g.get("tag") or "-", 24), value_text(g.get("step")), nodes]
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


def _side(ref: RunRef, letter: str, graphs: bool, width: int) -> Text:
    """`A label  path run NAME (graph)` on one line: a path too long for it loses its middle
    (never broken mid-name over two lines; --json has it whole)."""
    t = Text()
    t.append(f"{letter} ", style="bold")
    if ref.label and ref.label != letter:
        t.append(ref.label, style="bold magenta" if letter == "A" else "bold blue")
        t.append("  ")
    run = ref.run
    if run in ("", ".") or ref.path.rstrip("/").endswith(run):  # a file: its name is the run
        run = ""
    src = ""
    if graphs:
        src = "no graph"
        if ref.graph_source:
            inlined = f", {count(ref.functions, 'function')} inlined" if ref.functions else ""
            src = f"{ref.graph_source}, {ref.nodes} nodes{inlined}"
        src = f" ({src})"
    where = f"{ref.path}{f' run {run}' if run else ''}"
    room = max(width - len(t) - len(src) - 1, 24)
    t.append(_middle(where, room), style="dim")
    t.append(src, style="dim")
    return t


def _middle(text: str, width: int) -> str:
    """`text` cut to `width` characters by replacing its middle with "…"."""
    if len(text) <= width:
        return text
    head = (width - 1) // 3
    return text[:head] + "…" + text[len(text) - (width - 1 - head) :]


def verdict_panel(report: Report) -> Panel:
    """The verdict alone (cause, measured gap, fix): the explanation lives under its finding."""
    worst = report.worst_severity or "info"
    style = {"critical": "red", "warning": "yellow"}.get(worst, "green")
    body = Text(report.verdict or "No comparison result.", style="bold")
    return Panel(body, title="Verdict", title_align="left", border_style=style)


_DEFAULT_FOLDED = 6  # benign/info findings listed (title only) before the rest are counted


def _readable(v: Any) -> str:
    """A compared value in words: nested dicts as 'name: key value, ...', lists joined."""
    if isinstance(v, dict):
        return "; ".join(
            f"{k}: {_readable(x)}" if isinstance(x, dict) else f"{k} {_readable(x)}"
            for k, x in v.items()
        )
    if isinstance(v, (list, tuple)):
        return ", ".join(_readable(x) for x in v) or "none"
    return "—" if v is None else value_text(v)


def _values_lines(f: Any) -> list[tuple[str, str, str]]:
    a, b = f.a or {}, f.b or {}
    if not isinstance(a, dict) or not isinstance(b, dict):
        return []
    keys = list(a) + [k for k in b if k not in a]
    return [(str(k), _readable(a.get(k)), _readable(b.get(k))) for k in keys]


def _explanation(f: Any, verbose: bool) -> Text:
    """The detector's detail as lines (one per line of the detail), the fix, and with
    `verbose` the compared values."""
    body = Text()
    for line in f.detail.splitlines():
        if line.strip():
            body.append(("\n" if body else "") + line.strip())
    if f.fix:
        body.append("\nFix: ", style="bold")
        body.append(labelled(f.fix, "A", "B").rstrip(".") + ".")
    if verbose:
        for key, va, vb in _values_lines(f):
            body.append(f"\n{key}: ", style="dim")
            body.append(f"A {va}", style="magenta")
            body.append(" | ", style="dim")
            body.append(f"B {vb}", style="blue")
    return body


def findings_view(report: Report, verbose: bool = False) -> Group:
    """Critical and warning findings with their explanation and fix, the others by title
    (at most `_DEFAULT_FOLDED` of them). `verbose`: every finding in full, with its values."""
    parts: list[Any] = []
    folded = 0
    for i, f in enumerate(report.findings, 1):
        expanded = verbose or f.severity in ("critical", "warning")
        if not expanded:
            folded += 1
            if folded > _DEFAULT_FOLDED:
                continue
        head = Table.grid(padding=(0, 1))
        head.add_column(no_wrap=True)
        head.add_column(ratio=1)
        label = Text(f"{i} ", style="dim")
        label.append(f"{f.severity:<8}", style=SEVERITY_STYLE[f.severity])
        title = Text(f.title)
        if expanded:
            title.append(f"  {f.id}", style="dim")
        head.add_row(label, title)
        parts.append(head)
        if expanded:
            parts.append(Padding(_explanation(f, verbose), (0, 0, 0, 3)))
    if folded > _DEFAULT_FOLDED:
        more = folded - _DEFAULT_FOLDED
        parts.append(Text(f"... {more} more benign/info finding(s) (-v lists them)", "dim"))
    return Group(*parts)


# A side whose range covers less than one block level (1/8) of the pair's shared range is
# "dwarfed": drawn flat, its shape would be lost.
_DWARFED = 1 / 8
_LOG_RATIO = 10.0  # positive curves spanning this factor (max/min) or more: log scale


def _range(v: np.ndarray) -> tuple[float, float]:
    f = v[np.isfinite(v)]
    return (float(f.min()), float(f.max())) if f.size else (0.0, 1.0)


@dataclass
class CurveScale:
    """How a pair's two sparklines are drawn: 'shared' linear, 'log' (shared, log10 of the
    values) or 'own' (each side its own linear range); the ranges are in value units."""

    kind: str
    range_a: tuple[float, float]
    range_b: tuple[float, float]

    def text(self) -> tuple[str, str]:
        """(line beside A, line beside B)."""
        (la, ha), (lb, hb) = self.range_a, self.range_b
        if self.kind == "own":
            return f"own scale {_fmt(la)}…{_fmt(ha)}", f"own scale {_fmt(lb)}…{_fmt(hb)}"
        return f"{self.kind} scale", f"{_fmt(la)} … {_fmt(ha)}"


def curve_scale(va: np.ndarray, vb: np.ndarray, goal: str | None = None) -> CurveScale:
    """How to draw a pair so both shapes stay readable when one side's values dwarf the other's
    (a loss falling from 2.3 next to one near 0.01):

    - a shared log scale for positive curves spanning a factor of `_LOG_RATIO` or more whose
      goal is not "max" (losses, errors: what TensorBoard users switch to log for);
    - else each side on its own linear range when one side's range covers less than
      `_DWARFED` of the pair's (it would be drawn flat);
    - else one shared linear scale."""
    (la, ha), (lb, hb) = _range(va), _range(vb)
    lo, hi = min(la, lb), max(ha, hb)
    if goal != "max" and lo > 0 and hi / lo >= _LOG_RATIO:
        return CurveScale("log", (lo, hi), (lo, hi))
    if max(ha - la, hb - lb) <= 0 or min(ha - la, hb - lb) >= _DWARFED * (hi - lo):
        return CurveScale("shared", (lo, hi), (lo, hi))
    return CurveScale("own", (la, ha), (lb, hb))


def _spark(values: np.ndarray, scale: CurveScale, side: str, width: int) -> str:
    lo, hi = scale.range_a if side == "A" else scale.range_b
    if scale.kind == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            return sparkline(np.log10(values), math.log10(lo), math.log10(hi), width)
    return sparkline(values, lo, hi, width)


def _pair_status(p: Any, label_a: str, label_b: str) -> str:
    gap = curve_gap(p)
    return "no final values to compare" if gap is None else gap.status(label_a, label_b)


def scalars_view(report: Report, width: int, verbose: bool = False) -> Table | None:
    """Each paired curve in three lines: what it measures and who trails since when, then per
    side its sparkline, its own final value (with its step when the last steps differ) and
    the scale it is drawn on."""
    comp = report.scalars
    if comp is None or not comp.pairs:
        return None
    spark_w = max(10, min(40, width - 46))
    la, lb = report.a.label or "A", report.b.label or "B"
    grid = Table.grid(padding=(0, 1))
    grid.add_column()
    for p in comp.pairs:
        head = Text(p.name, style="bold")
        head.append(f" · {_pair_status(p, la, lb)}")
        if verbose:
            head.append(f"\n{p.tag_a} ↔ {p.tag_b}, {count(p.steps, 'common step')}", style="dim")
            if p.note:
                head.append(f"\n{p.note}", style="dim italic")
        va, vb = np.asarray(p.values_a, float), np.asarray(p.values_b, float)
        scale = curve_scale(va, vb, p.goal)
        finals = [_fmt(p.final_a), _fmt(p.final_b)]
        if p.final_step_a != p.final_step_b:
            finals = [f"{finals[0]} @{p.final_step_a}", f"{finals[1]} @{p.final_step_b}"]
        fw = max(len(x) for x in finals)
        rows = Text(no_wrap=True, overflow="ellipsis")
        for i, (side, vals, style) in enumerate((("A", va, "magenta"), ("B", vb, "blue"))):
            rows.append(("\n" if i else "") + f"  {side} ", style=f"bold {style}")
            rows.append(_spark(vals, scale, side, spark_w), style=style)
            rows.append(f" {finals[i]:>{fw}}  ")
            rows.append(scale.text()[i], style="dim")
        grid.add_row(Group(head, rows))
    return grid


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


def layers_line(report: Report) -> Text | None:
    """One line when every layer pairs up ('9 matched in order: 5 dense, 4 dropout'); None
    when some do not (the table is shown instead)."""
    if not report.layers or any(lp.status != "matched" for lp in report.layers):
        return None
    kinds: dict[str, int] = {}
    for lp in report.layers:
        kinds[lp.kind] = kinds.get(lp.kind, 0) + 1
    t = Text(f"{len(report.layers)} matched in order", style="green")
    t.append(" (" + ", ".join(f"{n} {k}" for k, n in kinds.items()) + ")")
    return t


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
    t = Text()
    for key, label in (
        ("matched", "matched"),
        ("changed", "changed"),
        ("only_a", "only in A"),
        ("only_b", "only in B"),
    ):
        t.append(", " if t else "")
        t.append(f"{c.get(key, 0)} {label}", style=STATUS_STYLE.get(key, ""))
    return t


def _section(title: str) -> Text:
    return Text(f"\n{title}", style="bold underline")


def _headed(title: str, body: Text) -> Text:
    """A section that fits on one line: bold title, then its content."""
    t = Text(title, style="bold")
    t.append(" ")
    return t + body


def render_report(report: Report, console: Console, verbose: bool = False) -> None:
    """Draw the report: verdict first, then the evidence, then bookkeeping.

    The default fits an 80x50 screen for a typical pair (sample_logs): explained findings for
    what matters, one line per layers / hyper-parameters / graph section. `verbose` (-v, --all)
    shows every finding in full, the pairing notes, the layer and hyper-parameter tables and,
    when the report holds them (--all), every node difference.
    """
    graphs = report.graph_counts is not None or bool(report.findings)
    console.print(_side(report.a, "A", graphs, console.width))
    console.print(_side(report.b, "B", graphs, console.width))
    console.print(verdict_panel(report))
    if report.findings:
        console.print(_section(f"Findings ({len(report.findings)}, most likely cause first)"))
        console.print(findings_view(report, verbose))
    elif report.graph_counts is not None:
        console.print(Text("\nNo differences found in the graphs.", style="green"))
    _render_scalars(report, console, verbose)
    _render_bookkeeping(report, console, verbose)
    if report.node_diffs:
        console.print(_section(f"Node differences ({len(report.node_diffs)})"))
        console.print(node_diffs_table(report))


def render_warnings(report: Report, console: Console) -> None:
    """The reading warnings as a last section (for the SVG export; the terminal gets them on
    stderr), one `warning_lines` line each."""
    lines = warning_lines(report.warnings)
    if not lines:
        return
    console.print(_section(f"Warnings ({len(lines)})"))
    for line in lines:
        console.print(Text(line, style="yellow"), overflow="fold")


def _render_scalars(report: Report, console: Console, verbose: bool) -> None:
    view = scalars_view(report, console.width, verbose)
    if view is None:
        return
    n = len(report.scalars.pairs)
    console.print(_section(f"Curves ({n} paired; final = each run's own last value)"))
    console.print(view)
    comp = report.scalars
    if comp.unpaired_a or comp.unpaired_b:

        def names(keys: list[str]) -> str:
            shown = keys if verbose else keys[:3]
            more = f" +{len(keys) - len(shown)} more" if len(keys) > len(shown) else ""
            return (", ".join(shown) or "—") + more

        line = f"unpaired: A {names(comp.unpaired_a)} | B {names(comp.unpaired_b)}"
        console.print(Text(line, style="dim"))


def _render_bookkeeping(report: Report, console: Console, verbose: bool) -> None:
    """Layers, hyper-parameters, graph counts: one line each unless `verbose`."""
    lines = []
    line = None if verbose else layers_line(report)
    if line is not None:
        lines.append(_headed("Layers:", line))
    elif report.layers:
        console.print(_section("Layers"))
        console.print(layers_table(report))
    if report.hparams and not verbose:
        lines.append(_headed("Hparams differ:", Text(", ".join(h.key for h in report.hparams))))
    elif report.hparams:
        console.print(_section("Hyper-parameters that differ"))
        console.print(hparams_table(report))
    counts = counts_line(report)
    if counts is not None:
        lines.append(_headed("Graph nodes:", counts))
    if lines:
        console.print()
        for t in lines:
            console.print(t)


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
