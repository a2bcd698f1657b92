// The floor of the benchmark: a server that speaks just enough of the V2 TCP
// protocol for cases 1-4 of `bench.ts run` and keeps nothing, so that what it
// costs is what the runtime and the socket layer (src/runtime) cost before any
// queueing. `bench.ts run --target=binary,floor` puts nsqd next to it: memory
// or time that the floor already spends is not nsqd's to save.
//
// What it does, per command:
//   IDENTIFY, SUB    answer OK (a SUB names the topic this connection reads)
//   PUB, DPUB, MPUB  count the messages per topic (and remember the body size),
//                    answer OK; the bodies are dropped
//   RDY, FIN, REQ    flow control: the topic's count is handed out as message
//                    frames of that size while RDY allows, each FIN makes room
//   TOUCH, NOP       nothing;  CLS  answers CLOSE_WAIT
//   anything else    E_INVALID and the connection is closed
// Messages are built into one buffer per batch, never one object per message.
//
//   bun scripts/bench-floor.ts --tcp-address=127.0.0.1:0   (other flags are ignored)
import { loadRuntime } from "../src/runtime/index.ts";
import type { Runtime, Socket, SocketHandler, TcpListener } from "../src/runtime/types.ts";
import { CLOSE_WAIT_FRAME, FrameType, OK_FRAME, encodeError, readInt32, writeUint32 } from "../src/protocol/frames.ts";

const MAGIC = 4;
const NEWLINE = 10;
const SPACE = 32;
const CR = 13;
/** The verbs it knows, matched as bytes, by index in VERB_BYTES; those up to AUTH are followed by a 4-byte size and that many bytes. */
const V = { PUB: 0, DPUB: 1, MPUB: 2, IDENTIFY: 3, AUTH: 4, SUB: 5, RDY: 6, FIN: 7, REQ: 8, TOUCH: 9, NOP: 10, CLS: 11 } as const;
const VERB_BYTES = Object.keys(V).map((v) => new TextEncoder().encode(v));
const UNKNOWN = -1;
const DIGITS = new TextEncoder().encode("0123456789abcdef");
const decoder = new TextDecoder();

interface TopicCount {
  /** Messages published and not yet handed out. */
  waiting: number;
  /** Body size of the last publish: what handed-out messages carry. */
  size: number;
}

/** Counts per topic; shared by every connection of one server. */
type Topics = Map<string, TopicCount>;

function topicOf(topics: Topics, name: string): TopicCount {
  let t = topics.get(name);
  if (t === undefined) {
    t = { waiting: 0, size: 0 };
    topics.set(name, t);
  }
  return t;
}

function sameBytes(buf: Uint8Array, at: number, bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (buf[at + i] !== bytes[i]) return false;
  return true;
}

/** The index in VERB_BYTES of the verb that starts the line at `at` (ending at `nl`), or UNKNOWN. */
function verbAt(buf: Uint8Array, at: number, nl: number): number {
  for (let v = 0; v < VERB_BYTES.length; v++) {
    const bytes = VERB_BYTES[v]!;
    const end = at + bytes.length;
    if (end > nl || !sameBytes(buf, at, bytes)) continue;
    const next = buf[end];
    if (end === nl || next === SPACE || (next === CR && end + 1 === nl)) return v;
  }
  return UNKNOWN;
}

/** Bytes of the command at `at` whose line ends at `nl` (with size and body where it has them), -1 while its size is not there yet. */
function commandSize(buf: Uint8Array, at: number, nl: number, verb: number): number {
  if (verb === UNKNOWN || verb > V.AUTH) return nl + 1 - at;
  if (nl + 5 > buf.length) return -1;
  return nl + 5 - at + readInt32(buf, nl + 1);
}

class FloorConnection implements SocketHandler {
  readonly #socket: Socket;
  readonly #topics: Topics;
  /** A command that began in an earlier chunk: `#fill` bytes of it so far, `#total` in all (-1: its header is not complete yet). */
  #partial: Uint8Array | null = null;
  #fill = 0;
  #total = -1;
  #magic = false;
  #sub: TopicCount | null = null;
  #rdy = 0;
  #inFlight = 0;
  #sequence = 0;
  #closed = false;
  #lastName: Uint8Array | null = null;
  #lastTopic: TopicCount | null = null;

  constructor(socket: Socket, topics: Topics) {
    this.#socket = socket;
    this.#topics = topics;
  }

  data(chunk: Uint8Array): void {
    let at = 0;
    const p = this.#partial;
    if (p !== null) {
      this.#partial = null;
      if (this.#total < 0) {
        // Its line or size was cut: join what there is (a short header) with the chunk.
        const joined = new Uint8Array(this.#fill + chunk.length);
        joined.set(p.subarray(0, this.#fill));
        joined.set(chunk, this.#fill);
        this.#run(joined, 0);
        return;
      }
      // Only the rest of that command is copied, never the whole chunk.
      const take = Math.min(this.#total - this.#fill, chunk.length);
      p.set(chunk.subarray(0, take), this.#fill);
      this.#fill += take;
      at = take;
      if (this.#fill < this.#total) {
        this.#partial = p;
        return;
      }
      this.#command(p);
    }
    this.#run(chunk, at);
  }

  /** Handles the commands of `buf` from `at`; keeps an incomplete last one for the next chunk. */
  #run(buf: Uint8Array, at: number): void {
    if (!this.#magic) {
      if (buf.length - at < MAGIC) {
        this.#keep(buf, at, -1);
        return;
      }
      this.#magic = true;
      at += MAGIC;
    }
    while (at < buf.length && !this.#closed) {
      const nl = buf.indexOf(NEWLINE, at);
      const verb = nl < 0 ? UNKNOWN : verbAt(buf, at, nl);
      const size = nl < 0 ? -1 : commandSize(buf, at, nl, verb);
      if (size < 0 || at + size > buf.length) {
        this.#keep(buf, at, size);
        break;
      }
      this.#execute(buf, at, nl, verb);
      at += size;
    }
    this.#pump();
  }

  #keep(buf: Uint8Array, at: number, total: number): void {
    const have = buf.length - at;
    const p = new Uint8Array(Math.max(total, have));
    p.set(buf.subarray(at));
    this.#partial = p;
    this.#fill = have;
    this.#total = total;
  }

  close(): void {
    this.#closed = true;
  }

  /** Handles the complete command at the start of `buf`. */
  #command(buf: Uint8Array): void {
    const nl = buf.indexOf(NEWLINE);
    this.#execute(buf, 0, nl, verbAt(buf, 0, nl));
  }

  /** Handles the complete command at `at` (line end `nl`); only a topic name or a count is read from its line. */
  #execute(buf: Uint8Array, at: number, nl: number, verb: number): void {
    const argAt = at + (verb === UNKNOWN ? 0 : VERB_BYTES[verb]!.length + 1);
    const body = verb !== UNKNOWN && verb <= V.AUTH ? buf.subarray(nl + 5, nl + 5 + readInt32(buf, nl + 1)) : null;
    switch (verb) {
      case V.IDENTIFY:
      case V.AUTH:
        this.#socket.write(OK_FRAME);
        break;
      case V.SUB:
        this.#sub = this.#topic(buf, argAt, nl);
        this.#socket.write(OK_FRAME);
        break;
      case V.PUB:
      case V.DPUB: {
        const t = this.#topic(buf, argAt, nl);
        t.waiting++;
        t.size = body!.length;
        this.#socket.write(OK_FRAME);
        break;
      }
      case V.MPUB: {
        const t = this.#topic(buf, argAt, nl);
        const n = readInt32(body!, 0);
        t.waiting += n;
        if (n > 0) t.size = readInt32(body!, 4);
        this.#socket.write(OK_FRAME);
        break;
      }
      case V.RDY: {
        let n = 0;
        for (let i = argAt; i < nl && buf[i]! >= 48 && buf[i]! <= 57; i++) n = n * 10 + buf[i]! - 48;
        this.#rdy = n;
        break;
      }
      case V.FIN:
      case V.REQ:
        if (this.#inFlight > 0) this.#inFlight--;
        break;
      case V.TOUCH:
      case V.NOP:
        break;
      case V.CLS:
        this.#socket.write(CLOSE_WAIT_FRAME);
        break;
      default: {
        const space = buf.indexOf(SPACE, at);
        const name = decoder.decode(buf.subarray(at, space >= 0 && space < nl ? space : nl));
        this.#socket.write(encodeError(`E_INVALID invalid command ${name}`));
        this.#socket.end();
        this.#closed = true;
      }
    }
  }

  /** The topic named from `at` to the next space or line end; the last one is kept, so a connection that repeats it decodes no name. */
  #topic(buf: Uint8Array, at: number, nl: number): TopicCount {
    let end = buf.indexOf(SPACE, at);
    if (end < 0 || end > nl) end = nl;
    if (end > at && buf[end - 1] === CR) end--;
    const last = this.#lastName;
    if (last !== null && last.length === end - at && sameBytes(buf, at, last)) return this.#lastTopic!;
    const name = buf.slice(at, end);
    this.#lastName = name;
    this.#lastTopic = topicOf(this.#topics, decoder.decode(name));
    return this.#lastTopic;
  }

  /** Hands out waiting messages while RDY allows, in one write. */
  #pump(): void {
    const t = this.#sub;
    if (t === null || this.#closed) return;
    const n = Math.min(t.waiting, this.#rdy - this.#inFlight);
    if (n <= 0) return;
    const frame = 8 + 26 + t.size;
    const out = new Uint8Array(n * frame);
    const now = Date.now() * 1e6;
    const hi = Math.floor(now / 2 ** 32);
    const lo = now % 2 ** 32;
    for (let i = 0, at = 0; i < n; i++, at += frame) {
      writeUint32(out, at, frame - 4);
      writeUint32(out, at + 4, FrameType.Message);
      writeUint32(out, at + 8, hi);
      writeUint32(out, at + 12, lo);
      out[at + 17] = 1; // attempts
      let id = ++this.#sequence;
      for (let k = 15; k >= 0; k--, id = Math.floor(id / 16)) out[at + 18 + k] = DIGITS[id % 16]!;
      out.fill(120, at + 34, at + frame); // "x"
    }
    t.waiting -= n;
    this.#inFlight += n;
    this.#socket.write(out);
  }
}

/** Starts a floor server on host:port (0: any free port). */
export async function startFloor(host: string, port: number, runtime?: Runtime): Promise<{ port: number; close(): Promise<void> }> {
  const rt = runtime ?? (await loadRuntime());
  const topics: Topics = new Map();
  const listener: TcpListener = await rt.listen({ host, port }, (socket) => new FloorConnection(socket, topics), { allowTlsUpgrade: false });
  const address = listener.address;
  return { port: "port" in address ? address.port : 0, close: () => listener.close() };
}

async function main(argv: readonly string[]): Promise<void> {
  let host = "127.0.0.1";
  let port = 4150;
  for (const a of argv) {
    const m = /^--?tcp-address=(.*):(\d+)$/.exec(a);
    if (m) {
      host = m[1]!.replace(/^\[|\]$/g, "") || "0.0.0.0";
      port = Number(m[2]);
    }
  }
  const floor = await startFloor(host, port);
  // The same line nsqd prints, so bench.ts finds the port the same way.
  process.stderr.write(`[floor] TCP: listening on ${host}:${floor.port}\n`);
  const stop = () => {
    void floor.close().then(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

if (import.meta.main ?? process.argv[1]?.endsWith("bench-floor.ts")) {
  await main(process.argv.slice(2));
}
