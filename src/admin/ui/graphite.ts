// /static/graphite.js: graphite graphs in the UI (A-UI-GRAPHS, A-UI-NAV's
// timeframe). Builds the original's render targets from the statsd settings
// nsqadmin was started with, loads their datapoints as JSON from graphite's
// render API and draws them with the UI's own SVG charts.
//
// Where the data comes from: with --proxy-graphite through nsqadmin's /render
// (same origin, plain fetch); otherwise straight from --graphite-url as JSONP
// (graphite's `jsonp` parameter), as the original loads its rate cells, since
// graphite sends no CORS headers. The original draws graphite's PNGs with
// <img>; each chart here still links to that PNG (the original's large graph).
//
// Deliberate differences from the original's targets (SPEC A-UI-GRAPHS), each
// because the original's form matches nothing in graphite:
// - targets go out as repeated `target=` (the original sends `target[]=`);
// - functions are applied outside the statsd format (the original builds
//   `stats.gauges.averageSeries(nsq.*...)` and `stats.counters.movingAverage(...).count`);
// - e2e keys use the topic and channel of the page and the percentile as nsqd
//   names it (`%.0f` of quantile x 100), so `0.999` is `_100`, as nsqd sends it;
// - the prefix gets a trailing "." only when it lacks one, as nsqd's does.
// Plain browser JavaScript in a string; no template literals inside.
export const GRAPHITE_JS = String.raw`// nsqadmin graphite graphs.
import { h, fmtInt, fmtRate, fmtNs, lineChart, sparkLines } from "./vendor.js";

export var TIMEFRAMES = ["1h", "2h", "12h", "24h", "48h", "168h", "off"];

function cfg(name, fallback) {
  var v = typeof window !== "undefined" ? window[name] : undefined;
  return v === undefined ? fallback : v;
}

// ---- targets (pure) ----------------------------------------------------------

var COUNTERS = { message_count: 1, requeue_count: 1, timeout_count: 1, gc_runs: 1 };

export function metricType(key) {
  if (COUNTERS[key]) return "counter";
  return "gauge";
}

// The statsd key as graphite stores it (--statsd-counter-format / --statsd-gauge-format).
export function statsdKey(type, key, c) {
  var fmt = type === "counter" ? c.counterFormat : c.gaugeFormat;
  return fmt ? fmt.replace(/%s/g, key) : key;
}

// --statsd-prefix for one node ("host:port") or "*" for every node; nsqd
// turns "." and ":" of its address into "_" and ends the prefix with ".".
export function statsdPrefix(host, c) {
  var p = c.prefix || "";
  if (p === "") return "";
  p = p.replace(/%s/g, host.replace(/[.:]/g, "_"));
  return p.charAt(p.length - 1) === "." ? p : p + ".";
}

// As the statsd daemon stores names: space to "_", "/" to "-", and nothing
// outside [a-zA-Z0-9-_.].
export function sanitizeKey(name) {
  return String(name).replace(/ /g, "_").replace(/\//g, "-").replace(/[^a-zA-Z0-9_.\-]/g, "");
}

// Go's %.0f of quantile x 100 (round half to even), as nsqd names e2e gauges.
export function percentName(q) {
  var x = q * 100, r = Math.round(x);
  return String(Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r);
}

// The graphite targets of one graph.
//   kind "topic":   a = topic
//   kind "channel": a = topic, b = channel
//   kind "node":    key under mem. (node required)
//   kind "e2e":     a = {topic, channel, percentiles: [{quantile}]}; one target per percentile
//   kind "counter": every channel of every topic
// node is a "host:port" or "*" (every node).
export function targets(kind, node, a, b, key, c) {
  var prefix = statsdPrefix(node || "*", c);
  if (kind === "topic") return ["sumSeries(" + statsdKey(metricType(key), prefix + "topic." + sanitizeKey(a) + "." + key, c) + ")"];
  if (kind === "channel") return ["sumSeries(" + statsdKey(metricType(key), prefix + "topic." + sanitizeKey(a) + ".channel." + sanitizeKey(b) + "." + key, c) + ")"];
  if (kind === "node") {
    var t = statsdKey(metricType(key), prefix + "mem." + key, c);
    return [key === "gc_runs" ? "movingAverage(" + t + ",45)" : t];
  }
  if (kind === "e2e") {
    return (a.percentiles || []).map(function (p) {
      var path = prefix + "topic." + sanitizeKey(a.topic) + (a.channel ? ".channel." + sanitizeKey(a.channel) : "") + "." + key + "_" + percentName(p.quantile);
      var t = statsdKey("gauge", path, c);
      if (!node || node === "*") t = "averageSeries(" + t + ")";
      return "scale(" + t + ",0.000001)";
    });
  }
  if (kind === "counter") return ["sumSeries(" + statsdKey("counter", prefix + "topic.*.channel.*." + key, c) + ")"];
  return [];
}

// A sparkline's target: the original's summarize() per statsd interval.
export function sparkTarget(t, c) {
  return "summarize(" + t + ",\"" + c.interval + "sec\",\"avg\")";
}

// A large graph's target: counters become per second.
export function largeTarget(t, key, c) {
  if (metricType(key) === "counter") t = "scale(" + t + "," + (1 / c.interval) + ")";
  return sparkTarget(t, c);
}

// The rate cell: first datapoint of [-2i, -i] over the interval, 2 decimals, "N/A" when negative or missing.
export function rateText(series, c) {
  var v = series && series[0] && series[0][0];
  if (typeof v !== "number" || !isFinite(v) || v < 0) return "N/A";
  return (v / c.interval).toFixed(2);
}

// ---- configuration and timeframe ---------------------------------------------

export function config() {
  return {
    enabled: !!cfg("GRAPH_ENABLED", false),
    url: String(cfg("GRAPHITE_URL", "")).replace(/\/$/, ""),
    base: String(cfg("BASE_PATH", "/")).replace(/\/$/, ""),
    interval: Math.max(1, Number(cfg("STATSD_INTERVAL", 60)) || 60),
    prefix: String(cfg("STATSD_PREFIX", "")),
    counterFormat: String(cfg("STATSD_COUNTER_FORMAT", "")),
    gaugeFormat: String(cfg("STATSD_GAUGE_FORMAT", ""))
  };
}

var C = config();

// ?t= wins, then the stored choice, then 2h when graphite is configured.
export function timeframe() {
  var q = new URLSearchParams(location.search).get("t");
  if (q && TIMEFRAMES.indexOf(q) >= 0) return q;
  var stored = null;
  try { stored = localStorage.getItem("graph_interval"); } catch (e) { stored = null; }
  if (stored && TIMEFRAMES.indexOf(stored) >= 0) return stored;
  return C.enabled ? "2h" : "off";
}

export function setTimeframe(v) {
  try { localStorage.setItem("graph_interval", v); } catch (e) { /* private mode */ }
  var url = new URL(location.href);
  if (url.searchParams.has("t")) { url.searchParams.delete("t"); history.replaceState(null, "", url.pathname + url.search); }
}

export function active() { return C.enabled && timeframe() !== "off"; }

// The header's timeframe menu (only with --graphite-url).
export function timeframeSelect(onChange) {
  if (!C.enabled) return null;
  var sel = h("select", { id: "graph-interval", title: "Graph timeframe", "aria-label": "Graph timeframe" },
    TIMEFRAMES.map(function (t) { return h("option", { value: t }, t === "off" ? "graphs off" : "graphs " + t); }));
  sel.value = timeframe();
  sel.addEventListener("change", function () { setTimeframe(sel.value); onChange(); });
  return sel;
}

// ---- URLs ----------------------------------------------------------------------

function renderPath() { return (C.url === "" ? C.base : C.url) + "/render"; }

function query(params, list) {
  var q = new URLSearchParams();
  Object.keys(params).forEach(function (k) { q.append(k, params[k]); });
  list.forEach(function (t) { q.append("target", t); });
  return q.toString();
}

// The original's large PNG graph, for the chart links.
export function pngUrl(kind, list) {
  var colors = kind === "node" ? "red,green,blue,purple" : kind === "counter" ? "green" : "blue";
  return renderPath() + "?" + query({ colorList: colors, height: "450", width: "800", bgcolor: "ff000000", fgcolor: "999999", yMin: "0", lineMode: "connected", drawNullAsZero: "false", from: "-" + timeframe(), until: "-1min" }, list);
}

// ---- loading -----------------------------------------------------------------------

// Datapoints by range and target, kept for one statsd interval (graphite has
// nothing newer before that).
var cache = new Map();
var pending = new Set();
var jsonpSeq = 0;
var MAX_URL = 3500;

function ranges() {
  return {
    graph: { from: "-" + timeframe(), until: "-1min" },
    rate: { from: "-" + (2 * C.interval) + "sec", until: "-" + C.interval + "sec" }
  };
}

function fresh(entry) { return entry && Date.now() - entry.at < Math.max(5, C.interval) * 1000; }

function getJson(url) {
  if (C.url === "") {
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error("graphite answered " + r.status);
      return r.json();
    });
  }
  return new Promise(function (resolve, reject) {
    var name = "__nsqadminGraphite" + (++jsonpSeq);
    var el = document.createElement("script");
    var timer = setTimeout(function () { done(); reject(new Error("graphite timed out")); }, 20000);
    function done() { clearTimeout(timer); delete window[name]; el.remove(); }
    window[name] = function (data) { done(); resolve(data); };
    el.onerror = function () { done(); reject(new Error("graphite unreachable")); };
    el.src = url + "&jsonp=" + name;
    document.head.appendChild(el);
  });
}

// One render request (split when the URL gets long) for targets of one range;
// each target is aliased to its index so answers map back whatever graphite
// calls the series. Targets without data come back with no series: empty.
function load(range, list) {
  var r = ranges()[range];
  var chunks = [], cur = [], len = 0;
  list.forEach(function (t) {
    var cost = encodeURIComponent(t).length + 40;
    if (cur.length && len + cost > MAX_URL) { chunks.push(cur); cur = []; len = 0; }
    cur.push(t); len += cost;
  });
  if (cur.length) chunks.push(cur);
  return Promise.all(chunks.map(function (chunk) {
    chunk.forEach(function (t) { pending.add(range + "|" + r.from + "|" + t); });
    var aliased = chunk.map(function (t, i) { return "alias(" + t + ",\"g" + i + "\")"; });
    var url = renderPath() + "?" + query({ format: "json", from: r.from, until: r.until }, aliased);
    return getJson(url).then(function (data) {
      var byAlias = {};
      (Array.isArray(data) ? data : []).forEach(function (se) { if (se && se.target) byAlias[se.target] = se.datapoints || []; });
      chunk.forEach(function (t, i) { cache.set(range + "|" + r.from + "|" + t, { at: Date.now(), points: byAlias["g" + i] || [] }); });
    }, function (e) {
      chunk.forEach(function (t) { cache.set(range + "|" + r.from + "|" + t, { at: Date.now(), error: e.message }); });
    }).finally(function () {
      chunk.forEach(function (t) { pending.delete(range + "|" + r.from + "|" + t); });
    });
  }));
}

// ---- placeholders ----------------------------------------------------------------

function spec(el) { return JSON.parse(el.dataset.graphite); }

// A small graph for a table cell; links to the large PNG.
export function spark(kind, node, a, b, key) {
  if (!active()) return null;
  var list = targets(kind, node, a, b, key, C);
  if (!list.length) return null;
  return h("a", { class: "gspark", href: pngUrl(kind, list.map(function (t) { return largeTarget(t, key, C); })), target: "_blank", rel: "noopener",
    title: "graphite: " + key.replace(/_/g, " "), dataset: { graphite: JSON.stringify({ range: "graph", kind: "spark", targets: list.map(function (t) { return sparkTarget(t, C); }) }) } });
}

// A rate cell's content (messages per second over the last full statsd interval).
export function rate(kind, node, a, b) {
  if (!active()) return null;
  return h("span", { class: "grate", dataset: { graphite: JSON.stringify({ range: "rate", kind: "rate", targets: targets(kind, node, a, b, "message_count", C) }) } }, "\u2026");
}

// A large chart: lines = [{label, kind, node, a, b, key}], fmt for values.
export function chart(title, lines, fmt) {
  if (!active()) return null;
  var all = [], labels = [], kind = lines[0].kind;
  lines.forEach(function (l) {
    targets(l.kind, l.node, l.a, l.b, l.key, C).forEach(function (t, i) {
      all.push(largeTarget(t, l.key, C));
      labels.push(l.labels ? l.labels[i] : l.label);
    });
  });
  if (!all.length) return null;
  var box = h("div", { class: "gchart", dataset: { graphite: JSON.stringify({ range: "graph", kind: "chart", targets: all, labels: labels, title: title, fmt: fmt || "int", href: pngUrl(kind, all) }) } });
  box.append(drawChart(spec(box), null));
  return box;
}

var FORMATS = { int: fmtInt, rate: fmtRate, ms: function (v) { return fmtNs(Math.round(v * 1e6)); }, bytes: fmtBytes };

function fmtBytes(v) {
  var u = ["B", "KiB", "MiB", "GiB", "TiB"], i = 0;
  while (Math.abs(v) >= 1024 && i < u.length - 1) { v /= 1024; i++; }
  return (i === 0 ? Math.round(v) : v.toFixed(1)) + " " + u[i];
}

function drawChart(sp, results) {
  var err = results && results.filter(function (r) { return r.error; })[0];
  var series = sp.targets.map(function (t, i) {
    var pts = results && results[i] && results[i].points ? results[i].points : [];
    return { label: sp.labels[i], points: pts.map(function (p) { return [p[1] * 1000, p[0]]; }) };
  });
  var last = null;
  if (series.length === 1) {
    var ps = series[0].points.filter(function (p) { return typeof p[1] === "number"; });
    last = ps.length ? ps[ps.length - 1][1] : null;
  }
  return lineChart(sp.title, series, { cls: "graphite", fmt: FORMATS[sp.fmt] || fmtInt, value: series.length === 1 ? last : undefined, href: sp.href,
    empty: err ? "graphite: " + err.error : results ? "no data in graphite" : "loading from graphite\u2026" });
}

function draw(el, results) {
  var sp = spec(el);
  if (sp.kind === "rate") {
    var r = results[0];
    el.textContent = r.error ? "error" : rateText(r.points, C);
    el.title = r.error ? "graphite: " + r.error : "graphite, messages per second over the last full " + C.interval + "s";
  } else if (sp.kind === "spark") {
    el.replaceChildren(sparkLines(results.map(function (r) { return (r.points || []).map(function (p) { return p[0]; }); }), { cls: "graphite", width: 120, height: 20 }));
    el.classList.toggle("error", results.some(function (r) { return r.error; }));
  } else {
    el.replaceChildren(drawChart(sp, results));
  }
  el.dataset.drawn = results.some(function (r) { return r.error; }) ? "error" : "data";
}

// Draws every graphite placeholder under root from the cache and loads what is
// missing in one request per range, then draws again.
export function fill(root) {
  if (!active()) return;
  var els = Array.prototype.slice.call(root.querySelectorAll("[data-graphite]"));
  if (!els.length) return;
  var rs = ranges(), want = { graph: [], rate: [] };
  els.forEach(function (el) {
    var sp = spec(el), from = rs[sp.range].from, results = [], ready = true;
    sp.targets.forEach(function (t) {
      var key = sp.range + "|" + from + "|" + t, entry = cache.get(key);
      if (entry) results.push(entry);
      if (!fresh(entry)) {
        if (!entry) ready = false;
        if (!pending.has(key) && want[sp.range].indexOf(t) < 0) want[sp.range].push(t);
      }
    });
    if (ready) draw(el, results);
  });
  var jobs = [];
  Object.keys(want).forEach(function (range) { if (want[range].length) jobs.push(load(range, want[range])); });
  if (jobs.length) Promise.all(jobs).then(function () { if (root.isConnected) fill(root); });
}
`;
