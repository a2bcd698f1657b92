// The memory FIFO of topics and channels (D-BEH-MEMQUEUE, D-BEH-MEMQUEUE-ZERO):
// order and capacity against an array model, and the packed layout (entries
// kept as bytes behind the first PACK_AFTER) giving back every field of every
// message, with bodies that stay valid and independent of the pushed ones.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { BLOCK_SIZE, MessageQueue, PACK_AFTER } from "../../src/nsqd/message-queue.ts";
import { Message } from "../../src/nsqd/message.ts";

let seq = 0;
function msg(bodyLen = 10, attempts = 0): Message {
  seq++;
  const body = new Uint8Array(bodyLen);
  for (let i = 0; i < bodyLen; i++) body[i] = (seq + i) & 0xff;
  // Halves across the signed range, a nanosecond timestamp beyond 2^53 / 1e3 precision.
  return new Message((seq * 2654435761) | 0, (seq * 40503) ^ 0x80000000, null, body, 1.7e18 + seq * 1_000_003, attempts);
}

/** FNV-1a of the body bytes (cheaper to compare than the bytes of 20 kB bodies). */
function bodyHash(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

/** The fields a queue must give back, as plain values. */
function fields(m: Message) {
  return {
    hi: m.idHi,
    lo: m.idLo,
    raw: m.raw,
    ts: m.timestamp,
    attempts: m.attempts,
    len: m.body.length,
    body: bodyHash(m.body),
    deferMs: m.deferMs,
    diskSeq: m.diskSeq,
    inSide: m.inSide,
  };
}

describe("MessageQueue", () => {
  it("is a FIFO that refuses pushes at capacity", () => {
    const q = new MessageQueue(3);
    const [a, b, c, d, e] = [msg(), msg(), msg(), msg(), msg()];
    expect([q.push(a), q.push(b), q.push(c), q.push(d)]).toEqual([true, true, true, false]);
    expect(q.isFull()).toBe(true);
    expect(q.length).toBe(3);
    expect(q.shift()).toBe(a);
    expect(q.push(e)).toBe(true);
    expect(q.drain()).toEqual([b, c, e]);
    expect(q.shift()).toBeUndefined();
    expect(q.length).toBe(0);
  });

  it("capacity 0 holds nothing (--mem-queue-size=0)", () => {
    const q = new MessageQueue(0);
    expect(q.push(msg())).toBe(false);
    expect(q.length).toBe(0);
    expect(q.shift()).toBeUndefined();
  });

  it("keeps entries behind the first PACK_AFTER as bytes and gives every field back, in order", () => {
    const q = new MessageQueue(10_000);
    const pushed = Array.from({ length: 3000 }, (_, i) => msg(i % 300, i % 7));
    for (const m of pushed) expect(q.push(m)).toBe(true);
    expect(q.packed).toBe(3000 - PACK_AFTER);
    for (let i = 0; i < pushed.length; i++) {
      const got = q.shift()!;
      if (i < PACK_AFTER) expect(got).toBe(pushed[i]);
      else expect(got).not.toBe(pushed[i]);
      expect(fields(got)).toEqual(fields(pushed[i]!));
    }
    expect(q.packed).toBe(0);
    expect(q.length).toBe(0);
  });

  it("copies a packed body: changing the pushed buffer later changes nothing queued", () => {
    const q = new MessageQueue(1000);
    for (let i = 0; i < PACK_AFTER; i++) q.push(msg());
    const shared = new Uint8Array(64).fill(7);
    const m = new Message(1, 2, null, shared.subarray(8, 24), 1e18, 3);
    q.push(m);
    shared.fill(9);
    for (let i = 0; i < PACK_AFTER; i++) q.shift();
    expect(Array.from(q.shift()!.body)).toEqual(new Array(16).fill(7));
  });

  it("never writes over a taken body: views stay valid through later pushes, clear() and new blocks", () => {
    const q = new MessageQueue(100_000);
    for (let i = 0; i < PACK_AFTER; i++) q.push(msg());
    const kept: { m: Message; body: number[] }[] = [];
    // Several blocks' worth, taking some as we go (a consumer holding them in flight).
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 200; i++) q.push(msg(100));
      for (let i = 0; i < 150; i++) {
        const m = q.shift()!;
        kept.push({ m, body: Array.from(m.body) });
      }
      if (round === 20) q.clear();
      if (round === 20) for (let i = 0; i < PACK_AFTER; i++) q.push(msg());
    }
    expect(kept.length * 100).toBeGreaterThan(3 * BLOCK_SIZE);
    for (const k of kept) expect(Array.from(k.m.body)).toEqual(k.body);
  });

  it("keeps no block once every packed entry is taken: packing again starts a new block", () => {
    const q = new MessageQueue(10_000);
    const round = () => {
      for (let i = 0; i < PACK_AFTER + 10; i++) q.push(msg(10));
      const taken = q.drain();
      expect(q.packed).toBe(0);
      return taken[taken.length - 1]!.body.buffer;
    };
    const first = round();
    const second = round();
    expect(second).not.toBe(first);
  });

  it("keeps messages with more state than a queued payload as objects, in their place", () => {
    const q = new MessageQueue(10_000);
    for (let i = 0; i < PACK_AFTER; i++) q.push(msg());
    const raw = Message.withId(new TextEncoder().encode("not-a-hex-id-123"), new Uint8Array([1]), 1e18);
    const fromDisk = msg();
    fromDisk.diskSeq = 12;
    const side = msg();
    side.inSide = true;
    const delayed = msg();
    delayed.deferMs = 500;
    const shutdownCopy = msg();
    shutdownCopy.diskAt = { fileNum: 1, pos: 2 };
    const big = msg(BLOCK_SIZE / 4 + 1);
    const manyAttempts = msg(3, 70_000);
    const special = [raw, fromDisk, side, delayed, shutdownCopy, big, manyAttempts];
    const order: Message[] = [];
    for (const s of special) {
      const plain = msg();
      q.push(plain);
      q.push(s);
      order.push(plain, s);
    }
    expect(q.packed).toBe(special.length);
    for (let i = 0; i < PACK_AFTER; i++) q.shift();
    for (const want of order) {
      const got = q.shift()!;
      if (special.includes(want)) expect(got).toBe(want);
      else expect(fields(got)).toEqual(fields(want));
    }
  });

  it("matches an array model on random push/shift/clear sequences", () => {
    type Op = { op: "push"; len: number; attempts: number } | { op: "shift" } | { op: "clear" };
    // Mostly pushes, clear rare: queues grow past PACK_AFTER between clears.
    const opArb: fc.Arbitrary<Op> = fc
      .tuple(
        fc.integer({ min: 0, max: 999 }),
        fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 20_000 })),
        fc.integer({ min: 0, max: 70_000 }),
      )
      .map(([pick, len, attempts]): Op => (pick < 700 ? { op: "push", len, attempts } : pick < 999 ? { op: "shift" } : { op: "clear" }));
    let packedSeen = 0;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 700 }), fc.array(opArb, { minLength: 400, maxLength: 1500 }), (capacity, ops) => {
        const q = new MessageQueue(capacity);
        const model: Message[] = [];
        for (const o of ops) {
          if (o.op === "push") {
            const m = msg(o.len, o.attempts);
            const ok = model.length < capacity;
            if (ok) model.push(m);
            expect(q.push(m)).toBe(ok);
          } else if (o.op === "shift") {
            const want = model.shift();
            const got = q.shift();
            expect(got === undefined ? undefined : fields(got)).toEqual(want === undefined ? undefined : fields(want));
          } else {
            q.clear();
            model.length = 0;
          }
          expect(q.length).toBe(model.length);
          packedSeen = Math.max(packedSeen, q.packed);
        }
        expect(q.drain().map(fields)).toEqual(model.map(fields));
      }),
      { numRuns: 60, endOnFailure: true },
    );
    // The runs must have reached the packed layout, not only the object head.
    expect(packedSeen).toBeGreaterThan(0);
  });
});

describe("Message.ownBody", () => {
  it("copies a body that is a view into a larger buffer, and leaves an owned one alone", () => {
    const shared = new Uint8Array(100).fill(5);
    const m = new Message(1, 2, null, shared.subarray(10, 20), 1e18);
    m.ownBody();
    expect(m.body.buffer).not.toBe(shared.buffer);
    expect(m.body.buffer.byteLength).toBe(10);
    expect(Array.from(m.body)).toEqual(new Array(10).fill(5));
    const owned = new Uint8Array(10);
    const n = new Message(1, 2, null, owned, 1e18);
    n.ownBody();
    expect(n.body).toBe(owned);
  });
});
