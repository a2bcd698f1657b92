// nsqadmin's graphite graphs (A-UI-GRAPHS) as a user runs them: `nsq admin`
// started as a real process on every runtime (node bundle, bun, deno, the
// compiled binary) against an nsqd and a fake graphite. Each serves the
// graphite module and proxies /render; in headless Chromium (when installed)
// the topics list draws its graphite sparklines and rate cell.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ensureBuilt } from "../helpers/build.ts";
import { RUNTIMES, startCli } from "../helpers/cli.ts";
import { hasChromium, launchChromium, navigate } from "./chromium.ts";
import { startTestNsqd, type TestNsqd } from "../nsqd/helpers.ts";
import { nsqdPost } from "./cluster.ts";
import { startFakeGraphite, type FakeGraphite } from "./graphite.ts";

const RATE = "sumSeries(stats.counters.nsq.*.topic.orders.message_count.count)";
const SPARKS = [
  'summarize(sumSeries(stats.gauges.nsq.*.topic.orders.depth),"10sec","avg")',
  'summarize(sumSeries(stats.counters.nsq.*.topic.orders.message_count.count),"10sec","avg")',
];

let nsqd: TestNsqd;
let graphite: FakeGraphite;
let browser: Browser | null = null;

beforeAll(async () => {
  await ensureBuilt();
  nsqd = await startTestNsqd({ http_address: "127.0.0.1:0", broadcast_address: "127.0.0.1" });
  await nsqdPost(`127.0.0.1:${nsqd.httpPort}`, "/topic/create?topic=orders");
  graphite = await startFakeGraphite((target) => {
    const now = Math.floor(Date.now() / 1000);
    if (target === RATE) return [[30, now - 20]];
    if (SPARKS.includes(target)) return Array.from({ length: 6 }, (_, i) => [i * 3, now - (6 - i) * 10]);
    return undefined;
  });
  if (hasChromium()) browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await graphite?.close();
  await nsqd?.close();
});

describe.each(RUNTIMES)("%s", (rt) => {
  test("nsq admin --graphite-url --proxy-graphite serves and draws graphite graphs", async () => {
    await using proc = startCli(rt, [
      "admin",
      "--http-address=127.0.0.1:0",
      `--nsqd-http-address=127.0.0.1:${nsqd.httpPort}`,
      `--graphite-url=${graphite.url}`,
      "--proxy-graphite",
      "--statsd-interval=10s",
    ]);
    const port = Number(/HTTP: listening on 127\.0\.0\.1:(\d+)/.exec(await proc.waitForStderr(/HTTP: listening on 127\.0\.0\.1:\d+/))![1]);
    const base = `http://127.0.0.1:${port}`;
    const index = await (await fetch(`${base}/`)).text();
    expect(index).toContain("var GRAPH_ENABLED = true;");
    expect(index).toContain("var STATSD_INTERVAL = 10;");
    const module = await fetch(`${base}/static/graphite.js`);
    expect(module.status).toBe(200);
    expect(module.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await module.text()).toContain("export function targets(");
    const proxied = await fetch(`${base}/render?format=json&from=-20sec&until=-10sec&target=${encodeURIComponent(RATE)}`);
    expect((await proxied.json())[0].datapoints[0][0]).toBe(30);

    if (browser === null) return;
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    try {
      await navigate(page, `${base}/`);
      await page.waitForSelector('#topics-table tr[data-topic="orders"] .grate', { timeout: 10_000 });
      await page.waitForFunction(() => [...document.querySelectorAll<HTMLElement>("[data-graphite]")].every((el) => el.dataset["drawn"]), null, {
        timeout: 10_000,
      });
      expect(await page.textContent('#topics-table tr[data-topic="orders"] .grate')).toBe("3.00");
      expect(await page.locator('#topics-table tr[data-topic="orders"] a.gspark path.spark-line').count()).toBe(2);
    } finally {
      await page.close();
    }
    expect(errors).toEqual([]);
  }, 60_000);
});
