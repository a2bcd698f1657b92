// The nsqlookupd daemon (SPEC §6): an in-memory directory that nsqd instances
// register with over TCP ("V1") and that consumers and tools query over HTTP.
// No state survives a restart (K-LOOKUPD-STATE); instances never talk to each
// other (clients union the answers, G-EVENTUAL).
import type { Logger } from "../common/log.ts";
import { formatAddress, splitHostPort } from "../common/address.ts";
import type { Address, FetchHandler, HttpServer, Runtime, TcpListener } from "../runtime/types.ts";
import { LookupConnection, type LookupConnectionHost } from "./client-v1.ts";
import { createLookupdHttpHandler, type LookupdHttpHost } from "./http.ts";
import type { LookupdOptions } from "./options.ts";
import { RegistrationDB } from "./registration-db.ts";

export interface LookupdDeps {
  runtime: Runtime;
  logger: Logger;
  /** Epoch ms clock (tests); defaults to the wall clock. */
  now?: () => number;
}

/** The original has no IDENTIFY size limit; 1 MiB is far above any real peer info. */
const MAX_IDENTIFY_BODY = 1024 * 1024;

/** `host:port` (IPv6 in brackets); lookupd listens on TCP only. */
export function parseHostPort(value: string, flag: string): { host: string; port: number } {
  const hp = splitHostPort(value);
  if (hp === null || hp.port > 65535) throw new TypeError(`--${flag}: "${value}" is not a valid <addr>:<port>`);
  return hp;
}

export class Lookupd implements LookupConnectionHost, LookupdHttpHost {
  readonly options: LookupdOptions;
  readonly runtime: Runtime;
  readonly logger: Logger;
  readonly db = new RegistrationDB();
  readonly maxBodySize = MAX_IDENTIFY_BODY;
  /** The HTTP API, callable directly (in-process tests). */
  readonly fetch: FetchHandler;
  readonly #now: () => number;
  readonly #connections = new Set<LookupConnection>();
  #tcp: TcpListener | null = null;
  #http: HttpServer | null = null;
  #closing = false;

  constructor(options: LookupdOptions, deps: LookupdDeps) {
    this.options = options;
    this.runtime = deps.runtime;
    this.logger = deps.logger;
    this.#now = deps.now ?? (() => Date.now());
    this.fetch = createLookupdHttpHandler(this);
  }

  now(): number {
    return this.#now();
  }

  get inactiveProducerTimeout(): number {
    return this.options.inactive_producer_timeout;
  }

  get tombstoneLifetime(): number {
    return this.options.tombstone_lifetime;
  }

  /** Bound TCP address once started. */
  get tcpAddress(): Address | null {
    return this.#tcp?.address ?? null;
  }

  /** Bound HTTP address once started. */
  get httpAddress(): Address | null {
    return this.#http?.address ?? null;
  }

  /** The broadcast address given, or the OS hostname (L-FLAG-BROADCAST-ADDRESS). */
  get broadcastAddress(): string {
    return this.options.broadcast_address || this.runtime.hostname();
  }

  async start(): Promise<void> {
    const o = this.options;
    const tcpAt = parseHostPort(o.tcp_address, "tcp-address");
    const httpAt = parseHostPort(o.http_address, "http-address");
    try {
      this.#tcp = await this.runtime.listen(tcpAt, (socket) => {
        const connection = new LookupConnection(this, socket);
        this.#connections.add(connection);
        return connection;
      });
      this.logger.info(`TCP: listening on ${formatAddress(this.#tcp.address)}`);
      this.#http = await this.runtime.serveHttp(httpAt, this.fetch);
      this.logger.info(`HTTP: listening on ${formatAddress(this.#http.address)}`);
    } catch (e) {
      await this.#tcp?.close().catch(() => {});
      await this.#http?.close().catch(() => {});
      this.#tcp = null;
      this.#http = null;
      throw e;
    }
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    await this.#tcp?.close();
    this.#tcp = null;
    for (const c of [...this.#connections]) c.shutdown();
    await this.#http?.close();
    this.#http = null;
  }

  // ---- LookupConnectionHost ------------------------------------------------

  identifyReply(): { tcp_port: number; http_port: number; broadcast_address: string; hostname: string } {
    const port = (a: Address | null) => (a !== null && "port" in a ? a.port : 0);
    return {
      tcp_port: port(this.tcpAddress),
      http_port: port(this.httpAddress),
      broadcast_address: this.broadcastAddress,
      hostname: this.runtime.hostname(),
    };
  }

  connectionClosed(connection: LookupConnection): void {
    this.#connections.delete(connection);
  }
}
