// nsqadmin's options: the A-FLAG rows of SPEC §7.3 (except --version and
// --config, which belong to the program, see cli/commands/admin.ts), with the
// original's flag names, config keys and defaults. Durations are milliseconds.
// checkAdminOptions() applies the startup checks (A-FLAG-VALIDATION).
import type { OptionTable } from "../common/options.ts";
import { splitHostPort } from "../common/address.ts";
import { parseCidr } from "./cidr.ts";

export interface AdminOptions {
  log_level: string;
  log_prefix: string;
  /** A-FLAG-HTTP-ADDRESS */
  http_address: string;
  /** A-FLAG-BASE-PATH: normalised by checkAdminOptions ("/" or "/prefix"). */
  base_path: string;
  /** A-FLAG-DEV-STATIC-DIR: serve /static/* from this directory instead of the embedded copy. */
  dev_static_dir: string;
  graphite_url: string;
  proxy_graphite: boolean;
  statsd_counter_format: string;
  statsd_gauge_format: string;
  statsd_prefix: string;
  /** A-FLAG-STATSD-INTERVAL (ms). */
  statsd_interval: number;
  notification_http_endpoint: string;
  /** A-FLAG-HTTP-CLIENT-CONNECT-TIMEOUT (ms). */
  http_client_connect_timeout: number;
  /** A-FLAG-HTTP-CLIENT-REQUEST-TIMEOUT (ms). */
  http_client_request_timeout: number;
  http_client_tls_insecure_skip_verify: boolean;
  http_client_tls_root_ca_file: string;
  http_client_tls_cert: string;
  http_client_tls_key: string;
  allow_config_from_cidr: string;
  acl_http_header: string;
  admin_users: string[];
  nsqlookupd_http_addresses: string[];
  nsqd_http_addresses: string[];
}

const SECOND = 1000;

// biome-ignore format: one option per line reads as a table
export const ADMIN_OPTIONS: OptionTable = [
  { flag: "log-level", key: "log_level", type: "string", default: "info", help: "set log verbosity: debug, info, warn, error, or fatal", choices: ["debug", "info", "warn", "warning", "error", "fatal"] },
  { flag: "log-prefix", key: "log_prefix", type: "string", default: "[nsqadmin] ", help: "log message prefix" },
  { flag: "verbose", key: null, type: "bool", default: false, help: "[deprecated] has no effect, use --log-level", deprecated: true },
  { flag: "http-address", key: "http_address", type: "string", default: "0.0.0.0:4171", help: "<addr>:<port> to listen on for HTTP clients" },
  { flag: "base-path", key: "base_path", type: "string", default: "/", help: "URL base path" },
  { flag: "dev-static-dir", key: "dev_static_dir", type: "string", default: "", help: "(development use only) serve the UI assets from this directory" },
  { flag: "graphite-url", key: "graphite_url", type: "string", default: "", help: "graphite HTTP address" },
  { flag: "proxy-graphite", key: "proxy_graphite", type: "bool", default: false, help: "proxy HTTP requests to graphite" },
  { flag: "statsd-counter-format", key: "statsd_counter_format", type: "string", default: "stats.counters.%s.count", help: "The counter stats key formatting applied by the implementation of statsd. If no formatting is desired, set this to an empty string." },
  { flag: "statsd-gauge-format", key: "statsd_gauge_format", type: "string", default: "stats.gauges.%s", help: "The gauge stats key formatting applied by the implementation of statsd. If no formatting is desired, set this to an empty string." },
  { flag: "statsd-prefix", key: "statsd_prefix", type: "string", default: "nsq.%s", help: "prefix used for keys sent to statsd (%s for host replacement, must match nsqd)" },
  { flag: "statsd-interval", key: "statsd_interval", type: "duration", default: 60 * SECOND, help: "time interval nsqd is configured to push to statsd (must match nsqd)" },
  { flag: "notification-http-endpoint", key: "notification_http_endpoint", type: "string", default: "", help: "HTTP endpoint (fully qualified) to which POST notifications of admin actions will be sent" },
  { flag: "http-client-connect-timeout", key: "http_client_connect_timeout", type: "duration", default: 2 * SECOND, help: "timeout for HTTP connect" },
  { flag: "http-client-request-timeout", key: "http_client_request_timeout", type: "duration", default: 5 * SECOND, help: "timeout for HTTP request" },
  { flag: "http-client-tls-insecure-skip-verify", key: "http_client_tls_insecure_skip_verify", type: "bool", default: false, help: "configure the HTTP client to skip verification of TLS certificates" },
  { flag: "http-client-tls-root-ca-file", key: "http_client_tls_root_ca_file", type: "string", default: "", help: "path to CA file for the HTTP client" },
  { flag: "http-client-tls-cert", key: "http_client_tls_cert", type: "string", default: "", help: "path to certificate file for the HTTP client" },
  { flag: "http-client-tls-key", key: "http_client_tls_key", type: "string", default: "", help: "path to key file for the HTTP client" },
  { flag: "allow-config-from-cidr", key: "allow_config_from_cidr", type: "string", default: "127.0.0.1/8", help: "A CIDR from which to allow HTTP requests to the /config endpoint" },
  { flag: "acl-http-header", key: "acl_http_header", type: "string", default: "X-Forwarded-User", help: "HTTP header to check for authenticated admin users" },
  { flag: "lookupd-http-address", key: "nsqlookupd_http_addresses", type: "list", default: [], help: "lookupd HTTP address (may be given multiple times)" },
  { flag: "nsqd-http-address", key: "nsqd_http_addresses", type: "list", default: [], help: "nsqd HTTP address (may be given multiple times)" },
  { flag: "admin-user", key: "admin_users", type: "list", default: [], help: "admin user (may be given multiple times; if specified, only these users will be able to perform privileged actions; acl-http-header is used to determine the authenticated user)" },
];

/** The defaults as an options object, then `overrides` (tests and `nsq up` start from these). */
export function defaultAdminOptions(overrides: Partial<AdminOptions> = {}): AdminOptions {
  const o: Record<string, unknown> = {};
  for (const spec of ADMIN_OPTIONS) {
    if (spec.key === null) continue;
    const d = typeof spec.default === "function" ? (spec.default as () => unknown)() : spec.default;
    o[spec.key] = Array.isArray(d) ? [...d] : d;
  }
  return { ...(o as unknown as AdminOptions), ...overrides };
}

/** A-FLAG-BASE-PATH: leading "/" added, then cleaned like Go's path.Clean. */
export function normalizeBasePath(p: string): string {
  if (p === "") return "/";
  const parts: string[] = [];
  for (const seg of (p.startsWith("/") ? p : `/${p}`).split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") parts.pop();
    else parts.push(seg);
  }
  return `/${parts.join("/")}`;
}

/**
 * `host:port` as the original's net.ResolveTCPAddr accepts it, checked by
 * syntax only: the runtime interface has no resolver, and a name that does not
 * resolve fails on the first query instead (reported per upstream).
 */
export function isHostPort(value: string): boolean {
  const hp = splitHostPort(value);
  return hp !== null && hp.port <= 65535;
}

/**
 * A-FLAG-VALIDATION, with the original's messages (the CLI prefixes them with
 * "failed to instantiate nsqadmin - "). Returns a copy with base_path normalised.
 * Throws TypeError.
 */
export function checkAdminOptions(options: AdminOptions): AdminOptions {
  const o: AdminOptions = { ...options };
  if (o.nsqd_http_addresses.length === 0 && o.nsqlookupd_http_addresses.length === 0) {
    throw new TypeError("--nsqd-http-address or --lookupd-http-address required");
  }
  if (o.nsqd_http_addresses.length !== 0 && o.nsqlookupd_http_addresses.length !== 0) {
    throw new TypeError("use --nsqd-http-address or --lookupd-http-address not both");
  }
  if (o.http_client_tls_cert !== "" && o.http_client_tls_key === "") {
    throw new TypeError("--http-client-tls-key must be specified with --http-client-tls-cert");
  }
  if (o.http_client_tls_key !== "" && o.http_client_tls_cert === "") {
    throw new TypeError("--http-client-tls-cert must be specified with --http-client-tls-key");
  }
  for (const a of o.nsqlookupd_http_addresses) {
    if (!isHostPort(a)) throw new TypeError(`failed to resolve --lookupd-http-address (${a}) - address ${a}: missing or invalid port`);
  }
  for (const a of o.nsqd_http_addresses) {
    if (!isHostPort(a)) throw new TypeError(`failed to resolve --nsqd-http-address (${a}) - address ${a}: missing or invalid port`);
  }
  if (o.proxy_graphite) {
    try {
      new URL(o.graphite_url);
    } catch {
      throw new TypeError(`failed to parse --graphite-url (${o.graphite_url}) - invalid URL`);
    }
  }
  if (o.allow_config_from_cidr !== "" && parseCidr(o.allow_config_from_cidr) === null) {
    throw new TypeError(`failed to parse --allow-config-from-cidr (${o.allow_config_from_cidr}) - invalid CIDR address: ${o.allow_config_from_cidr}`);
  }
  o.base_path = normalizeBasePath(o.base_path);
  o.admin_users = [...o.admin_users];
  o.nsqd_http_addresses = [...o.nsqd_http_addresses];
  o.nsqlookupd_http_addresses = [...o.nsqlookupd_http_addresses];
  return o;
}
