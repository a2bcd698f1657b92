// Publish-to-delivery latency at a fixed rate: one producer publishes `rate`
// messages per second (PUB, never waiting for the OKs, paced by the clock),
// one consumer with RDY 100 FINs each message on arrival. Each body carries
// the send time (this process's monotonic clock), so the latency of a message
// is its arrival time minus its send time: the figures include both hops
// through nsqd and nothing of clock skew. Any nsqd speaking V2.
import * as net from "node:net";
import { FrameType, MAGIC_V2, encodeRdy, encodeSub } from "../src/protocol/frames.ts";
import { FrameScanner } from "./bench-frames.ts";
import type { RunResult, TcpTarget } from "./bench-client.ts";

export interface LatencyOptions {
  target: TcpTarget;
  topic: string;
  /** Messages per second. */
  rate: number;
  durationMs: number;
  /** Body size (at least 8: the send time). */
  size: number;
}

export interface LatencyResult extends RunResult {
  rate: number;
  /** Publish-to-delivery latency, microseconds. */
  p50: number;
  p99: number;
  p999: number;
  max: number;
  /**
   * p99 and maximum of the messages sent after the first second: a fresh
   * nsqd whose JIT is still compiling the hot path shows it in the first
   * second only.
   */
  p99Warm: number;
  maxWarm: number;
  /** Messages published but not delivered when the run ended. */
  missing: number;
}

function connect(target: TcpTarget): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: target.host, port: target.port, noDelay: true });
    s.once("connect", () => {
      s.off("error", reject);
      resolve(s);
    });
    s.once("error", reject);
  });
}

const FIN_PREFIX = new TextEncoder().encode("FIN ");

export async function runLatency(o: LatencyOptions): Promise<LatencyResult> {
  const size = Math.max(8, o.size);
  const consumer = await connect(o.target);
  const producer = await connect(o.target);
  producer.write(MAGIC_V2);
  producer.on("data", () => {}); // OKs and heartbeats: not needed here
  const latencies = new Float64Array(Math.ceil((o.rate * o.durationMs) / 1000) + 16);
  /** Send time of each delivered message (this process's clock, ms). */
  const sentTimes = new Float64Array(latencies.length);
  let received = 0;
  let subscribed!: () => void;
  const ready = new Promise<void>((r) => (subscribed = r));
  let first = true;
  const scanner = new FrameScanner({
    frame: (type, buf, start, end) => {
      if (type === FrameType.Message) {
        const now = performance.now();
        const view = new DataView(buf.buffer, buf.byteOffset + start + 26, 8);
        const sent = view.getFloat64(0);
        if (received < latencies.length) {
          latencies[received] = (now - sent) * 1000;
          sentTimes[received] = sent;
        }
        received++;
        const fin = new Uint8Array(21);
        fin.set(FIN_PREFIX, 0);
        fin.set(buf.subarray(start + 10, start + 26), 4);
        fin[20] = 10;
        consumer.write(fin);
      } else if (type === FrameType.Response) {
        if (buf[start] === 0x5f)
          consumer.write("NOP\n"); // _heartbeat_
        else if (first) {
          first = false;
          subscribed();
        }
      } else {
        throw new Error(`consumer error: ${new TextDecoder().decode(buf.subarray(start, end))}`);
      }
    },
  });
  consumer.on("data", (chunk: Buffer) => scanner.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)));
  consumer.write(MAGIC_V2);
  consumer.write(encodeSub(o.topic, "latency"));
  await ready;
  consumer.write(encodeRdy(100));

  // PUB <topic>\n[size][body]: the body starts with the send time.
  const head = new TextEncoder().encode(`PUB ${o.topic}\n`);
  const frameLen = head.length + 4 + size;
  const total = Math.floor((o.rate * o.durationMs) / 1000);
  let sent = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * o.rate) / 1000));
      const n = due - sent;
      if (n > 0) {
        const out = new Uint8Array(frameLen * n);
        const view = new DataView(out.buffer);
        const t = performance.now();
        for (let i = 0; i < n; i++) {
          const at = i * frameLen;
          out.set(head, at);
          view.setUint32(at + head.length, size);
          view.setFloat64(at + head.length + 4, t);
        }
        producer.write(out);
        sent = due;
      }
      if (sent >= total) resolve();
      else setImmediate(tick);
    };
    tick();
  });
  // Let the last messages arrive.
  const deadline = performance.now() + 2_000;
  while (received < sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const seconds = (performance.now() - start) / 1000;
  consumer.destroy();
  producer.destroy();
  const n = Math.min(received, latencies.length);
  const sorted = latencies.slice(0, n).sort();
  const warm = latencies.filter((_, i) => i < n && sentTimes[i]! >= start + 1000).sort();
  const at = (q: number) => quantile(sorted, q);
  return {
    rate: o.rate,
    messages: received,
    bytes: received * size,
    seconds,
    stop: received >= sent ? "count" : `${sent - received} of ${sent} messages not delivered`,
    clientCpuPct: -1,
    p50: at(0.5),
    p99: at(0.99),
    p999: at(0.999),
    max: at(1),
    p99Warm: quantile(warm, 0.99),
    maxWarm: quantile(warm, 1),
    missing: sent - received,
  };
}

/** The `q` quantile of ascending `sorted` (1: the maximum), 0 when empty. */
function quantile(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  return n === 0 ? 0 : sorted[Math.min(n - 1, Math.floor(q * n))]!;
}

export function formatLatency(label: string, r: LatencyResult): string {
  const ms = (us: number) => (us / 1000).toFixed(us < 10_000 ? 2 : 1);
  return (
    `[${label}] ${r.rate.toLocaleString("en-US")} msgs/s for ${r.seconds.toFixed(1)} s: publish-to-delivery p50 ${ms(r.p50)} ms, ` +
    `p99 ${ms(r.p99)} ms, p99.9 ${ms(r.p999)} ms, max ${ms(r.max)} ms; after the first second p99 ${ms(r.p99Warm)} ms, ` +
    `max ${ms(r.maxWarm)} ms (${r.messages} delivered, ${r.missing} missing)`
  );
}
