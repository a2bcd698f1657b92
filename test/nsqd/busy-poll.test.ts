// BusyPoll (src/nsqd/busy-poll.ts): the event loop polls for a moment after
// activity only while arrivals come in a quick request/response rhythm.
import { afterEach, describe, expect, it, vi } from "vitest";
import { BusyPoll } from "../../src/nsqd/busy-poll.ts";

describe("BusyPoll", () => {
  afterEach(() => vi.restoreAllMocks());

  function clock(): { advanceUs(us: number): void } {
    let t = 1_000;
    vi.spyOn(performance, "now").mockImplementation(() => t);
    return { advanceUs: (us) => (t += us / 1000) };
  }

  it("spins once several arrivals came within the window of the one before", () => {
    const c = clock();
    const p = new BusyPoll(100);
    const seen: boolean[] = [];
    for (let i = 0; i < 6; i++) {
      c.advanceUs(20);
      p.activity();
      seen.push(p.spinning);
    }
    // the first arrival has nothing before it; four quick ones after it start the spin
    expect(seen).toEqual([false, false, false, false, true, true]);
    p.stop();
  });

  it("does not spin for arrivals with longer gaps, nor when turned off", () => {
    const c = clock();
    const p = new BusyPoll(100);
    for (let i = 0; i < 20; i++) {
      c.advanceUs(1_000);
      p.activity();
      expect(p.spinning).toBe(false);
    }
    const off = new BusyPoll(0);
    for (let i = 0; i < 20; i++) {
      c.advanceUs(10);
      off.activity();
      expect(off.spinning).toBe(false);
    }
  });

  it("the spin ends once the window has passed without activity", async () => {
    const c = clock();
    const p = new BusyPoll(100);
    for (let i = 0; i < 5; i++) {
      c.advanceUs(10);
      p.activity();
    }
    expect(p.spinning).toBe(true);
    c.advanceUs(500);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(p.spinning).toBe(false);
  });
});
