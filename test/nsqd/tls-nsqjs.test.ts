// Conformance: nsqjs (npm, written by others) negotiates tls_v1, deflate and
// snappy with an in-process nsqd and moves 10,000 messages each way
// (D-TCP-NEGOTIATE, D-BEH-TLS). /stats must show the feature on for both
// clients: a silent fallback to plain V2 fails.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import nsq, { type Message, type Reader, type Writer } from "nsqjs";
import { startTestNsqd, type TestNsqd } from "./helpers.ts";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "tls");
const TOTAL = 10_000;
const BATCH = 250;

interface Feature {
  name: string;
  client: Record<string, unknown>;
  statsKey: "tls" | "deflate" | "snappy";
}

const FEATURES: Feature[] = [
  { name: "tls_v1 (tlsVerification off)", client: { tls: true, tlsVerification: false }, statsKey: "tls" },
  {
    name: "tls_v1 (verified against the fixture CA)",
    client: { tls: true, tlsVerification: true, ca: readFileSync(join(FIXTURES, "ca.pem")) },
    statsKey: "tls",
  },
  { name: "deflate", client: { deflate: true, deflateLevel: 6 }, statsKey: "deflate" },
  { name: "snappy", client: { snappy: true }, statsKey: "snappy" },
  { name: "tls_v1 + snappy", client: { tls: true, tlsVerification: false, snappy: true }, statsKey: "snappy" },
  { name: "tls_v1 + deflate", client: { tls: true, tlsVerification: false, deflate: true }, statsKey: "deflate" },
];

function openWriter(port: number, options: Record<string, unknown>): Promise<Writer> {
  const w = new nsq.Writer("127.0.0.1", port, options);
  return new Promise((resolve, reject) => {
    w.once("ready", () => resolve(w));
    w.once("error", reject);
    w.connect();
  });
}

function publish(w: Writer, topic: string, msgs: string[]): Promise<void> {
  return new Promise((resolve, reject) => w.publish(topic, msgs, (e) => (e ? reject(e) : resolve())));
}

function openReader(port: number, topic: string, channel: string, options: Record<string, unknown>): Promise<Reader> {
  const r = new nsq.Reader(topic, channel, { nsqdTCPAddresses: [`127.0.0.1:${port}`], maxInFlight: 200, ...options } as never);
  return new Promise((resolve, reject) => {
    r.once("nsqd_connected", () => resolve(r));
    r.once("error", reject);
    r.connect();
  });
}

interface StatsClient {
  client_id: string;
  tls: boolean;
  deflate: boolean;
  snappy: boolean;
  tls_version: string;
  pub_counts?: { topic: string; count: number }[];
}

async function statsClients(httpPort: number, topic: string): Promise<{ producers: StatsClient[]; consumers: StatsClient[] }> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/stats?format=json&topic=${topic}`);
  const body = (await res.json()) as { producers: StatsClient[] | null; topics: { channels: { clients: StatsClient[] }[] }[] };
  return { producers: body.producers ?? [], consumers: body.topics.flatMap((t) => t.channels.flatMap((c) => c.clients)) };
}

describe("nsqjs negotiates features with nsqd (in-process, Node)", () => {
  let d: TestNsqd;
  beforeAll(async () => {
    d = await startTestNsqd({
      http_address: "127.0.0.1:0",
      https_address: "",
      tls_cert: join(FIXTURES, "server.pem"),
      tls_key: join(FIXTURES, "server.key"),
    });
  });
  afterAll(async () => {
    await d?.close();
  });

  it.each(FEATURES)(
    `D-TCP-NEGOTIATE $name: ${TOTAL} messages published and consumed, /stats shows the feature`,
    async (f) => {
      const topic = `t_${f.statsKey}_${FEATURES.indexOf(f)}`;
      const w = await openWriter(d.tcpPort, f.client);
      const received = new Map<string, number>();
      let done!: () => void;
      const all = new Promise<void>((r) => (done = r));
      const r = await openReader(d.tcpPort, topic, "c", f.client);
      r.on("message", (m: Message) => {
        const b = m.body.toString();
        received.set(b, (received.get(b) ?? 0) + 1);
        m.finish();
        if (received.size === TOTAL) done();
      });
      try {
        for (let i = 0; i < TOTAL; i += BATCH) {
          const batch: string[] = [];
          for (let k = i; k < i + BATCH; k++) batch.push(`${f.statsKey} message ${k} ${"x".repeat(k % 200)}`);
          await publish(w, topic, batch);
        }
        const { producers, consumers } = await statsClients(d.httpPort, topic);
        expect(producers.length).toBe(1);
        expect(consumers.length).toBe(1);
        for (const c of [...producers, ...consumers]) {
          expect(c[f.statsKey]).toBe(true);
          if ("tls" in f.client) {
            expect(c.tls).toBe(true);
            expect(c.tls_version).toMatch(/^TLS1\.[0-3]$/);
          } else {
            expect(c.tls).toBe(false);
          }
        }
        await Promise.race([all, new Promise((_, rej) => setTimeout(() => rej(new Error(`only ${received.size} received`)), 30_000))]);
        expect(received.size).toBe(TOTAL);
        for (let k = 0; k < TOTAL; k++) expect(received.get(`${f.statsKey} message ${k} ${"x".repeat(k % 200)}`)).toBe(1);
      } finally {
        w.close();
        r.close();
      }
    },
    60_000,
  );
});
