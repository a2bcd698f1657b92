// The Bun adapter: Bun.listen / Bun.connect for TCP (with Bun's native
// in-place TLS upgrade, client and server side), Bun.serve for HTTP(S),
// node: compatibility for files, UDP, signals and stdout.
import process from "node:process";
import * as fs from "node:fs";
import type {
  Address,
  FetchHandler,
  HttpServer,
  RequestInfo as PeerInfo,
  Runtime,
  Socket,
  SocketHandler,
  TcpListener,
  TlsClientOptions,
  TlsInfo,
  TlsServerOptions,
} from "./types.ts";
import { createNodeFileSystem, type DirectoryFlock } from "./node-fs.ts";
import { nodeServeHttp, nodeUdpSocket } from "./node-net.ts";
import { nodeByteWriter, nodeExit, nodeHostname, nodeMemoryUsage, nodeOnSignal } from "./node-process.ts";
import { errorOf, isIpLiteral, noopHandler } from "./shared.ts";
import { compression } from "./compression.ts";
import { bunHttpClient } from "./http-client.ts";
import { bunGlobal, loadBunFfi, type BunRawSocket, type BunSocketHandler, type BunTlsOptions } from "./bun-api.ts";

const Bun = bunGlobal();

// OpenSSL option bits (SSL_OP_NO_TLSv1 ...): Bun's TLS options have no
// minVersion, but take secureOptions.
const NO_TLS1 = 0x04000000;
const NO_TLS1_1 = 0x10000000;
const NO_TLS1_2 = 0x08000000;

function secureOptionsFor(min: string | undefined): number | undefined {
  switch (min) {
    case "TLSv1.1":
      return NO_TLS1;
    case "TLSv1.2":
      return NO_TLS1 | NO_TLS1_1;
    case "TLSv1.3":
      return NO_TLS1 | NO_TLS1_1 | NO_TLS1_2;
    default:
      return undefined;
  }
}

type Raw = BunRawSocket<BunSocket | undefined>;
type RawHandler = BunSocketHandler<BunSocket | undefined>;

/**
 * One Bun socket behind the Socket interface. Bun's write() takes what the
 * kernel accepts and returns the count; the rest is queued here, in order,
 * and flushed from Bun's drain callback.
 */
class BunSocket implements Socket {
  #raw: Raw;
  #handler: SocketHandler = noopHandler;
  #queue: Uint8Array[] = [];
  #head = 0;
  #ending = false;
  #closed = false;
  #error: Error | undefined;
  #tls: TlsInfo | null = null;
  /** Set once upgradeTls started: the raw socket's own events are then ignored. */
  #upgraded = false;
  #flushed: (() => void) | null = null;
  /** The last write() went to the kernel whole. */
  #lastDone = false;
  readonly #host: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;

  constructor(raw: Raw, host: string, unix: boolean) {
    this.#raw = raw;
    this.#host = host;
    this.remoteAddress = unix ? "" : (raw.remoteAddress ?? "");
    this.remotePort = unix ? 0 : (raw.remotePort ?? 0);
    this.localPort = unix ? 0 : (raw.localPort ?? 0);
    if (!unix) raw.setNoDelay(true);
  }

  get tls(): TlsInfo | null {
    return this.#tls;
  }

  attach(handler: SocketHandler): void {
    this.#handler = handler;
  }

  // ---- events from Bun (raw handlers before upgrade, TLS handlers after) ----

  onData(data: Uint8Array): void {
    // Bun hands each callback a freshly allocated buffer: ours to pass on.
    this.#handler.data(data);
  }

  onDrain(): void {
    if (this.#head < this.#queue.length && !this.#flush()) return;
    if (this.#ending) {
      this.#raw.end();
      return;
    }
    if (this.#flushed) {
      const f = this.#flushed;
      this.#flushed = null;
      f();
      return;
    }
    this.#handler.drain?.();
  }

  onError(err: Error): void {
    this.#error ??= err;
  }

  /** The peer sent FIN: let the handler answer, then end our side too. */
  onEnd(): void {
    if (this.#closed) return;
    this.#handler.end?.();
    if (!this.#closed) this.end();
  }

  onClose(err?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#head = 0;
    this.#handler.close(err ?? this.#error);
  }

  // ---- Socket ----

  /** Write queued bytes; true when the queue is empty. */
  #flush(): boolean {
    const q = this.#queue;
    while (this.#head < q.length) {
      const b = q[this.#head]!;
      const n = this.#raw.write(b);
      if (n < 0) return false; // closed; the close callback follows
      if (n < b.byteLength) {
        q[this.#head] = b.subarray(n);
        return false;
      }
      q[this.#head++] = EMPTY;
    }
    this.#queue = [];
    this.#head = 0;
    return true;
  }

  write(bytes: Uint8Array): boolean {
    this.#lastDone = false;
    if (this.#closed) return false;
    if (this.#head < this.#queue.length) {
      this.#queue.push(bytes);
      return false;
    }
    const n = this.#raw.write(bytes);
    if (n === bytes.byteLength) {
      this.#lastDone = true;
      return true;
    }
    if (n < 0) return false;
    this.#queue.push(n === 0 ? bytes : bytes.subarray(n));
    return false;
  }

  writeDone(): boolean {
    return this.#lastDone;
  }

  end(): void {
    if (this.#head < this.#queue.length) this.#ending = true;
    else this.#raw.end();
  }

  close(): void {
    this.#queue = [];
    this.#head = 0;
    this.#raw.terminate();
  }

  pause(): void {
    this.#raw.pause();
  }

  resume(): void {
    this.#raw.resume();
  }

  async upgradeTls(options: { server: TlsServerOptions } | { client: TlsClientOptions }): Promise<TlsInfo> {
    if (this.#upgraded) throw new Error("socket is already using TLS");
    if (this.#closed) throw new Error("socket is closed");
    // Plaintext still queued goes out first (e.g. the IDENTIFY response).
    if (this.#head < this.#queue.length) await new Promise<void>((r) => (this.#flushed = r));
    this.#upgraded = true;
    const isServer = "server" in options;
    let tls: BunTlsOptions;
    let verifyPeer: boolean;
    if (isServer) {
      const o = options.server;
      tls = {
        cert: o.cert,
        key: o.key,
        ca: o.ca,
        requestCert: o.requestCert ?? false,
        rejectUnauthorized: o.rejectUnauthorized ?? false,
        secureOptions: secureOptionsFor(o.minVersion),
      };
      verifyPeer = (o.requestCert ?? false) && (o.rejectUnauthorized ?? false);
    } else {
      const o = options.client;
      const name = o.serverName ?? this.#host;
      tls = {
        ca: o.ca,
        cert: o.cert,
        key: o.key,
        rejectUnauthorized: o.rejectUnauthorized ?? true,
        secureOptions: secureOptionsFor(o.minVersion),
      };
      // SNI must not carry an IP literal; verification still checks the IP.
      if (name !== "" && !isIpLiteral(name)) tls.serverName = name;
      verifyPeer = o.rejectUnauthorized ?? true;
    }
    return new Promise<TlsInfo>((resolve, reject) => {
      let settled = false;
      const self = this;
      const handlers: RawHandler = {
        binaryType: "uint8array",
        data: (_s, d) => self.onData(d),
        drain: () => self.onDrain(),
        error: (_s, e) => self.onError(e),
        end: () => self.onEnd(),
        close: (_s, e) => {
          if (!settled) {
            settled = true;
            reject(e ?? self.#error ?? new Error("connection closed during TLS handshake"));
          }
          self.onClose(e);
        },
        handshake: (s, success, authError) => {
          if (settled) return;
          settled = true;
          if (!success || (verifyPeer && (authError !== null || !s.authorized))) {
            const err = authError ?? new Error("TLS handshake failed");
            self.#error ??= err;
            reject(err);
            s.terminate();
            return;
          }
          self.#tls = bunTlsInfo(s as unknown as TlsSocketLike, authError === null && s.authorized);
          resolve(self.#tls);
        },
      };
      let pair: [Raw, Raw] | undefined;
      try {
        pair = this.#raw.upgradeTLS<BunSocket | undefined>({ data: this, tls, socket: handlers, isServer });
      } catch (err) {
        settled = true;
        reject(errorOf(err));
        this.#raw.terminate();
        return;
      }
      this.#raw = pair[1];
    });
  }

  /** After upgradeTls the raw socket still reports ciphertext and its close: ignore those. */
  get rawSilenced(): boolean {
    return this.#upgraded;
  }
}

const EMPTY = new Uint8Array(0);

interface TlsSocketLike {
  getTLSVersion(): string;
  getCipher(): { name: string } | null;
  getPeerCertificate(): { subject?: { CN?: string | string[] } } | null;
  alpnProtocol: string | false | null;
}

function bunTlsInfo(s: TlsSocketLike, authorized: boolean): TlsInfo {
  const peer = s.getPeerCertificate();
  const hasPeer = peer !== null && typeof peer === "object" && Object.keys(peer).length > 0;
  const cn = peer?.subject?.CN;
  return {
    version: s.getTLSVersion() ?? "",
    cipher: s.getCipher()?.name ?? "",
    authorized,
    peerCommonName: Array.isArray(cn) ? (cn[0] ?? "") : (cn ?? ""),
    peerCertificate: hasPeer,
    alpnProtocol: typeof s.alpnProtocol === "string" ? s.alpnProtocol : "",
  };
}

/** Raw-socket handlers shared by every connection; state lives in socket.data. */
const rawHandlers: RawHandler = {
  binaryType: "uint8array",
  data(s, d) {
    const b = s.data;
    if (b !== undefined && !b.rawSilenced) b.onData(d);
  },
  drain(s) {
    const b = s.data;
    if (b !== undefined && !b.rawSilenced) b.onDrain();
  },
  error(s, e) {
    s.data?.onError(e);
  },
  end(s) {
    const b = s.data;
    if (b !== undefined && !b.rawSilenced) b.onEnd();
  },
  close(s, e) {
    const b = s.data;
    if (b !== undefined && !b.rawSilenced) b.onClose(e);
  },
};

async function bunListen(address: Address, accept: (socket: Socket) => SocketHandler): Promise<TcpListener> {
  const unix = "path" in address;
  const socket: RawHandler = {
    ...rawHandlers,
    open(s) {
      const b = new BunSocket(s, "", unix);
      s.data = b;
      try {
        b.attach(accept(b));
      } catch (err) {
        s.data = undefined;
        s.terminate();
        throw err;
      }
    },
  };
  const listener = unix
    ? Bun.listen<BunSocket | undefined>({ unix: address.path, socket })
    : Bun.listen<BunSocket | undefined>({ hostname: address.host, port: address.port, socket });
  const bound: Address = unix ? { path: address.path } : { host: listener.hostname ?? address.host, port: listener.port ?? 0 };
  return {
    address: bound,
    close: async () => {
      listener.stop(false);
    },
  };
}

async function bunConnect(address: Address, handler: (socket: Socket) => SocketHandler, options?: { timeoutMs?: number }): Promise<Socket> {
  const unix = "path" in address;
  let created: BunSocket | null = null;
  let failed: Error | null = null;
  const socket: RawHandler = {
    ...rawHandlers,
    open(s) {
      const b = new BunSocket(s, unix ? "" : address.host, unix);
      s.data = b;
      created = b;
      try {
        b.attach(handler(b));
      } catch (err) {
        failed = errorOf(err);
        s.data = undefined;
        s.terminate();
      }
    },
    connectError(_s, err) {
      failed = err;
    },
  };
  const connecting = (
    unix
      ? Bun.connect<BunSocket | undefined>({ unix: address.path, socket })
      : Bun.connect<BunSocket | undefined>({ hostname: address.host, port: address.port, socket })
  ).catch((err: unknown) => {
    // Bun says only "Failed to connect": name the errno and the address, as node does.
    const e = err as { code?: string; syscall?: string } | null;
    if (typeof e?.code !== "string") throw err;
    const where = unix ? address.path : `${address.host}:${address.port}`;
    throw Object.assign(new Error(`${e.syscall ?? "connect"} ${e.code} ${where}`), { code: e.code });
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ms = options?.timeoutMs;
  try {
    const raw =
      ms !== undefined && ms > 0
        ? await Promise.race([
            connecting,
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => {
                const where = unix ? address.path : `${address.host}:${address.port}`;
                reject(new Error(`connect to ${where} timed out after ${ms}ms`));
                void connecting.then(
                  (s) => s.terminate(),
                  () => {},
                );
              }, ms);
            }),
          ])
        : await connecting;
    if (failed) throw failed;
    if (created === null) {
      raw.terminate();
      throw new Error("connection closed before it opened");
    }
    return created;
  } finally {
    clearTimeout(timer);
  }
}

/** How long the rest of a refused request body is read and dropped before the answer goes out. */
const DRAIN_MS = 500;

/**
 * A request that asked for `Connection: close`: Bun closes the connection as
 * soon as the answer is written, and when the client is still sending a body
 * the handler refused (nsqd's /pub over its size limit), that close resets the
 * connection and the client's TCP stack drops the unread answer (ECONNRESET
 * instead of 413). Without `Connection: close` Bun reads the rest itself. So
 * here the handler reads the body through a stand-in stream, and what it
 * leaves is read and dropped, for at most DRAIN_MS, before the answer is
 * returned: the close then finds nothing unread. (Go answers at once and
 * lingers after the close instead; the answer is the same.)
 */
async function answerThenClose(req: Request, info: PeerInfo, handler: FetchHandler): Promise<Response> {
  const source = req.body!.getReader();
  let ended = false;
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await source.read();
        if (done) {
          ended = true;
          controller.close();
        } else {
          controller.enqueue(value);
        }
      },
      // The handler is done with the body; the rest is drained below.
      cancel() {},
    },
    { highWaterMark: 0 },
  );
  const init: RequestInit & { duplex: "half" } = { method: req.method, headers: req.headers, body, duplex: "half", signal: req.signal };
  const response = await handler(new Request(req.url, init), info);
  if (!ended) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<{ done: true }>((resolve) => (timer = setTimeout(() => resolve({ done: true }), DRAIN_MS)));
    try {
      while (!(await Promise.race([source.read(), timeout])).done);
    } catch {
      // the client went away: nothing left to protect
    } finally {
      clearTimeout(timer);
    }
  }
  return response;
}

async function bunServeHttp(address: Address, handler: FetchHandler, options?: { tls?: TlsServerOptions }): Promise<HttpServer> {
  const t = options?.tls;
  // Bun.serve demands a client certificate only together with verifying it
  // (requestCert + rejectUnauthorized) and tells the handler nothing about
  // the peer's certificate: "any certificate, but one" (D-BEH-TLS `require`)
  // goes through the node: implementation, which checks after the handshake.
  if (t?.requireCert === true && t.rejectUnauthorized !== true) return nodeServeHttp(address, handler, options);
  const tls: BunTlsOptions | undefined = t
    ? {
        cert: t.cert,
        key: t.key,
        ca: t.ca,
        requestCert: (t.requestCert ?? false) || (t.requireCert ?? false),
        rejectUnauthorized: t.rejectUnauthorized ?? false,
        secureOptions: secureOptionsFor(t.minVersion),
      }
    : undefined;
  const unix = "path" in address;
  const common = {
    development: false,
    tls,
    fetch(req: Request, server: { requestIP(r: Request): { address: string; port: number } | null }) {
      const ip = unix ? null : server.requestIP(req);
      const info = { remoteAddress: ip?.address ?? "", remotePort: ip?.port ?? 0 };
      if (req.body !== null && req.headers.get("connection")?.toLowerCase() === "close") return answerThenClose(req, info, handler);
      return handler(req, info);
    },
    error(err: Error) {
      return new Response(`internal error: ${err.message}`, {
        status: 500,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    },
  };
  const server = unix ? Bun.serve({ ...common, unix: address.path }) : Bun.serve({ ...common, hostname: address.host, port: address.port });
  const bound: Address = unix ? { path: address.path } : { host: address.host, port: server.port ?? 0 };
  return {
    address: bound,
    close: async () => {
      await server.stop(false);
    },
  };
}

/** Bun's flock(2) through bun:ffi, or undefined when libc cannot be opened. */
async function loadFlock(): Promise<DirectoryFlock | undefined> {
  const LOCK_EX = 2;
  const LOCK_NB = 4;
  // Windows has no flock(2): the lock file alone protects the directory there.
  if (process.platform === "win32") return undefined;
  try {
    const ffi = await loadBunFfi();
    const names = process.platform === "darwin" ? ["libc.dylib", "libSystem.B.dylib"] : ["libc.so.6", "libc.so"];
    for (const name of names) {
      try {
        const lib = ffi.dlopen(name, { flock: { args: ["i32", "i32"], returns: "i32" } });
        const flock = lib.symbols.flock;
        return (dir) => {
          const fd = fs.openSync(dir, "r");
          if (flock(fd, LOCK_EX | LOCK_NB) !== 0) {
            fs.closeSync(fd);
            return null;
          }
          // Closing the descriptor releases the lock.
          return () => fs.closeSync(fd);
        };
      } catch {
        // try the next name
      }
    }
  } catch {
    // no bun:ffi: the lock file alone protects the directory
  }
  return undefined;
}

/** The name invoked: inside a `bun build --compile` binary argv[1] is a /$bunfs path and argv0 the real one. */
function bunArgv0(): string {
  const main = Bun.main;
  if (main.startsWith("/$bunfs/") || main.startsWith("B:/~BUN/") || main.startsWith("B:\\~BUN\\")) return process.argv0;
  return process.argv[1] ?? process.argv0;
}

export async function createBunRuntime(): Promise<Runtime> {
  const flock = await loadFlock();
  return {
    name: "bun",
    version: `bun v${Bun.version}`,
    listen: bunListen,
    connect: bunConnect,
    serveHttp: bunServeHttp,
    httpClient: bunHttpClient,
    udpSocket: nodeUdpSocket,
    compression,
    immediatePollsIo: true,
    fs: createNodeFileSystem(flock),
    onSignal: nodeOnSignal,
    exit: nodeExit,
    hostname: nodeHostname,
    pid: process.pid,
    env: (name) => process.env[name],
    args: () => process.argv.slice(2),
    argv0: bunArgv0,
    cwd: () => process.cwd(),
    memoryUsage: nodeMemoryUsage,
    freeMemory: () => {
      const bun = bunGlobal();
      bun.gc(true); // synchronous full collection
      bun.shrink(); // and JavaScriptCore gives back what it freed
    },
    stdin: () => Bun.stdin.stream() as ReadableStream<Uint8Array>,
    stdout: nodeByteWriter(process.stdout),
    stderr: nodeByteWriter(process.stderr),
  };
}
