// /static/vendor.js: the UI's small toolkit (DOM building, formatting, the
// JSON client, inline SVG charts). Plain browser JavaScript kept as a string
// so the single binary carries it; no template literals inside (the string is
// a template literal itself).
export const VENDOR_JS = String.raw`// nsqadmin UI toolkit: DOM helpers, formatting, API client, SVG charts.
var SVG_NS = "http://www.w3.org/2000/svg";

// h("div", {class: "x", onclick: fn}, child, "text", [more]) builds an element.
// Text is always set as text, never parsed as HTML.
export function h(tag, attrs) {
  var el = document.createElement(tag);
  setAttrs(el, attrs);
  for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
  return el;
}

export function s(tag, attrs) {
  var el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
  return el;
}

function setAttrs(el, attrs) {
  if (!attrs) return;
  Object.keys(attrs).forEach(function (k) {
    var v = attrs[k];
    if (v === undefined || v === null || v === false) return;
    if (k.slice(0, 2) === "on" && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.keys(v).forEach(function (d) { el.dataset[d] = v[d]; });
    else el.setAttribute(k, v === true ? "" : String(v));
  });
}

function append(el, child) {
  if (child === undefined || child === null || child === false) return;
  if (Array.isArray(child)) { child.forEach(function (c) { append(el, c); }); return; }
  el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
}

export function fmtInt(n) {
  if (typeof n !== "number" || !isFinite(n)) return "-";
  return Math.round(n).toLocaleString("en-US");
}

// A rate with a fixed number of decimals per magnitude (never trimmed, so a
// column of rates stays aligned: 7.60, 7.78, 8.00).
export function fmtRate(n) {
  if (typeof n !== "number" || !isFinite(n)) return "-";
  // Bands by the rounded value, so 99.96 is "100", not "100.0".
  var a = Math.abs(n);
  if (a >= 99.95) return Math.round(n).toLocaleString("en-US");
  if (a >= 9.995) return n.toFixed(1);
  return n.toFixed(2);
}

// Nanoseconds to a short human duration.
export function fmtNs(ns) {
  if (typeof ns !== "number" || !isFinite(ns)) return "-";
  if (ns < 1e3) return ns + "ns";
  if (ns < 1e6) return (ns / 1e3).toFixed(1) + "\u00b5s";
  if (ns < 1e9) return (ns / 1e6).toFixed(1) + "ms";
  return (ns / 1e9).toFixed(2) + "s";
}

// A connected duration (ns) as 3d4h, 2h5m, 4m10s or 12s.
export function fmtAge(ns) {
  var sec = Math.max(0, Math.floor(ns / 1e9));
  var d = Math.floor(sec / 86400), hr = Math.floor(sec / 3600) % 24, m = Math.floor(sec / 60) % 60, se = sec % 60;
  if (d > 0) return d + "d" + hr + "h";
  if (hr > 0) return hr + "h" + m + "m";
  if (m > 0) return m + "m" + se + "s";
  return se + "s";
}

export function pct(q) {
  var p = q * 100;
  return "p" + (Math.round(p * 100) / 100);
}

// The JSON client (A-UI-SHELL): V1 accept header, user agent, 20 s timeout.
// Resolves with the body; rejects with an Error carrying .status and the
// server's message.
export function api(method, path, body) {
  var ctl = new AbortController();
  var timer = setTimeout(function () { ctl.abort(); }, 20000);
  var init = {
    method: method,
    headers: {
      "Accept": "application/vnd.nsq; version=1.0",
      "X-UserAgent": window.USER_AGENT || "nsqadmin",
      "Content-Type": "application/json"
    },
    signal: ctl.signal
  };
  if (body !== undefined) init.body = JSON.stringify(body);
  var base = (window.BASE_PATH || "/").replace(/\/$/, "");
  return fetch(base + path, init).then(function (r) {
    return r.text().then(function (text) {
      var data = null;
      try { data = text ? JSON.parse(text) : null; } catch (e) { data = { message: text }; }
      if (!r.ok) {
        var err = new Error((data && data.message) || (r.status + " " + r.statusText));
        err.status = r.status;
        throw err;
      }
      return data;
    });
  }, function (e) {
    throw new Error(e && e.name === "AbortError" ? "request timed out" : "network error: " + (e && e.message));
  }).finally(function () { clearTimeout(timer); });
}

export function enc(s) { return encodeURIComponent(s); }

// A sparkline: a tiny line + area chart of one series.
export function sparkline(values, opts) {
  opts = opts || {};
  var w = opts.width || 120, hgt = opts.height || 26;
  var svg = s("svg", { class: "spark " + (opts.cls || ""), width: w, height: hgt, viewBox: "0 0 " + w + " " + hgt, "aria-hidden": "true" });
  if (!values || values.length < 2) {
    svg.appendChild(s("line", { x1: 0, y1: hgt - 1.5, x2: w, y2: hgt - 1.5, class: "spark-empty" }));
    return svg;
  }
  var pts = scale(values, w, hgt, 2);
  svg.appendChild(s("path", { d: areaPath(pts, hgt), class: "spark-area" }));
  svg.appendChild(s("path", { d: linePath(pts), class: "spark-line" }));
  var last = pts[pts.length - 1];
  svg.appendChild(s("circle", { cx: last[0], cy: last[1], r: 2, class: "spark-dot" }));
  return svg;
}

// Several series in one sparkline (no area): arrays of numbers or nulls,
// scaled together.
export function sparkLines(list, opts) {
  opts = opts || {};
  var w = opts.width || 120, hgt = opts.height || 26;
  var svg = s("svg", { class: "spark " + (opts.cls || ""), width: w, height: hgt, viewBox: "0 0 " + w + " " + hgt, preserveAspectRatio: "none", "aria-hidden": "true" });
  var clean = list.map(function (vs) { return (vs || []).filter(function (v) { return typeof v === "number" && isFinite(v); }); });
  var all = [].concat.apply([], clean);
  if (all.length < 2) {
    svg.appendChild(s("line", { x1: 0, y1: hgt - 1.5, x2: w, y2: hgt - 1.5, class: "spark-empty" }));
    return svg;
  }
  var max = Math.max.apply(null, all), min = Math.min(0, Math.min.apply(null, all)), span = max - min || 1;
  clean.forEach(function (vs, i) {
    if (vs.length < 2) return;
    var pts = vs.map(function (v, k) { return [round1(k * (w / (vs.length - 1))), round1(2 + (hgt - 4) * (1 - (v - min) / span))]; });
    if (clean.length === 1) svg.appendChild(s("path", { d: areaPath(pts, hgt), class: "spark-area" }));
    svg.appendChild(s("path", { d: linePath(pts), class: "spark-line" + (clean.length > 1 ? " s" + (i % 6) : "") }));
  });
  return svg;
}

function scale(values, w, hgt, pad) {
  var max = Math.max.apply(null, values), min = Math.min(0, Math.min.apply(null, values));
  var span = max - min || 1;
  var n = values.length;
  return values.map(function (v, i) {
    return [round1(i * (w / (n - 1))), round1(pad + (hgt - 2 * pad) * (1 - (v - min) / span))];
  });
}

function round1(x) { return Math.round(x * 10) / 10; }

function linePath(pts) {
  return pts.map(function (p, i) { return (i ? "L" : "M") + p[0] + " " + p[1]; }).join(" ");
}

function areaPath(pts, hgt) {
  return linePath(pts) + " L" + pts[pts.length - 1][0] + " " + hgt + " L" + pts[0][0] + " " + hgt + " Z";
}

// A labelled chart of one series over time: samples [{ts, <key>}].
// opts.value, when given, is the headline figure (the live value), so the
// headline and the page's tables come from one source.
export function chart(title, samples, key, opts) {
  opts = opts || {};
  var points = samples.map(function (x) { return [x.ts, x[key]]; });
  var value = opts.value !== undefined ? opts.value : (points.length ? points[points.length - 1][1] : null);
  return lineChart(title, [{ points: points }], { cls: opts.cls, fmt: opts.fmt, value: value, key: key });
}

// A chart of one or more series: [{label, points: [[ts ms, value or null]]}].
// Nulls are skipped (the line joins the points around them). One series is
// drawn with an area; several get a legend. opts: cls, fmt (values),
// value (headline; null for none), href (title links to it), key.
export function lineChart(title, series, opts) {
  opts = opts || {};
  var w = 560, hgt = 150, left = 46, bottom = 20, top = 10;
  var fmt = opts.fmt || fmtInt;
  var clean = series.map(function (se) {
    return { label: se.label, points: (se.points || []).filter(function (p) { return typeof p[1] === "number" && isFinite(p[1]); }) };
  });
  var all = [];
  clean.forEach(function (se) { se.points.forEach(function (p) { all.push(p); }); });
  var value = opts.value;
  var titleEl = opts.href ? h("a", { class: "chart-title", href: opts.href, target: "_blank", rel: "noopener" }, title) : h("span", { class: "chart-title" }, title);
  var head = h("div", { class: "chart-head" }, titleEl,
    value === undefined ? null : h("span", { class: "chart-value", dataset: { key: opts.key || "" } }, value === null ? "-" : fmt(value)));
  var svg = s("svg", { class: "chart " + (opts.cls || ""), viewBox: "0 0 " + w + " " + hgt, preserveAspectRatio: "none", role: "img", "aria-label": title });
  var plotW = w - left - 6, plotH = hgt - top - bottom;
  var max = all.length ? Math.max.apply(null, all.map(function (p) { return p[1]; })) : 0;
  var nice = niceMax(max);
  for (var g = 0; g <= 2; g++) {
    var y = top + plotH * (1 - g / 2);
    svg.appendChild(s("line", { x1: left, x2: w - 6, y1: y, y2: y, class: "grid" }));
    svg.appendChild(s("text", { x: left - 6, y: y + 4, class: "axis", "text-anchor": "end" }, fmtAxis(nice * g / 2)));
  }
  var t0 = Infinity, t1 = -Infinity;
  all.forEach(function (p) { if (p[0] < t0) t0 = p[0]; if (p[0] > t1) t1 = p[0]; });
  var drawn = 0;
  clean.forEach(function (se, i) {
    if (se.points.length < 2) return;
    var span = (t1 - t0) || 1;
    var pts = se.points.map(function (p) {
      return [round1(left + plotW * (p[0] - t0) / span), round1(top + plotH * (1 - p[1] / (nice || 1)))];
    });
    if (clean.length === 1) svg.appendChild(s("path", { d: linePath(pts) + " L" + pts[pts.length - 1][0] + " " + (top + plotH) + " L" + pts[0][0] + " " + (top + plotH) + " Z", class: "chart-area" }));
    svg.appendChild(s("path", { d: linePath(pts), class: "chart-line" + (clean.length > 1 ? " s" + (i % 6) : "") }));
    drawn++;
  });
  if (drawn > 0) {
    svg.appendChild(s("text", { x: left, y: hgt - 4, class: "axis" }, clock(t0)));
    svg.appendChild(s("text", { x: w - 6, y: hgt - 4, class: "axis", "text-anchor": "end" }, clock(t1)));
  } else {
    svg.appendChild(s("text", { x: left + plotW / 2, y: top + plotH / 2, class: "axis", "text-anchor": "middle" }, opts.empty || "collecting samples\u2026"));
  }
  var legend = clean.length > 1 ? h("div", { class: "legend" }, clean.map(function (se, i) {
    return h("span", { class: "s" + (i % 6) }, se.label);
  })) : null;
  return h("figure", { class: "chart-box" }, head, svg, legend);
}

// Axis labels: integers with separators, halves with one decimal.
function fmtAxis(v) {
  return v === Math.round(v) ? Math.round(v).toLocaleString("en-US") : v.toFixed(1);
}

// A round axis maximum; at least 2 so integer halves label cleanly.
function niceMax(max) {
  if (!(max > 2)) return 2;
  var exp = Math.pow(10, Math.floor(Math.log10(max)));
  var f = max / exp;
  var step = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return step * exp;
}

function clock(ts) {
  var d = new Date(ts);
  function p(n) { return n < 10 ? "0" + n : "" + n; }
  return p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds());
}
`;
