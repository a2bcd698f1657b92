// The part of Bun's API the Bun adapter uses, typed here (as deno-api.ts does
// for Deno) so that the adapter type-checks without bun-types: Deno checks the
// whole library when it is published for Deno, and bun-types' global
// declarations clash with Deno's own. test/runtime/bun-api.test.ts has tsc
// check that the real Bun (bun-types) fits this view.

/** A TCP or Unix socket of Bun.listen / Bun.connect; `data` is ours. */
export interface BunRawSocket<T> {
  data: T;
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  readonly localPort?: number;
  readonly authorized: boolean;
  setNoDelay(noDelay?: boolean): boolean;
  /** Bytes written, or -1 when the socket is closed. */
  write(data: Uint8Array): number;
  end(): void;
  terminate(): void;
  pause(): void;
  resume(): void;
  /** Upgrades in place; returns [raw, tls]. */
  upgradeTLS<U>(options: { data: U; tls: BunTlsOptions; socket: BunSocketHandler<U>; isServer?: boolean }): [BunRawSocket<U>, BunRawSocket<U>];
}

/** Socket callbacks; with binaryType "uint8array" data arrives as plain Uint8Array. */
export interface BunSocketHandler<T> {
  binaryType?: "uint8array";
  open?(socket: BunRawSocket<T>): void;
  data?(socket: BunRawSocket<T>, data: Uint8Array): void;
  drain?(socket: BunRawSocket<T>): void;
  error?(socket: BunRawSocket<T>, error: Error): void;
  end?(socket: BunRawSocket<T>): void;
  close?(socket: BunRawSocket<T>, error?: Error): void;
  handshake?(socket: BunRawSocket<T>, success: boolean, authorizationError: Error | null): void;
  connectError?(socket: BunRawSocket<T>, error: Error): void;
}

export interface BunTlsOptions {
  cert?: string;
  key?: string;
  ca?: string;
  requestCert?: boolean;
  rejectUnauthorized?: boolean;
  secureOptions?: number;
  serverName?: string;
}

export interface BunTcpListener {
  readonly hostname?: string;
  readonly port?: number;
  stop(closeActiveConnections?: boolean): void;
}

export interface BunServeOptions {
  development?: boolean;
  tls?: BunTlsOptions;
  fetch(req: Request, server: { requestIP(req: Request): { address: string; port: number } | null }): Response | Promise<Response>;
  error?(error: Error): Response | Promise<Response>;
}

export interface BunHttpServer {
  readonly port?: number;
  stop(closeActiveConnections?: boolean): Promise<void>;
}

export interface BunApi {
  readonly version: string;
  readonly main: string;
  readonly stdin: { stream(): ReadableStream<Uint8Array> };
  listen<T>(options: { hostname: string; port: number; socket: BunSocketHandler<T> }): BunTcpListener;
  listen<T>(options: { unix: string; socket: BunSocketHandler<T> }): BunTcpListener;
  connect<T>(options: { hostname: string; port: number; socket: BunSocketHandler<T> }): Promise<BunRawSocket<T>>;
  connect<T>(options: { unix: string; socket: BunSocketHandler<T> }): Promise<BunRawSocket<T>>;
  serve(options: BunServeOptions & { hostname: string; port: number }): BunHttpServer;
  serve(options: BunServeOptions & { unix: string }): BunHttpServer;
  gc(force?: boolean): void;
  shrink(): void;
}

/** bun:ffi, as far as the data directory lock needs it. */
export interface BunFfi {
  dlopen(name: string, symbols: { flock: { args: ["i32", "i32"]; returns: "i32" } }): { symbols: { flock: (fd: number, operation: number) => number } };
}

/** The Bun global, typed by the interface above. */
export function bunGlobal(): BunApi {
  return (globalThis as unknown as { Bun: BunApi }).Bun;
}

/** bun:ffi; rejects where there is none. */
export function loadBunFfi(): Promise<BunFfi> {
  return import("bun:ffi") as Promise<unknown> as Promise<BunFfi>;
}
