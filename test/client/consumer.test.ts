// The client library against in-process nsqd: U-CLI-RDY (spread and
// redistribution within max_in_flight), U-CLI-BACKOFF, U-CLI-ATTEMPTS,
// U-CLI-HEARTBEAT, U-CLI-CLOSE, U-CLI-RECONNECT, and the Producer.
import { rmSync } from "node:fs";
import { describe, expect, onTestFinished, test } from "vitest";
import { startTestNsqd, type TestNsqd } from "../nsqd/helpers.ts";
import { createNodeRuntime } from "../../src/runtime/node.ts";
import { Consumer, Producer, type Message } from "../../src/index.ts";

const runtime = createNodeRuntime();
const text = (m: Message) => new TextDecoder().decode(m.body);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const addr = (n: TestNsqd) => `127.0.0.1:${n.tcpPort}`;

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function publishAll(n: TestNsqd, topic: string, bodies: string[]): Promise<void> {
  const p = new Producer(addr(n), {}, { runtime });
  await p.multiPublish(topic, bodies);
  await p.stop();
}

describe("Consumer", () => {
  test("U-CLI-RDY: spreads RDY over 3 nsqd with max_in_flight 2, never more than 2 in flight, all nsqd served", async () => {
    await using a = await startTestNsqd();
    await using b = await startTestNsqd();
    await using c = await startTestNsqd();
    const nodes = [a, b, c];
    for (const [i, n] of nodes.entries())
      await publishAll(
        n,
        "spread",
        Array.from({ length: 12 }, (_, k) => `${i}-${k}`),
      );
    const consumer = new Consumer(
      "spread",
      "ch",
      { max_in_flight: 2, low_rdy_idle_timeout: 1000, low_rdy_timeout: 1000, rdy_redistribute_interval: 50, output_buffer_timeout: 25 },
      { runtime },
    );
    let active = 0;
    let maxActive = 0;
    const seen = new Set<string>();
    const from = new Map<string, number>();
    // More handler slots than max_in_flight: every delivered message is being handled at once.
    consumer.addHandler(
      async (m) => {
        active++;
        maxActive = Math.max(maxActive, active);
        await sleep(40);
        seen.add(text(m));
        from.set(m.nsqdAddress, (from.get(m.nsqdAddress) ?? 0) + 1);
        active--;
      },
      { concurrency: 10 },
    );
    await consumer.connectToNsqds(nodes.map(addr));
    await until(() => seen.size === 36, 15_000, "all 36 messages");
    await consumer.stop();
    expect(maxActive).toBeLessThanOrEqual(2);
    expect(maxActive).toBe(2);
    expect([...from.keys()].sort()).toEqual(nodes.map(addr).sort());
  }, 30_000);

  test("U-CLI-BACKOFF: a failure stops delivery for multiplier x 2^level, successes leave backoff", async () => {
    await using n = await startTestNsqd();
    await publishAll(n, "boff", ["m1", "m2", "m3", "m4"]);
    const consumer = new Consumer("boff", "ch", { max_in_flight: 1, backoff_multiplier: 100, default_requeue_delay: 0 }, { runtime });
    const calls: { at: number; body: string; attempts: number }[] = [];
    let failures = 2;
    consumer.addHandler((m) => {
      calls.push({ at: Date.now(), body: text(m), attempts: m.attempts });
      if (failures > 0) {
        failures--;
        throw new Error("boom");
      }
    });
    await consumer.connectToNsqd(addr(n));
    await until(
      () => calls.filter((c) => c.attempts === 1 || failures === 0).length >= 6 && consumer.stats().messagesFinished === 4,
      10_000,
      "4 messages finished",
    );
    await consumer.stop();
    // Level 1 after the first failure (200 ms), level 2 after the second (400 ms).
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(180);
    expect(calls[2]!.at - calls[1]!.at).toBeGreaterThanOrEqual(360);
    expect(consumer.stats().messagesRequeued).toBe(2);
    expect(new Set(calls.map((c) => c.body))).toEqual(new Set(["m1", "m2", "m3", "m4"]));
  }, 20_000);

  test("U-CLI-ATTEMPTS: a message over max_attempts is FINed without calling the handler", async () => {
    await using n = await startTestNsqd();
    await publishAll(n, "att", ["x"]);
    const consumer = new Consumer("att", "ch", { max_attempts: 2, default_requeue_delay: 0, max_backoff_duration: 0 }, { runtime });
    const attempts: number[] = [];
    let gaveUp = 0;
    consumer.addHandler((m) => {
      attempts.push(m.attempts);
      throw new Error("always");
    });
    consumer.onFailedMessage((m) => (gaveUp = m.attempts));
    await consumer.connectToNsqd(addr(n));
    await until(() => gaveUp > 0, 5000, "the give-up");
    await consumer.stop();
    expect(attempts).toEqual([1, 2]);
    expect(gaveUp).toBe(3);
    const ch = n.nsqd.topics.get("att")!.channels.get("ch")!;
    expect(ch.depth()).toBe(0);
  });

  test("U-CLI-HEARTBEAT: the connection survives idle heartbeats (NOP replies)", async () => {
    await using n = await startTestNsqd();
    const consumer = new Consumer("hb", "ch", { heartbeat_interval: 1000 }, { runtime });
    const got: string[] = [];
    consumer.addHandler((m) => void got.push(text(m)));
    await consumer.connectToNsqd(addr(n));
    await sleep(2600);
    expect(consumer.stats().connections).toBe(1);
    await publishAll(n, "hb", ["late"]);
    await until(() => got.length === 1, 3000, "the message");
    await consumer.stop();
  }, 10_000);

  test("U-CLI-CLOSE: stop() sends CLS, waits for the running handler, and FINs its message", async () => {
    await using n = await startTestNsqd();
    await publishAll(n, "cls", ["slow"]);
    const consumer = new Consumer("cls", "ch", {}, { runtime });
    let started = false;
    let finished = false;
    consumer.addHandler(async () => {
      started = true;
      await sleep(300);
      finished = true;
    });
    await consumer.connectToNsqd(addr(n));
    await until(() => started, 3000, "the handler");
    await consumer.stop();
    expect(finished).toBe(true);
    const ch = n.nsqd.topics.get("cls")!.channels.get("ch")!;
    expect(ch.depth()).toBe(0);
    expect(consumer.stats()).toMatchObject({ messagesFinished: 1, connections: 0 });
  });

  test("U-CLI-RECONNECT: a direct consumer reconnects after its nsqd restarts", async () => {
    const first = await startTestNsqd({}, { keepData: true });
    const port = first.tcpPort;
    const dataPath = first.dataPath;
    onTestFinished(() => rmSync(dataPath, { recursive: true, force: true }));
    const consumer = new Consumer("rc", "ch", { lookupd_poll_interval: 100 }, { runtime });
    const got: string[] = [];
    consumer.addHandler((m) => void got.push(text(m)));
    await consumer.connectToNsqd(`127.0.0.1:${port}`);
    await first.close();
    await until(() => consumer.stats().connections === 0, 3000, "the disconnect");
    await using second = await startTestNsqd({ tcp_address: `127.0.0.1:${port}`, data_path: dataPath });
    await until(() => consumer.stats().connections === 1, 5000, "the reconnect");
    await publishAll(second, "rc", ["after"]);
    await until(() => got.includes("after"), 3000, "the message");
    await consumer.stop();
  }, 15_000);
});

describe("Producer", () => {
  test("publish, multiPublish and deferredPublish arrive byte for byte; errors carry the E_ code", async () => {
    await using n = await startTestNsqd();
    const p = new Producer(addr(n), {}, { runtime });
    const binary = new Uint8Array(256).map((_, i) => i);
    await p.publish("pt", binary);
    await p.multiPublish("pt", ["a", "b"]);
    await p.deferredPublish("pt", 50, "later");
    await expect(p.publish("pt", new Uint8Array(0))).rejects.toMatchObject({ code: "E_BAD_MESSAGE" });
    const consumer = new Consumer("pt", "ch", { max_in_flight: 10 }, { runtime });
    const got: Uint8Array[] = [];
    consumer.addHandler((m) => void got.push(m.body.slice()));
    await consumer.connectToNsqd(addr(n));
    await until(() => got.length === 4, 5000, "4 messages");
    await consumer.stop();
    await p.stop();
    const texts = got.map((b) => (b.length === 256 ? "binary" : new TextDecoder().decode(b))).sort();
    expect(texts).toEqual(["a", "b", "binary", "later"]);
    expect(got.find((b) => b.length === 256)).toEqual(binary);
  });

  test("reconnects on the next publish after the nsqd restarted", async () => {
    const first = await startTestNsqd({}, { keepData: true });
    const port = first.tcpPort;
    const dataPath = first.dataPath;
    onTestFinished(() => rmSync(dataPath, { recursive: true, force: true }));
    const p = new Producer(`127.0.0.1:${port}`, {}, { runtime });
    await p.publish("re", "one");
    await first.close();
    await sleep(50);
    await expect(p.publish("re", "lost")).rejects.toThrow();
    await using second = await startTestNsqd({ tcp_address: `127.0.0.1:${port}`, data_path: dataPath });
    await p.publish("re", "two");
    await p.stop();
    expect(second.nsqd.topics.get("re")!.depth()).toBe(2);
  });
});
