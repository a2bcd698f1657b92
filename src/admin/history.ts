// Depth and message-rate history for the UI's charts, from nsqadmin's own
// sampling (beyond the original, which needs graphite for any graph): every
// interval the sampler reads every nsqd's /stats once and appends one sample
// per topic and per channel to a fixed-size ring. Nothing is persisted.
import type { Logger } from "../common/log.ts";
import type { ClusterInfo, ClusterSources } from "./cluster.ts";
import { errorText } from "../common/errors.ts";

export interface Sample {
  /** Unix milliseconds. */
  ts: number;
  depth: number;
  message_count: number;
  /** Messages per second since the previous sample (0 for the first, or after a counter reset). */
  rate: number;
  /** Channels only. */
  in_flight_count?: number;
  /** Topics only: the summed depth of the topic's channels (the backlog consumers face). */
  channel_depth?: number;
}

/** A ring of the last `capacity` samples of one topic or channel. */
export class SampleRing {
  readonly #ts: Float64Array;
  readonly #depth: Float64Array;
  readonly #count: Float64Array;
  readonly #aux: Float64Array;
  #next = 0;
  #size = 0;

  /** `aux` names the per-kind extra figure (in_flight_count, channel_depth), if any. */
  constructor(
    readonly capacity: number,
    readonly aux: "in_flight_count" | "channel_depth" | null = null,
  ) {
    this.#ts = new Float64Array(capacity);
    this.#depth = new Float64Array(capacity);
    this.#count = new Float64Array(capacity);
    this.#aux = new Float64Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  push(ts: number, depth: number, messageCount: number, aux = 0): void {
    const i = this.#next;
    this.#ts[i] = ts;
    this.#depth[i] = depth;
    this.#count[i] = messageCount;
    this.#aux[i] = aux;
    this.#next = (i + 1) % this.capacity;
    if (this.#size < this.capacity) this.#size++;
  }

  /** The newest `limit` samples (all when omitted), oldest first. */
  samples(limit = this.#size): Sample[] {
    const take = Math.max(0, Math.min(limit, this.#size));
    const out: Sample[] = [];
    // Rates use the sample before the window too, so every returned one has a rate.
    const start = this.#size - take;
    for (let k = start; k < this.#size; k++) {
      const i = (this.#next - this.#size + k + this.capacity) % this.capacity;
      let rate = 0;
      if (k > 0) {
        const j = (i - 1 + this.capacity) % this.capacity;
        const dt = (this.#ts[i]! - this.#ts[j]!) / 1000;
        const dm = this.#count[i]! - this.#count[j]!;
        if (dt > 0 && dm >= 0) rate = dm / dt;
      }
      const s: Sample = { ts: this.#ts[i]!, depth: this.#depth[i]!, message_count: this.#count[i]!, rate: Math.round(rate * 100) / 100 };
      if (this.aux !== null) s[this.aux] = this.#aux[i]!;
      out.push(s);
    }
    return out;
  }
}

export interface HistoryOptions {
  cluster: ClusterInfo;
  /** Read at every sample, so /config changes of the lookupd list apply. */
  sources: () => ClusterSources;
  logger: Logger;
  intervalMs: number;
  capacity: number;
  now?: () => number;
}

export class History {
  readonly #o: HistoryOptions;
  readonly #topics = new Map<string, SampleRing>();
  /** Keyed by `topic\u0000channel`. */
  readonly #channels = new Map<string, SampleRing>();
  #timer: ReturnType<typeof setInterval> | null = null;
  #running: Promise<void> | null = null;

  constructor(options: HistoryOptions) {
    this.#o = options;
  }

  get intervalMs(): number {
    return this.#o.intervalMs;
  }

  start(): void {
    if (this.#timer !== null || this.#o.intervalMs <= 0) return;
    void this.sample();
    this.#timer = setInterval(() => void this.sample(), this.#o.intervalMs);
  }

  async close(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  /** Take one sample now (skipped while the previous one is still running). */
  sample(): Promise<void> {
    this.#running ??= this.#sample().finally(() => (this.#running = null));
    return this.#running;
  }

  async #sample(): Promise<void> {
    const { cluster, logger } = this.#o;
    const now = this.#o.now ?? (() => Date.now());
    try {
      const producers = await cluster.producers(this.#o.sources());
      const stats = await cluster.nsqdStats(producers.value, "", "", false);
      const ts = now();
      const complete = producers.errors.length === 0 && stats.errors.length === 0;
      const topicTotals = new Map<string, { depth: number; count: number; channelDepth: number }>();
      for (const t of stats.value.topics) {
        const sum = topicTotals.get(t.topic_name) ?? { depth: 0, count: 0, channelDepth: 0 };
        sum.depth += t.depth;
        sum.count += t.message_count;
        for (const c of t.channels ?? []) sum.channelDepth += c.depth;
        topicTotals.set(t.topic_name, sum);
      }
      for (const [name, sum] of topicTotals) this.#ring(this.#topics, name, "channel_depth").push(ts, sum.depth, sum.count, sum.channelDepth);
      const seenChannels = new Set<string>();
      for (const c of stats.value.channels.values()) {
        const key = `${c.topic_name}\u0000${c.channel_name}`;
        seenChannels.add(key);
        this.#ring(this.#channels, key, "in_flight_count").push(ts, c.depth, c.message_count, c.in_flight_count);
      }
      // Forget deleted topics and channels, but only when every node answered.
      if (complete) {
        for (const name of this.#topics.keys()) if (!topicTotals.has(name)) this.#topics.delete(name);
        for (const key of this.#channels.keys()) if (!seenChannels.has(key)) this.#channels.delete(key);
      }
    } catch (e) {
      logger.debug(`history: sample failed - ${errorText(e)}`);
    }
  }

  #ring(map: Map<string, SampleRing>, key: string, aux: SampleRing["aux"]): SampleRing {
    let ring = map.get(key);
    if (ring === undefined) {
      ring = new SampleRing(this.#o.capacity, aux);
      map.set(key, ring);
    }
    return ring;
  }

  topic(name: string, limit?: number): Sample[] {
    return this.#topics.get(name)?.samples(limit) ?? [];
  }

  channel(topic: string, channel: string, limit?: number): Sample[] {
    return this.#channels.get(`${topic}\u0000${channel}`)?.samples(limit) ?? [];
  }

  /** The newest `limit` samples of every topic, by name. */
  allTopics(limit?: number): Record<string, Sample[]> {
    const out: Record<string, Sample[]> = {};
    for (const name of [...this.#topics.keys()].sort()) out[name] = this.#topics.get(name)!.samples(limit);
    return out;
  }

  /** The newest `limit` samples of every channel of a topic, by channel name. */
  topicChannels(topic: string, limit?: number): Record<string, Sample[]> {
    const out: Record<string, Sample[]> = {};
    const prefix = `${topic}\u0000`;
    for (const key of [...this.#channels.keys()].sort()) {
      if (key.startsWith(prefix)) out[key.slice(prefix.length)] = this.#channels.get(key)!.samples(limit);
    }
    return out;
  }
}
