// One client connection to an nsqd speaking V2 (U-CLI-HANDSHAKE): dial, send
// the magic, IDENTIFY with feature negotiation, read the JSON (or OK) answer,
// then the upgrades nsqd granted, in the original's order (D-TCP-NEGOTIATE):
// TLS first (`OK` read over TLS), then snappy or deflate (`OK` read through
// the decompressor), then AUTH when the server asks for it, and finally hand
// frames to a delegate. Heartbeats are answered with NOP here
// (U-CLI-HEARTBEAT) and never reach the delegate.
//
// During the handshake frames are taken one at a time from a small buffer
// instead of the FrameReader: the bytes after the IDENTIFY response (or after
// the `OK` that follows TLS) may already be compressed, and must wait for the
// decompressor instead of being parsed as frames.
import type { Logger } from "../common/log.ts";
import type { ByteTransform, Runtime, Socket, TlsClientOptions } from "../runtime/types.ts";
import { SnappyFrameDecoder, SnappyFrameEncoder } from "../protocol/snappy-frame.ts";
import { FrameReader, FrameType, MAGIC_V2, NOP_COMMAND, encodeAuth, encodeIdentify, readInt32, type Frame } from "../protocol/frames.ts";
import { concatBytes, decodeUtf8 } from "../protocol/text.ts";
import { ConfigOptionError, type ConfigValues } from "./config.ts";
import { parseHostPort } from "./address.ts";
import { errorText } from "../common/errors.ts";

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

/**
 * An error frame from nsqd: `code` is the `E_*` prefix (D-TCP-ERR-FORMAT).
 *
 * @example
 * ```ts
 * try {
 *   await producer.publish("bad topic!", "x");
 * } catch (e) {
 *   if (e instanceof NsqError) console.log(e.code); // "E_BAD_TOPIC"
 * }
 * ```
 */
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

const EMPTY = new Uint8Array(0);
/** A handshake frame larger than this is not an nsqd answer. */
const MAX_HANDSHAKE_FRAME = 1 << 20;

/** go-nsq's tls_min_version names -> the runtime's (ssl3.0 is gone everywhere: TLS 1.0 is the floor). */
const TLS_MIN_VERSIONS: Readonly<Record<string, TlsClientOptions["minVersion"]>> = {
  "ssl3.0": "TLSv1",
  "tls1.0": "TLSv1",
  "tls1.1": "TLSv1.1",
  "tls1.2": "TLSv1.2",
  "tls1.3": "TLSv1.3",
};

/** The compressed stream granted in IDENTIFY: what we send goes through `encoder`, what we read through `decoder`. */
interface Transport {
  readonly name: "snappy" | "deflate";
  readonly encoder: ByteTransform;
  readonly decoder: ByteTransform;
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
  /** True until connect() has finished: bytes then collect in #handshakeBytes. */
  #handshaking = true;
  /** Handshake bytes not yet taken as frames (decompressed, once a decoder is set). */
  #handshakeBytes: Uint8Array = EMPTY;
  #encoder: ByteTransform | null = null;
  #decoder: ByteTransform | null = null;
  /** Writes waiting for the microtask that sends them together (compressed together on a compressed connection). */
  #outParts: Uint8Array[] = [];
  #outLength = 0;
  #flushScheduled = false;
  #closed = false;
  #lastReadAt = 0;
  #readTimer: ReturnType<typeof setInterval> | null = null;
  identity: IdentifyResponse | null = null;
  /** Which upgrades are in effect (after connect()). */
  tls = false;
  snappy = false;
  deflate = false;

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
    // Certificate files are read before dialing: a bad path fails without a connection.
    const tlsOptions = c.tls_v1 ? this.#tlsOptions() : null;
    // Only a connection that may need TLS asks for an upgradable socket (slower on Deno).
    this.#socket = await this.#runtime.connect(
      { host, port },
      () => ({
        data: (chunk) => this.#onData(chunk),
        close: (err) => this.#onClose(err),
      }),
      { timeoutMs: c.dial_timeout > 0 ? c.dial_timeout : undefined, allowTlsUpgrade: c.tls_v1 },
    );
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
      // nsqd grants only what was asked for; anything else means we do not understand each other.
      if ((identity.tls_v1 && !c.tls_v1) || (identity.snappy && !c.snappy) || (identity.deflate && !c.deflate)) {
        throw new Error("nsqd granted an upgrade that was not requested");
      }
      if (identity.snappy && identity.deflate) throw new Error("nsqd granted both snappy and deflate");
      // As go-nsq: an upgrade asked for but not offered (an nsqd without TLS
      // or with --snappy=false) leaves the connection as it is. Say so.
      this.#warnNotGranted("tls_v1", c.tls_v1, identity.tls_v1);
      this.#warnNotGranted("snappy", c.snappy, identity.snappy);
      this.#warnNotGranted("deflate", c.deflate, identity.deflate);
      if (identity.tls_v1) {
        await this.#upgradeTls(tlsOptions!);
        await this.#expectOk("TLS");
      }
      if (identity.snappy || identity.deflate) {
        this.#startCompression(identity.snappy ? "snappy" : "deflate", c.deflate_level);
        await this.#expectOk(identity.snappy ? "snappy" : "deflate");
      }
      if (identity.auth_required) {
        // U-CLI-HANDSHAKE: AUTH before SUB; an E_* answer fails the connection.
        if (c.auth_secret === "") throw new Error("Auth Required");
        this.write(encodeAuth(c.auth_secret));
        const auth = await this.#next();
        if (auth.type === FrameType.Error) throw new NsqError(decodeUtf8(auth.data));
        this.#logger.info(`(${this.address}) Auth accepted. ${decodeUtf8(auth.data)}`);
      }
      this.identity = identity;
      this.#endHandshake();
      return identity;
    } catch (e) {
      this.close();
      throw e;
    }
  }

  #warnNotGranted(feature: string, asked: boolean, granted: boolean): void {
    if (asked && !granted) this.#logger.warn(`(${this.address}) ${feature} was requested but nsqd did not enable it; continuing without it`);
  }

  /** The runtime TLS options from tls_* (U-CLI-OPTS). Throws on an unreadable file. */
  #tlsOptions(): TlsClientOptions {
    const c = this.#config;
    const fs = this.#runtime.fs;
    const read = (option: string, path: string): string => {
      try {
        return fs.readText(path);
      } catch (e) {
        throw new ConfigOptionError(`${option} ${JSON.stringify(path)} could not be read - ${errorText(e)}`);
      }
    };
    const o: TlsClientOptions = { rejectUnauthorized: !c.tls_insecure_skip_verify };
    if (c.tls_root_ca_file !== "") o.ca = read("tls_root_ca_file", c.tls_root_ca_file);
    if (c.tls_cert !== "" || c.tls_key !== "") {
      if (c.tls_cert === "" || c.tls_key === "") throw new ConfigOptionError("tls_cert and tls_key must be given together");
      o.cert = read("tls_cert", c.tls_cert);
      o.key = read("tls_key", c.tls_key);
    }
    if (c.tls_min_version !== "") o.minVersion = TLS_MIN_VERSIONS[c.tls_min_version];
    return o;
  }

  async #upgradeTls(options: TlsClientOptions): Promise<void> {
    // nsqd sends nothing between its IDENTIFY response and the TLS handshake.
    if (this.#handshakeBytes.length > 0) throw new Error("nsqd sent plain bytes where the TLS handshake should start");
    this.#flushOut(); // what was written before goes out before the handshake
    const info = await this.#socket!.upgradeTls({ client: options });
    this.tls = true;
    this.#logger.info(`(${this.address}) upgraded to TLS (${info.version})`);
  }

  /** From here on writes are compressed and reads decompressed; bytes already received after the last frame are decompressed now. */
  #startCompression(name: "snappy" | "deflate", level: number): void {
    this.#flushOut(); // what was written before goes out uncompressed
    const compression = this.#runtime.compression;
    let t: Transport;
    if (name === "snappy") {
      const framer = new SnappyFrameEncoder(compression.snappyEncode);
      const unframer = new SnappyFrameDecoder(compression.snappyDecode);
      t = { name, encoder: { push: (b) => framer.encode(b) }, decoder: { push: (b) => unframer.push(b) } };
      this.snappy = true;
    } else {
      t = { name, encoder: compression.deflateRaw(level), decoder: compression.inflateRaw() };
      this.deflate = true;
    }
    this.#encoder = t.encoder;
    this.#decoder = t.decoder;
    if (this.#handshakeBytes.length > 0) this.#handshakeBytes = t.decoder.push(this.#handshakeBytes, true);
    this.#logger.info(`(${this.address}) upgraded to ${name}`);
  }

  async #expectOk(what: string): Promise<void> {
    const f = await this.#next();
    const text = decodeUtf8(f.data);
    if (f.type === FrameType.Error) throw new NsqError(text);
    if (text !== "OK") throw new Error(`expected OK after the ${what} upgrade, got ${JSON.stringify(text)}`);
  }

  /** Leave handshake mode: what is left in the handshake buffer goes through the frame reader. */
  #endHandshake(): void {
    this.#handshaking = false;
    const rest = this.#handshakeBytes;
    this.#handshakeBytes = EMPTY;
    if (rest.length > 0) this.#deliver(rest);
  }

  /** One whole frame from the handshake buffer, or null. Answers heartbeats on the way. */
  #takeFrame(): Frame | null {
    for (;;) {
      const b = this.#handshakeBytes;
      if (b.length < 8) return null;
      const size = readInt32(b, 0) >>> 0;
      if (size < 4 || size > MAX_HANDSHAKE_FRAME) throw new SyntaxError(`bad frame size ${size} during the handshake`);
      if (b.length < 4 + size) return null;
      const type = readInt32(b, 4);
      if (type !== FrameType.Response && type !== FrameType.Error && type !== FrameType.Message) {
        throw new SyntaxError(`unknown frame type ${type} during the handshake`);
      }
      const frame: Frame = { type, data: b.slice(8, 4 + size) };
      this.#handshakeBytes = b.length === 4 + size ? EMPTY : b.subarray(4 + size);
      if (type === FrameType.Response && isHeartbeat(frame.data)) {
        this.write(NOP_COMMAND);
        continue;
      }
      return frame;
    }
  }

  /** The next frame during the handshake. */
  #next(): Promise<Frame> {
    return new Promise((resolve, reject) => {
      if (this.#closed) return reject(new Error(`connection to ${this.address} closed during the handshake`));
      let ready: Frame | null;
      try {
        ready = this.#takeFrame();
      } catch (e) {
        return reject(e);
      }
      if (ready !== null) return resolve(ready);
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

  /**
   * Queue bytes for the server. Returns false when the socket is gone. The
   * writes of one turn of the event loop go out in one socket write (FIN,
   * RDY and TOUCH for a batch of messages cost one system call), compressed
   * together on a compressed connection.
   */
  write(bytes: Uint8Array): boolean {
    if (this.#closed || this.#socket === null) return false;
    this.#outParts.push(bytes);
    this.#outLength += bytes.length;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(this.#flushOut);
    }
    return true;
  }

  readonly #flushOut = (): void => {
    this.#flushScheduled = false;
    if (this.#outLength === 0 || this.#closed || this.#socket === null) return;
    const parts = this.#outParts;
    const plain = parts.length === 1 ? parts[0]! : concatBytes(parts, this.#outLength);
    this.#outParts = [];
    this.#outLength = 0;
    if (this.#encoder === null) {
      this.#socket.write(plain);
      return;
    }
    let out: Uint8Array;
    try {
      out = this.#encoder.push(plain, true);
    } catch (e) {
      this.#logger.error(`(${this.address}) failed to compress - ${errorText(e)}`);
      this.close();
      return;
    }
    if (out.length > 0) this.#socket.write(out);
  };

  /** Close now (writes still waiting go out first). */
  close(): void {
    if (this.#socket !== null && !this.#closed) {
      this.#flushOut();
      this.#socket.close();
    } else this.#onClose();
  }

  #onData(chunk: Uint8Array): void {
    this.#lastReadAt = Date.now();
    if (this.#decoder !== null) {
      try {
        chunk = this.#decoder.push(chunk, true);
      } catch (e) {
        this.#logger.error(`(${this.address}) failed to decompress - ${errorText(e)}`);
        this.close();
        return;
      }
      if (chunk.length === 0) return;
    }
    if (this.#handshaking) {
      this.#handshakeBytes = this.#handshakeBytes.length === 0 ? chunk : concatBytes([this.#handshakeBytes, chunk]);
      if (this.#waiter === null) return;
      let f: Frame | null;
      try {
        f = this.#takeFrame();
      } catch (e) {
        this.#waiter(e as Error);
        return;
      }
      if (f !== null) this.#waiter(f);
      return;
    }
    this.#deliver(chunk);
  }

  #deliver(chunk: Uint8Array): void {
    let frames: Frame[];
    try {
      frames = this.#reader.push(chunk);
    } catch (e) {
      this.#logger.error(`(${this.address}) protocol error - ${errorText(e)}`);
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
    this.#outParts = [];
    this.#outLength = 0;
    if (this.#waiter !== null) this.#waiter(err ?? new Error(`connection to ${this.address} closed during the handshake`));
    // Only connections that finished the handshake were announced to the delegate.
    if (this.identity !== null) this.#delegate.onClose(this, err);
  }
}
