/* tbdiff report: pure helpers for the charts (no DOM): smoothing, axis ticks, number text. */
var tbdiffLib = (function () {
  "use strict";

  function finite(v) {
    return typeof v === "number" && isFinite(v);
  }

  /* TensorBoard's scalar smoothing. An exponential moving average that starts at 0,
       s_n = w * s_(n-1) + (1 - w) * y_n,
     divided by the weight its terms add up to, 1 - w^n (the debiasing: without it the first
     points would be pulled towards 0). n counts the finite values seen so far; a non-finite
     value is passed through and does not advance the average. A constant series is returned
     as it is (averaging it would only add rounding). w is clamped to [0, 0.999]. */
  function smooth(values, weight) {
    var w = Math.max(0, Math.min(Number(weight) || 0, 0.999));
    var n = values.length;
    var constant = true;
    for (var i = 1; i < n; i++) {
      if (values[i] !== values[0]) {
        constant = false;
        break;
      }
    }
    if (constant || w === 0) return values.slice();
    var out = new Array(n);
    var acc = 0;
    var count = 0;
    for (var j = 0; j < n; j++) {
      var v = values[j];
      if (!finite(v)) {
        out[j] = v;
        continue;
      }
      acc = w * acc + (1 - w) * v;
      count += 1;
      out[j] = acc / (1 - Math.pow(w, count));
    }
    return out;
  }

  /* About `target` round tick values (1, 2 or 5 times a power of ten apart) in [lo, hi]. */
  function linearTicks(lo, hi, target) {
    var span = hi - lo;
    if (!(span > 0)) return { ticks: [lo], step: 1 };
    var raw = span / Math.max(1, target);
    var mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var unit = raw / mag;
    var step = (unit < 1.5 ? 1 : unit < 3.5 ? 2 : unit < 7.5 ? 5 : 10) * mag;
    var ticks = [];
    var first = Math.ceil(lo / step - 1e-9);
    for (var i = first; i * step <= hi + step * 1e-9; i++) {
      ticks.push(Number((i * step).toPrecision(12)));
    }
    return { ticks: ticks, step: step };
  }

  /* Powers of ten in [lo, hi] (lo > 0); with 2 and 5 times them when the range is short. */
  function logTicks(lo, hi) {
    var d0 = Math.floor(Math.log10(lo));
    var d1 = Math.ceil(Math.log10(hi));
    var mults = d1 - d0 <= 3 ? [1, 2, 5] : [1];
    var every = Math.max(1, Math.ceil((d1 - d0) / 8));
    var ticks = [];
    for (var d = d0; d <= d1; d += every) {
      for (var k = 0; k < mults.length; k++) {
        var t = mults[k] * Math.pow(10, d);
        if (t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9)) ticks.push(t);
      }
    }
    return ticks;
  }

  /* Tick label: as many decimals as the tick spacing needs (4 significant digits without a
     spacing, as on a log axis); k/M/G for big step counts. */
  function tickText(x, step) {
    if (x === 0) return "0";
    var ax = Math.abs(x);
    if (ax >= 1e4 && (!step || step >= 1000)) {
      var suffix = ax >= 1e9 ? "G" : ax >= 1e6 ? "M" : "k";
      var div = suffix === "G" ? 1e9 : suffix === "M" ? 1e6 : 1e3;
      return String(Number((x / div).toPrecision(4))) + suffix;
    }
    if (ax < 1e-3 || ax >= 1e7) return x.toExponential(1);
    if (!step) return String(Number(x.toPrecision(4)));
    return x.toFixed(Math.max(0, Math.min(10, -Math.floor(Math.log10(step) + 1e-9))));
  }

  /* Hover text for a logged value: the shortest text that reads back to it. */
  function valueText(x) {
    return finite(x) ? String(x) : "\u2014";
  }

  return {
    smooth: smooth,
    linearTicks: linearTicks,
    logTicks: logTicks,
    tickText: tickText,
    valueText: valueText,
    finite: finite,
  };
})();
if (typeof window !== "undefined") window.tbdiffSmooth = tbdiffLib.smooth;
if (typeof module !== "undefined") module.exports = tbdiffLib;
