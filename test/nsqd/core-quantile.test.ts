// LatencyStream (D-BEH-E2E): biased-quantile estimates compared with exact
// quantiles of the same random data, merging of several streams (a topic's
// value), and the two half-window rotation.
import { afterEach, describe, expect, it, vi } from "vitest";
import fc from "fast-check";
import { LatencyStream } from "../../src/nsqd/quantile.ts";

/** Fraction of `sorted` that is <= v. */
function rankOf(sorted: readonly number[], v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo / sorted.length;
}

/** A seeded generator (mulberry32), so failures are reproducible. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PERCENTILES = [0.99, 0.95, 0.5];
const TOLERANCE = 0.02; // rank error allowed around each target (epsilon 0.01 in the sketch)

describe("LatencyStream", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const distributions: [string, (r: () => number) => number][] = [
    ["uniform", (r) => Math.floor(r() * 1e9)],
    ["exponential", (r) => Math.floor(-Math.log(1 - r()) * 5e6)],
    ["bimodal", (r) => (r() < 0.8 ? 1e6 + Math.floor(r() * 1e5) : 5e8 + Math.floor(r() * 1e8))],
  ];

  for (const [name, draw] of distributions) {
    it(`estimates p50/p95/p99 of 20,000 ${name} values within ${TOLERANCE} in rank`, () => {
      const r = random(name.length * 7919);
      const s = new LatencyStream(PERCENTILES, 600_000);
      const values: number[] = [];
      for (let i = 0; i < 20_000; i++) {
        const v = draw(r);
        values.push(v);
        s.add(v);
      }
      values.sort((a, b) => a - b);
      const result = LatencyStream.result([s], PERCENTILES);
      expect(result.count).toBe(20_000);
      expect(result.percentiles!.map((p) => p.quantile)).toEqual(PERCENTILES);
      for (const p of result.percentiles!) {
        const rank = rankOf(values, p.value);
        expect(Math.abs(rank - p.quantile), `q=${p.quantile} value=${p.value} rank=${rank}`).toBeLessThanOrEqual(TOLERANCE);
      }
    });
  }

  it("stays accurate on arbitrary data (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1e9 }), { minLength: 200, maxLength: 3000 }), (data) => {
        const s = new LatencyStream([0.5, 0.9], 600_000);
        for (const v of data) s.add(v);
        const sorted = [...data].sort((a, b) => a - b);
        const result = LatencyStream.result([s], [0.5, 0.9]);
        expect(result.count).toBe(data.length);
        for (const p of result.percentiles!) {
          // Rank of the estimate: between the ranks of the values just below and at it.
          const hiRank = rankOf(sorted, p.value);
          const loRank = rankOf(sorted, p.value - 1);
          const err = p.quantile < loRank ? loRank - p.quantile : p.quantile > hiRank ? p.quantile - hiRank : 0;
          expect(err).toBeLessThanOrEqual(0.03);
        }
      }),
      { numRuns: 60 },
    );
  });

  it("merges several streams like one stream of all their values (a topic over its channels)", () => {
    const r = random(42);
    const streams = [new LatencyStream(PERCENTILES, 600_000), new LatencyStream(PERCENTILES, 600_000), new LatencyStream(PERCENTILES, 600_000)];
    const values: number[] = [];
    for (let i = 0; i < 15_000; i++) {
      // Each channel sees a different range, so only a real merge gets the quantiles right.
      const k = i % 3;
      const v = k * 1e8 + Math.floor(r() * 1e8);
      values.push(v);
      streams[k]!.add(v);
    }
    values.sort((a, b) => a - b);
    const result = LatencyStream.result(streams, PERCENTILES);
    expect(result.count).toBe(15_000);
    for (const p of result.percentiles!) expect(Math.abs(rankOf(values, p.value) - p.quantile)).toBeLessThanOrEqual(TOLERANCE);
  });

  it("reports no percentiles when none are configured, and zeros when empty", () => {
    expect(LatencyStream.result([], [])).toEqual({ count: 0, percentiles: null });
    const s = new LatencyStream([0.5], 1000);
    expect(LatencyStream.result([s], [0.5])).toEqual({ count: 0, percentiles: [{ quantile: 0.5, value: 0 }] });
  });

  it("forgets values after a whole window: kept for one half-window rotation, gone after two", () => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000);
    const s = new LatencyStream([0.5], 10_000); // halves of 5 s
    for (let i = 0; i < 100; i++) s.add(1000 + i);
    vi.setSystemTime(1_000_000 + 5_000);
    expect(LatencyStream.result([s], [0.5]).count).toBe(100); // now in the older half
    s.add(7);
    vi.setSystemTime(1_000_000 + 10_000);
    const later = LatencyStream.result([s], [0.5]);
    expect(later.count).toBe(1); // the first 100 are gone, the value added after the first rotation stays
    expect(later.percentiles![0]!.value).toBe(7);
    vi.setSystemTime(1_000_000 + 15_000);
    expect(LatencyStream.result([s], [0.5]).count).toBe(0);
  });
});
