"""The HTML report and the SVG export.

Structure of the page written for sample_logs (the seed case, real TF and Keras logs), that it
is self-contained and small, that long curves written by TensorBoard's own record writer are
downsampled without losing their extremes, TensorBoard's smoothing against values worked out
by hand from its definition, and the page itself in headless Chromium (scripts/check_html.py).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from helpers import REALLOGS, ROOT, SAMPLE_LOGS, need_shared

from tbdiff.html import render_html
from tbdiff.html.curves import MAX_BUCKETS
from tbdiff.pipeline import build_report
from tbdiff.render import warning_lines
from tbdiff.scalars import downsample_indices

TF_DIR, KERAS_DIR = SAMPLE_LOGS / "tensorflow", SAMPLE_LOGS / "keras"
URL = re.compile(r"https?://", re.I)
SMOOTH_JS = ROOT / "tbdiff" / "html" / "assets" / "smooth.js"


class Page(HTMLParser):
    """Elements with their attributes and text, script and style bodies, for assertions."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[dict] = []
        self.stack: list[dict] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.feed(text)

    VOID = {"meta", "input", "br", "hr", "img", "link", "source", "wbr"}

    def handle_starttag(self, tag, attrs):
        for el in self.stack:  # cells and blocks read as separate words
            el["text"] += " "
        el = {"tag": tag, "attrs": dict(attrs), "text": ""}
        self.elements.append(el)
        if tag not in self.VOID:
            self.stack.append(el)

    def handle_startendtag(self, tag, attrs):
        self.elements.append({"tag": tag, "attrs": dict(attrs), "text": ""})

    def handle_endtag(self, tag):
        while self.stack:
            el = self.stack.pop()
            if el["tag"] == tag:
                if tag == "script":
                    self.scripts.append(el["text"])
                elif tag == "style":
                    self.styles.append(el["text"])
                break

    def handle_data(self, data):
        for el in self.stack:
            el["text"] += data

    def find(self, tag: str, cls: str | None = None, **attrs: str) -> list[dict]:
        out = []
        for el in self.elements:
            if el["tag"] != tag:
                continue
            if cls and cls not in el["attrs"].get("class", "").split():
                continue
            if all(el["attrs"].get(k) == v for k, v in attrs.items()):
                out.append(el)
        return out


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def side(chart: dict, sid: str) -> dict:
    """One run's series of a chart of the JSON island ("a" / "b" on the compare page)."""
    (series,) = [s for s in chart["series"] if s["id"] == sid]
    return series


@pytest.fixture(scope="module")
def report():
    return build_report(str(TF_DIR), str(KERAS_DIR), list_nodes=True)


@pytest.fixture(scope="module")
def html(report) -> str:
    return render_html(report)


@pytest.fixture(scope="module")
def page(html) -> Page:
    return Page(html)


@pytest.fixture(scope="module")
def island(page) -> list[dict]:
    (el,) = page.find("script", id="tbdiff-curves")
    return json.loads(el["text"])


# ------------------------------------------------------------------------- page structure


def test_page_states_the_verdict(page, report) -> None:
    (verdict,) = page.find("p", "verdict-text")
    assert report.verdict and squash(verdict["text"]) == squash(report.verdict)
    assert "drops 70%" in verdict["text"] and "points" in verdict["text"]
    (section,) = page.find("section", id="verdict")
    assert "sev-critical" in section["attrs"]["class"]


def test_findings_are_cards_in_report_order(page, report) -> None:
    cards = page.find("article", "finding")
    assert [c["attrs"]["id"] for c in cards] == [
        f"finding-{i}" for i in range(1, len(report.findings) + 1)
    ]
    for card, f in zip(cards, report.findings, strict=True):
        assert f"sev-{f.severity}" in card["attrs"]["class"]
        assert f.title in squash(card["text"]) and f.id in card["text"]
        assert squash(f.detail) in squash(card["text"])
        for node in f.nodes_a + f.nodes_b:  # evidence
            assert node in card["text"]
    assert report.findings[0].id == "dropout.rate_mismatch"
    # the compared values, A and B side by side, the differing rows marked
    rows = [squash(r["text"]) for r in page.find("tr", "differs")]
    assert rows[0] == "drop_rate 0.3 0.7" and "keep_prob 0.7 0.3" in rows


def test_one_chart_per_paired_curve_with_both_series(page, report, island) -> None:
    pairs = report.scalars.pairs
    figures = page.find("figure", "chart")
    assert len(figures) == len(pairs) == len(island) == 4
    assert len(page.find("svg", "plot")) == len(pairs)
    for fig, chart, pair in zip(figures, island, pairs, strict=True):
        assert fig["attrs"]["data-index"] == str(chart["index"])
        assert pair.tag_a in fig["text"] and pair.tag_b in fig["text"]
        assert (chart["tag_a"], chart["tag_b"]) == (pair.tag_a, pair.tag_b)
        # 30 epochs on both sides: every point is sent, values read back to the logged float32
        assert chart["common"] == pair.steps == 30
        a, b = side(chart, "a"), side(chart, "b")
        assert a["steps"] == b["steps"] == [int(s) for s in pair.grid_steps]
        for series, values in ((a, pair.values_a), (b, pair.values_b)):
            np.testing.assert_array_equal(
                np.float32(series["values"]), np.asarray(values, dtype=np.float32)
            )
        # hover names each run by its side and label, and shows B - A
        assert (a["label"], b["label"]) == ("A \u00b7 tensorflow", "B \u00b7 keras")
        assert chart["diff"] and [s["id"] for s in chart["series"]] == ["a", "b"]
        assert chart["diverges_at_step"] == pair.diverges_at_step
    assert len(page.find("input", "logscale")) == len(pairs)
    (slider,) = page.find("input", id="smoothing")
    assert slider["attrs"]["type"] == "range"


def test_layer_diagram_has_a_row_per_layer_and_links_by_status(page, report) -> None:
    (svg,) = page.find("svg", "layers-diagram")
    boxes = page.find("g", "layer")
    in_a = [lp for lp in report.layers if lp.a is not None]
    in_b = [lp for lp in report.layers if lp.b is not None]
    assert len(boxes) == len(in_a) + len(in_b) == 18
    links = page.find("path", "link")
    paired = [lp for lp in report.layers if lp.a is not None and lp.b is not None]
    assert len(links) == len(paired) == 9
    assert [lk["attrs"]["class"] for lk in links] == [f"link status-{lp.status}" for lp in paired]
    for lp in report.layers:
        assert lp.a in svg["text"] and lp.b in svg["text"]


def test_node_differences_are_a_searchable_collapsible_table(page, report) -> None:
    (details,) = page.find("details", id="node-diffs")
    assert "open" not in details["attrs"]
    rows = [r for r in page.find("tr") if "data-status" in r["attrs"]]
    assert len(rows) == len(report.node_diffs) == 575
    assert [r["attrs"]["data-status"] for r in rows] == [s for s, *_ in report.node_diffs]
    assert page.find("input", id="node-search") and page.find("select", id="node-status")


def test_hyperparameters_that_differ_are_listed(page, report) -> None:
    (section,) = page.find("section", id="hparams")
    for h in report.hparams:
        assert h.key in section["text"]
    assert "keep_prob" in section["text"]


def test_page_is_self_contained_and_small(html, page) -> None:
    assert len(html.encode()) < 1_000_000
    for el in page.elements:
        for name, value in el["attrs"].items():
            assert not URL.search(value or ""), f"<{el['tag']} {name}={value!r}>"
            assert name not in ("src", "srcset") and el["tag"] not in ("link", "iframe", "img")
            if name == "href":
                assert value.startswith("#"), value
    for body in page.scripts + page.styles:
        assert not URL.search(body)
    assert not any(re.search(r"@import|url\(", s) for s in page.styles)
    (csp,) = [m for m in page.find("meta") if m["attrs"].get("http-equiv")]
    assert "default-src 'none'" in csp["attrs"]["content"]


@pytest.fixture(scope="module")
def truncated(tmp_path_factory) -> Path:
    """A real event file and a copy of it cut 40 bytes short (the reader warns)."""
    root = tmp_path_factory.mktemp("truncated")
    data = next(TF_DIR.glob("events.out.tfevents.*")).read_bytes()
    for name, blob in (("a", data), ("b", data[: len(data) - 40])):
        (root / name).mkdir()
        (root / name / "events.out.tfevents.1.x").write_bytes(blob)
    return root


def test_warnings_are_shown(truncated) -> None:
    """The reader's warning reaches the page, folded, as the stderr lines read."""
    rep = build_report(str(truncated / "a"), str(truncated / "b"))
    assert rep.warnings
    lines = warning_lines(rep.warnings)
    page = Page(render_html(rep))
    (section,) = page.find("section", id="warnings")
    (details,) = page.find("details", id="warnings-list")  # collapsible, folded
    assert "open" not in details["attrs"]
    (summary,) = [el for el in page.find("summary") if "Warnings" in el["text"]]
    assert squash(summary["text"]) == f"Warnings ({len(lines)})"
    items = [squash(li["text"]) for li in page.find("li") if squash(li["text"]) in lines]
    assert items == lines and any("truncated record" in line for line in lines)
    (verdict,) = page.find("section", id="verdict")  # pointed to from the verdict box
    assert f"{len(lines)} warning(s) while reading the logs." in squash(verdict["text"])
    assert len(page.find("a", href="#warnings")) == 2  # and from the nav
    assert not page.find("section", id="extra")  # warning_records are not dumped as JSON


def test_svg_export_shows_the_warnings(truncated, tmp_path, capsys) -> None:
    from tbdiff.cli import main

    svg = tmp_path / "r.svg"
    main(
        ["compare", str(truncated / "a"), str(truncated / "b"), "--svg", str(svg), "--width", "200"]
    )
    err = capsys.readouterr().err
    text = svg.read_text(encoding="utf-8").replace("&#160;", " ")
    ET.fromstring(svg.read_text(encoding="utf-8"))
    assert "Warnings (1)" in text and "truncated record at offset" in text
    assert "tbdiff: warning:" in err and "truncated record" in err  # stderr as before


# ------------------------------------------------------------------------- real runs


def _write_run(path: Path, tag: str, values: np.ndarray, steps=None) -> None:
    """An event file written with TensorBoard's own record writer (TFRecord framing + CRC)."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.record_writer import RecordWriter

    path.mkdir(parents=True)
    with open(path / "events.out.tfevents.1700000000.test", "wb") as f:
        w = RecordWriter(f)
        w.write(event_pb2.Event(wall_time=1.7e9, file_version="brain.Event:2").SerializeToString())
        for step, v in zip(range(len(values)) if steps is None else steps, values, strict=True):
            value = summary_pb2.Summary.Value(tag=tag, simple_value=float(v))
            ev = event_pb2.Event(wall_time=1.7e9 + step, step=step)
            ev.summary.value.append(value)
            w.write(ev.SerializeToString())
        w.flush()


# ------------------------------------------------------------------------- own step ranges

SHORT_STEPS = list(range(100))  # run "short": steps 0..99
LONG_STEPS = list(range(0, 400, 2))  # run "long": every other step up to 398, twice as long


@pytest.fixture(scope="module")
def two_ranges(tmp_path_factory) -> Path:
    """Two real runs of one loss curve: "long" trains four times longer, logs every other step,
    and stays 0.5 above "short" (so the curves separate for good)."""
    root = tmp_path_factory.mktemp("ranges")
    short = np.exp(-np.asarray(SHORT_STEPS) / 80.0).astype(np.float32)
    long = (np.exp(-np.asarray(LONG_STEPS) / 80.0) + 0.5).astype(np.float32)
    _write_run(root / "short", "loss", short, SHORT_STEPS)
    _write_run(root / "long", "loss", long, LONG_STEPS)
    return root


def test_each_run_is_drawn_over_its_own_steps(two_ranges, tmp_path, capsys) -> None:
    from tbdiff.cli import main

    html = tmp_path / "r.html"
    code = main(
        ["scalars", str(two_ranges / "short"), str(two_ranges / "long"), "--html", str(html)]
    )
    capsys.readouterr()
    text = html.read_text(encoding="utf-8")
    page = Page(text)
    (el,) = page.find("script", id="tbdiff-curves")
    (chart,) = json.loads(el["text"])
    # each side its own steps and logged values, not only the steps both runs share
    assert side(chart, "a")["steps"] == SHORT_STEPS and side(chart, "b")["steps"] == LONG_STEPS
    np.testing.assert_array_equal(
        np.float32(side(chart, "b")["values"]),
        (np.exp(-np.asarray(LONG_STEPS) / 80.0) + 0.5).astype(np.float32),
    )
    assert chart["common"] < len(SHORT_STEPS)
    (fig,) = page.find("figure", "chart")
    assert "A logs steps 0\u201399 (100 points), B 0\u2013398 (200)" in fig["text"]
    # exit code 1 explained by the scalars command's own rule, not by findings
    (verdict,) = page.find("section", id="verdict")
    assert code == 1 and "Exit code 1: 1 of 1 paired curve(s) separate for good." in verdict["text"]
    assert "critical or warning" not in verdict["text"]


def test_runs_without_common_steps_are_still_drawn(tmp_path) -> None:
    """B resumes where A stopped (steps 50..99 vs 0..49): nothing to compare, both drawn."""
    values = np.linspace(1.0, 0.1, 100).astype(np.float32)
    _write_run(tmp_path / "first", "loss", values[:50], range(50))
    _write_run(tmp_path / "second", "loss", values[50:], range(50, 100))
    rep = build_report(str(tmp_path / "first"), str(tmp_path / "second"), graphs=False)
    assert rep.scalars.pairs[0].steps == 0
    page = Page(render_html(rep))
    (el,) = page.find("script", id="tbdiff-curves")
    (chart,) = json.loads(el["text"])
    assert chart["common"] == 0 and chart["compared"] is None
    assert side(chart, "a")["steps"] == list(range(50))
    assert side(chart, "b")["steps"] == list(range(50, 100))
    assert len(page.find("svg", "plot")) == 1


def test_exit_code_explanation_is_the_reports_own(report, page, two_ranges) -> None:
    (verdict,) = page.find("section", id="verdict")  # compare: findings decide
    assert f"Exit code 1: {report.exit_reason}." in squash(verdict["text"])
    assert report.exit_reason == "a critical or warning finding"
    same = build_report(str(two_ranges / "short"), str(two_ranges / "short"), graphs=False)
    (verdict,) = Page(render_html(same)).find("section", id="verdict")
    assert same.exit_code == 0
    assert "Exit code 0: no paired curve separates for good." in squash(verdict["text"])


# ------------------------------------------------------------------------- long curves


def test_long_curves_are_downsampled_keeping_every_extreme(tmp_path) -> None:
    n = 20_000
    rng = np.random.default_rng(0)
    base = np.exp(-np.arange(n) / 5000.0)
    va = (base + 0.01 * rng.standard_normal(n)).astype(np.float32)
    vb = (base * 1.1 + 0.01 * rng.standard_normal(n)).astype(np.float32)
    va[12_345] = 3.5  # one spike in A, one dip in B: both must be drawn
    vb[777] = -2.0
    _write_run(tmp_path / "a", "loss", va)
    _write_run(tmp_path / "b", "loss", vb)
    rep = build_report(str(tmp_path / "a"), str(tmp_path / "b"), graphs=False)
    text = render_html(rep)
    assert len(text.encode()) < 1_000_000
    (el,) = Page(text).find("script", id="tbdiff-curves")
    (chart,) = json.loads(el["text"])
    for sid, values, extreme in (("a", va, 12_345), ("b", vb, 777)):
        steps = side(chart, sid)["steps"]
        assert len(steps) <= 2 * MAX_BUCKETS + 2
        assert steps == sorted(set(steps)) and steps[0] == 0 and steps[-1] == n - 1
        # every drawn value is the logged one at that step, and the spike / dip is there
        np.testing.assert_array_equal(np.float32(side(chart, sid)["values"]), values[steps])
        assert extreme in steps
        assert f"{sid.upper()}: {len(steps)} of {n} points drawn" in text


def test_downsample_keeps_min_and_max_of_every_bucket() -> None:
    rng = np.random.default_rng(1)
    steps = np.arange(10_000, dtype=np.float64) * 3
    a, b = rng.standard_normal(10_000), rng.standard_normal(10_000)
    idx = downsample_indices(steps, [a, b], buckets=50)
    assert np.all(np.diff(idx) > 0) and idx[0] == 0 and idx[-1] == 9999
    assert idx.size <= 4 * 50 + 2
    bucket = np.minimum((steps / steps[-1] * 50).astype(int), 49)
    for k in range(50):
        members = np.flatnonzero(bucket == k)
        for v in (a, b):
            assert members[np.argmin(v[members])] in idx
            assert members[np.argmax(v[members])] in idx
    short = np.arange(30.0)
    assert downsample_indices(short, [short], buckets=50).tolist() == list(range(30))


# ------------------------------------------------------------------------- smoothing

# TensorBoard's smoothing, worked out by hand from its definition: s_0 = 0,
# s_n = w*s_(n-1) + (1-w)*y_n, shown value s_n / (1 - w^n); non-finite values pass through
# and do not count; a constant series is left alone.
SMOOTHING_CASES = [
    # w=0.5: 0.5*1 = 0.5 -> 0.5/0.5 = 1; 0.5*0.5 + 0.5*3 = 1.75 -> 1.75/0.75
    (([1, 3], 0.5), [1.0, 1.75 / 0.75]),
    # w=0.6: 0.8/0.4 = 2; (0.48 + 1.6) = 2.08 -> 2.08/0.64 = 3.25; (1.248 + 3.2) = 4.448 -> /0.784
    (([2, 4, 8], 0.6), [2.0, 3.25, 4.448 / 0.784]),
    (([1, None, 3], 0.5), [1.0, None, 1.75 / 0.75]),  # NaN in the middle
    (([5, 5, 5], 0.9), [5.0, 5.0, 5.0]),
    (([1, 3], 0), [1.0, 3.0]),
]


def _js_calls() -> list[str]:
    out = []
    for (values, w), _ in SMOOTHING_CASES:
        arr = "[" + ",".join("NaN" if v is None else str(v) for v in values) + "]"
        out.append(f"JSON.stringify(tbdiffSmooth({arr}, {w}))")
    return out


def _check_smoothing(results: list[str]) -> None:
    assert len(results) == len(SMOOTHING_CASES)
    for raw, (_, expected) in zip(results, SMOOTHING_CASES, strict=True):
        got = json.loads(raw)
        assert len(got) == len(expected)
        for g, e in zip(got, expected, strict=True):
            assert (g is None and e is None) or math.isclose(g, e, rel_tol=1e-12), (raw, expected)


def test_smoothing_in_node_matches_hand_computed_values() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not installed: smoothing checked only in Chromium (see below)")
    code = (
        f"const tbdiffSmooth = require({json.dumps(str(SMOOTH_JS))}).smooth;"
        f"console.log(JSON.stringify([{','.join(_js_calls())}]));"
    )
    proc = subprocess.run([node, "-e", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    _check_smoothing(json.loads(proc.stdout))


# ------------------------------------------------------------------------- the browser


def _require_chromium() -> None:
    if shutil.which("chromium") is None:
        msg = (
            "CHROMIUM IS NOT INSTALLED: the HTML report was NOT checked in a browser "
            "(apt-get install chromium; .ci/run installs it)"
        )
        if os.environ.get("TBDIFF_REQUIRE_CHROMIUM"):
            pytest.fail(msg)
        pytest.skip(msg)


def _check_in_browser(html: Path, out: Path, evals: list[str] = ()) -> dict:
    """scripts/check_html.py on `html` (one Chromium run); skips without Chromium."""
    _require_chromium()
    args = [str(html), "--out", str(out), "--json"]
    for call in evals:
        args += ["--eval", call]
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "check_html.py"), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def browser_check(tmp_path_factory) -> dict:
    """scripts/check_html.py on the page the CLI writes for sample_logs (one Chromium run)."""
    _require_chromium()
    out = tmp_path_factory.mktemp("html_check")
    html = out / "report.html"
    proc = subprocess.run(
        [sys.executable, "-m", "tbdiff", "compare", str(TF_DIR), str(KERAS_DIR), "--all"]
        + ["--html", str(html)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1 and html.exists(), proc.stderr
    return _check_in_browser(html, out, _js_calls())


def test_browser_page_loads_offline_without_errors_or_requests(browser_check) -> None:
    assert browser_check["failures"] == []
    for width in ("desktop", "narrow"):
        r = browser_check[width]
        assert r["errors"] == [] and r["requests"] == []
        assert r["ready"] and r["load_seconds"] < 1.0
        assert r["scrollWidth"] <= r["clientWidth"] + 1  # nothing sticks out at 800 px


def test_browser_draws_every_chart_with_both_series(browser_check) -> None:
    for width in ("desktop", "narrow"):
        charts = browser_check[width]["charts"]
        assert len(charts) == 4
        for c in charts:
            assert c["points"] == [30, 30] and c["divergence"] and c["ticks"] >= 4
    hover = browser_check["hover"]
    assert re.search(r"A \u00b7 tensorflow: 0\.9\d+", hover), hover
    assert re.search(r"B \u00b7 keras: 0\.9\d+", hover), hover


def test_browser_controls_redraw(browser_check) -> None:
    ctl = browser_check["controls"]
    assert ctl["smoothPaths"] == 2 and ctl["smoothingOutput"] == "0.60"
    assert ctl["logChanged"] and ctl["logRestored"]
    assert 0 < ctl["nodeShown"] < ctl["nodeRows"] == 575
    # keyboard: focusing a chart shows the last step, the left arrow the one before
    assert (ctl["keyFocus"], ctl["keyLeft"], ctl["keyBlurHides"]) == ("step 29", "step 28", True)


def test_browser_smoothing_matches_hand_computed_values(browser_check) -> None:
    _check_smoothing(browser_check["eval"])


def test_browser_screenshots_at_desktop_and_800px(browser_check) -> None:
    for width, px in (("desktop", 1280), ("narrow", 800)):
        png = Path(browser_check[width]["screenshot"]).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        w = int.from_bytes(png[16:20], "big")
        assert px - 20 <= w <= px  # the page width, less a scrollbar


def test_browser_draws_each_run_over_its_own_steps(two_ranges, tmp_path) -> None:
    """The run that trains longer is drawn to its end; hovering past the short run's last step
    reads the long run's value and says the short one has no point there."""
    html = tmp_path / "ranges.html"
    rep = build_report(str(two_ranges / "short"), str(two_ranges / "long"), graphs=False)
    html.write_text(render_html(rep), encoding="utf-8")
    result = _check_in_browser(html, tmp_path)
    assert result["failures"] == []
    for width in ("desktop", "narrow"):
        (chart,) = result[width]["charts"]
        assert chart["points"] == [len(SHORT_STEPS), len(LONG_STEPS)]
        assert chart["compared"] and chart["divergence"]
    hover = result["hover"]  # the middle of the chart: about step 200
    assert "A \u00b7 short: no point after step 99" in hover, hover
    assert re.search(r"B \u00b7 long: 0\.\d+", hover), hover
    _check_labels_clear(result, labels=1)


def _check_labels_clear(result: dict, labels: int) -> None:
    """check_html swept the pointer over the `labels` charts with a label above the plot: the
    hover box never covered one, also when taller than the plot, and stays below them."""
    for width in ("desktop", "narrow"):
        r = result[width]["labels"]
        assert r["charts"] == labels and r["overlaps"] == [], r
        assert r["positions"] >= 2 * 40 * 4 * min(labels, 3)  # every place tried showed the box
        for shot in r["shots"]:  # the pointer just under a label: the box just under it too
            assert 0 <= shot["gap_px"] < 20 and shot["hover"].startswith("step "), shot
            assert Path(shot["screenshot"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _html_of(tmp_path: Path, *args: str) -> Path:
    html = tmp_path / "page.html"
    proc = subprocess.run(
        [sys.executable, "-m", "tbdiff", *args, "--html", str(html)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode in (0, 1) and html.exists(), proc.stderr
    return html


@pytest.mark.shared("reallogs")
def test_browser_hover_box_keeps_clear_of_the_labels(tmp_path) -> None:
    """Two real runs of 80 and 76 epochs: every chart shades the compared steps; wherever the
    pointer is, the hover box leaves the "compared steps" label readable."""
    logs = need_shared(REALLOGS / "VictorNM__triplet-cnn-cbir/logs")
    html = _html_of(
        tmp_path, "compare", str(logs / "2019-05-19 20_43_01"), str(logs / "2019-05-24 21_06_53")
    )
    result = _check_in_browser(html, tmp_path)
    assert result["failures"] == []
    assert all(c["compared"] for c in result["desktop"]["charts"])
    _check_labels_clear(result, labels=4)


@pytest.mark.shared("reallogs")
def test_browser_runs_page_draws_every_run_over_its_own_steps(tmp_path) -> None:
    """`tbdiff runs --html` on 4 real runs of 5, 80, 76 and 1 epochs: the compare page's
    charts, every run drawn to its own last step; hovering in the middle reads the long runs'
    values and says the short ones have no point there."""
    root = need_shared(REALLOGS / "VictorNM__triplet-cnn-cbir")
    result = _check_in_browser(_html_of(tmp_path, "runs", str(root)), tmp_path)
    assert result["failures"] == []  # drawn: every point sent, of every run
    for width in ("desktop", "narrow"):
        charts = result[width]["islandCharts"]
        assert [c["points"] for c in result[width]["charts"]] == [c["points"] for c in charts]
        assert sorted(end for _first, end in charts[0]["ends"]) == [0, 4, 75, 79]
    hover = result["hover"]
    assert re.search(r"^logs \(M\d+\): no point after step 4$", hover, re.M), hover
    assert re.search(r"^notebooks/logs \(M\d+\): no point after step 0$", hover, re.M), hover
    assert re.search(r"^logs/2019-05-19 20_43_01 \(M\d+\): 0\.\d+$", hover, re.M), hover
    assert result["controls"]["smoothPaths"] == result["controls"]["series"] == 4


def test_browser_runs_page_hover_lists_the_runs_nearest_the_pointer(tmp_path) -> None:
    """27 PyTorch runs on one chart: the hover box lists the 8 nearest the pointer, highest
    value first, and says how many more there are."""
    result = _check_in_browser(
        _html_of(tmp_path, "runs", str(ROOT / "tests/fixtures/torch")), tmp_path
    )
    assert result["failures"] == []
    assert len(result["desktop"]["islandCharts"][0]["points"]) == 27
    step, *rows, more = result["hover"].splitlines()
    assert (
        step.startswith("step ") and len(rows) == 8 and more == "+ 19 more runs (move up or down)"
    )
    values = [float(r.rsplit(": ", 1)[1]) for r in rows]
    assert values == sorted(values, reverse=True)


# ------------------------------------------------------------------------- SVG export


def test_svg_export_is_self_contained(tmp_path) -> None:
    svg = tmp_path / "r.svg"
    proc = subprocess.run(
        [sys.executable, "-m", "tbdiff", "compare", str(TF_DIR), str(KERAS_DIR)]
        + ["--svg", str(svg), "--width", "100"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    text = svg.read_text(encoding="utf-8")
    ET.fromstring(text)  # well-formed
    # the only URL-like text is the namespace name, which is never fetched
    assert URL.findall(text) == ["http://"]
    assert 'xmlns="http://www.w3.org/2000/svg"' in text
    assert "@font-face" not in text and "@import" not in text and "cdnjs" not in text
    assert "monospace" in text
    assert "Dropout" in text
