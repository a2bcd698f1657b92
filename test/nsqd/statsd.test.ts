// statsd push (D-BEH-STATSD, D-BEH-STATSD-NAMES): a real UDP socket receives
// the lines of two intervals; names, types and counter deltas are checked.
import { describe, expect, it } from "vitest";
import * as dgram from "node:dgram";
import { packDatagrams, statsdPrefix } from "../../src/nsqd/statsd.ts";
import { startTestNsqd } from "./helpers.ts";

interface Line {
  name: string;
  value: number;
  type: string;
}

function parse(datagram: string, prefix: string): Line[] {
  expect(datagram.endsWith("\n")).toBe(true);
  return datagram
    .slice(0, -1)
    .split("\n")
    .map((l) => {
      const m = /^(.+):(-?\d+)\|([cg])$/.exec(l);
      if (m === null) throw new Error(`bad statsd line ${JSON.stringify(l)}`);
      expect(m[1]!.startsWith(prefix)).toBe(true);
      return { name: m[1]!.slice(prefix.length), value: Number(m[2]), type: m[3]! };
    });
}

describe("D-BEH-STATSD", () => {
  it("D-BEH-STATSD: prefix from the broadcast address and HTTP port, `.` and `:` as `_`, trailing dot", () => {
    expect(statsdPrefix("nsq.%s", "host.example", 4151)).toBe("nsq.host_example_4151.");
    expect(statsdPrefix("nsq.%s.", "10.0.0.1", 80)).toBe("nsq.10_0_0_1_80.");
    expect(statsdPrefix("", "h", 1)).toBe("");
  });

  it("D-BEH-STATSD: lines are packed into datagrams no larger than the packet size", () => {
    const lines = Array.from({ length: 50 }, (_, i) => ({ name: `topic.t.metric_${i}`, value: i, type: "g" as const }));
    const grams = packDatagrams("nsq.h_1.", lines, 100);
    const all = grams.map((g) => new TextDecoder().decode(g));
    for (const g of grams) expect(g.length).toBeLessThanOrEqual(100);
    expect(all.join("").split("\n").filter(Boolean)).toEqual(lines.map((l) => `nsq.h_1.${l.name}:${l.value}|g`));
  });

  it("D-BEH-STATSD-NAMES: two intervals over UDP: gauges, and counters as deltas", async () => {
    const udp = dgram.createSocket("udp4");
    const datagrams: { at: number; text: string }[] = [];
    udp.on("message", (m) => datagrams.push({ at: Date.now(), text: m.toString() }));
    await new Promise<void>((r) => udp.bind(0, "127.0.0.1", r));
    const port = udp.address().port;
    try {
      await using d = await startTestNsqd({
        statsd_address: `127.0.0.1:${port}`,
        statsd_interval: 1200,
        statsd_prefix: "nsq.%s",
        broadcast_address: "statsd.test",
        broadcast_http_port: 4151,
        statsd_udp_packet_size: 200,
      });
      const topic = d.nsqd.getTopic("st");
      topic.getChannel("ch");
      for (let i = 0; i < 5; i++) topic.publish(new TextEncoder().encode("hello"));
      const eph = d.nsqd.getTopic("e#ephemeral");
      eph.getChannel("c#ephemeral");
      // First push after 1.2 s.
      await waitFor(() => datagrams.some((g) => g.text.includes("mem.gc_runs")), 3000);
      const first = datagrams.splice(0).flatMap((g) => parse(g.text, "nsq.statsd_test_4151."));
      for (let i = 0; i < 3; i++) topic.publish(new TextEncoder().encode("hello!"));
      await waitFor(() => datagrams.some((g) => g.text.includes("mem.gc_runs")), 3000);
      const second = datagrams.splice(0).flatMap((g) => parse(g.text, "nsq.statsd_test_4151."));
      const get = (lines: Line[], name: string) => lines.find((l) => l.name === name);

      expect(get(first, "topic.st.message_count")).toEqual({ name: "topic.st.message_count", value: 5, type: "c" });
      expect(get(first, "topic.st.message_bytes")?.value).toBe(25);
      expect(get(first, "topic.st.channel.ch.message_count")).toMatchObject({ value: 5, type: "c" });
      expect(get(first, "topic.st.channel.ch.depth")).toMatchObject({ value: 5, type: "g" });
      expect(get(first, "topic.st.depth")).toMatchObject({ type: "g" });
      for (const n of ["backend_depth", "in_flight_count", "deferred_count", "clients"]) {
        expect(get(first, `topic.st.channel.ch.${n}`)?.type).toBe("g");
      }
      for (const n of ["requeue_count", "timeout_count"]) expect(get(first, `topic.st.channel.ch.${n}`)).toMatchObject({ value: 0, type: "c" });
      // Ephemeral topics are included by default, names verbatim.
      expect(get(first, "topic.e#ephemeral.channel.c#ephemeral.depth")?.type).toBe("g");
      for (const n of [
        "heap_objects",
        "heap_idle_bytes",
        "heap_in_use_bytes",
        "heap_released_bytes",
        "gc_pause_usec_100",
        "gc_pause_usec_99",
        "gc_pause_usec_95",
        "next_gc_bytes",
      ]) {
        expect(get(first, `mem.${n}`)?.type).toBe("g");
      }
      expect(get(first, "mem.gc_runs")?.type).toBe("c");

      // Second interval: counters are the increase since the first push.
      expect(get(second, "topic.st.message_count")?.value).toBe(3);
      expect(get(second, "topic.st.message_bytes")?.value).toBe(18);
      expect(get(second, "topic.st.channel.ch.message_count")?.value).toBe(3);
      expect(get(second, "topic.st.channel.ch.depth")?.value).toBe(8);
    } finally {
      udp.close();
    }
  });

  it("D-BEH-STATSD: --statsd-exclude-ephemeral and --statsd-mem-stats=false leave those lines out", async () => {
    const udp = dgram.createSocket("udp4");
    const texts: string[] = [];
    udp.on("message", (m) => texts.push(m.toString()));
    await new Promise<void>((r) => udp.bind(0, "127.0.0.1", r));
    try {
      await using d = await startTestNsqd({
        statsd_address: `127.0.0.1:${udp.address().port}`,
        statsd_interval: 500,
        statsd_exclude_ephemeral: true,
        statsd_mem_stats: false,
      });
      d.nsqd.getTopic("keep").getChannel("c#ephemeral");
      d.nsqd.getTopic("gone#ephemeral").getChannel("c");
      await waitFor(() => texts.length > 0, 3000);
      const all = texts.join("");
      expect(all).toContain("topic.keep.depth");
      expect(all).not.toContain("ephemeral");
      expect(all).not.toContain("mem.");
    } finally {
      udp.close();
    }
  });
});

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}
