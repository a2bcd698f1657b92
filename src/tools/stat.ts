// nsq_stat (U-STAT-*): poll /stats of every nsqd holding a topic and print
// the channel's figures, aggregated over the nodes, every --interval.
import type { OptionTable } from "../common/options.ts";
import { endpointUrl, getJsonV1 } from "../client/lookupd.ts";
import { joinHostPort } from "../common/address.ts";
import { SignalWaiter, ToolError, VERSION_FLAG, listFlag, parseToolFlags, requireOneAddressKind, runTool, toolLogger, type ToolContext } from "./common.ts";
import { errorText } from "../common/errors.ts";
import type { ReceivedStats } from "../protocol/stats-json.ts";

// biome-ignore format: one option per line reads as a table
export const STAT_FLAGS: OptionTable = [
  VERSION_FLAG,
  { flag: "topic", key: "topic", type: "string", default: "", help: "NSQ topic" },
  { flag: "channel", key: "channel", type: "string", default: "", help: "NSQ channel" },
  { flag: "interval", key: "interval", type: "duration", default: 2000, help: "duration of time between polling/printing output" },
  { flag: "http-client-connect-timeout", key: "http_client_connect_timeout", type: "duration", default: 2000, help: "timeout for HTTP connect" },
  { flag: "http-client-request-timeout", key: "http_client_request_timeout", type: "duration", default: 5000, help: "timeout for HTTP request" },
  { flag: "count", key: "count", type: "int", default: -1, help: "number of reports" },
  listFlag("nsqd-http-address", "nsqd HTTP address (may be given multiple times)"),
  listFlag("lookupd-http-address", "lookupd HTTP address (may be given multiple times)"),
];

interface StatOptions {
  topic: string;
  channel: string;
  interval: number;
  http_client_connect_timeout: number;
  http_client_request_timeout: number;
  count: number;
  nsqd_http_address: string[];
  lookupd_http_address: string[];
}

/** The channel figures nsq_stat prints, summed over nodes. */
export interface ChannelTotals {
  depth: number;
  memoryDepth: number;
  backendDepth: number;
  inFlight: number;
  deferred: number;
  requeue: number;
  timeout: number;
  messages: number;
  clients: number;
}

function pad(v: string | number, width: number): string {
  return String(v).padStart(width, " ");
}

/** The two header lines (printed before every 25 samples). */
export function statHeader(): string {
  return (
    "------rate------+----------------depth----------------+--------------metadata---------------\n" +
    `${pad("ingress", 7)} ${pad("egress", 7)} | ${pad("total", 7)} ${pad("mem", 7)} ${pad("disk", 7)} ${pad("inflt", 5)} ${pad("def", 5)} | ` +
    `${pad("req", 7)} ${pad("t-o", 7)} ${pad("msgs", 12)} ${pad("clients", 7)}\n`
  );
}

/** One row: rates from the previous sample over `intervalMs`. */
export function statRow(prev: ChannelTotals, cur: ChannelTotals, intervalMs: number): string {
  const secs = intervalMs / 1000;
  const ingress = Math.trunc((cur.messages - prev.messages) / secs);
  const egress = Math.trunc((cur.messages - prev.messages - (cur.depth - prev.depth)) / secs);
  return (
    `${pad(ingress, 7)} ${pad(egress, 7)} | ${pad(cur.depth, 7)} ${pad(cur.memoryDepth, 7)} ${pad(cur.backendDepth, 7)} ` +
    `${pad(cur.inFlight, 5)} ${pad(cur.deferred, 5)} | ${pad(cur.requeue, 7)} ${pad(cur.timeout, 7)} ${pad(cur.messages, 12)} ${pad(cur.clients, 7)}\n`
  );
}

async function nodeStats(addr: string, topic: string, channel: string, timeoutMs: number): Promise<ReceivedStats> {
  const url = endpointUrl(addr, "/stats", { format: "json", topic, channel, include_clients: "false" });
  return (await getJsonV1(url, { timeoutMs, userAgent: "nsq_stat" })) as ReceivedStats;
}

/** Channel totals over `nodes`, or null when no node has the channel. */
export function aggregate(all: readonly ReceivedStats[], topic: string, channel: string): ChannelTotals | null {
  let found = false;
  const t: ChannelTotals = { depth: 0, memoryDepth: 0, backendDepth: 0, inFlight: 0, deferred: 0, requeue: 0, timeout: 0, messages: 0, clients: 0 };
  for (const s of all) {
    for (const tp of s.topics ?? []) {
      if (tp.topic_name !== topic) continue;
      for (const c of tp.channels ?? []) {
        if (c.channel_name !== channel) continue;
        found = true;
        // A key another nsqd version leaves out counts as 0, as Go's decoder leaves it.
        const depth = c.depth ?? 0;
        const backendDepth = c.backend_depth ?? 0;
        t.depth += depth;
        t.backendDepth += backendDepth;
        t.memoryDepth += depth - backendDepth;
        t.inFlight += c.in_flight_count ?? 0;
        t.deferred += c.deferred_count ?? 0;
        t.requeue += c.requeue_count ?? 0;
        t.timeout += c.timeout_count ?? 0;
        t.messages += c.message_count ?? 0;
        t.clients += c.client_count ?? c.clients?.length ?? 0;
      }
    }
  }
  return found ? t : null;
}

export async function statMain(ctx: ToolContext, args: readonly string[]): Promise<number> {
  const parsed = parseToolFlags<StatOptions>(ctx, "nsq_stat", STAT_FLAGS, args);
  if (parsed.kind === "exit") return parsed.code;
  const o = parsed.options;
  const logger = toolLogger(ctx);
  return runTool(logger, async () => {
    if (o.topic === "" || o.channel === "") throw new ToolError("--topic and --channel are required");
    if (!(o.interval > 0)) throw new ToolError("--interval should be positive");
    if (!(o.http_client_connect_timeout > 0)) throw new ToolError("--http-client-connect-timeout should be positive");
    if (!(o.http_client_request_timeout > 0)) throw new ToolError("--http-client-request-timeout should be positive");
    const countSet = o.count !== -1;
    if (countSet && o.count <= 0) throw new ToolError("--count should be positive");
    requireOneAddressKind(o.nsqd_http_address, o.lookupd_http_address, "--nsqd-http-address");
    for (const a of o.nsqd_http_address) if (a.startsWith("http")) throw new ToolError("--nsqd-http-address error - address should not contain scheme");
    for (const a of o.lookupd_http_address) if (a.startsWith("http")) throw new ToolError("--lookupd-http-address error - address should not contain scheme");
    const timeoutMs = o.http_client_request_timeout;

    const signals = new SignalWaiter(ctx.runtime, ["SIGINT", "SIGTERM", "SIGHUP"]);
    let stop = false;
    let wake: (() => void) | null = null;
    void signals.next().then(() => {
      stop = true;
      wake?.();
    });
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          wake = null;
          resolve();
        }, ms);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    let prev: ChannelTotals | null = null;
    try {
      for (let i = 0; !stop && (!countSet || o.count >= i); i++) {
        let addrs: string[];
        try {
          addrs = o.lookupd_http_address.length > 0 ? await lookupHttpAddrs(o.lookupd_http_address, o.topic, timeoutMs) : o.nsqd_http_address;
        } catch (e) {
          throw new ToolError(`ERROR: failed to get topic producers - ${errorText(e)}`);
        }
        let stats: ReceivedStats[];
        try {
          stats = await Promise.all(addrs.map((a) => nodeStats(a, o.topic, o.channel, timeoutMs)));
        } catch (e) {
          throw new ToolError(`ERROR: failed to get nsqd stats - ${errorText(e)}`);
        }
        const cur = aggregate(stats, o.topic, o.channel);
        if (cur === null) throw new ToolError(`ERROR: failed to find channel(${o.channel}) in stats metadata for topic(${o.topic})`);
        if (i % 25 === 0) ctx.io.out(statHeader());
        if (prev !== null) ctx.io.out(statRow(prev, cur, o.interval));
        prev = cur;
        if (!countSet || o.count > i) await sleep(o.interval);
      }
    } finally {
      signals.dispose();
    }
    return 0;
  });
}

/** The HTTP addresses (`broadcast_address:http_port`) lookupd lists for a topic. */
async function lookupHttpAddrs(lookupds: readonly string[], topic: string, timeoutMs: number): Promise<string[]> {
  const out = new Set<string>();
  for (const l of lookupds) {
    const answer = (await getJsonV1(endpointUrl(l, "/lookup", { topic }), { timeoutMs })) as {
      producers?: { broadcast_address?: string; http_port?: number }[];
    };
    for (const p of answer.producers ?? []) {
      if (typeof p.broadcast_address === "string" && typeof p.http_port === "number") out.add(joinHostPort(p.broadcast_address, p.http_port));
    }
  }
  return [...out];
}
