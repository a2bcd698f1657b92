// Client configuration with go-nsq's option names, defaults and ranges
// (U-CLI-DEFAULTS), settable one `key,value` string at a time the way the
// tools' `--consumer-opt` / `--producer-opt` flags do (U-CLI-OPTS).
//
// Durations are held in milliseconds. Values given as text use Go syntax:
// durations like "250ms" / "1m30s" (a bare integer means milliseconds, as
// go-nsq's Set does for integers), booleans like "true" / "1" / "f".
import { parseDuration, formatDuration } from "../common/duration.ts";
import { parseGoBool, parseGoFloat, parseGoInt } from "../common/go-scalars.ts";
import { VERSION } from "../common/version.ts";
import { errorText } from "../common/errors.ts";

/** go-nsq's version, reported in the default user agent (`go-nsq/1.1.0`). */
export const GO_NSQ_VERSION = "1.1.0";

export type BackoffStrategyName = "exponential" | "full_jitter";

export interface ConfigValues {
  dial_timeout: number;
  read_timeout: number;
  write_timeout: number;
  local_addr: string;
  lookupd_poll_interval: number;
  lookupd_poll_jitter: number;
  lookupd_poll_timeout: number;
  max_requeue_delay: number;
  default_requeue_delay: number;
  backoff_strategy: BackoffStrategyName;
  max_backoff_duration: number;
  backoff_multiplier: number;
  max_attempts: number;
  low_rdy_idle_timeout: number;
  low_rdy_timeout: number;
  rdy_redistribute_interval: number;
  client_id: string;
  hostname: string;
  user_agent: string;
  heartbeat_interval: number;
  sample_rate: number;
  tls_v1: boolean;
  tls_root_ca_file: string;
  tls_insecure_skip_verify: boolean;
  tls_cert: string;
  tls_key: string;
  tls_min_version: string;
  deflate: boolean;
  deflate_level: number;
  snappy: boolean;
  output_buffer_size: number;
  output_buffer_timeout: number;
  max_in_flight: number;
  msg_timeout: number;
  auth_secret: string;
  topology_region: string;
  topology_zone: string;
}

type Kind = "duration" | "int" | "float" | "bool" | "string";

interface Spec {
  kind: Kind;
  /** Inclusive bounds (ms for durations). */
  min?: number;
  max?: number;
  choices?: readonly string[];
}

const MIN = 60_000;

/** go-nsq's option table: kind and range of every option name. */
const SPECS: Readonly<Record<keyof ConfigValues, Spec>> = {
  dial_timeout: { kind: "duration" },
  read_timeout: { kind: "duration", min: 100, max: 5 * MIN },
  write_timeout: { kind: "duration", min: 100, max: 5 * MIN },
  local_addr: { kind: "string" },
  lookupd_poll_interval: { kind: "duration", min: 10, max: 5 * MIN },
  lookupd_poll_jitter: { kind: "float", min: 0, max: 1 },
  lookupd_poll_timeout: { kind: "duration" },
  max_requeue_delay: { kind: "duration", min: 0, max: 60 * MIN },
  default_requeue_delay: { kind: "duration", min: 0, max: 60 * MIN },
  backoff_strategy: { kind: "string", choices: ["exponential", "full_jitter"] },
  max_backoff_duration: { kind: "duration", min: 0, max: 60 * MIN },
  backoff_multiplier: { kind: "duration", min: 0, max: 60 * MIN },
  max_attempts: { kind: "int", min: 0, max: 65535 },
  low_rdy_idle_timeout: { kind: "duration", min: 1000, max: 5 * MIN },
  low_rdy_timeout: { kind: "duration", min: 1000, max: 5 * MIN },
  rdy_redistribute_interval: { kind: "duration", min: 1, max: 5000 },
  client_id: { kind: "string" },
  hostname: { kind: "string" },
  user_agent: { kind: "string" },
  heartbeat_interval: { kind: "duration" },
  sample_rate: { kind: "int", min: 0, max: 99 },
  tls_v1: { kind: "bool" },
  tls_root_ca_file: { kind: "string" },
  tls_insecure_skip_verify: { kind: "bool" },
  tls_cert: { kind: "string" },
  tls_key: { kind: "string" },
  tls_min_version: { kind: "string", choices: ["", "ssl3.0", "tls1.0", "tls1.1", "tls1.2", "tls1.3"] },
  deflate: { kind: "bool" },
  deflate_level: { kind: "int", min: 1, max: 9 },
  snappy: { kind: "bool" },
  output_buffer_size: { kind: "int" },
  output_buffer_timeout: { kind: "duration" },
  max_in_flight: { kind: "int", min: 0 },
  msg_timeout: { kind: "duration", min: 0 },
  auth_secret: { kind: "string" },
  topology_region: { kind: "string" },
  topology_zone: { kind: "string" },
};

/** Every option name Config accepts. */
export const CONFIG_OPTION_NAMES: readonly string[] = Object.keys(SPECS);

function defaults(hostname: string): ConfigValues {
  return {
    dial_timeout: 1000,
    read_timeout: 60_000,
    write_timeout: 1000,
    local_addr: "",
    lookupd_poll_interval: 60_000,
    lookupd_poll_jitter: 0.3,
    lookupd_poll_timeout: 60_000,
    max_requeue_delay: 15 * MIN,
    default_requeue_delay: 90_000,
    backoff_strategy: "exponential",
    max_backoff_duration: 2 * MIN,
    backoff_multiplier: 1000,
    max_attempts: 5,
    low_rdy_idle_timeout: 10_000,
    low_rdy_timeout: 30_000,
    rdy_redistribute_interval: 5000,
    client_id: hostname.split(".")[0] ?? hostname,
    hostname,
    user_agent: `go-nsq/${GO_NSQ_VERSION}`,
    heartbeat_interval: 30_000,
    sample_rate: 0,
    tls_v1: false,
    tls_root_ca_file: "",
    tls_insecure_skip_verify: false,
    tls_cert: "",
    tls_key: "",
    tls_min_version: "",
    deflate: false,
    deflate_level: 6,
    snappy: false,
    output_buffer_size: 16384,
    output_buffer_timeout: 250,
    max_in_flight: 1,
    msg_timeout: 0,
    auth_secret: "",
    topology_region: "",
    topology_zone: "",
  };
}

/** A bad option name or value (the tools treat it as fatal, U-CLI-OPTS). */
export class ConfigOptionError extends RangeError {
  override readonly name = "ConfigOptionError";
}

function describeMs(ms: number): string {
  return formatDuration(ms);
}

/**
 * The client configuration, go-nsq's option names and defaults. A Consumer
 * or Producer also takes the same options as a plain object.
 *
 * @example
 * ```ts
 * import { Config, Consumer } from "@nsq/nsq";
 *
 * const config = new Config({ max_in_flight: 10 });
 * config.set("snappy", true);
 * config.setOpt("lookupd_poll_interval,30s"); // the tools' --consumer-opt form
 * const consumer = new Consumer("events", "archive", config);
 * ```
 */
export class Config {
  readonly values: ConfigValues;
  /** No host name was given yet: hostname and client_id hold "localhost" until useHostname(). */
  #hostnamePending: boolean;
  /** Options set by name (set(), setOpt() or the constructor's overrides). */
  readonly #named = new Set<string>();

  /**
   * `hostname` feeds the client_id / hostname defaults, as os.Hostname() does
   * in go-nsq. Without it the Producer and Consumer fill them in from their
   * runtime (useHostname) before they connect.
   */
  constructor(overrides: Partial<ConfigValues> = {}, hostname?: string) {
    this.values = defaults(hostname ?? "localhost");
    this.#hostnamePending = hostname === undefined;
    for (const [k, v] of Object.entries(overrides)) this.set(k, v as string | number | boolean);
  }

  /** A copy (the Consumer and Producer copy the config they are given, as go-nsq does). */
  clone(): Config {
    const c = new Config();
    Object.assign(c.values, this.values);
    c.#hostnamePending = this.#hostnamePending;
    for (const name of this.#named) c.#named.add(name);
    return c;
  }

  /**
   * Takes the hostname / client_id defaults from the host's name when the
   * Config was made without one; options set by name keep their value.
   */
  useHostname(hostname: string): void {
    if (!this.#hostnamePending) return;
    this.#hostnamePending = false;
    const d = defaults(hostname);
    if (!this.#named.has("hostname")) this.values.hostname = d.hostname;
    if (!this.#named.has("client_id")) this.values.client_id = d.client_id;
  }

  /**
   * Sets one option. Strings are parsed with Go syntax; numbers given for a
   * duration are milliseconds. Dashes in the name are read as underscores.
   * Throws ConfigOptionError.
   */
  set(option: string, value: string | number | boolean): void {
    const name = option.replaceAll("-", "_");
    if (!Object.hasOwn(SPECS, name)) throw new ConfigOptionError(`invalid option ${name}`);
    const key = name as keyof ConfigValues;
    const spec = SPECS[key];
    const fail = (reason: string) => new ConfigOptionError(`failed to coerce option ${name} (${String(value)}) - ${reason}`);
    let v: number | boolean | string;
    switch (spec.kind) {
      case "duration":
        if (typeof value === "number") v = value;
        else if (typeof value === "string") {
          try {
            v = /^[+-]?\d+$/.test(value) ? Number(value) : parseDuration(value);
          } catch (e) {
            throw fail(errorText(e));
          }
        } else throw fail("invalid value type");
        break;
      case "int":
        if (typeof value === "number" && Number.isInteger(value)) v = value;
        else if (typeof value === "string") {
          try {
            v = parseGoInt(value);
          } catch {
            throw fail(`strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`);
          }
        } else throw fail("invalid value type");
        break;
      case "float":
        if (typeof value === "number") v = value;
        else if (typeof value === "string") {
          try {
            v = parseGoFloat(value);
          } catch {
            throw fail(`strconv.ParseFloat: parsing ${JSON.stringify(value)}: invalid syntax`);
          }
        } else throw fail("invalid value type");
        break;
      case "bool":
        if (typeof value === "boolean") v = value;
        else if (typeof value === "number") v = value !== 0;
        else {
          const b = parseGoBool(value);
          if (b === null) throw fail(`strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`);
          v = b;
        }
        break;
      case "string":
        v = String(value);
        if (spec.choices && !spec.choices.includes(v)) {
          throw new ConfigOptionError(`invalid ${name} ${JSON.stringify(v)} (one of ${spec.choices.filter(Boolean).join(", ")})`);
        }
        break;
    }
    if (typeof v === "number") {
      const show = spec.kind === "duration" ? describeMs : String;
      if (spec.min !== undefined && v < spec.min) throw new ConfigOptionError(`invalid ${name} ! ${show(v)} < ${show(spec.min)}`);
      if (spec.max !== undefined && v > spec.max) throw new ConfigOptionError(`invalid ${name} ! ${show(v)} > ${show(spec.max)}`);
    }
    (this.values as unknown as Record<string, unknown>)[key] = v;
    this.#named.add(key);
  }

  /**
   * U-CLI-OPTS: apply one `key,value` string (a bare `key` means true), as
   * `--consumer-opt` and `--producer-opt` do.
   */
  setOpt(text: string): void {
    const comma = text.indexOf(",");
    if (comma < 0) this.set(text, "true");
    else this.set(text.slice(0, comma), text.slice(comma + 1));
  }

  /**
   * Cross-option checks made before a connection is opened. Throws
   * ConfigOptionError. (Certificate files are read when connecting.)
   */
  validate(): void {
    const v = this.values;
    if (v.heartbeat_interval > v.read_timeout) {
      throw new ConfigOptionError(`HeartbeatInterval ${describeMs(v.heartbeat_interval)} must be less than ReadTimeout ${describeMs(v.read_timeout)}`);
    }
    // As go-nsq: one compression at a time (nsqd refuses both too, D-TCP-NEGOTIATE).
    if (v.snappy && v.deflate) throw new ConfigOptionError("cannot enable both snappy and deflate");
    if ((v.tls_cert === "") !== (v.tls_key === "")) throw new ConfigOptionError("tls_cert and tls_key must be given together");
  }
}

/** The user agent the tools send: `<tool>/1.3.0 go-nsq/1.1.0`. */
export function toolUserAgent(tool: string): string {
  return `${tool}/${VERSION} go-nsq/${GO_NSQ_VERSION}`;
}
