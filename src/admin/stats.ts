// The JSON objects of nsqadmin's API (A-API-TOPICSTATS, A-API-CHANNELSTATS,
// A-API-CLIENT, A-API-E2E, the producer of A-API-NODES) and how per-nsqd
// /stats answers are normalised and summed across nodes.
//
// Deliberate difference from the original (SPEC Q): its aggregation reuses the
// first node's channel object as the cluster-wide one and mutates it, so with
// two nodes the "nodes" list of a channel misses the first node and that
// node's own channel row shows the totals. Here aggregates are fresh objects
// and every node keeps its own numbers.
import { joinHostPort } from "../common/address.ts";
import type { ReceivedChannel, ReceivedClient, ReceivedE2e, ReceivedTopic } from "../protocol/stats-json.ts";

// ---- what nsqd sends (D-HTTP-STATS-*) -----------------------------------------

/**
 * The /stats document of one nsqd (../protocol/stats-json.ts), plus what
 * the aggregation also accepts: topic-level topology counters and an e2e
 * object naming its topic, channel and host (none of which an nsqd sends).
 */
export type NsqdE2e = ReceivedE2e & { topic?: string; channel?: string; host?: string };
export type NsqdClient = ReceivedClient;
export type NsqdChannel = Omit<ReceivedChannel, "e2e_processing_latency"> & { e2e_processing_latency?: NsqdE2e | null };
export type NsqdTopic = Omit<ReceivedTopic, "channels" | "e2e_processing_latency"> & {
  channels?: NsqdChannel[] | null;
  e2e_processing_latency?: NsqdE2e | null;
  zone_local_msg_count?: number;
  region_local_msg_count?: number;
  global_msg_count?: number;
};

// ---- what nsqadmin answers ----------------------------------------------------------

export interface Percentile {
  quantile: number;
  value: number;
  min: number;
  max: number;
  average: number;
  count: number;
}

export interface E2eAggregate {
  count: number;
  percentiles: Percentile[] | null;
  topic: string;
  channel: string;
  host: string;
}

export interface ClientStats {
  node: string;
  remote_address: string;
  version: string;
  client_id: string;
  hostname: string;
  user_agent: string;
  connect_ts: number;
  /** Nanoseconds since connect_ts (whole seconds), as Go's time.Duration. */
  connected: number;
  in_flight_count: number;
  ready_count: number;
  finish_count: number;
  requeue_count: number;
  message_count: number;
  sample_rate: number;
  deflate: boolean;
  snappy: boolean;
  authed: boolean;
  auth_identity: string;
  auth_identity_url: string;
  node_topology_region?: string;
  node_topology_zone?: string;
  topology_region?: string;
  topology_zone?: string;
  tls: boolean;
  tls_cipher_suite: string;
  tls_version: string;
  tls_negotiated_protocol: string;
  tls_negotiated_protocol_is_mutual: boolean;
}

export interface ChannelStats {
  node: string;
  hostname: string;
  topic_name: string;
  channel_name: string;
  depth: number;
  memory_depth: number;
  backend_depth: number;
  in_flight_count: number;
  deferred_count: number;
  requeue_count: number;
  timeout_count: number;
  message_count: number;
  delivery_msg_count?: number;
  zone_local_msg_count?: number;
  region_local_msg_count?: number;
  global_msg_count?: number;
  client_count: number;
  nodes: ChannelStats[] | null;
  clients: ClientStats[] | null;
  paused: boolean;
  e2e_processing_latency: E2eAggregate | null;
}

export interface TopicStats {
  node: string;
  hostname: string;
  topic_name: string;
  depth: number;
  memory_depth: number;
  backend_depth: number;
  message_count: number;
  delivery_msg_count: number;
  zone_local_msg_count?: number;
  region_local_msg_count?: number;
  global_msg_count?: number;
  nodes: TopicStats[] | null;
  channels: ChannelStats[] | null;
  paused: boolean;
  e2e_processing_latency: E2eAggregate | null;
}

export interface ProducerTopic {
  topic: string;
  tombstoned: boolean;
}

/** An nsqd as A-API-NODES reports it. */
export interface Producer {
  remote_addresses: string[];
  remote_address: string;
  hostname: string;
  broadcast_address: string;
  tcp_port: number;
  http_port: number;
  version: string;
  topology_zone?: string;
  topology_region?: string;
  topics: ProducerTopic[];
  out_of_date: boolean;
}

/** The node id used everywhere: `<broadcast_address>:<http_port>`. */
export function producerHttpAddress(p: Pick<Producer, "broadcast_address" | "http_port">): string {
  return joinHostPort(p.broadcast_address, p.http_port);
}

export function producerTcpAddress(p: Pick<Producer, "broadcast_address" | "tcp_port">): string {
  return joinHostPort(p.broadcast_address, p.tcp_port);
}

// ---- semantic versions (out_of_date) ------------------------------------------------

/** [major, minor, patch] of a semver string; 0.0.0 when unparseable, as the original. */
export function parseSemver(text: string): [number, number, number] {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(text);
  if (m === null) return [0, 0, 0];
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

export function compareSemver(a: string, b: string): number {
  const x = parseSemver(a);
  const y = parseSemver(b);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

// ---- normalising one node's answer ----------------------------------------------

const n = (v: number | undefined): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);

/** Per-node e2e: every percentile gets min = max = average = value and the node's count. */
export function nodeE2e(e: NsqdE2e | null | undefined, topic: string, channel: string, host: string): E2eAggregate {
  const count = n(e?.count);
  const percentiles = e?.percentiles
    ? e.percentiles.map((p) => ({ quantile: n(p.quantile), value: n(p.value), min: n(p.value), max: n(p.value), average: n(p.value), count }))
    : null;
  return { count, percentiles, topic: e?.topic ?? topic, channel: e?.channel ?? channel, host: e?.host ?? host };
}

/** A-API-E2E: merge node latencies; counts summed, count-weighted mean, min/max over nodes. */
export function addE2e(into: E2eAggregate, other: E2eAggregate | null): void {
  into.host = "*";
  if (other === null) return;
  into.count += other.count;
  if (other.percentiles === null) return;
  const list = (into.percentiles ??= []);
  for (const v of other.percentiles) {
    let p = list.find((x) => x.quantile === v.quantile);
    if (p === undefined) {
      p = { quantile: v.quantile, value: 0, min: v.min, max: v.max, average: 0, count: 0 };
      list.push(p);
    }
    p.max = Math.max(p.max, v.max);
    p.min = Math.min(p.min, v.min);
    p.count += v.count;
    if (p.count === 0) p.average = 0;
    else p.average += ((v.average - p.average) * v.count) / p.count;
    p.value = p.average;
  }
  list.sort((a, b) => b.quantile - a.quantile);
}

/** Go's time.Now().Truncate(time.Second).Sub(time.Unix(connect_ts, 0)) in ns. */
function connectedNs(connectTs: number, nowMs: number): number {
  return (Math.floor(nowMs / 1000) - connectTs) * 1e9;
}

export function normalizeClient(c: NsqdClient, node: Producer, nowMs: number): ClientStats {
  const out: ClientStats = {
    node: producerHttpAddress(node),
    remote_address: c.remote_address ?? "",
    version: c.version ?? "",
    client_id: c.client_id ?? "",
    hostname: c.hostname ?? "",
    user_agent: c.user_agent ?? "",
    connect_ts: n(c.connect_ts),
    connected: connectedNs(n(c.connect_ts), nowMs),
    in_flight_count: n(c.in_flight_count),
    ready_count: n(c.ready_count),
    finish_count: n(c.finish_count),
    requeue_count: n(c.requeue_count),
    message_count: n(c.message_count),
    sample_rate: n(c.sample_rate),
    deflate: c.deflate === true,
    snappy: c.snappy === true,
    authed: c.authed === true,
    auth_identity: c.auth_identity ?? "",
    auth_identity_url: c.auth_identity_url ?? "",
    tls: c.tls === true,
    tls_cipher_suite: c.tls_cipher_suite ?? "",
    tls_version: c.tls_version ?? "",
    tls_negotiated_protocol: c.tls_negotiated_protocol ?? "",
    tls_negotiated_protocol_is_mutual: c.tls_negotiated_protocol_is_mutual === true,
  };
  // omitempty fields, placed where the original's encoder puts them.
  return reorder(out, {
    node_topology_region: node.topology_region ?? "",
    node_topology_zone: node.topology_zone ?? "",
    topology_region: c.topology_region ?? "",
    topology_zone: c.topology_zone ?? "",
  });
}

function reorder(c: ClientStats, topo: Record<string, string>): ClientStats {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c)) {
    if (k === "tls") for (const [tk, tv] of Object.entries(topo)) if (tv !== "") out[tk] = tv;
    out[k] = v;
  }
  return out as unknown as ClientStats;
}

function withTopology<T extends object>(base: T, z: number, r: number, g: number, delivery: "always" | "omitempty"): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(base)) {
    out[k] = v;
    if (k === "message_count") {
      const total = z + r + g;
      if (delivery === "always" || total !== 0) out["delivery_msg_count"] = total;
      if (z !== 0) out["zone_local_msg_count"] = z;
      if (r !== 0) out["region_local_msg_count"] = r;
      if (g !== 0) out["global_msg_count"] = g;
    }
  }
  return out as T;
}

export function nodeChannel(c: NsqdChannel, topic: string, node: Producer, includeClients: boolean, nowMs: number): ChannelStats {
  const addr = producerHttpAddress(node);
  const depth = n(c.depth);
  const backend = n(c.backend_depth);
  const base = {
    node: addr,
    hostname: node.hostname,
    topic_name: topic,
    channel_name: c.channel_name,
    depth,
    memory_depth: depth - backend,
    backend_depth: backend,
    in_flight_count: n(c.in_flight_count),
    deferred_count: n(c.deferred_count),
    requeue_count: n(c.requeue_count),
    timeout_count: n(c.timeout_count),
    message_count: n(c.message_count),
    client_count: n(c.client_count),
    nodes: null,
    clients: includeClients && Array.isArray(c.clients) ? c.clients.map((x) => normalizeClient(x, node, nowMs)) : null,
    paused: c.paused === true,
    e2e_processing_latency: nodeE2e(c.e2e_processing_latency, topic, c.channel_name, addr),
  } satisfies ChannelStats;
  return withTopology(base, n(c.zone_local_msg_count), n(c.region_local_msg_count), n(c.global_msg_count), "omitempty");
}

export function nodeTopic(t: NsqdTopic, node: Producer, includeClients: boolean, nowMs: number): TopicStats {
  const addr = producerHttpAddress(node);
  const depth = n(t.depth);
  const backend = n(t.backend_depth);
  const base = {
    node: addr,
    hostname: node.hostname,
    topic_name: t.topic_name,
    depth,
    memory_depth: depth - backend,
    backend_depth: backend,
    message_count: n(t.message_count),
    nodes: null,
    channels: (t.channels ?? []).map((c) => nodeChannel(c, t.topic_name, node, includeClients, nowMs)),
    paused: t.paused === true,
    e2e_processing_latency: nodeE2e(t.e2e_processing_latency, t.topic_name, "", addr),
  } as Omit<TopicStats, "delivery_msg_count">;
  return withTopology(base as TopicStats, n(t.zone_local_msg_count), n(t.region_local_msg_count), n(t.global_msg_count), "always");
}

// ---- summing over nodes ----------------------------------------------------------

function byHostname<T extends { hostname: string; node: string }>(a: T, b: T): number {
  return a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
}

/** A-API-CHANNELSTATS: the cluster-wide channel from its per-node objects. */
export function aggregateChannel(topic: string, channel: string, nodes: ChannelStats[], includeClients: boolean): ChannelStats {
  let z = 0;
  let r = 0;
  let g = 0;
  const sorted = [...nodes].sort(byHostname);
  const agg: ChannelStats = {
    node: "*",
    hostname: "",
    topic_name: topic,
    channel_name: channel,
    depth: 0,
    memory_depth: 0,
    backend_depth: 0,
    in_flight_count: 0,
    deferred_count: 0,
    requeue_count: 0,
    timeout_count: 0,
    message_count: 0,
    client_count: 0,
    nodes: sorted,
    clients: includeClients ? [] : null,
    paused: false,
    e2e_processing_latency: sorted.length > 0 ? { count: 0, percentiles: null, topic, channel, host: "*" } : null,
  };
  for (const c of sorted) {
    agg.depth += c.depth;
    agg.memory_depth += c.memory_depth;
    agg.backend_depth += c.backend_depth;
    agg.in_flight_count += c.in_flight_count;
    agg.deferred_count += c.deferred_count;
    agg.requeue_count += c.requeue_count;
    agg.timeout_count += c.timeout_count;
    agg.message_count += c.message_count;
    agg.client_count += c.client_count;
    z += c.zone_local_msg_count ?? 0;
    r += c.region_local_msg_count ?? 0;
    g += c.global_msg_count ?? 0;
    if (c.paused) agg.paused = true;
    if (agg.e2e_processing_latency !== null) addE2e(agg.e2e_processing_latency, c.e2e_processing_latency);
    if (agg.clients !== null && c.clients !== null) agg.clients.push(...c.clients);
  }
  if (agg.clients !== null) agg.clients.sort(clientsByNodeTopology);
  return withTopology(agg, z, r, g, "omitempty");
}

/** A-API-TOPICSTATS: the cluster-wide topic (node "*") from its per-node objects. */
export function aggregateTopic(topic: string, nodes: TopicStats[]): TopicStats {
  if (nodes.length === 0) {
    return {
      node: "",
      hostname: "",
      topic_name: topic,
      depth: 0,
      memory_depth: 0,
      backend_depth: 0,
      message_count: 0,
      delivery_msg_count: 0,
      nodes: null,
      channels: null,
      paused: false,
      e2e_processing_latency: null,
    };
  }
  const sorted = [...nodes].sort(byHostname);
  let z = 0;
  let r = 0;
  let g = 0;
  const e2e: E2eAggregate = { count: 0, percentiles: null, topic, channel: "", host: "*" };
  const channelNodes = new Map<string, ChannelStats[]>();
  const base = {
    node: "*",
    hostname: "",
    topic_name: topic,
    depth: 0,
    memory_depth: 0,
    backend_depth: 0,
    message_count: 0,
    nodes: sorted,
    channels: [] as ChannelStats[],
    paused: false,
    e2e_processing_latency: e2e,
  };
  for (const t of sorted) {
    base.depth += t.depth;
    base.memory_depth += t.memory_depth;
    base.backend_depth += t.backend_depth;
    base.message_count += t.message_count;
    z += t.zone_local_msg_count ?? 0;
    r += t.region_local_msg_count ?? 0;
    g += t.global_msg_count ?? 0;
    if (t.paused) base.paused = true;
    addE2e(e2e, t.e2e_processing_latency);
    for (const c of t.channels ?? []) {
      const list = channelNodes.get(c.channel_name);
      if (list === undefined) channelNodes.set(c.channel_name, [c]);
      else list.push(c);
    }
  }
  for (const [name, list] of channelNodes) {
    base.channels.push(
      aggregateChannel(
        topic,
        name,
        list,
        list.some((c) => c.clients !== null),
      ),
    );
  }
  return withTopology(base as unknown as TopicStats, z, r, g, "always");
}

/**
 * The order A-API-CHANNEL lists clients in: by node, and within a node the
 * clients in the node's zone first, then its region, then the rest.
 */
export function clientsByNodeTopology(a: ClientStats, b: ClientStats): number {
  if (a.node !== b.node) return a.node < b.node ? -1 : 1;
  const rank = (c: ClientStats): number => {
    const region = c.node_topology_region ?? "";
    const zone = c.node_topology_zone ?? "";
    const cr = c.topology_region ?? "";
    const cz = c.topology_zone ?? "";
    if (cr === region && cz === zone) return 0;
    if (cr === region) return 1;
    return 2;
  };
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  const ar = a.topology_region ?? "";
  const br = b.topology_region ?? "";
  if (ar !== br) return ar < br ? -1 : 1;
  const az = a.topology_zone ?? "";
  const bz = b.topology_zone ?? "";
  if (az !== bz) return az < bz ? -1 : 1;
  return a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0;
}
