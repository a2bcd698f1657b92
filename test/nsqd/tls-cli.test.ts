// Conformance across runtimes: nsqjs negotiates tls_v1, deflate and snappy
// with `nsq nsqd` run as a process on every runtime of test/helpers/cli.ts,
// 10,000 messages each way per feature; /stats must show the feature on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import nsq, { type Message, type Reader, type Writer } from "nsqjs";
import { RUNTIMES } from "../helpers/cli.ts";
import { ensureDist, startNsqd, type NsqdProcess } from "../integration/harness.ts";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "tls");
const TOTAL = 10_000;
const FEATURES = [
  { key: "tls", client: { tls: true, tlsVerification: false } },
  { key: "deflate", client: { deflate: true } },
  { key: "snappy", client: { snappy: true } },
] as const;

describe.each(RUNTIMES)("nsqjs with tls_v1/deflate/snappy against nsqd on %s", (rt) => {
  let d: NsqdProcess;
  beforeAll(async () => {
    await ensureDist([rt]);
    d = await startNsqd(rt, { args: [`--tls-cert=${join(FIXTURES, "server.pem")}`, `--tls-key=${join(FIXTURES, "server.key")}`, "--https-address="] });
  }, 120_000);
  afterAll(async () => {
    await d?.[Symbol.asyncDispose]();
  });

  it.each(FEATURES)(
    `D-TCP-NEGOTIATE $key: ${TOTAL} messages each way, /stats shows it on`,
    async (f) => {
      const topic = `cli_${f.key}`;
      const w = new nsq.Writer("127.0.0.1", d.tcpPort, f.client);
      await new Promise<void>((resolve, reject) => {
        w.once("ready", () => resolve());
        w.once("error", reject);
        w.connect();
      });
      const r: Reader = new nsq.Reader(topic, "c", { nsqdTCPAddresses: [`127.0.0.1:${d.tcpPort}`], maxInFlight: 200, ...f.client } as never);
      const seen = new Set<string>();
      const all = new Promise<void>((resolve) =>
        r.on("message", (m: Message) => {
          seen.add(m.body.toString());
          m.finish();
          if (seen.size === TOTAL) resolve();
        }),
      );
      r.connect();
      try {
        for (let i = 0; i < TOTAL; i += 500) {
          const batch = Array.from({ length: 500 }, (_, k) => `${f.key}-${i + k}`);
          await new Promise<void>((resolve, reject) => (w as Writer).publish(topic, batch, (e) => (e ? reject(e) : resolve())));
        }
        await Promise.race([all, new Promise((_, rej) => setTimeout(() => rej(new Error(`only ${seen.size} received`)), 60_000))]);
        expect(seen.size).toBe(TOTAL);
        const stats = (await (await fetch(`http://127.0.0.1:${d.httpPort}/stats?format=json&topic=${topic}`)).json()) as {
          producers: Record<string, unknown>[];
          topics: { channels: { clients: Record<string, unknown>[] }[] }[];
        };
        const clients = [...stats.producers, ...stats.topics[0]!.channels[0]!.clients];
        expect(clients.length).toBe(2);
        for (const c of clients) expect(c[f.key]).toBe(true);
      } finally {
        w.close();
        r.close();
      }
    },
    90_000,
  );
});
