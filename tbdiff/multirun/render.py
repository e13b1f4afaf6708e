"""`tbdiff runs` as text (rich) and as a self-contained HTML page (curves overlaid per group).

The page is tbdiff/html's: one file, no network (the same Content-Security-Policy page
template and stylesheet), and the compare page's charts (`tbdiff.html.curves` data drawn by
`assets/report.js`: every run over its own steps, hover values, smoothing, log scale), one
chart per main metric with every run that logged it, coloured by model group, the baseline on
top.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

import numpy as np

from tbdiff.multirun.analysis import ETA_METHOD, MIN_REPLICATES, OUTLIER_SIGMAS, RunsReport
from tbdiff.multirun.summary import RunSummary
from tbdiff.render import sparkline
from tbdiff.words import count

if TYPE_CHECKING:
    from tbdiff.html.curves import ChartData

_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")


def _curve_cell(values: np.ndarray, width: int = 12) -> str:
    """A run's curve in the table: `tbdiff.render.sparkline` on the run's own range."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return ""
    return sparkline(values, float(finite.min()), float(finite.max()), width)


def _num(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "-"
    return f"{x:.4g}"


#: varying hyper-parameters shown per run in the text table (the JSON has them all), and the
#: width a value is cut to: a folder of unrelated runs can vary in dozens of them
TABLE_HPARAMS = 4
VALUE_WIDTH = 24


def _hp(run: RunSummary, keys: list[str]) -> str:
    return " ".join(f"{k}={_value(run.hparams[k])}" for k in keys if k in run.hparams)


def _value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    text = "-" if v is None else str(v)
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 1] + "…"


def shown_hparams(report: RunsReport) -> tuple[list[str], int]:
    """The varying hyper-parameters the table shows (those that explain most of the metric
    first, then by name) and how many more vary."""
    ranked = [e.hparam for e in report.effects if e.hparam in report.varying]
    order = ranked + sorted(k for k in report.varying if k not in ranked)
    return order[:TABLE_HPARAMS], max(0, len(order) - TABLE_HPARAMS)


def render_runs(report: RunsReport, console) -> None:
    """The text report: header, per-run table, groups, noise floor and outliers, effects."""
    from rich.table import Table

    n_models = sum(1 for g in report.groups if g.key is not None)
    sizes = ", ".join(f"{g.id}: {len(g.runs)}" for g in report.groups)
    console.print(
        f"[bold]{len(report.runs)} runs, {n_models} distinct model(s)[/] ({sizes})"
        f"  metric: {report.metric or '-'}  baseline: {report.baseline or '-'}",
        highlight=False,
    )
    varying, more = shown_hparams(report)
    hps = {r.name: _hp(r, varying) for r in report.runs}
    lay = table_layout(report, hps, console.width)
    table = Table(box=None, pad_edge=False, show_edge=False)
    table.add_column("run", width=lay.run_width, no_wrap=True)
    table.add_column("model", no_wrap=True)
    if any(hps.values()):
        table.add_column("hyper-parameters", overflow="fold", min_width=len("hyper-parameters"))
    for tag, w in zip(lay.metrics, lay.metric_widths, strict=True):
        head = tag if len(tag) <= w else tag.replace("/", "/\n")  # break long tags at "/"
        table.add_column(f"{head}\nfinal / best", justify="right", overflow="fold", min_width=w)
    if lay.curve:
        table.add_column("curve", no_wrap=True)
    for r in report.runs:
        cells = [_left_cut(r.name, lay.run_width), report.group_of.get(r.name, "-")]
        cells += [hps[r.name]] if any(hps.values()) else []
        cells += [_metric_cell(r, tag) for tag in lay.metrics]
        c = r.curves.get(report.metric or "")
        cells += [_curve_cell(c.drawn.values) if c else ""] if lay.curve else []
        table.add_row(*cells)
    console.print(table)
    left_out = ([] if lay.curve else ["curve"]) + report.metrics[len(lay.metrics) :]
    if left_out:
        console.print(
            f"left out at this width: {', '.join(left_out)} (a larger --width shows them; "
            "--json has everything)",
            highlight=False,
        )
    if more:
        console.print(
            f"hyper-parameters: {len(varying)} of the {len(varying) + more} that vary are shown "
            "(those that explain most of the metric first); --json has them all",
            highlight=False,
        )
    _groups(report, console)
    _noise(report, console)
    _effects(report, console)


SPARK_WIDTH = 12
RUN_MIN = 20  # a run name column narrower than this drops a metric column (then the curve)
HP_TOKEN = 32  # the hyper-parameters column fits one `name=value` up to this long unbroken


@dataclass
class TableLayout:
    run_width: int
    metrics: list[str]  # the metric columns shown (primary first)
    metric_widths: list[int]
    curve: bool


def table_layout(report: RunsReport, hps: dict[str, str], width: int) -> TableLayout:
    """Column widths for the run table at `width`: names cut from the left to fit; when even
    RUN_MIN columns for names and an unbroken "hyper-parameters" header do not fit, the curve
    goes, then metric columns from the last, down to the primary one."""
    metric_w = [
        max([len("final / best")] + [len(_metric_cell(r, t)) for r in report.runs])
        for t in report.metrics
    ]
    model_w = max([len("model")] + [len(g) for g in report.group_of.values()])
    hp_long = max([len(h) for h in hps.values()], default=0)
    token = max([len(t) for h in hps.values() for t in h.split()], default=0)
    hp_min = max(len("hyper-parameters"), min(token, HP_TOKEN)) if hp_long else 0
    run_long = max(len("run"), *(len(r.name) for r in report.runs))
    n, curve = len(report.metrics), True
    while True:
        cols = 2 + bool(hp_long) + n + curve
        fixed = model_w + sum(metric_w[:n]) + (SPARK_WIDTH if curve else 0) + 2 * (cols - 1)
        avail = width - fixed
        if avail >= min(run_long, RUN_MIN) + hp_min or (not curve and n <= 1):
            break
        if curve:
            curve = False
        else:
            n -= 1
    hp_w = min(hp_long, max(hp_min, avail // 2)) if hp_long else 0
    run_w = max(min(run_long, RUN_MIN), min(run_long, avail - hp_w))
    return TableLayout(run_w, report.metrics[:n], metric_w[:n], curve)


def _left_cut(name: str, width: int) -> str:
    """A run name cut from the left (its end tells runs apart): `…/logs/version_1`."""
    return name if len(name) <= width else "…" + name[len(name) - width + 1 :]


def _metric_cell(run: RunSummary, tag: str) -> str:
    c = run.curves.get(tag)
    return "-" if c is None else f"{_num(c.final)} / {_num(c.best)}"


def _findings_lines(d) -> list[tuple[str, int]]:
    """A difference as lines, each with its hanging indent: a finding's continuation lines
    start under its id (past the severity), the others' two columns in."""
    hang = len(f"{'critical':8} ")
    lines = [(f"{f.severity:8} {f.id}: {f.title}", hang) for f in d.findings[:6]]
    if len(d.findings) > 6:
        lines.append((f"... and {len(d.findings) - 6} more finding(s)", 2))
    if d.hparams:
        items = list(d.hparams.items())
        hp = ", ".join(f"{k} {_value(a)} vs {_value(b)}" for k, (a, b) in items[:TABLE_HPARAMS])
        more = (
            f" and {len(items) - TABLE_HPARAMS} more (--json)" if len(items) > TABLE_HPARAMS else ""
        )
        lines.append((f"hyper-parameters: {hp}{more}", 2))
    if d.error:
        lines.append((f"not compared: {d.error}", 2))
    if not lines:
        lines.append(("no difference found in the model or the hyper-parameters", 2))
    return lines


def _print_hanging(console, text: str, indent: int, hang: int, bold: int = 0) -> None:
    """`text` wrapped to the console's width, `indent` columns in, its continuation lines
    `hang` more (never back at column 0); printed as plain text (no markup), its first `bold`
    characters bold."""
    import textwrap

    from rich.text import Text

    width = max(20, console.width)
    wrapped = textwrap.fill(
        text,
        width=width,
        initial_indent=" " * indent,
        subsequent_indent=" " * (indent + hang),
        break_on_hyphens=False,
    )
    out = Text(wrapped)
    out.stylize("bold", indent, indent + bold)
    console.print(out, no_wrap=True, crop=False, soft_wrap=True)


def _print_difference(console, head: str, d) -> None:
    _print_hanging(console, head, 2, 2)
    for line, hang in _findings_lines(d):
        _print_hanging(console, line, 4, hang)


def _groups(report: RunsReport, console) -> None:
    console.rule("Model groups")
    for g in report.groups:
        facts = "; ".join(f"{k}: {v}" for k, v in list(g.facts.items())[:3]) or "no model recorded"
        which = (
            f"best {g.best}"
            if g.best is not None
            else f"none logged {report.metric}, compared: {g.representative}"
        )
        _print_hanging(console, f"{g.id} {len(g.runs)} run(s), {which}: {facts}", 0, 2, len(g.id))
        if g.difference is not None:
            _print_difference(console, f"vs baseline {g.difference.vs}:", g.difference)


def _noise(report: RunsReport, console) -> None:
    console.rule(f"Seed-noise floor of the final {report.metric}")
    for line in noise_lines(report):
        console.print(line, highlight=False)
    for o in report.outliers:
        _print_hanging(console, f"outlier {outlier_line(o)}", 0, 2, len("outlier"))
        if o.explanation is not None:
            head = (
                f"vs {o.explanation.vs}, the peer nearest the median of those it was judged "
                "against:"
            )
            _print_difference(console, head, o.explanation)


def noise_lines(report: RunsReport) -> list[str]:
    """Each group's floor, or why it has none (groups with one reason on one line), and what
    could be judged."""
    lines, why = [], {}
    for g in report.groups:
        if g.noise_floor is not None:
            note = f"; {g.floor_note}" if g.floor_note else ""
            lines.append(
                f"{g.id}: ±{_num(g.noise_floor)} (robust sigma over {g.replicate_sets} set(s) of "
                f"{MIN_REPLICATES}+ runs with identical hyper-parameters, seeds aside{note})"
            )
        else:
            why.setdefault(g.floor_note or "no replicates", []).append(g.id)
    for note, ids in why.items():
        lines.append(f"no floor for {', '.join(ids)}: {note}")
    logged = sum(1 for r in report.runs if report.final(r) is not None)
    n = len(report.judged)
    if n == 0:
        lines.append(
            f"No run could be judged: no model group has {MIN_REPLICATES}+ runs with identical "
            f"hyper-parameters that logged {report.metric}. "
            "No outlier is reported."
        )
    else:
        lines.append(
            f"{n} of the {logged} run(s) that logged {report.metric} judged against their "
            f"replicates; {len(report.outliers) or 'no'} outlier(s)."
        )
    return lines


def outlier_line(o) -> str:
    far = (
        f"{o.sigmas:.1f} floors away (> {OUTLIER_SIGMAS:g})"
        if math.isfinite(o.sigmas)
        else "which agree exactly (floor 0)"
    )
    whose = "" if o.peers_group == o.group else f" of {o.peers_group} (its model differs)"
    return (
        f"{o.run} ({o.group}): {_num(o.value)} vs {_num(o.peers_median)}, the median of "
        f"{len(o.peers)} replicate(s){whose} with the same hyper-parameters, {far}"
    )


def _effects(report: RunsReport, console) -> None:
    if not report.effects:
        return
    console.rule("What drives the metric")
    console.print(ETA_METHOD.format(metric=report.metric), highlight=False)
    for i, e in enumerate(report.effects, 1):
        bar = "█" * round(e.eta_squared * 20)
        console.print(
            f"{i:2}. {e.hparam:24} eta²={e.eta_squared:.2f} {bar}  ({e.levels} levels)",
            highlight=False,
        )


# --------------------------------------------------------------------------------------------


def render_runs_html(report: RunsReport, doc: dict[str, Any]) -> str:
    """One self-contained page: summary, per-metric charts with every run overlaid, the tables."""
    from tbdiff import __version__
    from tbdiff.html.page import asset, chart_scripts

    color = {g.id: _COLORS[i % len(_COLORS)] for i, g in enumerate(report.groups)}
    charts = runs_charts(report, color)
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in _row(report, r)) + "</tr>"
        for r in report.runs
    )
    head = "".join(
        f"<th scope=col>{escape(h)}</th>"
        for h in ["run", "model", "hyper-parameters", *report.metrics]
    )
    n_models = sum(1 for g in report.groups if g.key is not None)
    body = (
        f"<header><h1>tbdiff runs: {len(report.runs)} runs, {n_models} distinct model(s)</h1>"
        f"<p>{escape(', '.join(report.roots))} &middot; metric {escape(report.metric or '-')} "
        f"&middot; baseline {escape(report.baseline or '-')}</p></header><main>"
        f"{_curves_section(report, charts, color)}"
        f'<section><h2>Runs</h2><div class="table-wrap"><table class="grid">'
        f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div></section>"
        f"<section><h2>Groups, outliers, effects</h2><pre>{escape(_text(report))}</pre></section>"
        "</main>"
    )
    parts = {
        "TITLE": escape(f"tbdiff runs: {', '.join(report.roots)}"),
        "VERSION": escape(__version__),
        "STYLE": asset("style.css"),
        "BODY": body,
        **chart_scripts(charts),
    }
    return re.sub(r"@@([A-Z]+)@@", lambda m: parts[m.group(1)], asset("page.html"))


#: step buckets per run and chart at least, however many runs (CURVE_BUCKETS, what a run
#: summary keeps, caps it): 1000 runs x 3 metrics stay near curves.POINT_BUDGET points
RUNS_MIN_BUCKETS = 8


def runs_charts(report: RunsReport, color: dict[str, str]) -> list[ChartData]:
    """One chart per main metric (index = its place in `report.metrics`): every run that
    logged it, each over its own steps (`Curve.drawn`), coloured by its model group's `color`,
    the baseline drawn thicker on top."""
    from tbdiff.html import curves

    per_tag = [
        (tag, [r for r in report.runs if tag in r.curves and r.curves[tag].drawn.total])
        for tag in report.metrics
    ]
    buckets = curves.buckets_for(sum(len(runs) for _t, runs in per_tag), RUNS_MIN_BUCKETS)
    row = {r.name: k for k, r in enumerate(report.runs)}
    out = []
    for index, (tag, runs) in enumerate(per_tag):
        series = []
        for r in runs:
            gid = report.group_of.get(r.name, "-")
            series.append(
                curves.series_data(
                    r.curves[tag].drawn,
                    buckets,
                    f"r{row[r.name]}",
                    f"{r.name} ({gid})",
                    color=color.get(gid, "#888"),
                    main=r.name == report.baseline,
                )
            )
        if series:
            out.append(curves.ChartData(index=index, series=series, info={"tag": tag}))
    return out


def _curves_section(report: RunsReport, charts: list[ChartData], color: dict[str, str]) -> str:
    from tbdiff.html.page import chart_controls, chart_figure

    legend = " ".join(
        f'<span class="swatch" style="background:{color[g.id]}"></span>'
        f"{escape(g.id)} ({len(g.runs)})"
        for g in report.groups
    )
    if report.baseline:
        legend += f" &middot; thick: baseline {escape(report.baseline)}"
    figs = "".join(
        chart_figure(c.index, escape(c.info["tag"]), c.info["tag"], _chart_note(c), c)
        for c in charts
    )
    how = (
        "Each run is drawn over its own steps. Long curves are drawn from a subset of their "
        "points: per step interval, the points holding the run's minimum and maximum (plus its "
        "first and last), so every value shown on hover is a logged value. Smoothing is "
        "TensorBoard's: a debiased exponential moving average over the drawn points."
    )
    return (
        '<section id="curves"><h2>Curves</h2>'
        f"{chart_controls(legend) if charts else '<p>No scalar curves.</p>'}"
        f'<div class="charts">{figs}</div><p class="muted">{how}</p>'
        "<noscript><p>The charts need JavaScript; the tables below are static.</p></noscript>"
        "</section>"
    )


def _chart_note(chart: ChartData) -> str:
    """Under a chart: how many runs, their step ranges, how many points are drawn."""
    ranged = [s for s in chart.series if s.first_step is not None]
    text = f"{count(len(chart.series), 'run')}, each over its own steps"
    if ranged:
        first = min(s.first_step for s in ranged)
        last = max(s.last_step for s in ranged)
        ends = sorted({s.last_step for s in ranged})
        text += f": steps {first}\u2013{last}"
        if len(ends) > 1:
            text += f" (runs end between step {ends[0]} and {ends[-1]})"
    if chart.sampled:
        shown = sum(s.shown for s in chart.series)
        total = sum(s.total for s in chart.series)
        text += f" \u00b7 {shown} of {total} points drawn"
    return f'<p class="stats">{escape(text)}</p>'


def _row(report: RunsReport, r: RunSummary) -> list[str]:
    cells = [r.name, report.group_of.get(r.name, "-"), _hp(r, report.varying)]
    for tag in report.metrics:
        c = r.curves.get(tag)
        cells.append("-" if c is None else f"{_num(c.final)} / {_num(c.best)}")
    return cells


def _text(report: RunsReport) -> str:
    import io

    from rich.console import Console

    buf = io.StringIO()
    console = Console(file=buf, width=100, no_color=True, color_system=None, highlight=False)
    _groups(report, console)
    _noise(report, console)
    _effects(report, console)
    return buf.getvalue()
