// G-EVENTUAL, G-NOSPOF, D-BEH-LOOKUP-*: the real CLI as processes on every
// runtime: two `nsq lookupd` and three `nsq nsqd` registered with both. An
// nsqjs Reader (npm, written by others) given only the lookupd HTTP addresses
// finds every nsqd and consumes everything published to each; with one lookupd
// killed, a new Reader still finds them all through the other.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import nsq, { type Reader, type Writer } from "nsqjs";
import { RUNTIMES, type CliRuntime } from "../helpers/cli.ts";
import { ensureDist, startLookupdProcess, startNsqd, type LookupdProcess, type NsqdProcess } from "../integration/harness.ts";
import { waitFor } from "./helpers.ts";

async function startLookupd(rt: CliRuntime): Promise<LookupdProcess> {
  const lookupd = await startLookupdProcess(rt, { args: ["--broadcast-address=127.0.0.1"] });
  expect(lookupd.cli.stderr).toMatch(/^\[nsqlookupd\] \d{4}\/\d\d\/\d\d /);
  return lookupd;
}

function openWriter(port: number): Promise<Writer> {
  const w = new nsq.Writer("127.0.0.1", port);
  return new Promise((resolve, reject) => {
    w.once("ready", () => resolve(w));
    w.once("error", reject);
    w.connect();
  });
}

function publish(w: Writer, topic: string, msgs: string[]): Promise<void> {
  return new Promise((resolve, reject) => w.publish(topic, msgs, (e) => (e ? reject(e) : resolve())));
}

async function lookupProducers(httpPort: number, topic: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/lookup?topic=${topic}`);
  if (res.status !== 200) return 0;
  return ((await res.json()) as { producers: unknown[] }).producers.length;
}

/** A Reader over lookupd only; resolves once it is connected to `expectNsqd` nsqds. */
function openReader(topic: string, channel: string, lookupds: string[], expectNsqd: number, seen: string[]): Promise<Reader> {
  const r = new nsq.Reader(topic, channel, { lookupdHTTPAddresses: lookupds, maxInFlight: 10, lookupdPollInterval: 1 } as never);
  r.on("message", (m) => {
    seen.push(m.body.toString());
    m.finish();
  });
  let connected = 0;
  return new Promise((resolve, reject) => {
    r.on("nsqd_connected", () => {
      if (++connected === expectNsqd) resolve(r);
    });
    r.on("error", reject);
    r.connect();
  });
}

describe.each(RUNTIMES)("lookupd cluster on %s", (rt) => {
  const lookupds: LookupdProcess[] = [];
  const nsqds: NsqdProcess[] = [];
  const closers: { close(): void }[] = [];
  const writers: Writer[] = [];
  const topic = "clustered";
  const started = Date.now();

  beforeAll(async () => {
    await ensureDist([rt]);
    lookupds.push(...(await Promise.all([startLookupd(rt), startLookupd(rt)])));
    const lookupdArgs = lookupds.map((l) => `--lookupd-tcp-address=127.0.0.1:${l.tcpPort}`);
    nsqds.push(...(await Promise.all([0, 1, 2].map(() => startNsqd(rt, { args: ["--broadcast-address=127.0.0.1", ...lookupdArgs] })))));
    for (const n of nsqds) writers.push(await openWriter(n.tcpPort));
  }, 120_000);

  afterAll(async () => {
    for (const c of [...closers, ...writers]) c.close();
    await Promise.all(nsqds.map((n) => n[Symbol.asyncDispose]()));
    await Promise.all(lookupds.map((l) => l.cli[Symbol.asyncDispose]()));
    console.log(`[timing] lookupd cluster on ${rt}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  it("a Reader given only the lookupd HTTP addresses consumes every message published to each nsqd", async () => {
    const sent: string[] = [];
    for (const [i, w] of writers.entries()) {
      const batch = Array.from({ length: 20 }, (_, j) => `n${i}-m${j}`);
      await publish(w, topic, batch);
      sent.push(...batch);
    }
    // Every nsqd registered the topic with both lookupds.
    for (const l of lookupds) await waitFor(async () => (await lookupProducers(l.httpPort, topic)) === 3, 10_000, `3 producers on lookupd :${l.httpPort}`);
    const nodes = (await (await fetch(`http://127.0.0.1:${lookupds[0]!.httpPort}/nodes`)).json()) as { producers: { tcp_port: number }[] };
    expect(nodes.producers.map((p) => p.tcp_port).sort()).toEqual(nsqds.map((n) => n.tcpPort).sort());

    const seen: string[] = [];
    const reader = await openReader(
      topic,
      "all",
      lookupds.map((l) => `127.0.0.1:${l.httpPort}`),
      3,
      seen,
    );
    closers.push(reader);
    await waitFor(() => seen.length >= sent.length, 15_000, `${sent.length} messages`);
    expect([...seen].sort()).toEqual([...sent].sort());
  });

  it("G-NOSPOF: with one lookupd killed, a new Reader still finds every nsqd through the other", async () => {
    lookupds[0]!.cli.kill("SIGKILL");
    await lookupds[0]!.cli.exited;
    const seen: string[] = [];
    const reader = await openReader(
      topic,
      "after-kill",
      lookupds.map((l) => `127.0.0.1:${l.httpPort}`),
      3,
      seen,
    );
    closers.push(reader);
    // Connected is not subscribed yet: wait until all three nsqds have the
    // channel, which the surviving lookupd learns from their REGISTERs.
    const debug = async () => (await (await fetch(`http://127.0.0.1:${lookupds[1]!.httpPort}/debug`)).json()) as Record<string, unknown[]>;
    await waitFor(async () => (await debug())[`channel:${topic}:after-kill`]?.length === 3, 10_000, "channel on every nsqd");
    const sent: string[] = [];
    for (const [i, w] of writers.entries()) {
      const batch = Array.from({ length: 10 }, (_, j) => `late-n${i}-m${j}`);
      await publish(w, topic, batch);
      sent.push(...batch);
    }
    await waitFor(() => seen.length >= sent.length, 15_000, `${sent.length} messages`);
    expect([...seen].sort()).toEqual([...sent].sort());
  });
});
