// nsq_to_http (U-HTTP-*): consume a topic and send every message to HTTP
// endpoints (POST with the body, or GET with the body in the URL), picking
// endpoints by --mode; a failed request requeues the message with backoff.
import type { OptionTable } from "../common/options.ts";
import { Consumer } from "../client/consumer.ts";
import type { Message } from "../client/message.ts";
import { isValidChannelName, isValidTopicName } from "../protocol/names.ts";
import { decodeUtf8 } from "../protocol/text.ts";
import { VERSION } from "../common/version.ts";
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
import { errorText } from "../common/errors.ts";

const DEFAULT_CONTENT_TYPE = "application/octet-stream";

// biome-ignore format: one option per line reads as a table
export const TO_HTTP_FLAGS: OptionTable = [
  VERSION_FLAG,
  { flag: "topic", key: "topic", type: "string", default: "", help: "nsq topic" },
  { flag: "channel", key: "channel", type: "string", default: "nsq_to_http", help: "nsq channel" },
  { flag: "max-in-flight", key: "max_in_flight", type: "int", default: 200, help: "max number of messages to allow in flight" },
  { flag: "n", key: "n", type: "int", default: 100, help: "number of concurrent publishers" },
  { flag: "mode", key: "mode", type: "string", default: "hostpool", help: "the upstream request mode options: round-robin, hostpool (default), epsilon-greedy" },
  { flag: "sample", key: "sample", type: "float", default: 1.0, help: "sample messages as a percentage (0.0 - 1.0)" },
  { flag: "http-client-connect-timeout", key: "http_client_connect_timeout", type: "duration", default: 2000, help: "timeout for HTTP connect" },
  { flag: "http-client-request-timeout", key: "http_client_request_timeout", type: "duration", default: 20_000, help: "timeout for HTTP request" },
  { flag: "status-every", key: "status_every", type: "int", default: 250, help: "the # of requests between logging status (per handler), 0 disables" },
  { flag: "content-type", key: "content_type", type: "string", default: DEFAULT_CONTENT_TYPE, help: "the Content-Type used for POST requests" },
  listFlag("get", "HTTP address to make a GET request to. '%s' will be printf replaced with data (may be given multiple times)"),
  listFlag("post", "HTTP address to make a POST request to.  data will be in the body (may be given multiple times)"),
  listFlag("header", "Custom header for HTTP requests (may be given multiple times)"),
  listFlag("nsqd-tcp-address", "nsqd TCP address (may be given multiple times)"),
  listFlag("lookupd-http-address", "lookupd HTTP address (may be given multiple times)"),
  listFlag("consumer-opt", "option to passthrough to nsq.Consumer (may be given multiple times, http://godoc.org/github.com/nsqio/go-nsq#Config)"),
];

interface ToHttpOptions {
  topic: string;
  channel: string;
  max_in_flight: number;
  n: number;
  mode: string;
  sample: number;
  http_client_connect_timeout: number;
  http_client_request_timeout: number;
  status_every: number;
  content_type: string;
  get: string[];
  post: string[];
  header: string[];
  nsqd_tcp_address: string[];
  lookupd_http_address: string[];
  consumer_opt: string[];
}

/** U-HTTP-HEADER: `Name: value`, split at the first colon, both sides trimmed and non-empty. */
export function parseHeaders(list: readonly string[]): [string, string][] {
  return list.map((h) => {
    const i = h.indexOf(":");
    const name = i < 0 ? "" : h.slice(0, i).trim();
    const value = i < 0 ? "" : h.slice(i + 1).trim();
    if (name === "" || value === "") throw new ToolError(`Invalid header format, must be key=value`);
    return [name, value];
  });
}

/** Go's url.QueryEscape: unreserved bytes kept, space as `+`, the rest %XX (upper case). */
export function queryEscape(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) {
    if ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e) {
      out += String.fromCharCode(b);
    } else if (b === 0x20) out += "+";
    else out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

interface Endpoint {
  method: "GET" | "POST";
  url: string;
  metrics: TimerMetrics;
}

export async function toHttpMain(ctx: ToolContext, args: readonly string[]): Promise<number> {
  const parsed = parseToolFlags<ToHttpOptions>(ctx, "nsq_to_http", TO_HTTP_FLAGS, args);
  if (parsed.kind === "exit") return parsed.code;
  const o = parsed.options;
  const { runtime } = ctx;
  const logger = toolLogger(ctx);
  return runTool(logger, async () => {
    if (o.topic === "" || o.channel === "") throw new ToolError("--topic and --channel are required");
    if (!isValidTopicName(o.topic)) throw new ToolError("--topic is invalid");
    if (!isValidChannelName(o.channel)) throw new ToolError("--channel is invalid");
    if (o.content_type !== DEFAULT_CONTENT_TYPE && o.post.length === 0) throw new ToolError("--content-type only used with --post");
    if (o.content_type === "") throw new ToolError("--content-type requires a value when used");
    requireOneAddressKind(o.nsqd_tcp_address, o.lookupd_http_address);
    if (o.get.length === 0 && o.post.length === 0) throw new ToolError("--get or --post required");
    if (o.get.length > 0 && o.post.length > 0) throw new ToolError("use --get or --post not both");
    for (const g of o.get) if (g.split("%s").length !== 2) throw new ToolError("invalid GET address - must be a printf string");
    if (o.sample > 1 || o.sample < 0) throw new ToolError("ERROR: --sample must be between 0.0 and 1.0");
    if (o.n < 1) throw new ToolError("-n must be at least 1");
    const headers = parseHeaders(o.header);
    const config = toolConfig(runtime, "nsq_to_http", { max_in_flight: o.max_in_flight }, o.consumer_opt);

    const several = o.get.length + o.post.length > 1;
    const aggregate = new TimerMetrics(o.status_every, "[aggregate]:", logger);
    const endpoints: Endpoint[] = [
      ...o.get.map((url) => ({ method: "GET" as const, url, metrics: new TimerMetrics(several ? o.status_every : 0, `[${url}]:`, logger) })),
      ...o.post.map((url) => ({ method: "POST" as const, url, metrics: new TimerMetrics(several ? o.status_every : 0, `[${url}]:`, logger) })),
    ];
    const fanOut = !["round-robin", "hostpool", "epsilon-greedy"].includes(o.mode);
    const pool = o.mode === "round-robin" ? new RoundRobin(endpoints) : new HostPool(endpoints);
    const userAgent = `nsq_to_http v${VERSION}`;

    const send = async (e: Endpoint, body: Uint8Array): Promise<void> => {
      const h = new Headers({ "User-Agent": userAgent });
      for (const [k, v] of headers) h.set(k, v);
      const started = performance.now();
      let res: Response;
      try {
        if (e.method === "POST") {
          h.set("Content-Type", o.content_type);
          res = await fetch(e.url, {
            method: "POST",
            body: body as Uint8Array<ArrayBuffer>,
            headers: h,
            signal: AbortSignal.timeout(o.http_client_request_timeout),
          });
        } else {
          const url = e.url.replace("%s", queryEscape(body));
          res = await fetch(url, { headers: h, signal: AbortSignal.timeout(o.http_client_request_timeout) });
        }
        await res.arrayBuffer();
      } catch (err) {
        const cause = (err as Error).cause as Error | undefined;
        throw new Error(`${e.method} ${e.url} failed - ${cause?.message ?? errorText(err)}`);
      }
      const ok = e.method === "POST" ? res.status >= 200 && res.status < 300 : res.status === 200;
      if (!ok) throw new Error(`got status code ${res.status}`);
      const ms = performance.now() - started;
      e.metrics.status(ms);
      aggregate.status(ms);
    };

    const handler = async (m: Message) => {
      // U-HTTP-SAMPLE: the rest are FINed without a request.
      if (o.sample < 1 && Math.random() > o.sample) return;
      if (fanOut) {
        for (const e of endpoints) await send(e, m.body);
        return;
      }
      const e = pool.get();
      try {
        await send(e, m.body);
      } catch (err) {
        pool.mark(e, false);
        logger.error(`${errorText(err)} (msg ${m.idString}: ${decodeUtf8(m.body.subarray(0, 64))})`);
        throw err;
      }
      pool.mark(e, true);
    };

    const signals = new SignalWaiter(runtime, ["SIGINT", "SIGTERM"]);
    const consumer = new Consumer(o.topic, o.channel, config, { runtime, logger });
    consumer.addHandler(handler, { concurrency: o.n });
    try {
      if (o.nsqd_tcp_address.length > 0) await consumer.connectToNsqds(o.nsqd_tcp_address);
      else await consumer.connectToNsqLookupds(o.lookupd_http_address);
      await signals.next();
    } finally {
      signals.dispose();
      await consumer.stop();
    }
    return 0;
  });
}
