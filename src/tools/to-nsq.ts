// nsq_to_nsq (U-NSQ-*): consume topics and republish each message to one of
// the destination nsqd, optionally filtering / reshaping JSON bodies.
import type { OptionTable } from "../common/options.ts";
import type { Logger } from "../common/log.ts";
import { Consumer } from "../client/consumer.ts";
import type { Message } from "../client/message.ts";
import { Producer } from "../client/producer.ts";
import { isValidChannelName, isValidTopicName } from "../protocol/names.ts";
import { decodeUtf8, utf8 } from "../protocol/text.ts";
import { HostPool, RoundRobin } from "./hostpool.ts";
import { TimerMetrics } from "./timer-metrics.ts";
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
export const TO_NSQ_FLAGS: OptionTable = [
  VERSION_FLAG,
  { flag: "channel", key: "channel", type: "string", default: "nsq_to_nsq", help: "nsq channel" },
  { flag: "destination-topic", key: "destination_topic", type: "string", default: "", help: "use this destination topic for all consumed topics (default is consumed topic name)" },
  { flag: "max-in-flight", key: "max_in_flight", type: "int", default: 200, help: "max number of messages to allow in flight" },
  { flag: "mode", key: "mode", type: "string", default: "hostpool", help: "the upstream request mode options: round-robin, hostpool (default), epsilon-greedy" },
  { flag: "status-every", key: "status_every", type: "int", default: 250, help: "the # of requests between logging status (per destination), 0 disables" },
  { flag: "require-json-field", key: "require_json_field", type: "string", default: "", help: "for JSON messages: only pass messages that contain this field" },
  { flag: "require-json-value", key: "require_json_value", type: "string", default: "", help: "for JSON messages: only pass messages in which the required field has this value" },
  listFlag("whitelist-json-field", "for JSON messages: pass this field (may be given multiple times)"),
  listFlag("topic", "nsq topic (may be given multiple times)"),
  listFlag("nsqd-tcp-address", "nsqd TCP address (may be given multiple times)"),
  listFlag("destination-nsqd-tcp-address", "destination nsqd TCP address (may be given multiple times)"),
  listFlag("lookupd-http-address", "lookupd HTTP address (may be given multiple times)"),
  listFlag("consumer-opt", "option to passthrough to nsq.Consumer (may be given multiple times, http://godoc.org/github.com/nsqio/go-nsq#Config)"),
  listFlag("producer-opt", "option to passthrough to nsq.Producer (may be given multiple times, http://godoc.org/github.com/nsqio/go-nsq#Config)"),
];

interface ToNsqOptions {
  channel: string;
  destination_topic: string;
  max_in_flight: number;
  mode: string;
  status_every: number;
  require_json_field: string;
  require_json_value: string;
  whitelist_json_field: string[];
  topic: string[];
  nsqd_tcp_address: string[];
  destination_nsqd_tcp_address: string[];
  lookupd_http_address: string[];
  consumer_opt: string[];
  producer_opt: string[];
}

export interface JsonFilter {
  requireField: string;
  requireValue: string;
  whitelist: readonly string[];
}

/** What to do with a body: publish `body`, drop it (FIN), or fail (REQ with backoff). */
export type FilterResult = { kind: "publish"; body: Uint8Array } | { kind: "drop"; reason: string } | { kind: "fail"; reason: string };

/** U-NSQ-JSON. Only called when one of the JSON flags is set. */
export function filterJson(body: Uint8Array, f: JsonFilter): FilterResult {
  let obj: unknown;
  try {
    obj = JSON.parse(decodeUtf8(body));
  } catch {
    return { kind: "drop", reason: "message is not valid JSON" };
  }
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) return { kind: "drop", reason: "message is not a JSON object" };
  const o = obj as Record<string, unknown>;
  if (f.requireField !== "") {
    const has = Object.hasOwn(o, f.requireField);
    if (f.requireValue !== "") {
      if (!has) return { kind: "fail", reason: `missing field ${f.requireField}` };
      const v = o[f.requireField];
      let match = false;
      if (typeof v === "string") match = v === f.requireValue;
      else if (typeof v === "number") {
        const want = Number(f.requireValue);
        match = f.requireValue.trim() !== "" && Number.isFinite(want) && want === v;
      }
      if (!match) return { kind: "drop", reason: `field ${f.requireField} does not match` };
    } else if (!has) {
      return { kind: "drop", reason: `missing field ${f.requireField}` };
    }
  }
  if (f.whitelist.length > 0) {
    const out: Record<string, unknown> = {};
    // JSON.stringify prints integral numbers as integers, as the original's re-encoding does.
    for (const k of f.whitelist) if (Object.hasOwn(o, k)) out[k] = o[k];
    return { kind: "publish", body: utf8(JSON.stringify(out)) };
  }
  return { kind: "publish", body };
}

export async function toNsqMain(ctx: ToolContext, args: readonly string[]): Promise<number> {
  const parsed = parseToolFlags<ToNsqOptions>(ctx, "nsq_to_nsq", TO_NSQ_FLAGS, args);
  if (parsed.kind === "exit") return parsed.code;
  const o = parsed.options;
  const { runtime } = ctx;
  const logger = toolLogger(ctx);
  return runTool(logger, async () => {
    if (o.topic.length === 0) throw new ToolError("--topic is required");
    for (const t of o.topic) if (!isValidTopicName(t)) throw new ToolError("--topic is invalid");
    if (o.destination_topic !== "" && !isValidTopicName(o.destination_topic)) throw new ToolError("--destination-topic is invalid");
    if (!isValidChannelName(o.channel)) throw new ToolError("--channel is invalid");
    requireOneAddressKind(o.nsqd_tcp_address, o.lookupd_http_address);
    if (o.destination_nsqd_tcp_address.length === 0) throw new ToolError("--destination-nsqd-tcp-address required");
    const consumerConfig = toolConfig(runtime, "nsq_to_nsq", { max_in_flight: o.max_in_flight }, o.consumer_opt);
    const producerConfig = toolConfig(runtime, "nsq_to_nsq", {}, o.producer_opt);
    const producers = o.destination_nsqd_tcp_address.map((a) => new Producer(a, producerConfig, { runtime, logger }));
    const pool = o.mode === "hostpool" || o.mode === "epsilon-greedy" ? new HostPool(producers) : new RoundRobin(producers);
    const metrics = new Map(producers.map((p) => [p, new TimerMetrics(o.status_every, `[${p.address}]:`, logger)]));
    const filtering = o.require_json_field !== "" || o.whitelist_json_field.length > 0;
    const filter: JsonFilter = { requireField: o.require_json_field, requireValue: o.require_json_value, whitelist: o.whitelist_json_field };

    const relay = (topic: string, log: Logger) => async (m: Message) => {
      let body = m.body;
      if (filtering) {
        const r = filterJson(body, filter);
        if (r.kind === "drop") {
          log.warn(`dropping message ${m.idString} - ${r.reason}`);
          return;
        }
        if (r.kind === "fail") throw new Error(r.reason);
        body = r.body;
      }
      const producer = pool.get();
      const started = performance.now();
      try {
        await producer.publish(o.destination_topic || topic, body);
      } catch (e) {
        pool.mark(producer, false);
        throw e;
      }
      pool.mark(producer, true);
      metrics.get(producer)!.status(performance.now() - started);
    };

    const signals = new SignalWaiter(runtime, ["SIGINT", "SIGTERM"]);
    const consumers: Consumer[] = [];
    try {
      for (const topic of o.topic) {
        const c = new Consumer(topic, o.channel, consumerConfig, { runtime, logger });
        c.addHandler(relay(topic, logger), { concurrency: Math.max(1, producers.length) * Math.max(1, o.max_in_flight) });
        consumers.push(c);
      }
      await Promise.all(producers.map((p) => p.connect()));
      for (const c of consumers) {
        if (o.nsqd_tcp_address.length > 0) await c.connectToNsqds(o.nsqd_tcp_address);
        else await c.connectToNsqLookupds(o.lookupd_http_address);
      }
      await signals.next();
    } finally {
      signals.dispose();
      await Promise.all(consumers.map((c) => c.stop()));
      await Promise.all(producers.map((p) => p.stop()));
    }
    return 0;
  });
}
