// to_nsq (U-TO-*): publish stdin, split on a one-byte delimiter, to every
// given nsqd (fan-out, not load-balanced), optionally throttled.
import type { OptionTable } from "../common/options.ts";
import { Producer } from "../client/producer.ts";
import { isValidTopicName } from "../protocol/names.ts";
import { concatBytes, utf8 } from "../protocol/text.ts";
import { SignalWaiter, ToolError, VERSION_FLAG, listFlag, parseToolFlags, runTool, toolConfig, toolLogger, type ToolContext } from "./common.ts";

// biome-ignore format: one option per line reads as a table
export const PUB_FLAGS: OptionTable = [
  VERSION_FLAG,
  { flag: "topic", key: "topic", type: "string", default: "", help: "NSQ topic to publish to" },
  { flag: "delimiter", key: "delimiter", type: "string", default: "\n", help: "character to split input from stdin" },
  { flag: "rate", key: "rate", type: "int", default: 0, help: "Throttle messages to n/second. 0 to disable" },
  listFlag("nsqd-tcp-address", "destination nsqd TCP address (may be given multiple times)"),
  listFlag("producer-opt", "option to passthrough to nsq.Producer (may be given multiple times, http://godoc.org/github.com/nsqio/go-nsq#Config)"),
];

interface PubOptions {
  topic: string;
  delimiter: string;
  rate: number;
  nsqd_tcp_address: string[];
  producer_opt: string[];
}

/**
 * U-TO-RATE: a token bucket refilled `rate` times per second, holding at most
 * one second of tokens. Empty at start, as the original's channel is.
 */
export class Throttle {
  #tokens = 0;
  readonly #max: number;
  readonly #timer: ReturnType<typeof setInterval>;
  #waiter: (() => void) | null = null;

  constructor(rate: number) {
    this.#max = rate;
    this.#timer = setInterval(() => {
      if (this.#waiter !== null) {
        const w = this.#waiter;
        this.#waiter = null;
        w();
      } else if (this.#tokens < this.#max) this.#tokens++;
    }, 1000 / rate);
  }

  take(): Promise<void> | undefined {
    if (this.#tokens > 0) {
      this.#tokens--;
      return undefined;
    }
    return new Promise((resolve) => (this.#waiter = resolve));
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/**
 * Splits a byte stream on `delimiter`, calling `emit` for every non-empty
 * chunk without the delimiter. Copies only when a chunk spans reads.
 * U-TO-PUBLISH quirk kept: a last chunk that ends at EOF without a delimiter
 * loses its final byte, as the original does.
 */
export async function splitStream(stream: ReadableStream<Uint8Array>, delimiter: number, emit: (chunk: Uint8Array) => Promise<void> | void): Promise<void> {
  const reader = stream.getReader();
  let carry: Uint8Array[] = [];
  let carryLen = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      let start = 0;
      for (let i = value.indexOf(delimiter); i >= 0; i = value.indexOf(delimiter, start)) {
        let piece = value.subarray(start, i);
        if (carryLen > 0) {
          carry.push(piece);
          piece = concatBytes(carry, carryLen + piece.length);
          carry = [];
          carryLen = 0;
        }
        start = i + 1;
        if (piece.length > 0) await emit(piece);
      }
      if (start < value.length) {
        carry.push(value.subarray(start));
        carryLen += value.length - start;
      }
    }
  } finally {
    reader.releaseLock();
  }
  if (carryLen > 1) await emit(concatBytes(carry, carryLen).subarray(0, carryLen - 1));
}

export async function pubMain(ctx: ToolContext, args: readonly string[]): Promise<number> {
  const parsed = parseToolFlags<PubOptions>(ctx, "to_nsq", PUB_FLAGS, args);
  if (parsed.kind === "exit") return parsed.code;
  const o = parsed.options;
  const { runtime } = ctx;
  const logger = toolLogger(ctx);
  return runTool(logger, async () => {
    if (o.topic === "") throw new ToolError("--topic required");
    if (!isValidTopicName(o.topic)) throw new ToolError(`invalid topic name ${JSON.stringify(o.topic)}`);
    const delim = utf8(o.delimiter);
    if (delim.length !== 1) throw new ToolError("--delimiter must be a single byte");
    if (o.nsqd_tcp_address.length === 0) throw new ToolError("--nsqd-tcp-address required");
    if (o.rate < 0) throw new ToolError("--rate must not be negative");
    const config = toolConfig(runtime, "to_nsq", {}, o.producer_opt);
    const producers = o.nsqd_tcp_address.map((a) => new Producer(a, config, { runtime, logger }));
    const signals = new SignalWaiter(runtime, ["SIGINT", "SIGTERM"]);
    const throttle = o.rate > 0 ? new Throttle(o.rate) : null;
    try {
      // Fail fast with one line when an nsqd is unreachable.
      await Promise.all(producers.map((p) => p.connect()));
      const publishing = splitStream(runtime.stdin(), delim[0]!, async (chunk) => {
        if (throttle !== null) await throttle.take();
        // Synchronous fan-out: every nsqd gets every message before the next one.
        await Promise.all(producers.map((p) => p.publish(o.topic, chunk)));
      });
      const signalled = signals.next().then(() => "signal" as const);
      await Promise.race([publishing, signalled]);
    } finally {
      throttle?.stop();
      signals.dispose();
      await Promise.all(producers.map((p) => p.stop()));
    }
    return 0;
  });
}
