// GET /metrics in the Prometheus text exposition format, checked by a strict
// parser of that format written for the test.
import { describe, expect, it } from "vitest";
import { escapeLabelValue } from "../../src/nsqd/prometheus.ts";
import { startTestNsqd } from "./helpers.ts";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Family {
  help: string;
  type: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Parses text format 0.0.4; throws on anything malformed. */
function parseExposition(text: string): Map<string, Family> {
  if (!text.endsWith("\n")) throw new SyntaxError("document must end with a newline");
  const families = new Map<string, Family>();
  for (const line of text.slice(0, -1).split("\n")) {
    if (line === "") continue;
    if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
      const rest = line.slice(7);
      const sp = rest.indexOf(" ");
      const name = rest.slice(0, sp);
      if (!METRIC_NAME.test(name)) throw new SyntaxError(`bad metric name ${name}`);
      const f = families.get(name) ?? { help: "", type: "", samples: [] };
      if (f.samples.length > 0) throw new SyntaxError(`${name}: HELP/TYPE after samples`);
      if (line.startsWith("# HELP ")) f.help = rest.slice(sp + 1);
      else {
        const type = rest.slice(sp + 1);
        if (!["counter", "gauge", "summary", "histogram", "untyped"].includes(type)) throw new SyntaxError(`bad type ${type}`);
        if (f.type !== "") throw new SyntaxError(`${name}: two TYPE lines`);
        f.type = type;
      }
      families.set(name, f);
      continue;
    }
    if (line.startsWith("#")) continue;
    let i = 0;
    while (i < line.length && line[i] !== "{" && line[i] !== " ") i++;
    const name = line.slice(0, i);
    if (!METRIC_NAME.test(name)) throw new SyntaxError(`bad sample name ${name}`);
    const labels: Record<string, string> = {};
    if (line[i] === "{") {
      i++;
      while (line[i] !== "}") {
        const eq = line.indexOf("=", i);
        const key = line.slice(i, eq);
        if (!LABEL_NAME.test(key)) throw new SyntaxError(`bad label name ${key}`);
        if (line[eq + 1] !== '"') throw new SyntaxError("label value must be quoted");
        let j = eq + 2;
        let value = "";
        for (;;) {
          const ch = line[j];
          if (ch === undefined) throw new SyntaxError("unterminated label value");
          if (ch === '"') break;
          if (ch === "\\") {
            const next = line[j + 1];
            if (next === "n") value += "\n";
            else if (next === "\\" || next === '"') value += next;
            else throw new SyntaxError(`bad escape \\${next}`);
            j += 2;
            continue;
          }
          value += ch;
          j++;
        }
        if (key in labels) throw new SyntaxError(`duplicate label ${key}`);
        labels[key] = value;
        i = j + 1;
        if (line[i] === ",") i++;
        else if (line[i] !== "}") throw new SyntaxError("expected , or }");
      }
      i++;
    }
    if (line[i] !== " ") throw new SyntaxError(`expected a space before the value in ${JSON.stringify(line)}`);
    const valueText = line.slice(i + 1);
    if (!/^(-?\d+(\.\d+)?(e[+-]?\d+)?|NaN|[+-]Inf)$/.test(valueText)) throw new SyntaxError(`bad value ${valueText}`);
    const family = families.get(name);
    if (family === undefined || family.type === "") throw new SyntaxError(`sample ${name} before its TYPE`);
    family.samples.push({ name, labels, value: Number(valueText.replace("Inf", "Infinity")) });
  }
  return families;
}

describe("GET /metrics", () => {
  it("the parser rejects what the format forbids (so the checks below can fail)", () => {
    expect(() => parseExposition("x 1")).toThrow(SyntaxError);
    expect(() => parseExposition("x 1\n")).toThrow(/before its TYPE/);
    expect(() => parseExposition('# TYPE x gauge\nx{a="b} 1\n')).toThrow(SyntaxError);
    expect(() => parseExposition('# TYPE x gauge\nx{a="\\t"} 1\n')).toThrow(/bad escape/);
  });

  it("label values escape backslash, quote and newline", () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    const parsed = parseExposition(`# TYPE x gauge\nx{l="${escapeLabelValue('a\\b"c\nd')}"} 1\n`);
    expect(parsed.get("x")!.samples[0]!.labels["l"]).toBe('a\\b"c\nd');
  });

  it("serves depths, counts, clients, e2e quantiles and memory with HELP and TYPE", async () => {
    await using d = await startTestNsqd({ http_address: "127.0.0.1:0", e2e_processing_latency_percentiles: [0.5, 0.99] });
    const topic = d.nsqd.getTopic("prom");
    const channel = topic.getChannel("c1");
    topic.getChannel("c2");
    for (let i = 0; i < 7; i++) topic.publish(new TextEncoder().encode("body"));
    const res = await fetch(`http://127.0.0.1:${d.httpPort}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const families = parseExposition(await res.text());
    for (const [name, f] of families) {
      expect(f.help, name).not.toBe("");
      expect(f.type, name).not.toBe("");
      if (f.type === "counter") expect(name.endsWith("_total"), name).toBe(true);
    }
    const value = (name: string, labels: Record<string, string>) =>
      families.get(name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(value("nsq_topic_messages_total", { topic: "prom" })).toBe(7);
    expect(value("nsq_topic_message_bytes_total", { topic: "prom" })).toBe(28);
    expect(value("nsq_topic_depth", { topic: "prom" })).toBe(0);
    expect(value("nsq_channel_depth", { topic: "prom", channel: "c1" })).toBe(7);
    expect(value("nsq_channel_depth", { topic: "prom", channel: "c2" })).toBe(7);
    expect(value("nsq_channel_backend_depth", { topic: "prom", channel: "c1" })).toBe(0);
    expect(value("nsq_channel_in_flight", { topic: "prom", channel: "c1" })).toBe(channel.inFlightCount());
    expect(value("nsq_channel_requeued_total", { topic: "prom", channel: "c1" })).toBe(0);
    expect(value("nsq_channel_timed_out_total", { topic: "prom", channel: "c1" })).toBe(0);
    expect(value("nsq_channel_clients", { topic: "prom", channel: "c1" })).toBe(0);
    expect(value("nsq_clients", {})).toBe(0);
    expect(families.get("nsq_channel_e2e_processing_latency_seconds")?.type).toBe("gauge");
    expect(value("nsq_process_resident_memory_bytes", {})).toBeGreaterThan(0);
    expect(value("nsq_process_heap_in_use_bytes", {})).toBeGreaterThan(0);
  });
});
