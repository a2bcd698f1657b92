// TCP, TLS, HTTP(S) and UDP over node:net / node:tls / node:http(s) / node:dgram.
//
// Used by the Node adapter, and by the Bun and Deno adapters for whatever they
// delegate to their node: compatibility layers (see bun.ts and deno.ts).
import * as net from "node:net";
import * as tls from "node:tls";
import * as http from "node:http";
import * as https from "node:https";
import * as dgram from "node:dgram";
import type { Address, FetchHandler, HttpServer, Socket, SocketHandler, TcpListener, TlsClientOptions, TlsInfo, TlsServerOptions, UdpSocket } from "./types.ts";
import { errorOf, isIpLiteral, noopHandler } from "./shared.ts";

type AnySocket = net.Socket | tls.TLSSocket;

/**
 * On Node a write that reaches the kernel at once leaves writableLength at 0
 * and keeps no hold on the bytes (TLS: OpenSSL copied them). The node:net of
 * Bun and Deno may still hold the bytes for a write they finish later, so
 * writeDone() is trusted on Node only.
 */
const WRITABLE_LENGTH_MEANS_DONE = !("Deno" in globalThis) && !("Bun" in globalThis);

/** A node:net socket (later a node:tls socket wrapping it) behind the Socket interface. */
export class NodeSocket implements Socket {
  #sock: AnySocket;
  #handler: SocketHandler = noopHandler;
  #closed = false;
  #error: Error | undefined;
  #tls: TlsInfo | null = null;
  #upgrading = false;
  /** The host name used to connect (client side), for certificate checks. */
  readonly #host: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;

  constructor(sock: net.Socket, host = "") {
    this.#sock = sock;
    this.#host = host;
    this.remoteAddress = sock.remoteAddress ?? "";
    this.remotePort = sock.remotePort ?? 0;
    this.localPort = sock.localPort ?? 0;
    if (sock.remotePort !== undefined) sock.setNoDelay(true); // as Go does for TCP
  }

  get tls(): TlsInfo | null {
    return this.#tls;
  }

  // Listeners are bound once per instance, so they can be moved from the raw
  // socket to the TLS socket on upgrade.
  readonly #onData = (buf: Buffer): void => {
    // Node allocates a fresh buffer per read, so a view of it is ours to hand over.
    this.#handler.data(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
  };
  readonly #onDrain = (): void => {
    this.#handler.drain?.();
  };
  readonly #onError = (err: Error): void => {
    this.#error ??= err;
  };
  readonly #onClose = (): void => {
    this.#finish(this.#error);
  };
  // With allowHalfOpen off, node ends our side on the next tick: writes made
  // by the handler here still leave before the FIN.
  readonly #onEnd = (): void => {
    this.#handler.end?.();
  };

  #finish(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handler.close(error);
  }

  /** Start delivering events to `handler`. */
  attach(handler: SocketHandler): void {
    this.#handler = handler;
    this.#listen(this.#sock);
    if (this.#sock.destroyed) queueMicrotask(() => this.#finish(this.#error));
  }

  #listen(s: AnySocket): void {
    s.on("data", this.#onData);
    s.on("drain", this.#onDrain);
    s.on("error", this.#onError);
    s.on("close", this.#onClose);
    s.on("end", this.#onEnd);
  }

  #unlisten(s: AnySocket): void {
    s.off("data", this.#onData);
    s.off("drain", this.#onDrain);
    s.off("error", this.#onError);
    s.off("close", this.#onClose);
    s.off("end", this.#onEnd);
  }

  write(bytes: Uint8Array): boolean {
    if (this.#closed) return false;
    return this.#sock.write(bytes);
  }

  writeDone(): boolean {
    return WRITABLE_LENGTH_MEANS_DONE && !this.#closed && this.#sock.writableLength === 0;
  }

  end(): void {
    this.#sock.end();
  }

  close(): void {
    this.#sock.destroy();
  }

  pause(): void {
    this.#sock.pause();
  }

  resume(): void {
    this.#sock.resume();
  }

  upgradeTls(options: { server: TlsServerOptions } | { client: TlsClientOptions }): Promise<TlsInfo> {
    if (this.#tls !== null || this.#upgrading) return Promise.reject(new Error("socket is already using TLS"));
    if (this.#closed) return Promise.reject(new Error("socket is closed"));
    this.#upgrading = true;
    const raw = this.#sock as net.Socket;
    // Stop raw delivery first: from here on every byte read belongs to the TLS layer.
    this.#unlisten(raw);
    return new Promise<TlsInfo>((resolve, reject) => {
      let settled = false;
      let tsock: tls.TLSSocket | null = null;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        this.#error ??= err;
        reject(err);
        tsock?.on("error", () => {}); // late errors of a socket we gave up on
        tsock?.destroy();
        raw.destroy();
        this.#finish(err);
      };
      const onRawError = (err: Error): void => fail(err);
      const onRawClose = (): void => fail(new Error("connection closed during TLS handshake"));
      raw.on("error", onRawError);
      raw.once("close", onRawClose);
      const done = (t: tls.TLSSocket): void => {
        if (settled) return;
        settled = true;
        raw.off("error", onRawError);
        raw.off("close", onRawClose);
        t.off("error", onRawError);
        this.#upgrading = false;
        this.#sock = t;
        this.#tls = nodeTlsInfo(t);
        this.#listen(t);
        resolve(this.#tls);
        if (t.destroyed) queueMicrotask(this.#onClose);
      };
      if ("server" in options) {
        // Handing the socket to a tls.Server (its documented 'connection'
        // entry point) gives the server-side client-certificate checks
        // (authorized, rejectUnauthorized) that a bare TLSSocket skips.
        const o = options.server;
        const srv = tls.createServer({
          cert: o.cert,
          key: o.key,
          ca: o.ca,
          minVersion: o.minVersion,
          requestCert: o.requestCert ?? false,
          rejectUnauthorized: o.rejectUnauthorized ?? false,
        });
        srv.once("secureConnection", done);
        srv.once("tlsClientError", (err) => fail(err));
        srv.emit("connection", raw);
      } else {
        const c = options.client;
        const name = c.serverName ?? this.#host;
        const t = tls.connect({
          socket: raw,
          host: name,
          // SNI must not carry an IP literal.
          servername: name !== "" && !isIpLiteral(name) ? name : undefined,
          ca: c.ca,
          cert: c.cert,
          key: c.key,
          rejectUnauthorized: c.rejectUnauthorized ?? true,
          minVersion: c.minVersion,
        });
        tsock = t;
        t.on("error", onRawError);
        t.once("secureConnect", () => done(t));
      }
    });
  }
}

/** Whether the peer of a node:tls socket presented a certificate (node: an empty object when it did not). */
function hasPeerCertificate(t: tls.TLSSocket): boolean {
  const peer = t.getPeerCertificate();
  return peer !== null && typeof peer === "object" && Object.keys(peer).length > 0;
}

/** TLS details of a connected node:tls socket. */
export function nodeTlsInfo(t: tls.TLSSocket): TlsInfo {
  const peer = t.getPeerCertificate();
  const hasPeer = hasPeerCertificate(t);
  const cn = hasPeer ? peer.subject?.CN : undefined;
  return {
    version: t.getProtocol() ?? "",
    cipher: t.getCipher()?.name ?? "",
    authorized: t.authorized,
    peerCommonName: Array.isArray(cn) ? (cn[0] ?? "") : (cn ?? ""),
    peerCertificate: hasPeer,
    alpnProtocol: typeof t.alpnProtocol === "string" ? t.alpnProtocol : "",
  };
}

function netAddress(server: net.Server, asked: Address): Address {
  if ("path" in asked) return { path: asked.path };
  const a = server.address();
  if (a === null || typeof a === "string") return asked;
  return { host: a.address, port: a.port };
}

function listenOn(server: net.Server, address: Address): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    const ok = (): void => {
      server.off("error", reject);
      resolve();
    };
    if ("path" in address) server.listen(address.path, ok);
    else server.listen(address.port, address.host, ok);
  });
}

export async function nodeListen(address: Address, accept: (socket: Socket) => SocketHandler): Promise<TcpListener> {
  const server = net.createServer((s) => {
    const sock = new NodeSocket(s);
    let handler: SocketHandler;
    try {
      handler = accept(sock);
    } catch (err) {
      s.destroy();
      throw err;
    }
    sock.attach(handler);
  });
  await listenOn(server, address);
  return {
    address: netAddress(server, address),
    close: () =>
      new Promise<void>((resolve) => {
        // server.close's callback waits for open connections; those stay open
        // by contract, so resolve once the listening socket is gone.
        server.close();
        setImmediate(resolve);
      }),
  };
}

export function nodeConnect(address: Address, handler: (socket: Socket) => SocketHandler, options?: { timeoutMs?: number }): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = "path" in address ? net.connect({ path: address.path }) : net.connect({ host: address.host, port: address.port });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onError = (err: Error): void => {
      if (timer !== undefined) clearTimeout(timer);
      reject(err);
    };
    s.once("error", onError);
    if (options?.timeoutMs !== undefined && options.timeoutMs > 0) {
      timer = setTimeout(() => {
        s.destroy(new Error(`connect to ${describe(address)} timed out after ${options.timeoutMs}ms`));
      }, options.timeoutMs);
    }
    s.once("connect", () => {
      if (timer !== undefined) clearTimeout(timer);
      s.off("error", onError);
      const sock = new NodeSocket(s, "path" in address ? "" : address.host);
      let h: SocketHandler;
      try {
        h = handler(sock);
      } catch (err) {
        s.destroy();
        reject(errorOf(err));
        return;
      }
      sock.attach(h);
      resolve(sock);
    });
  });
}

function describe(address: Address): string {
  return "path" in address ? address.path : `${address.host}:${address.port}`;
}

// ---- HTTP ----

/**
 * The request body as a web stream that pulls from the socket only as the
 * handler reads: a handler that stops after N bytes (nsqd's /pub limit) never
 * makes the server hold more than about one chunk beyond N.
 */
interface BodyState {
  /** The handler cancelled the body stream. */
  abandoned: boolean;
  /** Disconnects the stream from the request (nothing more is queued for the handler). */
  detach(): void;
}

function bodyStream(req: http.IncomingMessage, state: BodyState): ReadableStream<Uint8Array> {
  req.pause();
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const onData = (c: Buffer) => {
          controller.enqueue(new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
          if ((controller.desiredSize ?? 0) <= 0) req.pause();
        };
        const onEnd = () => controller.close();
        const onError = (e: Error) => controller.error(e);
        req.on("data", onData);
        req.once("end", onEnd);
        req.once("error", onError);
        state.detach = () => {
          req.off("data", onData);
          req.off("end", onEnd);
          req.off("error", onError);
        };
      },
      pull() {
        req.resume();
      },
      cancel() {
        // The rest of the body is no longer wanted: nothing may reach the
        // closed stream (see lingerOnClose for what happens to those bytes).
        state.abandoned = true;
        state.detach();
        req.pause();
      },
    },
    { highWaterMark: 1 },
  );
}

/** How long a connection whose request body was refused stays open after the answer. */
const LINGER_MS = 500;

/**
 * The handler answers without reading the whole body (nsqd's /pub over its
 * size limit), so the connection closes after the answer. node:http closes it
 * with socket.destroySoon(), as soon as the answer is written; with the client
 * still sending, that close resets the connection, and a reset makes the
 * client's TCP stack drop the answer it has not read yet: it sees ECONNRESET
 * instead of 413. As Go's server does, end our side instead, discard what
 * still arrives for a moment, then close.
 */
function lingerOnClose(req: http.IncomingMessage, state: BodyState): void {
  const socket = req.socket as typeof req.socket & { destroySoon?: () => void };
  state.detach();
  req.on("error", () => {});
  socket.destroySoon = () => {
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    socket.once("close", () => clearTimeout(timer));
    req.resume(); // with no listener left, node drops the bytes
  };
}

function toRequest(req: http.IncomingMessage, scheme: string, state: BodyState): Request {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      headers.append(raw[i]!, raw[i + 1]!);
    } catch {
      // A header value fetch's Headers refuses; the original ignores it too.
    }
  }
  let url: URL;
  try {
    url = new URL(req.url ?? "/", `${scheme}://${req.headers.host ?? "localhost"}`);
  } catch {
    url = new URL(req.url ?? "/", `${scheme}://localhost`);
  }
  const method = req.method ?? "GET";
  const init: RequestInit & { duplex?: "half" } = { method, headers };
  if (method !== "GET" && method !== "HEAD") {
    init.body = bodyStream(req, state);
    init.duplex = "half";
  }
  return new Request(url, init);
}

async function sendResponse(res: http.ServerResponse, response: Response, method: string): Promise<void> {
  res.statusCode = response.status;
  if (response.statusText !== "") res.statusMessage = response.statusText;
  const cookies = response.headers.getSetCookie();
  for (const [k, v] of response.headers) {
    if (k === "set-cookie") continue;
    res.setHeader(k, v);
  }
  if (cookies.length > 0) res.setHeader("set-cookie", cookies);
  if (response.body === null || method === "HEAD") {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!res.write(value)) {
      await new Promise<void>((resolve) => {
        res.once("drain", resolve);
        res.once("close", resolve);
      });
      if (res.destroyed) {
        await reader.cancel();
        return;
      }
    }
  }
  res.end();
}

export async function nodeServeHttp(address: Address, handler: FetchHandler, options?: { tls?: TlsServerOptions }): Promise<HttpServer> {
  const scheme = options?.tls ? "https" : "http";
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const info = { remoteAddress: req.socket.remoteAddress ?? "", remotePort: req.socket.remotePort ?? 0 };
    const state: BodyState = { abandoned: false, detach: () => {} };
    Promise.resolve()
      .then(() => handler(toRequest(req, scheme, state), info))
      .then((response) => {
        // A body the handler stopped reading is not drained: answer, then close the connection.
        if (state.abandoned || !req.complete) {
          res.setHeader("connection", "close");
          lingerOnClose(req, state);
        }
        return sendResponse(res, response, req.method ?? "GET");
      })
      .catch((err: unknown) => {
        if (!res.headersSent) {
          res.statusCode = 500;
          res.setHeader("content-type", "text/plain; charset=utf-8");
          res.end(`internal error: ${errorOf(err).message}`);
        } else {
          res.destroy();
        }
      });
  };
  const t = options?.tls;
  if (t?.requireCert === true) return serveHttpsRequiringCert(address, onRequest, t);
  const server = t
    ? https.createServer(
        {
          cert: t.cert,
          key: t.key,
          ca: t.ca,
          requestCert: t.requestCert ?? false,
          rejectUnauthorized: t.rejectUnauthorized ?? false,
          minVersion: t.minVersion,
        },
        onRequest,
      )
    : http.createServer(onRequest);
  await listenOn(server, address);
  return {
    address: netAddress(server, address),
    close: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), 1000);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

/**
 * HTTPS that demands a client certificate, verified or not
 * (TlsServerOptions.requireCert; Go's RequireAnyClientCert for nsqd's
 * --tls-client-auth-policy=require, D-BEH-TLS). node:tls demands one only
 * together with verifying it (rejectUnauthorized), so a tls.Server checks each
 * peer once its handshake is done and hands only those that sent a
 * certificate to an http.Server, which is how node:https itself is put
 * together. A peer that sent none is disconnected before any HTTP is read,
 * without a response, as node:tls does with a certificate that fails
 * verification; TLS 1.3 clients see their handshake succeed and the
 * connection close (ECONNRESET or "socket hang up") on their first request.
 * A 403 is not an option: Go refuses such a client in the handshake, so no
 * HTTP exchange may happen. This is not a 'secureConnection' check on an
 * https.Server because Bun's https.Server sockets have no getPeerCertificate.
 */
async function serveHttpsRequiringCert(
  address: Address,
  onRequest: (req: http.IncomingMessage, res: http.ServerResponse) => void,
  t: TlsServerOptions,
): Promise<HttpServer> {
  // The http.Server never listens, so its own closeIdleConnections() does not
  // know these sockets (Node tracks connections from 'listening' on): requests
  // in progress are counted here instead.
  const active = new Map<tls.TLSSocket, number>();
  let closing = false;
  const web = http.createServer((req, res) => {
    const sock = req.socket as tls.TLSSocket;
    active.set(sock, (active.get(sock) ?? 0) + 1);
    res.once("close", () => {
      const left = (active.get(sock) ?? 1) - 1;
      if (active.has(sock)) active.set(sock, left);
      if (closing && left === 0) sock.end();
    });
    onRequest(req, res);
  });
  const front = tls.createServer(
    {
      cert: t.cert,
      key: t.key,
      ca: t.ca,
      requestCert: true,
      rejectUnauthorized: t.rejectUnauthorized ?? false,
      minVersion: t.minVersion,
    },
    (sock) => {
      if (closing || !hasPeerCertificate(sock)) {
        sock.destroy();
        return;
      }
      active.set(sock, 0);
      sock.once("close", () => active.delete(sock));
      web.emit("connection", sock);
    },
  );
  await listenOn(front, address);
  return {
    address: netAddress(front, address),
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        const timer = setTimeout(() => {
          for (const sock of active.keys()) sock.destroy();
        }, 1000);
        front.close(() => {
          clearTimeout(timer);
          resolve();
        });
        for (const [sock, n] of active) if (n === 0) sock.destroy();
      }),
  };
}

// ---- UDP ----

/** One datagram socket per address family, created on first use. */
export function nodeUdpSocket(): UdpSocket {
  let v4: dgram.Socket | null = null;
  let v6: dgram.Socket | null = null;
  const get = (host: string): dgram.Socket => {
    if (host.includes(":")) {
      v6 ??= dgram.createSocket("udp6");
      v6.unref();
      return v6;
    }
    v4 ??= dgram.createSocket("udp4");
    v4.unref();
    return v4;
  };
  return {
    send: (bytes, host, port) =>
      new Promise<void>((resolve, reject) => {
        get(host).send(bytes, port, host, (err) => (err ? reject(err) : resolve()));
      }),
    close: () => {
      v4?.close();
      v6?.close();
      v4 = v6 = null;
    },
  };
}
