// The nsqadmin UI in real headless Chromium against a real cluster: every page
// loads without script errors, a channel is paused by clicking (checked in
// nsqd's /stats), a topic is created from the lookup page, and a depth change
// appears without a reload. Screenshots go to test-artifacts/; the topics page
// one is copied to docs/nsqadmin.png for the README when that file is missing
// or UPDATE_DOCS_SCREENSHOT=1 (so ordinary runs leave the tree clean).
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nsqdPost, nsqdStats, startCluster, type TestAdmin, type TestCluster } from "./cluster.ts";

const CHROMIUM = "/usr/bin/chromium";
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

async function open(p: string, ready: string): Promise<void> {
  await page.goto(admin.url + p);
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

async function pub(node: string, topic: string, n: number): Promise<void> {
  const body = Array.from({ length: n }, (_, i) => `m${i}`).join("\n");
  await fetch(`http://${node}/mpub?topic=${topic}`, { method: "POST", body });
}

describe.skipIf(!fs.existsSync(CHROMIUM))("nsqadmin UI in Chromium", () => {
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
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
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
      .poll(async () => {
        const states = await Promise.all(cluster.nodes.map(async (n) => (await nsqdStats(n, "&topic=orders&channel=billing")).topics[0].channels[0].paused));
        return states;
      }, { timeout: 10_000 })
      .toEqual([true, true]);
    await page.waitForSelector('button[data-action="unpause"]', { timeout: 10_000 });
    expect(await page.locator("h1 .badge.paused").count()).toBe(1);
    await shot("channel-paused");
    expect(pageErrors).toEqual([]);
  });

  it("A-UI-NODES and A-UI-NODE list the nsqd and their topics", async () => {
    await open("/nodes", "#nodes-table");
    expect(await page.locator("#nodes-table tbody tr").count()).toBe(2);
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
    await page.fill("#create-topic", "from_browser");
    await page.fill("#create-channel", "first");
    await page.click("#create-submit");
    await page.waitForSelector('#inactive li[data-topic="from_browser"]', { timeout: 10_000 });
    const topics = await fetch(`http://${cluster.lookupdHttp}/topics`, { headers: { Accept: "application/vnd.nsq; version=1.0" } }).then((r) => r.json());
    expect(topics.topics).toContain("from_browser");
    const channels = await fetch(`http://${cluster.lookupdHttp}/channels?topic=from_browser`, { headers: { Accept: "application/vnd.nsq; version=1.0" } }).then((r) => r.json());
    expect(channels.channels).toEqual(["first"]);
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
    await page.goto(`${readOnly.url}/topics/orders/billing`);
    await page.waitForSelector("#channel-nodes", { timeout: 10_000 });
    expect(await page.locator("button[data-action]").count()).toBe(0);
    await page.goto(`${readOnly.url}/lookup`);
    await page.waitForSelector("#inactive, .notice", { timeout: 10_000 });
    expect(await page.locator("#create-form").count()).toBe(0);
  });
});
