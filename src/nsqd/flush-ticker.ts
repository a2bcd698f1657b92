// The output-buffer flush of every connection (D-TCP-OUTBUF), on a shared
// ticker per --output-buffer-timeout value instead of a timer per connection.
//
// As with the original's per-client ticker, frames a connection buffered wait
// at most until the next tick of its output_buffer_timeout period (on average
// half of it), not a full period from the first one; and a connection that
// buffers does not create and clear a timer each time: it joins the set of its
// period's ticker, which flushes the whole set at each tick and stops while
// the set is empty.

export interface Flushable {
  /** Write out what is buffered (nothing when the buffer is empty). */
  tick(): void;
}

interface Bucket {
  members: Set<Flushable>;
  timer: ReturnType<typeof setInterval> | null;
}

export class FlushTicker {
  readonly #buckets = new Map<number, Bucket>();

  /** `c` has buffered output: flush it at the next tick of `periodMs`. */
  add(c: Flushable, periodMs: number): void {
    let b = this.#buckets.get(periodMs);
    if (b === undefined) {
      b = { members: new Set(), timer: null };
      this.#buckets.set(periodMs, b);
    }
    b.members.add(c);
    if (b.timer === null) {
      const bucket = b;
      bucket.timer = setInterval(() => this.#tick(bucket), periodMs);
      (bucket.timer as { unref?: () => void }).unref?.();
    }
  }

  /** `c` flushed on its own or went away: nothing to do at the next tick. */
  remove(c: Flushable, periodMs: number): void {
    this.#buckets.get(periodMs)?.members.delete(c);
  }

  #tick(b: Bucket): void {
    if (b.members.size === 0) {
      if (b.timer !== null) clearInterval(b.timer);
      b.timer = null;
      return;
    }
    const members = [...b.members];
    b.members.clear();
    for (const c of members) c.tick();
  }

  stop(): void {
    for (const b of this.#buckets.values()) {
      if (b.timer !== null) clearInterval(b.timer);
      b.timer = null;
      b.members.clear();
    }
  }
}
