// The bench reader over TLS, Snappy and DEFLATE (scripts/bench-transport.ts,
// D-TCP-NEGOTIATE) against an in-process nsqd holding the test certificate:
// every published message comes back and is FINed through each transport, and
// a transport nsqd does not grant is an error, not a silent plaintext run.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runReader, runWriter, createChannel } from "../../scripts/bench-client.ts";
import { TLS_FIXTURE, parseConsumeVariants, tlsFlags } from "../../scripts/bench-driver.ts";
import { PLAINTEXT, checkTransport, describeTransport, type TransportOptions } from "../../scripts/bench-transport.ts";
import { startTestNsqd } from "../nsqd/helpers.ts";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "tls");
const SERVER = { tls_cert: join(FIXTURES, "server.pem"), tls_key: join(FIXTURES, "server.key") };

/** Publishes `count` messages, then consumes: until `count` arrived, or (drain) until idle for 300 ms. */
async function publishThenConsume(port: number, topic: string, transport: TransportOptions, count: number, drain = false) {
  const target = { host: "127.0.0.1", port };
  await createChannel(target, topic, "ch");
  const w = await runWriter({ target, topic, size: 100, batchSize: 50, connections: 1, pipeline: 2, runforMs: 10_000, count });
  expect(w.messages).toBe(count);
  return runReader({
    target,
    topic,
    channel: "ch",
    rdy: 100,
    connections: 1,
    runforMs: 10_000,
    count: drain ? 0 : count,
    idleMs: drain ? 300 : 2000,
    transport,
  });
}

describe("bench reader transports", () => {
  it("consumes and FINs every message over plaintext, tls, snappy, deflate, tls+snappy, tls+deflate", async () => {
    await using d = await startTestNsqd(SERVER);
    const variants = parseConsumeVariants(["plaintext,tls", "snappy", "deflate", "tls+snappy", "tls+deflate"]);
    expect(variants.map(describeTransport)).toEqual(["plaintext", "tls", "snappy", "deflate", "tls+snappy", "tls+deflate"]);
    for (const t of variants) {
      const topic = `bt_${describeTransport(t).replace("+", "_")}`;
      // Drained (not stopped at the count) so the FINs of the last chunk go out too.
      const r = await publishThenConsume(d.tcpPort, topic, t, 1500, true);
      expect({ transport: describeTransport(t), stop: r.stop, messages: r.messages, bytes: r.bytes }).toEqual({
        transport: describeTransport(t),
        stop: "drained",
        messages: 1500,
        bytes: 1500 * 100,
      });
      // Every message was FINed through the transport: nothing in flight or queued.
      const channel = d.nsqd.getTopic(topic).getChannel("ch");
      expect({ transport: describeTransport(t), inFlight: channel.inFlightCount(), depth: channel.depth() }).toEqual({
        transport: describeTransport(t),
        inFlight: 0,
        depth: 0,
      });
    }
  }, 60_000);

  it("refuses a certificate it cannot verify unless --tls-insecure", async () => {
    await using d = await startTestNsqd(SERVER);
    const untrusted: TransportOptions = { ...PLAINTEXT, tls: true };
    await expect(publishThenConsume(d.tcpPort, "bt_untrusted", untrusted, 10)).rejects.toThrow(/TLS handshake/);
    const insecure: TransportOptions = { ...PLAINTEXT, tls: true, tlsInsecure: true };
    const r = await publishThenConsume(d.tcpPort, "bt_insecure", insecure, 10);
    expect(r.messages).toBe(10);
  }, 30_000);

  it("fails when nsqd does not grant what was asked", async () => {
    await using d = await startTestNsqd({ deflate: false });
    const t: TransportOptions = { ...PLAINTEXT, deflate: true };
    await expect(publishThenConsume(d.tcpPort, "bt_nodeflate", t, 10)).rejects.toThrow(/did not grant deflate/);
    const tls: TransportOptions = { ...PLAINTEXT, tls: true, tlsInsecure: true };
    await expect(publishThenConsume(d.tcpPort, "bt_notls", tls, 10)).rejects.toThrow(/did not grant tls_v1/);
  }, 30_000);

  it("checks option combinations and names the driver's nsqd TLS flags", () => {
    expect(() => checkTransport({ ...PLAINTEXT, snappy: true, deflate: true })).toThrow(/together/);
    expect(() => checkTransport({ ...PLAINTEXT, tlsInsecure: true })).toThrow(/need --tls/);
    expect(() => checkTransport({ ...PLAINTEXT, deflate: true, deflateLevel: 0 })).toThrow(/1\.\.9/);
    expect(() => parseConsumeVariants(["tls+gzip"])).toThrow(/-consume/);
    expect(parseConsumeVariants([])).toEqual([PLAINTEXT]);
    const tls = parseConsumeVariants(["tls"]);
    expect(tls[0]!.tlsCaFile).toBe(TLS_FIXTURE.ca);
    expect(tlsFlags({ consume: tls, tls: false, cases: [1, 2] })).toEqual([`--tls-cert=${TLS_FIXTURE.cert}`, `--tls-key=${TLS_FIXTURE.key}`]);
    expect(tlsFlags({ consume: tls, tls: false, cases: [1, 3] })).toEqual([]);
    expect(tlsFlags({ consume: [PLAINTEXT], tls: true, cases: [4] }).length).toBe(2);
  });
});
