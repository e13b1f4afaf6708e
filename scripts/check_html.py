"""Check a tbdiff HTML report in headless Chromium with the network off.

Usage: python scripts/check_html.py [REPORT.html] [--out DIR] [--json] [--eval EXPR ...]

Without REPORT, writes one with `tbdiff compare sample_logs/tensorflow sample_logs/keras --all
--html`. Loads the page from a file:// URL in Debian's Chromium (headless, fresh profile, network
emulated offline, every host name unresolvable, a dead proxy), driven through the DevTools
protocol over a pipe (--remote-debugging-pipe: no websocket client, no extra package). Works on
the compare page and the runs page (`tbdiff runs --html`: one series per run). Asserts: no
console errors or uncaught exceptions, no request other than the page itself, every chart drawn
(each run's own points, every one, as an SVG path), hover shows every run's values (at most
TIP_ROWS), smoothing and the log toggle redraw, the keyboard reads values, the node search
filters, and the hover box never covers a label above a plot ("compared steps", "apart from
step N"; the pointer swept over each labelled chart, with the box at its height and taller than
the plot). Takes screenshots at 1280 and 800 px wide, and at 1280 px in the dark colour scheme,
into --out (default bench_out/html_check), plus one chart with the hover box next to its label
(report_desktop_label.png, report_narrow_label.png). `--eval` evaluates expressions in the
loaded page and reports their values (the smoothing test uses it). Prints a summary (JSON with
--json); exit 0 when every check passed, 1 when one failed, 2 when Chromium is missing.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--proxy-server=127.0.0.1:9",  # a dead proxy: nothing can leave even if something tried
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--allow-file-access-from-files",
    "--remote-debugging-pipe",
]
# runs listed in the hover box at most (report.js TIP_ROWS)
TIP_ROWS = 8
# view name -> (width in px, colour scheme)
VIEWS = {"desktop": (1280, "light"), "narrow": (800, "light"), "dark": (1280, "dark")}


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    """Chromium driven through the DevTools protocol on fds 3 (commands) and 4 (replies)."""

    def __init__(self, executable: str, profile: str) -> None:
        cmd_r, self._cmd_w = os.pipe()
        self._out_r, out_w = os.pipe()

        def child_fds() -> None:  # runs in the child before exec: put the pipes on 3 and 4
            a, b = os.dup(cmd_r), os.dup(out_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            # not pass_fds: the child closes the fds it does not keep *after* preexec_fn, which
            # would close 3 and 4 again; the originals are close-on-exec, the dup2 copies not
            close_fds=False,
            preexec_fn=child_fds,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(cmd_r)
        os.close(out_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            if time.monotonic() > deadline:
                raise TimeoutError("no reply from Chromium")
            chunk = os.read(self._out_r, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._id += 1
        msg: dict = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + 60
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        for i, ev in enumerate(self.events):
            if ev.get("method") == method:
                return self.events.pop(i)
        while True:
            ev = self._read_message(deadline)
            if ev.get("method") == method:
                return ev
            self.events.append(ev)

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (RuntimeError, OSError, TimeoutError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._cmd_w)
        os.close(self._out_r)


# Runs inside the page: what the charts, tooltips and controls did.
PAGE_PROBE = r"""
(() => {
  const out = {ready: !!window.tbdiffReport, charts: []};
  document.querySelectorAll('figure.chart svg.plot').forEach(svg => {
    const count = k => {
      const sel = 'path.series[data-series="' + k + '"]';
      const p = svg.querySelector(sel + ':not(.raw)') || svg.querySelector(sel);
      return p ? (p.getAttribute('d').match(/[ML]/g) || []).length : 0;
    };
    const n = new Set([...svg.querySelectorAll('path.series')].map(p => p.dataset.series)).size;
    out.charts.push({index: svg.dataset.index, points: [...Array(n).keys()].map(count),
      divergence: !!svg.querySelector('.divergence line'),
      compared: !!svg.querySelector('.compared rect'),
      ticks: svg.querySelectorAll('text.tick').length});
  });
  out.islandCharts = JSON.parse(document.getElementById('tbdiff-curves').textContent)
    .map(c => ({index: String(c.index), points: c.series.map(s => s.steps.length),
                ends: c.series.map(s => s.steps.length ? [s.steps[0], s.steps[s.steps.length - 1]] : null)}));
  out.verdict = (document.querySelector('#verdict .verdict-text') || {}).textContent || '';
  out.findings = [...document.querySelectorAll('article.finding')].map(a => a.id);
  out.layerLinks = document.querySelectorAll('svg.layers-diagram path.link').length;
  out.scrollWidth = document.documentElement.scrollWidth;
  out.clientWidth = document.documentElement.clientWidth;
  const nav = performance.getEntriesByType('navigation')[0];
  out.loadEventEnd = nav ? nav.loadEventEnd : null;
  out.drawnAt = window.tbdiffReport ? window.tbdiffReport.drawnAt : null;
  return JSON.stringify(out);
})()
"""

# Exercise the controls: smoothing, log scale, node search.
CONTROLS_PROBE = r"""
(() => {
  const out = {};
  const svg = document.querySelector('figure.chart svg.plot');
  const slider = document.getElementById('smoothing');
  if (svg && slider) {
    slider.value = '0.6';
    slider.dispatchEvent(new Event('input'));
    out.series = JSON.parse(document.getElementById('tbdiff-curves').textContent)
      .find(c => String(c.index) === svg.dataset.index).series.length;
    out.smoothPaths = svg.querySelectorAll('path.series.smooth').length;
    out.rawPaths = svg.querySelectorAll('path.series.raw').length;
    out.smoothingOutput = document.getElementById('smoothing-value').value;
    slider.value = '0';
    slider.dispatchEvent(new Event('input'));
    out.smoothPathsAfterReset = svg.querySelectorAll('path.series.smooth').length;
    const box = svg.closest('figure').querySelector('input.logscale');
    const first = () => svg.querySelector('path.series[data-series="0"]').getAttribute('d');
    const before = first();
    box.click();
    out.logChanged = first() !== before;
    box.click();
    out.logRestored = first() === before;
    const tip = svg.closest('figure').querySelector('.tip');
    svg.focus();
    out.keyFocus = tip.hidden ? '' : tip.innerText.split('\n')[0];
    svg.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowLeft', bubbles: true}));
    out.keyLeft = tip.hidden ? '' : tip.innerText.split('\n')[0];
    svg.blur();
    out.keyBlurHides = tip.hidden;
  }
  const search = document.getElementById('node-search');
  if (search) {
    document.getElementById('node-diffs').open = true;
    const rows = document.querySelectorAll('#node-table tbody tr');
    const target = rows[rows.length - 1].cells[1].textContent || rows[rows.length - 1].cells[2].textContent;
    search.value = target;
    search.dispatchEvent(new Event('input'));
    out.nodeRows = rows.length;
    out.nodeShown = [...rows].filter(r => !r.hidden).length;
    out.nodeCount = document.getElementById('node-count').textContent;
    search.value = '';
    search.dispatchEvent(new Event('input'));
    document.getElementById('node-diffs').open = false;
  }
  return JSON.stringify(out);
})()
"""


def evaluate(b: Browser, session: str, expr: str):
    res = b.send("Runtime.evaluate", {"expression": expr, "returnByValue": True}, session)
    if "exceptionDetails" in res:
        raise RuntimeError(f"evaluation failed: {res['exceptionDetails'].get('text')}: {expr}")
    return res["result"].get("value")


def open_page(b: Browser, url: str, width: int, scheme: str) -> tuple[str, float]:
    """A fresh tab at `width` px, offline, loading `url`; returns (session, load seconds)."""
    target = b.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = b.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Network", "Log"):
        b.send(f"{domain}.enable", {}, session)
    b.send(
        "Network.emulateNetworkConditions",
        {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        session,
    )
    b.send(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False},
        session,
    )
    b.send(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
        session,
    )
    t0 = time.monotonic()
    b.send("Page.navigate", {"url": url}, session)
    b.wait_event("Page.loadEventFired")
    return session, time.monotonic() - t0


def screenshot(b: Browser, session: str, path: Path, hover: bool) -> None:
    """Full-page PNG; with `hover`, the pointer rests on the first chart first."""
    if hover:
        rect = evaluate(
            b,
            session,
            "(() => { const s = document.querySelector('figure.chart svg.plot'); if (!s) return"
            " null; const r = s.getBoundingClientRect(); return JSON.stringify([r.left,"
            " r.top + scrollY, r.width, r.height]); })()",
        )
        if rect:
            x, y, w, h = json.loads(rect)
            evaluate(b, session, f"scrollTo(0, {max(0, y - 300)})")
            top = evaluate(b, session, "scrollY")
            b.send(
                "Input.dispatchMouseEvent",
                {"type": "mouseMoved", "x": x + w * 0.62, "y": y - top + h / 2},
                session,
            )
    metrics = b.send("Page.getLayoutMetrics", {}, session)
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
    shot = b.send(
        "Page.captureScreenshot",
        {"format": "png", "clip": clip, "captureBeyondViewport": True},
        session,
    )
    path.write_bytes(base64.b64decode(shot["data"]))


def hover_text(b: Browser, session: str) -> str:
    """Tooltip text after moving the pointer over the middle of the first chart."""
    rect = evaluate(
        b,
        session,
        "(() => { const s = document.querySelector('figure.chart svg.plot'); if (!s) return null;"
        " s.scrollIntoView({block: 'center'}); const r = s.getBoundingClientRect();"
        " return JSON.stringify([r.left, r.top, r.width, r.height]); })()",
    )
    if not rect:
        return ""
    x, y, w, h = json.loads(rect)
    b.send(
        "Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x + w / 2, "y": y + h / 2}, session
    )
    text = evaluate(b, session, "document.querySelector('figure.chart .tip').innerText")
    b.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": 1, "y": 1}, session)
    return text or ""


# Which labels above the plot of chart K ("compared steps", "apart from step N") the visible
# hover box overlaps, as their texts; null when the box is hidden.
TIP_OVER_LABELS = r"""
(k => {
  const f = document.querySelectorAll('figure.chart')[k];
  const tip = f.querySelector('.tip');
  if (tip.hidden) return null;
  const a = tip.getBoundingClientRect();
  return JSON.stringify([...f.querySelectorAll('.compared text, .divergence text')]
    .filter(l => { const b = l.getBoundingClientRect();
      return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom; })
    .map(l => l.textContent));
})
"""
# a hover box taller than the plot: no place beside the cursor is free of the labels
TALL_TIP = (
    "(() => { const s = document.createElement('style'); s.id = 'tall-tip';"
    " s.textContent = '.tip { padding-bottom: 240px !important; }';"
    " document.head.appendChild(s); return 1; })()"
)


def labelled_charts(b: Browser, session: str) -> list[int]:
    """Indices (in page order) of the charts with a label above the plot."""
    return json.loads(
        evaluate(
            b,
            session,
            "JSON.stringify([...document.querySelectorAll('figure.chart')].map((f, k) =>"
            " f.querySelector('.compared text, .divergence text') ? k : -1)"
            ".filter(k => k >= 0))",
        )
    )


def sweep_labels(b: Browser, session: str, k: int, tall: bool) -> tuple[int, list[str]]:
    """Moves the pointer over chart k (40 columns x 4 rows, the top row at the labels' height)
    and returns (positions tried, where the hover box covered a label)."""
    if tall:
        evaluate(b, session, TALL_TIP)
    x, y, w, h = json.loads(
        evaluate(
            b,
            session,
            f"(() => {{ const s = document.querySelectorAll('figure.chart svg.plot')[{k}];"
            " s.scrollIntoView({block: 'center'}); const r = s.getBoundingClientRect();"
            " return JSON.stringify([r.left, r.top, r.width, r.height]); })()",
        )
    )
    tried, hits = 0, []
    for col in range(40):
        px = x + 62 + (w - 80) * col / 39
        for py in (y + 10, y + h * 0.3, y + h * 0.6, y + h - 40):
            b.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": px, "y": py}, session)
            got = evaluate(b, session, f"({TIP_OVER_LABELS})({k})")
            tried += got is not None
            if got and json.loads(got):
                hits.append(f"chart {k} at ({px:.0f}, {py - y:.0f}){' tall' * tall}: {got}")
    if tall:
        evaluate(b, session, "document.getElementById('tall-tip').remove()")
    return tried, hits


# Chart K: the pointer's place at its first label's x just under the labels, the figure's
# box (page coordinates), and after a move there, the hover box's gap below the lowest label.
LABEL_PLACE = r"""
(k => {
  const f = document.querySelectorAll('figure.chart')[k];
  f.scrollIntoView({block: 'center'});
  const s = f.querySelector('svg.plot').getBoundingClientRect();
  const l = f.querySelector('.compared text, .divergence text').getBoundingClientRect();
  const g = f.getBoundingClientRect();
  return JSON.stringify([l.left + l.width / 2, s.top + 30, g.left, g.top + scrollY, g.width,
    g.height]);
})
"""
TIP_GAP = r"""
(k => {
  const f = document.querySelectorAll('figure.chart')[k];
  const tip = f.querySelector('.tip').getBoundingClientRect();
  const low = Math.max(...[...f.querySelectorAll('.compared text, .divergence text')]
    .map(l => l.getBoundingClientRect().bottom));
  return JSON.stringify([tip.top - low, f.querySelector('.tip').innerText.split('\n')[0]]);
})
"""


def label_shot(b: Browser, session: str, charts: list[int], path: Path, tall: bool) -> dict:
    """Screenshot of the labelled chart (of the first 3) where the hover box comes nearest its
    labels, the pointer at the first label's x just under the labels; with `tall`, the box
    taller than the plot. Returns the chart, the gap in px and the box's first line."""
    if tall:
        evaluate(b, session, TALL_TIP)
    best = None
    for k in charts[:3]:
        x, y, *fig = json.loads(evaluate(b, session, f"({LABEL_PLACE})({k})"))
        b.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y}, session)
        gap, line = json.loads(evaluate(b, session, f"({TIP_GAP})({k})"))
        if best is None or gap < best[1]:
            best = (k, gap, line)
    k, gap, line = best
    x, y, gx, gy, gw, gh = json.loads(evaluate(b, session, f"({LABEL_PLACE})({k})"))
    b.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y}, session)
    clip = {"x": gx - 4, "y": gy - 4, "width": gw + 8, "height": gh + 8, "scale": 1}
    shot = b.send("Page.captureScreenshot", {"format": "png", "clip": clip}, session)
    path.write_bytes(base64.b64decode(shot["data"]))
    if tall:
        evaluate(b, session, "document.getElementById('tall-tip').remove()")
    return {"chart": k, "gap_px": round(gap, 1), "hover": line, "screenshot": str(path)}


def check_labels(b: Browser, session: str, name: str, out_dir: Path) -> dict:
    """The hover box never covers a label above a plot, at its height and when taller than
    the plot (the first 3 labelled charts), and screenshots of it next to one."""
    charts = labelled_charts(b, session)
    res: dict = {"charts": len(charts), "positions": 0, "overlaps": [], "shots": []}
    for k in charts[:3]:
        for tall in (False, True):
            tried, hits = sweep_labels(b, session, k, tall)
            res["positions"] += tried
            res["overlaps"] += hits
    for tall in (False, True) if charts else ():
        shot = out_dir / f"report_{name}_label{'_tall' * tall}.png"
        res["shots"].append(label_shot(b, session, charts, shot, tall))
    return res


def problems_from_events(events: list[dict], page_url: str) -> tuple[list[str], list[str]]:
    """(console errors and exceptions, requests other than the page itself)."""
    errors, requests = [], []
    for ev in events:
        m, p = ev.get("method"), ev.get("params", {})
        if m == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            errors.append(
                f"exception: {d.get('text')} {d.get('exception', {}).get('description', '')}"
            )
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
            errors.append(
                f"console.{p['type']}: "
                + " ".join(str(a.get("value", a.get("description"))) for a in p.get("args", []))
            )
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") in ("error", "warning"):
            e = p["entry"]
            errors.append(f"log {e.get('level')}: {e.get('text')} {e.get('url', '')}")
        elif m == "Network.requestWillBeSent":
            url = p.get("request", {}).get("url", "")
            if url != page_url and not url.startswith(("data:", "about:")):
                requests.append(url)
        elif m == "Network.loadingFailed":
            requests.append(f"failed: {p.get('errorText')} ({p.get('requestId')})")
    return errors, requests


def check_charts(page: dict, failures: list[str]) -> None:
    if not page["ready"]:
        failures.append("the page script did not finish (window.tbdiffReport missing)")
    expected = {c["index"]: c for c in page["islandCharts"]}
    drawn = {c["index"]: c for c in page["charts"]}
    if set(expected) != set(drawn):
        failures.append(f"charts drawn {sorted(drawn)} != charts with data {sorted(expected)}")
    for idx, sent in expected.items():
        c = drawn.get(idx)
        if c is None:
            continue
        if c["points"] != sent["points"]:  # each run's own points, every one drawn
            failures.append(
                f"chart {idx}: drew {c['points']} points per run, sent {sent['points']}"
            )
        if c["ticks"] < 4:
            failures.append(f"chart {idx}: only {c['ticks']} axis tick labels")


def check_controls(ctl: dict, failures: list[str]) -> None:
    if "smoothPaths" in ctl:
        n = ctl["series"]
        if ctl["smoothPaths"] != n or ctl["rawPaths"] != n:
            failures.append(f"smoothing 0.6 drew {ctl['smoothPaths']} smoothed paths (want {n})")
        if ctl["smoothPathsAfterReset"] != 0:
            failures.append("smoothing back to 0 left smoothed paths")
        if not ctl["logChanged"] or not ctl["logRestored"]:
            failures.append("the log-scale toggle did not redraw the chart")
        if not (ctl["keyFocus"] and ctl["keyLeft"] and ctl["keyFocus"] != ctl["keyLeft"]):
            failures.append(f"keyboard: focus {ctl['keyFocus']!r}, ArrowLeft {ctl['keyLeft']!r}")
        if not ctl["keyBlurHides"]:
            failures.append("keyboard: leaving the chart did not hide the values")
    if "nodeRows" in ctl and not (0 < ctl["nodeShown"] < ctl["nodeRows"]):
        failures.append(f"node search showed {ctl['nodeShown']} of {ctl['nodeRows']} rows")


def run_checks(html: Path, out_dir: Path, chromium: str, evals: list[str]) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    url = html.resolve().as_uri()
    result: dict = {"page": str(html), "bytes": html.stat().st_size, "failures": [], "eval": []}
    failures = result["failures"]
    with tempfile.TemporaryDirectory(prefix="tbdiff-chromium-") as profile:
        b = Browser(chromium, profile)
        try:
            for name, (width, scheme) in VIEWS.items():
                b.events.clear()
                session, load_s = open_page(b, url, width, scheme)
                page = json.loads(evaluate(b, session, PAGE_PROBE))
                result[name] = {
                    "width": width,
                    "scheme": scheme,
                    "load_seconds": round(load_s, 3),
                    **page,
                }
                if page["scrollWidth"] > page["clientWidth"] + 1:
                    failures.append(
                        f"{name}: page scrolls sideways ({page['scrollWidth']} > {page['clientWidth']} px)"
                    )
                check_charts(page, failures)
                if name == "desktop":
                    result["hover"] = hover_text(b, session)
                    ctl = json.loads(evaluate(b, session, CONTROLS_PROBE))
                    result["controls"] = ctl
                    check_controls(ctl, failures)
                    result["eval"] = [evaluate(b, session, e) for e in evals]
                if name != "dark":
                    labels = check_labels(b, session, name, out_dir)
                    result[name]["labels"] = labels
                    failures += [
                        f"{name}: hover box covers a label: {o}" for o in labels["overlaps"]
                    ]
                shot = out_dir / f"report_{name}.png"
                screenshot(b, session, shot, hover=True)
                result[name]["screenshot"] = str(shot)
                errors, requests = problems_from_events(b.events, url)
                result[name]["errors"], result[name]["requests"] = errors, requests
                failures += [f"{name}: {e}" for e in errors]
                failures += [f"{name}: external request {r}" for r in requests]
                if load_s > 1.0:
                    failures.append(f"{name}: load took {load_s:.2f} s (limit 1 s)")
        finally:
            b.close()
    charts = result.get("desktop", {}).get("islandCharts")
    lines = result.get("hover", "").splitlines()
    if charts and len(lines) < 1 + min(len(charts[0]["points"]), TIP_ROWS):
        failures.append(f"hover tooltip does not show every run: {result['hover']!r}")
    return result


def default_report(out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    html = out_dir / "report.html"
    tbdiff = [sys.executable, "-m", "tbdiff"]
    subprocess.run(
        [
            *tbdiff,
            "compare",
            "sample_logs/tensorflow",
            "sample_logs/keras",
            "--all",
            "--html",
            str(html),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        check=False,
    )
    if not html.exists():
        raise SystemExit("check_html: tbdiff did not write the report")
    return html


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("html", nargs="?", type=Path)
    ap.add_argument("--out", type=Path, default=ROOT / "bench_out" / "html_check")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--eval", action="append", default=[], dest="evals")
    args = ap.parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        print("check_html: chromium not found (apt-get install chromium)", file=sys.stderr)
        return 2
    html = args.html or default_report(args.out)
    result = run_checks(html, args.out, chromium, args.evals)
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        for name in VIEWS:
            r = result[name]
            print(
                f"{name} {r['width']}px: loaded in {r['load_seconds']} s, "
                f"{len(r['charts'])} charts drawn, screenshot {r['screenshot']}"
            )
        print(f"page {result['bytes']} bytes; hover: {result.get('hover', '')!r}")
        print("\n".join(f"FAIL {f}" for f in result["failures"]) or "all checks passed")
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
