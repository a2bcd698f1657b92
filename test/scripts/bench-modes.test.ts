// The benchmark modes beyond the writer and reader: many consumers (scripts/bench-consumers.ts),
// fixed-rate latency (scripts/bench-latency.ts) and the C round-trip client of
// case 4 (scripts/bench-rtt.c), run small against an in-process nsqd: every
// message is accounted for. Figures are not checked (they are benchmarks).
import { describe, expect, it } from "vitest";
import { runConsumers } from "../../scripts/bench-consumers.ts";
import { runLatency } from "../../scripts/bench-latency.ts";
import { rttClient, runRtt } from "../../scripts/bench-rtt.ts";
import { startTestNsqd } from "../nsqd/helpers.ts";

describe("bench modes", () => {
  it("consumers: 40 SUB + RDY 1 connections share 2,000 messages, each getting some", async () => {
    await using d = await startTestNsqd();
    const r = await runConsumers({ target: { host: "127.0.0.1", port: d.tcpPort }, topic: "many", channel: "ch", consumers: 40, count: 2000, size: 50 });
    expect(r.consumers).toBe(40);
    expect(r.messages).toBe(2000);
    expect(r.minPerConsumer).toBeGreaterThan(0);
    expect(r.rate).toBeGreaterThan(0);
  });

  it("latency: every message published at a fixed rate arrives, with ordered percentiles", async () => {
    await using d = await startTestNsqd();
    const r = await runLatency({ target: { host: "127.0.0.1", port: d.tcpPort }, topic: "lat", rate: 1000, durationMs: 1500, size: 100 });
    expect(r.missing).toBe(0);
    expect(r.messages).toBe(1500);
    expect(r.p50).toBeGreaterThan(0);
    expect(r.p50).toBeLessThanOrEqual(r.p99);
    expect(r.p99).toBeLessThanOrEqual(r.p999);
    expect(r.p999).toBeLessThanOrEqual(r.max);
    // The last half second's messages form the after-warm-up figures: a subset of all.
    expect(r.maxWarm).toBeGreaterThan(0);
    expect(r.p99Warm).toBeLessThanOrEqual(r.maxWarm);
    expect(r.maxWarm).toBeLessThanOrEqual(r.max);
  });

  it("case 4's C client compiles and makes PUB round trips (skipped without a C compiler)", async (ctx) => {
    const c = rttClient();
    if (c.path === null) ctx.skip();
    await using d = await startTestNsqd();
    const r = await runRtt(c.path!, { target: { host: "127.0.0.1", port: d.tcpPort }, topic: "rtt", size: 100, count: 500, runforMs: 10_000 });
    expect(r.messages).toBe(500);
    expect(r.stop).toBe("count");
    expect(d.nsqd.getExistingTopic("rtt")!.messageCount).toBe(500);
    expect(r.latencyUs!.p50).toBeGreaterThan(0);
  });
});
