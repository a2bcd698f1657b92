// G-CLEANSHUTDOWN / D-BEH-SHUTDOWN / D-BEH-DISKQUEUE / K-DEFER: with a tiny
// memory queue most messages live on disk; a consumer holds some in flight,
// some are deferred; SIGTERM; a new process on the same --data-path delivers
// every message not finished before the restart, and keeps the deferred ones
// deferred until their due time (the original delivers them at once).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rmSync } from "node:fs";
import { RUNTIMES } from "../helpers/cli.ts";
import { FrameType, decodeMessagePayload, encodeDpub, encodeFin, encodeMpub, encodeRdy, encodeSub } from "../../src/protocol/frames.ts";
import { ensureDist, RawConnection, startNsqd, tempDir, text, utf8 } from "./harness.ts";

const TOTAL = 50_000;
const DEFERRED = 1_000;
const BATCH = 1_000;
const HELD = 200; // delivered before the restart
const FINISHED = 100; // of which finished before the restart

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Reads message frames, FINs each, until `done()`; FINs go out in one write per burst. */
async function consume(c: RawConnection, onMessage: (body: string) => void, done: () => boolean, timeoutMs: number): Promise<void> {
  const fins: Uint8Array[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    const f = await c.next(Math.max(1, deadline - Date.now()));
    if (f === null) throw new Error("connection closed while consuming");
    if (f.type !== FrameType.Message) throw new Error(`unexpected frame ${f.type} ${f.text}`);
    const m = decodeMessagePayload(f.data);
    onMessage(text(m.body));
    fins.push(encodeFin(m.id.slice()));
    if (c.pending.length === 0 || fins.length >= 500) c.send(concat(fins.splice(0)));
  }
  if (fins.length > 0) c.send(concat(fins));
}

describe.each(RUNTIMES)("nsqd restart on %s", (rt) => {
  let started = 0;
  let dataPath: string;

  beforeAll(async () => {
    await ensureDist([rt]);
    started = Date.now();
    dataPath = tempDir("nsq-restart-");
  });

  afterAll(() => {
    rmSync(dataPath, { recursive: true, force: true });
    if (started > 0) console.log(`[timing] restart suite on ${rt}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  it(`G-CLEANSHUTDOWN: ${TOTAL} messages with --mem-queue-size=100, in flight and deferred, survive SIGTERM`, async () => {
    const topic = "persist";
    const expected = new Set<string>();
    const finishedBefore = new Set<string>();
    {
      await using first = await startNsqd(rt, { dataPath, args: ["--mem-queue-size=100"] });
      await using consumer = await RawConnection.open(first.tcpPort);
      consumer.send(encodeSub(topic, "c"));
      await consumer.expectResponse("OK");

      await using producer = await RawConnection.open(first.tcpPort);
      const plain = TOTAL - DEFERRED;
      let commands = 0;
      for (let i = 0; i < plain; i += BATCH) {
        const bodies: Uint8Array[] = [];
        for (let j = i; j < Math.min(i + BATCH, plain); j++) {
          const body = `m-${j}`;
          expected.add(body);
          bodies.push(utf8(body));
        }
        producer.send(encodeMpub(topic, bodies));
        commands++;
      }
      for (let j = plain; j < TOTAL; j++) {
        const body = `m-${j}`;
        expected.add(body);
        producer.send(encodeDpub(topic, 600_000, utf8(body))); // far beyond the test: still deferred at SIGTERM
        commands++;
      }
      for (let i = 0; i < commands; i++) await producer.expectResponse("OK", 30_000);
      expect(expected.size).toBe(TOTAL);

      // Take HELD messages in flight; finish FINISHED of them, keep the rest.
      consumer.send(encodeRdy(HELD));
      const held: Uint8Array[] = [];
      const heldBodies: string[] = [];
      while (held.length < HELD) {
        const f = await consumer.next(10_000);
        expect(f?.type).toBe(FrameType.Message);
        const m = decodeMessagePayload(f!.data);
        held.push(m.id.slice());
        heldBodies.push(text(m.body));
      }
      // The deferred ones are still waiting (600 s), so none was delivered.
      expect(heldBodies.filter((b) => Number(b.slice(2)) >= plain)).toEqual([]);
      for (let i = 0; i < FINISHED; i++) finishedBefore.add(heldBodies[i]!);
      consumer.send(encodeRdy(0));
      consumer.send(concat(held.slice(0, FINISHED).map(encodeFin)));
      // An unknown id answers E_FIN_FAILED (non-fatal) after the FINs before it
      // ran. Messages sent before RDY 0 took effect stay in flight too.
      consumer.send("FIN 0000000000000000\n");
      let ack = await consumer.next(10_000);
      while (ack?.type === FrameType.Message) ack = await consumer.next(10_000);
      expect(ack?.text).toBe("E_FIN_FAILED FIN 0000000000000000 failed ID not in flight");

      expect(await first.stop()).toBe(0);
      expect(await consumer.closesWithin(5_000)).toBe(true);
    }

    await using second = await startNsqd(rt, { dataPath, args: ["--mem-queue-size=100"] });
    await using c = await RawConnection.open(second.tcpPort);
    c.send(encodeSub(topic, "c"));
    await c.expectResponse("OK");
    c.send(encodeRdy(2500));
    const after = new Map<string, number>();
    const want = TOTAL - FINISHED - DEFERRED;
    await consume(
      c,
      (body) => after.set(body, (after.get(body) ?? 0) + 1),
      () => after.size >= want,
      60_000,
    );

    const unexpected = [...after.keys()].filter((b) => !expected.has(b));
    expect(unexpected).toEqual([]);
    const redeliveredFinished = [...finishedBefore].filter((b) => after.has(b));
    expect(redeliveredFinished).toEqual([]);
    const all = new Set([...finishedBefore, ...after.keys()]);
    expect(all.size).toBe(TOTAL - DEFERRED);
    // The deferred ones are still waiting for their due time (600 s after they were published).
    const plain = TOTAL - DEFERRED;
    expect([...after.keys()].filter((b) => Number(b.slice(2)) >= plain)).toEqual([]);
    const stats = (await (await fetch(`http://127.0.0.1:${second.httpPort}/stats?format=json&topic=${topic}`)).json()) as {
      topics: Array<{ channels: Array<{ deferred_count: number; depth: number }> }>;
    };
    expect(stats.topics[0]!.channels[0]!.deferred_count).toBe(DEFERRED);
    // Nothing else is left: no duplicate arrives once everything was taken.
    const extra = await c.next(300).catch(() => null);
    expect(extra).toBeNull();
    const duplicates = [...after.values()].filter((n) => n > 1).length;
    expect(duplicates).toBe(0);
  }, 120_000);
});
