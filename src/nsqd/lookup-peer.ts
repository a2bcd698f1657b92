// nsqd's side of the nsqlookupd protocol (SPEC §4.3): one lazily connected
// peer per --lookupd-tcp-address. Each peer does one request/response round
// trip at a time (commands queue behind each other); any failure closes it,
// and the next command (a notification or the 15 s PING) reconnects, sends
// the magic, re-IDENTIFYs and re-REGISTERs everything (D-BEH-LOOKUP-RECONNECT).
//
// The class knows nothing of Nsqd: the daemon hands in its identity and a
// snapshot function of its topics and channels (LookupPeersHost).
import type { Logger } from "../common/log.ts";
import { joinHostPort, splitHostPort } from "../common/address.ts";
import { errorText } from "../common/errors.ts";
import { MAGIC_V1, V1ResponseReader, encodeV1Command } from "../protocol/lookup.ts";
import { isEphemeral } from "../protocol/names.ts";
import { decodeUtf8, utf8 } from "../protocol/text.ts";
import type { Runtime, Socket } from "../runtime/types.ts";

/** The IDENTIFY body nsqd sends (D-BEH-LOOKUP-CONNECT); ports are the broadcast ports. */
export interface NsqdPeerInfo {
  version: string;
  tcp_port: number;
  http_port: number;
  hostname: string;
  broadcast_address: string;
  topology_zone: string;
  topology_region: string;
}

export interface LookupPeersHost {
  readonly runtime: Runtime;
  readonly logger: Logger;
  /** Read at every (re)connect. */
  info(): NsqdPeerInfo;
  /** Every current topic/channel pair; `null` channel for a topic without channels. */
  registrations(): Array<[topic: string, channel: string | null]>;
  /** --max-body-size: largest lookupd reply accepted. Default 5 MiB. */
  readonly maxBodySize?: number;
  /** --http-client-request-timeout (ms) for /channels queries. Default 5 s. */
  readonly httpRequestTimeoutMs?: number;
  /** Keep-alive period (D-BEH-LOOKUP-PING). Default 15 s; tests shorten it. */
  readonly pingIntervalMs?: number;
}

/** What lookupd says about itself in its IDENTIFY reply. */
export interface LookupdInfo {
  tcp_port: number;
  http_port: number;
  version: string;
  broadcast_address: string;
}

/** Dial, read and write deadline of the original (1 s each). */
const IO_TIMEOUT_MS = 1000;
const PING_INTERVAL_MS = 15_000;

/** `host:port` for TCP; IPv6 in brackets. */
export function parseLookupdAddress(value: string): { host: string; port: number } | null {
  const hp = splitHostPort(value.trim());
  return hp === null || hp.port > 65535 ? null : hp;
}

/** One lookupd. Use through LookupPeers. */
export class LookupPeer {
  readonly address: string;
  /** Learned from the IDENTIFY reply; kept across disconnections, as the original does. */
  info: LookupdInfo = { tcp_port: 0, http_port: 0, version: "", broadcast_address: "" };
  readonly #host: LookupPeersHost;
  #socket: Socket | null = null;
  #waiter: { resolve(data: Uint8Array): void; reject(e: Error): void } | null = null;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;
  /** Connections made so far (tests observe reconnection). */
  connects = 0;

  constructor(address: string, host: LookupPeersHost) {
    this.address = address;
    this.#host = host;
  }

  get connected(): boolean {
    return this.#socket !== null;
  }

  /**
   * Queue a command (null: just make sure the connection is up). Resolves with
   * the reply, or null when the command failed (already logged).
   */
  command(verb: string | null, params: readonly string[] = []): Promise<Uint8Array | null> {
    const result = this.#chain.then(() => this.#roundTrip(verb, params));
    this.#chain = result.then(
      () => {},
      () => {},
    );
    return result.catch((e: unknown) => {
      if (!this.#closed)
        this.#host.logger.error(`LOOKUPD(${this.address}): ${verb ?? "connect"}${params.length ? " " + params.join(" ") : ""} - ${errorText(e)}`);
      return null;
    });
  }

  /** Wait for every queued command. */
  idle(): Promise<void> {
    return this.#chain;
  }

  /** Disconnect for good (removed from the list, or nsqd closing). */
  close(): void {
    this.#closed = true;
    this.#disconnect(new Error("lookup peer closed"));
  }

  async #roundTrip(verb: string | null, params: readonly string[]): Promise<Uint8Array | null> {
    if (this.#closed) return null;
    if (this.#socket === null) {
      await this.#connect();
      await this.#identifyAndRegister();
    }
    if (verb === null) return null;
    return this.#exchange(encodeV1Command(verb, params));
  }

  async #connect(): Promise<void> {
    const at = parseLookupdAddress(this.address);
    if (at === null) throw new TypeError(`invalid lookupd address "${this.address}"`);
    this.#host.logger.info(`LOOKUP connecting to ${this.address}`);
    const reader = new V1ResponseReader({ maxSize: this.#host.maxBodySize ?? 5 * 1024 * 1024 });
    // `live` is false once this connection was replaced or dropped, so late
    // callbacks of an old socket cannot touch the current one.
    let live = true;
    const socket = await this.#host.runtime.connect(
      at,
      (s) => ({
        data: (chunk) => {
          if (!live || this.#socket !== s) return;
          let replies: Uint8Array[];
          try {
            replies = reader.push(chunk);
          } catch (e) {
            this.#disconnect(e as Error);
            return;
          }
          for (const reply of replies) {
            const w = this.#waiter;
            this.#waiter = null;
            w?.resolve(reply);
          }
        },
        close: (error) => {
          const current = live && this.#socket === s;
          live = false;
          if (current) this.#disconnect(error ?? new Error("connection closed by lookupd"));
        },
      }),
      { timeoutMs: IO_TIMEOUT_MS },
    );
    if (this.#closed) {
      socket.close();
      throw new Error("lookup peer closed");
    }
    if (!live) throw new Error("connection closed by lookupd");
    this.#socket = socket;
    this.connects++;
    socket.write(MAGIC_V1);
  }

  /** The original's connect callback: IDENTIFY, learn the lookupd's info, REGISTER everything. */
  async #identifyAndRegister(): Promise<void> {
    const { logger } = this.#host;
    const body = utf8(JSON.stringify(this.#host.info()));
    const reply = await this.#exchange(encodeV1Command("IDENTIFY", [], body));
    const text = decodeUtf8(reply);
    let info: Partial<LookupdInfo>;
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed === null || typeof parsed !== "object") throw new SyntaxError("not an object");
      info = parsed as Partial<LookupdInfo>;
    } catch {
      this.#disconnect(new Error(`parsing response - ${text}`));
      throw new Error(`IDENTIFY refused or not understood: ${text}`);
    }
    this.info = {
      tcp_port: typeof info.tcp_port === "number" ? info.tcp_port : 0,
      http_port: typeof info.http_port === "number" ? info.http_port : 0,
      version: typeof info.version === "string" ? info.version : "",
      broadcast_address: typeof info.broadcast_address === "string" ? info.broadcast_address : "",
    };
    logger.info(`LOOKUPD(${this.address}): peer info ${JSON.stringify(this.info)}`);
    if (this.info.broadcast_address === "") logger.error(`LOOKUPD(${this.address}): no broadcast address`);
    for (const [topic, channel] of this.#host.registrations()) {
      const params = channel === null ? [topic] : [topic, channel];
      logger.info(`LOOKUPD(${this.address}): REGISTER ${params.join(" ")}`);
      await this.#exchange(encodeV1Command("REGISTER", params));
    }
  }

  /** Write one command and read its reply, each within the deadline. */
  #exchange(bytes: Uint8Array): Promise<Uint8Array> {
    const socket = this.#socket;
    if (socket === null) return Promise.reject(new Error("not connected"));
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => this.#disconnect(new Error(`no reply within ${IO_TIMEOUT_MS}ms`)), IO_TIMEOUT_MS);
      this.#waiter = {
        resolve: (data) => {
          clearTimeout(timer);
          resolve(data);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      socket.write(bytes);
    });
  }

  #disconnect(error: Error): void {
    const socket = this.#socket;
    this.#socket = null;
    socket?.close();
    const w = this.#waiter;
    this.#waiter = null;
    w?.reject(error);
  }
}

export class LookupPeers {
  readonly #host: LookupPeersHost;
  #peers: LookupPeer[] = [];
  #timer: ReturnType<typeof setInterval> | null = null;
  #closed = false;

  constructor(addresses: readonly string[], host: LookupPeersHost) {
    this.#host = host;
    this.#add(addresses);
  }

  get peers(): readonly LookupPeer[] {
    return this.#peers;
  }

  /** Connect every peer and start the keep-alive. */
  start(): void {
    for (const p of this.#peers) void p.command(null);
    this.#timer = setInterval(() => {
      for (const p of this.#peers) {
        this.#host.logger.debug(`LOOKUPD(${p.address}): sending heartbeat`);
        void p.command("PING");
      }
    }, this.#host.pingIntervalMs ?? PING_INTERVAL_MS);
  }

  /** D-BEH-LOOKUP-NOTIFY: topic or channel created. */
  register(topic: string, channel?: string): void {
    this.#notify("REGISTER", topic, channel);
  }

  /** D-BEH-LOOKUP-NOTIFY: topic or channel deleted. */
  unregister(topic: string, channel?: string): void {
    this.#notify("UNREGISTER", topic, channel);
  }

  /** D-BEH-LOOKUP-RECONFIG: replace the list; removed peers close, new ones connect. */
  setAddresses(addresses: readonly string[]): void {
    const keep = new Set(addresses);
    for (const p of this.#peers) {
      if (keep.has(p.address)) continue;
      this.#host.logger.info(`LOOKUP(${p.address}): removing peer`);
      p.close();
    }
    this.#peers = this.#peers.filter((p) => keep.has(p.address));
    const added = this.#add(addresses);
    if (this.#timer !== null) for (const p of added) void p.command(null);
  }

  /** Wait until every queued command of every peer is done (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all(this.#peers.map((p) => p.idle()));
  }

  /** `host:port` of each lookupd HTTP API learned from IDENTIFY. */
  httpAddresses(): string[] {
    const out: string[] = [];
    for (const p of this.#peers) {
      if (p.info.broadcast_address === "") continue;
      out.push(joinHostPort(p.info.broadcast_address, p.info.http_port));
    }
    return out;
  }

  /**
   * D-BEH-PRECREATE: the channels every reachable lookupd knows for `topic`
   * (GET /channels), deduplicated and sorted, #ephemeral ones left out.
   * Failures are logged; the answer is then what the others said (or []).
   */
  async channelsFor(topic: string): Promise<string[]> {
    const { logger } = this.#host;
    const addresses = this.httpAddresses();
    if (addresses.length === 0) {
      if (this.#peers.length > 0) logger.error(`no available nsqlookupd to query for channels to pre-create for topic ${topic}`);
      return [];
    }
    const errors: string[] = [];
    const found = new Set<string>();
    await Promise.all(
      addresses.map(async (addr) => {
        const endpoint = `http://${addr}/channels?topic=${encodeURIComponent(topic)}`;
        try {
          for (const c of await this.#getChannels(endpoint)) found.add(c);
        } catch (e) {
          errors.push(`${endpoint}: ${errorText(e)}`);
        }
      }),
    );
    if (errors.length > 0) logger.warn(`failed to query nsqlookupd for channels to pre-create for topic ${topic} - ${errors.join("; ")}`);
    return [...found].filter((c) => !isEphemeral(c)).sort();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#host.logger.info("LOOKUP: closing");
    for (const p of this.#peers) p.close();
    await this.idle();
  }

  #add(addresses: readonly string[]): LookupPeer[] {
    const added: LookupPeer[] = [];
    for (const address of addresses) {
      if (this.#peers.some((p) => p.address === address)) continue;
      this.#host.logger.info(`LOOKUP(${address}): adding peer`);
      const peer = new LookupPeer(address, this.#host);
      this.#peers.push(peer);
      added.push(peer);
    }
    return added;
  }

  #notify(verb: "REGISTER" | "UNREGISTER", topic: string, channel: string | undefined): void {
    if (this.#closed) return;
    const params = channel === undefined || channel === "" ? [topic] : [topic, channel];
    const branch = params.length === 2 ? "channel" : "topic";
    for (const p of this.#peers) {
      this.#host.logger.info(`LOOKUPD(${p.address}): ${branch} ${verb} ${params.join(" ")}`);
      void p.command(verb, params);
    }
  }

  /** X-HTTP-CLIENT: GET with the V1 Accept header; a non-200 is an error. */
  async #getChannels(endpoint: string): Promise<string[]> {
    const res = await fetch(endpoint, {
      headers: { accept: "application/vnd.nsq; version=1.0" },
      signal: AbortSignal.timeout(this.#host.httpRequestTimeoutMs ?? 5000),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`got response ${res.status} ${res.statusText} ${JSON.stringify(text)}`);
    let body = JSON.parse(text) as { channels?: unknown; data?: { channels?: unknown } };
    // A pre-1.0 lookupd wraps the answer in {"data": ...} and omits the header.
    if (res.headers.get("x-nsq-content-type") === null && body.data !== undefined) body = body.data;
    return Array.isArray(body.channels) ? body.channels.filter((c): c is string => typeof c === "string") : [];
  }
}
