// MinHeap (the in-flight and deferred heaps of D-BEH-INFLIGHT / D-BEH-DEFER),
// checked against a plain-array model on random operation sequences. The
// memory FIFO has its own file (message-queue.test.ts).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { MinHeap, type HeapItem } from "../../src/nsqd/heap.ts";

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
