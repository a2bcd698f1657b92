// Load generators for any nsqd speaking the V2 TCP protocol (ours or the
// original): a writer in the spirit of the original's bench_writer (MPUB
// batches, or one PUB per round trip) and a reader like its bench_reader (SUB,
// RDY, FIN every message). Both report messages/s and MB/s of message bodies.
//
// The client must not be what limits the figures, so:
// - command buffers are built once and written again and again (a socket write
//   does not copy, and these buffers are never mutated);
// - the writer keeps several MPUBs in flight per connection (--pipeline) and
//   coalesces refills that one read makes possible into one writev (cork);
// - the reader scans frames in place (bench-frames.ts) and answers every
//   message of a chunk with one write holding all the FINs of that chunk;
// - the reader can negotiate TLS, Snappy or DEFLATE (bench-transport.ts) to
//   measure what those cost nsqd; plaintext uses the bare socket.
import * as net from "node:net";
import {
  FrameReader,
  FrameType,
  MAGIC_V2,
  NOP_COMMAND,
  encodeIdentify,
  encodeMpub,
  encodePub,
  encodeRdy,
  encodeSub,
  type Frame,
} from "../src/protocol/frames.ts";
import { isValidChannelName, isValidTopicName } from "../src/protocol/names.ts";
import { FrameScanner, type FrameSink } from "./bench-frames.ts";
import { PLAINTEXT, checkTransport, openWire, type TransportOptions, type Wire } from "./bench-transport.ts";
import { errorText } from "../src/common/errors.ts";

export interface TcpTarget {
  host: string;
  port: number;
}

export interface RunResult {
  /** Messages acknowledged (writer: by OK) or received (reader). */
  messages: number;
  /** Body bytes of those messages. */
  bytes: number;
  /** From the start signal to the last acknowledgement / message. */
  seconds: number;
  /** Round-trip latency percentiles in microseconds (writer only). */
  latencyUs?: { p50: number; p99: number; max: number };
  /** Why the run stopped: "count", "runfor", "drained", or an error text. */
  stop: string;
  /** CPU this benchmark process used over the run, in % of one core (shows whether the client limits the figures). */
  clientCpuPct: number;
}

/** This process's CPU use since construction, as % of one core over `seconds` of the run. */
class CpuMeter {
  #cpu = process.cpuUsage();
  pct(seconds: number): number {
    const d = process.cpuUsage(this.#cpu);
    return seconds > 0 ? ((d.user + d.system) / (seconds * 1e6)) * 100 : 0;
  }
}

/** Stop reasons of a run that finished as asked (anything else is an error text). */
export const CLEAN_STOPS: readonly string[] = ["count", "runfor", "drained"];

export function parseTarget(address: string): TcpTarget {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  if (m === null) throw new TypeError(`address ${JSON.stringify(address)} is not host:port`);
  return { host: m[1] ?? (m[2] || "127.0.0.1"), port: Number(m[3]) };
}

const USER_AGENT = "nsq-bench/1.3.0";
const LATENCY_SAMPLES = 1 << 18;

function connect(target: TcpTarget, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.host, port: target.port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect to ${target.host}:${target.port} timed out after ${timeoutMs} ms`));
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

function text(data: Uint8Array): string {
  return new TextDecoder().decode(data);
}

/** Waits for `n` OK responses (answering heartbeats); rejects on an error frame or close. */
function expectOks(socket: net.Socket, n: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const reader = new FrameReader();
    let left = n;
    const done = (err?: Error) => {
      socket.off("data", onData);
      socket.off("close", onClose);
      socket.off("error", onError);
      if (err) reject(err);
      else resolve();
    };
    const onData = (chunk: Uint8Array) => {
      for (const f of reader.push(chunk)) {
        const t = text(f.data);
        if (f.type === FrameType.Error) return done(new Error(`${what}: ${t}`));
        if (t === "_heartbeat_") socket.write(NOP_COMMAND);
        else if (t === "OK") left--;
        else return done(new Error(`${what}: unexpected response ${JSON.stringify(t)}`));
      }
      if (left === 0) {
        if (reader.pending !== 0) return done(new Error(`${what}: unexpected bytes after OK`));
        done();
      }
    };
    const onClose = () => done(new Error(`${what}: connection closed`));
    const onError = (e: Error) => done(e);
    socket.on("data", onData);
    socket.on("close", onClose);
    socket.on("error", onError);
  });
}

async function openConnection(target: TcpTarget, clientId: string, extra: Uint8Array[] = [], extraOks = 0): Promise<net.Socket> {
  const socket = await connect(target, 5000);
  // No feature negotiation: IDENTIFY answers a plain OK on every nsqd version.
  const identify = encodeIdentify({ client_id: clientId, hostname: clientId, user_agent: USER_AGENT, feature_negotiation: false });
  const ok = expectOks(socket, 1 + extraOks, `${clientId} setup`);
  socket.write(MAGIC_V2);
  socket.write(identify);
  for (const b of extra) socket.write(b);
  await ok;
  return socket;
}

// ---- writer -------------------------------------------------------------------

export interface WriterOptions {
  target: TcpTarget;
  topic: string;
  /** Body size in bytes. */
  size: number;
  /** Messages per MPUB; 1 sends PUB. */
  batchSize: number;
  connections: number;
  /** Commands in flight per connection. */
  pipeline: number;
  runforMs: number;
  /** Stop after this many messages (0: no limit). */
  count: number;
}

/** The prebuilt command for a batch of `n` messages (PUB when the batch size is 1). */
function batchCommand(topic: string, body: Uint8Array, n: number, usePub: boolean): Uint8Array {
  if (usePub) return encodePub(topic, body);
  const bodies: Uint8Array[] = new Array(n).fill(body);
  return encodeMpub(topic, bodies);
}

function makeBody(size: number): Uint8Array {
  const body = new Uint8Array(size);
  for (let i = 0; i < size; i++) body[i] = 0x61 + (i % 26);
  return body;
}

class WriterRun {
  readonly o: WriterOptions;
  readonly usePub: boolean;
  readonly full: Uint8Array;
  readonly #partial = new Map<number, Uint8Array>();
  /** Messages not yet handed to a connection (Infinity without --count). */
  unassigned: number;
  acked = 0;
  stopIssuing = false;
  lastAck = 0;
  started = 0;
  error: string | null = null;
  readonly latencies = new Float64Array(LATENCY_SAMPLES);
  latencyCount = 0;
  latencyMax = 0;
  #finish: (() => void) | null = null;
  #open = 0;

  constructor(o: WriterOptions) {
    this.o = o;
    this.usePub = o.batchSize === 1;
    this.full = batchCommand(o.topic, makeBody(o.size), o.batchSize, this.usePub);
    this.unassigned = o.count > 0 ? o.count : Infinity;
  }

  /** Messages for the next command (0 when nothing is left to send). */
  take(): number {
    if (this.stopIssuing || this.unassigned <= 0) return 0;
    const n = Math.min(this.o.batchSize, this.unassigned);
    this.unassigned -= n;
    return n;
  }

  command(n: number): Uint8Array {
    if (n === this.o.batchSize) return this.full;
    let cmd = this.#partial.get(n);
    if (cmd === undefined) {
      cmd = batchCommand(this.o.topic, makeBody(this.o.size), n, this.usePub);
      this.#partial.set(n, cmd);
    }
    return cmd;
  }

  recordLatency(us: number): void {
    if (us > this.latencyMax) this.latencyMax = us;
    // A ring of the most recent LATENCY_SAMPLES round trips: fixed memory, no allocation.
    this.latencies[this.latencyCount++ & (LATENCY_SAMPLES - 1)] = us;
  }

  connectionDone(): void {
    if (--this.#open === 0) this.#finish?.();
  }

  async run(): Promise<RunResult> {
    const sockets: net.Socket[] = [];
    try {
      for (let i = 0; i < this.o.connections; i++) sockets.push(await openConnection(this.o.target, `bench_writer_${i}`));
    } catch (e) {
      for (const s of sockets) s.destroy();
      throw e;
    }
    const finished = new Promise<void>((resolve) => (this.#finish = resolve));
    this.#open = sockets.length;
    const cpu = new CpuMeter();
    this.started = performance.now();
    this.lastAck = this.started;
    const deadline = setTimeout(() => (this.stopIssuing = true), this.o.runforMs);
    for (const s of sockets) new WriterConnection(this, s).start();
    await finished;
    clearTimeout(deadline);
    for (const s of sockets) s.destroy();
    const seconds = (this.lastAck - this.started) / 1000;
    const result: RunResult = {
      messages: this.acked,
      bytes: this.acked * this.o.size,
      seconds,
      stop: this.error ?? (this.stopIssuing ? "runfor" : "count"),
      clientCpuPct: cpu.pct(seconds),
    };
    const n = Math.min(this.latencyCount, LATENCY_SAMPLES);
    if (n > 0) {
      const sorted = this.latencies.slice(0, n).sort();
      result.latencyUs = {
        p50: sorted[Math.floor(n * 0.5)]!,
        p99: sorted[Math.min(n - 1, Math.floor(n * 0.99))]!,
        max: this.latencyMax,
      };
    }
    return result;
  }
}

class WriterConnection {
  readonly #run: WriterRun;
  readonly #socket: net.Socket;
  readonly #reader = new FrameReader();
  /** Message counts and send times of the commands in flight, oldest first (ring). */
  readonly #counts: Int32Array;
  readonly #sentAt: Float64Array;
  #head = 0;
  #inFlight = 0;
  #done = false;

  constructor(run: WriterRun, socket: net.Socket) {
    this.#run = run;
    this.#socket = socket;
    this.#counts = new Int32Array(run.o.pipeline);
    this.#sentAt = new Float64Array(run.o.pipeline);
  }

  start(): void {
    this.#socket.on("data", (chunk: Uint8Array) => this.#onData(chunk));
    this.#socket.on("error", (e) => this.#fail(`socket error: ${e.message}`));
    this.#socket.on("close", () => this.#fail("connection closed by nsqd"));
    this.#refill();
    if (this.#inFlight === 0) this.#end();
  }

  #refill(): void {
    const run = this.#run;
    const cap = this.#counts.length;
    let corked = false;
    while (this.#inFlight < cap) {
      const n = run.take();
      if (n === 0) break;
      if (!corked) {
        this.#socket.cork();
        corked = true;
      }
      const slot = (this.#head + this.#inFlight) % cap;
      this.#counts[slot] = n;
      this.#sentAt[slot] = performance.now();
      this.#inFlight++;
      this.#socket.write(run.command(n));
    }
    if (corked) this.#socket.uncork();
  }

  #onData(chunk: Uint8Array): void {
    let frames: Frame[];
    try {
      frames = this.#reader.push(chunk);
    } catch (e) {
      return this.#fail(`bad frame: ${errorText(e)}`);
    }
    const run = this.#run;
    const now = performance.now();
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i]!;
      if (f.type === FrameType.Error) return this.#fail(`nsqd error: ${text(f.data)}`);
      // "_heartbeat_" is 11 bytes; "OK" is 2.
      if (f.data.length === 11 && f.data[0] === 0x5f) {
        this.#socket.write(NOP_COMMAND);
        continue;
      }
      if (f.data.length !== 2 || f.data[0] !== 0x4f || f.data[1] !== 0x4b) return this.#fail(`unexpected response ${JSON.stringify(text(f.data))}`);
      if (this.#inFlight === 0) return this.#fail("OK without a command in flight");
      run.acked += this.#counts[this.#head]!;
      run.recordLatency((now - this.#sentAt[this.#head]!) * 1000);
      this.#head = (this.#head + 1) % this.#counts.length;
      this.#inFlight--;
    }
    run.lastAck = now;
    this.#refill();
    if (this.#inFlight === 0) this.#end();
  }

  #fail(why: string): void {
    if (this.#done) return;
    this.#run.error ??= why;
    this.#run.stopIssuing = true;
    this.#end();
  }

  #end(): void {
    if (this.#done) return;
    this.#done = true;
    this.#run.connectionDone();
  }
}

export function runWriter(o: WriterOptions): Promise<RunResult> {
  if (!isValidTopicName(o.topic)) throw new RangeError(`topic name ${JSON.stringify(o.topic)} is not valid`);
  if (!(o.size > 0)) throw new RangeError(`--size must be > 0, got ${o.size}`);
  if (!(o.batchSize > 0)) throw new RangeError(`--batch-size must be > 0, got ${o.batchSize}`);
  if (!(o.connections > 0)) throw new RangeError(`--connections must be > 0, got ${o.connections}`);
  if (!(o.pipeline > 0)) throw new RangeError(`--pipeline must be > 0, got ${o.pipeline}`);
  return new WriterRun(o).run();
}

// ---- reader -------------------------------------------------------------------

export interface ReaderOptions {
  target: TcpTarget;
  topic: string;
  channel: string;
  /** RDY per connection. */
  rdy: number;
  connections: number;
  runforMs: number;
  /** Stop after this many messages (0: no limit). */
  count: number;
  /** Stop when no message arrived for this long after the first one (0: never). */
  idleMs: number;
  /** TLS / Snappy / DEFLATE (default: plaintext). */
  transport?: TransportOptions;
}

/** "FIN " + 16-byte id + "\n". */
const FIN_SIZE = 21;
/** Smallest message frame: 8 header + 26 message header, empty body. */
const MIN_MESSAGE_FRAME = 34;
/** Initial size of a reader connection's FIN buffer (grown when a chunk could need more). */
const FIN_BUFFER = 64 * 1024;

class ReaderRun {
  readonly o: ReaderOptions;
  received = 0;
  bytes = 0;
  started = 0;
  lastMessage = 0;
  stop: string | null = null;
  #finish: (() => void) | null = null;
  readonly finished = new Promise<void>((resolve) => (this.#finish = resolve));

  constructor(o: ReaderOptions) {
    this.o = o;
  }

  end(why: string): void {
    if (this.stop !== null) return;
    this.stop = why;
    this.#finish?.();
  }

  async run(): Promise<RunResult> {
    const sockets: Wire[] = [];
    const sub = encodeSub(this.o.topic, this.o.channel);
    const { host, port } = this.o.target;
    try {
      for (let i = 0; i < this.o.connections; i++) {
        sockets.push(await openWire(host, port, `bench_reader_${i}`, USER_AGENT, this.o.transport ?? PLAINTEXT, [sub]));
      }
    } catch (e) {
      for (const s of sockets) s.destroy();
      throw e;
    }
    const conns = sockets.map((s) => new ReaderConnection(this, s));
    const cpu = new CpuMeter();
    this.started = performance.now();
    this.lastMessage = this.started;
    const rdy = encodeRdy(this.o.rdy);
    for (const c of conns) c.start(rdy);
    const deadline = setTimeout(() => this.end("runfor"), this.o.runforMs);
    const idle =
      this.o.idleMs > 0
        ? setInterval(
            () => {
              if (this.received > 0 && performance.now() - this.lastMessage >= this.o.idleMs) this.end("drained");
            },
            Math.min(100, this.o.idleMs),
          )
        : null;
    await this.finished;
    clearTimeout(deadline);
    if (idle !== null) clearInterval(idle);
    for (const s of sockets) s.destroy();
    const seconds = (this.lastMessage - this.started) / 1000;
    return {
      messages: this.received,
      bytes: this.bytes,
      seconds,
      stop: this.stop ?? "?",
      clientCpuPct: cpu.pct(seconds),
    };
  }
}

class ReaderConnection implements FrameSink {
  readonly #run: ReaderRun;
  readonly #socket: Wire;
  readonly #scanner: FrameScanner;
  /**
   * FINs not yet written. Node delivers several chunks per socket read cycle
   * when frames arrive in small writes, so FINs are gathered until
   * setImmediate and go out in one write; the buffer is then replaced, never
   * reused, because a pending write keeps a reference to it.
   */
  #fins: Uint8Array = new Uint8Array(FIN_BUFFER);
  #finLen = 0;
  #flushScheduled = false;
  readonly #flushFins = (): void => {
    this.#flushScheduled = false;
    if (this.#finLen === 0 || this.#run.stop !== null) return;
    this.#socket.write(this.#fins.subarray(0, this.#finLen));
    this.#fins = new Uint8Array(FIN_BUFFER);
    this.#finLen = 0;
  };

  constructor(run: ReaderRun, socket: Wire) {
    this.#run = run;
    this.#socket = socket;
    this.#scanner = new FrameScanner(this);
  }

  start(rdy: Uint8Array): void {
    this.#socket.onData((chunk: Uint8Array) => this.#onData(chunk));
    this.#socket.onClose((why) => this.#run.end(why));
    this.#socket.write(rdy);
  }

  #onData(chunk: Uint8Array): void {
    const run = this.#run;
    if (run.stop !== null) return;
    // Room for every message this chunk can complete (+1 for a frame carried over).
    const need = this.#finLen + (Math.floor(chunk.length / MIN_MESSAGE_FRAME) + 1) * FIN_SIZE;
    if (need > this.#fins.length) {
      const grown = new Uint8Array(Math.max(need, this.#fins.length * 2));
      grown.set(this.#fins.subarray(0, this.#finLen));
      this.#fins = grown;
    }
    const before = run.received;
    try {
      this.#scanner.push(chunk);
    } catch (e) {
      return run.end(`bad frame: ${errorText(e)}`);
    }
    if (run.received !== before) {
      run.lastMessage = performance.now();
      if (run.o.count > 0 && run.received >= run.o.count) return run.end("count");
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(this.#flushFins);
      }
    }
  }

  frame(type: number, buf: Uint8Array, start: number, end: number): void {
    const run = this.#run;
    if (type === FrameType.Message) {
      const fins = this.#fins;
      const at = this.#finLen;
      fins[at] = 0x46; // F
      fins[at + 1] = 0x49; // I
      fins[at + 2] = 0x4e; // N
      fins[at + 3] = 0x20;
      // The 16 id bytes, copied by hand: a subarray here would be one allocation per message.
      for (let i = 0; i < 16; i++) fins[at + 4 + i] = buf[start + 10 + i]!;
      fins[at + 20] = 0x0a;
      this.#finLen = at + FIN_SIZE;
      run.received++;
      run.bytes += end - start - 26;
      return;
    }
    if (type === FrameType.Error) {
      // E_FIN_FAILED and friends keep the connection; anything else closes it.
      const t = text(buf.subarray(start, end));
      if (!t.startsWith("E_FIN_FAILED")) run.end(`nsqd error: ${t}`);
      return;
    }
    if (end - start === 11 && buf[start] === 0x5f) this.#socket.write(NOP_COMMAND);
  }
}

export function runReader(o: ReaderOptions): Promise<RunResult> {
  if (!isValidTopicName(o.topic)) throw new RangeError(`topic name ${JSON.stringify(o.topic)} is not valid`);
  if (!isValidChannelName(o.channel)) throw new RangeError(`channel name ${JSON.stringify(o.channel)} is not valid`);
  if (!(o.rdy > 0)) throw new RangeError(`--rdy must be > 0, got ${o.rdy}`);
  if (!(o.connections > 0)) throw new RangeError(`--connections must be > 0, got ${o.connections}`);
  if (o.transport !== undefined) checkTransport(o.transport);
  return new ReaderRun(o).run();
}

/** Opens a consumer on topic/channel and closes it at once: creates the channel (D-TCP-SUB) on any nsqd. */
export async function createChannel(target: TcpTarget, topic: string, channel: string): Promise<void> {
  const socket = await openConnection(target, "bench_setup", [encodeSub(topic, channel)], 1);
  socket.destroy();
}

export function formatResult(label: string, r: RunResult): string {
  const rate = r.seconds > 0 ? r.messages / r.seconds : 0;
  const mb = r.seconds > 0 ? r.bytes / r.seconds / 1024 / 1024 : 0;
  const us = r.messages > 0 ? (r.seconds * 1e6) / r.messages : 0;
  let line = `[${label}] duration: ${r.seconds.toFixed(3)}s - ${mb.toFixed(3)}mb/s - ${rate.toFixed(3)}ops/s - ${us.toFixed(3)}us/op - ${r.messages} messages (stop: ${r.stop}, client CPU ${r.clientCpuPct.toFixed(0)}%)`;
  if (r.latencyUs) line += ` - round trip p50 ${r.latencyUs.p50.toFixed(0)}us p99 ${r.latencyUs.p99.toFixed(0)}us max ${r.latencyUs.max.toFixed(0)}us`;
  return line;
}
