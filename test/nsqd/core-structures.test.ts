// Ring (D-BEH-MEMQUEUE's memory FIFO) and MinHeap (the in-flight and deferred
// heaps of D-BEH-INFLIGHT / D-BEH-DEFER), checked against plain-array models
// on random operation sequences.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Ring } from "../../src/nsqd/ring.ts";
import { MinHeap, type HeapItem } from "../../src/nsqd/heap.ts";

describe("Ring", () => {
  it("is a FIFO that refuses pushes at capacity", () => {
    const r = new Ring<number>(3);
    expect([r.push(1), r.push(2), r.push(3), r.push(4)]).toEqual([true, true, true, false]);
    expect(r.isFull()).toBe(true);
    expect(r.length).toBe(3);
    expect(r.shift()).toBe(1);
    expect(r.push(5)).toBe(true);
    expect(r.drain()).toEqual([2, 3, 5]);
    expect(r.shift()).toBeUndefined();
    expect(r.length).toBe(0);
  });

  it("capacity 0 holds nothing (--mem-queue-size=0, D-BEH-MEMQUEUE-ZERO)", () => {
    const r = new Ring<string>(0);
    expect(r.push("x")).toBe(false);
    expect(r.length).toBe(0);
    expect(r.shift()).toBeUndefined();
  });

  it("keeps order across growth and wrap-around (10,000 capacity, lazily grown)", () => {
    const r = new Ring<number>(10_000);
    let next = 0;
    let expected = 0;
    // Interleave bursts of pushes and shifts so the head wraps while the array grows.
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 150 && r.push(next); i++) next++;
      for (let i = 0; i < 70; i++) expect(r.shift()).toBe(expected++);
    }
    expect(r.length).toBe(next - expected);
    for (const v of r.drain()) expect(v).toBe(expected++);
    expect(expected).toBe(next);
  });

  it("matches an array model on random push/shift/clear sequences", () => {
    type Op = { op: "push"; v: number } | { op: "shift" } | { op: "clear" };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      { weight: 6, arbitrary: fc.integer().map((v) => ({ op: "push" as const, v })) },
      { weight: 4, arbitrary: fc.constant({ op: "shift" as const }) },
      { weight: 1, arbitrary: fc.constant({ op: "clear" as const }) },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.array(opArb, { maxLength: 600 }), (capacity, ops) => {
        const ring = new Ring<number>(capacity);
        const model: number[] = [];
        for (const o of ops) {
          if (o.op === "push") {
            const ok = model.length < capacity;
            if (ok) model.push(o.v);
            expect(ring.push(o.v)).toBe(ok);
          } else if (o.op === "shift") {
            expect(ring.shift()).toBe(model.shift());
          } else {
            ring.clear();
            model.length = 0;
          }
          expect(ring.length).toBe(model.length);
        }
        expect(ring.drain()).toEqual(model);
      }),
      { numRuns: 300 },
    );
  });
});

class Item implements HeapItem {
  heapIndex = -1;
  constructor(
    public key: number,
    public readonly name: number,
  ) {}
}

describe("MinHeap", () => {
  it("pops in priority order and tracks heapIndex", () => {
    const h = new MinHeap<Item>((i) => i.key);
    const items = [5, 1, 4, 1, 9, 2, 6].map((k, n) => new Item(k, n));
    for (const i of items) h.push(i);
    expect(h.length).toBe(7);
    expect(h.peek()!.key).toBe(1);
    const keys: number[] = [];
    for (let i = h.pop(); i !== undefined; i = h.pop()) {
      expect(i.heapIndex).toBe(-1);
      keys.push(i.key);
    }
    expect(keys).toEqual([1, 1, 2, 4, 5, 6, 9]);
  });

  it("removes an arbitrary item (FIN of an in-flight message) and refuses a foreign one", () => {
    const h = new MinHeap<Item>((i) => i.key);
    const items = Array.from({ length: 20 }, (_, n) => new Item((n * 7) % 20, n));
    for (const i of items) h.push(i);
    expect(h.remove(items[3]!)).toBe(true);
    expect(h.remove(items[3]!)).toBe(false);
    expect(h.remove(new Item(0, 99))).toBe(false);
    const keys: number[] = [];
    for (let i = h.pop(); i !== undefined; i = h.pop()) keys.push(i.key);
    expect(keys).toEqual(
      items
        .filter((_, n) => n !== 3)
        .map((i) => i.key)
        .sort((a, b) => a - b),
    );
  });

  it("update() re-positions an item whose priority changed (TOUCH)", () => {
    const h = new MinHeap<Item>((i) => i.key);
    const a = new Item(1, 0);
    const b = new Item(2, 1);
    const c = new Item(3, 2);
    for (const i of [a, b, c]) h.push(i);
    a.key = 10;
    h.update(a);
    expect(h.peek()).toBe(b);
    c.key = 0;
    h.update(c);
    expect([h.pop(), h.pop(), h.pop()]).toEqual([c, b, a]);
  });

  it("clear() returns every item and resets their positions", () => {
    const h = new MinHeap<Item>((i) => i.key);
    const items = [3, 1, 2].map((k, n) => new Item(k, n));
    for (const i of items) h.push(i);
    const all = h.clear();
    expect(new Set(all)).toEqual(new Set(items));
    expect(items.every((i) => i.heapIndex === -1)).toBe(true);
    expect(h.length).toBe(0);
    expect(h.pop()).toBeUndefined();
  });

  it("matches a sorted-array model on random push/pop/remove/update sequences", () => {
    type Op = { op: "push"; key: number } | { op: "pop" } | { op: "remove"; pick: number } | { op: "update"; pick: number; key: number };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      fc.integer({ min: -50, max: 50 }).map((key) => ({ op: "push" as const, key })),
      fc.constant({ op: "pop" as const }),
      fc.nat().map((pick) => ({ op: "remove" as const, pick })),
      fc.tuple(fc.nat(), fc.integer({ min: -50, max: 50 })).map(([pick, key]) => ({ op: "update" as const, pick, key })),
    );
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 400 }), (ops) => {
        const h = new MinHeap<Item>((i) => i.key);
        const live: Item[] = [];
        let names = 0;
        for (const o of ops) {
          if (o.op === "push") {
            const it = new Item(o.key, names++);
            live.push(it);
            h.push(it);
          } else if (o.op === "pop") {
            const min = live.length === 0 ? undefined : Math.min(...live.map((i) => i.key));
            const got = h.pop();
            expect(got?.key).toBe(min);
            if (got) live.splice(live.indexOf(got), 1);
          } else if (live.length > 0) {
            const target = live[o.pick % live.length]!;
            if (o.op === "remove") {
              expect(h.remove(target)).toBe(true);
              live.splice(live.indexOf(target), 1);
            } else {
              target.key = o.key;
              h.update(target);
            }
          }
          expect(h.length).toBe(live.length);
          for (const i of live) expect(i.heapIndex).toBeGreaterThanOrEqual(0);
        }
        const drained: number[] = [];
        for (let i = h.pop(); i !== undefined; i = h.pop()) drained.push(i.key);
        expect(drained).toEqual(live.map((i) => i.key).sort((a, b) => a - b));
      }),
      { numRuns: 300 },
    );
  });
});
