// U-CLI-RDY / U-CLI-BACKOFF: the pure flow-control logic of the consumer.
import { describe, expect, test } from "vitest";
import fc from "fast-check";
import {
  BackoffState,
  exponentialBackoff,
  fullJitterBackoff,
  grantRdy,
  perConnMaxInFlight,
  requeueDelay,
  reservation,
  totalReserved,
  type RdySlot,
} from "../../src/client/rdy.ts";

const slot = (rdy = 0, inFlight = 0, held = 0, maxRdy = 2500): RdySlot => ({ rdy, inFlight, held, maxRdy });

describe("U-CLI-RDY", () => {
  test("per-connection RDY is max(1, max_in_flight / conns), truncated, never above max_in_flight", () => {
    expect(perConnMaxInFlight(200, 1)).toBe(200);
    expect(perConnMaxInFlight(200, 3)).toBe(66);
    expect(perConnMaxInFlight(2, 3)).toBe(1);
    expect(perConnMaxInFlight(1, 5)).toBe(1);
    expect(perConnMaxInFlight(0, 2)).toBe(0);
  });

  test("a grant is capped by what the other connections reserve and by max_rdy_count", () => {
    const a = slot(1);
    const b = slot(0);
    const c = slot(0);
    expect(grantRdy([a, b, c], b, 1, 2)).toBe(1);
    b.rdy = 1;
    expect(grantRdy([a, b, c], c, 1, 2)).toBeNull();
    expect(grantRdy([a, b, c], c, 0, 2)).toBe(0);
    expect(grantRdy([slot(0, 0, 0, 10)], slot(0, 0, 0, 10), 50, 100)).toBe(10);
  });

  test("in-flight and recently lowered RDY stay reserved", () => {
    const a = slot(0, 2, 0);
    const b = slot(0, 0, 3);
    expect(reservation(a)).toBe(2);
    expect(reservation(b)).toBe(3);
    expect(grantRdy([a, b, slot()], slot(), 5, 5)).toBeNull();
    expect(grantRdy([a, b, slot()], slot(), 5, 6)).toBe(1);
    const c = slot();
    expect(grantRdy([a, b, c], c, 5, 7)).toBe(2);
  });

  test("property: granting in any order never reserves more than max_in_flight", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.tuple(fc.nat(6), fc.nat(30), fc.nat(5)), { minLength: 1, maxLength: 60 }),
        (maxInFlight, ops) => {
          const slots = Array.from({ length: 7 }, () => slot());
          for (const [i, want, delivered] of ops) {
            const s = slots[i]!;
            const g = grantRdy(slots, s, want, maxInFlight);
            if (g !== null) {
              if (g < s.rdy) s.held = Math.max(s.held, s.rdy);
              s.rdy = g;
            }
            // The server delivers only while in-flight < RDY (D-TCP-RDY-SEMANTICS).
            for (let k = 0; k < delivered && s.inFlight < s.rdy; k++) s.inFlight++;
            expect(totalReserved(slots)).toBeLessThanOrEqual(maxInFlight);
            const inFlight = slots.reduce((n, x) => n + x.inFlight, 0);
            expect(inFlight).toBeLessThanOrEqual(maxInFlight);
          }
        },
      ),
    );
  });
});

describe("U-CLI-BACKOFF", () => {
  test("exponential strategy doubles from the multiplier; full jitter stays below it", () => {
    const e = exponentialBackoff(1000);
    expect([1, 2, 3].map(e)).toEqual([2000, 4000, 8000]);
    const j = fullJitterBackoff(1000, () => 0.5);
    expect(j(2)).toBe(2000);
    expect(fullJitterBackoff(1000, () => 0.999)(1)).toBeLessThan(2000);
  });

  test("failures raise the level, one result per window, successes lower it and exit at 0", () => {
    const b = new BackoffState(exponentialBackoff(100), 10_000);
    expect(b.signal("backoff")).toEqual({ kind: "backoff", durationMs: 200, level: 1 });
    expect(b.waiting).toBe(true);
    // Ignored while the timer runs.
    expect(b.signal("backoff")).toEqual({ kind: "none" });
    expect(b.signal("resume")).toEqual({ kind: "none" });
    b.timerFired();
    expect(b.signal("backoff")).toEqual({ kind: "backoff", durationMs: 400, level: 2 });
    b.timerFired();
    expect(b.signal("resume")).toEqual({ kind: "backoff", durationMs: 200, level: 1 });
    b.timerFired();
    expect(b.signal("resume")).toEqual({ kind: "exit" });
    expect(b.inBackoff).toBe(false);
    expect(b.signal("resume")).toEqual({ kind: "none" });
    expect(b.signal("continue")).toEqual({ kind: "none" });
  });

  test("the level stops where the next step would pass max_backoff_duration; 0 disables backoff", () => {
    const b = new BackoffState(exponentialBackoff(1000), 3000);
    expect(b.signal("backoff")).toMatchObject({ kind: "backoff", durationMs: 2000, level: 1 });
    b.timerFired();
    expect(b.signal("backoff")).toMatchObject({ kind: "backoff", durationMs: 2000, level: 1 });
    const off = new BackoffState(exponentialBackoff(1000), 0);
    expect(off.signal("backoff")).toEqual({ kind: "none" });
    expect(off.inBackoff).toBe(false);
  });

  test("requeue delay is default x attempts, capped", () => {
    expect(requeueDelay(90_000, 900_000, 1)).toBe(90_000);
    expect(requeueDelay(90_000, 900_000, 3)).toBe(270_000);
    expect(requeueDelay(90_000, 900_000, 50)).toBe(900_000);
  });
});
