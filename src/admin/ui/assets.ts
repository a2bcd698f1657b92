// The UI's embedded assets (A-HTTP-STATIC) and the page every UI route serves
// (A-UI-SHELL). Everything is a string in the bundle: the single binary and
// the node bundle need no files next to them.
import { VERSION } from "../../common/version.ts";
import type { AdminOptions } from "../options.ts";
import { GRAPHITE_JS } from "./graphite.ts";
import { MAIN_JS } from "./main.ts";
import { BASE_CSS } from "./style.ts";
import { VENDOR_JS } from "./vendor.ts";

const LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#2f6fde"/><path d="M7 22V10l9 8 9-8v12" fill="none" stroke="#fff" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/></svg>`;

/** Name → contents of /static/<name> (also served under /fonts/, as the original routes both). */
export const ASSETS: Readonly<Record<string, string>> = {
  "main.js": MAIN_JS,
  "vendor.js": VENDOR_JS,
  "graphite.js": GRAPHITE_JS,
  "base.css": BASE_CSS,
  "favicon.svg": LOGO_SVG,
  "logo.svg": LOGO_SVG,
};

/** JSON that is safe inside a <script> element. */
function js(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

function attr(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}

export interface IndexContext {
  options: AdminOptions;
  isAdmin: boolean;
  historyIntervalMs: number;
}

/** The single page: globals of A-UI-SHELL, then the module that runs the UI. */
export function renderIndex(ctx: IndexContext): string {
  const o = ctx.options;
  const base = o.base_path === "/" ? "" : o.base_path;
  const stat = (name: string) => attr(`${base}/static/${name}`);
  const globals: Record<string, unknown> = {
    USER_AGENT: `nsqadmin/v${VERSION}`,
    VERSION,
    GRAPHITE_URL: o.proxy_graphite ? "" : o.graphite_url,
    GRAPH_ENABLED: o.graphite_url !== "",
    STATSD_COUNTER_FORMAT: o.statsd_counter_format,
    STATSD_GAUGE_FORMAT: o.statsd_gauge_format,
    STATSD_INTERVAL: Math.floor(o.statsd_interval / 1000),
    STATSD_PREFIX: o.statsd_prefix,
    NSQLOOKUPD: o.nsqlookupd_http_addresses,
    IS_ADMIN: ctx.isAdmin,
    BASE_PATH: o.base_path,
    HISTORY_INTERVAL_MS: ctx.historyIntervalMs,
  };
  const defs = Object.entries(globals)
    .map(([k, v]) => `var ${k} = ${js(v)};`)
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nsqadmin</title>
<link rel="icon" href="${stat("favicon.svg")}" type="image/svg+xml">
<link rel="stylesheet" href="${stat("base.css")}">
<link rel="modulepreload" href="${stat("vendor.js")}">
<link rel="modulepreload" href="${stat("graphite.js")}">
<script>
${defs}
</script>
</head>
<body>
<header class="top">
  <a class="brand" href="${attr(base || "/")}" data-link><img src="${stat("logo.svg")}" width="26" height="26" alt="">NSQ <small>admin</small></a>
  <button type="button" class="menu-toggle" id="menu-toggle" aria-expanded="false" aria-controls="main-nav" aria-label="Menu"><span></span><span></span><span></span></button>
  <nav class="main" id="main-nav">
    <a href="${attr(base || "/")}" data-link data-nav="topics">Topics</a>
    <a href="${attr(`${base}/nodes`)}" data-link data-nav="nodes">Nodes</a>
    <a href="${attr(`${base}/counter`)}" data-link data-nav="counter">Counter</a>
    <a href="${attr(`${base}/lookup`)}" data-link data-nav="lookup">Lookup</a>
  </nav>
  <div class="top-right">
    <span id="live" title="live">live</span>
    ${ctx.isAdmin ? "" : `<span class="version" title="admin actions are disabled for this user">read-only</span>`}
    <a class="version" href="https://nsq.io/components/nsqadmin.html" target="_blank" rel="noopener">v${VERSION}</a>
  </div>
</header>
<main>
  <div id="banner" role="status"></div>
  <div id="app"></div>
</main>
<dialog id="confirm"></dialog>
<script type="module" src="${stat("main.js")}"></script>
</body>
</html>
`;
}
