// nsqd statistics (SPEC §3.4): the objects behind GET /stats (JSON), its text
// layout, and the numbers statsd pushes. Key order and omitted keys follow the
// original's structs (D-HTTP-STATS-JSON/TOPIC/CHANNEL/CLIENT/E2E/MEM), because
// nsqadmin, nsq_stat and monitoring scripts read these documents.
import type { MemoryUsage, TlsInfo } from "../runtime/types.ts";
import { formatDurationNs } from "../common/duration.ts";
import { LatencyStream } from "./quantile.ts";
import type { Channel } from "./channel.ts";
import type { NsqdOptions } from "./options.ts";
import type { Topic } from "./topic.ts";
import type { ChannelStats, ClientStats, E2eStats, MemStats, TopicStats } from "../protocol/stats-json.ts";

export interface Stats {
  /** null when a topic filter names no existing topic (D-HTTP-STATS-FILTER). */
  topics: TopicStats[] | null;
  /** null when there are none or clients were not asked for. */
  producers: ClientStats[] | null;
}

/** What the stats read from the daemon (Nsqd implements it). */
export interface StatsHost {
  readonly topics: ReadonlyMap<string, Topic>;
  /** The connections; those that published are the producers. */
  readonly clients: ReadonlySet<object>;
  readonly options: Readonly<Pick<NsqdOptions, "e2e_processing_latency_percentiles">>;
}

export interface StatsFilter {
  /** Only this topic ("" or absent: all). */
  topic?: string;
  /** Within the selected topics only this channel; topics without it are left out. */
  channel?: string;
  includeClients: boolean;
}

/**
 * What stats reads from a connection (ClientV2 has these fields). The optional
 * ones are read when present, so that tests can pass plain objects. The
 * per-client topology counters stay 0 in the original (D-HTTP-STATS-CLIENT), so
 * their keys are left out unless a source has them.
 */
export interface ClientStatsSource {
  readonly clientId: string;
  readonly hostname: string;
  readonly userAgent: string;
  readonly remoteAddress: string;
  readonly state: number;
  readonly readyCount: number;
  readonly inFlightCount: number;
  readonly messageCount: number;
  readonly finishCount: number;
  readonly requeueCount: number;
  readonly connectTs: number;
  readonly sampleRate: number;
  readonly deflate: boolean;
  readonly snappy: boolean;
  readonly topologyZone: string;
  readonly topologyRegion: string;
  readonly pubCounts: ReadonlyMap<string, number>;
  readonly tls?: TlsInfo | null;
  readonly authed?: boolean;
  readonly authIdentity?: string;
  readonly authIdentityUrl?: string;
  readonly zoneLocalMsgCount?: number;
  readonly regionLocalMsgCount?: number;
  readonly globalMsgCount?: number;
}

/** "TLSv1.2" (runtime spelling) -> "TLS1.2" (the original's spelling). */
function tlsVersionName(version: string): string {
  const m = /^TLSv?(1(?:\.[0-3])?)$/.exec(version);
  if (m === null) return version;
  return m[1] === "1" ? "TLS1.0" : `TLS${m[1]}`;
}

/**
 * One client's stats. `topicFilter` mirrors the original's quirk
 * (D-HTTP-STATS-CLIENT, Q): at most one pub_counts entry, the filtered topic
 * when a topic filter is given, else the first topic the client published to.
 */
export function clientStats(c: ClientStatsSource, topicFilter: string): ClientStats {
  let pubCounts: { topic: string; count: number }[] | undefined;
  for (const [topic, count] of c.pubCounts) {
    if (topicFilter !== "" && topic !== topicFilter) continue;
    pubCounts = [{ topic, count }];
    break;
  }
  // Built key by key so that the JSON keys come out in the original's order.
  const s: Partial<ClientStats> = {
    client_id: c.clientId,
    hostname: c.hostname,
    version: "V2",
    remote_address: c.remoteAddress,
    state: c.state,
    ready_count: c.readyCount,
    in_flight_count: c.inFlightCount,
    message_count: c.messageCount,
  };
  if (c.zoneLocalMsgCount) s.zone_local_msg_count = c.zoneLocalMsgCount;
  if (c.regionLocalMsgCount) s.region_local_msg_count = c.regionLocalMsgCount;
  if (c.globalMsgCount) s.global_msg_count = c.globalMsgCount;
  s.finish_count = c.finishCount;
  s.requeue_count = c.requeueCount;
  s.connect_ts = c.connectTs;
  s.sample_rate = c.sampleRate;
  s.deflate = c.deflate;
  s.snappy = c.snappy;
  s.user_agent = c.userAgent;
  if (c.authed) s.authed = true;
  if (c.authIdentity) s.auth_identity = c.authIdentity;
  if (c.authIdentityUrl) s.auth_identity_url = c.authIdentityUrl;
  s.topology_zone = c.topologyZone;
  s.topology_region = c.topologyRegion;
  if (pubCounts !== undefined) s.pub_counts = pubCounts;
  const tls = c.tls ?? null;
  s.tls = tls !== null;
  s.tls_cipher_suite = tls?.cipher ?? "";
  s.tls_version = tls === null ? "" : tlsVersionName(tls.version);
  s.tls_negotiated_protocol = tls?.alpnProtocol ?? "";
  // Go reports NegotiatedProtocolIsMutual as true on every TLS connection.
  s.tls_negotiated_protocol_is_mutual = tls !== null;
  return s as ClientStats;
}

const NO_E2E: E2eStats = { count: 0, percentiles: null };

function e2e(streams: readonly LatencyStream[], percentiles: readonly number[]): E2eStats {
  // Go: a channel without a stream, or a topic none of whose channels has
  // one, reports an empty Result (count 0, percentiles null).
  if (streams.length === 0) return { ...NO_E2E };
  return LatencyStream.result(streams, percentiles);
}

function channelStats(channel: Channel, includeClients: boolean, topicFilter: string, percentiles: readonly number[]): ChannelStats {
  const consumers = channel.consumers as unknown as readonly ClientStatsSource[];
  const s: Partial<ChannelStats> = {
    channel_name: channel.name,
    depth: channel.depth(),
    backend_depth: channel.backendDepth(),
    in_flight_count: channel.inFlightCount(),
    deferred_count: channel.deferredCount(),
    message_count: channel.messageCount,
  };
  // D-BEH-TOPO counters: each key only when non-zero, as the original.
  if (channel.zoneLocalMsgCount) s.zone_local_msg_count = channel.zoneLocalMsgCount;
  if (channel.regionLocalMsgCount) s.region_local_msg_count = channel.regionLocalMsgCount;
  if (channel.globalMsgCount) s.global_msg_count = channel.globalMsgCount;
  s.requeue_count = channel.requeueCount;
  s.timeout_count = channel.timeoutCount;
  s.client_count = consumers.length;
  s.clients = includeClients ? consumers.map((c) => clientStats(c, topicFilter)) : null;
  s.paused = channel.paused;
  s.e2e_processing_latency = channel.e2e === null ? { ...NO_E2E } : e2e([channel.e2e], percentiles);
  return s as ChannelStats;
}

function topicStats(topic: Topic, channels: ChannelStats[], percentiles: readonly number[]): TopicStats {
  // The topic's latency merges all of its channels, even under a channel filter (as the original does).
  const streams: LatencyStream[] = [];
  for (const c of topic.channels.values()) if (c.e2e !== null) streams.push(c.e2e);
  return {
    topic_name: topic.name,
    channels,
    depth: topic.depth(),
    backend_depth: topic.backendDepth(),
    message_count: topic.messageCount,
    message_bytes: topic.messageBytes,
    paused: topic.paused,
    e2e_processing_latency: e2e(streams, percentiles),
  };
}

function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** GetStats of the original: topics and channels sorted by name, clients in no particular order. */
export function collectStats(nsqd: StatsHost, filter: StatsFilter): Stats {
  const topicFilter = filter.topic ?? "";
  const channelFilter = filter.channel ?? "";
  const percentiles = nsqd.options.e2e_processing_latency_percentiles;
  let selected: Topic[];
  if (topicFilter === "") {
    selected = [...nsqd.topics.values()].sort(byName);
  } else {
    const t = nsqd.topics.get(topicFilter);
    if (t === undefined) return { topics: null, producers: null };
    selected = [t];
  }
  const topics: TopicStats[] = [];
  for (const topic of selected) {
    let channels: Channel[];
    if (channelFilter === "") {
      channels = [...topic.channels.values()].sort(byName);
    } else {
      const c = topic.channels.get(channelFilter);
      if (c === undefined) continue;
      channels = [c];
    }
    const cs = channels.map((c) => channelStats(c, filter.includeClients, topicFilter, percentiles));
    topics.push(topicStats(topic, cs, percentiles));
  }
  let producers: ClientStats[] | null = null;
  if (filter.includeClients) {
    for (const client of nsqd.clients) {
      const source = client as unknown as ClientStatsSource;
      if (source.pubCounts.size === 0) continue;
      (producers ??= []).push(clientStats(source, topicFilter));
    }
  }
  return { topics, producers };
}

/**
 * D-HTTP-STATS-MEM from the runtime's memory figures: bytes in use on the
 * heap, and heap reserved but unused as "idle". Object counts, released
 * bytes, GC pauses, the next GC target and GC runs have no portable source
 * on Node, Bun and Deno, so they report 0 (the keys stay for nsqadmin and
 * statsd consumers).
 */
export function memoryStats(usage: MemoryUsage): MemStats {
  return {
    heap_objects: 0,
    heap_idle_bytes: Math.max(0, usage.heapTotal - usage.heapUsed),
    heap_in_use_bytes: usage.heapUsed,
    heap_released_bytes: 0,
    gc_pause_usec_100: 0,
    gc_pause_usec_99: 0,
    gc_pause_usec_95: 0,
    next_gc_bytes: 0,
    gc_total_runs: 0,
  };
}

// ---- text layout (D-HTTP-STATS-TEXT) ----------------------------------------

/** Go's `%-Ns`: pad on the right to N runes. */
function padRight(text: string, width: number): string {
  let runes = 0;
  for (const _ of text) runes++;
  return runes >= width ? text : text + " ".repeat(width - runes);
}

function padNum(n: number, width: number): string {
  return padRight(String(n), width);
}

/** Go's `%0.1f`: like toFixed(1) but exact ties round to even (0.25 -> "0.2"). */
export function goFixed1(x: number): string {
  const quarter = x * 4;
  if (Number.isInteger(quarter) && quarter % 2 !== 0 && Math.abs(x) < 1e15) {
    // x is n + 0.25 or n + 0.75: exactly halfway between two tenths.
    const low = Math.floor(x * 10);
    return ((low % 2 === 0 ? low : low + 1) / 10).toFixed(1);
  }
  return x.toFixed(1);
}

/** The original's NanoSecondToHuman. */
export function nanosecondsToHuman(ns: number): string {
  if (ns > 1e9) return `${goFixed1(ns / 1e9)}s`;
  if (ns > 1e6) return `${goFixed1(ns / 1e6)}ms`;
  if (ns > 1e3) return `${goFixed1(ns / 1e3)}us`;
  return `${goFixed1(ns)}ns`;
}

function e2eText(e: E2eStats): string {
  return (e.percentiles ?? []).map((p) => nanosecondsToHuman(p.value)).join(", ");
}

/** Go's time.Time.Format(time.RFC3339) in local time. */
export function formatRfc3339(epochMs: number): string {
  const d = new Date(epochMs);
  const p2 = (n: number) => String(n).padStart(2, "0");
  const date = `${String(d.getFullYear()).padStart(4, "0")}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}`;
  const time = `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
  const offset = -d.getTimezoneOffset();
  if (offset === 0) return `${date}T${time}Z`;
  const abs = Math.abs(offset);
  return `${date}T${time}${offset < 0 ? "-" : "+"}${p2(Math.floor(abs / 60))}:${p2(abs % 60)}`;
}

/** A client's line in the text stats (ClientV2Stats.String() of the original). */
export function clientLine(c: ClientStats, nowMs: number): string {
  const connected = formatDurationNs(BigInt(Math.max(0, Math.floor(nowMs / 1000) - c.connect_ts)) * 1_000_000_000n);
  const colon = c.remote_address.lastIndexOf(":");
  const port = colon < 0 ? "" : c.remote_address.slice(colon + 1);
  const id = `${c.hostname}:${port} ${c.user_agent}`;
  if (c.pub_counts !== undefined && c.pub_counts.length > 0) {
    let total = 0;
    for (const p of c.pub_counts) total += p.count;
    const topics = c.pub_counts.map((p) => `${p.topic}=${p.count}`).join(",");
    return `[${c.version} ${padRight(id, 21)}] msgs: ${padNum(total, 8)} topics: ${topics} connected: ${connected}`;
  }
  return (
    `[${c.version} ${padRight(id, 21)}] state: ${c.state} inflt: ${padNum(c.in_flight_count, 4)} ` +
    `rdy: ${padNum(c.ready_count, 4)} fin: ${padNum(c.finish_count, 8)} re-q: ${padNum(c.requeue_count, 8)} ` +
    `msgs: ${padNum(c.message_count, 8)} connected: ${connected}`
  );
}

export interface StatsTextInput {
  /** `nsqd v1.3.0 (built w/...)`. */
  versionLine: string;
  /** Start time, Unix seconds. */
  startTime: number;
  /** Uptime in milliseconds. */
  uptimeMs: number;
  health: string;
  memory: MemStats | null;
  stats: Stats;
  /** Epoch ms used for the clients' `connected` durations. */
  nowMs: number;
}

const MEM_KEYS: readonly (keyof MemStats)[] = [
  "heap_objects",
  "heap_idle_bytes",
  "heap_in_use_bytes",
  "heap_released_bytes",
  "gc_pause_usec_100",
  "gc_pause_usec_99",
  "gc_pause_usec_95",
  "next_gc_bytes",
  "gc_total_runs",
];

/** GET /stats without format=json: the original's printStats layout, line for line. */
export function formatStatsText(input: StatsTextInput): string {
  const out: string[] = [];
  out.push(`${input.versionLine}\n`);
  out.push(`start_time ${formatRfc3339(input.startTime * 1000)}\n`);
  out.push(`uptime ${formatDurationNs(BigInt(Math.max(0, Math.round(input.uptimeMs * 1e6))))}\n`);
  out.push(`\nHealth: ${input.health}\n`);
  if (input.memory !== null) {
    out.push("\nMemory:\n");
    for (const k of MEM_KEYS) out.push(`   ${padRight(k, 25)}\t${input.memory[k]}\n`);
  }
  const topics = input.stats.topics ?? [];
  out.push(topics.length === 0 ? "\nTopics: None\n" : "\nTopics:");
  for (const t of topics) {
    out.push(
      `\n${t.paused ? "*P " : "   "}[${padRight(t.topic_name, 15)}] depth: ${padNum(t.depth, 5)} ` +
        `be-depth: ${padNum(t.backend_depth, 5)} msgs: ${padNum(t.message_count, 8)} e2e%: ${e2eText(t.e2e_processing_latency)}\n`,
    );
    for (const c of t.channels) {
      out.push(
        `${c.paused ? "   *P " : "      "}[${padRight(c.channel_name, 25)}] depth: ${padNum(c.depth, 5)} ` +
          `be-depth: ${padNum(c.backend_depth, 5)} inflt: ${padNum(c.in_flight_count, 4)} def: ${padNum(c.deferred_count, 4)} ` +
          `re-q: ${padNum(c.requeue_count, 5)} timeout: ${padNum(c.timeout_count, 5)} msgs: ${padNum(c.message_count, 8)} ` +
          `e2e%: ${e2eText(c.e2e_processing_latency)}\n`,
      );
      for (const client of c.clients ?? []) out.push(`        ${clientLine(client, input.nowMs)}\n`);
    }
  }
  const producers = input.stats.producers ?? [];
  if (producers.length === 0) {
    out.push("\nProducers: None\n");
  } else {
    out.push("\nProducers:\n");
    for (const p of producers) out.push(`   ${clientLine(p, input.nowMs)}\n`);
  }
  return out.join("");
}
