// Endpoint selection for nsq_to_http and nsq_to_nsq (U-HTTP-MODES): plain
// round-robin, or a host pool that skips endpoints marked dead after a
// failure and retries them after 30 s, doubling up to 900 s (the behaviour of
// bitly/go-hostpool); when every endpoint is dead, all are revived.
// "epsilon-greedy" is served by the same pool (it prefers endpoints that
// answer; the latency-weighted exploration of the original is not modelled).

const INITIAL_RETRY_MS = 30_000;
const MAX_RETRY_MS = 900_000;

interface Host<T> {
  value: T;
  dead: boolean;
  retryAt: number;
  retryDelay: number;
}

export class HostPool<T> {
  readonly #hosts: Host<T>[];
  #next = 0;
  readonly #now: () => number;

  constructor(values: readonly T[], now: () => number = Date.now) {
    if (values.length === 0) throw new RangeError("a host pool needs at least one endpoint");
    this.#hosts = values.map((value) => ({ value, dead: false, retryAt: 0, retryDelay: INITIAL_RETRY_MS }));
    this.#now = now;
  }

  /** The next live endpoint in rotation (a dead one whose retry time came counts as live). */
  get(): T {
    const now = this.#now();
    const n = this.#hosts.length;
    for (let k = 0; k < n; k++) {
      const h = this.#hosts[(this.#next + k) % n]!;
      if (!h.dead || h.retryAt <= now) {
        this.#next = (this.#next + k + 1) % n;
        return h.value;
      }
    }
    // All dead: start over with everyone alive.
    for (const h of this.#hosts) {
      h.dead = false;
      h.retryDelay = INITIAL_RETRY_MS;
    }
    const h = this.#hosts[this.#next % n]!;
    this.#next = (this.#next + 1) % n;
    return h.value;
  }

  /** Report the outcome of using `value`. */
  mark(value: T, ok: boolean): void {
    const h = this.#hosts.find((x) => x.value === value);
    if (h === undefined) return;
    if (ok) {
      h.dead = false;
      h.retryDelay = INITIAL_RETRY_MS;
      return;
    }
    if (h.dead) h.retryDelay = Math.min(h.retryDelay * 2, MAX_RETRY_MS);
    h.dead = true;
    h.retryAt = this.#now() + h.retryDelay;
  }
}

export class RoundRobin<T> {
  readonly #values: readonly T[];
  #next = 0;
  constructor(values: readonly T[]) {
    this.#values = values;
  }
  get(): T {
    const v = this.#values[this.#next]!;
    this.#next = (this.#next + 1) % this.#values.length;
    return v;
  }
  mark(): void {}
}
