// The Deno adapter: Deno.listen / Deno.connect with a read loop for plain TCP,
// Deno.serve for HTTP(S), Deno.*Sync for files, Deno signals and stdio.
//
// Where Deno cannot do what NSQ needs, this adapter uses the node:
// compatibility implementation (node-net.ts), which passes the whole runtime
// contract on Deno:
// - In-place TLS (nsqd's tls_v1 after IDENTIFY). Deno has no server-side
//   upgrade of an open connection at all; Deno.startTls (client side) takes
//   the connection over only when no read is pending (our read loop always has
//   one), cannot present a client certificate, cannot skip verification, and
//   reports neither TLS version nor cipher. So sockets that may be upgraded
//   (the default, `allowTlsUpgrade` not false) are node:net/node:tls sockets;
//   callers that promise never to upgrade get the native, faster socket.
// - HTTPS that asks for client certificates (Deno.serve has no client auth).
// - UDP (Deno.listenDatagram still needs --unstable-net).
import * as path from "node:path";
import process from "node:process";
import type {
  Address,
  AppendFile,
  ByteWriter,
  FetchHandler,
  FileSystem,
  HttpServer,
  ReadFile,
  Runtime,
  SignalName,
  Socket,
  SocketHandler,
  TcpListener,
  TlsInfo,
} from "./types.ts";
import { denoGlobal, type DenoApi, type DenoConn, type DenoFsFile } from "./deno-api.ts";
import { lockDirectory, type DirectoryFlock } from "./node-fs.ts";
import { nodeConnect, nodeListen, nodeServeHttp, nodeUdpSocket } from "./node-net.ts";
import { errorOf, noopHandler, randomHex } from "./shared.ts";
import { compression } from "./compression.ts";
import { nodeFreeMemory } from "./node-process.ts";
import { denoHttpClient } from "./http-client.ts";

const Deno: DenoApi = denoGlobal();

/** Bytes read per read() call; each chunk handed out is a copy of its length. */
const READ_SIZE = 64 * 1024;
/** write() returns false once this much is waiting to be written. */
const HIGH_WATER = 64 * 1024;
/** Queued writes are coalesced into one system call up to this size. */
const MAX_COALESCE = 1024 * 1024;

/** A native Deno connection behind the Socket interface (no in-place TLS). */
class DenoSocket implements Socket {
  readonly #conn: DenoConn;
  #handler: SocketHandler = noopHandler;
  #closed = false;
  #paused = false;
  #resume: (() => void) | null = null;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #writing = false;
  #wantDrain = false;
  #ending = false;
  #peerEnded = false;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
  readonly tls: TlsInfo | null = null;

  constructor(conn: DenoConn) {
    this.#conn = conn;
    const r = conn.remoteAddr;
    const l = conn.localAddr;
    this.remoteAddress = "hostname" in r ? r.hostname : "";
    this.remotePort = "port" in r ? r.port : 0;
    this.localPort = "port" in l ? l.port : 0;
    if ("port" in r) conn.setNoDelay?.(true);
  }

  start(handler: SocketHandler): void {
    this.#handler = handler;
    void this.#readLoop();
  }

  async #readLoop(): Promise<void> {
    const buf = new Uint8Array(READ_SIZE);
    try {
      for (;;) {
        const n = await this.#conn.read(buf);
        if (this.#closed) return;
        if (n === null) break;
        const chunk = buf.slice(0, n); // the handler owns it
        if (this.#paused) await new Promise<void>((r) => (this.#resume = r));
        if (this.#closed) return;
        this.#handler.data(chunk);
        if (this.#closed) return;
      }
    } catch (err) {
      this.#shutdown(errorOf(err));
      return;
    }
    // The peer ended: let the handler answer, finish our writes, then close
    // (as node's allowHalfOpen=false).
    this.#handler.end?.();
    if (this.#closed) return;
    this.#peerEnded = true;
    if (!this.#writing) this.#shutdown();
  }

  async #writeLoop(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const chunk = this.#take();
        let off = 0;
        while (off < chunk.byteLength) off += await this.#conn.write(chunk.subarray(off));
        this.#queued -= chunk.byteLength;
      }
    } catch (err) {
      this.#writing = false;
      this.#shutdown(errorOf(err));
      return;
    }
    this.#writing = false;
    if (this.#closed) return;
    if (this.#peerEnded) {
      this.#shutdown();
      return;
    }
    if (this.#ending) {
      this.#conn.closeWrite().catch(() => this.#shutdown());
      return;
    }
    if (this.#wantDrain) {
      this.#wantDrain = false;
      this.#handler.drain?.();
    }
  }

  /** The queued chunks, coalesced into one buffer when there are several. */
  #take(): Uint8Array {
    const q = this.#queue;
    if (q.length === 1) {
      this.#queue = [];
      return q[0]!;
    }
    let size = 0;
    let count = 0;
    while (count < q.length && (count === 0 || size + q[count]!.byteLength <= MAX_COALESCE)) {
      size += q[count]!.byteLength;
      count++;
    }
    const out = new Uint8Array(size);
    let off = 0;
    for (let i = 0; i < count; i++) {
      out.set(q[i]!, off);
      off += q[i]!.byteLength;
    }
    this.#queue = q.slice(count);
    return out;
  }

  #shutdown(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    this.#resume?.();
    // A read or write interrupted by our own close is not an error.
    this.#handler.close(error !== undefined && !isClosedError(error) ? error : undefined);
  }

  write(bytes: Uint8Array): boolean {
    if (this.#closed) return false;
    this.#queue.push(bytes);
    this.#queued += bytes.byteLength;
    if (!this.#writing) void this.#writeLoop();
    if (this.#queued >= HIGH_WATER) {
      this.#wantDrain = true;
      return false;
    }
    return true;
  }

  end(): void {
    if (this.#closed || this.#ending) return;
    this.#ending = true;
    if (!this.#writing) this.#conn.closeWrite().catch(() => this.#shutdown());
  }

  close(): void {
    this.#shutdown();
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    const r = this.#resume;
    this.#resume = null;
    r?.();
  }

  upgradeTls(): Promise<TlsInfo> {
    this.#shutdown();
    return Promise.reject(new Error("in-place TLS is not available on a native Deno socket: listen/connect without allowTlsUpgrade: false"));
  }
}

function isClosedError(err: Error): boolean {
  const e = Deno.errors;
  return (e.BadResource !== undefined && err instanceof e.BadResource) || (e.Interrupted !== undefined && err instanceof e.Interrupted);
}

function denoAddr(address: Address) {
  return "path" in address ? ({ path: address.path, transport: "unix" } as const) : ({ hostname: address.host, port: address.port, transport: "tcp" } as const);
}

async function denoListen(address: Address, accept: (socket: Socket) => SocketHandler, options?: { allowTlsUpgrade?: boolean }): Promise<TcpListener> {
  if (options?.allowTlsUpgrade !== false) return nodeListen(address, accept);
  const l = Deno.listen(denoAddr(address));
  const a = l.addr;
  const bound: Address = "path" in a ? { path: a.path } : { host: a.hostname, port: a.port };
  void (async () => {
    for (;;) {
      let conn: DenoConn;
      try {
        conn = await l.accept();
      } catch {
        return; // listener closed
      }
      const s = new DenoSocket(conn);
      try {
        s.start(accept(s));
      } catch {
        conn.close();
      }
    }
  })();
  return {
    address: bound,
    close: async () => {
      try {
        l.close();
      } catch {
        // already closed
      }
    },
  };
}

async function denoConnect(
  address: Address,
  handler: (socket: Socket) => SocketHandler,
  options?: { timeoutMs?: number; allowTlsUpgrade?: boolean },
): Promise<Socket> {
  if (options?.allowTlsUpgrade !== false) return nodeConnect(address, handler, options);
  const connecting = Deno.connect(denoAddr(address));
  const ms = options?.timeoutMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let conn: DenoConn;
  try {
    conn =
      ms !== undefined && ms > 0
        ? await Promise.race([
            connecting,
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => {
                const where = "path" in address ? address.path : `${address.host}:${address.port}`;
                reject(new Error(`connect to ${where} timed out after ${ms}ms`));
                connecting.then(
                  (c) => c.close(),
                  () => {},
                );
              }, ms);
            }),
          ])
        : await connecting;
  } finally {
    clearTimeout(timer);
  }
  const s = new DenoSocket(conn);
  try {
    s.start(handler(s));
  } catch (err) {
    conn.close();
    throw err;
  }
  return s;
}

async function denoServeHttp(address: Address, handler: FetchHandler, options?: { tls?: import("./types.ts").TlsServerOptions }): Promise<HttpServer> {
  const t = options?.tls;
  // Deno.serve cannot ask for client certificates nor set a minimum version.
  if (t && (t.requestCert || t.requireCert || t.ca !== undefined || t.minVersion !== undefined)) {
    return nodeServeHttp(address, handler, options);
  }
  const listening = Promise.withResolvers<void>();
  const opts: Record<string, unknown> = "path" in address ? { path: address.path, transport: "unix" } : { hostname: address.host, port: address.port };
  opts.onListen = () => listening.resolve();
  opts.onError = (err: unknown) =>
    new Response(`internal error: ${errorOf(err).message}`, {
      status: 500,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  if (t) {
    opts.cert = t.cert;
    opts.key = t.key;
  }
  const server = Deno.serve(opts, (req, info) => {
    const r = info.remoteAddr;
    return handler(req, {
      remoteAddress: "hostname" in r ? r.hostname : "",
      remotePort: "port" in r ? r.port : 0,
    });
  });
  await listening.promise;
  const a = server.addr;
  return {
    address: "path" in a ? { path: a.path } : { host: a.hostname, port: a.port },
    close: () => server.shutdown(),
  };
}

// ---- files ----

function code(err: unknown): string | undefined {
  return (err as { code?: string } | null)?.code;
}

const SEEK_START = 0;

class DenoAppendFile implements AppendFile {
  readonly #f;
  #size: number;
  constructor(p: string) {
    this.#f = Deno.openSync(p, { append: true, create: true, mode: 0o644 });
    this.#size = this.#f.statSync().size;
  }
  write(bytes: Uint8Array): number {
    let off = 0;
    while (off < bytes.byteLength) {
      const n = this.#f.writeSync(bytes.subarray(off));
      off += n;
      // Counted as it goes, so a failure half way leaves size() right (see node-fs.ts).
      this.#size += n;
    }
    return off;
  }
  sync(): void {
    this.#f.syncSync();
  }
  syncAsync(): Promise<void> {
    // FsFile.sync() runs the fsync on one of Deno's blocking-op threads.
    return (this.#f as DenoFsFile & { sync(): Promise<void> }).sync();
  }
  truncate(size: number): void {
    this.#f.truncateSync(size);
    this.#size = size;
  }
  close(): void {
    this.#f.close();
  }
  size(): number {
    return this.#size;
  }
}

class DenoReadFile implements ReadFile {
  readonly #f;
  #pos = -1;
  constructor(p: string) {
    this.#f = Deno.openSync(p, { read: true });
  }
  read(into: Uint8Array, position: number): number {
    // Disk queue reads are sequential: seek only when the position moved.
    if (position !== this.#pos) this.#f.seekSync(position, SEEK_START);
    const n = this.#f.readSync(into) ?? 0;
    this.#pos = position + n;
    return n;
  }
  size(): number {
    return this.#f.statSync().size;
  }
  close(): void {
    this.#f.close();
  }
}

/** flock(2) on the directory itself, as the original nsqd takes it (Deno's FsFile.tryLockSync is flock). */
const denoFlock: DirectoryFlock = (dir) => {
  const f = Deno.openSync(dir, { read: true });
  if (!f.tryLockSync(true)) {
    f.close();
    return null;
  }
  return () => f.close();
};

function createDenoFileSystem(): FileSystem {
  return {
    openAppend: (p) => new DenoAppendFile(p),
    openRead: (p) => new DenoReadFile(p),
    exists: (p) => {
      try {
        Deno.statSync(p);
        return true;
      } catch {
        return false;
      }
    },
    sizeOf: (p) => {
      try {
        return Deno.statSync(p).size;
      } catch (err) {
        if (code(err) === "ENOENT") return -1;
        throw err;
      }
    },
    readText: (p) => Deno.readTextFileSync(p),
    readBytes: (p) => Deno.readFileSync(p),
    writeAtomic: (p, data, mode) => {
      const tmp = `${p}.${randomHex()}.tmp`;
      const f = Deno.openSync(tmp, { write: true, create: true, truncate: true, mode: mode ?? 0o644 });
      try {
        if (mode !== undefined) Deno.chmodSync(tmp, mode); // not narrowed by the umask
        const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
        let off = 0;
        while (off < bytes.byteLength) off += f.writeSync(bytes.subarray(off));
        f.syncSync();
        f.close();
        Deno.renameSync(tmp, p);
      } catch (err) {
        try {
          f.close();
        } catch {
          // already closed
        }
        try {
          Deno.removeSync(tmp);
        } catch {
          // never created or already renamed
        }
        throw err;
      }
    },
    writeAtomicAsync: async (p, data, mode) => {
      const tmp = `${p}.${randomHex()}.tmp`;
      const f = await Deno.open(tmp, { write: true, create: true, truncate: true, mode: mode ?? 0o644 });
      try {
        if (mode !== undefined) await Deno.chmod(tmp, mode);
        const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
        let off = 0;
        while (off < bytes.byteLength) off += await f.write(bytes.subarray(off));
        await f.sync();
        f.close();
        await Deno.rename(tmp, p);
      } catch (err) {
        try {
          f.close();
        } catch {
          // already closed
        }
        try {
          await Deno.remove(tmp);
        } catch {
          // never created or already renamed
        }
        throw err;
      }
    },
    truncate: (p, size) => Deno.truncateSync(p, size),
    syncDirectory: async (p) => {
      const f = await Deno.open(p, { read: true });
      try {
        await f.sync();
      } finally {
        f.close();
      }
    },
    rename: (from, to) => Deno.renameSync(from, to),
    unlink: (p) => {
      try {
        Deno.removeSync(p);
      } catch (err) {
        if (code(err) !== "ENOENT") throw err;
      }
    },
    list: (dir) => Array.from(Deno.readDirSync(dir), (e) => e.name),
    mkdir: (p, mode) => Deno.mkdirSync(p, { recursive: true, mode: mode ?? 0o755 }),
    removeTree: (p) => {
      try {
        Deno.removeSync(p, { recursive: true });
      } catch (err) {
        if (code(err) !== "ENOENT") throw err;
      }
    },
    lockDirectory: (dir) => lockDirectory(dir, denoFlock),
    resolve: (p) => path.resolve(p),
    link: (existing, newPath) => Deno.linkSync(existing, newPath),
  };
}

// ---- process ----

function denoWriter(w: { write(p: Uint8Array): Promise<number> }): ByteWriter {
  return {
    async write(bytes) {
      try {
        let off = 0;
        while (off < bytes.byteLength) off += await w.write(bytes.subarray(off));
      } catch (err) {
        // Rust ignores SIGPIPE, so a reader that went away shows up as an error.
        if (code(err) === "EPIPE" || (Deno.errors.BrokenPipe !== undefined && err instanceof Deno.errors.BrokenPipe)) {
          Deno.exit(0);
        }
        throw err;
      }
    },
  };
}

function denoArgv0(): string {
  const main = Deno.mainModule;
  // In a `deno compile` binary the main module sits in a virtual directory;
  // node:process keeps the name the binary was invoked as.
  if (main.includes("/deno-compile-") || main.includes("\\deno-compile-")) return process.argv0;
  return main.startsWith("file:") ? path.normalize(decodeURIComponent(new URL(main).pathname)) : main;
}

export function createDenoRuntime(): Runtime {
  return {
    name: "deno",
    version: `deno v${Deno.version.deno}`,
    listen: denoListen,
    connect: denoConnect,
    serveHttp: denoServeHttp,
    httpClient: denoHttpClient,
    udpSocket: nodeUdpSocket,
    compression,
    immediatePollsIo: false,
    fs: createDenoFileSystem(),
    onSignal: (signal: SignalName, handler: () => void) => {
      Deno.addSignalListener(signal, handler);
      return () => Deno.removeSignalListener(signal, handler);
    },
    exit: (c) => Deno.exit(c),
    hostname: () => Deno.hostname(),
    pid: Deno.pid,
    env: (name) => Deno.env.get(name),
    args: () => Deno.args.slice(),
    argv0: denoArgv0,
    cwd: () => Deno.cwd(),
    memoryUsage: () => {
      const m = Deno.memoryUsage();
      return { rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external };
    },
    freeMemory: nodeFreeMemory,
    stdin: () => Deno.stdin.readable,
    stdout: denoWriter(Deno.stdout),
    stderr: denoWriter(Deno.stderr),
  };
}
