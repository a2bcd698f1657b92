// GET /metrics: nsqd's statistics in the Prometheus text exposition format
// (version 0.0.4). Not part of the original v1.3.0 (which pushes to statsd);
// the names follow the statsd ones (D-BEH-STATSD-NAMES) under an `nsq_`
// namespace, with topic/channel as labels. Counters are the running totals.
import type { Runtime } from "../runtime/types.ts";
import { collectStats, memoryStats, type StatsHost } from "./stats.ts";
import { VERSION } from "../common/version.ts";

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** What /metrics reads from the daemon (Nsqd implements it). */
export interface MetricsHost extends StatsHost {
  /** Unix seconds. */
  readonly startTime: number;
  readonly healthy: boolean;
  readonly runtime: Pick<Runtime, "memoryUsage">;
}

type Labels = Readonly<Record<string, string>>;

/** Label values escape backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Sample values: integers as is, non-finite values as Prometheus spells them. */
function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

/** Collects metric families in order; each family's HELP/TYPE is written once, before its samples. */
class Exposition {
  readonly #families = new Map<string, { help: string; type: string; samples: string[] }>();

  family(name: string, type: "gauge" | "counter", help: string): void {
    if (!this.#families.has(name)) this.#families.set(name, { help, type, samples: [] });
  }

  sample(name: string, labels: Labels, value: number): void {
    const f = this.#families.get(name);
    if (f === undefined) throw new RangeError(`metric ${name} has no family`);
    const keys = Object.keys(labels);
    const l = keys.length === 0 ? "" : `{${keys.map((k) => `${k}="${escapeLabelValue(labels[k]!)}"`).join(",")}}`;
    f.samples.push(`${name}${l} ${formatValue(value)}`);
  }

  text(): string {
    let out = "";
    for (const [name, f] of this.#families) {
      out += `# HELP ${name} ${f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}\n# TYPE ${name} ${f.type}\n`;
      for (const s of f.samples) out += `${s}\n`;
    }
    return out;
  }
}

/** The whole /metrics document. */
export function renderMetrics(nsqd: MetricsHost): string {
  const stats = collectStats(nsqd, { includeClients: false });
  const m = new Exposition();
  m.family("nsq_info", "gauge", "Version of this nsqd (always 1).");
  m.sample("nsq_info", { version: VERSION }, 1);
  m.family("nsq_start_time_seconds", "gauge", "Start time of nsqd, Unix seconds.");
  m.sample("nsq_start_time_seconds", {}, nsqd.startTime);
  m.family("nsq_healthy", "gauge", "1 when nsqd is healthy (GET /ping answers OK), else 0.");
  m.sample("nsq_healthy", {}, nsqd.healthy ? 1 : 0);
  m.family("nsq_clients", "gauge", "TCP client connections.");
  m.sample("nsq_clients", {}, nsqd.clients.size);
  m.family("nsq_topics", "gauge", "Topics.");
  m.sample("nsq_topics", {}, stats.topics?.length ?? 0);

  const topicFamilies: [string, "gauge" | "counter", string][] = [
    ["nsq_topic_depth", "gauge", "Messages queued in the topic (memory and disk)."],
    ["nsq_topic_backend_depth", "gauge", "Messages queued in the topic's disk queue."],
    ["nsq_topic_messages_total", "counter", "Messages published to the topic."],
    ["nsq_topic_message_bytes_total", "counter", "Bytes of message bodies published to the topic."],
    ["nsq_topic_paused", "gauge", "1 when the topic is paused."],
    ["nsq_topic_e2e_processing_latency_seconds", "gauge", "End-to-end processing latency quantiles over all of the topic's channels."],
  ];
  const channelFamilies: [string, "gauge" | "counter", string][] = [
    ["nsq_channel_depth", "gauge", "Messages queued in the channel (memory and disk)."],
    ["nsq_channel_backend_depth", "gauge", "Messages queued in the channel's disk queue."],
    ["nsq_channel_in_flight", "gauge", "Messages sent to clients and not yet finished."],
    ["nsq_channel_deferred", "gauge", "Deferred messages waiting for their time."],
    ["nsq_channel_messages_total", "counter", "Messages the channel received."],
    ["nsq_channel_requeued_total", "counter", "Messages requeued by clients."],
    ["nsq_channel_timed_out_total", "counter", "Messages whose in-flight timeout expired."],
    ["nsq_channel_clients", "gauge", "Clients subscribed to the channel."],
    ["nsq_channel_paused", "gauge", "1 when the channel is paused."],
    ["nsq_channel_e2e_processing_latency_seconds", "gauge", "End-to-end processing latency quantiles of the channel."],
  ];
  for (const [n, t, h] of [...topicFamilies, ...channelFamilies]) m.family(n, t, h);

  for (const topic of stats.topics ?? []) {
    const tl = { topic: topic.topic_name };
    m.sample("nsq_topic_depth", tl, topic.depth);
    m.sample("nsq_topic_backend_depth", tl, topic.backend_depth);
    m.sample("nsq_topic_messages_total", tl, topic.message_count);
    m.sample("nsq_topic_message_bytes_total", tl, topic.message_bytes);
    m.sample("nsq_topic_paused", tl, topic.paused ? 1 : 0);
    for (const p of topic.e2e_processing_latency.percentiles ?? []) {
      m.sample("nsq_topic_e2e_processing_latency_seconds", { ...tl, quantile: String(p.quantile) }, p.value / 1e9);
    }
    for (const channel of topic.channels) {
      const cl = { topic: topic.topic_name, channel: channel.channel_name };
      m.sample("nsq_channel_depth", cl, channel.depth);
      m.sample("nsq_channel_backend_depth", cl, channel.backend_depth);
      m.sample("nsq_channel_in_flight", cl, channel.in_flight_count);
      m.sample("nsq_channel_deferred", cl, channel.deferred_count);
      m.sample("nsq_channel_messages_total", cl, channel.message_count);
      m.sample("nsq_channel_requeued_total", cl, channel.requeue_count);
      m.sample("nsq_channel_timed_out_total", cl, channel.timeout_count);
      m.sample("nsq_channel_clients", cl, channel.client_count);
      m.sample("nsq_channel_paused", cl, channel.paused ? 1 : 0);
      for (const p of channel.e2e_processing_latency.percentiles ?? []) {
        m.sample("nsq_channel_e2e_processing_latency_seconds", { ...cl, quantile: String(p.quantile) }, p.value / 1e9);
      }
    }
  }

  const usage = nsqd.runtime.memoryUsage();
  const mem = memoryStats(usage);
  m.family("nsq_process_resident_memory_bytes", "gauge", "Resident set size of the process.");
  m.sample("nsq_process_resident_memory_bytes", {}, usage.rss);
  m.family("nsq_process_heap_in_use_bytes", "gauge", "JavaScript heap in use.");
  m.sample("nsq_process_heap_in_use_bytes", {}, mem.heap_in_use_bytes);
  m.family("nsq_process_heap_idle_bytes", "gauge", "JavaScript heap reserved but not in use.");
  m.sample("nsq_process_heap_idle_bytes", {}, mem.heap_idle_bytes);
  m.family("nsq_process_external_memory_bytes", "gauge", "Memory outside the JavaScript heap held by JavaScript objects (buffers).");
  m.sample("nsq_process_external_memory_bytes", {}, usage.external);
  return m.text();
}

/** The GET /metrics response. */
export function metricsResponse(nsqd: MetricsHost): Response {
  return new Response(renderMetrics(nsqd), { status: 200, headers: { "Content-Type": PROMETHEUS_CONTENT_TYPE } });
}
