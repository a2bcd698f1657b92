// The part of the Deno namespace the Deno adapter uses, typed here so that the
// adapter type-checks with tsc (which has no Deno types) without declaring a
// global that would clash with Deno's own.

export interface DenoNetAddr {
  transport: "tcp" | "udp";
  hostname: string;
  port: number;
}
export interface DenoUnixAddr {
  transport: "unix" | "unixpacket";
  path: string;
}
export type DenoAddr = DenoNetAddr | DenoUnixAddr;

export interface DenoConn {
  readonly localAddr: DenoAddr;
  readonly remoteAddr: DenoAddr;
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
  setNoDelay?(noDelay?: boolean): void;
}

export interface DenoListener extends AsyncIterable<DenoConn> {
  readonly addr: DenoAddr;
  accept(): Promise<DenoConn>;
  close(): void;
}

export interface DenoFsFile {
  readSync(p: Uint8Array): number | null;
  writeSync(p: Uint8Array): number;
  seekSync(offset: number, whence: number): number;
  syncSync(): void;
  statSync(): { size: number };
  tryLockSync(exclusive?: boolean): boolean;
  truncateSync(len?: number): void;
  close(): void;
}

export interface DenoFsFileAsync {
  write(p: Uint8Array): Promise<number>;
  sync(): Promise<void>;
  close(): void;
}

export interface DenoHttpServer {
  readonly addr: DenoAddr;
  shutdown(): Promise<void>;
  readonly finished: Promise<void>;
}

export interface DenoApi {
  readonly version: { deno: string };
  readonly pid: number;
  readonly args: string[];
  readonly mainModule: string;
  readonly errors: Record<string, new (...args: never[]) => Error>;
  listen(options: { hostname: string; port: number; transport?: "tcp" } | { path: string; transport: "unix" }): DenoListener;
  connect(options: { hostname: string; port: number; transport?: "tcp" } | { path: string; transport: "unix" }): Promise<DenoConn>;
  serve(options: Record<string, unknown>, handler: (req: Request, info: { remoteAddr: DenoAddr }) => Response | Promise<Response>): DenoHttpServer;
  openSync(path: string, options: { read?: boolean; write?: boolean; append?: boolean; create?: boolean; truncate?: boolean; mode?: number }): DenoFsFile;
  open(
    path: string,
    options: { read?: boolean; write?: boolean; append?: boolean; create?: boolean; truncate?: boolean; mode?: number },
  ): Promise<DenoFsFileAsync>;
  chmod(path: string, mode: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
  truncateSync(path: string, len?: number): void;
  statSync(path: string): { size: number; isDirectory: boolean };
  readTextFileSync(path: string): string;
  readFileSync(path: string): Uint8Array;
  renameSync(from: string, to: string): void;
  removeSync(path: string, options?: { recursive?: boolean }): void;
  readDirSync(path: string): Iterable<{ name: string }>;
  mkdirSync(path: string, options?: { recursive?: boolean; mode?: number }): void;
  linkSync(oldpath: string, newpath: string): void;
  chmodSync(path: string, mode: number): void;
  cwd(): string;
  hostname(): string;
  exit(code?: number): never;
  memoryUsage(): { rss: number; heapTotal: number; heapUsed: number; external: number };
  addSignalListener(signal: string, handler: () => void): void;
  removeSignalListener(signal: string, handler: () => void): void;
  readonly env: { get(name: string): string | undefined };
  readonly stdin: { readonly readable: ReadableStream<Uint8Array> };
  readonly stdout: { write(p: Uint8Array): Promise<number> };
  readonly stderr: { write(p: Uint8Array): Promise<number> };
}

/** The Deno global, typed by the interface above. */
export function denoGlobal(): DenoApi {
  return (globalThis as unknown as { Deno: DenoApi }).Deno;
}
