// IdGenerator (D-TCP-MSGID): 16 lowercase hex chars of
// ((tick - epoch) << 22) | (node << 12) | sequence, unique and increasing.
import { afterEach, describe, expect, it, vi } from "vitest";
import fc from "fast-check";
import { IdGenerator, Message, idKey } from "../../src/nsqd/message.ts";
import { IdMap } from "../../src/nsqd/id-map.ts";

const TWEPOCH = 1288834974288n;
const decoder = new TextDecoder();
const hex = (id: Uint8Array) => decoder.decode(id);
const value = (id: Uint8Array) => BigInt(`0x${hex(id)}`);

describe("IdGenerator", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("makes 16 lowercase hex characters", () => {
    const g = new IdGenerator(7);
    for (let i = 0; i < 1000; i++) {
      const id = g.next();
      expect(id.length).toBe(16);
      expect(hex(id)).toMatch(/^[0-9a-f]{16}$/);
    }
  });

  it("100,000 ids are unique and strictly increasing (as numbers and as strings)", () => {
    const g = new IdGenerator(1);
    let prev = -1n;
    let prevText = "";
    const seen = new Set<string>();
    let outOfOrder = 0;
    for (let i = 0; i < 100_000; i++) {
      const id = g.next();
      const v = value(id);
      const t = hex(id);
      if (!(v > prev) || !(t > prevText)) outOfOrder++;
      seen.add(t);
      prev = v;
      prevText = t;
    }
    expect(outOfOrder).toBe(0);
    expect(seen.size).toBe(100_000);
  });

  it("carries the node id in bits 12..21 and the 2^20 ns tick in the bits above", () => {
    for (const node of [0, 1, 513, 1023]) {
      const before = (BigInt(Date.now()) * 1_000_000n) >> 20n;
      const v = value(new IdGenerator(node).next());
      const after = (BigInt(Date.now()) * 1_000_000n) >> 20n;
      expect((v >> 12n) & 1023n).toBe(BigInt(node));
      const tick = (v >> 22n) + TWEPOCH;
      expect(tick >= before && tick <= after).toBe(true);
      expect(v & 4095n).toBe(0n); // first id of a tick: sequence 0
    }
  });

  it("counts the sequence within one tick and borrows the next tick after 4096 ids", () => {
    vi.useFakeTimers();
    vi.setSystemTime(1_700_000_000_000);
    const g = new IdGenerator(5);
    const ids = Array.from({ length: 5000 }, () => value(g.next()));
    const tick0 = ids[0]! >> 22n;
    expect(ids.slice(0, 4096).every((v, i) => v >> 22n === tick0 && (v & 4095n) === BigInt(i))).toBe(true);
    expect(ids[4096]! >> 22n).toBe(tick0 + 1n);
    expect(ids[4096]! & 4095n).toBe(0n);
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    expect(ids.every((v) => ((v >> 12n) & 1023n) === 5n)).toBe(true);
  });

  it("stays increasing when the clock goes backwards", () => {
    vi.useFakeTimers();
    vi.setSystemTime(1_700_000_010_000);
    const g = new IdGenerator(2);
    const a = value(g.next());
    vi.setSystemTime(1_700_000_000_000);
    const b = value(g.next());
    expect(b > a).toBe(true);
  });

  it("refuses node ids outside [0, 1024)", () => {
    for (const bad of [-1, 1024, 1.5, Number.NaN]) expect(() => new IdGenerator(bad)).toThrow(RangeError);
  });

  it("idKey is a 16-character key that tells ids apart", () => {
    const g = new IdGenerator(3);
    const a = g.next();
    const b = g.next();
    expect(idKey(a)).toBe(hex(a));
    expect(idKey(a)).not.toBe(idKey(b));
  });
});

describe("Message ids as two 32-bit halves, and IdMap", () => {
  const enc = new TextEncoder();

  it("an id's 16 hex bytes go to two halves and come back byte for byte", () => {
    const g = new IdGenerator(1023);
    for (let i = 0; i < 2000; i++) {
      const bytes = g.next();
      const m = Message.withId(bytes, new Uint8Array(0), 0);
      expect(m.raw).toBeNull();
      expect(hex(m.id)).toBe(hex(bytes));
    }
    for (const text of ["0000000000000000", "ffffffffffffffff", "8000000000000000", "7fffffff80000000"]) {
      expect(hex(Message.withId(enc.encode(text), new Uint8Array(0), 0).id)).toBe(text);
    }
  });

  it("an id that is not lowercase hex (a file from elsewhere) keeps its bytes", () => {
    for (const text of ["ABCDEF0123456789", "not-a-hex-id!!!!", "0123456789abcdeG"]) {
      const m = Message.withId(enc.encode(text), new Uint8Array(0), 0);
      expect(m.raw).not.toBeNull();
      expect(hex(m.id)).toBe(text);
    }
  });

  it("IdMap finds, refuses and removes by id, hex or not, with many ids sharing buckets", () => {
    const map = new IdMap();
    const g = new IdGenerator(3);
    const all: Message[] = [];
    for (let i = 0; i < 5000; i++) all.push(Message.withId(g.next(), new Uint8Array(0), i));
    const odd = Message.withId(enc.encode("Z123456789abcdef"), new Uint8Array(0), -1);
    all.push(odd);
    for (const m of all) map.add(m);
    expect(map.size).toBe(5001);
    for (const m of all) expect(map.getById(m.id)).toBe(m);
    expect(map.getById(enc.encode("0000000000000000"))).toBeUndefined();
    expect(map.getById(enc.encode("z123456789abcdef"))).toBeUndefined();
    for (const m of all.slice(0, 2500)) expect(map.delete(m)).toBe(true);
    expect(map.delete(all[0]!)).toBe(false);
    expect(map.size).toBe(2501);
    for (const m of all.slice(0, 2500)) expect(map.getById(m.id)).toBeUndefined();
    for (const m of all.slice(2500)) expect(map.getById(m.id)).toBe(m);
    expect([...map.values()].length).toBe(2501);
    map.clear();
    expect(map.size).toBe(0);
    expect(map.getById(odd.id)).toBeUndefined();
  });

  it("IdMap agrees with a Map model through growth and shrinking (random adds, deletes, lookups)", () => {
    const g = new IdGenerator(9);
    const pool: Message[] = [];
    for (let i = 0; i < 3000; i++) pool.push(Message.withId(g.next(), new Uint8Array(0), i));
    // Ids that are not hex share their hashed halves' buckets with nothing in particular.
    for (let i = 0; i < 50; i++) pool.push(Message.withId(enc.encode(`x${String(i).padStart(15, "-")}`), new Uint8Array(0), i));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom("add", "add", "delete", "bulkDelete", "clear"), fc.nat(pool.length - 1)), { maxLength: 400 }), (ops) => {
        const map = new IdMap();
        const model = new Map<Message, true>();
        let start = 0;
        for (const [op, i] of ops) {
          const m = pool[i]!;
          if (op === "add") {
            // A run of adds makes the table grow past a few resizes.
            for (let k = 0; k < 40; k++) {
              const x = pool[(i + k) % pool.length]!;
              if (!model.has(x)) {
                map.add(x);
                model.set(x, true);
              }
            }
          } else if (op === "delete") {
            expect(map.delete(m)).toBe(model.delete(m));
          } else if (op === "bulkDelete") {
            // Emptying most of it makes it shrink.
            for (const x of [...model.keys()].slice(start % 3)) {
              expect(map.delete(x)).toBe(true);
              model.delete(x);
            }
            start++;
          } else {
            map.clear();
            model.clear();
          }
          expect(map.size).toBe(model.size);
          expect(map.getById(m.id)).toBe(model.has(m) ? m : undefined);
        }
        expect(new Set(map.values())).toEqual(new Set(model.keys()));
        for (const x of model.keys()) expect(map.getLike(x)).toBe(x);
      }),
      { numRuns: 150 },
    );
  });
});
