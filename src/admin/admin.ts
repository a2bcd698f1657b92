// The nsqadmin component (SPEC §7): a web UI and JSON API over a cluster of
// nsqd, found through nsqlookupd (--lookupd-http-address) or listed directly
// (--nsqd-http-address). It holds no cluster state of its own except the
// depth/rate history it samples for the charts (history.ts).
import type { Logger } from "../common/log.ts";
import type { FetchFunction } from "./upstream.ts";
import type { LogLevel } from "../common/log.ts";
import { parseLogLevel } from "../common/logger.ts";
import { VERSION } from "../common/version.ts";
import { formatAddress, splitHostPort } from "../common/address.ts";
import type { Address, FetchHandler, HttpServer, Runtime } from "../runtime/types.ts";
import { ClusterInfo } from "./cluster.ts";
import { History } from "./history.ts";
import { createAdminHttpHandler, type AdminHttpHost } from "./http.ts";
import { Notifier } from "./notify.ts";
import { checkAdminOptions, type AdminOptions } from "./options.ts";
import { readUpstreamTls, UpstreamClient } from "./upstream.ts";

export interface AdminDeps {
  runtime: Runtime;
  logger: Logger;
  /** Seconds between history samples; default 5 s (0 turns sampling off). */
  historyIntervalMs?: number;
  /** Samples kept per topic and channel; default 720 (an hour at 5 s). */
  historyCapacity?: number;
  /** Replaceable outbound fetch (tests). */
  fetch?: FetchFunction;
}

/** `host:port` of the listener (IPv6 hosts in brackets); an empty host is every interface. */
function parseListenAddress(value: string): { host: string; port: number } {
  const hp = splitHostPort(value);
  if (hp === null || hp.port > 65535) throw new TypeError(`--http-address: "${value}" is not a valid <addr>:<port>`);
  return { host: hp.host === "" ? "0.0.0.0" : hp.host, port: hp.port };
}

export class Admin implements AdminHttpHost {
  readonly runtime: Runtime;
  readonly logger: Logger;
  readonly cluster: ClusterInfo;
  readonly client: UpstreamClient;
  readonly history: History;
  readonly notifier: Notifier;
  /** The HTTP handler, callable directly (in-process tests). */
  readonly fetch: FetchHandler;
  #options: AdminOptions;
  #http: HttpServer | null = null;
  #closing = false;

  /** Throws TypeError when the options fail A-FLAG-VALIDATION. */
  constructor(options: AdminOptions, deps: AdminDeps) {
    this.#options = checkAdminOptions(options);
    this.runtime = deps.runtime;
    this.logger = deps.logger;
    const o = this.#options;
    this.client = new UpstreamClient({
      connectTimeoutMs: o.http_client_connect_timeout,
      requestTimeoutMs: o.http_client_request_timeout,
      runtime: deps.runtime,
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
    });
    this.cluster = new ClusterInfo(this.client, this.logger);
    this.history = new History({
      cluster: this.cluster,
      sources: () => ({ lookupd: this.#options.nsqlookupd_http_addresses, nsqd: this.#options.nsqd_http_addresses }),
      logger: this.logger,
      intervalMs: deps.historyIntervalMs ?? 5000,
      capacity: deps.historyCapacity ?? 720,
    });
    this.notifier = new Notifier({
      endpoint: () => this.#options.notification_http_endpoint,
      timeoutMs: () => this.#options.http_client_request_timeout,
      hostname: () => this.runtime.hostname(),
      logger: this.logger,
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
    });
    this.fetch = createAdminHttpHandler(this);
  }

  options(): AdminOptions {
    return this.#options;
  }

  /** PUT /config: swap the options; a log level change applies to the logger at once. */
  setOptions(next: AdminOptions): void {
    const before = this.#options.log_level;
    this.#options = next;
    if (next.log_level !== before) {
      const levelled = this.logger as Logger & { setLevel?: (level: LogLevel) => void };
      levelled.setLevel?.(parseLogLevel(next.log_level));
    }
  }

  /** Bound HTTP address once started. */
  get httpAddress(): Address | null {
    return this.#http?.address ?? null;
  }

  /** Bound HTTP port once started (-1 before). */
  get httpPort(): number {
    const a = this.httpAddress;
    return a !== null && "port" in a ? a.port : -1;
  }

  async start(): Promise<void> {
    const o = this.#options;
    this.logger.info(`nsqadmin v${VERSION} (built w/${this.runtime.version})`);
    // A-BEH-UPSTREAM-TLS: read here, not in the constructor, so that a bad
    // file is reported as a start-up failure.
    this.client.configureTls(readUpstreamTls(this.runtime.fs, o));
    this.#http = await this.runtime.serveHttp(parseListenAddress(o.http_address), this.fetch);
    this.logger.info(`HTTP: listening on ${formatAddress(this.#http.address)}`);
    this.history.start();
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    await this.history.close();
    await this.#http?.close();
    this.#http = null;
    await this.notifier.idle();
    this.client.close();
  }
}
