// End-to-end processing latency (D-BEH-E2E): a biased-quantile sketch
// (Cormode, Korn, Muthukrishnan, Srivastava: "Effective computation of biased
// quantiles over data streams") targeted at the configured percentiles, kept
// as two half-window streams like the original: the older half is reset every
// window/2 and queries merge both, so a value counts for between one half and
// one whole window.

interface Sample {
  value: number;
  width: number;
  delta: number;
}

const EPSILON = 0.01;

class TargetedStream {
  readonly #targets: readonly number[];
  #samples: Sample[] = [];
  #buffer: number[] = [];
  #count = 0;

  constructor(targets: readonly number[]) {
    this.#targets = targets;
  }

  get count(): number {
    return this.#count + this.#buffer.length;
  }

  insert(value: number): void {
    this.#buffer.push(value);
    if (this.#buffer.length >= 500) this.#flush();
  }

  reset(): void {
    this.#samples = [];
    this.#buffer = [];
    this.#count = 0;
  }

  /** Samples with their widths, for merging. */
  samples(): readonly Sample[] {
    this.#flush();
    return this.#samples;
  }

  merge(samples: readonly Sample[]): void {
    this.#flush();
    for (const s of samples) this.#insertSorted([s.value], s.width);
    this.#compress();
  }

  query(q: number): number {
    this.#flush();
    const samples = this.#samples;
    if (samples.length === 0) return 0;
    const n = this.#count;
    const t = q * n + this.#allowed(q * n, n) / 2;
    let rank = 0;
    let previous = samples[0]!;
    for (let i = 1; i < samples.length; i++) {
      const s = samples[i]!;
      rank += previous.width;
      if (rank + s.width + s.delta > t) return previous.value;
      previous = s;
    }
    return previous.value;
  }

  #allowed(rank: number, n: number): number {
    let best = Number.MAX_VALUE;
    for (const q of this.#targets) {
      const f = rank >= q * n ? (2 * EPSILON * rank) / q : (2 * EPSILON * (n - rank)) / (1 - q);
      if (f < best) best = f;
    }
    return best;
  }

  #flush(): void {
    if (this.#buffer.length === 0) return;
    const values = this.#buffer.sort((a, b) => a - b);
    this.#buffer = [];
    this.#insertSorted(values, 1);
    this.#compress();
  }

  #insertSorted(values: readonly number[], width: number): void {
    const old = this.#samples;
    const out: Sample[] = [];
    let i = 0;
    let rank = 0;
    for (const v of values) {
      while (i < old.length && old[i]!.value <= v) {
        rank += old[i]!.width;
        out.push(old[i++]!);
      }
      const delta = i === 0 || i === old.length ? 0 : Math.max(0, Math.floor(this.#allowed(rank, this.#count)) - 1);
      out.push({ value: v, width, delta });
      this.#count += width;
      rank += width;
    }
    while (i < old.length) out.push(old[i++]!);
    this.#samples = out;
  }

  #compress(): void {
    const s = this.#samples;
    if (s.length < 3) return;
    const out: Sample[] = [s[s.length - 1]!];
    let rank = this.#count - s[s.length - 1]!.width;
    for (let i = s.length - 2; i >= 1; i--) {
      const cur = s[i]!;
      const next = out[out.length - 1]!;
      rank -= cur.width;
      if (cur.width + next.width + next.delta <= this.#allowed(rank, this.#count)) {
        next.width += cur.width;
      } else {
        out.push(cur);
      }
    }
    out.push(s[0]!);
    this.#samples = out.reverse();
  }
}

export interface Percentile {
  quantile: number;
  value: number;
}

export class LatencyStream {
  readonly percentiles: readonly number[];
  readonly #halfWindowMs: number;
  #current: TargetedStream;
  #previous: TargetedStream;
  #rotatedAt: number;

  constructor(percentiles: readonly number[], windowMs: number) {
    this.percentiles = percentiles;
    this.#halfWindowMs = Math.max(1, windowMs / 2);
    this.#current = new TargetedStream(percentiles);
    this.#previous = new TargetedStream(percentiles);
    this.#rotatedAt = Date.now();
  }

  add(valueNs: number): void {
    this.#rotate(Date.now());
    this.#current.insert(valueNs);
  }

  #rotate(now: number): void {
    if (now - this.#rotatedAt < this.#halfWindowMs) return;
    const old = this.#previous;
    old.reset();
    this.#previous = this.#current;
    this.#current = old;
    this.#rotatedAt = now;
    if (now - this.#rotatedAt >= this.#halfWindowMs) this.#previous.reset();
  }

  /** A merged view of both halves (and of other streams, for a topic). */
  snapshot(): TargetedStream {
    this.#rotate(Date.now());
    const merged = new TargetedStream(this.percentiles);
    merged.merge(this.#previous.samples());
    merged.merge(this.#current.samples());
    return merged;
  }

  /** Count and percentile values of this stream, or of several merged (a topic's channels). */
  static result(streams: readonly LatencyStream[], percentiles: readonly number[]): { count: number; percentiles: Percentile[] | null } {
    if (percentiles.length === 0) return { count: 0, percentiles: null };
    const merged = new TargetedStream(percentiles);
    for (const s of streams) merged.merge(s.snapshot().samples());
    const count = merged.count;
    return {
      count,
      percentiles: percentiles.map((q) => ({ quantile: q, value: count === 0 ? 0 : merged.query(q) })),
    };
  }
}
