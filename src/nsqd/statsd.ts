// statsd push (D-BEH-STATSD, D-BEH-STATSD-NAMES): every --statsd-interval,
// gather the stats (no clients), write `<prefix><name>:<value>|<c|g>` lines,
// pack them into datagrams of at most --statsd-udp-packet-size bytes and send
// those spread evenly over (interval - 1 s), as the original does. Counters
// are deltas since the previous push.
import type { Runtime, UdpSocket } from "../runtime/types.ts";
import { joinHostPort, splitHostPort, type HostPort } from "../common/address.ts";
import type { Logger } from "../common/log.ts";
import type { NsqdOptions } from "./options.ts";
import { collectStats, memoryStats, type StatsHost } from "./stats.ts";
import type { TopicStats } from "../protocol/stats-json.ts";
import { errorText } from "../common/errors.ts";

export interface StatsdLine {
  name: string;
  value: number;
  type: "c" | "g";
}

/** Counter values of the previous push, per topic and channel. */
interface TopicCounters {
  messageCount: number;
  messageBytes: number;
  channels: Map<string, { messageCount: number; requeueCount: number; timeoutCount: number }>;
}

export interface StatsdSnapshot {
  topics: Map<string, TopicCounters>;
  gcRuns: number;
}

export function emptySnapshot(): StatsdSnapshot {
  return { topics: new Map(), gcRuns: 0 };
}

/** statsd.HostKey: `.` and `:` become `_`. */
export function statsdHostKey(hostPort: string): string {
  return hostPort.replace(/[.:]/g, "_");
}

/** --statsd-prefix with `%s` replaced by the host key, ending in ".", or "" when the prefix is empty. */
export function statsdPrefix(prefix: string, broadcastAddress: string, broadcastHttpPort: number): string {
  if (prefix === "") return "";
  let p = prefix.replaceAll("%s", statsdHostKey(joinHostPort(broadcastAddress, broadcastHttpPort)));
  if (!p.endsWith(".")) p += ".";
  return p;
}

/** What the statsd prefix is made of. */
export interface StatsdPrefixHost {
  readonly options: Readonly<Pick<NsqdOptions, "statsd_prefix" | "broadcast_address" | "broadcast_http_port">>;
  readonly runtime: Pick<Runtime, "hostname">;
  /** The bound HTTP port (-1 on a Unix socket). */
  readonly httpPort: number;
}

/** What the push loop reads from the daemon (Nsqd implements it). */
export interface StatsdHost extends StatsHost, StatsdPrefixHost {
  readonly options: Readonly<NsqdOptions>;
  readonly logger: Logger;
  readonly runtime: Pick<Runtime, "hostname" | "memoryUsage" | "udpSocket">;
}

/**
 * The prefix this nsqd writes: --statsd-prefix expanded as the original does
 * once at start-up, which GET /config/statsd_prefix then reports. The
 * broadcast HTTP port defaults to the bound one (0 on a Unix socket).
 */
export function nsqdStatsdPrefix(nsqd: StatsdPrefixHost): string {
  const o = nsqd.options;
  const address = o.broadcast_address !== "" ? o.broadcast_address : nsqd.runtime.hostname();
  return statsdPrefix(o.statsd_prefix, address, o.broadcast_http_port !== 0 ? o.broadcast_http_port : Math.max(nsqd.httpPort, 0));
}

/** Go's `%.0f`: round half to even. */
function percentName(quantile: number): string {
  const x = quantile * 100;
  const r = Math.round(x);
  return String(Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r);
}

const isEphemeral = (name: string): boolean => name.endsWith("#ephemeral");

/**
 * The lines of one push, and the snapshot to diff the next push against.
 * `topics` are sorted stats without clients; `gcRuns` from the memory stats.
 */
export function statsdLines(
  topics: readonly TopicStats[],
  last: StatsdSnapshot,
  options: { excludeEphemeral: boolean; mem: Record<string, number> | null; gcRuns: number },
): { lines: StatsdLine[]; snapshot: StatsdSnapshot } {
  const lines: StatsdLine[] = [];
  const next = emptySnapshot();
  const c = (name: string, value: number) => lines.push({ name, value, type: "c" });
  const g = (name: string, value: number) => lines.push({ name, value: Math.trunc(value), type: "g" });
  for (const topic of topics) {
    if (options.excludeEphemeral && isEphemeral(topic.topic_name)) continue;
    const t = `topic.${topic.topic_name}`;
    const lastTopic = last.topics.get(topic.topic_name);
    const counters: TopicCounters = { messageCount: topic.message_count, messageBytes: topic.message_bytes, channels: new Map() };
    next.topics.set(topic.topic_name, counters);
    c(`${t}.message_count`, topic.message_count - (lastTopic?.messageCount ?? 0));
    c(`${t}.message_bytes`, topic.message_bytes - (lastTopic?.messageBytes ?? 0));
    g(`${t}.depth`, topic.depth);
    g(`${t}.backend_depth`, topic.backend_depth);
    for (const p of topic.e2e_processing_latency.percentiles ?? []) {
      g(`${t}.e2e_processing_latency_${percentName(p.quantile)}`, p.value);
    }
    for (const channel of topic.channels) {
      if (options.excludeEphemeral && isEphemeral(channel.channel_name)) continue;
      const ch = `${t}.channel.${channel.channel_name}`;
      const lastChannel = lastTopic?.channels.get(channel.channel_name);
      counters.channels.set(channel.channel_name, {
        messageCount: channel.message_count,
        requeueCount: channel.requeue_count,
        timeoutCount: channel.timeout_count,
      });
      c(`${ch}.message_count`, channel.message_count - (lastChannel?.messageCount ?? 0));
      g(`${ch}.depth`, channel.depth);
      g(`${ch}.backend_depth`, channel.backend_depth);
      g(`${ch}.in_flight_count`, channel.in_flight_count);
      g(`${ch}.deferred_count`, channel.deferred_count);
      c(`${ch}.requeue_count`, channel.requeue_count - (lastChannel?.requeueCount ?? 0));
      c(`${ch}.timeout_count`, channel.timeout_count - (lastChannel?.timeoutCount ?? 0));
      g(`${ch}.clients`, channel.client_count);
      for (const p of channel.e2e_processing_latency.percentiles ?? []) {
        g(`${ch}.e2e_processing_latency_${percentName(p.quantile)}`, p.value);
      }
    }
  }
  if (options.mem !== null) {
    for (const [k, v] of Object.entries(options.mem)) g(`mem.${k}`, v);
    c("mem.gc_runs", options.gcRuns - last.gcRuns);
  }
  next.gcRuns = options.gcRuns;
  return { lines, snapshot: next };
}

/** Lines packed into datagrams of at most `packetSize` bytes (a longer line travels alone). */
export function packDatagrams(prefix: string, lines: readonly StatsdLine[], packetSize: number): Uint8Array[] {
  const encoder = new TextEncoder();
  const out: Uint8Array[] = [];
  let current = "";
  let currentBytes = 0;
  for (const l of lines) {
    const text = `${prefix}${l.name}:${l.value}|${l.type}\n`;
    const bytes = encoder.encode(text).length;
    if (currentBytes > 0 && currentBytes + bytes > packetSize) {
      out.push(encoder.encode(current));
      current = "";
      currentBytes = 0;
    }
    current += text;
    currentBytes += bytes;
  }
  if (currentBytes > 0) out.push(encoder.encode(current));
  return out;
}

/** `host:port` (IPv6 in brackets) of --statsd-address. */
function parseHostPort(address: string): HostPort {
  const hp = splitHostPort(address);
  if (hp === null) throw new Error(`invalid statsd address ${address}`);
  return hp;
}

/** The push loop of one nsqd. */
export class StatsdPusher {
  readonly #nsqd: StatsdHost;
  #timer: ReturnType<typeof setInterval> | null = null;
  #last: StatsdSnapshot = emptySnapshot();
  /** Datagrams still to send in this interval, and the socket they go through. */
  #spread: ReturnType<typeof setTimeout> | null = null;
  #socket: UdpSocket | null = null;

  constructor(nsqd: StatsdHost) {
    this.#nsqd = nsqd;
  }

  start(): void {
    this.#timer = setInterval(() => this.push(), this.#nsqd.options.statsd_interval);
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#endSpread();
  }

  #endSpread(): void {
    if (this.#spread !== null) clearTimeout(this.#spread);
    this.#spread = null;
    this.#socket?.close();
    this.#socket = null;
  }

  /** One push (exported for tests; the timer calls it every interval). */
  push(): void {
    const nsqd = this.#nsqd;
    const o = nsqd.options;
    this.#endSpread();
    let target: { host: string; port: number };
    try {
      target = parseHostPort(o.statsd_address);
    } catch (e) {
      nsqd.logger.error(`failed to create UDP socket to statsd(${o.statsd_address}) - ${errorText(e)}`);
      return;
    }
    nsqd.logger.info(`STATSD: pushing stats to ${o.statsd_address}`);
    const stats = collectStats(nsqd, { includeClients: false });
    const mem = o.statsd_mem_stats ? memoryStats(nsqd.runtime.memoryUsage()) : null;
    const { gc_total_runs: gcRuns = 0, ...memGauges } = mem ?? {};
    const { lines, snapshot } = statsdLines(stats.topics ?? [], this.#last, {
      excludeEphemeral: o.statsd_exclude_ephemeral,
      mem: mem === null ? null : (memGauges as Record<string, number>),
      gcRuns,
    });
    this.#last = snapshot;
    const prefix = nsqdStatsdPrefix(nsqd);
    const datagrams = packDatagrams(prefix, lines, o.statsd_udp_packet_size);
    if (datagrams.length === 0) return;
    const socket = nsqd.runtime.udpSocket();
    this.#socket = socket;
    // The original spreads the datagrams over (interval - 1s) so a burst of
    // stats does not overflow the statsd server's receive buffer.
    const gap = Math.max(0, (o.statsd_interval - 1000) / datagrams.length);
    let i = 0;
    const sendNext = (): void => {
      this.#spread = null;
      while (i < datagrams.length) {
        socket.send(datagrams[i++]!, target.host, target.port).catch((e: unknown) => {
          nsqd.logger.error(`STATSD: failed to send to ${o.statsd_address} - ${errorText(e)}`);
        });
        if (gap > 0 && i < datagrams.length) {
          this.#spread = setTimeout(sendNext, gap);
          return;
        }
      }
    };
    sendNext();
  }
}
