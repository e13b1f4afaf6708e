/* tbdiff report: draws the curve charts (hand-written SVG) and filters the node table.
   Data comes from the JSON island #tbdiff-curves: per chart each run's own points
   ({steps, values} for a and b), each drawn over its own step range. No network, no library. */
(function () {
  "use strict";
  var lib = window.tbdiffLib;
  var HEIGHT = 260;
  var MARGIN = { left: 60, right: 16, top: 22, bottom: 34 };
  var island = document.getElementById("tbdiff-curves");
  var data = island ? JSON.parse(island.textContent) : [];
  var byIndex = {};
  data.forEach(function (c) {
    byIndex[c.index] = c;
  });
  var state = { smoothing: 0 };
  var charts = [];

  function node(parent, name, attrs, text) {
    var e = document.createElementNS(parent.namespaceURI, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    parent.appendChild(e);
    return e;
  }

  function usable(v, log) {
    return lib.finite(v) && (!log || v > 0);
  }

  /* y extent of the raw values of both runs (smoothing never leaves it). */
  function yExtent(c, log) {
    var lo = Infinity;
    var hi = -Infinity;
    [c.a.values, c.b.values].forEach(function (vals) {
      for (var i = 0; i < vals.length; i++) {
        var v = vals[i];
        if (!usable(v, log)) continue;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    });
    if (lo > hi) return null;
    if (log) {
      var pad = Math.pow(10, Math.max(0.02, 0.04 * Math.log10(hi / lo)));
      return [lo / pad, hi * pad];
    }
    if (lo === hi) {
      var d = Math.abs(lo) * 0.1 || 1;
      return [lo - d, hi + d];
    }
    var m = (hi - lo) * 0.05;
    return [lo - m, hi + m];
  }

  function scales(chart, width) {
    var c = chart.data;
    var x0 = chart.steps[0];
    var x1 = chart.steps[chart.steps.length - 1];
    if (x1 === x0) {
      x0 -= 1;
      x1 += 1;
    }
    var ext = yExtent(c, chart.log);
    if (!ext) return null;
    var left = MARGIN.left;
    var right = width - MARGIN.right;
    var top = MARGIN.top;
    var bottom = HEIGHT - MARGIN.bottom;
    var log = chart.log;
    var f = log ? Math.log10 : function (v) { return v; };
    var y0 = f(ext[0]);
    var y1 = f(ext[1]);
    return {
      x0: x0, x1: x1, ext: ext, left: left, right: right, top: top, bottom: bottom,
      x: function (s) { return left + ((s - x0) / (x1 - x0)) * (right - left); },
      y: function (v) { return bottom - ((f(v) - y0) / (y1 - y0)) * (bottom - top); },
    };
  }

  function pathData(steps, vals, sc, log) {
    var d = "";
    var pen = false;
    for (var i = 0; i < steps.length; i++) {
      var v = vals[i];
      if (!usable(v, log)) {
        pen = false;
        continue;
      }
      d += (pen ? "L" : "M") + sc.x(steps[i]).toFixed(1) + " " + sc.y(v).toFixed(1);
      pen = true;
    }
    return d;
  }

  function drawAxes(svg, chart, sc) {
    var g = node(svg, "g", { class: "axes" });
    var yt = chart.log
      ? { ticks: lib.logTicks(sc.ext[0], sc.ext[1]), step: 0 }
      : lib.linearTicks(sc.ext[0], sc.ext[1], 5);
    yt.ticks.forEach(function (t) {
      var y = sc.y(t).toFixed(1);
      node(g, "line", { class: "grid", x1: sc.left, x2: sc.right, y1: y, y2: y });
      node(g, "text", { class: "tick y", x: sc.left - 6, y: y, dy: "0.32em" }, lib.tickText(t, yt.step));
    });
    var n = Math.max(2, Math.floor((sc.right - sc.left) / 90));
    var xt = lib.linearTicks(sc.x0, sc.x1, n);
    xt.ticks.forEach(function (t) {
      var x = sc.x(t).toFixed(1);
      node(g, "line", { class: "grid", x1: x, x2: x, y1: sc.top, y2: sc.bottom });
      node(g, "text", { class: "tick x", x: x, y: sc.bottom + 16 }, lib.tickText(t, xt.step));
    });
    node(g, "rect", {
      class: "frame", x: sc.left, y: sc.top, width: sc.right - sc.left, height: sc.bottom - sc.top,
    });
    node(g, "text", { class: "axis-title", x: sc.right, y: HEIGHT - 4 }, "step");
  }

  /* A light band over the common steps when a run has steps outside them: the statistics
     under the chart (and the divergence) cover the band only. */
  function drawCompared(svg, chart, sc) {
    var r = chart.data.compared;
    if (!r || (r[0] <= sc.x0 && r[1] >= sc.x1)) return;
    var x0 = sc.x(Math.max(r[0], sc.x0));
    var x1 = sc.x(Math.min(r[1], sc.x1));
    var g = node(svg, "g", { class: "compared" });
    node(g, "rect", {
      x: x0.toFixed(1), y: sc.top, width: Math.max(1, x1 - x0).toFixed(1), height: sc.bottom - sc.top,
    });
    node(g, "text", { x: (x1 - 2).toFixed(1), y: sc.top - 7, "text-anchor": "end" }, "\u2190 compared steps");
  }

  function drawDivergence(svg, chart, sc) {
    var s = chart.data.diverges_at_step;
    if (s === null || s === undefined || s < sc.x0 || s > sc.x1) return;
    var x = sc.x(s);
    var g = node(svg, "g", { class: "divergence" });
    node(g, "line", { x1: x.toFixed(1), x2: x.toFixed(1), y1: sc.top, y2: sc.bottom });
    var near = x > (sc.left + sc.right) / 2;
    node(g, "text", {
      x: (near ? x - 4 : x + 4).toFixed(1), y: sc.top - 7, "text-anchor": near ? "end" : "start",
    }, "apart from step " + s);
  }

  /* Raw curves of both runs first, then the smoothed ones on top (as TensorBoard does: the
     raw line fades when smoothing is on), then the points when there are few. */
  function drawSeries(svg, chart, sc) {
    var c = chart.data;
    var w = state.smoothing;
    var sides = ["a", "b"];
    chart.smoothed = {
      a: w > 0 ? lib.smooth(c.a.values, w) : c.a.values,
      b: w > 0 ? lib.smooth(c.b.values, w) : c.b.values,
    };
    sides.forEach(function (side) {
      node(svg, "path", {
        class: "series " + side + (w > 0 ? " raw" : ""),
        "data-side": side,
        d: pathData(c[side].steps, c[side].values, sc, chart.log),
      });
    });
    if (w > 0) {
      sides.forEach(function (side) {
        node(svg, "path", {
          class: "series smooth " + side,
          "data-side": side,
          d: pathData(c[side].steps, chart.smoothed[side], sc, chart.log),
        });
      });
    }
    sides.forEach(function (side) {
      var steps = c[side].steps;
      var vals = chart.smoothed[side];
      if (steps.length > 60) return;
      var g = node(svg, "g", { class: "dots " + side });
      for (var i = 0; i < steps.length; i++) {
        if (!usable(vals[i], chart.log)) continue;
        node(g, "circle", { cx: sc.x(steps[i]).toFixed(1), cy: sc.y(vals[i]).toFixed(1), r: 2.2 });
      }
    });
  }

  function draw(chart) {
    var svg = chart.svg;
    var width = Math.max(240, Math.round(svg.getBoundingClientRect().width || 600));
    svg.textContent = "";
    svg.setAttribute("viewBox", "0 0 " + width + " " + HEIGHT);
    svg.setAttribute("height", HEIGHT);
    var sc = scales(chart, width);
    chart.sc = sc;
    if (!sc) {
      node(svg, "text", { class: "empty", x: width / 2, y: HEIGHT / 2 },
        chart.log ? "no positive values to draw on a log scale" : "no finite values to draw");
      return;
    }
    drawCompared(svg, chart, sc);
    drawAxes(svg, chart, sc);
    drawDivergence(svg, chart, sc);
    drawSeries(svg, chart, sc);
    var hover = node(svg, "g", { class: "hover" });
    chart.hoverLine = node(hover, "line", { y1: sc.top, y2: sc.bottom });
    chart.hoverDots = {
      a: node(hover, "circle", { class: "a", r: 4 }),
      b: node(hover, "circle", { class: "b", r: 4 }),
    };
    node(svg, "rect", {
      class: "overlay", x: sc.left, y: sc.top, width: sc.right - sc.left, height: sc.bottom - sc.top,
    });
    showHover(chart);
  }

  function nearest(steps, s) {
    var lo = 0;
    var hi = steps.length - 1;
    while (hi - lo > 1) {
      var mid = (lo + hi) >> 1;
      if (steps[mid] <= s) lo = mid;
      else hi = mid;
    }
    return Math.abs(steps[hi] - s) < Math.abs(s - steps[lo]) ? hi : lo;
  }

  /* The point of one run shown at union step s: its nearest own point, none outside its range. */
  function at(chart, side, s) {
    var steps = chart.data[side].steps;
    if (!steps.length || s < steps[0] || s > steps[steps.length - 1]) return -1;
    return nearest(steps, s);
  }

  function line(chart, side, j, s) {
    var label = (window.tbdiffLabels || { a: "A", b: "B" })[side];
    var own = chart.data[side].steps;
    var text = side.toUpperCase() + " \u00b7 " + label + ": ";
    if (j < 0) {
      if (!own.length) return text + "no values";
      return text + "no point " + (s < own[0] ? "before step " + own[0] : "after step " + own[own.length - 1]);
    }
    text += lib.valueText(chart.data[side].values[j]);
    if (own[j] !== s) text += " (at step " + own[j] + ")";
    var sm = chart.smoothed[side][j];
    if (state.smoothing > 0 && lib.finite(sm)) text += " (smoothed " + Number(sm.toPrecision(6)) + ")";
    return text;
  }

  function showHover(chart) {
    var i = chart.hover;
    var sc = chart.sc;
    var g = chart.svg.querySelector(".hover");
    if (!g) return;
    if (i < 0 || !sc) {
      g.setAttribute("visibility", "hidden");
      chart.tip.hidden = true;
      return;
    }
    var c = chart.data;
    var s = chart.steps[i];
    var x = sc.x(s);
    var js = { a: at(chart, "a", s), b: at(chart, "b", s) };
    g.setAttribute("visibility", "visible");
    chart.hoverLine.setAttribute("x1", x);
    chart.hoverLine.setAttribute("x2", x);
    ["a", "b"].forEach(function (side) {
      var j = js[side];
      var v = j < 0 ? NaN : chart.smoothed[side][j];
      var dot = chart.hoverDots[side];
      var ok = usable(v, chart.log);
      dot.setAttribute("visibility", ok ? "visible" : "hidden");
      if (ok) {
        dot.setAttribute("cx", sc.x(c[side].steps[j]));
        dot.setAttribute("cy", sc.y(v));
      }
    });
    var tip = chart.tip;
    tip.textContent = "";
    var rows = ["step " + s, line(chart, "a", js.a, s), line(chart, "b", js.b, s)];
    var sameStep = js.a >= 0 && js.b >= 0 && c.a.steps[js.a] === s && c.b.steps[js.b] === s;
    if (sameStep) {
      rows.push("B \u2212 A: " + Number((c.b.values[js.b] - c.a.values[js.a]).toPrecision(6)));
    }
    rows.forEach(function (r, k) {
      var div = document.createElement("div");
      div.textContent = r;
      if (k === 1) div.className = "a";
      if (k === 2) div.className = "b";
      tip.appendChild(div);
    });
    tip.hidden = false;
    placeTip(chart, js, x);
  }

  /* Beside the cursor line, in the half of the plot the curves are not in at that step. */
  function placeTip(chart, js, x) {
    var sc = chart.sc;
    var tip = chart.tip;
    var box = chart.svg.getBoundingClientRect();
    var scale = box.width / (sc.right + MARGIN.right);
    var left = x * scale + 12;
    if (left + tip.offsetWidth > box.width) left = Math.max(0, x * scale - tip.offsetWidth - 12);
    var ys = ["a", "b"]
      .map(function (side) { return js[side] < 0 ? NaN : chart.smoothed[side][js[side]]; })
      .filter(function (v) { return usable(v, chart.log); })
      .map(sc.y);
    var mid = (sc.top + sc.bottom) / 2;
    var high = ys.length && ys.reduce(function (s, y) { return s + y; }, 0) / ys.length < mid;
    var top = high ? sc.bottom * scale - tip.offsetHeight - 4 : sc.top * scale + 4;
    tip.style.left = left + "px";
    tip.style.top = Math.max(0, top) + "px";
  }

  function bind(chart) {
    var svg = chart.svg;
    svg.addEventListener("pointermove", function (ev) {
      if (!chart.sc) return;
      var box = svg.getBoundingClientRect();
      var px = ((ev.clientX - box.left) / box.width) * (chart.sc.right + MARGIN.right);
      var s = chart.sc.x0 + ((px - chart.sc.left) / (chart.sc.right - chart.sc.left)) * (chart.sc.x1 - chart.sc.x0);
      chart.hover = nearest(chart.steps, s);
      showHover(chart);
    });
    svg.addEventListener("pointerleave", function () {
      if (document.activeElement === svg) return;
      chart.hover = -1;
      showHover(chart);
    });
    svg.addEventListener("focus", function () {
      if (chart.hover < 0) chart.hover = chart.steps.length - 1;
      showHover(chart);
    });
    svg.addEventListener("blur", function () {
      chart.hover = -1;
      showHover(chart);
    });
    svg.addEventListener("keydown", function (ev) {
      var n = chart.steps.length;
      var i = chart.hover < 0 ? n - 1 : chart.hover;
      var jump = ev.shiftKey ? 10 : 1;
      if (ev.key === "ArrowLeft") i = Math.max(0, i - jump);
      else if (ev.key === "ArrowRight") i = Math.min(n - 1, i + jump);
      else if (ev.key === "Home") i = 0;
      else if (ev.key === "End") i = n - 1;
      else if (ev.key === "Escape") i = -1;
      else return;
      ev.preventDefault();
      chart.hover = i;
      showHover(chart);
    });
    var box = chart.fig.querySelector("input.logscale");
    if (box) {
      box.addEventListener("change", function () {
        chart.log = box.checked;
        draw(chart);
      });
    }
  }

  /* The steps of both runs, ascending, each once: where the cursor and the arrow keys stop. */
  function union(a, b) {
    var out = [];
    var i = 0;
    var j = 0;
    while (i < a.length || j < b.length) {
      var s = j >= b.length || (i < a.length && a[i] <= b[j]) ? a[i] : b[j];
      if (i < a.length && a[i] === s) i++;
      if (j < b.length && b[j] === s) j++;
      out.push(s);
    }
    return out;
  }

  function drawAll() {
    charts.forEach(draw);
  }

  function setupCharts() {
    var figs = document.querySelectorAll("figure.chart");
    for (var k = 0; k < figs.length; k++) {
      var fig = figs[k];
      var c = byIndex[fig.getAttribute("data-index")];
      var svg = fig.querySelector("svg.plot");
      if (!c || !svg) continue;
      var steps = union(c.a.steps, c.b.steps);
      if (!steps.length) continue;
      var chart = {
        fig: fig, svg: svg, tip: fig.querySelector(".tip"), data: c, steps: steps, log: false, hover: -1,
      };
      var box = fig.querySelector("input.logscale");
      if (box) chart.log = box.checked;
      charts.push(chart);
      bind(chart);
    }
    var slider = document.getElementById("smoothing");
    var out = document.getElementById("smoothing-value");
    if (slider) {
      state.smoothing = parseFloat(slider.value) || 0;
      slider.addEventListener("input", function () {
        state.smoothing = parseFloat(slider.value) || 0;
        if (out) out.value = state.smoothing.toFixed(2);
        drawAll();
      });
    }
    var pending = false;
    window.addEventListener("resize", function () {
      if (pending) return;
      pending = true;
      window.requestAnimationFrame(function () {
        pending = false;
        drawAll();
      });
    });
    drawAll();
  }

  function setupNodeTable() {
    var table = document.getElementById("node-table");
    if (!table) return;
    var search = document.getElementById("node-search");
    var status = document.getElementById("node-status");
    var count = document.getElementById("node-count");
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var texts = rows.map(function (r) {
      return r.textContent.toLowerCase();
    });
    function filter() {
      var q = search.value.trim().toLowerCase();
      var s = status.value;
      var shown = 0;
      for (var i = 0; i < rows.length; i++) {
        var ok = (!s || rows[i].getAttribute("data-status") === s) && (!q || texts[i].indexOf(q) >= 0);
        rows[i].hidden = !ok;
        if (ok) shown++;
      }
      count.textContent = shown + " of " + rows.length + " shown";
    }
    search.addEventListener("input", filter);
    status.addEventListener("change", filter);
    filter();
  }

  var labelsEl = document.querySelector("header.top h1");
  if (labelsEl) {
    var a = labelsEl.querySelector(".a");
    var b = labelsEl.querySelector(".b");
    window.tbdiffLabels = { a: a ? a.textContent : "A", b: b ? b.textContent : "B" };
  }
  setupCharts();
  setupNodeTable();
  window.tbdiffReport = { charts: charts.length, drawnAt: performance.now() };
})();
