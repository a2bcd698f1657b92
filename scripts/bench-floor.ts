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
/** Commands whose line is followed by a 4-byte size and that many bytes. */
const WITH_BODY = new Set(["PUB", "DPUB", "MPUB", "IDENTIFY", "AUTH"]);
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
      this.#command(p, 0);
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
      const size = this.#commandSize(buf, at);
      if (size < 0 || at + size > buf.length) {
        this.#keep(buf, at, size);
        break;
      }
      this.#command(buf, at);
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

  /** Bytes of the command at `at` (line, and size plus body where it has one), -1 while its header is incomplete. */
  #commandSize(buf: Uint8Array, at: number): number {
    const nl = buf.indexOf(NEWLINE, at);
    if (nl < 0) return -1;
    const space = buf.indexOf(SPACE, at);
    const verb = decoder.decode(buf.subarray(at, space >= 0 && space < nl ? space : nl)).trimEnd();
    if (!WITH_BODY.has(verb)) return nl + 1 - at;
    if (nl + 5 > buf.length) return -1;
    return nl + 5 - at + readInt32(buf, nl + 1);
  }

  close(): void {
    this.#closed = true;
  }

  /** Handles the complete command at `at`. */
  #command(buf: Uint8Array, at: number): void {
    const nl = buf.indexOf(NEWLINE, at);
    const line = decoder.decode(buf.subarray(at, nl)).trimEnd();
    const space = line.indexOf(" ");
    const verb = space < 0 ? line : line.slice(0, space);
    const args = space < 0 ? [] : line.slice(space + 1).split(" ");
    const body = WITH_BODY.has(verb) ? buf.subarray(nl + 5, nl + 5 + readInt32(buf, nl + 1)) : null;
    switch (verb) {
      case "IDENTIFY":
      case "AUTH":
        this.#socket.write(OK_FRAME);
        break;
      case "SUB":
        this.#sub = topicOf(this.#topics, args[0] ?? "");
        this.#socket.write(OK_FRAME);
        break;
      case "PUB":
      case "DPUB": {
        const t = topicOf(this.#topics, args[0] ?? "");
        t.waiting++;
        t.size = body!.length;
        this.#socket.write(OK_FRAME);
        break;
      }
      case "MPUB": {
        const t = topicOf(this.#topics, args[0] ?? "");
        const n = readInt32(body!, 0);
        t.waiting += n;
        if (n > 0) t.size = readInt32(body!, 4);
        this.#socket.write(OK_FRAME);
        break;
      }
      case "RDY":
        this.#rdy = Number(args[0] ?? 0);
        break;
      case "FIN":
      case "REQ":
        if (this.#inFlight > 0) this.#inFlight--;
        break;
      case "TOUCH":
      case "NOP":
        break;
      case "CLS":
        this.#socket.write(CLOSE_WAIT_FRAME);
        break;
      default:
        this.#socket.write(encodeError(`E_INVALID invalid command ${verb}`));
        this.#socket.end();
        this.#closed = true;
    }
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
