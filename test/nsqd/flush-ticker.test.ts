// The shared output-buffer ticker (src/nsqd/flush-ticker.ts, D-TCP-OUTBUF):
// buffered connections are flushed at the next tick of their period, one timer
// per period value, none while nothing is buffered.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FlushTicker, type Flushable } from "../../src/nsqd/flush-ticker.ts";

class Conn implements Flushable {
  ticks = 0;
  tick(): void {
    this.ticks++;
  }
}

describe("FlushTicker", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("flushes every connection that buffered at the next tick of its period, each once", () => {
    const t = new FlushTicker();
    const [a, b, c] = [new Conn(), new Conn(), new Conn()];
    t.add(a, 250);
    vi.advanceTimersByTime(100);
    t.add(b, 250);
    t.add(b, 250);
    t.add(c, 50);
    vi.advanceTimersByTime(49);
    expect([a.ticks, b.ticks, c.ticks]).toEqual([0, 0, 0]);
    vi.advanceTimersByTime(1); // 150 ms: c's period
    expect([a.ticks, b.ticks, c.ticks]).toEqual([0, 0, 1]);
    vi.advanceTimersByTime(100); // 250 ms: a's and b's period (b waited 150 ms, not 250)
    expect([a.ticks, b.ticks, c.ticks]).toEqual([1, 1, 1]);
    vi.advanceTimersByTime(1000);
    expect([a.ticks, b.ticks, c.ticks]).toEqual([1, 1, 1]);
    t.stop();
  });

  it("a removed connection is not flushed; timers stop while nothing is buffered", () => {
    const t = new FlushTicker();
    const a = new Conn();
    t.add(a, 100);
    t.remove(a, 100);
    vi.advanceTimersByTime(500);
    expect(a.ticks).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    t.add(a, 100);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(100);
    expect(a.ticks).toBe(1);
    vi.advanceTimersByTime(100);
    expect(vi.getTimerCount()).toBe(0);
  });
});
