// The nsqadmin UI in real headless Chromium against a real cluster: every page
// loads without script errors, a channel is paused by clicking (checked in
// nsqd's /stats), a topic is created from the lookup page, a depth change
// appears without a reload, 64-character names fit at phone, tablet and
// desktop widths, and graphite graphs are drawn from a fake graphite.
// Screenshots go to test-artifacts/; the topics page one is copied to
// docs/nsqadmin.png for the README when that file is missing or
// UPDATE_DOCS_SCREENSHOT=1 (so ordinary runs leave the tree clean).
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestNsqd } from "../nsqd/helpers.ts";
import { hasChromium, launchChromium, navigate } from "./chromium.ts";
import { nsqdPost, nsqdStats, startCluster, type TestAdmin, type TestCluster } from "./cluster.ts";
import { startFakeGraphite, type FakeGraphite } from "./graphite.ts";

const ARTIFACTS = path.resolve("test-artifacts");
const DOCS_SHOT = path.resolve("docs/nsqadmin.png");

let cluster: TestCluster;
let admin: TestAdmin;
let browser: Browser;
let page: Page;
let consumer: net.Socket | null = null;
const pageErrors: string[] = [];

async function shot(name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `nsqadmin-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

async function open(p: string, ready: string, base = admin.url): Promise<void> {
  await navigate(page, base + p);
  await page.waitForSelector(ready, { timeout: 10_000 });
  // Wait for the first poll to settle (the region loses its loading class).
  await page.waitForFunction(() => !document.querySelector(".region.loading"), null, { timeout: 10_000 });
}

function lengthPrefixed(body: string): Buffer {
  const b = Buffer.from(body);
  const size = Buffer.alloc(4);
  size.writeUInt32BE(b.length);
  return Buffer.concat([size, b]);
}

/**
 * What sticks out: the page wider than the viewport, or any rendered element
 * whose content is wider than its box or that reaches outside the viewport.
 */
function overflowing(): string[] {
  const bad: string[] = [];
  const vw = document.documentElement.clientWidth;
  const name = (el: Element) =>
    `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}${typeof el.className === "string" && el.className ? `.${el.className.trim().split(/\s+/).join(".")}` : ""} "${(el.textContent ?? "").trim().slice(0, 40)}"`;
  if (document.documentElement.scrollWidth > vw) bad.push(`page ${document.documentElement.scrollWidth}px > ${vw}px`);
  for (const el of document.querySelectorAll("header *, main *")) {
    if (!(el instanceof HTMLElement) || !el.checkVisibility()) continue;
    const display = getComputedStyle(el).display;
    if (display === "inline" || display === "contents") continue;
    if (el.scrollWidth > el.clientWidth + 1) bad.push(`${name(el)}: content ${el.scrollWidth}px in ${el.clientWidth}px`);
    const r = el.getBoundingClientRect();
    if (r.width > 0 && (r.left < -1 || r.right > vw + 1)) bad.push(`${name(el)}: ${Math.round(r.left)}..${Math.round(r.right)} outside 0..${vw}`);
  }
  return bad;
}

/** Every graphite placeholder on the page has been drawn (with data or an error). */
async function graphsDrawn(): Promise<void> {
  await page.waitForFunction(() => [...document.querySelectorAll<HTMLElement>("[data-graphite]")].every((el) => el.dataset["drawn"]), null, {
    timeout: 10_000,
  });
}

async function pub(node: string, topic: string, n: number): Promise<void> {
  const body = Array.from({ length: n }, (_, i) => `m${i}`).join("\n");
  await fetch(`http://${node}/mpub?topic=${topic}`, { method: "POST", body });
}

describe.skipIf(!hasChromium())("nsqadmin UI in Chromium", () => {
  beforeAll(async () => {
    cluster = await startCluster(2);
    const [a, b] = cluster.nodes as [string, string];
    for (const node of [a, b]) {
      await nsqdPost(node, "/topic/create?topic=orders");
      await nsqdPost(node, "/channel/create?topic=orders&channel=billing");
      await nsqdPost(node, "/channel/create?topic=orders&channel=shipping");
    }
    await nsqdPost(a, "/topic/create?topic=clicks");
    await nsqdPost(a, "/channel/create?topic=clicks&channel=analytics");
    await nsqdPost(b, "/topic/create?topic=signups");
    await cluster.settle();
    // One consumer (RDY 0) so the channel page has a client row.
    consumer = await new Promise<net.Socket>((resolve, reject) => {
      const sock = net.connect(cluster.nsqds[0]!.tcpPort, "127.0.0.1", () => {
        const identify = lengthPrefixed(JSON.stringify({ client_id: "billing-worker", hostname: "worker-1", user_agent: "example-consumer/1.0" }));
        sock.write(Buffer.concat([Buffer.from("  V2IDENTIFY\n"), identify, Buffer.from("SUB orders billing\n")]));
      });
      let seen = 0;
      sock.on("data", (d) => {
        seen += d.length;
        if (seen > 0) resolve(sock);
      });
      sock.once("error", reject);
    });
    admin = await cluster.admin({}, { historyIntervalMs: 250 });
    // Some traffic so the history charts have a shape.
    for (let i = 0; i < 12; i++) {
      await pub(a, "orders", 5 + ((i * 7) % 11));
      await pub(b, "orders", 3 + ((i * 5) % 7));
      await pub(a, "clicks", 20 + ((i * 13) % 17));
      if (i % 3 === 0) await pub(b, "signups", 2);
      await new Promise((r) => setTimeout(r, 120));
    }
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 820 } });
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error") pageErrors.push(m.text());
    });
  }, 60_000);

  afterAll(async () => {
    consumer?.destroy();
    await browser?.close();
    await cluster?.close();
  });

  it("A-UI-TOPICS lists topics with depth and rate sparklines", async () => {
    // Steady traffic while the page polls, so the rates are live in the screenshot.
    const [a, b] = cluster.nodes as [string, string];
    let tick = 0;
    const traffic = setInterval(() => {
      tick++;
      void pub(a, "orders", 4 + (tick % 5)).catch(() => {});
      void pub(b, "clicks", 10 + ((tick * 3) % 9)).catch(() => {});
    }, 100);
    try {
      await open("/", "#topics-table");
      await new Promise((r) => setTimeout(r, 3500));
    } finally {
      clearInterval(traffic);
    }
    const names = await page.$$eval("#topics-table tbody tr", (rows) => rows.map((r) => (r as HTMLElement).dataset["topic"]));
    expect(names).toEqual(["clicks", "orders", "signups"]);
    expect(await page.locator("#topics-table svg.spark path.spark-line").count()).toBeGreaterThan(0);
    const file = await shot("topics");
    expect(fs.statSync(file).size).toBeGreaterThan(10_000);
    if (!fs.existsSync(DOCS_SHOT) || process.env["UPDATE_DOCS_SCREENSHOT"] === "1") {
      // The README picture: the page cropped to its content.
      const bottom = await page.evaluate(() => Math.ceil(document.querySelector("main")!.getBoundingClientRect().bottom));
      fs.mkdirSync(path.dirname(DOCS_SHOT), { recursive: true });
      await page.screenshot({ path: DOCS_SHOT, clip: { x: 0, y: 0, width: 1280, height: Math.min(820, bottom) } });
    }
    expect(pageErrors).toEqual([]);
  });

  it("A-UI-TOPIC shows nodes, channels and history charts", async () => {
    await open("/topics/orders", "#topic-nodes");
    expect(await page.locator("#topic-nodes tbody tr").count()).toBe(2);
    // The original's host cell: hostname:port, then the broadcast address when it differs.
    const hosts = await page.$$eval("#topic-nodes tbody tr td:first-child", (tds) => tds.map((td) => td.textContent!.trim()));
    const port = (n: string) => n.split(":").pop();
    expect(hosts.sort()).toEqual(cluster.nodes.map((n) => `${os.hostname()}:${port(n)} (${n})`).sort());
    expect(await page.$$eval("#topic-channels tbody tr", (rows) => rows.map((r) => (r as HTMLElement).dataset["channel"]))).toEqual(["billing", "shipping"]);
    expect(await page.locator("svg.chart.depth path.chart-line").count()).toBe(1);
    await shot("topic");
    expect(pageErrors).toEqual([]);
  });

  it("A-UI-CHANNEL: pausing by clicking pauses the channel on every nsqd", async () => {
    await open("/topics/orders/billing", "#channel-clients");
    expect(await page.locator("#channel-clients tbody tr").count()).toBe(1);
    expect(await page.textContent("#channel-clients tbody tr")).toContain("example-consumer/1.0");
    await shot("channel");
    await page.click('button[data-action="pause"]');
    await page.waitForSelector("dialog[open] #confirm-ok");
    await page.click("#confirm-ok");
    await expect
      .poll(
        async () => {
          const states = await Promise.all(cluster.nodes.map(async (n) => (await nsqdStats(n, "&topic=orders&channel=billing")).topics[0].channels[0].paused));
          return states;
        },
        { timeout: 10_000 },
      )
      .toEqual([true, true]);
    await page.waitForSelector('button[data-action="unpause"]', { timeout: 10_000 });
    expect(await page.locator("h1 .badge.paused").count()).toBe(1);
    await shot("channel-paused");
    expect(pageErrors).toEqual([]);
  });

  it("A-UI-NODES and A-UI-NODE list the nsqd and their topics", async () => {
    await open("/nodes", "#nodes-table");
    expect(await page.locator("#nodes-table tbody tr").count()).toBe(2);
    expect(await page.textContent("h1")).toBe("Nodes (2)");
    // Each row counts its topics ahead of their badges.
    const counts = await page.$$eval("#nodes-table tbody tr", (rows) =>
      rows.map((r) => [Number(r.querySelector(".topics-cell .badge.count")!.textContent), r.querySelectorAll(".topics-cell a.badge.topic").length]),
    );
    for (const [shown, badges] of counts) {
      expect(shown).toBeGreaterThanOrEqual(2);
      expect(shown).toBe(badges);
    }
    await shot("nodes");
    await open(`/nodes/${cluster.nodes[0]}`, ".stats");
    expect(await page.locator(".node-topic").count()).toBe(2);
    await shot("node");
    expect(pageErrors).toEqual([]);
  });

  it("A-UI-COUNTER shows the total message count", async () => {
    await open("/counter", "#counter");
    const api = await admin.get("/api/counter");
    let total = 0;
    for (const v of Object.values(api.body.stats) as Array<{ message_count: number }>) total += v.message_count;
    await page.waitForFunction((want) => document.getElementById("counter")!.textContent === want, total.toLocaleString("en-US"), { timeout: 10_000 });
    await shot("counter");
    expect(pageErrors).toEqual([]);
  });

  it("A-UI-LOOKUP creates a topic and channel that then show as inactive", async () => {
    await open("/lookup", "#create-form");
    // A bad name gets the rules, not the browser's "Please match the requested format."
    await page.fill("#create-topic", "no spaces!");
    await page.click("#create-submit");
    const message = await page.$eval("#create-topic", (el) => (el as HTMLInputElement).validationMessage);
    expect(message).toContain("letters, digits");
    expect(message).toContain("#ephemeral");
    expect(await page.isVisible("#name-rules")).toBe(true);
    await page.fill("#create-topic", "from_browser");
    await page.fill("#create-channel", "first");
    await page.click("#create-submit");
    await page.waitForSelector('#inactive li[data-topic="from_browser"]', { timeout: 10_000 });
    const topics = await fetch(`http://${cluster.lookupdHttp}/topics`, { headers: { Accept: "application/vnd.nsq; version=1.0" } }).then((r) => r.json());
    expect(topics.topics).toContain("from_browser");
    const channels = await fetch(`http://${cluster.lookupdHttp}/channels?topic=from_browser`, { headers: { Accept: "application/vnd.nsq; version=1.0" } }).then(
      (r) => r.json(),
    );
    expect(channels.channels).toEqual(["first"]);
    // Channels of inactive topics link to their page.
    expect(await page.getAttribute('#inactive li[data-topic="from_browser"] li[data-channel="first"] a', "href")).toBe("/topics/from_browser/first");
    await shot("lookup");
    expect(pageErrors).toEqual([]);
  });

  it("live updates: a depth change appears without a reload", async () => {
    await open("/topics/orders", "#topic-channels");
    await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));
    const cell = 'tr[data-channel="shipping"] td.depth';
    const before = Number((await page.textContent(cell))!.replace(/,/g, ""));
    await pub(cluster.nodes[0]!, "orders", 7);
    const want = (before + 7).toLocaleString("en-US");
    await page.waitForFunction(([sel, text]) => document.querySelector(sel!)?.textContent === text, [cell, want], { timeout: 10_000 });
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    expect(pageErrors).toEqual([]);
  });

  it("A-BEH-ACL: a non-admin sees no action buttons", async () => {
    await using readOnly = await cluster.admin({ admin_users: ["root"] });
    await navigate(page, `${readOnly.url}/topics/orders/billing`);
    await page.waitForSelector("#channel-nodes", { timeout: 10_000 });
    expect(await page.locator("button[data-action]").count()).toBe(0);
    await navigate(page, `${readOnly.url}/lookup`);
    await page.waitForSelector("#inactive, .notice", { timeout: 10_000 });
    expect(await page.locator("#create-form").count()).toBe(0);
  });

  describe("A-UI-GRAPHS: graphite graphs from the render API", () => {
    let graphite: FakeGraphite;
    let proxied: TestAdmin;
    /** The targets the fake graphite has data for; anything else gets no series, as in graphite. */
    const known = new Set<string>();
    let topics: string[] = [];
    // The original's keys with its default formats and a 10 s statsd interval.
    const host = (node: string) => node.replace(/[.:]/g, "_");
    const gauge = (k: string) => `stats.gauges.nsq.${k}`;
    const counter = (k: string) => `stats.counters.nsq.${k}.count`;
    const spark = (t: string) => `summarize(${t},"10sec","avg")`;
    const perSecond = (t: string) => `summarize(scale(${t},0.1),"10sec","avg")`;
    const CHANNEL_GAUGES = ["depth", "in_flight_count", "deferred_count", "clients"];
    const CHANNEL_COUNTERS = ["requeue_count", "timeout_count", "message_count"];
    const topicTargets = (node: string, t: string) => [
      spark(`sumSeries(${gauge(`${node}.topic.${t}.depth`)})`),
      spark(`sumSeries(${counter(`${node}.topic.${t}.message_count`)})`),
    ];
    const channelTargets = (node: string, t: string, c: string) => [
      ...CHANNEL_GAUGES.map((k) => spark(`sumSeries(${gauge(`${node}.topic.${t}.channel.${c}.${k}`)})`)),
      ...CHANNEL_COUNTERS.map((k) => spark(`sumSeries(${counter(`${node}.topic.${t}.channel.${c}.${k}`)})`)),
    ];
    const series = (): Array<[number, number]> => {
      const now = Math.floor(Date.now() / 1000);
      return Array.from({ length: 12 }, (_, i) => [5 + ((i * 7) % 11), now - (12 - i) * 10]);
    };

    /** Sparklines and charts with no line: their target got no data. */
    async function emptyGraphs(): Promise<string[]> {
      return page.$$eval("[data-graphite]", (els) =>
        els
          .filter((el) => {
            const spec = JSON.parse((el as HTMLElement).dataset["graphite"]!) as { kind: string; targets: string[] };
            if (spec.kind === "rate") return false;
            return el.querySelectorAll("path.spark-line, path.chart-line").length !== spec.targets.length;
          })
          .map((el) => (el as HTMLElement).dataset["graphite"]!),
      );
    }

    beforeAll(async () => {
      const [a, b] = cluster.nodes as [string, string];
      for (const n of [a, b, "*"]) for (const t of topicTargets(n === "*" ? n : host(n), "orders")) known.add(t);
      for (const n of [a, b, "*"]) for (const t of channelTargets(n === "*" ? n : host(n), "orders", "billing")) known.add(t);
      for (const c of ["billing", "shipping"]) for (const t of channelTargets("*", "orders", c)) known.add(t);
      topics = (await admin.get("/api/topics")).body.topics;
      for (const t of topics) for (const x of topicTargets("*", t)) known.add(x);
      for (const t of topicTargets(host(a), "clicks")) known.add(t);
      for (const t of channelTargets(host(a), "clicks", "analytics")) known.add(t);
      for (const c of ["billing", "shipping"]) for (const t of channelTargets(host(a), "orders", c)) known.add(t);
      known.add(perSecond(`sumSeries(${counter("*.topic.orders.message_count")})`));
      known.add(perSecond(`sumSeries(${counter("*.topic.orders.channel.billing.message_count")})`));
      for (const k of [
        "heap_idle_bytes",
        "heap_in_use_bytes",
        "heap_released_bytes",
        "next_gc_bytes",
        "gc_pause_usec_100",
        "gc_pause_usec_99",
        "gc_pause_usec_95",
        "heap_objects",
      ]) {
        known.add(spark(gauge(`${host(a)}.mem.${k}`)));
      }
      known.add(perSecond(`movingAverage(${counter(`${host(a)}.mem.gc_runs`)},45)`));
      known.add(perSecond(`sumSeries(${counter("*.topic.*.channel.*.message_count")})`));
      graphite = await startFakeGraphite((target, query) => {
        const now = Math.floor(Date.now() / 1000);
        // Rate cells: the first point of [-2i, -i] over the interval i.
        if (query.get("from") === "-20sec" && query.get("until") === "-10sec") {
          if (target === `sumSeries(${counter("*.topic.orders.message_count")})`) return [[30, now - 20]];
          if (target === `sumSeries(${counter(`${host(a)}.topic.orders.message_count`)})`) return [[12, now - 20]];
          if (target === `sumSeries(${counter(`${host(a)}.topic.orders.channel.billing.message_count`)})`) return [[7, now - 20]];
          return undefined;
        }
        return known.has(target) ? series() : undefined;
      });
      proxied = await cluster.admin({ graphite_url: graphite.url, proxy_graphite: true, statsd_interval: 10_000 });
    });

    afterAll(async () => {
      await graphite?.close();
    });

    it("draws the topics list's sparklines and rate cells through the /render proxy", async () => {
      await open("/", "#topics-table", proxied.url);
      await graphsDrawn();
      expect(await page.$$eval("#topics-table thead th", (ths) => ths.map((th) => th.textContent))).toEqual(
        expect.arrayContaining(["Graphite depth", "Graphite messages", "Graphite rate /s"]),
      );
      expect(await page.textContent('#topics-table tr[data-topic="orders"] .grate')).toBe("3.00");
      expect(await page.textContent('#topics-table tr[data-topic="clicks"] .grate')).toBe("N/A");
      expect(await page.locator("#topics-table a.gspark path.spark-line").count()).toBe(2 * topics.length);
      expect(await emptyGraphs()).toEqual([]);
      // Through nsqadmin's /render, and each sparkline links to the original's large PNG graph.
      expect(graphite.requests.every((u) => u.pathname === "/render" && u.searchParams.get("format") === "json" && !u.searchParams.has("jsonp"))).toBe(true);
      const png = new URL((await page.getAttribute('#topics-table tr[data-topic="orders"] a.gspark', "href"))!, proxied.url);
      expect(png.pathname).toBe("/render");
      expect(png.searchParams.get("width")).toBe("800");
      expect(png.searchParams.getAll("target")).toEqual([spark(`sumSeries(${gauge("*.topic.orders.depth")})`)]);
      expect(pageErrors).toEqual([]);
    });

    it("draws the topic page's charts, per-node rows and per-channel rows", async () => {
      const [a] = cluster.nodes as [string, string];
      await open("/topics/orders", "#topic-nodes", proxied.url);
      await graphsDrawn();
      expect(await page.locator(".graphite-charts .gchart path.chart-line").count()).toBe(2);
      expect(await page.textContent(`#topic-nodes tr[data-node="${a}"] .grate`)).toBe("1.20");
      expect(await page.textContent("#topic-nodes tfoot .grate")).toBe("3.00");
      // Depth and messages for each node and the total; seven series per channel.
      expect(await page.locator("#topic-nodes tr.graph-row a.gspark").count()).toBe(3 * 2);
      expect(await page.locator("#topic-channels tr.graph-row a.gspark").count()).toBe(2 * 7);
      expect(await emptyGraphs()).toEqual([]);
      await shot("graphite-topic");
      expect(pageErrors).toEqual([]);
    });

    it("draws the channel page's charts and rows with the channel's own rate", async () => {
      const [a] = cluster.nodes as [string, string];
      await open("/topics/orders/billing", "#channel-nodes", proxied.url);
      await graphsDrawn();
      expect(await page.locator(".graphite-charts .gchart path.chart-line").count()).toBe(2);
      expect(await page.textContent(`#channel-nodes tr[data-node="${a}"] .grate`)).toBe("0.70");
      expect(await page.locator("#channel-nodes tr.graph-row a.gspark").count()).toBe(3 * 7);
      expect(await emptyGraphs()).toEqual([]);
      expect(pageErrors).toEqual([]);
    });

    it("draws the node page's memory graphs and the counter's graph", async () => {
      const [a] = cluster.nodes as [string, string];
      await open(`/nodes/${a}`, ".node-topic", proxied.url);
      await graphsDrawn();
      // GC pressure (4 lines), GC pauses (3), GC runs, heap objects.
      expect(await page.locator(".node-charts .gchart").count()).toBe(4);
      expect(await page.locator(".node-charts path.chart-line").count()).toBe(4 + 3 + 1 + 1);
      expect(await emptyGraphs()).toEqual([]);
      await shot("graphite-node");
      await open("/counter", "#counter", proxied.url);
      await graphsDrawn();
      expect(await page.locator(".graphite-charts path.chart-line").count()).toBe(1);
      expect(await emptyGraphs()).toEqual([]);
      // Nothing was asked for that graphite did not have (wrong keys would be).
      const rates = new Set(topics.map((t) => `sumSeries(${counter(`*.topic.${t}.message_count`)})`));
      for (const n of [...cluster.nodes.map(host), "*"]) {
        rates.add(`sumSeries(${counter(`${n}.topic.orders.message_count`)})`);
        rates.add(`sumSeries(${counter(`${n}.topic.orders.channel.billing.message_count`)})`);
      }
      const unknown = graphite.targets().filter((t) => !known.has(t) && !rates.has(t));
      expect(unknown).toEqual([]);
      expect(pageErrors).toEqual([]);
    });

    it("A-UI-NAV: the timeframe menu turns graphs off, is remembered, and ?t= overrides it", async () => {
      await open("/", "#topics-table", proxied.url);
      expect(await page.inputValue("#graph-interval")).toBe("2h");
      await page.selectOption("#graph-interval", "off");
      await page.waitForFunction(() => document.querySelectorAll("[data-graphite]").length === 0 && !!document.querySelector("#topics-table"), null, {
        timeout: 10_000,
      });
      await open("/", "#topics-table", proxied.url);
      expect(await page.inputValue("#graph-interval")).toBe("off");
      expect(await page.locator("[data-graphite]").count()).toBe(0);
      const before = graphite.requests.length;
      await open("/?t=1h", "#topics-table", proxied.url);
      await graphsDrawn();
      expect(await page.inputValue("#graph-interval")).toBe("1h");
      const sparkRequests = graphite.requests.slice(before).filter((u) => u.searchParams.get("until") === "-1min");
      expect(sparkRequests.length).toBeGreaterThan(0);
      expect(sparkRequests.every((u) => u.searchParams.get("from") === "-1h")).toBe(true);
      await page.selectOption("#graph-interval", "2h");
      // Without --graphite-url there is no menu and nothing is drawn from graphite.
      await open("/", "#topics-table");
      expect(await page.locator("#graph-interval").count()).toBe(0);
      expect(await page.locator("[data-graphite]").count()).toBe(0);
    });

    it("loads straight from --graphite-url as JSONP without --proxy-graphite, and proxies under --base-path", async () => {
      await using direct = await cluster.admin({ graphite_url: graphite.url, statsd_interval: 10_000 });
      const before = graphite.requests.length;
      await open("/", "#topics-table", direct.url);
      await graphsDrawn();
      expect(await page.textContent('#topics-table tr[data-topic="orders"] .grate')).toBe("3.00");
      expect(await emptyGraphs()).toEqual([]);
      expect(graphite.requests.slice(before).every((u) => u.searchParams.has("jsonp"))).toBe(true);
      expect(await page.getAttribute('#topics-table tr[data-topic="orders"] a.gspark', "href")).toMatch(new RegExp(`^${graphite.url}/render\\?`));
      await using based = await cluster.admin({ graphite_url: graphite.url, proxy_graphite: true, statsd_interval: 10_000, base_path: "/nsq" });
      await open("/", "#topics-table", based.url);
      await graphsDrawn();
      expect(await page.textContent('#topics-table tr[data-topic="orders"] .grate')).toBe("3.00");
      expect(await emptyGraphs()).toEqual([]);
      expect(pageErrors).toEqual([]);
    });

    it("a graphite that does not answer leaves the page working, and the graphs say so", async () => {
      const gone = await startFakeGraphite(() => undefined);
      await gone.close();
      await using down = await cluster.admin({ graphite_url: gone.url, proxy_graphite: true, statsd_interval: 10_000 });
      const seen = pageErrors.length;
      await open("/topics/orders", "#topic-nodes", down.url);
      await graphsDrawn();
      expect(await page.textContent("#topic-nodes tfoot .grate")).toBe("error");
      expect(await page.locator('[data-drawn="error"]').count()).toBe(await page.locator("[data-graphite]").count());
      expect(await page.textContent(".graphite-charts .gchart")).toContain("graphite answered 502");
      expect(await page.getAttribute("#live", "class")).not.toContain("error");
      expect(await page.locator("#topic-channels tbody tr[data-channel]").count()).toBe(2);
      // The browser logs the failed loads itself; nothing else went wrong.
      expect(pageErrors.splice(seen).filter((e) => !e.includes("502"))).toEqual([]);
    });
  });

  it("X-NAME-VALID: 64-character topic and channel names fit their boxes at 1280, 768 and 390 px", async () => {
    const [a, b] = cluster.nodes as [string, string];
    const topic = "inventory_reservations_" + "t".repeat(64 - 23);
    const channel = "warehouse_allocation_worker_" + "c".repeat(64 - 28);
    expect([topic.length, channel.length]).toEqual([64, 64]);
    for (const n of [a, b]) {
      await nsqdPost(n, `/topic/create?topic=${topic}`);
      await nsqdPost(n, `/channel/create?topic=${topic}&channel=${channel}`);
    }
    await nsqdPost(a, `/channel/create?topic=orders&channel=${channel}`);
    await pub(a, topic, 1234);
    await cluster.settle();
    const pages = ["/", "/topics/orders", `/topics/${topic}`, `/topics/${topic}/${channel}`, "/nodes", `/nodes/${a}`, "/lookup", "/counter"];
    // With graphite graphs too (a graphite that is down: the graphs draw as empty).
    await using graphs = await cluster.admin({ graphite_url: "http://127.0.0.1:9", proxy_graphite: true });
    const graphPages = ["/", `/topics/${topic}`, `/topics/${topic}/${channel}`, `/nodes/${a}`];
    const seen = pageErrors.length;
    try {
      for (const width of [1280, 768, 390]) {
        await page.setViewportSize({ width, height: 820 });
        for (const p of pages) {
          await open(p, "#app > *");
          expect(await page.evaluate(overflowing), `${p} at ${width} px`).toEqual([]);
        }
        for (const p of graphPages) {
          await open(p, "#app > *", graphs.url);
          await graphsDrawn();
          expect(await page.locator("[data-graphite]").count()).toBeGreaterThan(0);
          expect(await page.evaluate(overflowing), `${p} with graphs at ${width} px`).toEqual([]);
        }
        await open(`/topics/${topic}/${channel}`, "#channel-nodes");
        await shot(`long-names-${width}`);
      }
      // At phone width the menu folds behind a button that opens it in the viewport.
      expect(await page.isVisible("nav.main")).toBe(false);
      await page.click("#menu-toggle");
      for (const label of ["Topics", "Nodes", "Counter", "Lookup"]) {
        const box = (await page.locator("nav.main a", { hasText: label }).boundingBox())!;
        expect(box.x).toBeGreaterThanOrEqual(0);
        expect(box.x + box.width).toBeLessThanOrEqual(390);
      }
      expect(await page.evaluate(overflowing)).toEqual([]);
      await shot("menu-390");
      await page.click('nav.main a[data-nav="counter"]');
      await page.waitForSelector("#counter");
      expect(await page.isVisible("nav.main")).toBe(false);
    } finally {
      await page.setViewportSize({ width: 1280, height: 820 });
    }
    expect(await page.isVisible("#menu-toggle")).toBe(false);
    // The browser logs the graphite proxy's 502s itself; nothing else went wrong.
    expect(pageErrors.splice(seen).filter((e) => !e.includes("502"))).toEqual([]);
  }, 60_000);

  it("A-UI-CHANNEL: the headline depth is the table's total, also right after Empty", async () => {
    const [a] = cluster.nodes as [string, string];
    await nsqdPost(a, "/topic/create?topic=backlog");
    await nsqdPost(a, "/channel/create?topic=backlog&channel=work");
    await pub(a, "backlog", 9);
    await cluster.settle();
    // One history sample at start-up and none for an hour: the headline cannot come from it.
    await using slow = await cluster.admin({}, { historyIntervalMs: 3_600_000 });
    await slow.admin.history.sample();
    await pub(a, "backlog", 5);
    await open("/topics/backlog/work", "#channel-nodes", slow.url);
    const headline = () => page.textContent('.chart-value[data-key="depth"]');
    expect(await page.textContent("#channel-nodes tfoot td.depth")).toBe("14");
    expect(await headline()).toBe("14");
    await page.click('button[data-action="empty"]');
    await page.waitForSelector("dialog[open] #confirm-ok");
    expect(await page.textContent("dialog[open] p")).toBe("Empty channel work of topic backlog? Its queued messages are deleted.");
    await page.click("#confirm-ok");
    await page.waitForFunction(() => document.querySelector("#channel-nodes tfoot td.depth")?.textContent === "0", null, { timeout: 10_000 });
    expect(await headline()).toBe("0");
    expect(pageErrors).toEqual([]);
  });

  it("A-UI-CHANNEL, A-UI-TOPIC: deleting confirms on the page it lands on", async () => {
    const [a] = cluster.nodes as [string, string];
    await nsqdPost(a, "/topic/create?topic=doomed");
    await nsqdPost(a, "/channel/create?topic=doomed&channel=gone");
    await cluster.settle();
    await open("/topics/doomed/gone", "#channel-nodes");
    await page.click('button[data-action="delete"]');
    await page.waitForSelector("dialog[open] #confirm-ok");
    expect(await page.textContent("dialog[open] p")).toBe("Delete channel gone of topic doomed?");
    await page.click("#confirm-ok");
    await page.waitForURL(`${admin.url}/topics/doomed`);
    await page.waitForSelector("#banner.ok", { timeout: 5000 });
    expect(await page.textContent("#banner")).toBe("Delete Channel: done.");
    await page.waitForSelector("#topic-nodes");
    await page.click('button[data-action="delete"]');
    await page.waitForSelector("dialog[open] #confirm-ok");
    await page.click("#confirm-ok");
    await page.waitForURL(`${admin.url}/`);
    await page.waitForSelector("#banner.ok", { timeout: 5000 });
    expect(await page.textContent("#banner")).toBe("Delete Topic: done.");
    // Still there once the new page has loaded.
    await page.waitForSelector("#topics-table");
    expect(await page.textContent("#banner")).toBe("Delete Topic: done.");
    expect((await nsqdStats(a, "&topic=doomed")).topics ?? []).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it("A-UI-CHANNEL: a channel that does not exist gets a notice while the live dot stays green", async () => {
    const seen = pageErrors.length;
    await navigate(page, `${admin.url}/topics/orders/no_such_channel`);
    await page.waitForSelector("#missing", { timeout: 10_000 });
    expect(await page.textContent("#missing")).toContain("no_such_channel");
    expect(await page.getAttribute("#live", "class")).not.toContain("error");
    expect(await page.textContent("#banner")).toBe("");
    // The browser logs the 404 itself; nothing else went wrong.
    expect(pageErrors.splice(seen).filter((e) => !e.includes("404"))).toEqual([]);
  });

  it("A-UI-CHANNEL: with the topology experiment the nodes table has a Delivery column", async () => {
    await using nsqd = await startTestNsqd({
      http_address: "127.0.0.1:0",
      broadcast_address: "127.0.0.1",
      enable_experiment: ["topology-aware-consumption"],
      topology_region: "eu",
      topology_zone: "eu-1",
    });
    const node = `127.0.0.1:${nsqd.httpPort}`;
    await nsqdPost(node, "/topic/create?topic=geo");
    await nsqdPost(node, "/channel/create?topic=geo&channel=near");
    const sock = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(nsqd.tcpPort, "127.0.0.1", () => {
        const identify = lengthPrefixed(JSON.stringify({ client_id: "near-worker", hostname: "worker-eu", topology_region: "eu", topology_zone: "eu-1" }));
        s.write(Buffer.concat([Buffer.from("  V2IDENTIFY\n"), identify, Buffer.from("SUB geo near\nRDY 10\n")]), () => resolve(s));
      });
      s.once("error", reject);
    });
    try {
      await pub(node, "geo", 4);
      await expect.poll(async () => (await nsqdStats(node, "&topic=geo&channel=near")).topics[0].channels[0].zone_local_msg_count, { timeout: 10_000 }).toBe(4);
      await using direct = await cluster.admin({ nsqd_http_addresses: [node] });
      await open("/topics/geo/near", "#channel-nodes", direct.url);
      expect(await page.$$eval("#channel-nodes thead th", (ths) => ths.map((th) => th.textContent))).toContain("Delivery");
      expect(await page.getAttribute(`#channel-nodes tr[data-node="${node}"] td.delivery-cell`, "title")).toBe(
        "zone-local 100.0% \u00b7 region-local 0.0% \u00b7 global 0.0%",
      );
      expect(await page.textContent(`#channel-nodes tr[data-node="${node}"] .delivery-text`)).toBe("100 / 0 / 0 %");
      await shot("delivery");
    } finally {
      sock.destroy();
    }
    expect(pageErrors).toEqual([]);
  });
});
