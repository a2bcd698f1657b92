// G-BOUNDEDMEM / D-BEH-MEMQUEUE: a million messages to a topic without
// channels stay within --mem-queue-size in memory and go to disk beyond it, so
// the resident memory of the process stays bounded while depth reaches 1,000,000.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RUNTIMES } from "../helpers/cli.ts";
import { encodeMpub } from "../../src/protocol/frames.ts";
import { ensureDist, RawConnection, rssBytes, startNsqd } from "./harness.ts";

const TOTAL = 1_000_000;
const BODY_SIZE = 100;
const BATCH = 1_000; // ~104 KB per MPUB
const WINDOW = 16; // MPUBs in flight at once
const RSS_LIMIT = 200 * 1024 * 1024;

/** Topic depth from /stats?format=json, or null while the HTTP API cannot tell. */
async function statsDepth(httpPort: number, topic: string): Promise<number | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${httpPort}/stats?format=json&topic=${topic}`);
    if (res.status !== 200) return null;
    const stats = (await res.json()) as { topics?: { topic_name: string; depth: number }[] };
    return stats.topics?.find((t) => t.topic_name === topic)?.depth ?? null;
  } catch {
    return null;
  }
}

describe.each(RUNTIMES)("nsqd memory bound on %s", (rt) => {
  it(`G-BOUNDEDMEM: ${TOTAL} messages of ${BODY_SIZE} bytes, no consumer, --mem-queue-size=10000: RSS < 200 MB`, async () => {
    await ensureDist([rt]);
    const started = Date.now();
    const topic = "bulk";
    await using nsqd = await startNsqd(rt, { args: ["--mem-queue-size=10000"] });
    let peak = rssBytes(nsqd.pid);
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(nsqd.pid))), 50);
    try {
      await using c = await RawConnection.open(nsqd.tcpPort);
      // One batch, reused: each message body is 100 bytes with a distinct prefix.
      const bodies: Uint8Array[] = [];
      for (let i = 0; i < BATCH; i++) {
        const b = new Uint8Array(BODY_SIZE).fill(0x61);
        b.set(new TextEncoder().encode(String(i)));
        bodies.push(b);
      }
      const mpub = encodeMpub(topic, bodies);
      const batches = TOTAL / BATCH;
      let sent = 0;
      let acked = 0;
      while (acked < batches) {
        while (sent < batches && sent - acked < WINDOW) {
          c.send(mpub);
          sent++;
        }
        await c.expectResponse("OK", 30_000);
        acked++;
      }
      const depth = await statsDepth(nsqd.httpPort, topic);
      if (depth !== null) expect(depth).toBe(TOTAL);
      // Let the process settle, then sample once more after publishing.
      await new Promise((r) => setTimeout(r, 500));
      peak = Math.max(peak, rssBytes(nsqd.pid));
      const after = rssBytes(nsqd.pid);
      console.log(`[memory] ${rt}: peak RSS ${(peak / 1048576).toFixed(1)} MB, after ${(after / 1048576).toFixed(1)} MB, /stats depth ${depth ?? "n/a"}`);
      expect(after).toBeGreaterThan(0);
      expect(peak).toBeLessThan(RSS_LIMIT);
    } finally {
      clearInterval(sampler);
    }
    // D-BEH-SHUTDOWN writes the memory queue to disk: the topic's disk queue
    // then holds all of them (D-BEH-DISKQUEUE metadata: first line = depth).
    expect(await nsqd.stop()).toBe(0);
    const meta = readFileSync(join(nsqd.dataPath, `${topic}.diskqueue.meta.dat`), "utf8");
    expect(Number(meta.split("\n")[0])).toBe(TOTAL);
    console.log(`[timing] memory suite on ${rt}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 180_000);
});
