// Many consumers on one channel: N connections each `SUB` + `RDY 1`, FIN on
// receipt (the commonest consumer setup: many workers with max_in_flight=1);
// then one producer publishes `count` messages by MPUB and the figure is
// messages delivered per second until all arrived. Any nsqd speaking V2.
//
// File descriptors bound N: the consumers are sockets of this process and of
// nsqd (`ulimit -n`).
import * as net from "node:net";
import { FrameType, MAGIC_V2, encodeMpub, encodeRdy, encodeSub } from "../src/protocol/frames.ts";
import { FrameScanner } from "./bench-frames.ts";
import type { TcpTarget } from "./bench-client.ts";

export interface ConsumersOptions {
  target: TcpTarget;
  topic: string;
  channel: string;
  consumers: number;
  count: number;
  size: number;
  /** Connections opened at once while setting up. */
  connectBatch?: number;
  timeoutMs?: number;
}

export interface ConsumersResult {
  consumers: number;
  messages: number;
  elapsedMs: number;
  rate: number;
  /** Deliveries per consumer: smallest and largest (fair rotation keeps them close). */
  minPerConsumer: number;
  maxPerConsumer: number;
}

const FIN_PREFIX = new TextEncoder().encode("FIN ");

class Worker {
  readonly socket: net.Socket;
  received = 0;
  #subscribed: (() => void) | null = null;
  readonly #onMessage: () => void;
  readonly #scanner: FrameScanner;

  constructor(socket: net.Socket, onMessage: () => void) {
    this.socket = socket;
    this.#onMessage = onMessage;
    this.#scanner = new FrameScanner({
      frame: (type, buf, start) => {
        if (type === FrameType.Message) {
          // FIN <16-byte id>\n, straight from the frame's id bytes
          const fin = new Uint8Array(21);
          fin.set(FIN_PREFIX, 0);
          fin.set(buf.subarray(start + 10, start + 26), 4);
          fin[20] = 10;
          socket.write(fin);
          this.received++;
          this.#onMessage();
        } else if (type === FrameType.Response) {
          if (buf[start] === 0x5f)
            socket.write("NOP\n"); // _heartbeat_
          else if (this.#subscribed !== null) {
            const s = this.#subscribed;
            this.#subscribed = null;
            s();
          }
        } else {
          throw new Error(`consumer got an error frame: ${new TextDecoder().decode(buf.subarray(start))}`);
        }
      },
    });
    socket.on("data", (chunk: Buffer) => this.#scanner.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)));
  }

  subscribe(topic: string, channel: string): Promise<void> {
    return new Promise((resolve) => {
      this.#subscribed = resolve;
      this.socket.write(MAGIC_V2);
      this.socket.write(encodeSub(topic, channel));
    });
  }
}

function connect(target: TcpTarget): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: target.host, port: target.port });
    s.setNoDelay(true);
    s.once("connect", () => {
      s.off("error", reject);
      resolve(s);
    });
    s.once("error", reject);
  });
}

export async function runConsumers(o: ConsumersOptions): Promise<ConsumersResult> {
  const workers: Worker[] = [];
  let delivered = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const onMessage = () => {
    if (++delivered === o.count) done();
  };
  const batch = o.connectBatch ?? 500;
  try {
    for (let i = 0; i < o.consumers; i += batch) {
      const n = Math.min(batch, o.consumers - i);
      const opened = await Promise.all(Array.from({ length: n }, () => connect(o.target)));
      const ws = opened.map((s) => new Worker(s, onMessage));
      await Promise.all(ws.map((w) => w.subscribe(o.topic, o.channel)));
      for (const w of ws) w.socket.write(encodeRdy(1));
      workers.push(...ws);
    }
    const producer = await connect(o.target);
    producer.write(MAGIC_V2);
    producer.on("data", () => {});
    const body = new Uint8Array(o.size).fill(0x61);
    const per = 200;
    const start = performance.now();
    for (let sent = 0; sent < o.count; sent += per) {
      const k = Math.min(per, o.count - sent);
      producer.write(
        encodeMpub(
          o.topic,
          Array.from({ length: k }, () => body),
        ),
      );
    }
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`only ${delivered} of ${o.count} messages within ${o.timeoutMs ?? 120_000} ms`)), o.timeoutMs ?? 120_000).unref(),
    );
    await Promise.race([finished, timeout]);
    const elapsedMs = performance.now() - start;
    producer.destroy();
    let min = Infinity;
    let max = 0;
    for (const w of workers) {
      min = Math.min(min, w.received);
      max = Math.max(max, w.received);
    }
    return { consumers: workers.length, messages: delivered, elapsedMs, rate: (delivered / elapsedMs) * 1000, minPerConsumer: min, maxPerConsumer: max };
  } finally {
    for (const w of workers) w.socket.destroy();
  }
}

export function formatConsumers(r: ConsumersResult): string {
  return (
    `[bench_consumers] ${r.consumers} consumers (SUB, RDY 1, FIN on receipt): ${r.messages} messages in ` +
    `${(r.elapsedMs / 1000).toFixed(2)} s - ${Math.round(r.rate).toLocaleString("en-US")} msgs/s - ` +
    `per consumer ${r.minPerConsumer}..${r.maxPerConsumer}`
  );
}
