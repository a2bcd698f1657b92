// Crash workloads for nsqd's durability promise: every message answered OK is
// delivered, whatever happens to the process (SIGKILL, SIGTERM) or to the disk.
//
// A producer pipelines PUB / MPUB / DPUB over a raw V2 connection and records the
// bodies of every command answered OK; consumers take messages and FIN them
// after a random hold, recording a body as delivered once its FIN is written
// (a message still held when nsqd dies must come again). The process is killed
// at random moments and restarted on the same --data-path; after the last start
// everything left is drained, and the check is: acknowledged minus delivered is
// empty. Used by test/durability/*.test.ts and by scripts/crash.ts, which can
// also run the same workload against any nsqd executable (the original's, say).
import { spawn, type ChildProcess } from "node:child_process";
import { connect, type Socket } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  FrameReader,
  FrameType,
  MAGIC_V2,
  decodeMessagePayload,
  encodeDpub,
  encodeFin,
  encodeMpub,
  encodePub,
  encodeRdy,
  encodeSub,
  type Frame,
} from "../src/protocol/frames.ts";
import { concatBytes } from "../src/protocol/text.ts";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** node / bun / deno run the CLI, binary runs dist/nsq, `exec:<path>` any nsqd-compatible executable. */
export type CrashTarget = "node" | "bun" | "deno" | "binary" | `exec:${string}`;

function nsqdCommand(target: CrashTarget, args: string[]): { file: string; args: string[] } {
  const bin = join(ROOT, "node_modules", ".bin");
  switch (target) {
    case "node":
      return { file: process.execPath, args: [join(ROOT, "dist", "nsq.mjs"), "nsqd", ...args] };
    case "bun":
      return { file: join(bin, "bun"), args: [join(ROOT, "cli", "main.ts"), "nsqd", ...args] };
    case "deno":
      return { file: join(bin, "deno"), args: ["run", "-A", "--quiet", join(ROOT, "cli", "main.ts"), "nsqd", ...args] };
    case "binary":
      return { file: join(ROOT, "dist", "nsq"), args: ["nsqd", ...args] };
    default:
      return { file: target.slice("exec:".length), args };
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One nsqd process on 127.0.0.1 with ports chosen by the system. */
export class NsqdProcess {
  readonly child: ChildProcess;
  readonly tcpPort: number;
  readonly httpPort: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #stderr: { text: string };

  private constructor(child: ChildProcess, tcpPort: number, httpPort: number, stderr: { text: string }, exited: NsqdProcess["exited"]) {
    this.child = child;
    this.tcpPort = tcpPort;
    this.httpPort = httpPort;
    this.#stderr = stderr;
    this.exited = exited;
  }

  get stderr(): string {
    return this.#stderr.text;
  }

  static async start(target: CrashTarget, dataPath: string, flags: readonly string[] = [], timeoutMs = 30_000): Promise<NsqdProcess> {
    const cmd = nsqdCommand(target, ["--tcp-address=127.0.0.1:0", "--http-address=127.0.0.1:0", `--data-path=${dataPath}`, ...flags]);
    const child = spawn(cmd.file, cmd.args, { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "ignore", "pipe"] });
    const stderr = { text: "" };
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
      child.on("close", (code, signal) => res({ code, signal }));
      child.on("error", () => res({ code: -1, signal: null }));
    });
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr.text += d));
    const deadline = Date.now() + timeoutMs;
    let dead = false;
    void exited.then(() => (dead = true));
    for (;;) {
      const tcp = /TCP: listening on [^\n]*:(\d+)\n/.exec(stderr.text);
      const http = /HTTP: listening on [^\n]*:(\d+)\n/.exec(stderr.text);
      if (tcp && http) return new NsqdProcess(child, Number(tcp[1]), Number(http[1]), stderr, exited);
      if (dead) throw new Error(`nsqd (${target}) exited during start-up:\n${stderr.text}`);
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`nsqd (${target}) did not start within ${timeoutMs} ms:\n${stderr.text}`);
      }
      await sleep(10);
    }
  }

  /** Sends `signal` and waits for the exit. */
  async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }

  async stats(topic: string): Promise<StatsTopic | null> {
    const res = await fetch(`http://127.0.0.1:${this.httpPort}/stats?format=json&topic=${encodeURIComponent(topic)}`);
    const json = (await res.json()) as { topics?: StatsTopic[]; data?: { topics?: StatsTopic[] } };
    const topics = json.topics ?? json.data?.topics ?? [];
    return topics.find((t) => t.topic_name === topic) ?? null;
  }

  async ping(): Promise<{ status: number; text: string }> {
    const res = await fetch(`http://127.0.0.1:${this.httpPort}/ping`);
    return { status: res.status, text: await res.text() };
  }
}

export interface StatsChannel {
  channel_name: string;
  depth: number;
  in_flight_count: number;
  deferred_count: number;
}

export interface StatsTopic {
  topic_name: string;
  depth: number;
  channels: StatsChannel[];
}

/** A raw V2 connection delivering frames to a callback. */
class Connection {
  readonly socket: Socket;
  readonly #reader = new FrameReader();
  readonly closed: Promise<void>;
  onFrame: (f: Frame) => void = () => {};

  private constructor(socket: Socket) {
    this.socket = socket;
    this.closed = new Promise((res) => socket.on("close", () => res()));
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.#reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
      } catch {
        socket.destroy();
        return;
      }
      for (const f of frames) {
        if (f.type === FrameType.Response && f.data.length === 11 && decoder.decode(f.data) === "_heartbeat_") {
          this.send(encoder.encode("NOP\n"));
          continue;
        }
        this.onFrame(f);
      }
    });
  }

  static open(port: number): Promise<Connection> {
    return new Promise((res, rej) => {
      const socket = connect({ host: "127.0.0.1", port });
      socket.setNoDelay(true);
      socket.once("error", rej);
      socket.once("connect", () => {
        socket.off("error", rej);
        const c = new Connection(socket);
        c.send(MAGIC_V2);
        res(c);
      });
    });
  }

  send(bytes: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  close(): void {
    this.socket.destroy();
  }
}

export type PublishMode = "pub" | "mpub" | "dpub";

export interface ProducerOptions {
  topic: string;
  mode: PublishMode;
  /** Bodies per MPUB. */
  batch?: number;
  /** Commands sent and not yet answered, at most. */
  window?: number;
  /** Body size in bytes (at least the length of the unique prefix). */
  size?: number;
  /** DPUB delay. */
  deferMs?: number;
  /** Unique prefix of this producer's bodies. */
  prefix: string;
  /** Stop after this many bodies (0: until stop()). */
  limit?: number;
}

/** Unique body `<prefix>:<n>:` padded with dots to `size` bytes. */
export function makeBody(prefix: string, n: number, size: number): string {
  const head = `${prefix}:${n}:`;
  return head.length >= size ? head : head + ".".repeat(size - head.length);
}

/** Pipelines publishes; `acked` holds the bodies of every command answered OK. */
export class PipelinedProducer {
  readonly acked: string[] = [];
  /** First error frame or close reason. */
  failure: string | null = null;
  readonly done: Promise<void>;
  readonly #o: Required<ProducerOptions>;
  readonly #outstanding: string[][] = [];
  #conn: Connection | null = null;
  #next = 0;
  #stopped = false;
  #finish!: () => void;

  constructor(options: ProducerOptions) {
    this.#o = { batch: 100, window: 64, size: 100, deferMs: 0, limit: 0, ...options };
    this.done = new Promise((r) => (this.#finish = r));
  }

  async start(port: number): Promise<void> {
    const conn = await Connection.open(port);
    this.#conn = conn;
    conn.onFrame = (f) => this.#frame(f);
    void conn.closed.then(() => {
      this.failure ??= "closed";
      this.#finish();
    });
    this.#fill();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#outstanding.length === 0) {
      this.#conn?.close();
    }
  }

  get sent(): number {
    return this.#next;
  }

  #frame(f: Frame): void {
    const bodies = this.#outstanding.shift();
    if (f.type !== FrameType.Response || bodies === undefined) {
      this.failure ??= f.type === FrameType.Error ? decoder.decode(f.data) : `unexpected frame ${f.type}`;
      this.#conn?.close();
      return;
    }
    for (const b of bodies) this.acked.push(b);
    if (this.#stopped && this.#outstanding.length === 0) this.#conn?.close();
    else this.#fill();
  }

  #fill(): void {
    const o = this.#o;
    const parts: Uint8Array[] = [];
    while (!this.#stopped && this.#outstanding.length < o.window && (o.limit === 0 || this.#next < o.limit)) {
      const count = o.mode === "mpub" ? Math.min(o.batch, o.limit === 0 ? o.batch : o.limit - this.#next) : 1;
      const bodies: string[] = [];
      for (let i = 0; i < count; i++) bodies.push(makeBody(o.prefix, this.#next++, o.size));
      this.#outstanding.push(bodies);
      const bytes = bodies.map((b) => encoder.encode(b));
      parts.push(
        o.mode === "mpub" ? encodeMpub(o.topic, bytes) : o.mode === "dpub" ? encodeDpub(o.topic, o.deferMs, bytes[0]!) : encodePub(o.topic, bytes[0]!),
      );
    }
    if (parts.length > 0) this.#conn!.send(parts.length === 1 ? parts[0]! : concatBytes(parts));
    if (o.limit !== 0 && this.#next >= o.limit && this.#outstanding.length === 0) this.stop();
  }
}

export interface ConsumerOptions {
  topic: string;
  channel: string;
  rdy?: number;
  /** Each message is FINished after a random hold in [0, holdMs]. */
  holdMs?: number;
  /** Never FIN (messages stay in flight). */
  noFin?: boolean;
}

/** SUB + RDY; FINs after a random hold; a body counts as delivered once its FIN is written. */
export class HoldingConsumer {
  readonly delivered = new Map<string, number>();
  /** Every body received, with the time (ms) it arrived. */
  readonly received: Array<{ body: string; at: number; attempts: number }> = [];
  readonly #o: Required<ConsumerOptions>;
  #conn: Connection | null = null;
  #subscribed!: () => void;
  #timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(options: ConsumerOptions) {
    this.#o = { rdy: 100, holdMs: 0, noFin: false, ...options };
  }

  async start(port: number): Promise<void> {
    const conn = await Connection.open(port);
    this.#conn = conn;
    const subscribed = new Promise<void>((r) => (this.#subscribed = r));
    let ok = false;
    conn.onFrame = (f) => {
      if (!ok) {
        ok = true;
        this.#subscribed();
        return;
      }
      if (f.type !== FrameType.Message) return;
      const m = decodeMessagePayload(f.data);
      const body = decoder.decode(m.body);
      this.received.push({ body, at: Date.now(), attempts: m.attempts });
      if (this.#o.noFin) return;
      const id = m.id.slice();
      const fin = () => {
        if (conn.socket.destroyed) return;
        conn.send(encodeFin(id));
        this.delivered.set(body, (this.delivered.get(body) ?? 0) + 1);
      };
      const hold = this.#o.holdMs > 0 ? Math.random() * this.#o.holdMs : 0;
      if (hold < 1) fin();
      else {
        const t = setTimeout(() => {
          this.#timers.delete(t);
          fin();
        }, hold);
        this.#timers.add(t);
      }
    };
    conn.send(encodeSub(this.#o.topic, this.#o.channel));
    await subscribed;
    conn.send(encodeRdy(this.#o.rdy));
  }

  stop(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#conn?.close();
  }

  get closed(): Promise<void> {
    return this.#conn?.closed ?? Promise.resolve();
  }
}

/** Consumes (FIN at once) until the channel is empty: no message for `idleMs` and depth, in flight and deferred all 0. */
export async function drain(
  nsqd: NsqdProcess,
  topic: string,
  channel: string,
  options: { idleMs?: number; timeoutMs?: number } = {},
): Promise<Map<string, number>> {
  const idleMs = options.idleMs ?? 1_000;
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  const c = new HoldingConsumer({ topic, channel, rdy: 1000 });
  await c.start(nsqd.tcpPort);
  let last = -1;
  let quietSince = Date.now();
  try {
    for (;;) {
      await sleep(100);
      if (c.received.length !== last) {
        last = c.received.length;
        quietSince = Date.now();
      }
      if (Date.now() - quietSince >= idleMs) {
        const t = await nsqd.stats(topic);
        const ch = t?.channels.find((x) => x.channel_name === channel);
        if (t !== null && t.depth === 0 && ch !== undefined && ch.depth === 0 && ch.in_flight_count === 0 && ch.deferred_count === 0) break;
      }
      if (Date.now() > deadline) throw new Error(`drain of ${topic}/${channel} did not finish (${c.received.length} received)`);
    }
  } finally {
    c.stop();
  }
  return c.delivered;
}

export interface CrashLoopOptions {
  target: CrashTarget;
  dataPath: string;
  flags: readonly string[];
  cycles: number;
  topic?: string;
  channel?: string;
  mode: PublishMode;
  /** Producers per cycle. */
  producers?: number;
  /** Consumers per cycle (0: the topic has no channel until the final drain). */
  consumers?: number;
  consumerHoldMs?: number;
  window?: number;
  batch?: number;
  size?: number;
  /** The kill comes at a random moment in [minRunMs, maxRunMs] after the start. */
  minRunMs?: number;
  maxRunMs?: number;
  signal?: NodeJS.Signals;
  log?: (line: string) => void;
}

export interface CrashReport {
  cycles: number;
  acknowledged: number;
  delivered: number;
  /** Acknowledged bodies never delivered. */
  lost: string[];
  /** Bodies delivered more than once (at-least-once allows it). */
  duplicates: number;
  /** Bodies delivered that were never published. */
  unknown: string[];
  perCycle: Array<{ acknowledged: number; sent: number; failures: string[] }>;
}

/** Kill / restart `cycles` times under load, then drain and compare. */
export async function crashLoop(o: CrashLoopOptions): Promise<CrashReport> {
  const topic = o.topic ?? "crash";
  const channel = o.channel ?? "ch";
  const log = o.log ?? (() => {});
  const acked = new Set<string>();
  const published = new Set<string>();
  const delivered = new Map<string, number>();
  const perCycle: CrashReport["perCycle"] = [];
  const addDelivered = (m: Map<string, number>) => {
    for (const [b, n] of m) delivered.set(b, (delivered.get(b) ?? 0) + n);
  };
  for (let cycle = 0; cycle < o.cycles; cycle++) {
    const nsqd = await NsqdProcess.start(o.target, o.dataPath, o.flags);
    const consumers: HoldingConsumer[] = [];
    for (let i = 0; i < (o.consumers ?? 0); i++) {
      const c = new HoldingConsumer({ topic, channel, rdy: 50, holdMs: o.consumerHoldMs ?? 200 });
      await c.start(nsqd.tcpPort);
      consumers.push(c);
    }
    const producers: PipelinedProducer[] = [];
    for (let i = 0; i < (o.producers ?? 1); i++) {
      const p = new PipelinedProducer({
        topic,
        mode: o.mode,
        prefix: `c${cycle}p${i}`,
        window: o.window ?? 64,
        batch: o.batch ?? 50,
        size: o.size ?? 100,
      });
      await p.start(nsqd.tcpPort);
      producers.push(p);
    }
    const min = o.minRunMs ?? 300;
    const max = o.maxRunMs ?? 1_500;
    await sleep(min + Math.random() * (max - min));
    await nsqd.stop(o.signal ?? "SIGKILL");
    await Promise.all(producers.map((p) => p.done));
    for (const c of consumers) {
      c.stop();
      addDelivered(c.delivered);
    }
    const failures: string[] = [];
    let cycleAcked = 0;
    let sent = 0;
    for (const p of producers) {
      for (const b of p.acked) acked.add(b);
      for (let n = 0; n < p.sent; n++) published.add(makeBody(`c${cycle}p${producers.indexOf(p)}`, n, o.size ?? 100));
      cycleAcked += p.acked.length;
      sent += p.sent;
      if (p.failure !== null && p.failure !== "closed") failures.push(p.failure);
    }
    perCycle.push({ acknowledged: cycleAcked, sent, failures });
    log(`cycle ${cycle + 1}/${o.cycles}: ${cycleAcked} acknowledged of ${sent} sent${failures.length ? ` (${failures.join("; ")})` : ""}`);
  }
  const nsqd = await NsqdProcess.start(o.target, o.dataPath, o.flags);
  try {
    addDelivered(await drain(nsqd, topic, channel));
  } finally {
    await nsqd.stop("SIGTERM");
  }
  const lost = [...acked].filter((b) => !delivered.has(b));
  const unknown = [...delivered.keys()].filter((b) => !published.has(b));
  let duplicates = 0;
  for (const n of delivered.values()) if (n > 1) duplicates++;
  const report: CrashReport = { cycles: o.cycles, acknowledged: acked.size, delivered: delivered.size, lost, duplicates, unknown, perCycle };
  log(`acknowledged ${acked.size}, delivered ${delivered.size}, lost ${lost.length}, duplicates ${duplicates}, unknown ${unknown.length}`);
  return report;
}
