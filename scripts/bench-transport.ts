// The bench reader's connection layers (D-TCP-NEGOTIATE): plaintext, TLS
// (tls_v1), and Snappy framing or raw DEFLATE on top of either, negotiated
// with IDENTIFY as any client does:
//
//   MAGIC, IDENTIFY {feature_negotiation, tls_v1, snappy | deflate}
//   <- JSON with what nsqd granted (plain)
//   TLS handshake, <- OK (over TLS)                  when tls_v1 was granted
//   compression on both ways, <- OK (compressed)     when snappy or deflate was granted
//
// A Wire is what the reader sees afterwards: write() sends bytes through the
// negotiated layers and the data handler receives plain protocol bytes. The
// plaintext Wire is the socket itself with no layer in between, so the
// plaintext figures are the same as without this module.
//
// Snappy uses the project's framing (src/protocol/snappy-frame.ts) with the
// runtime's block codec, both synchronous. DEFLATE uses node:zlib's native
// streams (inflating is the reader's heavy part; native zlib keeps the client
// from being what limits the figure).
import * as net from "node:net";
import * as tls from "node:tls";
import * as zlib from "node:zlib";
import { readFileSync } from "node:fs";
import { FrameType, MAGIC_V2, encodeIdentify } from "../src/protocol/frames.ts";
import { SnappyFrameDecoder, SnappyFrameEncoder } from "../src/protocol/snappy-frame.ts";
import { compression } from "../src/runtime/compression.ts";
import { errorText } from "../src/common/errors.ts";

export interface TransportOptions {
  /** Upgrade to TLS after IDENTIFY. */
  tls: boolean;
  /** With tls: accept any server certificate. */
  tlsInsecure: boolean;
  /** With tls: PEM file of the CA that signed the server certificate ("" : the system's). */
  tlsCaFile: string;
  /** TLS server name (SNI and certificate check; "" : the target host). */
  tlsServerName: string;
  snappy: boolean;
  deflate: boolean;
  /** 1..9 (nsqd caps it at its --max-deflate-level). */
  deflateLevel: number;
}

export const PLAINTEXT: TransportOptions = {
  tls: false,
  tlsInsecure: false,
  tlsCaFile: "",
  tlsServerName: "",
  snappy: false,
  deflate: false,
  deflateLevel: 6,
};

/** "plaintext", "tls", "snappy", "tls+deflate", ... */
export function describeTransport(t: TransportOptions): string {
  const parts: string[] = [];
  if (t.tls) parts.push("tls");
  if (t.snappy) parts.push("snappy");
  if (t.deflate) parts.push(`deflate`);
  return parts.length === 0 ? "plaintext" : parts.join("+");
}

/** Checks option combinations; throws a RangeError with the flag names. */
export function checkTransport(t: TransportOptions): void {
  if (t.snappy && t.deflate) throw new RangeError("--snappy and --deflate cannot be used together");
  if (!t.tls && (t.tlsInsecure || t.tlsCaFile !== "")) throw new RangeError("--tls-insecure and --tls-ca-file need --tls");
  if (t.deflate && !(t.deflateLevel >= 1 && t.deflateLevel <= 9)) throw new RangeError(`--deflate-level must be 1..9, got ${t.deflateLevel}`);
}

export interface Wire {
  /** Sends bytes through the negotiated layers. The caller must not change them afterwards. */
  write(bytes: Uint8Array): void;
  /** Plain protocol bytes as they arrive (set once, after the handshake). */
  onData(handler: (chunk: Uint8Array) => void): void;
  /** The connection failed or closed: `why` says which. */
  onClose(handler: (why: string) => void): void;
  destroy(): void;
}

interface Layer {
  /** Outgoing: plain bytes to wire bytes (may be empty). */
  encode(bytes: Uint8Array): void;
  /** Incoming wire bytes; plain bytes go to `sink`. */
  decode(bytes: Uint8Array): void;
  sink: (chunk: Uint8Array) => void;
  destroy(): void;
}

/** The Snappy framing both ways, synchronous. */
function snappyLayer(send: (b: Uint8Array) => void, fail: (why: string) => void): Layer {
  const encoder = new SnappyFrameEncoder(compression.snappyEncode);
  const decoder = new SnappyFrameDecoder(compression.snappyDecode);
  const layer: Layer = {
    sink: () => {},
    encode: (bytes) => {
      const out = encoder.encode(bytes);
      if (out.length > 0) send(out);
    },
    decode: (bytes) => {
      let out: Uint8Array;
      try {
        out = decoder.push(bytes);
      } catch (e) {
        return fail(`snappy: ${errorText(e)}`);
      }
      if (out.length > 0) layer.sink(out);
    },
    destroy: () => {},
  };
  return layer;
}

/** Raw DEFLATE both ways through node:zlib, with a sync flush after every write. */
function deflateLayer(level: number, send: (b: Uint8Array) => void, fail: (why: string) => void): Layer {
  const deflater = zlib.createDeflateRaw({ level });
  const inflater = zlib.createInflateRaw();
  deflater.on("data", (chunk: Uint8Array) => send(chunk));
  deflater.on("error", (e) => fail(`deflate: ${e.message}`));
  inflater.on("error", (e) => fail(`inflate: ${e.message}`));
  const layer: Layer = {
    sink: () => {},
    encode: (bytes) => {
      deflater.write(bytes);
      deflater.flush(zlib.constants.Z_SYNC_FLUSH);
    },
    decode: (bytes) => {
      inflater.write(bytes);
    },
    destroy: () => {
      deflater.destroy();
      inflater.destroy();
    },
  };
  inflater.on("data", (chunk: Uint8Array) => layer.sink(chunk));
  return layer;
}

interface Response {
  type: number;
  data: Uint8Array;
  /**
   * Bytes that arrived after the frame: nsqd starts compressing right after the
   * IDENTIFY response, so its compressed OK can share a read with it.
   */
  rest: Uint8Array;
}

/** Resolves with the next complete frame from `subscribe`'s data; rejects on close/error. */
function nextFrame(subscribe: (onData: (chunk: Uint8Array) => void) => () => void, closeEvents: net.Socket, what: string): Promise<Response> {
  return new Promise((resolve, reject) => {
    let got = new Uint8Array(0);
    let unsubscribe: () => void = () => {};
    const done = (err: Error | null, frame?: Response) => {
      unsubscribe();
      closeEvents.off("close", onClose);
      closeEvents.off("error", onError);
      if (err) reject(err);
      else resolve(frame!);
    };
    const onClose = () => done(new Error(`${what}: connection closed`));
    const onError = (e: Error) => done(new Error(`${what}: ${e.message}`));
    closeEvents.on("close", onClose);
    closeEvents.on("error", onError);
    unsubscribe = subscribe((chunk) => {
      const all = new Uint8Array(got.length + chunk.length);
      all.set(got);
      all.set(chunk, got.length);
      got = all;
      if (got.length < 8) return;
      const view = new DataView(got.buffer, got.byteOffset, got.length);
      const size = view.getUint32(0);
      if (size < 4 || size > 1 << 20) return done(new Error(`${what}: bad frame size ${size}`));
      if (got.length < 4 + size) return;
      done(null, { type: view.getInt32(4), data: got.subarray(8, 4 + size), rest: got.subarray(4 + size) });
    });
  });
}

function frameText(f: { data: Uint8Array }): string {
  return new TextDecoder().decode(f.data);
}

/** An OK, with nothing after it unless `restAllowed` (compressed bytes may follow). */
function expectOk(f: Response, what: string, restAllowed = false): void {
  const t = frameText(f);
  if (f.type === FrameType.Error) throw new Error(`${what}: ${t}`);
  if (t !== "OK") throw new Error(`${what}: expected OK, got ${JSON.stringify(t)}`);
  if (f.rest.length > 0 && !restAllowed) throw new Error(`${what}: ${f.rest.length} unexpected bytes after OK`);
}

function connectTcp(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect to ${host}:${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      resolve(socket);
    });
    socket.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

function upgradeTls(socket: net.Socket, host: string, t: TransportOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const options: tls.ConnectionOptions = { socket, rejectUnauthorized: !t.tlsInsecure };
    const name = t.tlsServerName || host;
    // SNI takes host names only; the certificate check still uses `name` (an IP SAN matches).
    if (net.isIP(name) === 0) options.servername = name;
    options.checkServerIdentity = (_h, cert) => tls.checkServerIdentity(name, cert);
    if (t.tlsCaFile !== "") options.ca = readFileSync(t.tlsCaFile, "utf8");
    const secure = tls.connect(options);
    const onError = (e: Error) => reject(new Error(`TLS handshake: ${e.message}`));
    secure.once("error", onError);
    secure.once("secureConnect", () => {
      secure.off("error", onError);
      resolve(secure);
    });
  });
}

/**
 * Connects, negotiates the transport with IDENTIFY, then sends `commands` (each
 * answered by OK, e.g. SUB) through it. Returns the ready Wire.
 */
export async function openWire(host: string, port: number, clientId: string, userAgent: string, t: TransportOptions, commands: Uint8Array[]): Promise<Wire> {
  checkTransport(t);
  const raw = await connectTcp(host, port, 5000);
  let stream: net.Socket = raw;
  let layer: Layer | null = null;
  try {
    const negotiate = t.tls || t.snappy || t.deflate;
    const identify: Record<string, unknown> = { client_id: clientId, hostname: clientId, user_agent: userAgent, feature_negotiation: negotiate };
    if (negotiate) {
      identify.tls_v1 = t.tls;
      identify.snappy = t.snappy;
      identify.deflate = t.deflate;
      if (t.deflate) identify.deflate_level = t.deflateLevel;
    }
    const fromStream = (s: net.Socket) => (onData: (c: Uint8Array) => void) => {
      s.on("data", onData);
      return () => void s.off("data", onData);
    };
    const identified = nextFrame(fromStream(raw), raw, `${clientId} IDENTIFY`);
    raw.write(MAGIC_V2);
    raw.write(encodeIdentify(identify));
    const response = await identified;
    if (!negotiate) {
      expectOk(response, `${clientId} IDENTIFY`);
    } else {
      // With TLS nsqd waits for the client's handshake; with compression alone
      // its compressed OK may follow the JSON at once.
      if (response.rest.length > 0 && (t.tls || !(t.snappy || t.deflate))) {
        throw new Error(`${clientId} IDENTIFY: ${response.rest.length} unexpected bytes after the response`);
      }
      const body = frameText(response);
      if (response.type === FrameType.Error) throw new Error(`${clientId} IDENTIFY: ${body}`);
      let granted: { tls_v1?: boolean; snappy?: boolean; deflate?: boolean };
      try {
        granted = JSON.parse(body) as typeof granted;
      } catch {
        throw new Error(`${clientId} IDENTIFY: expected JSON, got ${JSON.stringify(body)}`);
      }
      const missing = (["tls_v1", "snappy", "deflate"] as const).filter((k) => (k === "tls_v1" ? t.tls : t[k]) && granted[k] !== true);
      if (missing.length > 0) {
        throw new Error(`${clientId}: nsqd did not grant ${missing.join(", ")} (start it with TLS / --snappy / --deflate enabled)`);
      }
      // Compressed bytes that came with the last plain response.
      let early = response.rest;
      if (t.tls) {
        const secure = await upgradeTls(raw, host, t);
        const ok = nextFrame(fromStream(secure), secure, `${clientId} TLS`);
        stream = secure;
        const tlsOk = await ok;
        expectOk(tlsOk, `${clientId} TLS`, t.snappy || t.deflate);
        early = tlsOk.rest;
      }
      if (t.snappy || t.deflate) {
        const out = stream;
        const failures: string[] = [];
        const fail = (why: string) => {
          failures.push(why);
          out.destroy(new Error(why));
        };
        const send = (b: Uint8Array) => void out.write(b);
        layer = t.snappy ? snappyLayer(send, fail) : deflateLayer(t.deflateLevel, send, fail);
        const l = layer;
        const ok = nextFrame(
          (onData) => {
            l.sink = onData;
            return () => void (l.sink = () => {});
          },
          out,
          `${clientId} ${t.snappy ? "snappy" : "deflate"}`,
        );
        if (early.length > 0) l.decode(early);
        out.on("data", (chunk: Uint8Array) => l.decode(chunk));
        expectOk(await ok, `${clientId} ${t.snappy ? "snappy" : "deflate"}`);
      }
    }
    const wire = makeWire(stream, layer);
    for (const command of commands) {
      const l = layer;
      const ok =
        l === null
          ? nextFrame(fromStream(stream), stream, `${clientId} setup`)
          : nextFrame(
              (onData) => {
                l.sink = onData;
                return () => void (l.sink = () => {});
              },
              stream,
              `${clientId} setup`,
            );
      wire.write(command);
      expectOk(await ok, `${clientId} setup`);
    }
    return wire;
  } catch (e) {
    layer?.destroy();
    stream.destroy();
    raw.destroy();
    throw e;
  }
}

function makeWire(stream: net.Socket, layer: Layer | null): Wire {
  if (layer === null) {
    return {
      write: (bytes) => void stream.write(bytes),
      onData: (handler) => void stream.on("data", handler),
      onClose: (handler) => {
        stream.on("error", (e) => handler(`socket error: ${e.message}`));
        stream.on("close", () => handler("connection closed by nsqd"));
      },
      destroy: () => stream.destroy(),
    };
  }
  return {
    write: (bytes) => layer.encode(bytes),
    onData: (handler) => void (layer.sink = handler),
    onClose: (handler) => {
      stream.on("error", (e) => handler(`socket error: ${e.message}`));
      stream.on("close", () => handler("connection closed by nsqd"));
    },
    destroy: () => {
      layer.destroy();
      stream.destroy();
    },
  };
}
