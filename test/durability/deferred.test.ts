// Deferred and in-flight messages across restarts (D-BEH-DEFER, D-BEH-INFLIGHT,
// D-BEH-SHUTDOWN; nsq issues #1107, #674, #871, #1375, #1386, #1459):
// - a DPUB, and a message REQueued with a delay, still deferred when nsqd stops
//   (SIGTERM, any --mem-queue-size; SIGKILL with --mem-queue-size=0) are
//   delivered after the restart at their original due time, not at once;
// - with --mem-queue-size=0 a message delivered and not yet finished when nsqd
//   is killed is delivered again after the restart;
// - after a SIGTERM the data directory still holds every message in the
//   original's layout (the original delivers the deferred ones at once).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RUNTIMES } from "../helpers/cli.ts";
import { ensureDist } from "../integration/harness.ts";
import { NsqdProcess, drain } from "../../scripts/crash-lib.ts";
import {
  FrameReader,
  FrameType,
  MAGIC_V2,
  decodeMessagePayload,
  encodeDpub,
  encodeMpub,
  encodeRdy,
  encodeReq,
  encodeSub,
  type Frame,
} from "../../src/protocol/frames.ts";
import { independentRead } from "../nsqd/layout.ts";
import { connect, type Socket } from "node:net";

const DELAY = 3_000;
const enc = new TextEncoder();
const dec = new TextDecoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw V2 connection that records frames. */
class Raw {
  readonly frames: Frame[] = [];
  readonly #reader = new FrameReader();
  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      for (const f of this.#reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length))) {
        if (f.type === FrameType.Response && dec.decode(f.data) === "_heartbeat_") socket.write("NOP\n");
        else this.frames.push(f);
      }
    });
    socket.on("error", () => {});
  }
  static open(port: number): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: "127.0.0.1", port }, () => {
        s.write(MAGIC_V2);
        resolve(new Raw(s));
      });
      s.once("error", reject);
    });
  }
  send(b: Uint8Array): void {
    this.socket.write(b);
  }
  async waitFor(n: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < n) {
      if (Date.now() > deadline) throw new Error(`only ${this.frames.length} of ${n} frames within ${timeoutMs} ms`);
      await sleep(10);
    }
  }
  messages(): Array<{ body: string; id: Uint8Array; at: number }> {
    return this.frames
      .filter((f) => f.type === FrameType.Message)
      .map((f) => {
        const m = decodeMessagePayload(f.data);
        return { body: dec.decode(m.body), id: m.id.slice(), at: 0 };
      });
  }
  close(): void {
    this.socket.destroy();
  }
}

/** Consumes for `ms`, recording when each body arrived (FIN at once). */
async function collect(port: number, topic: string, channel: string, ms: number): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  const c = await Raw.open(port);
  c.socket.on("data", () => {
    for (const f of c.frames.splice(0)) {
      if (f.type !== FrameType.Message) continue;
      const m = decodeMessagePayload(f.data);
      const body = dec.decode(m.body);
      if (!seen.has(body)) seen.set(body, Date.now());
      c.send(enc.encode(`FIN ${dec.decode(m.id)}\n`));
    }
  });
  c.send(encodeSub(topic, channel));
  c.send(encodeRdy(100));
  await sleep(ms);
  c.close();
  return seen;
}

interface Scenario {
  deferredAt: number;
  deferred: string[];
  inFlight: string[];
  plain: string[];
}

/**
 * On one channel: 5 DPUBs (DELAY), 5 messages taken and REQueued with DELAY,
 * 5 messages taken and held in flight, 5 plain messages left queued.
 */
async function prepare(nsqd: NsqdProcess, topic: string): Promise<Scenario> {
  const producer = await Raw.open(nsqd.tcpPort);
  const consumer = await Raw.open(nsqd.tcpPort);
  consumer.send(encodeSub(topic, "ch"));
  await consumer.waitFor(1);
  const requeued = Array.from({ length: 5 }, (_, i) => `req-${i}`);
  const held = Array.from({ length: 5 }, (_, i) => `held-${i}`);
  const plain = Array.from({ length: 5 }, (_, i) => `plain-${i}`);
  producer.send(
    encodeMpub(
      topic,
      [...requeued, ...held].map((b) => enc.encode(b)),
    ),
  );
  await producer.waitFor(1);
  consumer.send(encodeRdy(10));
  await consumer.waitFor(11);
  const taken = consumer.messages();
  consumer.send(encodeRdy(0));
  const deferredAt = Date.now();
  for (const m of taken) if (m.body.startsWith("req-")) consumer.send(encodeReq(m.id, DELAY));
  await sleep(200); // RDY 0 and the REQs are handled before anything else is published
  const dpubs = Array.from({ length: 5 }, (_, i) => `dpub-${i}`);
  for (const b of dpubs) producer.send(encodeDpub(topic, DELAY, enc.encode(b)));
  producer.send(
    encodeMpub(
      topic,
      plain.map((b) => enc.encode(b)),
    ),
  );
  await producer.waitFor(1 + dpubs.length + 1);
  for (const f of producer.frames) expect(dec.decode(f.data)).toBe("OK");
  const stats = (await nsqd.stats(topic))!;
  expect(stats.channels[0]).toMatchObject({ deferred_count: 10, in_flight_count: 5, depth: 5 });
  producer.close();
  // The consumer stays connected (its in-flight messages stay in flight) until the process goes.
  return { deferredAt, deferred: [...dpubs, ...requeued], inFlight: held, plain };
}

/** After the restart: deferred ones not before their due time, all of them by due + 2 s; the rest at once. */
async function verify(nsqd: NsqdProcess, topic: string, s: Scenario, inFlightExpected: boolean): Promise<void> {
  const stats = (await nsqd.stats(topic))!;
  expect(stats.channels[0]!.deferred_count).toBe(10);
  const due = s.deferredAt + DELAY;
  const seen = await collect(nsqd.tcpPort, topic, "ch", Math.max(0, due - Date.now()) + 2_500);
  for (const b of s.deferred) {
    expect(seen.has(b), `${b} delivered`).toBe(true);
    expect(seen.get(b)!, `${b} not before its due time`).toBeGreaterThanOrEqual(due - 250);
  }
  for (const b of s.plain) expect(seen.get(b)!).toBeLessThan(due);
  if (inFlightExpected) for (const b of s.inFlight) expect(seen.get(b), `${b} delivered again`).toBeLessThan(due);
}

describe.each(RUNTIMES)("deferred and in-flight messages across restarts on %s", (rt) => {
  let dir = "";
  beforeAll(async () => {
    await ensureDist([rt]);
    dir = mkdtempSync(join(tmpdir(), "nsq-defer-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("SIGTERM (default --mem-queue-size): deferred messages keep their due time; the files hold every message in the original's layout", async () => {
    const dataPath = join(dir, "term");
    let nsqd = await NsqdProcess.start(rt, dataPath);
    const s = await prepare(nsqd, "t");
    expect((await nsqd.stop("SIGTERM")).code).toBe(0);
    // What the original would read: every message, deferred ones included.
    const bodies = independentRead(dataPath, "t:ch").records.map((r) => dec.decode(r.subarray(26)));
    expect(bodies.sort()).toEqual([...s.deferred, ...s.inFlight, ...s.plain].sort());
    expect(existsSync(join(dataPath, "t:ch.diskqueue.deferred.dat"))).toBe(true);
    nsqd = await NsqdProcess.start(rt, dataPath);
    try {
      await verify(nsqd, "t", s, true);
    } finally {
      await nsqd.stop("SIGTERM");
    }
  }, 60_000);

  it("SIGKILL with --mem-queue-size=0: deferred messages keep their due time, in-flight ones are delivered again", async () => {
    const dataPath = join(dir, "kill");
    const flags = ["--mem-queue-size=0"];
    let nsqd = await NsqdProcess.start(rt, dataPath, flags);
    const s = await prepare(nsqd, "t");
    await nsqd.stop("SIGKILL");
    nsqd = await NsqdProcess.start(rt, dataPath, flags);
    try {
      await verify(nsqd, "t", s, true);
      // Nothing else comes back: everything was finished.
      const rest = await drain(nsqd, "t", "ch", { idleMs: 500 });
      expect([...rest.keys()]).toEqual([]);
    } finally {
      await nsqd.stop("SIGTERM");
    }
  }, 60_000);
});
