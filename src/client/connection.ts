// One client connection to an nsqd speaking V2 (U-CLI-HANDSHAKE): dial, send
// the magic, IDENTIFY with feature negotiation, read the JSON (or OK) answer,
// AUTH when the server asks for it, then hand frames to a delegate. Heartbeats
// are answered with NOP here (U-CLI-HEARTBEAT) and never reach the delegate.
import type { Logger } from "../common/log.ts";
import type { Runtime, Socket } from "../runtime/types.ts";
import {
  FrameReader,
  FrameType,
  MAGIC_V2,
  NOP_COMMAND,
  encodeAuth,
  encodeIdentify,
  readInt64,
  type Frame,
} from "../protocol/frames.ts";
import { decodeUtf8 } from "../protocol/text.ts";
import type { ConfigValues } from "./config.ts";
import { parseHostPort } from "./address.ts";

/** What nsqd answered to IDENTIFY (the fields a client reads, D-TCP-IDENTIFY-RESP). */
export interface IdentifyResponse {
  max_rdy_count: number;
  version: string;
  max_msg_timeout: number;
  msg_timeout: number;
  tls_v1: boolean;
  deflate: boolean;
  snappy: boolean;
  auth_required: boolean;
}

/** An error frame from nsqd: `code` is the `E_*` prefix (D-TCP-ERR-FORMAT). */
export class NsqError extends Error {
  override readonly name = "NsqError";
  readonly code: string;
  constructor(text: string) {
    super(text);
    const space = text.indexOf(" ");
    this.code = space < 0 ? text : text.slice(0, space);
  }
  /** Only these leave the connection open (D-TCP-ERR-FATAL). */
  get fatal(): boolean {
    return this.code !== "E_FIN_FAILED" && this.code !== "E_REQ_FAILED" && this.code !== "E_TOUCH_FAILED";
  }
}

export interface ConnectionDelegate {
  /** A message frame: `data` is the payload (a view the delegate may keep). */
  onMessage(conn: Connection, data: Uint8Array): void;
  /** A response frame other than a heartbeat (after the handshake). */
  onResponse(conn: Connection, data: Uint8Array): void;
  onError(conn: Connection, error: NsqError): void;
  /** Exactly once, when the connection is gone. */
  onClose(conn: Connection, error?: Error): void;
}

const HEARTBEAT = "_heartbeat_";

function isHeartbeat(data: Uint8Array): boolean {
  if (data.length !== HEARTBEAT.length) return false;
  for (let i = 0; i < data.length; i++) if (data[i] !== HEARTBEAT.charCodeAt(i)) return false;
  return true;
}

export interface ConnectionOptions {
  runtime: Runtime;
  logger: Logger;
  config: ConfigValues;
  delegate: ConnectionDelegate;
}

export class Connection {
  /** `host:port` as given. */
  readonly address: string;
  readonly #runtime: Runtime;
  readonly #logger: Logger;
  readonly #config: ConfigValues;
  readonly #delegate: ConnectionDelegate;
  readonly #reader = new FrameReader();
  #socket: Socket | null = null;
  /** During the handshake, frames go here instead of to the delegate. */
  #waiter: ((frame: Frame | Error) => void) | null = null;
  #closed = false;
  #lastReadAt = 0;
  #readTimer: ReturnType<typeof setInterval> | null = null;
  identity: IdentifyResponse | null = null;

  constructor(address: string, options: ConnectionOptions) {
    this.address = address;
    this.#runtime = options.runtime;
    this.#logger = options.logger;
    this.#config = options.config;
    this.#delegate = options.delegate;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Dial and handshake. Rejects (and closes) on any failure. */
  async connect(): Promise<IdentifyResponse> {
    const { host, port } = parseHostPort(this.address);
    const c = this.#config;
    this.#socket = await this.#runtime.connect({ host, port }, () => ({
      data: (chunk) => this.#onData(chunk),
      close: (err) => this.#onClose(err),
    }), { timeoutMs: c.dial_timeout > 0 ? c.dial_timeout : undefined, allowTlsUpgrade: false });
    this.#lastReadAt = Date.now();
    // read_timeout: a live nsqd sends a heartbeat at least every heartbeat_interval.
    const period = Math.max(50, Math.min(c.read_timeout / 4, 5000));
    this.#readTimer = setInterval(() => {
      if (Date.now() - this.#lastReadAt > c.read_timeout) {
        this.#logger.error(`(${this.address}) IO error - read timeout after ${c.read_timeout} ms`);
        this.close();
      }
    }, period);
    try {
      this.#socket.write(MAGIC_V2);
      const identify: Record<string, unknown> = {
        client_id: c.client_id,
        hostname: c.hostname,
        user_agent: c.user_agent,
        short_id: c.client_id,
        long_id: c.hostname,
        feature_negotiation: true,
        heartbeat_interval: c.heartbeat_interval === 0 ? 0 : Math.round(c.heartbeat_interval),
        sample_rate: c.sample_rate,
        tls_v1: c.tls_v1,
        deflate: c.deflate,
        deflate_level: c.deflate_level,
        snappy: c.snappy,
        output_buffer_size: c.output_buffer_size,
        output_buffer_timeout: Math.round(c.output_buffer_timeout),
        msg_timeout: Math.round(c.msg_timeout),
      };
      if (c.topology_region !== "") identify.topology_region = c.topology_region;
      if (c.topology_zone !== "") identify.topology_zone = c.topology_zone;
      this.#socket.write(encodeIdentify(identify));
      const answer = await this.#next();
      if (answer.type === FrameType.Error) throw new NsqError(decodeUtf8(answer.data));
      let identity: IdentifyResponse;
      if (answer.data[0] === 0x7b) {
        identity = JSON.parse(decodeUtf8(answer.data)) as IdentifyResponse;
      } else {
        identity = { max_rdy_count: 2500, version: "", max_msg_timeout: 0, msg_timeout: 0, tls_v1: false, deflate: false, snappy: false, auth_required: false };
      }
      // We never ask for upgrades (Config.validate refuses them), so none can be granted.
      if (identity.tls_v1 || identity.snappy || identity.deflate) throw new Error("nsqd granted an upgrade that was not requested");
      if (identity.auth_required) {
        if (c.auth_secret === "") throw new Error("Auth Required");
        this.#socket.write(encodeAuth(c.auth_secret));
        const auth = await this.#next();
        if (auth.type === FrameType.Error) throw new NsqError(decodeUtf8(auth.data));
        this.#logger.info(`(${this.address}) Auth accepted. ${decodeUtf8(auth.data)}`);
      }
      this.identity = identity;
      return identity;
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** The next frame during the handshake. */
  #next(): Promise<Frame> {
    return new Promise((resolve, reject) => {
      if (this.#closed) return reject(new Error(`connection to ${this.address} closed during the handshake`));
      const timer = setTimeout(() => {
        this.#waiter = null;
        reject(new Error(`timed out after ${this.#config.read_timeout} ms waiting for ${this.address}`));
      }, this.#config.read_timeout);
      this.#waiter = (f) => {
        clearTimeout(timer);
        this.#waiter = null;
        if (f instanceof Error) reject(f);
        else resolve(f);
      };
    });
  }

  /** Queue bytes for the server. Returns false when the socket is gone. */
  write(bytes: Uint8Array): boolean {
    if (this.#closed || this.#socket === null) return false;
    this.#socket.write(bytes);
    return true;
  }

  /** Close now. */
  close(): void {
    if (this.#socket !== null && !this.#closed) this.#socket.close();
    else this.#onClose();
  }

  #onData(chunk: Uint8Array): void {
    this.#lastReadAt = Date.now();
    let frames: Frame[];
    try {
      frames = this.#reader.push(chunk);
    } catch (e) {
      this.#logger.error(`(${this.address}) protocol error - ${(e as Error).message}`);
      this.close();
      return;
    }
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i]!;
      if (f.type === FrameType.Response && isHeartbeat(f.data)) {
        // U-CLI-HEARTBEAT
        this.write(NOP_COMMAND);
        continue;
      }
      if (this.#waiter !== null) {
        this.#waiter(f);
        continue;
      }
      if (this.#closed) return;
      if (f.type === FrameType.Message) this.#delegate.onMessage(this, f.data);
      else if (f.type === FrameType.Response) this.#delegate.onResponse(this, f.data);
      else this.#delegate.onError(this, new NsqError(decodeUtf8(f.data)));
    }
  }

  #onClose(err?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#readTimer !== null) clearInterval(this.#readTimer);
    this.#readTimer = null;
    if (this.#waiter !== null) this.#waiter(err ?? new Error(`connection to ${this.address} closed during the handshake`));
    // Only connections that finished the handshake were announced to the delegate.
    if (this.identity !== null) this.#delegate.onClose(this, err);
  }
}

/** Decoded message header fields from a payload (D-TCP-MSG). */
export function messageTimestamp(payload: Uint8Array): number {
  return readInt64(payload, 0);
}

export function messageAttempts(payload: Uint8Array): number {
  return (payload[8]! << 8) | payload[9]!;
}
