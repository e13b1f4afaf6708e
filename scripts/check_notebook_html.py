#!/usr/bin/env python
"""Check `Report._repr_html_()` (what Jupyter shows) in headless Chromium with the network off.

Usage: python scripts/check_notebook_html.py [--out DIR]

Builds the report of `sample_logs/tensorflow` vs `sample_logs/keras` with `tbdiff.compare`,
puts its `_repr_html_()` inside a page shaped like a notebook (an output cell among other
markup, with the notebook's own CSS), loads it offline in Debian's Chromium through the DevTools
protocol (scripts/check_html.py's driver) and asserts: the iframe's page ran its script and drew
every chart, the findings are there, no console error or exception, no request but the page
itself, and the notebook's own markup and styles are untouched by the report (and vice versa:
the report's styles do not leak out). Takes a screenshot (default bench_out/notebook_check).
Exit 0 when every check passed, 1 when one failed, 2 when Chromium is missing.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_html import ROOT, Browser, evaluate, find_chromium, problems_from_events

sys.path.insert(0, str(ROOT))  # this checkout's tbdiff, not an installed one

NOTEBOOK = """<!doctype html><html><head><meta charset="utf-8"><title>notebook</title>
<style>body {{ font-family: serif; margin: 20px; }} .cell {{ border: 1px solid #ccc; }}
h2 {{ color: rgb(1, 2, 3); }}</style></head>
<body><h2 id="nb-title">In [1]: tbdiff.compare(...)</h2>
<div class="cell output">{output}</div><p id="after">next cell</p></body></html>"""

# Runs in the iframe's document (an isolated world: the DOM, not the page's globals).
FRAME_PROBE = r"""
(() => JSON.stringify({
  charts: document.querySelectorAll('figure.chart svg.plot').length,
  drawnPaths: document.querySelectorAll('figure.chart svg.plot path.series').length,
  islandCharts: JSON.parse(document.getElementById('tbdiff-curves').textContent).length,
  findings: document.querySelectorAll('article.finding').length,
  verdict: (document.querySelector('#verdict .verdict-text') || {}).textContent || '',
}))()
"""

OUTER_PROBE = r"""
(() => { const f = document.querySelector('iframe.tbdiff-report'); const r = f.getBoundingClientRect();
  return JSON.stringify({frames: document.querySelectorAll('iframe').length,
    titleColor: getComputedStyle(document.getElementById('nb-title')).color,
    bodyFont: getComputedStyle(document.body).fontFamily,
    after: document.getElementById('after').textContent,
    frameWidth: r.width, frameHeight: r.height, sandbox: f.getAttribute('sandbox')}); })()
"""


def open_notebook(b: Browser, url: str) -> tuple[str, str | None, float]:
    """A fresh tab, offline, 1000 px wide, loading `url`, with frames auto-attached: Chromium
    gives a sandboxed frame a process of its own (an "iframe" target), watched from its start
    (console, network) like the page. Returns (page session, frame session or None, seconds)."""
    target = b.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = b.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    offline = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    for domain in ("Page", "Runtime", "Network", "Log"):
        b.send(f"{domain}.enable", {}, session)
    b.send("Network.emulateNetworkConditions", offline, session)
    metrics = {"width": 1000, "height": 900, "deviceScaleFactor": 1, "mobile": False}
    b.send("Emulation.setDeviceMetricsOverride", metrics, session)
    auto = {"autoAttach": True, "waitForDebuggerOnStart": True, "flatten": True}
    b.send("Target.setAutoAttach", auto, session)
    t0 = time.monotonic()
    b.send("Page.navigate", {"url": url}, session)
    frame = None
    deadline = time.monotonic() + 10
    while frame is None and time.monotonic() < deadline:
        try:
            ev = b.wait_event("Target.attachedToTarget", timeout=deadline - time.monotonic())
        except TimeoutError:
            break  # an in-process frame
        if ev.get("sessionId") == session and ev["params"]["targetInfo"]["type"] == "iframe":
            frame = ev["params"]["sessionId"]
    if frame is not None:
        for domain in ("Page", "Runtime", "Network", "Log"):
            b.send(f"{domain}.enable", {}, frame)
        b.send("Network.emulateNetworkConditions", offline, frame)
        b.send("Runtime.runIfWaitingForDebugger", {}, frame)
    b.wait_event("Page.loadEventFired")
    seconds = time.monotonic() - t0
    time.sleep(1.0)  # the frame's script draws after its own load
    return session, frame, seconds


def frame_probe(b: Browser, session: str, frame: str | None) -> dict:
    if frame is not None:
        out = json.loads(evaluate(b, frame, FRAME_PROBE))
        out["scriptDone"] = evaluate(b, frame, "!!window.tbdiffReport")
        return {**out, "process": "its own (out-of-process iframe)"}
    tree = b.send("Page.getFrameTree", {}, session)["frameTree"]
    child = tree["childFrames"][0]["frame"]["id"]
    world = b.send("Page.createIsolatedWorld", {"frameId": child, "worldName": "probe"}, session)
    res = b.send(
        "Runtime.evaluate",
        {
            "expression": FRAME_PROBE,
            "returnByValue": True,
            "contextId": world["executionContextId"],
        },
        session,
    )
    return {**json.loads(res["result"]["value"]), "process": "the page's"}


def run(out_dir: Path, chromium: str) -> dict:
    import tbdiff

    report = tbdiff.compare(ROOT / "sample_logs/tensorflow", ROOT / "sample_logs/keras")
    out_dir.mkdir(parents=True, exist_ok=True)
    page = out_dir / "notebook.html"
    page.write_text(NOTEBOOK.format(output=report._repr_html_()), encoding="utf-8")
    url = page.resolve().as_uri()
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="tbdiff-chromium-") as profile:
        b = Browser(chromium, profile)
        try:
            session, frame, load_s = open_notebook(b, url)
            outer = json.loads(evaluate(b, session, OUTER_PROBE))
            inner = frame_probe(b, session, frame)
            shot = b.send("Page.captureScreenshot", {"format": "png"}, session)
            (out_dir / "notebook.png").write_bytes(base64.b64decode(shot["data"]))
            errors, requests = problems_from_events(b.events, url)
        finally:
            b.close()
    if inner.get("scriptDone") is False:
        failures.append("the report's script did not finish in the frame")
    if inner["charts"] != inner["islandCharts"] or inner["drawnPaths"] < 2 * inner["charts"]:
        failures.append(f"charts drawn in the frame: {inner}")
    if inner["findings"] != len(report.findings) or inner["verdict"] != report.verdict:
        failures.append("the frame does not show the report's verdict and findings")
    if outer["titleColor"] != "rgb(1, 2, 3)" or "serif" not in outer["bodyFont"]:
        failures.append(f"the notebook's styles changed: {outer}")
    if outer["frameHeight"] < 300 or outer["frameWidth"] < 900:
        failures.append(f"frame too small: {outer}")
    failures += [f"console: {e}" for e in errors] + [f"request: {r}" for r in requests]
    return {
        "load_seconds": round(load_s, 3),
        "outer": outer,
        "frame": inner,
        "screenshot": str(out_dir / "notebook.png"),
        "failures": failures,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "bench_out" / "notebook_check")
    args = ap.parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        print("chromium not found (Debian package `chromium`)", file=sys.stderr)
        return 2
    result = run(args.out, chromium)
    print(json.dumps(result, indent=1))
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
