/* tbdiff report: draws the curve charts (hand-written SVG) and filters the node table.
   Data comes from the JSON island #tbdiff-curves (tbdiff/html/curves.py): per chart a list of
   series, each run's own points ({id, label, css, color, main, steps, values}), each drawn over
   its own step range. The compare page sends two series (A and B), the runs page one per run.
   No network, no library. */
(function () {
  "use strict";
  var lib = window.tbdiffLib;
  var HEIGHT = 260;
  var MARGIN = { left: 60, right: 16, top: 22, bottom: 34 };
  var TIP_ROWS = 8; /* runs listed on hover at most: those nearest the pointer */
  var DOTS_UP_TO = 60; /* points per run below which each point is marked (few runs only) */
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

  /* y extent of the raw values of every run (smoothing never leaves it). */
  function yExtent(c, log) {
    var lo = Infinity;
    var hi = -Infinity;
    c.series.forEach(function (sr) {
      var vals = sr.values;
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

  /* The class and colour of one run's path: the page's class (a, b) or the run's colour. */
  function seriesAttrs(sr, k, cls) {
    var names = [cls, sr.css, sr.main ? "main" : ""].filter(function (n) { return n; });
    var attrs = { class: names.join(" "), "data-series": k };
    if (sr.color) attrs.style = (cls.indexOf("dots") === 0 ? "fill:" : "stroke:") + sr.color;
    return attrs;
  }

  /* Raw curves of every run first, then the smoothed ones on top (as TensorBoard does: the
     raw line fades when smoothing is on), the main run (the runs page's baseline) last; then
     the points when there are few. */
  function drawSeries(svg, chart, sc) {
    var list = chart.data.series;
    var w = state.smoothing;
    chart.smoothed = list.map(function (sr) {
      return w > 0 ? lib.smooth(sr.values, w) : sr.values;
    });
    var order = chart.order;
    order.forEach(function (k) {
      var attrs = seriesAttrs(list[k], k, "series" + (w > 0 ? " raw" : ""));
      attrs.d = pathData(list[k].steps, list[k].values, sc, chart.log);
      node(svg, "path", attrs);
    });
    if (w > 0) {
      order.forEach(function (k) {
        var attrs = seriesAttrs(list[k], k, "series smooth");
        attrs.d = pathData(list[k].steps, chart.smoothed[k], sc, chart.log);
        node(svg, "path", attrs);
      });
    }
    if (list.length > 4) return;
    order.forEach(function (k) {
      var steps = list[k].steps;
      var vals = chart.smoothed[k];
      if (steps.length > DOTS_UP_TO) return;
      var g = node(svg, "g", seriesAttrs(list[k], k, "dots"));
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
    chart.hoverDots = chart.data.series.map(function (sr, k) {
      var attrs = seriesAttrs(sr, k, "");
      attrs.r = sr.main || chart.data.series.length <= 4 ? 4 : 3;
      if (sr.color) attrs.style = "fill:" + sr.color;
      return node(hover, "circle", attrs);
    });
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
  function at(chart, k, s) {
    var steps = chart.data.series[k].steps;
    if (!steps.length || s < steps[0] || s > steps[steps.length - 1]) return -1;
    return nearest(steps, s);
  }

  function shortLabel(label) {
    return label.length <= 48 ? label : "\u2026" + label.slice(label.length - 47);
  }

  function line(chart, k, j, s) {
    var sr = chart.data.series[k];
    var own = sr.steps;
    var text = shortLabel(sr.label) + ": ";
    if (j < 0) {
      if (!own.length) return text + "no values";
      return text + "no point " + (s < own[0] ? "before step " + own[0] : "after step " + own[own.length - 1]);
    }
    text += lib.valueText(sr.values[j]);
    if (own[j] !== s) text += " (at step " + own[j] + ")";
    var sm = chart.smoothed[k][j];
    if (state.smoothing > 0 && lib.finite(sm)) text += " (smoothed " + Number(sm.toPrecision(6)) + ")";
    return text;
  }

  /* The runs listed on hover: all of them in page order when they fit, else the TIP_ROWS
     nearest the pointer (the middle of the plot from the keyboard), highest value first. */
  function tipRuns(chart, js) {
    var all = chart.data.series.map(function (sr, k) { return k; });
    if (all.length <= TIP_ROWS) return all;
    var y = chart.pointerY === null ? (chart.sc.top + chart.sc.bottom) / 2 : chart.pointerY;
    var pos = function (k) {
      var v = js[k] < 0 ? NaN : chart.smoothed[k][js[k]];
      return usable(v, chart.log) ? chart.sc.y(v) : Infinity;
    };
    var near = all.slice().sort(function (p, q) { return Math.abs(pos(p) - y) - Math.abs(pos(q) - y); });
    return near.slice(0, TIP_ROWS).sort(function (p, q) { return pos(p) - pos(q); });
  }

  function tipRows(chart, js, s) {
    var list = chart.data.series;
    var shown = tipRuns(chart, js);
    var rows = [{ text: "step " + s }];
    shown.forEach(function (k) {
      rows.push({ text: line(chart, k, js[k], s), sr: list[k] });
    });
    if (shown.length < list.length) {
      rows.push({ text: "+ " + (list.length - shown.length) + " more runs (move up or down)" });
    }
    var a = js[0];
    var b = js[1];
    if (chart.data.diff && a >= 0 && b >= 0 && list[0].steps[a] === s && list[1].steps[b] === s) {
      rows.push({ text: "B \u2212 A: " + Number((list[1].values[b] - list[0].values[a]).toPrecision(6)) });
    }
    return rows;
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
    var list = chart.data.series;
    var s = chart.steps[i];
    var x = sc.x(s);
    var js = list.map(function (sr, k) { return at(chart, k, s); });
    g.setAttribute("visibility", "visible");
    chart.hoverLine.setAttribute("x1", x);
    chart.hoverLine.setAttribute("x2", x);
    var ys = [];
    list.forEach(function (sr, k) {
      var v = js[k] < 0 ? NaN : chart.smoothed[k][js[k]];
      var dot = chart.hoverDots[k];
      var ok = usable(v, chart.log);
      dot.setAttribute("visibility", ok ? "visible" : "hidden");
      if (ok) {
        dot.setAttribute("cx", sc.x(sr.steps[js[k]]));
        dot.setAttribute("cy", sc.y(v));
        ys.push(sc.y(v));
      }
    });
    var tip = chart.tip;
    tip.textContent = "";
    tipRows(chart, js, s).forEach(function (r) {
      var div = document.createElement("div");
      div.textContent = r.text;
      if (r.sr && r.sr.css) div.className = r.sr.css;
      if (r.sr && r.sr.color) div.style.color = r.sr.color;
      tip.appendChild(div);
    });
    tip.hidden = false;
    placeTip(chart, ys, x);
  }

  /* The labels drawn above the plot ("compared steps", "apart from step N") as boxes in the
     plot's pixels, for the hover box to stay clear of. */
  function labelBoxes(chart, box) {
    var out = [];
    var texts = chart.svg.querySelectorAll(".compared text, .divergence text");
    for (var k = 0; k < texts.length; k++) {
      var r = texts[k].getBoundingClientRect();
      out.push({ left: r.left - box.left, top: r.top - box.top, right: r.right - box.left, bottom: r.bottom - box.top });
    }
    return out;
  }

  function overlaps(p, q) {
    return p.left < q.right && q.left < p.right && p.top < q.bottom && q.top < p.bottom;
  }

  /* Beside the cursor line (right of it when it fits), in the half of the plot the curves are
     not in at that step, and never over a label above the plot: a place that would cover one
     is skipped for the other side of the line, then the other half; a box too tall for every
     place starts just under the lowest label. */
  function placeTip(chart, ys, x) {
    var sc = chart.sc;
    var tip = chart.tip;
    var box = chart.svg.getBoundingClientRect();
    var scale = box.width / (sc.right + MARGIN.right);
    var w = tip.offsetWidth;
    var h = tip.offsetHeight;
    var right = x * scale + 12;
    var left = Math.max(0, x * scale - w - 12);
    var lefts = right + w <= box.width ? [right, left] : [left, Math.max(0, box.width - w)];
    var mid = (sc.top + sc.bottom) / 2;
    var high = ys.length && ys.reduce(function (t, y) { return t + y; }, 0) / ys.length < mid;
    var upper = sc.top * scale + 4;
    var lower = sc.bottom * scale - h - 4;
    var tops = high ? [lower, upper] : [upper, lower];
    var labels = labelBoxes(chart, box);
    var place = null;
    tops.forEach(function (t) {
      lefts.forEach(function (l) {
        var r = { left: l, top: t, right: l + w, bottom: t + h };
        var clear = t >= 0 && !labels.some(function (b) { return overlaps(r, b); });
        if (!place && clear) place = r;
      });
    });
    if (!place) {
      var under = labels.reduce(function (m, b) { return Math.max(m, b.bottom + 4); }, 0);
      place = { left: lefts[0], top: Math.max(under, Math.min(tops[0], upper)) };
    }
    tip.style.left = place.left + "px";
    tip.style.top = place.top + "px";
  }

  function bind(chart) {
    var svg = chart.svg;
    svg.addEventListener("pointermove", function (ev) {
      if (!chart.sc) return;
      var box = svg.getBoundingClientRect();
      var px = ((ev.clientX - box.left) / box.width) * (chart.sc.right + MARGIN.right);
      var s = chart.sc.x0 + ((px - chart.sc.left) / (chart.sc.right - chart.sc.left)) * (chart.sc.x1 - chart.sc.x0);
      chart.hover = nearest(chart.steps, s);
      chart.pointerY = ((ev.clientY - box.top) / box.width) * (chart.sc.right + MARGIN.right);
      showHover(chart);
    });
    svg.addEventListener("pointerleave", function () {
      if (document.activeElement === svg) return;
      chart.hover = -1;
      showHover(chart);
    });
    svg.addEventListener("focus", function () {
      chart.pointerY = null;
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
      chart.pointerY = null;
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

  /* The steps of every run, ascending, each once: where the cursor and the arrow keys stop. */
  function union(list) {
    var all = [];
    list.forEach(function (sr) {
      for (var i = 0; i < sr.steps.length; i++) all.push(sr.steps[i]);
    });
    all.sort(function (p, q) { return p - q; });
    return all.filter(function (v, i) { return i === 0 || v !== all[i - 1]; });
  }

  /* Drawing order: the main run (the runs page's baseline) last, on top of the others. */
  function drawOrder(list) {
    var order = list.map(function (sr, k) { return k; });
    return order.filter(function (k) { return !list[k].main; }).concat(order.filter(function (k) { return list[k].main; }));
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
      var steps = union(c.series);
      if (!steps.length) continue;
      var chart = {
        fig: fig, svg: svg, tip: fig.querySelector(".tip"), data: c, steps: steps, log: false, hover: -1,
        order: drawOrder(c.series), pointerY: null,
      };
      if (c.series.length > 2) svg.classList.add("many");
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

  setupCharts();
  setupNodeTable();
  window.tbdiffReport = { charts: charts.length, drawnAt: performance.now() };
})();
