// Request timing log of nsq_to_http / nsq_to_nsq (U-HTTP-STATUS): every
// `every` samples, log the count and the 99th / 95th percentiles and mean of
// the last window, in milliseconds.
import type { Logger } from "../common/log.ts";

export class TimerMetrics {
  readonly #every: number;
  readonly #prefix: string;
  readonly #logger: Logger;
  readonly #window: Float64Array;
  #n = 0;
  #total = 0;

  constructor(every: number, prefix: string, logger: Logger) {
    this.#every = every;
    this.#prefix = prefix;
    this.#logger = logger;
    this.#window = new Float64Array(Math.max(1, every));
  }

  /** Record one duration in ms. */
  status(ms: number): void {
    if (this.#every <= 0) return;
    this.#window[this.#n++] = ms;
    this.#total++;
    if (this.#n < this.#every) return;
    const sorted = Float64Array.from(this.#window).sort();
    const pct = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
    let sum = 0;
    for (const v of sorted) sum += v;
    this.#logger.info(
      `${this.#prefix} finished ${this.#total} - 99th: ${pct(0.99).toFixed(2)}ms - 95th: ${pct(0.95).toFixed(2)}ms - avg: ${(sum / sorted.length).toFixed(2)}ms`,
    );
    this.#n = 0;
  }
}
