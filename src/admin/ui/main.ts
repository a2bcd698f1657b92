// /static/main.js: the single-page UI (A-UI-*). Routes with pushState, polls
// the JSON API every few seconds and redraws only the data regions, so forms
// and dialogs survive the live updates. Plain browser JavaScript in a string
// (no template literals inside).
export const MAIN_JS = String.raw`// nsqadmin single-page UI.
import { h, api, enc, fmtInt, fmtRate, fmtNs, fmtAge, pct, sparkline, chart } from "./vendor.js";
import * as G from "./graphite.js";

var BASE = (window.BASE_PATH || "/").replace(/\/$/, "");
var IS_ADMIN = !!window.IS_ADMIN;
var LOOKUPD = window.NSQLOOKUPD || [];
var POLL_MS = 3000;

var app = document.getElementById("app");
var banner = document.getElementById("banner");
var liveDot = document.getElementById("live");
var current = null; // { timer, stop }

// ---- routing ---------------------------------------------------------------

function route(path) {
  var rel = path.slice(BASE.length) || "/";
  var parts = rel.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0 || (parts.length === 1 && parts[0] === "topics")) return { view: topicsView, nav: "topics" };
  if (parts[0] === "topics" && parts.length === 2) return { view: topicView, args: [parts[1]], nav: "topics" };
  if (parts[0] === "topics" && parts.length === 3) return { view: channelView, args: [parts[1], parts[2]], nav: "topics" };
  if (parts[0] === "nodes" && parts.length === 1) return { view: nodesView, nav: "nodes" };
  if (parts[0] === "nodes" && parts.length === 2) return { view: nodeView, args: [parts[1]], nav: "nodes" };
  if (parts[0] === "counter") return { view: counterView, nav: "counter" };
  if (parts[0] === "lookup") return { view: lookupView, nav: "lookup" };
  return { view: notFoundView, nav: "" };
}

function href(p) { return BASE + p; }

function link(p, text, cls) {
  return h("a", { href: href(p), "data-link": true, class: cls }, text);
}

function go(p) {
  history.pushState(null, "", href(p));
  show();
}

// The header: a menu button on narrow screens, the graph timeframe (A-UI-NAV).
var header = document.querySelector("header.top");
var menuButton = document.getElementById("menu-toggle");
function setMenu(open) {
  header.classList.toggle("open", open);
  if (menuButton) menuButton.setAttribute("aria-expanded", open ? "true" : "false");
}
if (menuButton) menuButton.addEventListener("click", function () { setMenu(!header.classList.contains("open")); });
var timeframe = G.timeframeSelect(function () { if (current && current.refresh) { app.replaceChildren(); show(); } });
if (timeframe) document.querySelector(".top-right").prepend(timeframe);

document.addEventListener("click", function (ev) {
  var a = ev.target.closest && ev.target.closest("a[data-link]");
  if (!a || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.button !== 0) return;
  ev.preventDefault();
  history.pushState(null, "", a.getAttribute("href"));
  show();
});
window.addEventListener("popstate", show);

function show() {
  if (current) current.stop();
  clearBanner();
  setMenu(false);
  var r = route(location.pathname);
  document.querySelectorAll("nav a[data-nav]").forEach(function (a) {
    a.classList.toggle("active", a.dataset.nav === r.nav);
  });
  app.replaceChildren();
  window.scrollTo(0, 0);
  current = r.view.apply(null, r.args || []);
}

// A view built from a loader and a drawer: load() resolves data, draw(data)
// fills the live region. Polling redraws only that region.
// missing, when given, is the notice shown while the page's own topic,
// channel or node does not exist (a 404 from nsqadmin): the cluster answered,
// so the live indicator stays green.
function live(region, load, draw, interval, missing) {
  var stopped = false, timer = null, first = true;
  function fine() {
    liveDot.classList.remove("error");
    liveDot.title = "live: updated " + new Date().toLocaleTimeString();
  }
  function tick() {
    liveDot.classList.add("busy");
    load().then(function (data) {
      if (stopped) return;
      if (data && data.message) warnBanner(data.message); else if (!first) clearWarn();
      region.replaceChildren.apply(region, [draw(data)].flat(Infinity).filter(Boolean));
      region.classList.remove("loading");
      labelCells(region);
      G.fill(region);
      fine();
    }, function (e) {
      if (stopped) return;
      region.classList.remove("loading");
      if (e.status === 404 && missing) {
        clearWarn();
        region.replaceChildren(h("div", { class: "notice", id: "missing" }, missing));
        fine();
        return;
      }
      errorBanner(e.message);
      liveDot.classList.add("error");
      if (first) region.replaceChildren(h("div", { class: "notice" }, "Could not load this page."));
    }).finally(function () {
      first = false;
      liveDot.classList.remove("busy");
      if (!stopped) timer = setTimeout(tick, typeof interval === "function" ? interval() : interval || POLL_MS);
    });
  }
  region.classList.add("loading");
  tick();
  return {
    stop: function () { stopped = true; clearTimeout(timer); },
    refresh: function () { clearTimeout(timer); tick(); }
  };
}

// ---- banners and dialogs -----------------------------------------------------

function clearBanner() { banner.replaceChildren(); banner.className = ""; }
function clearWarn() { if (banner.className === "warn") clearBanner(); }
function errorBanner(msg) { banner.className = "error"; banner.replaceChildren(h("strong", null, "Error: "), msg); }
function warnBanner(msg) { banner.className = "warn"; banner.replaceChildren(h("strong", null, "Warning: "), msg); }
function okBanner(msg) { banner.className = "ok"; banner.replaceChildren(msg); }

var dialog = document.getElementById("confirm");
function confirmAction(text, label, danger) {
  return new Promise(function (resolve) {
    var ok = h("button", { class: "btn " + (danger ? "danger" : "primary"), id: "confirm-ok", value: "ok" }, label);
    var cancel = h("button", { class: "btn ghost", id: "confirm-cancel", value: "cancel" }, "Cancel");
    dialog.replaceChildren(h("form", { method: "dialog" }, h("p", null, text), h("div", { class: "dialog-buttons" }, cancel, ok)));
    dialog.onclose = function () { resolve(dialog.returnValue === "ok"); };
    dialog.returnValue = "";
    dialog.showModal();
    ok.focus();
  });
}

function act(method, path, body, text, label, danger, done) {
  return confirmAction(text, label, danger).then(function (yes) {
    if (!yes) return;
    return api(method, path, body).then(function (r) {
      // done() may navigate, which clears the banner: confirm afterwards.
      if (done) done();
      if (r && r.message) warnBanner(r.message); else okBanner(label + ": done.");
    }, function (e) { errorBanner(e.message); });
  });
}

// ---- shared pieces ---------------------------------------------------------------

function th(cols) { return h("thead", null, h("tr", null, cols.map(function (c) { return h("th", typeof c === "string" ? null : c[1], typeof c === "string" ? c : c[0]); }))); }
function num(v, cls) { return h("td", { class: "num " + (cls || "") }, fmtInt(v)); }
function pausedBadge(p) { return p ? h("span", { class: "badge paused" }, "paused") : null; }

function e2eCols(agg) {
  return agg && agg.percentiles ? agg.percentiles.map(function (p) { return pct(p.quantile); }) : [];
}
function e2eCells(agg, quantiles) {
  var byQ = {};
  if (agg && agg.percentiles) agg.percentiles.forEach(function (p) { byQ[pct(p.quantile)] = p; });
  return quantiles.map(function (q) {
    var p = byQ[q];
    if (!p) return h("td", { class: "num muted" }, "-");
    return h("td", { class: "num", title: "min " + fmtNs(p.min) + " / max " + fmtNs(p.max) }, fmtNs(p.average));
  });
}

function section(title, extra) {
  return h("div", { class: "section-head" }, h("h2", null, title), extra || null);
}

// The sampled history, headed by the live depth (the figure the tables below
// show), with the live depth as the newest point of its line.
function historyCharts(samples, depth) {
  var withNow = samples.length ? samples.concat([{ ts: Math.max(Date.now(), samples[samples.length - 1].ts), depth: depth }]) : samples;
  return h("div", { class: "charts" },
    chart("Depth", withNow, "depth", { cls: "depth", value: depth }),
    chart("Messages / second", samples, "rate", { cls: "rate", fmt: fmtRate }));
}

// Graphite's larger graphs of a topic or channel (A-UI-GRAPHS), all nodes.
function graphiteCharts(kind, topic, channel, e2e) {
  if (!G.active()) return null;
  var q = e2e && e2e.percentiles && e2e.percentiles.length ? e2e.percentiles : null;
  return h("div", { class: "charts graphite-charts" },
    G.chart("Depth \u00b7 graphite " + G.timeframe(), [{ kind: kind, node: "*", a: topic, b: channel, key: "depth", label: "depth" }]),
    G.chart("Messages / second \u00b7 graphite " + G.timeframe(), [{ kind: kind, node: "*", a: topic, b: channel, key: "message_count", label: "messages/s" }], "rate"),
    q ? G.chart("E2E processing latency \u00b7 graphite " + G.timeframe(), [{ kind: "e2e", node: "*", a: { topic: topic, channel: channel || "", percentiles: q }, key: "e2e_processing_latency", labels: q.map(function (p) { return pct(p.quantile); }) }], "ms") : null);
}

// A row of graphite sparklines under a table row: cells line up with the
// columns (null for an empty cell; a [node, colspan] pair spans).
function graphRow(cells) {
  return h("tr", { class: "graph-row" }, cells.map(function (c) {
    if (Array.isArray(c)) return h("td", { colspan: c[1] }, c[0]);
    return h("td", null, c);
  }));
}

// The node as the original shows it: hostname:port, and the broadcast
// address when it differs from the hostname (the link is the node id).
function hostCell(n, extra) {
  var i = n.node.lastIndexOf(":");
  var address = n.node.slice(0, i).replace(/^\[|\]$/g, ""), port = n.node.slice(i + 1);
  var hostPort = (n.hostname || address) + ":" + port;
  var content = (n.hostname || "").toLowerCase() !== address.toLowerCase()
    ? [hostPort, " (", link("/nodes/" + enc(n.node), n.node), ")"]
    : [link("/nodes/" + enc(n.node), hostPort)];
  return h("td", { class: "name" }, content, extra ? [" ", extra] : null);
}

// Gives every cell of the region's tables the label of its column, which
// narrow screens show in front of the value (see base.css).
function labelCells(root) {
  root.querySelectorAll("table.grid-table").forEach(function (table) {
    var head = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    if (!head) return;
    var labels = [];
    Array.prototype.forEach.call(head.cells, function (c) {
      for (var k = 0; k < (c.colSpan || 1); k++) labels.push(c.textContent.trim());
    });
    Array.prototype.forEach.call(table.querySelectorAll("tbody tr, tfoot tr"), function (tr) {
      var col = 0;
      Array.prototype.forEach.call(tr.cells, function (td) {
        if (!td.dataset.label && labels[col]) td.dataset.label = labels[col];
        col += td.colSpan || 1;
      });
    });
  });
}

function pageHead(crumbs, title, badges, actions) {
  return h("div", { class: "page-head" },
    h("div", null,
      h("div", { class: "crumbs" }, crumbs),
      h("h1", null, title, badges)),
    h("div", { class: "actions" }, actions));
}

function notice(text) { return h("div", { class: "notice" }, text); }

// ---- topics list (A-UI-TOPICS) ---------------------------------------------------------

function topicsView() {
  var region = h("div", { class: "region" });
  app.append(pageHead(null, "Topics", null, null), region);
  return live(region, function () {
    return Promise.all([
      api("GET", "/api/topics"),
      api("GET", "/api/history/topics?points=60").catch(function () { return { topics: {} }; }),
      api("GET", "/api/nodes").catch(function () { return null; })
    ]).then(function (r) { r[0].history = r[1].topics || {}; r[0].nodes = r[2] && r[2].nodes; return r[0]; });
  }, function (data) {
    if (!data.topics || data.topics.length === 0) return notice("No Topics Found");
    var totalRate = 0, totalMessages = 0, backlog = 0;
    data.topics.forEach(function (t) {
      var hs = data.history[t] || [];
      var last = hs[hs.length - 1];
      if (last) { totalRate += last.rate; totalMessages += last.message_count; backlog += last.depth + (last.channel_depth || 0); }
    });
    return [
      h("div", { class: "stats" },
        stat("Topics", fmtInt(data.topics.length)),
        stat("Nodes", data.nodes ? fmtInt(data.nodes.length) : "-"),
        stat("Messages", fmtInt(totalMessages)),
        stat("Queued", fmtInt(backlog)),
        stat("Messages / s", fmtRate(totalRate))),
      h("div", { class: "card" }, h("table", { class: "grid-table" + (G.active() ? " graphs" : ""), id: "topics-table" },
        th(["Topic", ["Topic depth", { class: "num" }], ["Channel depth", { class: "num" }], ["", { class: "spark-cell" }], ["Rate /s", { class: "num" }], ["", { class: "spark-cell" }], ["Messages", { class: "num" }]]
          .concat(G.active() ? [["Graphite depth", { class: "gcol" }], ["Graphite messages", { class: "gcol" }], ["Graphite rate /s", { class: "num" }]] : [])),
        h("tbody", null, data.topics.map(function (t) {
          var hs = data.history[t] || [];
          var last = hs.length ? hs[hs.length - 1] : null;
          return h("tr", { dataset: { topic: t } },
            h("td", { class: "name" }, link("/topics/" + enc(t), t, "strong")),
            h("td", { class: "num depth" }, last ? fmtInt(last.depth) : "-"),
            h("td", { class: "num" }, last ? fmtInt(last.channel_depth) : "-"),
            h("td", { class: "spark-cell" }, sparkline(hs.map(function (x) { return x.depth + (x.channel_depth || 0); }), { cls: "depth" })),
            h("td", { class: "num" }, last ? fmtRate(last.rate) : "-"),
            h("td", { class: "spark-cell" }, sparkline(hs.map(function (x) { return x.rate; }), { cls: "rate" })),
            h("td", { class: "num" }, last ? fmtInt(last.message_count) : "-"),
            G.active() ? [
              h("td", { class: "gcol" }, G.spark("topic", "*", t, "", "depth")),
              h("td", { class: "gcol" }, G.spark("topic", "*", t, "", "message_count")),
              h("td", { class: "num" }, G.rate("topic", "*", t, ""))] : null);
        })))),
      h("p", { class: "muted small" }, "Depth and rate come from this nsqadmin's own sampling every " + fmtNs((window.HISTORY_INTERVAL_MS || 5000) * 1e6).replace(/\.0+(?=[a-z])/, "") + "; sparklines show the last 60 samples.")
    ];
  });
}

// ---- topic page (A-UI-TOPIC) -----------------------------------------------------------

function topicView(topic) {
  var region = h("div", { class: "region" });
  app.append(region);
  var view = live(region, function () {
    return Promise.all([api("GET", "/api/topics/" + enc(topic)), api("GET", "/api/history/topics/" + enc(topic) + "?points=180").catch(function () { return null; })])
      .then(function (r) { r[0].history = r[1]; return r[0]; });
  }, function (t) {
    var base = "/api/topics/" + enc(topic);
    var actions = IS_ADMIN ? [
      t.paused
        ? h("button", { class: "btn", dataset: { action: "unpause" }, onclick: function () { act("POST", base, { action: "unpause" }, "Unpause topic " + topic + "?", "Unpause Topic", false, view.refresh); } }, "Unpause Topic")
        : h("button", { class: "btn", dataset: { action: "pause" }, onclick: function () { act("POST", base, { action: "pause" }, "Pause topic " + topic + "? Messages stop flowing to its channels.", "Pause Topic", false, view.refresh); } }, "Pause Topic"),
      h("button", { class: "btn warn", dataset: { action: "empty" }, onclick: function () { act("POST", base, { action: "empty" }, "Empty topic " + topic + "? Its queued messages are deleted.", "Empty Queue", true, view.refresh); } }, "Empty Queue"),
      h("button", { class: "btn danger", dataset: { action: "delete" }, onclick: function () { act("DELETE", base, undefined, "Delete topic " + topic + " and all its channels?", "Delete Topic", true, function () { go("/"); }); } }, "Delete Topic")
    ] : null;
    var out = [pageHead([link("/", "Topics"), " / "], topic, pausedBadge(t.paused), actions)];
    var samples = t.history ? t.history.samples : [];
    out.push(historyCharts(samples, t.depth));
    out.push(graphiteCharts("topic", topic, "", t.e2e_processing_latency));
    if (!t.nodes || t.nodes.length === 0) {
      out.push(notice("No producers for this topic: no nsqd currently has it."));
      return out;
    }
    var qs = e2eCols(t.e2e_processing_latency);
    var tombstone = IS_ADMIN && LOOKUPD.length > 0;
    var graphs = G.active();
    var e2eSpark = function (node, agg) {
      return qs.length ? [G.spark("e2e", node, { topic: topic, channel: "", percentiles: (agg && agg.percentiles) || [] }, "", "e2e_processing_latency"), qs.length] : null;
    };
    var nodeGraphs = function (node, agg) {
      return graphRow([null, G.spark("topic", node, topic, "", "depth"), null, G.spark("topic", node, topic, "", "message_count"), null, null]
        .concat(qs.length ? [e2eSpark(node, agg)] : []).concat(tombstone ? [null] : []));
    };
    out.push(section("Nodes"));
    out.push(h("div", { class: "card" }, h("table", { class: "grid-table", id: "topic-nodes" },
      th(["NSQd Host", ["Depth", { class: "num" }], ["Memory + Disk", { class: "num" }], ["Messages", { class: "num" }]].concat(graphs ? [["Rate /s", { class: "num" }]] : []).concat([["Channels", { class: "num" }]]).concat(qs.map(function (q) { return [q, { class: "num" }]; })).concat(tombstone ? [""] : [])),
      h("tbody", null, t.nodes.map(function (n) {
        return [h("tr", { dataset: { node: n.node } },
            hostCell(n, pausedBadge(n.paused)),
            num(n.depth, "depth"), h("td", { class: "num muted" }, fmtInt(n.memory_depth) + " + " + fmtInt(n.backend_depth)),
            num(n.message_count), graphs ? h("td", { class: "num" }, G.rate("topic", n.node, topic, "")) : null,
            num(n.channels ? n.channels.length : 0),
            e2eCells(n.e2e_processing_latency, qs),
            tombstone ? h("td", { class: "num" }, h("button", { class: "btn tiny ghost", title: "Tombstone this topic on " + n.node, onclick: function () {
              act("DELETE", "/api/nodes/" + enc(n.node), { topic: topic }, "Tombstone topic " + topic + " on " + n.node + "? lookupd stops listing it there and the topic is deleted on that node.", "Tombstone", true, view.refresh);
            } }, "\u2715")) : null),
          graphs ? nodeGraphs(n.node, n.e2e_processing_latency) : null];
      })),
      h("tfoot", null, h("tr", null, h("td", null, "Total"), num(t.depth, "depth"), h("td", { class: "num muted" }, fmtInt(t.memory_depth) + " + " + fmtInt(t.backend_depth)), num(t.message_count),
        graphs ? h("td", { class: "num" }, G.rate("topic", "*", topic, "")) : null,
        num(t.channels ? t.channels.length : 0), e2eCells(t.e2e_processing_latency, qs), tombstone ? h("td") : null),
        graphs ? nodeGraphs("*", t.e2e_processing_latency) : null))));
    out.push(section("Channels"));
    if (!t.channels || t.channels.length === 0) {
      out.push(notice("This topic has no channels: messages are queued in the topic until a consumer subscribes."));
      return out;
    }
    var chHist = (t.history && t.history.channels) || {};
    var cqs = [];
    t.channels.forEach(function (c) { e2eCols(c.e2e_processing_latency).forEach(function (q) { if (cqs.indexOf(q) < 0) cqs.push(q); }); });
    out.push(h("div", { class: "card" }, h("table", { class: "grid-table", id: "topic-channels" },
      th(["Channel", ["Depth", { class: "num" }], ["", { class: "spark-cell" }], ["Memory + Disk", { class: "num" }], ["In-Flight", { class: "num" }], ["Deferred", { class: "num" }], ["Requeued", { class: "num" }], ["Timed Out", { class: "num" }], ["Messages", { class: "num" }], ["Connections", { class: "num" }]].concat(cqs.map(function (q) { return [q, { class: "num" }]; }))),
      h("tbody", null, t.channels.slice().sort(function (a, b) { return a.channel_name < b.channel_name ? -1 : 1; }).map(function (c) {
        var hs = chHist[c.channel_name] || [];
        var sp = function (key) { return G.spark("channel", "*", topic, c.channel_name, key); };
        return [h("tr", { dataset: { channel: c.channel_name } },
          h("td", { class: "name" }, link("/topics/" + enc(topic) + "/" + enc(c.channel_name), c.channel_name, "strong"), " ", pausedBadge(c.paused)),
          num(c.depth, "depth"), h("td", { class: "spark-cell" }, sparkline(hs.map(function (x) { return x.depth; }), { cls: "depth", width: 90 })),
          h("td", { class: "num muted" }, fmtInt(c.memory_depth) + " + " + fmtInt(c.backend_depth)),
          num(c.in_flight_count), num(c.deferred_count), num(c.requeue_count), num(c.timeout_count), num(c.message_count), num(c.client_count),
          e2eCells(c.e2e_processing_latency, cqs)),
          graphs ? graphRow([null, sp("depth"), null, null, sp("in_flight_count"), sp("deferred_count"), sp("requeue_count"), sp("timeout_count"), sp("message_count"), sp("clients")]
            .concat(cqs.length ? [[G.spark("e2e", "*", { topic: topic, channel: c.channel_name, percentiles: (c.e2e_processing_latency && c.e2e_processing_latency.percentiles) || [] }, "", "e2e_processing_latency"), cqs.length]] : [])) : null];
      })))));
    return out;
  });
  return view;
}

// ---- channel page (A-UI-CHANNEL) --------------------------------------------------------

function clientLabels(c) {
  var out = [];
  if (c.sample_rate > 0) out.push(h("span", { class: "badge" }, "Sampled " + c.sample_rate + "%"));
  if (c.tls) out.push(h("span", { class: "badge ok", title: (c.tls_version || "") + " " + (c.tls_cipher_suite || "") }, "TLS"));
  if (c.deflate) out.push(h("span", { class: "badge" }, "Deflate"));
  if (c.snappy) out.push(h("span", { class: "badge" }, "Snappy"));
  if (c.authed) out.push(h("span", { class: "badge ok", title: c.auth_identity || "" }, c.auth_identity_url ? h("a", { href: c.auth_identity_url }, "Authed") : "Authed"));
  if (c.topology_region) out.push(h("span", { class: "badge" }, "region " + c.topology_region));
  if (c.topology_zone) out.push(h("span", { class: "badge" }, "zone " + c.topology_zone));
  return out;
}

function topologyClass(c) {
  if (!c.node_topology_zone && !c.node_topology_region) return null;
  if (c.topology_zone && c.topology_zone === c.node_topology_zone && c.topology_region === c.node_topology_region) return "zone-local";
  if (c.topology_region && c.topology_region === c.node_topology_region) return "region-local";
  return null;
}

// The share of a channel's deliveries that went to zone-local, region-local
// and other consumers (topology-aware consumption experiment).
function deliveryShares(n) {
  var tot = n.delivery_msg_count || 0;
  if (!(tot > 0)) return null;
  return { zone: 100 * (n.zone_local_msg_count || 0) / tot, region: 100 * (n.region_local_msg_count || 0) / tot, global: 100 * (n.global_msg_count || 0) / tot };
}

function deliveryCell(n) {
  var d = deliveryShares(n);
  if (!d) return h("td", { class: "delivery-cell muted" }, "-");
  var text = "zone-local " + d.zone.toFixed(1) + "% \u00b7 region-local " + d.region.toFixed(1) + "% \u00b7 global " + d.global.toFixed(1) + "%";
  return h("td", { class: "delivery-cell", title: text },
    h("div", { class: "delivery mini", role: "img", "aria-label": text },
      h("span", { class: "zone", style: "width:" + d.zone + "%" }),
      h("span", { class: "region", style: "width:" + d.region + "%" }),
      h("span", { class: "global", style: "width:" + d.global + "%" })),
    h("div", { class: "small muted delivery-text" }, Math.round(d.zone) + " / " + Math.round(d.region) + " / " + Math.round(d.global) + " %"));
}

function channelView(topic, channel) {
  var region = h("div", { class: "region" });
  app.append(region);
  var path = "/api/topics/" + enc(topic) + "/" + enc(channel);
  var named = "channel " + channel + " of topic " + topic;
  var view = live(region, function () {
    return Promise.all([api("GET", path), api("GET", "/api/history/topics/" + enc(topic) + "/" + enc(channel) + "?points=180").catch(function () { return null; })])
      .then(function (r) { r[0].history = r[1]; return r[0]; });
  }, function (c) {
    var actions = IS_ADMIN ? [
      c.paused
        ? h("button", { class: "btn", dataset: { action: "unpause" }, onclick: function () { act("POST", path, { action: "unpause" }, "Unpause " + named + "?", "Unpause Channel", false, view.refresh); } }, "Unpause Channel")
        : h("button", { class: "btn", dataset: { action: "pause" }, onclick: function () { act("POST", path, { action: "pause" }, "Pause " + named + "? Its consumers stop receiving messages.", "Pause Channel", false, view.refresh); } }, "Pause Channel"),
      h("button", { class: "btn warn", dataset: { action: "empty" }, onclick: function () { act("POST", path, { action: "empty" }, "Empty " + named + "? Its queued messages are deleted.", "Empty Channel", true, view.refresh); } }, "Empty Channel"),
      h("button", { class: "btn danger", dataset: { action: "delete" }, onclick: function () { act("DELETE", path, undefined, "Delete " + named + "?", "Delete Channel", true, function () { go("/topics/" + enc(topic)); }); } }, "Delete Channel")
    ] : null;
    var out = [pageHead([link("/", "Topics"), " / ", link("/topics/" + enc(topic), topic), " / "], channel, pausedBadge(c.paused), actions)];
    out.push(historyCharts(c.history ? c.history.samples : [], c.depth));
    out.push(graphiteCharts("channel", topic, channel, c.e2e_processing_latency));
    var qs = e2eCols(c.e2e_processing_latency);
    var graphs = G.active();
    var delivery = c.delivery_msg_count > 0;
    // The original's channel page rate cell shows the topic's rate; this is the channel's own.
    var nodeGraphs = function (node, agg) {
      var sp = function (key) { return G.spark("channel", node, topic, channel, key); };
      return graphRow([null, sp("depth"), null, sp("in_flight_count"), sp("deferred_count"), sp("requeue_count"), sp("timeout_count"), sp("message_count"), null, sp("clients")]
        .concat(delivery ? [null] : [])
        .concat(qs.length ? [[G.spark("e2e", node, { topic: topic, channel: channel, percentiles: (agg && agg.percentiles) || [] }, "", "e2e_processing_latency"), qs.length]] : []));
    };
    out.push(section("Nodes"));
    out.push(h("div", { class: "card" }, h("table", { class: "grid-table", id: "channel-nodes" },
      th(["NSQd Host", ["Depth", { class: "num" }], ["Memory + Disk", { class: "num" }], ["In-Flight", { class: "num" }], ["Deferred", { class: "num" }], ["Requeued", { class: "num" }], ["Timed Out", { class: "num" }], ["Messages", { class: "num" }]]
        .concat(graphs ? [["Rate /s", { class: "num" }]] : []).concat([["Connections", { class: "num" }]])
        .concat(delivery ? [["Delivery", { class: "delivery-cell", title: "zone-local / region-local / global share of deliveries" }]] : [])
        .concat(qs.map(function (q) { return [q, { class: "num" }]; }))),
      h("tbody", null, (c.nodes || []).map(function (n) {
        return [h("tr", { dataset: { node: n.node } }, hostCell(n, pausedBadge(n.paused)),
          num(n.depth, "depth"), h("td", { class: "num muted" }, fmtInt(n.memory_depth) + " + " + fmtInt(n.backend_depth)),
          num(n.in_flight_count), num(n.deferred_count), num(n.requeue_count), num(n.timeout_count), num(n.message_count),
          graphs ? h("td", { class: "num" }, G.rate("channel", n.node, topic, channel)) : null,
          num(n.client_count), delivery ? deliveryCell(n) : null,
          e2eCells(n.e2e_processing_latency, qs)),
          graphs ? nodeGraphs(n.node, n.e2e_processing_latency) : null];
      })),
      h("tfoot", null, h("tr", null, h("td", null, "Total"), num(c.depth, "depth"), h("td", { class: "num muted" }, fmtInt(c.memory_depth) + " + " + fmtInt(c.backend_depth)),
        num(c.in_flight_count), num(c.deferred_count), num(c.requeue_count), num(c.timeout_count), num(c.message_count),
        graphs ? h("td", { class: "num" }, G.rate("channel", "*", topic, channel)) : null,
        num(c.client_count), delivery ? deliveryCell(c) : null, e2eCells(c.e2e_processing_latency, qs)),
        graphs ? nodeGraphs("*", c.e2e_processing_latency) : null))));
    out.push(section("Clients", h("span", { class: "muted" }, fmtInt((c.clients || []).length) + " connected")));
    if (!c.clients || c.clients.length === 0) {
      out.push(notice("No clients are connected to this channel."));
      return out;
    }
    out.push(h("div", { class: "card" }, h("table", { class: "grid-table", id: "channel-clients" },
      th(["Client Host", "User-Agent", "Attributes", "NSQd Host", ["In-Flight", { class: "num" }], ["Ready", { class: "num" }], ["Finished", { class: "num" }], ["Requeued", { class: "num" }], ["Messages", { class: "num" }], ["Connected", { class: "num" }]]),
      h("tbody", null, c.clients.map(function (cl) {
        var port = (cl.remote_address || "").split(":").pop();
        return h("tr", { class: topologyClass(cl) },
          h("td", { class: "name", title: cl.remote_address || null }, cl.hostname + ":" + port, cl.client_id && cl.client_id !== cl.hostname ? h("span", { class: "muted small" }, " (" + cl.client_id + ")") : null),
          h("td", { class: "muted wrap" }, cl.user_agent || "-"),
          h("td", { class: "wrap" }, clientLabels(cl)),
          h("td", null, link("/nodes/" + enc(cl.node), cl.node)),
          num(cl.in_flight_count), num(cl.ready_count), num(cl.finish_count), num(cl.requeue_count), num(cl.message_count),
          h("td", { class: "num" }, fmtAge(cl.connected)));
      })))));
    return out;
  }, null, "There is no channel " + channel + " in topic " + topic + " (any more).");
  return view;
}

// ---- nodes (A-UI-NODES, A-UI-NODE) ---------------------------------------------------------

function nodesView() {
  var region = h("div", { class: "region" });
  var count = h("span", { class: "count muted", id: "nodes-count" });
  app.append(pageHead(null, ["Nodes ", count], null, null), region);
  return live(region, function () { return api("GET", "/api/nodes"); }, function (data) {
    var nodes = data.nodes || [];
    count.textContent = "(" + nodes.length + ")";
    if (nodes.length === 0) return notice("No nsqd nodes found.");
    return [h("div", { class: "card" }, h("table", { class: "grid-table", id: "nodes-table" },
      th(["Hostname", "Broadcast Address", ["TCP", { class: "num" }], ["HTTP", { class: "num" }], "Version", "Region", "Zone"].concat(LOOKUPD.length ? [["Lookupd", { class: "num" }]] : []).concat([["Topics", { class: "topics-cell" }]])),
      h("tbody", null, nodes.map(function (n) {
        var id = (n.broadcast_address.indexOf(":") >= 0 ? "[" + n.broadcast_address + "]" : n.broadcast_address) + ":" + n.http_port;
        var conns = (n.remote_addresses || []).length;
        var topics = n.topics || [];
        return h("tr", { class: n.out_of_date ? "out-of-date" : null, dataset: { node: id } },
          h("td", { class: "strong name" }, n.hostname),
          h("td", { class: "name" }, link("/nodes/" + enc(id), n.broadcast_address)),
          h("td", { class: "num" }, n.tcp_port), h("td", { class: "num" }, n.http_port),
          h("td", null, n.version, n.out_of_date ? h("span", { class: "badge warn", title: "older than the newest nsqd in the cluster" }, "old") : null),
          h("td", null, n.topology_region || "-"), h("td", null, n.topology_zone || "-"),
          LOOKUPD.length ? h("td", { class: "num" }, h("details", { class: conns !== LOOKUPD.length ? "warn" : null }, h("summary", null, conns), h("ul", { class: "plain small" }, (n.remote_addresses || []).map(function (r) { return h("li", null, r); })))) : null,
          h("td", { class: "topics-cell" },
            h("span", { class: "badge count", title: topics.length + " topic" + (topics.length === 1 ? "" : "s") }, topics.length),
            topics.map(function (t) {
              return link("/topics/" + enc(t.topic), t.topic, "badge topic" + (t.tombstoned ? " tombstoned" : ""));
            })));
      })))), h("p", { class: "muted small" }, nodes.length + " node" + (nodes.length === 1 ? "" : "s") + (LOOKUPD.length ? " known to " + LOOKUPD.length + " nsqlookupd" : ""))];
  });
}

// The node's memory graphs (A-UI-NODE): the original's wildcards spelled out
// as the names nsqd sends, so each line gets its own label.
function nodeCharts(node) {
  if (!G.active()) return null;
  var mem = function (keys) { return keys.map(function (k) { return { kind: "node", node: node, key: k, label: k }; }); };
  return h("div", { class: "charts graphite-charts node-charts" },
    G.chart("GC pressure \u00b7 graphite", mem(["heap_idle_bytes", "heap_in_use_bytes", "heap_released_bytes", "next_gc_bytes"]), "bytes"),
    G.chart("GC pause percentiles \u00b7 graphite", mem(["gc_pause_usec_100", "gc_pause_usec_99", "gc_pause_usec_95"])),
    G.chart("GC runs / second \u00b7 graphite", mem(["gc_runs"]), "rate"),
    G.chart("Heap objects in use \u00b7 graphite", mem(["heap_objects"])));
}

function nodeView(node) {
  var region = h("div", { class: "region" });
  app.append(region);
  var view = live(region, function () { return api("GET", "/api/nodes/" + enc(node)); }, function (d) {
    var host = d.topics && d.topics[0] ? d.topics[0].hostname : "";
    var out = [pageHead([link("/nodes", "Nodes"), " / "], node, host ? h("span", { class: "muted host-label" }, host) : null, null)];
    out.push(h("div", { class: "stats" },
      stat("Topics", fmtInt((d.topics || []).length)), stat("Messages", fmtInt(d.total_messages)), stat("Clients", fmtInt(d.total_clients))));
    out.push(nodeCharts(node));
    if (!d.topics || d.topics.length === 0) { out.push(notice("This node has no topics.")); return out; }
    var tombstone = IS_ADMIN && LOOKUPD.length > 0;
    var graphs = G.active();
    d.topics.forEach(function (t) {
      out.push(h("div", { class: "card node-topic" },
        h("div", { class: "card-head" },
          h("span", { class: "name" }, link("/topics/" + enc(t.topic_name), t.topic_name, "strong"), " ", pausedBadge(t.paused)),
          h("span", { class: "muted small" }, "depth " + fmtInt(t.depth) + " \u00b7 " + fmtInt(t.memory_depth) + " + " + fmtInt(t.backend_depth) + " \u00b7 " + fmtInt(t.message_count) + " messages \u00b7 " + (t.channels || []).length + " channels"),
          graphs ? h("span", { class: "head-sparks" }, G.spark("topic", node, t.topic_name, "", "depth"), G.spark("topic", node, t.topic_name, "", "message_count")) : null,
          tombstone ? h("button", { class: "btn tiny ghost right", title: "Tombstone topic on this node", onclick: function () {
            act("DELETE", "/api/nodes/" + enc(node), { topic: t.topic_name }, "Tombstone topic " + t.topic_name + " on " + node + "?", "Tombstone", true, view.refresh);
          } }, "\u2715") : null),
        (t.channels || []).length ? h("table", { class: "grid-table fixed" },
          th(["Channel", ["Depth", { class: "num" }], ["Memory + Disk", { class: "num" }], ["In-Flight", { class: "num" }], ["Deferred", { class: "num" }], ["Requeued", { class: "num" }], ["Timed Out", { class: "num" }], ["Messages", { class: "num" }], ["Clients", { class: "num" }]]),
          h("tbody", null, t.channels.map(function (c) {
            var sp = function (key) { return G.spark("channel", node, t.topic_name, c.channel_name, key); };
            return [h("tr", null, h("td", { class: "name" }, link("/topics/" + enc(t.topic_name) + "/" + enc(c.channel_name), c.channel_name), " ", pausedBadge(c.paused)),
              num(c.depth), h("td", { class: "num muted" }, fmtInt(c.memory_depth) + " + " + fmtInt(c.backend_depth)), num(c.in_flight_count), num(c.deferred_count), num(c.requeue_count), num(c.timeout_count), num(c.message_count), num(c.client_count)),
              graphs ? graphRow([null, sp("depth"), null, sp("in_flight_count"), sp("deferred_count"), sp("requeue_count"), sp("timeout_count"), sp("message_count"), sp("clients")]) : null]
              .concat((c.clients || []).map(function (cl) {
                return h("tr", { class: "client-row" }, h("td", { colspan: 3, class: "name", dataset: { label: "Client" } }, "\u21b3 " + cl.hostname + " ", h("span", { class: "muted small" }, cl.user_agent || ""), " ", clientLabels(cl)),
                  num(cl.in_flight_count), h("td", { class: "num muted wrap", colspan: 3, dataset: { label: "Ready \u00b7 finished \u00b7 requeued" } }, "ready " + fmtInt(cl.ready_count) + " \u00b7 finished " + fmtInt(cl.finish_count) + " \u00b7 requeued " + fmtInt(cl.requeue_count)), num(cl.message_count), h("td", { class: "num", dataset: { label: "Connected" } }, fmtAge(cl.connected)));
              }));
          }))) : h("p", { class: "muted small pad" }, "no channels")));
    });
    return out;
  }, null, "nsqadmin does not know the node " + node + " (any more).");
  return view;
}

function stat(label, value) {
  return h("div", { class: "stat" }, h("div", { class: "stat-value" }, value), h("div", { class: "stat-label" }, label));
}

// ---- counter (A-UI-COUNTER) -------------------------------------------------------------------

function counterView() {
  var region = h("div", { class: "region" });
  var big = h("div", { class: "counter", id: "counter" }, "-");
  var rate = h("div", { class: "counter-rate muted" }, "");
  app.append(pageHead(null, "Messages processed", null, null), h("div", { class: "card counter-card" }, big, rate), region);
  var shown = null, interval = 100, lastTotal = null, lastAt = 0, anim = null;
  function animate(to) {
    var from = shown === null ? to : shown, start = performance.now(), dur = Math.min(interval, 1500);
    cancelAnimationFrame(anim);
    function frame(now) {
      var k = Math.min(1, (now - start) / dur);
      shown = Math.round(from + (to - from) * k);
      big.textContent = fmtInt(shown);
      if (k < 1) anim = requestAnimationFrame(frame);
    }
    anim = requestAnimationFrame(frame);
  }
  var view = live(region, function () { return api("GET", "/api/counter"); }, function (d) {
    var total = 0;
    Object.keys(d.stats || {}).forEach(function (k) { total += d.stats[k].message_count; });
    var now = Date.now();
    if (lastTotal !== null && now > lastAt) rate.textContent = fmtRate((total - lastTotal) * 1000 / (now - lastAt)) + " messages / second";
    lastTotal = total; lastAt = now;
    animate(total);
    return [h("p", { class: "muted small" }, "Sum of message_count over every channel of every nsqd."),
      G.active() ? h("div", { class: "charts graphite-charts one" }, G.chart("Messages / second \u00b7 graphite " + G.timeframe(), [{ kind: "counter", node: "*", key: "message_count", label: "messages/s" }], "rate")) : null];
  }, function () { interval = Math.min(interval + 1000, 10000); return interval; });
  var stop = view.stop;
  view.stop = function () { cancelAnimationFrame(anim); stop(); };
  return view;
}

// ---- lookup (A-UI-LOOKUP) ------------------------------------------------------------------

// Topic and channel names (X-NAME-VALID): what the create form accepts.
var NAME_RULES = "Names are 1 to 64 characters: letters, digits, \".\", \"_\" and \"-\"; \"#ephemeral\" at the end makes the topic or channel ephemeral.";
var NAME_PATTERN = "[.a-zA-Z0-9_\\-]+(#ephemeral)?";

function nameInput(name, id, placeholder, required) {
  var input = h("input", { name: name, id: id, placeholder: placeholder, required: required, autocomplete: "off", pattern: NAME_PATTERN, maxlength: 64, title: NAME_RULES, "aria-describedby": "name-rules" });
  // The browser's own pattern message says nothing of the rules: say them.
  input.addEventListener("invalid", function () {
    if (input.validity.patternMismatch) input.setCustomValidity("Not a valid " + name + " name. " + NAME_RULES);
  });
  input.addEventListener("input", function () { input.setCustomValidity(""); });
  return input;
}

function lookupView() {
  var region = h("div", { class: "region" });
  var out = [pageHead(null, "Lookup", null, null)];
  out.push(section("nsqlookupd"));
  out.push(LOOKUPD.length
    ? h("div", { class: "card" }, h("ul", { class: "plain pad" }, LOOKUPD.map(function (a) { return h("li", null, h("code", null, a)); })))
    : notice("nsqadmin is not configured with nsqlookupd hosts (it talks to nsqd directly)."));
  var view;
  if (IS_ADMIN) {
    var topicIn = nameInput("topic", "create-topic", "topic name", true);
    var channelIn = nameInput("channel", "create-channel", "channel name (optional)", false);
    var form = h("form", { class: "card create-form pad", id: "create-form" },
      h("div", { class: "fields" }, h("label", null, "Topic", topicIn), h("label", null, "Channel", channelIn),
        h("button", { class: "btn primary", type: "submit", id: "create-submit" }, "Create")),
      h("p", { class: "muted small", id: "name-rules" }, NAME_RULES),
      h("p", { class: "muted small" }, "Creates the topic (and channel) in nsqlookupd; nsqd nodes create it when they next see it. A channel is also created on every nsqd that has the topic."));
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = { topic: topicIn.value.trim() };
      if (channelIn.value.trim()) body.channel = channelIn.value.trim();
      api("POST", "/api/topics", body).then(function (r) {
        if (r && r.message) warnBanner(r.message); else okBanner("Created " + body.topic + (body.channel ? " / " + body.channel : "") + ".");
        topicIn.value = ""; channelIn.value = "";
        if (view) view.refresh();
      }, function (e) { errorBanner(e.message); });
    });
    out.push(section("Create Topic / Channel"), form);
  }
  out.push(section("Inactive topics"), region);
  app.append.apply(app, out);
  view = live(region, function () { return api("GET", "/api/topics?inactive=true"); }, function (d) {
    var names = Object.keys(d.topics || {}).sort();
    if (names.length === 0) return notice(LOOKUPD.length ? "No inactive topics: every topic known to nsqlookupd has a producer." : "Inactive topics are only known in nsqlookupd mode.");
    return h("div", { class: "card" }, h("ul", { class: "tree", id: "inactive" }, names.map(function (t) {
      return h("li", { dataset: { topic: t } },
        link("/topics/" + enc(t), t, "strong"),
        IS_ADMIN ? h("button", { class: "btn tiny ghost", title: "Delete topic", onclick: function () { act("DELETE", "/api/topics/" + enc(t), undefined, "Delete topic " + t + "?", "Delete Topic", true, view.refresh); } }, "\u2715") : null,
        h("ul", null, (d.topics[t] || []).map(function (c) {
          return h("li", { dataset: { channel: c } }, link("/topics/" + enc(t) + "/" + enc(c), c), IS_ADMIN ? h("button", { class: "btn tiny ghost", title: "Delete channel", onclick: function () { act("DELETE", "/api/topics/" + enc(t) + "/" + enc(c), undefined, "Delete channel " + c + " of topic " + t + "?", "Delete Channel", true, view.refresh); } }, "\u2715") : null);
        })));
    })));
  });
  return view;
}

function notFoundView() {
  app.append(notice("Page not found."), h("p", null, link("/", "Back to topics")));
  return { stop: function () {} };
}

document.addEventListener("visibilitychange", function () {
  if (document.visibilityState === "visible" && current && current.refresh) current.refresh();
});

show();
`;
