// nsqd's options: the D-FLAG rows of SPEC §5, with the original's names,
// config keys and defaults (durations are milliseconds), and the checks and
// normalisation the original applies when it builds the daemon (nsqd.New),
// which Nsqd's constructor runs whoever starts it (CLI, `nsq up`, tests).
import type { OptionTable } from "../common/options.ts";
import { parseGoBool } from "../common/flags.ts";
import { parseLogLevel } from "../common/logger.ts";

export interface NsqdOptions {
  log_level: string;
  log_prefix: string;
  id: number;
  tcp_address: string;
  http_address: string;
  https_address: string;
  broadcast_address: string;
  broadcast_tcp_port: number;
  broadcast_http_port: number;
  nsqlookupd_tcp_addresses: string[];
  auth_http_addresses: string[];
  auth_http_request_method: string;
  http_client_connect_timeout: number;
  http_client_request_timeout: number;
  topology_region: string;
  topology_zone: string;
  data_path: string;
  mem_queue_size: number;
  max_bytes_per_file: number;
  sync_every: number;
  sync_timeout: number;
  queue_scan_worker_pool_max: number;
  queue_scan_selection_count: number;
  msg_timeout: number;
  max_msg_timeout: number;
  max_msg_size: number;
  max_req_timeout: number;
  max_body_size: number;
  max_heartbeat_interval: number;
  max_rdy_count: number;
  max_output_buffer_size: number;
  max_output_buffer_timeout: number;
  min_output_buffer_timeout: number;
  output_buffer_timeout: number;
  max_channel_consumers: number;
  statsd_address: string;
  statsd_interval: number;
  statsd_mem_stats: boolean;
  statsd_prefix: string;
  statsd_udp_packet_size: number;
  statsd_exclude_ephemeral: boolean;
  e2e_processing_latency_percentiles: number[];
  e2e_processing_latency_window_time: number;
  tls_cert: string;
  tls_key: string;
  tls_client_auth_policy: string;
  tls_root_ca_file: string;
  /** "false" | "true" | "tcp-https" */
  tls_required: string;
  /** "tls1.0" .. "tls1.3" */
  tls_min_version: string;
  deflate: boolean;
  max_deflate_level: number;
  snappy: boolean;
  enable_experiment: string[];
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;

// biome-ignore format: one option per line reads as a table
export const NSQD_OPTIONS: OptionTable = [
  { flag: "log-level", key: "log_level", type: "string", default: "info", help: "set log verbosity: debug, info, warn, error, or fatal", choices: ["debug", "info", "warn", "warning", "error", "fatal"] },
  { flag: "log-prefix", key: "log_prefix", type: "string", default: "[nsqd] ", help: "log message prefix" },
  { flag: "verbose", key: null, type: "bool", default: false, help: "[deprecated] has no effect, use --log-level", deprecated: true },
  // The default node id is derived from the hostname by the CLI (crc32(md5(hostname)) % 1024).
  { flag: "node-id", key: "id", type: "int", default: -1, help: "unique part for message IDs, (int) in range [0,1024) (default is hash of hostname)" },
  { flag: "worker-id", key: null, type: "bool", default: false, help: "[deprecated] use --node-id", deprecated: true },
  { flag: "tcp-address", key: "tcp_address", type: "string", default: "0.0.0.0:4150", help: "<addr>:<port> to listen on for TCP clients (or a Unix socket path)" },
  { flag: "http-address", key: "http_address", type: "string", default: "0.0.0.0:4151", help: "<addr>:<port> to listen on for HTTP clients (or a Unix socket path)" },
  { flag: "https-address", key: "https_address", type: "string", default: "0.0.0.0:4152", help: "<addr>:<port> to listen on for HTTPS clients" },
  { flag: "broadcast-address", key: "broadcast_address", type: "string", default: "", help: "address that will be registered with lookupd (defaults to the OS hostname)" },
  { flag: "broadcast-tcp-port", key: "broadcast_tcp_port", type: "int", default: 0, help: "TCP port that will be registered with lookupd (defaults to the TCP port that this nsqd is listening on)" },
  { flag: "broadcast-http-port", key: "broadcast_http_port", type: "int", default: 0, help: "HTTP port that will be registered with lookupd (defaults to the HTTP port that this nsqd is listening on)" },
  { flag: "lookupd-tcp-address", key: "nsqlookupd_tcp_addresses", type: "list", default: [], help: "lookupd TCP address (may be given multiple times)" },
  { flag: "auth-http-address", key: "auth_http_addresses", type: "list", default: [], help: "<addr>:<port> or a full url to query auth server (may be given multiple times)" },
  { flag: "auth-http-request-method", key: "auth_http_request_method", type: "string", default: "get", help: "HTTP method to use for auth server requests", choices: ["get", "post"] },
  { flag: "http-client-connect-timeout", key: "http_client_connect_timeout", type: "duration", default: 2 * SECOND, help: "timeout for HTTP connect" },
  { flag: "http-client-request-timeout", key: "http_client_request_timeout", type: "duration", default: 5 * SECOND, help: "timeout for HTTP request" },
  { flag: "topology-region", key: "topology_region", type: "string", default: "", help: "region for topology-aware consumption (experiment)" },
  { flag: "topology-zone", key: "topology_zone", type: "string", default: "", help: "zone for topology-aware consumption (experiment)" },
  { flag: "data-path", key: "data_path", type: "string", default: "", help: "path to store disk-backed messages" },
  { flag: "mem-queue-size", key: "mem_queue_size", type: "int", default: 10000, help: "number of messages to keep in memory (per topic/channel)" },
  { flag: "max-bytes-per-file", key: "max_bytes_per_file", type: "int", default: 104857600, help: "number of bytes per diskqueue file before rolling" },
  { flag: "sync-every", key: "sync_every", type: "int", default: 2500, help: "number of messages per diskqueue fsync" },
  { flag: "sync-timeout", key: "sync_timeout", type: "duration", default: 2 * SECOND, help: "duration of time per diskqueue fsync" },
  { flag: "queue-scan-worker-pool-max", key: "queue_scan_worker_pool_max", type: "int", default: 4, help: "max concurrency for checking in-flight and deferred message timeouts" },
  { flag: "queue-scan-selection-count", key: "queue_scan_selection_count", type: "int", default: 20, help: "number of channels to check per cycle (every 100ms) for in-flight and deferred timeouts" },
  { flag: "msg-timeout", key: "msg_timeout", type: "duration", default: MINUTE, help: "default duration to wait before auto-requeing a message" },
  { flag: "max-msg-timeout", key: "max_msg_timeout", type: "duration", default: 15 * MINUTE, help: "maximum duration before a message will timeout" },
  { flag: "max-msg-size", key: "max_msg_size", type: "int", default: 1048576, help: "maximum size of a single message in bytes" },
  { flag: "max-req-timeout", key: "max_req_timeout", type: "duration", default: 60 * MINUTE, help: "maximum requeuing timeout for a message" },
  { flag: "max-body-size", key: "max_body_size", type: "int", default: 5242880, help: "maximum size of a single command body" },
  { flag: "max-heartbeat-interval", key: "max_heartbeat_interval", type: "duration", default: MINUTE, help: "maximum client configurable duration of time between client heartbeats" },
  { flag: "max-rdy-count", key: "max_rdy_count", type: "int", default: 2500, help: "maximum RDY count for a client" },
  { flag: "max-output-buffer-size", key: "max_output_buffer_size", type: "int", default: 65536, help: "maximum client configurable size (in bytes) for a client output buffer" },
  { flag: "max-output-buffer-timeout", key: "max_output_buffer_timeout", type: "duration", default: 30 * SECOND, help: "maximum client configurable duration of time between flushing to a client" },
  { flag: "min-output-buffer-timeout", key: "min_output_buffer_timeout", type: "duration", default: 25, help: "minimum client configurable duration of time between flushing to a client" },
  { flag: "output-buffer-timeout", key: "output_buffer_timeout", type: "duration", default: 250, help: "default duration of time between flushing data to clients" },
  { flag: "max-channel-consumers", key: "max_channel_consumers", type: "int", default: 0, help: "maximum channel consumer connection count per nsqd instance (default 0, i.e., unlimited)" },
  { flag: "statsd-address", key: "statsd_address", type: "string", default: "", help: "UDP <addr>:<port> of a statsd daemon for pushing stats" },
  { flag: "statsd-interval", key: "statsd_interval", type: "duration", default: MINUTE, help: "duration between pushing to statsd" },
  { flag: "statsd-mem-stats", key: "statsd_mem_stats", type: "bool", default: true, help: "toggle sending memory and GC stats to statsd" },
  { flag: "statsd-prefix", key: "statsd_prefix", type: "string", default: "nsq.%s", help: "prefix used for keys sent to statsd (%s for host replacement)" },
  { flag: "statsd-udp-packet-size", key: "statsd_udp_packet_size", type: "int", default: 508, help: "the size in bytes of statsd UDP packets" },
  { flag: "statsd-exclude-ephemeral", key: "statsd_exclude_ephemeral", type: "bool", default: false, help: "skip ephemeral topics and channels when sending stats to statsd" },
  { flag: "e2e-processing-latency-percentile", key: "e2e_processing_latency_percentiles", type: "float-list", default: [], help: "message processing time percentiles (as float (0, 1.0]) to track (can be specified multiple times or comma separated '1.0,0.99,0.95', default none)" },
  { flag: "e2e-processing-latency-window-time", key: "e2e_processing_latency_window_time", type: "duration", default: 10 * MINUTE, help: "calculate end to end latency quantiles for this duration of time" },
  { flag: "tls-cert", key: "tls_cert", type: "string", default: "", help: "path to certificate file" },
  { flag: "tls-key", key: "tls_key", type: "string", default: "", help: "path to key file" },
  { flag: "tls-client-auth-policy", key: "tls_client_auth_policy", type: "string", default: "", help: "client certificate auth policy ('require' or 'require-verify')", choices: ["", "require", "require-verify"] },
  { flag: "tls-root-ca-file", key: "tls_root_ca_file", type: "string", default: "", help: "path to certificate authority file" },
  { flag: "tls-required", key: "tls_required", type: "string", default: "false", help: "require TLS for client connections (true, false, tcp-https)", choices: ["true", "false", "tcp-https"], boolLike: true },
  { flag: "tls-min-version", key: "tls_min_version", type: "string", default: "tls1.0", help: "minimum TLS version (tls1.0, tls1.1, tls1.2, tls1.3)", choices: ["", "tls1.0", "tls1.1", "tls1.2", "tls1.3"] },
  { flag: "deflate", key: "deflate", type: "bool", default: true, help: "enable deflate feature negotiation (client compression)" },
  { flag: "max-deflate-level", key: "max_deflate_level", type: "int", default: 6, help: "max deflate compression level a client can negotiate (> values == > nsqd CPU usage)" },
  { flag: "snappy", key: "snappy", type: "bool", default: true, help: "enable snappy feature negotiation (client compression)" },
  { flag: "enable-experiment", key: "enable_experiment", type: "list", default: [], help: "enable experimental feature (may be given multiple times) (valid options: topology-aware-consumption)" },
];

/** tls_required as the original's TLSNotRequired (0), TLSRequiredExceptHTTP (1), TLSRequired (2). */
export function tlsRequiredLevel(value: string): number {
  if (value === "tcp-https") return 1;
  return parseGoBool(value) === true ? 2 : 0;
}

/**
 * The checks the original applies when it builds the daemon (apps/nsqd and
 * nsqd.New), with its wording, and the values it completes. Returns a
 * normalised copy; throws RangeError. Running it again on its result changes
 * nothing.
 */
export function normaliseNsqdOptions(options: NsqdOptions): NsqdOptions {
  const o: NsqdOptions = {
    ...options,
    nsqlookupd_tcp_addresses: [...options.nsqlookupd_tcp_addresses],
    auth_http_addresses: [...options.auth_http_addresses],
    enable_experiment: [...options.enable_experiment],
  };
  o.log_level = parseLogLevel(o.log_level);
  // D-FLAG-TLS-MIN-VERSION: an empty value keeps the default.
  if (o.tls_min_version === "") o.tls_min_version = "tls1.0";
  if (o.max_deflate_level < 1 || o.max_deflate_level > 9) {
    throw new RangeError("--max-deflate-level must be [1,9]");
  }
  if (!Number.isInteger(o.id) || o.id < 0 || o.id >= 1024) {
    throw new RangeError("--node-id must be [0,1024)");
  }
  // D-FLAG-E2E-PERCENTILE: values in (0, 1], kept sorted descending.
  for (const p of o.e2e_processing_latency_percentiles) {
    if (!(p > 0 && p <= 1)) throw new RangeError(`invalid E2E processing latency percentile: ${p}`);
  }
  o.e2e_processing_latency_percentiles = [...o.e2e_processing_latency_percentiles].sort((a, b) => b - a);
  // D-BEH-TLS: a client-certificate policy implies --tls-required; TLS
  // required without a cert and key (no TLS at all) cannot be served.
  if (o.tls_client_auth_policy !== "" && o.tls_required === "false") o.tls_required = "true";
  if (o.tls_cert === "" && o.tls_key === "" && o.tls_required !== "false") {
    throw new RangeError("cannot require TLS client connections without TLS key and cert");
  }
  return o;
}
