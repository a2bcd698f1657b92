// The JSON document of nsqd's GET /stats?format=json (D-HTTP-STATS-JSON,
// -TOPIC, -CHANNEL, -CLIENT, -E2E, -MEM): one definition for the nsqd that
// writes it and for the readers of it (nsqadmin, `nsq stat`). Key order and
// the keys left out follow the original's structs, because monitoring
// scripts written for the original read these documents too.

/** D-HTTP-STATS-E2E. `percentiles` is null when no percentile is configured (or a topic has no channel). */
export interface E2eStats {
  count: number;
  percentiles: { quantile: number; value: number }[] | null;
}

/** D-HTTP-STATS-CLIENT, keys in the original's order; optional keys are omitted when empty. */
export interface ClientStats {
  client_id: string;
  hostname: string;
  version: "V2";
  remote_address: string;
  state: number;
  ready_count: number;
  in_flight_count: number;
  message_count: number;
  zone_local_msg_count?: number;
  region_local_msg_count?: number;
  global_msg_count?: number;
  finish_count: number;
  requeue_count: number;
  connect_ts: number;
  sample_rate: number;
  deflate: boolean;
  snappy: boolean;
  user_agent: string;
  authed?: boolean;
  auth_identity?: string;
  auth_identity_url?: string;
  topology_zone: string;
  topology_region: string;
  pub_counts?: { topic: string; count: number }[];
  tls: boolean;
  tls_cipher_suite: string;
  tls_version: string;
  tls_negotiated_protocol: string;
  tls_negotiated_protocol_is_mutual: boolean;
}

/** D-HTTP-STATS-CHANNEL. */
export interface ChannelStats {
  channel_name: string;
  depth: number;
  backend_depth: number;
  in_flight_count: number;
  deferred_count: number;
  message_count: number;
  zone_local_msg_count?: number;
  region_local_msg_count?: number;
  global_msg_count?: number;
  requeue_count: number;
  timeout_count: number;
  client_count: number;
  clients: ClientStats[] | null;
  paused: boolean;
  e2e_processing_latency: E2eStats;
}

/** D-HTTP-STATS-TOPIC. */
export interface TopicStats {
  topic_name: string;
  channels: ChannelStats[];
  depth: number;
  backend_depth: number;
  message_count: number;
  message_bytes: number;
  paused: boolean;
  e2e_processing_latency: E2eStats;
}

/** D-HTTP-STATS-MEM: the Go runtime's figures, mapped onto what this runtime reports. */
export interface MemStats {
  heap_objects: number;
  heap_idle_bytes: number;
  heap_in_use_bytes: number;
  heap_released_bytes: number;
  gc_pause_usec_100: number;
  gc_pause_usec_99: number;
  gc_pause_usec_95: number;
  next_gc_bytes: number;
  gc_total_runs: number;
}

/** The whole document. */
export interface StatsDocument {
  version: string;
  health: string;
  /** Unix seconds. */
  start_time: number;
  /** null when a topic filter names no existing topic (D-HTTP-STATS-FILTER). */
  topics: TopicStats[] | null;
  /** Only with include_mem (the default). */
  memory?: MemStats;
  /** Connections that published; null when there are none or clients were not asked for. */
  producers: ClientStats[] | null;
}

// ---- as a reader receives it ------------------------------------------------
// Another nsqd version may leave keys out; a reader takes every field as
// optional except the names that identify a topic or channel.

export type ReceivedE2e = Partial<E2eStats>;
export type ReceivedClient = Partial<ClientStats>;
export type ReceivedChannel = Partial<Omit<ChannelStats, "clients" | "e2e_processing_latency">> &
  Pick<ChannelStats, "channel_name"> & { clients?: ReceivedClient[] | null; e2e_processing_latency?: ReceivedE2e | null };
export type ReceivedTopic = Partial<Omit<TopicStats, "channels" | "e2e_processing_latency">> &
  Pick<TopicStats, "topic_name"> & { channels?: ReceivedChannel[] | null; e2e_processing_latency?: ReceivedE2e | null };
export interface ReceivedStats {
  topics?: ReceivedTopic[] | null;
}
