// /static/base.css: the UI's one stylesheet (system fonts, no web fonts).
export const BASE_CSS = String.raw`:root {
  --bg: #f5f6f8;
  --card: #ffffff;
  --ink: #1d2330;
  --muted: #6b7385;
  --line: #e3e6ec;
  --head: #151a24;
  --accent: #2f6fde;
  --accent-soft: rgba(47, 111, 222, 0.12);
  --rate: #14a37f;
  --rate-soft: rgba(20, 163, 127, 0.12);
  --graphite: #7a4fd6;
  --graphite-soft: rgba(122, 79, 214, 0.12);
  --warn: #c7791a;
  --danger: #c73a3a;
  --ok: #1f8a4c;
  --radius: 8px;
  font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 14px;
  color: var(--ink);
  background: var(--bg);
}
* { box-sizing: border-box; }
body { margin: 0; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }

header.top {
  background: var(--head);
  color: #dfe4ee;
  display: flex;
  align-items: center;
  gap: 28px;
  padding: 0 28px;
  height: 52px;
  position: sticky;
  top: 0;
  z-index: 5;
}
.brand { display: flex; align-items: center; gap: 10px; color: #fff; font-weight: 650; font-size: 16px; letter-spacing: 0.2px; }
.brand:hover { text-decoration: none; }
.brand small { color: #8d97ab; font-weight: 500; }
nav.main { display: flex; gap: 4px; flex: 1; }
nav.main a { color: #b8c1d3; padding: 7px 12px; border-radius: 6px; font-weight: 500; }
nav.main a:hover { background: rgba(255, 255, 255, 0.07); color: #fff; text-decoration: none; }
nav.main a.active { background: rgba(255, 255, 255, 0.12); color: #fff; }
.top-right { display: flex; align-items: center; gap: 14px; font-size: 12px; color: #8d97ab; }
#live { display: inline-flex; align-items: center; gap: 6px; }
#live::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: #2fbf71; box-shadow: 0 0 0 3px rgba(47, 191, 113, 0.18); }
#live.busy::before { background: #7fd9a8; }
#live.error::before { background: var(--danger); box-shadow: 0 0 0 3px rgba(199, 58, 58, 0.25); }
.version { border: 1px solid #394257; border-radius: 10px; padding: 1px 8px; }
#graph-interval { font: inherit; font-size: 12px; background: #232a38; color: #dfe4ee; border: 1px solid #394257; border-radius: 6px; padding: 3px 6px; }
.menu-toggle { display: none; flex-direction: column; justify-content: space-between; width: 38px; height: 32px; padding: 8px 9px; background: transparent; border: 1px solid #394257; border-radius: 6px; cursor: pointer; }
.menu-toggle span { display: block; height: 2px; background: #dfe4ee; border-radius: 1px; }

main { max-width: 1280px; margin: 0 auto; padding: 22px 28px 60px; }
#banner:empty { display: none; }
#banner { border-radius: var(--radius); padding: 10px 14px; margin-bottom: 16px; white-space: pre-wrap; border: 1px solid; }
#banner.error { background: #fdecec; border-color: #f3c4c4; color: #8c2222; }
#banner.warn { background: #fff5e6; border-color: #f2d7a8; color: #7a4a0c; }
#banner.ok { background: #eaf7ef; border-color: #bfe5cd; color: #1b5e36; }

.page-head { display: flex; align-items: flex-end; justify-content: space-between; gap: 16px; margin: 4px 0 18px; flex-wrap: wrap; }
.page-head > div:first-child { min-width: 0; max-width: 100%; }
.page-head h1 { margin: 0; font-size: 24px; font-weight: 650; display: flex; align-items: center; flex-wrap: wrap; gap: 4px 10px; overflow-wrap: anywhere; min-width: 0; }
.page-head h1 .count { font-weight: 500; }
.crumbs { color: var(--muted); font-size: 13px; margin-bottom: 4px; min-height: 4px; overflow-wrap: anywhere; }
.actions { display: flex; gap: 8px; flex-wrap: wrap; }
.section-head { display: flex; align-items: baseline; gap: 12px; margin: 26px 0 10px; }
.section-head h2 { margin: 0; font-size: 15px; font-weight: 650; text-transform: uppercase; letter-spacing: 0.6px; color: #465066; }

.card { background: var(--card); border: 1px solid var(--line); border-radius: var(--radius); box-shadow: 0 1px 2px rgba(16, 24, 40, 0.04); overflow-x: auto; }
.card + .card { margin-top: 12px; }
.card-head { padding: 10px 14px; border-bottom: 1px solid var(--line); display: flex; align-items: center; flex-wrap: wrap; gap: 6px 10px; }
.card-head .name { overflow-wrap: anywhere; min-width: 0; }
.head-sparks { display: inline-flex; gap: 8px; }
.right { margin-left: auto; }
.pad { padding: 12px 16px; }
.notice { background: var(--card); border: 1px dashed #cfd5df; color: var(--muted); border-radius: var(--radius); padding: 18px; text-align: center; }

table.grid-table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
.grid-table th { text-align: left; font-weight: 600; font-size: 12px; color: var(--muted); padding: 9px 12px; border-bottom: 1px solid var(--line); white-space: nowrap; background: #fafbfc; }
.grid-table td { padding: 8px 12px; border-bottom: 1px solid #eef0f4; white-space: nowrap; }
.grid-table tbody tr:last-child td { border-bottom: none; }
.grid-table tbody tr:hover td { background: #f8f9fc; }
.grid-table tfoot td { border-top: 1px solid var(--line); font-weight: 600; background: #fafbfc; }
.grid-table .num, .grid-table th.num { text-align: right; }
.grid-table tr.client-row td { font-size: 12px; color: #4c5567; background: #fcfcfd; }
.grid-table tr.out-of-date td { background: #fff8ec; }
.grid-table tr.zone-local td { background: #eef7f1; }
.grid-table tr.region-local td { background: #f2f6fd; }
td.depth { font-weight: 600; }
td.spark-cell { width: 136px; padding-top: 4px; padding-bottom: 4px; }
#topics-table td.num, #topics-table th.num { width: 120px; }
#topics-table.graphs td.num, #topics-table.graphs th.num { width: auto; }
table.grid-table.fixed { table-layout: fixed; }
table.grid-table.fixed th:first-child { width: 30%; }
/* Names (up to 64 characters, X-NAME-VALID) wrap anywhere rather than widen the table. */
.grid-table td.name { white-space: normal; overflow-wrap: anywhere; min-width: 9em; }
.grid-table td.wrap { white-space: normal; overflow-wrap: anywhere; }
.grid-table .topics-cell { white-space: normal; min-width: 12em; }
.grid-table td.delivery-cell, .grid-table th.delivery-cell { width: 140px; }
.grid-table tr.graph-row td { padding-top: 0; padding-bottom: 8px; }
.grid-table tr:has(+ tr.graph-row) td { border-bottom: none; }
.grid-table td.gcol, .grid-table th.gcol { width: 136px; }
.host-label { font-size: 15px; font-weight: 500; }
.region > p.muted { margin: 10px 2px 0; }
.strong { font-weight: 600; }
.muted { color: var(--muted); }
.small { font-size: 12px; }

.badge { display: inline-block; font-size: 11px; font-weight: 600; padding: 2px 7px; border-radius: 10px; background: #eef0f4; color: #485166; margin: 1px 3px 1px 0; vertical-align: middle; max-width: 100%; overflow-wrap: anywhere; white-space: normal; }
.badge.count { background: #dfe3ea; color: #2c3446; }
.badge.paused { background: #fff0d9; color: #995708; text-transform: uppercase; letter-spacing: 0.4px; }
.badge.ok { background: #e3f4ea; color: #1f6b40; }
.badge.warn { background: #fff0d9; color: #995708; }
a.badge.topic { background: var(--accent-soft); color: #24529f; }
a.badge.topic:hover { text-decoration: none; background: rgba(47, 111, 222, 0.2); }
a.badge.tombstoned { background: #fbe3e3; color: #9a2b2b; text-decoration: line-through; }
h1 .badge { font-size: 12px; }

.btn { font: inherit; font-size: 13px; font-weight: 600; border: 1px solid #cfd5df; background: #fff; color: var(--ink); padding: 7px 13px; border-radius: 6px; cursor: pointer; }
.btn:hover { background: #f3f5f8; }
.btn.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
.btn.primary:hover { background: #265fc2; }
.btn.warn { color: #9a5a0c; border-color: #e8c48d; }
.btn.warn:hover { background: #fff6e8; }
.btn.danger { color: #fff; background: var(--danger); border-color: var(--danger); }
.btn.danger:hover { background: #ad2f2f; }
.btn.ghost { background: transparent; border-color: transparent; color: var(--muted); }
.btn.ghost:hover { background: #f1e3e3; color: var(--danger); }
.btn.tiny { padding: 1px 6px; font-size: 12px; }

.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(360px, 100%), 1fr)); gap: 14px; }
.charts + .charts { margin-top: 14px; }
.charts.one { grid-template-columns: 1fr; margin-top: 14px; }
.chart-box { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: var(--radius); padding: 12px 14px 8px; }
.chart-head { display: flex; justify-content: space-between; align-items: baseline; margin-bottom: 4px; }
.chart-title { font-size: 12px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: 0.5px; }
a.chart-title:hover { color: var(--accent); }
.chart-head { gap: 10px; }
.chart-value { font-size: 20px; font-weight: 650; font-variant-numeric: tabular-nums; }
svg.chart { width: 100%; height: 150px; display: block; overflow: visible; }
svg.chart .grid { stroke: #eceef3; stroke-width: 1; vector-effect: non-scaling-stroke; }
svg.chart .axis { fill: #98a0b0; font-size: 10px; }
svg.chart .chart-line { fill: none; stroke: var(--accent); stroke-width: 2; vector-effect: non-scaling-stroke; stroke-linejoin: round; }
svg.chart .chart-area { fill: var(--accent-soft); }
svg.chart.rate .chart-line { stroke: var(--rate); }
svg.chart.rate .chart-area { fill: var(--rate-soft); }
svg.chart.graphite .chart-line { stroke: var(--graphite); }
svg.chart.graphite .chart-area { fill: var(--graphite-soft); }
svg.chart path.chart-line.s0, svg.spark path.spark-line.s0, .legend .s0::before { stroke: #2f6fde; background: #2f6fde; }
svg.chart path.chart-line.s1, svg.spark path.spark-line.s1, .legend .s1::before { stroke: #14a37f; background: #14a37f; }
svg.chart path.chart-line.s2, svg.spark path.spark-line.s2, .legend .s2::before { stroke: #c7791a; background: #c7791a; }
svg.chart path.chart-line.s3, svg.spark path.spark-line.s3, .legend .s3::before { stroke: #7a4fd6; background: #7a4fd6; }
svg.chart path.chart-line.s4, svg.spark path.spark-line.s4, .legend .s4::before { stroke: #c73a3a; background: #c73a3a; }
svg.chart path.chart-line.s5, svg.spark path.spark-line.s5, .legend .s5::before { stroke: #6b7385; background: #6b7385; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 11px; color: var(--muted); margin-top: 4px; }
.legend span::before { content: ""; display: inline-block; width: 12px; height: 3px; margin-right: 5px; vertical-align: middle; border-radius: 2px; }
a.gspark { display: block; max-width: 120px; }
.graph-row a.gspark, td.num a.gspark { margin-left: auto; }
.node-charts { margin-bottom: 18px; }
a.gspark svg { display: block; width: 100%; height: 20px; }
svg.spark.graphite .spark-line { stroke: var(--graphite); }
svg.spark.graphite .spark-area { fill: var(--graphite-soft); }
a.gspark.error svg .spark-empty { stroke: var(--danger); }
.grate { font-weight: 600; color: var(--graphite); }
svg.spark { display: block; }
svg.spark .spark-line { fill: none; stroke: var(--accent); stroke-width: 1.5; stroke-linejoin: round; }
svg.spark .spark-area { fill: var(--accent-soft); }
svg.spark .spark-dot { fill: var(--accent); }
svg.spark.rate .spark-line { stroke: var(--rate); }
svg.spark.rate .spark-area { fill: var(--rate-soft); }
svg.spark.rate .spark-dot { fill: var(--rate); }
svg.spark .spark-empty { stroke: #dde1e8; stroke-dasharray: 3 3; }

.stats { display: flex; gap: 14px; margin-bottom: 18px; flex-wrap: wrap; }
.stat { background: var(--card); border: 1px solid var(--line); border-radius: var(--radius); padding: 12px 18px; min-width: 150px; }
.stat-value { font-size: 22px; font-weight: 650; font-variant-numeric: tabular-nums; }
.stat-label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: 0.5px; }

.counter-card { text-align: center; padding: 40px 20px; }
.counter { font-size: clamp(36px, 11vw, 84px); overflow-wrap: anywhere; font-weight: 700; letter-spacing: -2px; font-variant-numeric: tabular-nums; color: var(--head); }
.counter-rate { margin-top: 6px; font-size: 15px; }

.delivery { display: flex; height: 26px; border-radius: 6px; overflow: hidden; font-size: 11px; color: #fff; font-weight: 600; }
.delivery span { display: flex; align-items: center; justify-content: center; white-space: nowrap; overflow: hidden; }
.delivery .zone { background: #1f8a4c; }
.delivery .region { background: #2f6fde; }
.delivery .global { background: #8a93a6; }
.delivery.mini { height: 10px; width: 120px; max-width: 100%; border-radius: 3px; background: #eef0f4; }
.delivery-text { margin-top: 2px; }

ul.plain { list-style: none; margin: 0; padding: 0; }
ul.plain.pad { padding: 12px 16px; }
ul.plain li { padding: 3px 0; }
details summary { cursor: pointer; }
details.warn summary { color: var(--warn); font-weight: 600; }
ul.tree { list-style: none; margin: 0; padding: 10px 16px; }
ul.tree > li { padding: 6px 0; border-bottom: 1px solid #eef0f4; }
ul.tree > li:last-child { border-bottom: none; }
ul.tree ul { list-style: none; padding-left: 18px; margin: 4px 0 0; color: #4c5567; }
ul.tree ul li::before { content: "\2514  "; color: #b3bac7; }

.create-form .fields { display: flex; gap: 14px; align-items: flex-end; flex-wrap: wrap; }
.create-form label { display: flex; flex-direction: column; gap: 5px; font-size: 12px; font-weight: 600; color: var(--muted); }
.create-form input { font: inherit; padding: 7px 10px; border: 1px solid #cfd5df; border-radius: 6px; min-width: min(240px, 100%); max-width: 100%; }
.create-form label { max-width: 100%; }
.create-form input:focus { outline: 2px solid var(--accent-soft); border-color: var(--accent); }
.create-form p { margin: 10px 0 0; }

dialog { border: none; border-radius: 10px; padding: 22px 24px 18px; max-width: min(440px, calc(100vw - 32px)); overflow-wrap: anywhere; box-shadow: 0 18px 50px rgba(16, 24, 40, 0.28); }
dialog::backdrop { background: rgba(21, 26, 36, 0.45); }
dialog p { margin: 0 0 18px; line-height: 1.45; }
.dialog-buttons { display: flex; justify-content: flex-end; gap: 8px; }
.region.loading { opacity: 0.55; min-height: 60px; }
footer { text-align: center; color: #9aa2b1; font-size: 12px; padding: 10px 0 30px; }

/* Medium screens: tighter tables whose headers may wrap; the small in-table
   history sparklines give way (the charts above show the same history). */
@media (max-width: 1000px) {
  .grid-table th, .grid-table td { padding: 7px 8px; }
  .grid-table th { white-space: normal; }
  .grid-table .spark-cell { display: none; }
  #topics-table td.num, #topics-table th.num { width: auto; }
  table.grid-table.fixed { table-layout: auto; }
  table.grid-table.fixed th:first-child { width: auto; }
  .grid-table td.name { min-width: 7em; }
  .grid-table .topics-cell { min-width: 8em; }
}

/* Narrow screens: the menu folds behind a button. */
@media (max-width: 800px) {
  header.top { flex-wrap: wrap; height: auto; min-height: 52px; padding: 9px 14px; gap: 10px 14px; }
  .menu-toggle { display: flex; order: 2; }
  .top-right { order: 1; margin-left: auto; }
  .top-right a.version { display: none; }
  nav.main { display: none; order: 3; flex: 1 0 100%; flex-direction: column; padding-bottom: 6px; }
  header.top.open nav.main { display: flex; }
  main { padding: 16px 14px 40px; }
}

/* Phones: every table row becomes a small card of "label  value" lines. */
@media (max-width: 640px) {
  table.grid-table, .grid-table tbody, .grid-table tfoot, .grid-table tr, .grid-table td { display: block; width: auto; }
  .grid-table thead { display: none; }
  .grid-table tr { padding: 6px 0; border-bottom: 1px solid var(--line); }
  .grid-table tbody tr:last-child { border-bottom: none; }
  .grid-table tfoot tr { border-top: 1px solid var(--line); border-bottom: none; }
  .grid-table td, .grid-table tfoot td { padding: 3px 12px; border: none; text-align: right; white-space: normal; overflow-wrap: anywhere; }
  .grid-table td::before { content: attr(data-label); float: left; margin-right: 12px; color: var(--muted); font-size: 12px; font-weight: 600; }
  .grid-table td:first-child { text-align: left; font-size: 15px; }
  .grid-table td:first-child::before, .grid-table td[data-label=""]::before { content: none; }
  .grid-table td:empty { display: none; }
  .grid-table tr.graph-row td a.gspark { margin-left: auto; }
  .grid-table td.name, .grid-table .topics-cell, .grid-table td.delivery-cell { min-width: 0; width: auto; }
  #topics-table td.num, #topics-table th.num, .grid-table td.gcol { width: auto; }
  .delivery.mini { margin-left: auto; }
  .stat { min-width: 0; flex: 1 1 120px; }
}
`;
