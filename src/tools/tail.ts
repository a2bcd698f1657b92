// nsq_tail (U-TAIL-*): print the messages of one or more topics to stdout.
// One consumer per --topic, all on the same (by default ephemeral) channel.
import type { OptionTable } from "../common/options.ts";
import { Consumer } from "../client/consumer.ts";
import type { Message } from "../client/message.ts";
import { utf8 } from "../protocol/text.ts";
import { isValidChannelName, isValidTopicName } from "../protocol/names.ts";
import {
  SignalWaiter,
  ToolError,
  VERSION_FLAG,
  listFlag,
  parseToolFlags,
  requireOneAddressKind,
  runTool,
  toolConfig,
  toolLogger,
  type ToolContext,
} from "./common.ts";

// biome-ignore format: one option per line reads as a table
export const TAIL_FLAGS: OptionTable = [
  VERSION_FLAG,
  { flag: "channel", key: "channel", type: "string", default: "", help: "NSQ channel" },
  { flag: "max-in-flight", key: "max_in_flight", type: "int", default: 200, help: "max number of messages to allow in flight" },
  { flag: "n", key: "n", type: "int", default: 0, help: "total messages to show (will wait if starved)" },
  { flag: "print-topic", key: "print_topic", type: "bool", default: false, help: "print topic name where message was received" },
  listFlag("nsqd-tcp-address", "nsqd TCP address (may be given multiple times)"),
  listFlag("lookupd-http-address", "lookupd HTTP address (may be given multiple times)"),
  listFlag("topic", "NSQ topic (may be given multiple times)"),
  listFlag("consumer-opt", "option to passthrough to nsq.Consumer (may be given multiple times, http://godoc.org/github.com/nsqio/go-nsq#Config)"),
];

interface TailOptions {
  channel: string;
  max_in_flight: number;
  n: number;
  print_topic: boolean;
  nsqd_tcp_address: string[];
  lookupd_http_address: string[];
  topic: string[];
  consumer_opt: string[];
}

const NEWLINE = 0x0a;

export async function tailMain(ctx: ToolContext, args: readonly string[]): Promise<number> {
  const parsed = parseToolFlags<TailOptions>(ctx, "nsq_tail", TAIL_FLAGS, args);
  if (parsed.kind === "exit") return parsed.code;
  const o = parsed.options;
  const { runtime } = ctx;
  const logger = toolLogger(ctx);
  return runTool(logger, async () => {
    let channel = o.channel;
    if (channel === "") channel = `tail${String(Math.floor(Math.random() * 999999)).padStart(6, "0")}#ephemeral`;
    if (o.topic.length === 0) throw new ToolError("--topic is required");
    requireOneAddressKind(o.nsqd_tcp_address, o.lookupd_http_address);
    for (const t of o.topic) if (!isValidTopicName(t)) throw new ToolError(`invalid topic name ${JSON.stringify(t)}`);
    if (!isValidChannelName(channel)) throw new ToolError(`invalid channel name ${JSON.stringify(channel)}`);
    if (o.n < 0) throw new ToolError("-n must not be negative");
    // Don't ask for more messages than we want.
    const maxInFlight = o.n > 0 && o.n < o.max_in_flight ? o.n : o.max_in_flight;
    const config = toolConfig(runtime, "nsq_tail", { max_in_flight: maxInFlight }, o.consumer_opt);

    const signals = new SignalWaiter(runtime, ["SIGINT", "SIGTERM"]);
    const consumers: Consumer[] = [];
    let shown = 0;
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    try {
      for (const topic of o.topic) {
        const consumer = new Consumer(topic, channel, config, { runtime, logger });
        const prefix = o.print_topic ? utf8(`${topic} | `) : new Uint8Array(0);
        consumer.addHandler((m: Message) => {
          if (o.n > 0 && shown >= o.n) {
            // Past -n: hand it back untouched for other consumers of the channel.
            m.requeueWithoutBackoff(0);
            return;
          }
          shown++;
          const line = new Uint8Array(prefix.length + m.body.length + 1);
          line.set(prefix, 0);
          line.set(m.body, prefix.length);
          line[line.length - 1] = NEWLINE;
          const written = runtime.stdout.write(line);
          if (o.n > 0 && shown >= o.n) void written.then(resolveDone, resolveDone);
          return written;
        });
        consumers.push(consumer);
      }
      for (const consumer of consumers) {
        if (o.nsqd_tcp_address.length > 0) await consumer.connectToNsqds(o.nsqd_tcp_address);
        else await consumer.connectToNsqLookupds(o.lookupd_http_address);
      }
      await Promise.race([done, signals.next()]);
    } finally {
      signals.dispose();
      await Promise.all(consumers.map((c) => c.stop()));
    }
    return 0;
  });
}
