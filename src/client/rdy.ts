// The pure parts of the consumer's flow control: how RDY is split over
// connections (U-CLI-RDY) and how handler results move the backoff level
// (U-CLI-BACKOFF). No I/O and no timers here, so both are unit-tested alone.
//
// RDY on nsqd is a cap on a connection's in-flight messages, not a credit
// that counts down (D-TCP-RDY-SEMANTICS). To guarantee that the consumer as a
// whole never holds more than max_in_flight messages, each connection
// "reserves" max(its RDY, its in-flight count, a recently lowered RDY the
// server may not have seen yet), and the sum of reservations never exceeds
// max_in_flight. go-nsq sums RDY counts only, which can overshoot for a moment
// when RDY moves between connections; this is the one deliberate difference.

export interface RdySlot {
  /** RDY last sent. */
  rdy: number;
  /** Messages received and not yet answered. */
  inFlight: number;
  /** A lowered RDY that nsqd may still be acting on (0 when none). */
  held: number;
  /** The server's max_rdy_count. */
  maxRdy: number;
}

/** What one connection takes out of the max_in_flight budget. */
export function reservation(slot: RdySlot): number {
  return Math.max(slot.rdy, slot.inFlight, slot.held);
}

/** U-CLI-RDY: max(1, max_in_flight / #conns), never above max_in_flight, truncated. */
export function perConnMaxInFlight(maxInFlight: number, connections: number): number {
  if (connections <= 0) return maxInFlight;
  return Math.trunc(Math.min(Math.max(1, maxInFlight / connections), maxInFlight));
}

/**
 * The RDY that may be sent to `slot` when `want` is asked: capped at the
 * server's max_rdy_count and at what the other connections leave of
 * max_in_flight. Returns null when nothing is left to give and `want` > 0
 * (the caller retries later).
 */
export function grantRdy(slots: Iterable<RdySlot>, slot: RdySlot, want: number, maxInFlight: number): number | null {
  let count = Math.min(want, slot.maxRdy);
  if (count <= 0) return 0;
  let others = 0;
  for (const s of slots) if (s !== slot) others += reservation(s);
  const possible = maxInFlight - others;
  if (possible <= 0) return null;
  if (count > possible) count = possible;
  return count;
}

/** Total reservations (tests assert it stays within max_in_flight). */
export function totalReserved(slots: Iterable<RdySlot>): number {
  let t = 0;
  for (const s of slots) t += reservation(s);
  return t;
}

// ---- backoff --------------------------------------------------------------

export type BackoffSignal = "backoff" | "resume" | "continue";

export type BackoffStrategy = (level: number) => number;

/** go-nsq's exponential strategy: multiplier x 2^level. */
export function exponentialBackoff(multiplierMs: number): BackoffStrategy {
  return (level) => multiplierMs * 2 ** level;
}

/** go-nsq's full_jitter strategy: uniform in [0, multiplier x 2^level). */
export function fullJitterBackoff(multiplierMs: number, random: () => number = Math.random): BackoffStrategy {
  return (level) => Math.floor(random() * multiplierMs * 2 ** level);
}

export type BackoffAction =
  /** Nothing changes. */
  | { readonly kind: "none" }
  /** Leave backoff: every connection back to its normal RDY. */
  | { readonly kind: "exit" }
  /** Enter or stay in backoff: RDY 0 everywhere, then after `durationMs` RDY 1 to one connection. */
  | { readonly kind: "backoff"; readonly durationMs: number; readonly level: number };

/**
 * The backoff level (U-CLI-BACKOFF). Feed every handler result with
 * `signal()`; results that arrive while a backoff timer runs are ignored, so
 * only one result per backoff window counts.
 */
export class BackoffState {
  #level = 0;
  #timerRunning = false;
  readonly #strategy: BackoffStrategy;
  readonly #maxMs: number;

  constructor(strategy: BackoffStrategy, maxBackoffMs: number) {
    this.#strategy = strategy;
    this.#maxMs = maxBackoffMs;
  }

  get level(): number {
    return this.#level;
  }

  /** In backoff: the level is above zero (RDY is held at 0 or 1). */
  get inBackoff(): boolean {
    return this.#level > 0;
  }

  /** A backoff timer is pending (RDY 0 everywhere until it fires). */
  get waiting(): boolean {
    return this.#timerRunning;
  }

  /** Keep ignoring results (the caller re-armed its timer). */
  hold(): void {
    this.#timerRunning = true;
  }

  /** The backoff timer fired: results count again. */
  timerFired(): void {
    this.#timerRunning = false;
  }

  signal(signal: BackoffSignal): BackoffAction {
    if (this.#timerRunning) return { kind: "none" };
    let changed = false;
    if (signal === "resume") {
      if (this.#level > 0) {
        this.#level--;
        changed = true;
      }
    } else if (signal === "backoff") {
      // max_backoff_duration 0 disables backoff: the next step never fits.
      if (this.#strategy(this.#level + 1) <= this.#maxMs && this.#maxMs > 0) {
        this.#level++;
        changed = true;
      }
    }
    if (this.#level === 0 && changed) return { kind: "exit" };
    // go-nsq: any counted result while the level is above zero restarts the window.
    if (this.#level > 0) {
      const durationMs = Math.min(this.#strategy(this.#level), this.#maxMs);
      this.#timerRunning = true;
      return { kind: "backoff", durationMs, level: this.#level };
    }
    return { kind: "none" };
  }
}

/** go-nsq's requeue delay when none is given: default x attempts, capped. */
export function requeueDelay(defaultMs: number, maxMs: number, attempts: number): number {
  return Math.min(defaultMs * attempts, maxMs);
}
