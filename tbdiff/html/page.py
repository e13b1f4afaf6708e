"""Turn a Report into one self-contained HTML page (styles, scripts and data inline).

Everything but the charts is static HTML built here from the report's public data
(`Report.to_dict()`, the JSON contract), so the page reads without JavaScript and prints. The
charts are drawn in the browser from a JSON data island (see `curves.py` for the points sent and
`assets/report.js` for the drawing). A Content-Security-Policy meta tag forbids every network
request, so the page cannot reach out even if some text in it looked like a link.
"""

from __future__ import annotations

import json
import re
from html import escape
from importlib import resources
from typing import TYPE_CHECKING, Any

from tbdiff import __version__
from tbdiff.html import curves
from tbdiff.html.diagram import layer_diagram

if TYPE_CHECKING:
    from tbdiff.report import Report

SEVERITY_WORDS = {
    "critical": "changes what the model computes or learns",
    "warning": "may change behaviour; cannot be decided from the logs alone",
    "benign": "different structure, same effect",
    "info": "bookkeeping",
}
_KNOWN_KEYS = {
    "schema", "a", "b", "graph", "findings", "scalars", "unpaired_scalars", "layers", "hparams",
    "verdict", "exit_code", "node_diffs", "warnings", "warning_records",
}  # fmt: skip


def asset(name: str) -> str:
    return resources.files("tbdiff.html").joinpath("assets", name).read_text(encoding="utf-8")


def value_text(v: Any) -> str:
    """Plain words for a compared value: numbers short, lists joined, dicts as key: value."""
    if v is None:
        return "\u2014"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, list):
        if not v:
            return "none"
        return ", ".join(
            value_text(x) if not isinstance(x, list) else f"[{value_text(x)}]" for x in v
        )
    if isinstance(v, dict):
        return "; ".join(f"{k}: {value_text(x)}" for k, x in v.items())
    return str(v)


def _json_island(obj_json: str) -> str:
    """JSON text made safe inside <script>: no '</script>' or '<!--' can appear."""
    return obj_json.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# ------------------------------------------------------------------------------ sections


def _header(d: dict[str, Any]) -> str:
    a, b = d["a"], d["b"]

    def run(side: str, r: dict[str, Any]) -> str:
        bits = [f"run {r['run']}"] if r.get("run") not in (None, "", ".") else []
        if r.get("graph_source"):
            bits.append(f"graph from {r['graph_source']}, {r.get('nodes', 0)} nodes")
        extra = f" <span class=muted>({escape(', '.join(bits))})</span>" if bits else ""
        return (
            f'<div class="run run-{side.lower()}"><dt><span class="swatch {side.lower()}"></span>'
            f"{side} \u00b7 {escape(r.get('label') or side)}</dt>"
            f"<dd><code>{escape(r['path'])}</code>{extra}</dd></div>"
        )

    return (
        f"<header class=top><h1>tbdiff: <span class=a>{escape(a.get('label') or 'A')}</span> vs "
        f"<span class=b>{escape(b.get('label') or 'B')}</span></h1>"
        f'<dl class="runs">{run("A", a)}{run("B", b)}</dl></header>'
    )


def _nav(d: dict[str, Any], warnings: bool) -> str:
    items = [("verdict", "Verdict"), ("findings", "Findings")]
    if "scalars" in d:
        items.append(("curves", "Curves"))
    if d.get("layers"):
        items.append(("layers", "Layers"))
    if d.get("graph") is not None:
        items.append(("nodes", "Nodes"))
    if d.get("hparams"):
        items.append(("hparams", "Hyper-parameters"))
    if warnings:
        items.append(("warnings", "Warnings"))
    links = "".join(f'<li><a href="#{k}">{v}</a></li>' for k, v in items)
    return f'<nav aria-label="Sections"><ul>{links}</ul></nav>'


def _verdict(d: dict[str, Any], why: str, n_warnings: int) -> str:
    """The verdict box; `why` is the report's own reason for its exit code."""
    findings = d.get("findings") or []
    worst = findings[0]["severity"] if findings else "none"
    code = d.get("exit_code", 0)
    counts: dict[str, int] = {}
    for f in findings:
        counts[f["severity"]] = counts.get(f["severity"], 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in counts.items()) or "no findings"
    read = (
        f' <a href="#warnings">{n_warnings} warning(s) while reading the logs.</a>'
        if n_warnings
        else ""
    )
    return (
        f'<section id="verdict" class="verdict sev-{escape(worst)}" aria-labelledby="verdict-h">'
        f'<h2 id="verdict-h">Verdict</h2><p class="verdict-text">{escape(d.get("verdict") or "")}'
        f'</p><p class="muted">Findings: {escape(summary)}. Exit code {code}: {escape(why)}.{read}'
        "</p></section>"
    )


def _values_table(f: dict[str, Any], label_a: str, label_b: str) -> str:
    a, b = f.get("a") or {}, f.get("b") or {}
    if not isinstance(a, dict) or not isinstance(b, dict) or not (a or b):
        return ""
    keys = list(a) + [k for k in b if k not in a]
    rows = []
    for k in keys:
        va, vb = a.get(k), b.get(k)
        cls = ' class="differs"' if va != vb else ""
        rows.append(
            f"<tr{cls}><th scope=row>{escape(str(k))}</th><td>{escape(value_text(va))}</td>"
            f"<td>{escape(value_text(vb))}</td></tr>"
        )
    return (
        '<table class="values"><caption class="sr-only">Compared values</caption><thead><tr>'
        f"<th scope=col>value</th><th scope=col>A \u00b7 {escape(label_a)}</th>"
        f"<th scope=col>B \u00b7 {escape(label_b)}</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _evidence(f: dict[str, Any]) -> str:
    na, nb = f.get("nodes_a") or [], f.get("nodes_b") or []
    if not na and not nb:
        return ""

    def col(side: str, nodes: list[str]) -> str:
        items = "".join(f"<li><code>{escape(n)}</code></li>" for n in nodes) or "<li>none</li>"
        return f"<div><h4>{side}</h4><ul>{items}</ul></div>"

    return (
        f'<details class="evidence"><summary>Evidence: {len(na)} node(s) in A, {len(nb)} in B'
        f'</summary><div class="cols">{col("A", na)}{col("B", nb)}</div></details>'
    )


def _finding(i: int, f: dict[str, Any], label_a: str, label_b: str) -> str:
    """One card; critical and warning cards (and the first) open, the others folded."""
    sev = escape(f["severity"])
    fix = f.get("fix")
    fix_html = f'<p class="fix"><strong>Fix:</strong> {escape(str(fix))}</p>' if fix else ""
    is_open = " open" if i == 1 or f["severity"] in ("critical", "warning") else ""
    return (
        f'<article class="finding sev-{sev}" id="finding-{i}" aria-labelledby="finding-{i}-t">'
        f'<details{is_open}><summary><span class="badge sev-{sev}" '
        f'title="{escape(SEVERITY_WORDS.get(sev, ""))}">{sev}</span>'
        f'<h3 id="finding-{i}-t"><span class="rank">{i}.</span> {escape(f["title"])}</h3>'
        f'<code class="fid">{escape(f["id"])}</code></summary>'
        f"{_values_table(f, label_a, label_b)}"
        f'<p class="detail">{escape(f.get("detail") or "")}</p>{fix_html}{_evidence(f)}'
        "</details></article>"
    )


def _findings(d: dict[str, Any]) -> str:
    findings = d.get("findings") or []
    la, lb = d["a"].get("label") or "A", d["b"].get("label") or "B"
    if not findings:
        body = "<p>No differences found in the graphs.</p>"
        if d.get("graph") is None:
            body = "<p>The graphs were not compared.</p>"
    else:
        body = "".join(_finding(i, f, la, lb) for i, f in enumerate(findings, 1))
    return (
        '<section id="findings" aria-labelledby="findings-h"><h2 id="findings-h">Findings '
        f'<span class="muted">({len(findings)}, most likely cause first)</span></h2>{body}'
        "</section>"
    )


def _num(x: Any) -> str:
    return "\u2014" if x is None else f"{x:.6g}" if isinstance(x, float) else str(x)


def _ranges(chart: curves.ChartData) -> list[str]:
    """Each run's own step range when they differ, and the share of points drawn."""
    a, b = chart.series
    out = []
    if (a.first_step, a.last_step) != (b.first_step, b.last_step):
        out.append(
            f"A logs steps {_num(a.first_step)}\u2013{_num(a.last_step)} ({a.total} points), "
            f"B {_num(b.first_step)}\u2013{_num(b.last_step)} ({b.total})"
        )
    for side, name in ((a, "A"), (b, "B")):
        if side.shown < side.total:
            out.append(f"{name}: {side.shown} of {side.total} points drawn")
    return out


def _chart_figure(s: dict[str, Any], chart: curves.ChartData | None) -> str:
    i = chart.index if chart is not None else -1
    div = s.get("diverges_at_step")
    stats = [
        f"final A {_num(s.get('final_a'))} (step {_num(s.get('final_step_a'))})",
        f"final B {_num(s.get('final_b'))} (step {_num(s.get('final_step_b'))})",
        f"max |B\u2212A| {_num(s.get('max_abs_diff'))} over {s.get('steps', 0)} common steps",
        "curves stay together" if div is None else f"apart from step {_num(div)} on",
        f"paired: {s.get('how', '')}",
    ]
    if chart is not None:
        stats += _ranges(chart)
    note = f'<p class="note">{escape(s["note"])}</p>' if s.get("note") else ""
    stats_text = escape(" \u00b7 ".join(stats))
    title = f"{s['tag_a']} vs {s['tag_b']}"
    caption = f'<span class="a">{escape(s["tag_a"])}</span> vs <span class="b">{escape(s["tag_b"])}</span>'
    return chart_figure(i, caption, title, f'<p class="stats">{stats_text}</p>{note}', chart)


def chart_figure(
    i: int, caption: str, title: str, below: str, chart: curves.ChartData | None
) -> str:
    """One chart's figure as `assets/report.js` finds it (data-index = `ChartData.index`):
    `caption` (HTML) with the log-scale toggle, the plot and its hover box, then `below` (HTML)."""
    if chart is None:
        plot = '<p class="muted">No finite values: nothing to draw.</p>'
    else:
        plot = (
            f'<div class="plot-wrap"><svg class="plot" data-index="{i}" role="img" tabindex="0" '
            f'aria-label="{escape(title)}: use the left and right arrow keys to read values">'
            '</svg><div class="tip" role="status" aria-live="polite"></div></div>'
        )
    return (
        f'<figure class="chart" id="chart-{i}" data-index="{i}"><figcaption>'
        f'<span class="tags">{caption}</span>'
        '<label class="log"><input type="checkbox" class="logscale"> log scale</label>'
        f"</figcaption>{plot}{below}</figure>"
    )


def chart_controls(legend: str) -> str:
    """The smoothing slider every chart of the page follows, and `legend` (HTML)."""
    return (
        '<div class="controls"><label for="smoothing">Smoothing</label>'
        '<input type="range" id="smoothing" min="0" max="0.99" step="0.01" value="0">'
        '<output id="smoothing-value" for="smoothing">0.00</output>'
        f'<span class="legend">{legend}</span></div>'
    )


def chart_scripts(charts: list[curves.ChartData]) -> dict[str, str]:
    """The page template's parts that draw `charts`: the JSON data island and the scripts."""
    return {
        "CURVES": _json_island("[" + ",".join(c.to_json() for c in charts) + "]"),
        "SMOOTH": asset("smooth.js"),
        "SCRIPT": asset("report.js"),
    }


def _curves(d: dict[str, Any], charts: list[curves.ChartData]) -> str:
    scalars = d.get("scalars") or []
    by_index = {c.index: c for c in charts}
    figs = "".join(_chart_figure(s, by_index.get(i)) for i, s in enumerate(scalars))
    unpaired = d.get("unpaired_scalars") or {}
    un = ""
    for side in ("a", "b"):
        tags = unpaired.get(side) or []
        if tags:
            un += (
                f"<p class=muted>Only in {side.upper()} (not paired): {escape(', '.join(tags))}</p>"
            )
    if not scalars:
        figs = "<p>No paired scalar curves.</p>"
    la, lb = escape(d["a"].get("label") or "A"), escape(d["b"].get("label") or "B")
    controls = chart_controls(
        f'<span class="swatch a"></span>A \u00b7 {la} <span class="swatch b"></span>B \u00b7 {lb} '
        '<span class="swatch div"></span>curves apart from here'
    )
    return (
        '<section id="curves" aria-labelledby="curves-h"><h2 id="curves-h">Curves</h2>'
        f"{controls if charts else ''}<div class=charts>{figs}</div>{un}"
        "<noscript><p>The charts need JavaScript; the numbers under each are static.</p>"
        "</noscript></section>"
    )


def _layers(d: dict[str, Any]) -> str:
    layers = d.get("layers") or []
    if not layers:
        return ""
    la, lb = escape(d["a"].get("label") or "A"), escape(d["b"].get("label") or "B")
    counts: dict[str, int] = {}
    for lp in layers:
        counts[lp["status"]] = counts.get(lp["status"], 0) + 1
    legend = "".join(
        f'<span class="key status-{s}"><span class="swatch"></span>{w} ({counts.get(s, 0)})</span>'
        for s, w in (
            ("matched", "matched"),
            ("changed", "changed"),
            ("only_a", "only in A"),
            ("only_b", "only in B"),
        )
    )
    rows = "".join(
        f'<tr class="status-{escape(lp["status"])}"><td>{escape(lp.get("a") or "")}</td>'
        f"<td>{escape(lp.get('b') or '')}</td><td>{escape(lp.get('kind') or '')}</td>"
        f"<td>{escape(value_text(lp.get('shape_a')))}</td>"
        f"<td>{escape(value_text(lp.get('shape_b')))}</td><td>{escape(lp['status'])}</td></tr>"
        for lp in layers
    )
    return (
        '<section id="layers" aria-labelledby="layers-h"><h2 id="layers-h">Layer alignment</h2>'
        f'<p class="legend">{legend}</p><div class="diagram"><div class="cols-head">'
        f"<span>A \u00b7 {la}</span><span></span><span>B \u00b7 {lb}</span></div>"
        f"{layer_diagram(layers, d['a'].get('label') or 'A', d['b'].get('label') or 'B')}</div>"
        "<details><summary>As a table</summary><table class=grid><thead><tr><th scope=col>A</th>"
        "<th scope=col>B</th><th scope=col>kind</th><th scope=col>shape A</th>"
        f"<th scope=col>shape B</th><th scope=col>status</th></tr></thead><tbody>{rows}</tbody>"
        "</table></details></section>"
    )


def _nodes(d: dict[str, Any]) -> str:
    counts = d.get("graph")
    if counts is None:
        return ""
    words = {"only_a": "only in A", "only_b": "only in B"}
    chips = " \u00b7 ".join(f"{words.get(k, k)} {v}" for k, v in counts.items())
    diffs = d.get("node_diffs") or []
    if not diffs:
        body = "<p class=muted>Run with <code>--all</code> to list every node difference.</p>"
    else:
        rows = "".join(
            f'<tr data-status="{escape(n["status"])}"><td>{escape(n["status"])}</td>'
            f"<td>{escape(n['a'])}</td><td>{escape(n['b'])}</td><td>{escape(n['detail'])}</td>"
            "</tr>"
            for n in diffs
        )
        options = "".join(
            f'<option value="{s}">{s}</option>' for s in ("changed", "only_a", "only_b")
        )
        body = (
            f'<details id="node-diffs"><summary>Node differences ({len(diffs)})</summary>'
            '<div class="filters"><label for="node-search">Search</label>'
            '<input type="search" id="node-search" placeholder="node name or change">'
            '<label for="node-status">Status</label><select id="node-status">'
            f'<option value="">all</option>{options}</select>'
            '<span id="node-count" class="muted" aria-live="polite"></span></div>'
            '<table class="grid" id="node-table"><thead><tr><th scope=col>status</th>'
            "<th scope=col>node in A</th><th scope=col>node in B</th>"
            f"<th scope=col>what changed</th></tr></thead><tbody>{rows}</tbody></table></details>"
        )
    return (
        '<section id="nodes" aria-labelledby="nodes-h"><h2 id="nodes-h">Nodes</h2>'
        f"<p>{escape(chips)}</p>{body}</section>"
    )


def _hparams(d: dict[str, Any]) -> str:
    hp = d.get("hparams") or []
    if not hp:
        return ""
    rows = "".join(
        f"<tr><th scope=row>{escape(h['key'])}</th><td>{escape(value_text(h['a']))}</td>"
        f"<td>{escape(value_text(h['b']))}</td></tr>"
        for h in hp
    )
    return (
        '<section id="hparams" aria-labelledby="hparams-h"><h2 id="hparams-h">Hyper-parameters '
        'that differ</h2><table class="grid"><thead><tr><th scope=col>key</th>'
        f"<th scope=col>A</th><th scope=col>B</th></tr></thead><tbody>{rows}</tbody></table>"
        "</section>"
    )


def _warnings(lines: list[str]) -> str:
    """What went wrong while reading (truncated files, purged restarts, ...), folded; `lines`
    are `render.warning_lines`, the same text the command prints on stderr."""
    if not lines:
        return ""
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return (
        '<section id="warnings" aria-labelledby="warnings-h"><details id="warnings-list">'
        f'<summary><h2 id="warnings-h">Warnings ({len(lines)})</h2></summary>'
        f'<p class="muted">Problems met while reading the logs; the results above use what '
        f"could be read.</p><ul>{items}</ul></details></section>"
    )


def _extra(d: dict[str, Any]) -> str:
    """Keys other commands add (e.g. train-and-compare's "experiment"), shown as JSON."""
    out = ""
    for key in (k for k in d if k not in _KNOWN_KEYS):
        text = json.dumps(d[key], indent=1)
        out += f"<details><summary>{escape(key)}</summary><pre>{escape(text)}</pre></details>"
    return f'<section id="extra"><h2>More</h2>{out}</section>' if out else ""


def _footer(charts: list[curves.ChartData]) -> str:
    how = ""
    if charts:
        how = (
            "Long curves are drawn from a subset of their points: per pixel-wide step interval, "
            "the points holding the run's minimum and maximum (plus the first and last), so "
            "every value shown on hover is a logged value. "
            if any(c.sampled for c in charts)
            else "Every point of every curve is drawn. "
        )
        how += (
            "Each run is drawn over its own steps; the statistics compare the common steps (the "
            "shaded band marked \u201ccompared steps\u201d when the step ranges differ). "
            "Smoothing is TensorBoard's: a debiased exponential moving average over the drawn "
            "points. "
        )
    return (
        f"<footer><p>{how}Written by tbdiff {escape(__version__)}; this file needs no network."
        "</p></footer>"
    )


# ------------------------------------------------------------------------------ the page


def render_html(report: Report) -> str:
    """The whole page for `report` as one string."""
    d = json.loads(report.to_json(indent=None))
    from tbdiff.render import warning_lines  # the one formatting of warnings (stderr, SVG, here)

    charts = curves.charts(report.scalars, (d["a"].get("label") or "A", d["b"].get("label") or "B"))
    warnings = warning_lines(report.warnings)
    body = (
        _header(d)
        + _nav(d, bool(warnings))
        + "<main>"
        + _verdict(d, report.exit_reason, len(warnings))
        + _findings(d)
        + (_curves(d, charts) if "scalars" in d else "")
        + _layers(d)
        + _nodes(d)
        + _hparams(d)
        + _warnings(warnings)
        + _extra(d)
        + "</main>"
        + _footer(charts)
    )
    parts = {
        "TITLE": escape(f"tbdiff: {d['a'].get('label') or 'A'} vs {d['b'].get('label') or 'B'}"),
        "VERSION": escape(__version__),
        "STYLE": asset("style.css"),
        "BODY": body,
        **chart_scripts(charts),
    }
    # one pass: text inserted for one marker is never scanned for another
    return re.sub(r"@@([A-Z]+)@@", lambda m: parts[m.group(1)], asset("page.html"))
