// nsqlookupd's options: the L-FLAG rows of SPEC §6.4 (except --version and
// --config, which belong to the program, see cli/commands/lookupd.ts), with the
// original's flag names, config keys and defaults. Durations are milliseconds.
import type { OptionTable } from "../common/options.ts";

export interface LookupdOptions {
  log_level: string;
  log_prefix: string;
  /** L-FLAG-TCP-ADDRESS: where nsqd instances register (host:port). */
  tcp_address: string;
  /** L-FLAG-HTTP-ADDRESS: the HTTP API (host:port). */
  http_address: string;
  /** L-FLAG-BROADCAST-ADDRESS: returned to nsqd in the IDENTIFY reply. */
  broadcast_address: string;
  /** L-FLAG-INACTIVE-PRODUCER-TIMEOUT (ms). */
  inactive_producer_timeout: number;
  /** L-FLAG-TOMBSTONE-LIFETIME (ms). */
  tombstone_lifetime: number;
}

const SECOND = 1000;

/**
 * The broadcast address defaults to the OS hostname; the CLI substitutes it
 * (as it does for nsqd) so that -help shows the real default.
 */
// biome-ignore format: one option per line reads as a table
export const LOOKUPD_OPTIONS: OptionTable = [
  { flag: "log-level", key: "log_level", type: "string", default: "info", help: "set log verbosity: debug, info, warn, error, or fatal", choices: ["debug", "info", "warn", "warning", "error", "fatal"] },
  { flag: "log-prefix", key: "log_prefix", type: "string", default: "[nsqlookupd] ", help: "log message prefix" },
  { flag: "verbose", key: null, type: "bool", default: false, help: "[deprecated] has no effect, use --log-level", deprecated: true },
  { flag: "tcp-address", key: "tcp_address", type: "string", default: "0.0.0.0:4160", help: "<addr>:<port> to listen on for TCP clients" },
  { flag: "http-address", key: "http_address", type: "string", default: "0.0.0.0:4161", help: "<addr>:<port> to listen on for HTTP clients" },
  { flag: "broadcast-address", key: "broadcast_address", type: "string", default: "", help: "address of this lookupd node, (default to the OS hostname)" },
  { flag: "inactive-producer-timeout", key: "inactive_producer_timeout", type: "duration", default: 300 * SECOND, help: "duration of time a producer will remain in the active list since its last ping" },
  { flag: "tombstone-lifetime", key: "tombstone_lifetime", type: "duration", default: 45 * SECOND, help: "duration of time a producer will remain tombstoned if registration remains" },
];

/** The defaults as an options object (tests and `nsq up` start from these). */
export function defaultLookupdOptions(overrides: Partial<LookupdOptions> = {}): LookupdOptions {
  const o: Record<string, unknown> = {};
  for (const spec of LOOKUPD_OPTIONS) {
    if (spec.key === null) continue;
    const d = spec.default;
    o[spec.key] = typeof d === "function" ? (d as () => unknown)() : Array.isArray(d) ? [...d] : d;
  }
  return { ...(o as unknown as LookupdOptions), ...overrides };
}
