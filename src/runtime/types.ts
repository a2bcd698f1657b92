// The runtime interface: everything the core needs from Node, Bun or Deno.
//
// Code outside src/runtime/ depends only on these types; an adapter object is
// created once in cli/main.ts (see ./index.ts) and passed into constructors.
// Timers (setTimeout/setInterval), fetch, URL, TextEncoder/TextDecoder,
// crypto.getRandomValues and web streams are standard on all three runtimes and
// are used directly; they are not part of this interface.

export type RuntimeName = "node" | "bun" | "deno";

/** Where to listen or connect: a TCP host:port, or a Unix socket path. */
export type Address = { readonly host: string; readonly port: number } | { readonly path: string };

/**
 * Callbacks for one TCP (or Unix) connection, shaped like Bun's socket handlers.
 * `data` receives a chunk the handler owns: the adapter never reuses its memory.
 */
export interface SocketHandler {
  data(chunk: Uint8Array): void;
  /** The socket's write buffer has drained after write() returned false. */
  drain?(): void;
  /**
   * The peer finished sending (EOF). Bytes written during this call still go
   * out; afterwards the adapter ends the connection (no lasting half-open
   * state), and close() follows.
   */
  end?(): void;
  /** Called exactly once when the connection is gone, for any reason. */
  close(error?: Error): void;
}

export interface TlsServerOptions {
  /** PEM certificate chain. */
  cert: string;
  /** PEM private key. */
  key: string;
  /** PEM CA bundle used to verify client certificates. */
  ca?: string;
  /** Ask the peer for a certificate. */
  requestCert?: boolean;
  /** Refuse peers whose certificate does not verify against `ca`. */
  rejectUnauthorized?: boolean;
  /**
   * A certificate must be presented, even when `rejectUnauthorized` is false
   * (Go's tls.RequireAnyClientCert). Implies `requestCert`. Honoured by
   * serveHttp: a peer that sends none is disconnected right after the
   * handshake, before any request reaches the handler. Socket.upgradeTls
   * ignores it and reports `TlsInfo.peerCertificate`; the caller decides
   * (nsqd answers over the protocol, see client-v2.ts).
   */
  requireCert?: boolean;
  minVersion?: "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3";
}

export interface TlsClientOptions {
  /** Server name for SNI and certificate checks (defaults to the connected host). */
  serverName?: string;
  ca?: string;
  cert?: string;
  key?: string;
  /** Defaults to true. */
  rejectUnauthorized?: boolean;
  minVersion?: "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3";
}

/**
 * Settings of an outbound HTTP(S) client (X-HTTP-CLIENT, A-BEH-UPSTREAM-TLS,
 * D-BEH-AUTH). TLS settings apply to https:// URLs only.
 */
export interface HttpClientOptions {
  /** PEM CA bundle that verifies HTTPS servers (instead of the system roots; see http-client.ts for Deno). */
  ca?: string;
  /** PEM client certificate chain presented when a server asks for one (needs `key`). */
  cert?: string;
  /** PEM private key of `cert`. */
  key?: string;
  /** Accept any server certificate and host name (Go's InsecureSkipVerify). */
  insecureSkipVerify?: boolean;
  minVersion?: "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3";
  /**
   * Deadline for opening a new connection (TCP connect and TLS handshake);
   * 0 or absent: none. Runtimes whose fetch has no connect phase deadline
   * (Bun, Deno's native client) are bounded by `requestTimeoutMs` only.
   */
  connectTimeoutMs?: number;
  /**
   * Deadline for the whole exchange, redirects and reading the body included;
   * 0 or absent: none. On expiry the call rejects with a DOMException named
   * "TimeoutError", as with AbortSignal.timeout().
   */
  requestTimeoutMs?: number;
}

/**
 * A fetch-compatible function bound to one HttpClientOptions, with keep-alive
 * connections of its own. Network failures reject with a TypeError whose
 * `cause` is the underlying error; an aborted `signal` rejects with its reason.
 */
export interface HttpClient {
  (input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** Drop idle connections and release the client's resources. */
  close(): void;
}

export interface TlsInfo {
  /** "TLSv1.2", "TLSv1.3", ... */
  version: string;
  /** Cipher suite name as the runtime reports it. */
  cipher: string;
  /** The peer presented a certificate that verified. */
  authorized: boolean;
  /** Common name of the peer certificate, "" if none. */
  peerCommonName: string;
  /**
   * The peer presented a certificate, verified or not (nsqd's
   * `--tls-client-auth-policy=require` needs one without verifying it).
   */
  peerCertificate: boolean;
  /** ALPN protocol, "" if none. */
  alpnProtocol: string;
}

export interface Socket {
  /**
   * Queue bytes for sending. Always accepts the bytes (the adapter buffers);
   * returns false when the caller should wait for `drain` before writing more.
   * The caller must not modify `bytes` after the call.
   */
  write(bytes: Uint8Array): boolean;
  /**
   * Whether every byte of the last write() already left for the kernel, so
   * that the caller may write new data into the same memory (nsqd reuses its
   * output buffer then). Optional: without it the caller assumes not.
   */
  writeDone?(): boolean;
  /** Flush what is queued, then close. */
  end(): void;
  /** Close now, dropping anything queued. */
  close(): void;
  /** Stop delivering `data` until resume(). */
  pause(): void;
  resume(): void;
  /** Remote IP ("" for a Unix socket). */
  readonly remoteAddress: string;
  /** Remote port (0 for a Unix socket). */
  readonly remotePort: number;
  readonly localPort: number;
  /**
   * Start TLS on this already-open connection (NSQ negotiates TLS after
   * IDENTIFY). Data received afterwards is decrypted; writes are encrypted.
   * Resolves once the handshake is complete; rejects (and closes) on failure.
   */
  upgradeTls(options: { server: TlsServerOptions } | { client: TlsClientOptions }): Promise<TlsInfo>;
  /** TLS details once upgraded, else null. */
  readonly tls: TlsInfo | null;
}

export interface TcpListener {
  /** The bound address (port resolved when 0 was asked). */
  readonly address: Address;
  /** Stop accepting; open connections stay open. */
  close(): Promise<void>;
}

/** Remote IP ("" for a Unix socket) and port (0 for a Unix socket) of an HTTP request. */
export interface RequestInfo {
  remoteAddress: string;
  remotePort: number;
}

export type FetchHandler = (request: Request, info: RequestInfo) => Response | Promise<Response>;

export interface HttpServer {
  readonly address: Address;
  /** Stop accepting and close idle connections. */
  close(): Promise<void>;
}

/**
 * A streaming byte codec (raw DEFLATE). `push` is synchronous: it returns the
 * output produced for `bytes` (possibly empty); with `flush` every byte given
 * so far is emitted (deflate: a zlib sync flush, so the peer can decode it).
 * Throws on corrupt input (inflate). The returned bytes are the caller's.
 */
export interface ByteTransform {
  push(bytes: Uint8Array, flush: boolean): Uint8Array;
}

/** Compression primitives for nsqd's `deflate` and `snappy` features (D-TCP-NEGOTIATE). */
export interface Compression {
  /** Raw DEFLATE (RFC 1951, no zlib/gzip header) at level 1..9. */
  deflateRaw(level: number): ByteTransform;
  inflateRaw(): ByteTransform;
  /** Snappy block format (no framing): compress one block. */
  snappyEncode(block: Uint8Array): Uint8Array;
  /** Snappy block format: decompress one block; throws if corrupt or longer than `maxLength`. */
  snappyDecode(block: Uint8Array, maxLength: number): Uint8Array;
}

export interface UdpSocket {
  send(bytes: Uint8Array, host: string, port: number): Promise<void>;
  close(): void;
}

/** A file opened for appending (disk queue segments, output files). */
export interface AppendFile {
  /** Append bytes; returns the number written (always all of them). */
  write(bytes: Uint8Array): number;
  /** fsync. */
  sync(): void;
  /**
   * fsync off the event loop (libuv pool on Node and Bun, Deno's blocking-op
   * threads). The file must stay open until the promise settles. Optional for
   * implementations that only need the synchronous call: the disk queue falls
   * back to sync() when it is missing.
   */
  syncAsync?(): Promise<void>;
  /**
   * Cut the file back to `size` bytes (ftruncate). The disk queue uses it to
   * take back the part of a write that failed half way (ENOSPC), so a segment
   * never keeps a torn record in the middle.
   */
  truncate(size: number): void;
  close(): void;
  /** Current size in bytes (what this handle wrote included). */
  size(): number;
}

/** A file opened for positioned reads. */
export interface ReadFile {
  /** Read into `into` from `position`; returns bytes read (0 at end of file). */
  read(into: Uint8Array, position: number): number;
  size(): number;
  close(): void;
}

/**
 * Synchronous file operations. The disk queue does small, frequent I/O where a
 * promise per operation would cost more than the system call; fsync runs only
 * every --sync-every operations or --sync-timeout, and then off the event loop
 * through AppendFile.syncAsync.
 */
export interface FileSystem {
  openAppend(path: string): AppendFile;
  openRead(path: string): ReadFile;
  exists(path: string): boolean;
  /** Size in bytes, or -1 if the file does not exist. */
  sizeOf(path: string): number;
  readText(path: string): string;
  readBytes(path: string): Uint8Array;
  /** Write to `<path>.<random>.tmp`, fsync, rename over `path` (mode 0600 when given). */
  writeAtomic(path: string, data: string | Uint8Array, mode?: number): void;
  /** writeAtomic with the write, fsync and rename off the event loop. */
  writeAtomicAsync(path: string, data: string | Uint8Array, mode?: number): Promise<void>;
  /** Cut a file to `size` bytes (truncate(2)). */
  truncate(path: string, size: number): void;
  /**
   * fsync a directory (off the event loop), so that files created in it
   * survive a power loss, not only their contents.
   */
  syncDirectory(path: string): Promise<void>;
  rename(from: string, to: string): void;
  /** Remove a file; missing is not an error. */
  unlink(path: string): void;
  /** Names (not paths) of the entries of a directory. */
  list(dir: string): string[];
  /** mkdir -p. */
  mkdir(path: string, mode?: number): void;
  /** Remove a directory tree; missing is not an error. */
  removeTree(path: string): void;
  /**
   * Take an exclusive lock on a directory, without blocking. Throws an Error
   * whose message says the directory is in use when another process holds it.
   */
  lockDirectory(dir: string): DirectoryLock;
  /** Absolute path from a possibly relative one. */
  resolve(path: string): string;
  /** Hard link (nsq_to_file moves work files without overwriting). */
  link(existing: string, newPath: string): void;
}

export interface DirectoryLock {
  release(): void;
}

export type SignalName = "SIGINT" | "SIGTERM" | "SIGHUP";

export interface MemoryUsage {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
}

export interface ByteWriter {
  /**
   * Write bytes. Resolves when the bytes were accepted. If the reader went
   * away (EPIPE, e.g. `| head`), the adapter ends the process quietly with
   * exit code 0, as shell tools do.
   */
  write(bytes: Uint8Array): Promise<void>;
}

export interface Runtime {
  readonly name: RuntimeName;
  /** "node v20.20.2", "bun v1.4.5", "deno v2.9.6": used in `(built w/...)`. */
  readonly version: string;

  /**
   * `allowTlsUpgrade: false` promises that upgradeTls() will never be called
   * on these sockets, which lets an adapter use a faster socket that cannot be
   * upgraded in place (Deno's native sockets; see deno.ts). Default: true.
   */
  listen(address: Address, accept: (socket: Socket) => SocketHandler, options?: { allowTlsUpgrade?: boolean }): Promise<TcpListener>;
  connect(address: Address, handler: (socket: Socket) => SocketHandler, options?: { timeoutMs?: number; allowTlsUpgrade?: boolean }): Promise<Socket>;

  serveHttp(address: Address, handler: FetchHandler, options?: { tls?: TlsServerOptions }): Promise<HttpServer>;

  /**
   * An outbound HTTP(S) client honouring custom TLS settings and separate
   * connect/request deadlines, which plain fetch cannot do portably.
   */
  httpClient(options?: HttpClientOptions): HttpClient;

  udpSocket(): UdpSocket;

  readonly compression: Compression;

  /**
   * setImmediate polls the sockets without blocking between callbacks, so a
   * chain of them is a cheap busy poll (Node's libuv, Bun). Deno's runs its
   * immediates without polling: a chain would starve the sockets.
   */
  readonly immediatePollsIo: boolean;

  readonly fs: FileSystem;

  /** Register a signal handler; returns a function that removes it. */
  onSignal(signal: SignalName, handler: () => void): () => void;
  exit(code: number): never;
  hostname(): string;
  readonly pid: number;
  env(name: string): string | undefined;
  /** The process arguments after the executable (and script, when there is one). */
  args(): string[];
  /** The name the program was invoked as (argv[0] of a compiled binary or link, else the script). */
  argv0(): string;
  cwd(): string;
  memoryUsage(): MemoryUsage;
  /**
   * A full garbage collection now, handing what the engine frees back to the
   * operating system where it can (nsqd's POST /debug/freememory).
   */
  freeMemory(): void;

  stdin(): ReadableStream<Uint8Array>;
  readonly stdout: ByteWriter;
  readonly stderr: ByteWriter;
}
