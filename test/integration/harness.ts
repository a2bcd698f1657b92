// Fixtures for the integration suites: the real `nsq nsqd` as a process (under
// every runtime of test/helpers/cli.ts), a raw V2 protocol connection built
// on src/protocol, and a reader of the process's resident memory.
//
// Test code runs on Node under vitest, so it talks to the server with node:net
// directly: the client side must not depend on the runtime adapters it tests.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect as netConnect, type Socket as NetSocket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCli, type CliProcess, type CliRuntime } from "../helpers/cli.ts";
import { ensureBuilt } from "../helpers/build.ts";
import { FrameReader, FrameType, MAGIC_V2, type Frame } from "../../src/protocol/frames.ts";

/**
 * node and binary run dist/. vitest's globalSetup builds it only when the
 * file filter mentions cli/helpers, so the suites make sure of it themselves.
 */
export async function ensureDist(runtimes: readonly CliRuntime[]): Promise<void> {
  if (runtimes.includes("node") || runtimes.includes("binary")) await ensureBuilt();
}

export function tempDir(prefix = "nsq-it-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface NsqdProcess extends AsyncDisposable {
  readonly runtime: CliRuntime;
  readonly cli: CliProcess;
  readonly pid: number;
  readonly tcpPort: number;
  /** -1 when the HTTP listener is disabled. */
  readonly httpPort: number;
  readonly dataPath: string;
  /** SIGTERM and wait for a clean exit (D-BEH-SHUTDOWN); returns the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
}

export interface StartNsqdOptions {
  /** Reuse a data directory (it is then not removed on dispose). */
  dataPath?: string;
  /** Extra flags, in the original's spelling (`--mem-queue-size=100`). */
  args?: readonly string[];
  startTimeoutMs?: number;
}

/** Starts `nsq nsqd` on 127.0.0.1 port 0 and reads the bound ports from its log. */
export async function startNsqd(rt: CliRuntime, options: StartNsqdOptions = {}): Promise<NsqdProcess> {
  const ownDir = options.dataPath === undefined;
  const dataPath = options.dataPath ?? tempDir();
  const cli = startCli(rt, ["nsqd", "--tcp-address=127.0.0.1:0", "--http-address=127.0.0.1:0", `--data-path=${dataPath}`, ...(options.args ?? [])]);
  let stderr: string;
  try {
    stderr = await cli.waitForStderr(/TCP: listening on [^\n]*:\d+\n[\s\S]*HTTP: listening on [^\n]*:\d+\n/, options.startTimeoutMs ?? 30_000);
  } catch (e) {
    await cli[Symbol.asyncDispose]();
    if (ownDir) rmSync(dataPath, { recursive: true, force: true });
    throw e;
  }
  const tcpPort = Number(/TCP: listening on [^\n]*:(\d+)\n/.exec(stderr)![1]);
  const httpPort = Number(/HTTP: listening on [^\n]*:(\d+)\n/.exec(stderr)![1]);
  let stopped = false;
  const stop = async (timeoutMs = 30_000): Promise<number | null> => {
    stopped = true;
    cli.kill("SIGTERM");
    const timer = setTimeout(() => cli.kill("SIGKILL"), timeoutMs);
    const { code } = await cli.exited;
    clearTimeout(timer);
    return code;
  };
  return {
    runtime: rt,
    cli,
    pid: cli.pid,
    tcpPort,
    httpPort,
    dataPath,
    stop,
    async [Symbol.asyncDispose]() {
      if (!stopped) await stop(5_000);
      if (ownDir) rmSync(dataPath, { recursive: true, force: true });
    },
  };
}

/** VmRSS of a process in bytes (Linux), or -1 when the process is gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m === null ? -1 : Number(m[1]) * 1024;
  } catch {
    return -1;
  }
}

const decoder = new TextDecoder();
export const text = (bytes: Uint8Array): string => decoder.decode(bytes);
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export interface ReceivedFrame {
  type: number;
  data: Uint8Array;
  /** data as text (message frames: meaningless, use decodeMessagePayload). */
  text: string;
}

/**
 * One raw V2 connection. Frames are queued as they arrive; `next()` waits for
 * the next one, `closed` resolves when the server ends the connection.
 * Heartbeats are kept in the queue (tests choose whether to skip them).
 */
export class RawConnection implements AsyncDisposable {
  readonly #socket: NetSocket;
  readonly #reader = new FrameReader();
  readonly #frames: ReceivedFrame[] = [];
  #waiter: (() => void) | null = null;
  #closed = false;
  #error: Error | null = null;
  readonly closed: Promise<void>;

  private constructor(socket: NetSocket) {
    this.#socket = socket;
    this.closed = new Promise((resolve) => {
      // allowHalfOpen: the server's FIN arrives as "end"; that is the close
      // the tests observe (our side is ended then, so "close" follows).
      const done = () => {
        if (this.#closed) return;
        this.#closed = true;
        this.#wake();
        resolve();
      };
      socket.on("end", () => {
        done();
        socket.end();
      });
      socket.on("close", done);
    });
    socket.on("error", (e) => {
      this.#error = e;
    });
    socket.on("data", (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.#reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
      } catch (e) {
        this.#error = e as Error;
        socket.destroy();
        return;
      }
      for (const f of frames) this.#frames.push({ type: f.type, data: f.data, text: f.type === FrameType.Message ? "" : text(f.data) });
      this.#wake();
    });
  }

  /** Connects; sends the V2 magic unless `magic` is false. */
  static async open(port: number, options: { magic?: boolean } = {}): Promise<RawConnection> {
    const socket = netConnect({ host: "127.0.0.1", port, allowHalfOpen: true });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const conn = new RawConnection(socket);
    if (options.magic !== false) conn.send(MAGIC_V2);
    return conn;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  get error(): Error | null {
    return this.#error;
  }

  /** Frames received and not yet taken. */
  get pending(): readonly ReceivedFrame[] {
    return this.#frames;
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }

  send(bytes: Uint8Array | string): void {
    if (this.#socket.destroyed || this.#socket.writableEnded) return;
    this.#socket.write(typeof bytes === "string" ? utf8(bytes) : bytes);
  }

  /** Half-close: the server sees EOF but may still answer. */
  endWrite(): void {
    this.#socket.end();
  }

  destroy(): void {
    this.#socket.destroy();
  }

  /**
   * The next frame (heartbeats skipped unless asked), or null when the
   * connection closed first. Rejects after `timeoutMs`.
   */
  async next(timeoutMs = 5_000, options: { heartbeats?: boolean } = {}): Promise<ReceivedFrame | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.#frames.length > 0) {
        const f = this.#frames.shift()!;
        if (!options.heartbeats && f.type === FrameType.Response && f.text === "_heartbeat_") continue;
        return f;
      }
      if (this.#closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.#waiter = null;
          resolve();
        }, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Waits for a response frame with exactly `expected` as data. */
  async expectResponse(expected: string, timeoutMs = 5_000): Promise<void> {
    const f = await this.next(timeoutMs);
    if (f === null) throw new Error(`connection closed while waiting for response ${expected}`);
    if (f.type !== FrameType.Response || f.text !== expected) {
      throw new Error(`expected response ${JSON.stringify(expected)}, got type ${f.type} ${JSON.stringify(f.text)}`);
    }
  }

  /** Resolves true when the server closes the connection within `timeoutMs`. */
  async closesWithin(timeoutMs: number): Promise<boolean> {
    if (this.#closed) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const result = await Promise.race([this.closed.then(() => true as const), timedOut]);
    clearTimeout(timer);
    return result;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#socket.destroy();
    await this.closed;
  }
}

/** Polls `check` until it returns a value other than undefined. */
export async function waitFor<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs: number, what: string, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface LookupdProcess extends AsyncDisposable {
  readonly cli: CliProcess;
  readonly tcpPort: number;
  readonly httpPort: number;
}

/** Starts `nsq lookupd` on 127.0.0.1 (port 0: any) plus `args`, and reads the bound ports from its log. */
export async function startLookupdProcess(
  rt: CliRuntime,
  options: { tcpPort?: number; httpPort?: number; args?: readonly string[] } = {},
): Promise<LookupdProcess> {
  const cli = startCli(rt, [
    "lookupd",
    `--tcp-address=127.0.0.1:${options.tcpPort ?? 0}`,
    `--http-address=127.0.0.1:${options.httpPort ?? 0}`,
    ...(options.args ?? []),
  ]);
  let stderr: string;
  try {
    stderr = await cli.waitForStderr(/TCP: listening on [^\n]*:\d+\n[\s\S]*HTTP: listening on [^\n]*:\d+\n/, 30_000);
  } catch (e) {
    await cli[Symbol.asyncDispose]();
    throw e;
  }
  return {
    cli,
    tcpPort: Number(/TCP: listening on [^\n]*:(\d+)\n/.exec(stderr)![1]),
    httpPort: Number(/HTTP: listening on [^\n]*:(\d+)\n/.exec(stderr)![1]),
    [Symbol.asyncDispose]: () => cli[Symbol.asyncDispose](),
  };
}

export interface RawExchange {
  /** Everything the server sent, one char per byte (Latin-1). */
  received: string;
  /** The client's socket error, if any (EPIPE, ECONNRESET...). */
  error: string | null;
}

/**
 * Writes `head` and then `body` on a raw TCP connection to 127.0.0.1:`port`
 * (chunked: in `chunkSize` pieces with chunked framing), reading whatever the
 * server sends all along, as a client that does not wait for the whole request
 * to be written. Stops writing when the server closes. `halfClose`: end our
 * side once everything is written (the server sees EOF); `untilHttpResponse`:
 * close as soon as one whole HTTP response is in (a keep-alive client);
 * otherwise the server is expected to close (HTTP with `Connection: close`).
 * A connection still open after `timeoutMs` is destroyed (error "timeout").
 */
export function rawExchange(
  port: number,
  head: string | Uint8Array,
  body: Uint8Array = new Uint8Array(0),
  options: { chunked?: boolean; chunkSize?: number; halfClose?: boolean; untilHttpResponse?: boolean; timeoutMs?: number } = {},
): Promise<RawExchange> {
  const chunkSize = options.chunkSize ?? 16 * 1024;
  return new Promise((resolve) => {
    const socket = netConnect({ host: "127.0.0.1", port, allowHalfOpen: true });
    const received: Buffer[] = [];
    let error: string | null = null;
    const timer = setTimeout(() => {
      error = "timeout";
      socket.destroy();
    }, options.timeoutMs ?? 15_000);
    socket.on("data", (d: Buffer) => {
      received.push(d);
      if (options.untilHttpResponse && parseRawResponse(Buffer.concat(received).toString("latin1")).complete) socket.destroy();
    });
    socket.on("error", (e: NodeJS.ErrnoException) => (error ??= e.code ?? e.message));
    socket.on("end", () => socket.end());
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ received: Buffer.concat(received).toString("latin1"), error });
    });
    socket.write(typeof head === "string" ? Buffer.from(head, "latin1") : head);
    let offset = 0;
    const pump = (): void => {
      while (offset < body.length) {
        if (socket.destroyed || socket.writableEnded) return;
        const piece = body.subarray(offset, offset + chunkSize);
        offset += piece.length;
        const framed = options.chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from("\r\n")]) : piece;
        if (!socket.write(framed)) {
          socket.once("drain", pump);
          return;
        }
      }
      if (socket.destroyed || socket.writableEnded) return;
      if (options.chunked) socket.write("0\r\n\r\n");
      if (options.halfClose) socket.end();
    };
    pump();
  });
}

/**
 * Splits a raw HTTP/1.1 response into status, lower-cased headers and the body
 * (chunked framing removed); `complete` once the body is all there.
 */
export function parseRawResponse(raw: string): { status: number; headers: Map<string, string>; body: string; complete: boolean } {
  const end = raw.indexOf("\r\n\r\n");
  if (end < 0) return { status: 0, headers: new Map(), body: "", complete: false };
  const [statusLine, ...lines] = raw.slice(0, end).split("\r\n");
  const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()] as [string, string]));
  let body = raw.slice(end + 4);
  let complete: boolean;
  if (headers.get("transfer-encoding") === "chunked") {
    let out = "";
    complete = false;
    for (;;) {
      const nl = body.indexOf("\r\n");
      if (nl < 0) break;
      const size = parseInt(body.slice(0, nl), 16);
      if (size === 0) complete = body.indexOf("\r\n\r\n", nl) >= 0; // last chunk, then (no) trailers
      if (!(size > 0)) break;
      out += body.slice(nl + 2, nl + 2 + size);
      body = body.slice(nl + 2 + size + 2);
    }
    body = out;
  } else {
    const length = headers.get("content-length");
    complete = length !== undefined && body.length >= Number(length);
  }
  return { status: Number(statusLine!.split(" ")[1]), headers, body, complete };
}
