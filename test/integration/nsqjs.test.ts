// Conformance: nsqjs (npm, written by others) drives `nsq nsqd` as a process.
// Proves G-MULTICAST (D-BEH-FANOUT, D-BEH-CHANNEL-DIST), D-BEH-REQUEUE,
// D-BEH-INFLIGHT (timeout redelivery with attempts counted, D-TCP-MSG) and
// D-TCP-DPUB / D-BEH-DEFER through an independent client.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import nsq, { type Message, type Reader, type Writer } from "nsqjs";
import { RUNTIMES } from "../helpers/cli.ts";
import { ensureDist, startNsqd, waitFor, type NsqdProcess } from "./harness.ts";

const TOTAL = 10_000;
const BATCH = 500;

function openWriter(port: number): Promise<Writer> {
  const w = new nsq.Writer("127.0.0.1", port);
  return new Promise((resolve, reject) => {
    w.once("ready", () => resolve(w));
    w.once("error", reject);
    w.connect();
  });
}

function publish(w: Writer, topic: string, msgs: string | string[]): Promise<void> {
  return new Promise((resolve, reject) => w.publish(topic, msgs, (e) => (e ? reject(e) : resolve())));
}

function deferPublish(w: Writer, topic: string, msg: string, delayMs: number): Promise<void> {
  return new Promise((resolve, reject) => w.deferPublish(topic, [msg], delayMs, (e) => (e ? reject(e) : resolve())));
}

function openReader(port: number, topic: string, channel: string, options: { maxInFlight?: number; messageTimeout?: number } = {}): Promise<Reader> {
  const r = new nsq.Reader(topic, channel, { nsqdTCPAddresses: [`127.0.0.1:${port}`], maxInFlight: 1, ...options });
  return new Promise((resolve, reject) => {
    r.once("ready", () => resolve(r));
    r.once("error", reject);
    r.connect();
  });
}

describe.each(RUNTIMES)("nsqjs against nsqd on %s", (rt) => {
  let nsqd: NsqdProcess;
  const closers: { close(): void }[] = [];
  let started = 0;
  // Deliveries of the fan-out test whose attempts were not 1 ("channel:body:attempts").
  const fanoutAttempts: string[] = [];
  let fanoutDone = false;

  beforeAll(async () => {
    await ensureDist([rt]);
    started = Date.now();
    nsqd = await startNsqd(rt);
  });

  afterAll(async () => {
    for (const c of closers.splice(0)) c.close();
    await nsqd?.[Symbol.asyncDispose]();
    if (started > 0) console.log(`[timing] nsqjs suite on ${rt}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  it(`G-MULTICAST: ${TOTAL} messages, two readers share channel a exactly once, channel b gets all`, async () => {
    const topic = "fanout";
    type Seen = { id: string; reader: number };
    const onA = new Map<string, Seen[]>();
    const onB = new Map<string, string[]>();
    const perReader = [0, 0];

    const readers: Reader[] = [];
    for (const [i, channel] of [
      [0, "a"],
      [1, "a"],
      [2, "b"],
    ] as const) {
      const r = await openReader(nsqd.tcpPort, topic, channel, { maxInFlight: 100 });
      closers.push(r);
      readers.push(r);
      r.on("message", (m: Message) => {
        const body = m.body.toString();
        if (channel === "a") {
          perReader[i]!++;
          const list = onA.get(body) ?? [];
          list.push({ id: m.id, reader: i });
          onA.set(body, list);
        } else {
          const list = onB.get(body) ?? [];
          list.push(m.id);
          onB.set(body, list);
        }
        if (m.attempts !== 1) fanoutAttempts.push(`${channel}:${body}:${m.attempts}`);
        m.finish();
      });
    }
    const w = await openWriter(nsqd.tcpPort);
    closers.push(w);
    const expected: string[] = [];
    for (let i = 0; i < TOTAL; i++) expected.push(`msg-${i}-${"x".repeat(i % 50)}`);
    for (let i = 0; i < TOTAL; i += BATCH) await publish(w, topic, expected.slice(i, i + BATCH)); // MPUB

    const count = (m: Map<string, unknown[]>) => [...m.values()].reduce((n, l) => n + l.length, 0);
    await waitFor(() => (count(onA) >= TOTAL && count(onB) >= TOTAL ? true : undefined), 30_000, "all messages on both channels");
    // Nothing more may arrive: give late duplicates a moment to show up.
    await new Promise((r) => setTimeout(r, 200));

    expect(count(onA)).toBe(TOTAL);
    expect(count(onB)).toBe(TOTAL);
    expect(new Set(onA.keys())).toEqual(new Set(expected));
    expect(new Set(onB.keys())).toEqual(new Set(expected));
    const dupA = [...onA.entries()].filter(([, l]) => l.length !== 1);
    expect(dupA).toEqual([]);
    // Ids: unique, 16 chars, and the same id for a message on both channels (one message, two copies).
    const idsA = new Set([...onA.values()].map((l) => l[0]!.id));
    expect(idsA.size).toBe(TOTAL);
    for (const [body, l] of onA) {
      expect(l[0]!.id).toMatch(/^[0-9a-f]{16}$/);
      expect(onB.get(body)).toEqual([l[0]!.id]);
    }
    // D-BEH-CHANNEL-DIST: both competing readers got a real share.
    expect(perReader[0]! + perReader[1]!).toBe(TOTAL);
    expect(Math.min(perReader[0]!, perReader[1]!)).toBeGreaterThan(TOTAL / 10);
    fanoutDone = true;
  }, 60_000);

  // Every channel's copy is taken before any channel delivers and counts an attempt.
  it("D-TCP-MSG / D-BEH-FANOUT: the first delivery on every channel carries attempts 1", () => {
    expect(fanoutDone).toBe(true);
    expect(fanoutAttempts.slice(0, 5)).toEqual([]);
  });

  it("D-BEH-REQUEUE: REQ with a delay redelivers after the delay with attempts 2", async () => {
    const topic = "requeue";
    const deliveries: { attempts: number; at: number; id: string }[] = [];
    const r = await openReader(nsqd.tcpPort, topic, "c");
    closers.push(r);
    r.on("message", (m: Message) => {
      deliveries.push({ attempts: m.attempts, at: Date.now(), id: m.id });
      if (m.attempts === 1) m.requeue(400, false);
      else m.finish();
    });
    const w = await openWriter(nsqd.tcpPort);
    closers.push(w);
    await publish(w, topic, "again");
    await waitFor(() => (deliveries.length >= 2 ? true : undefined), 10_000, "the redelivery");
    await new Promise((r) => setTimeout(r, 150));
    expect(deliveries.map((d) => d.attempts)).toEqual([1, 2]);
    expect(deliveries[1]!.id).toBe(deliveries[0]!.id);
    expect(deliveries[1]!.at - deliveries[0]!.at).toBeGreaterThanOrEqual(390);
  });

  it("D-BEH-INFLIGHT: an unanswered message times out after msg_timeout and comes back with attempts 2", async () => {
    const topic = "timeout";
    const deliveries: { attempts: number; at: number; id: string }[] = [];
    const r = await openReader(nsqd.tcpPort, topic, "c", { messageTimeout: 1000 });
    closers.push(r);
    r.on("message", (m: Message) => {
      deliveries.push({ attempts: m.attempts, at: Date.now(), id: m.id });
      if (m.attempts >= 2) m.finish(); // the first delivery is left unanswered
    });
    const w = await openWriter(nsqd.tcpPort);
    closers.push(w);
    await publish(w, topic, "slow");
    await waitFor(() => (deliveries.length >= 2 ? true : undefined), 10_000, "the redelivery after the timeout");
    await new Promise((r) => setTimeout(r, 150));
    expect(deliveries.map((d) => d.attempts)).toEqual([1, 2]);
    expect(deliveries[1]!.id).toBe(deliveries[0]!.id);
    const gap = deliveries[1]!.at - deliveries[0]!.at;
    expect(gap).toBeGreaterThanOrEqual(990);
    expect(gap).toBeLessThan(3000);
  });

  it("D-TCP-DPUB: a deferred publish arrives after its delay, not before", async () => {
    const topic = "deferred";
    const arrivals: { body: string; at: number; attempts: number }[] = [];
    const r = await openReader(nsqd.tcpPort, topic, "c", { maxInFlight: 10 });
    closers.push(r);
    r.on("message", (m: Message) => {
      arrivals.push({ body: m.body.toString(), at: Date.now(), attempts: m.attempts });
      m.finish();
    });
    const w = await openWriter(nsqd.tcpPort);
    closers.push(w);
    const sentAt = Date.now();
    await deferPublish(w, topic, "later", 1500);
    await publish(w, topic, "now");
    await waitFor(() => (arrivals.length >= 2 ? true : undefined), 10_000, "the deferred message");
    expect(arrivals.map((a) => a.body)).toEqual(["now", "later"]);
    const later = arrivals[1]!;
    expect(later.at - sentAt).toBeGreaterThanOrEqual(1500);
    expect(later.at - sentAt).toBeLessThan(4000);
    expect(later.attempts).toBe(1);
  });
});
