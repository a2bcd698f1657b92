// The client's negotiated upgrades against an in-process nsqd
// (U-CLI-HANDSHAKE, U-CLI-OPTS, D-TCP-NEGOTIATE, D-TCP-AUTH): TLS with CA
// verification, without it, and with a client certificate; snappy; deflate;
// TLS followed by compression; AUTH. Every case checks nsqd's own view of
// the connection, so a silent fallback to plain TCP fails the test.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { recordingLogger, startTestNsqd, type TestNsqd } from "../nsqd/helpers.ts";
import { createNodeRuntime } from "../../src/runtime/node.ts";
import { Config, ConfigOptionError, Consumer, Producer, type ConfigValues, type Message } from "../../src/index.ts";
import type { NsqdOptions } from "../../src/nsqd/options.ts";

const runtime = createNodeRuntime();
const FIXTURES = join(import.meta.dirname, "..", "fixtures", "tls");
const fixture = (name: string) => join(FIXTURES, name);
const SERVER_TLS: Partial<NsqdOptions> = { tls_cert: fixture("server.pem"), tls_key: fixture("server.key") };
const text = (m: Message) => new TextDecoder().decode(m.body);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const addr = (n: TestNsqd) => `127.0.0.1:${n.tcpPort}`;

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** nsqd's view of every client connected with `userAgent`. */
function serverView(n: TestNsqd, userAgent: string): { tls: boolean; snappy: boolean; deflate: boolean; deflateLevel: number }[] {
  return [...n.nsqd.clients]
    .filter((c) => c.userAgent === userAgent)
    .map((c) => ({ tls: c.tls !== null, snappy: c.snappy, deflate: c.deflate, deflateLevel: c.deflateLevel }));
}

/** Compressible and incompressible bodies, one larger than a snappy block (64 KiB) and than a socket read. */
function bodies(): string[] {
  let noise = "";
  let x = 12345;
  for (let i = 0; i < 3000; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    noise += (x >>> 8).toString(36);
  }
  return ["hello", "x".repeat(200_000), noise, "h\u00e9llo w\u00f6rld", ...Array.from({ length: 50 }, (_, i) => `m${i}`)];
}

interface Case {
  name: string;
  server: Partial<NsqdOptions>;
  client: Partial<ConfigValues>;
  expect: { tls: boolean; snappy: boolean; deflate: boolean };
}

const CA = { tls_v1: true, tls_root_ca_file: fixture("ca.pem") };
const CASES: Case[] = [
  { name: "TLS verified against the CA", server: SERVER_TLS, client: CA, expect: { tls: true, snappy: false, deflate: false } },
  {
    name: "TLS with tls_insecure_skip_verify",
    server: SERVER_TLS,
    client: { tls_v1: true, tls_insecure_skip_verify: true },
    expect: { tls: true, snappy: false, deflate: false },
  },
  {
    name: "TLS with tls_min_version tls1.2",
    server: SERVER_TLS,
    client: { ...CA, tls_min_version: "tls1.2" },
    expect: { tls: true, snappy: false, deflate: false },
  },
  { name: "snappy", server: {}, client: { snappy: true }, expect: { tls: false, snappy: true, deflate: false } },
  { name: "deflate", server: {}, client: { deflate: true, deflate_level: 3 }, expect: { tls: false, snappy: false, deflate: true } },
  { name: "TLS then snappy", server: SERVER_TLS, client: { ...CA, snappy: true }, expect: { tls: true, snappy: true, deflate: false } },
  { name: "TLS then deflate", server: SERVER_TLS, client: { ...CA, deflate: true }, expect: { tls: true, snappy: false, deflate: true } },
];

describe("Producer and Consumer upgrades (D-TCP-NEGOTIATE)", () => {
  test.each(CASES)(
    "U-CLI-HANDSHAKE: $name carries PUB, MPUB and delivery byte for byte, and nsqd sees the upgrade",
    async (c) => {
      await using n = await startTestNsqd({ ...c.server });
      const sent = bodies();
      const producer = new Producer(addr(n), { ...c.client, user_agent: "upgrade-producer" }, { runtime });
      await producer.publish("up", sent[0]!);
      await producer.multiPublish("up", sent.slice(1));
      const pv = serverView(n, "upgrade-producer");
      expect(pv).toHaveLength(1);
      expect(pv[0]).toMatchObject(c.expect);
      if (c.client.deflate_level !== undefined) expect(pv[0]!.deflateLevel).toBe(c.client.deflate_level);
      await producer.stop();

      const got: string[] = [];
      const consumer = new Consumer("up", "ch", { ...c.client, user_agent: "upgrade-consumer", max_in_flight: 20 }, { runtime });
      consumer.addHandler((m) => void got.push(text(m)));
      await consumer.connectToNsqd(addr(n));
      await until(() => got.length === sent.length, 10_000, "every message");
      expect(got).toEqual(sent);
      const cv = serverView(n, "upgrade-consumer");
      expect(cv).toHaveLength(1);
      expect(cv[0]).toMatchObject(c.expect);
      // FINs travelled through the upgraded stream too: nothing stays in flight.
      await until(() => consumer.stats().messagesFinished === sent.length, 5000, "FINs");
      await until(() => n.nsqd.getTopic("up").getChannel("ch").inFlightCount() === 0, 5000, "in-flight to drain");
      await consumer.stop();
    },
    20_000,
  );

  test("U-CLI-OPTS: TLS without the CA fails certificate verification; nothing is published", async () => {
    await using n = await startTestNsqd(SERVER_TLS);
    const producer = new Producer(addr(n), { tls_v1: true, user_agent: "no-ca" }, { runtime });
    await expect(producer.publish("up", "x")).rejects.toThrow(/certificate/i);
    await producer.stop();
    expect(n.nsqd.topics.get("up")?.depth() ?? 0).toBe(0);
  });

  test("U-CLI-OPTS: tls_cert / tls_key give the client certificate nsqd's require-verify asks for", async () => {
    await using n = await startTestNsqd({ ...SERVER_TLS, tls_client_auth_policy: "require-verify", tls_root_ca_file: fixture("ca.pem") });
    const withCert = new Producer(addr(n), { ...CA, tls_cert: fixture("client.pem"), tls_key: fixture("client.key"), user_agent: "mtls" }, { runtime });
    await withCert.publish("mtls", "with a certificate");
    expect([...n.nsqd.clients].find((c) => c.userAgent === "mtls")?.tls?.peerCommonName).toBe("nsq test client");
    await withCert.stop();
    const without = new Producer(addr(n), { ...CA, user_agent: "no-cert" }, { runtime });
    await expect(without.publish("mtls", "no certificate")).rejects.toThrow();
    await without.stop();
    expect(n.nsqd.getTopic("mtls").depth()).toBe(1);
  });

  test("U-CLI-OPTS: an unreadable tls_root_ca_file fails the connection with the path in the message", async () => {
    await using n = await startTestNsqd(SERVER_TLS);
    const producer = new Producer(addr(n), { tls_v1: true, tls_root_ca_file: "/nonexistent/ca.pem" }, { runtime });
    await expect(producer.publish("up", "x")).rejects.toThrow(/tls_root_ca_file "\/nonexistent\/ca.pem"/);
    await producer.stop();
  });

  test("U-CLI-OPTS: snappy and deflate together, or tls_cert without tls_key, are refused at construction", () => {
    expect(() => new Producer("127.0.0.1:1", { snappy: true, deflate: true }, { runtime })).toThrow(ConfigOptionError);
    expect(() => new Consumer("t", "c", { snappy: true, deflate: true }, { runtime })).toThrow(/both snappy and deflate/);
    const cfg = new Config();
    cfg.setOpt(`tls_cert,${fixture("client.pem")}`);
    expect(() => cfg.validate()).toThrow(/tls_cert and tls_key/);
  });

  test("D-TCP-NEGOTIATE: tls_v1 asked of an nsqd without TLS continues in plain TCP with a warning, as go-nsq", async () => {
    await using n = await startTestNsqd();
    const logger = recordingLogger();
    const producer = new Producer(addr(n), { tls_v1: true, tls_insecure_skip_verify: true, user_agent: "plain" }, { runtime, logger });
    await producer.publish("plain", "x");
    expect(serverView(n, "plain")).toEqual([{ tls: false, snappy: false, deflate: false, deflateLevel: expect.any(Number) }]);
    expect(logger.lines.some((l) => l.startsWith("WARNING:") && l.includes("tls_v1 was requested"))).toBe(true);
    await producer.stop();
  });
});

/** Grants subscribe/publish on topic "ok" to the secret "s3cret"; nothing to others. */
async function startAuthServer(): Promise<{ port: number; secrets: string[]; close(): Promise<void> }> {
  const secrets: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const secret = url.searchParams.get("secret") ?? "";
    secrets.push(secret);
    const authorizations = secret === "s3cret" ? [{ topic: "^ok$", channels: [".*"], permissions: ["subscribe", "publish"] }] : [];
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ttl: 60, identity: "tester", authorizations }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as AddressInfo).port,
    secrets,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe("AUTH (D-TCP-AUTH)", () => {
  test.each([
    { name: "plain", client: {}, upgraded: false },
    { name: "TLS then snappy", client: { ...CA, snappy: true }, upgraded: true },
  ])("U-CLI-HANDSHAKE: over $name, auth_secret is sent before SUB; publish and subscribe work", async ({ client, upgraded }) => {
    const authd = await startAuthServer();
    try {
      await using n = await startTestNsqd({ ...SERVER_TLS, auth_http_addresses: [`127.0.0.1:${authd.port}`] });
      const producer = new Producer(addr(n), { ...client, auth_secret: "s3cret" }, { runtime });
      await producer.publish("ok", "authorized");
      await producer.stop();
      const got: string[] = [];
      const consumer = new Consumer("ok", "ch", { ...client, auth_secret: "s3cret", user_agent: "authed" }, { runtime });
      consumer.addHandler((m) => void got.push(text(m)));
      await consumer.connectToNsqd(addr(n));
      await until(() => got.length === 1, 5000, "the message");
      expect(got).toEqual(["authorized"]);
      const seen = [...n.nsqd.clients].find((c) => c.userAgent === "authed");
      expect(seen?.authed).toBe(true);
      expect(seen?.authIdentity).toBe("tester");
      expect(serverView(n, "authed")).toMatchObject([{ tls: upgraded, snappy: upgraded, deflate: false }]);
      await consumer.stop();
      expect(authd.secrets).toEqual(["s3cret", "s3cret"]);
    } finally {
      await authd.close();
    }
  });

  test("U-CLI-HANDSHAKE: a missing secret, a refused secret and a forbidden topic each fail the connection", async () => {
    const authd = await startAuthServer();
    try {
      await using n = await startTestNsqd({ auth_http_addresses: [`127.0.0.1:${authd.port}`] });
      const none = new Consumer("ok", "ch", {}, { runtime });
      none.addHandler(() => {});
      await expect(none.connectToNsqd(addr(n))).rejects.toThrow(/Auth Required/);
      await none.stop();
      const refused = new Consumer("ok", "ch", { auth_secret: "wrong" }, { runtime });
      refused.addHandler(() => {});
      await expect(refused.connectToNsqd(addr(n))).rejects.toThrow(/E_UNAUTHORIZED/);
      await refused.stop();
      const forbidden = new Consumer("other", "ch", { auth_secret: "s3cret" }, { runtime });
      forbidden.addHandler(() => {});
      await expect(forbidden.connectToNsqd(addr(n))).rejects.toThrow(/E_UNAUTHORIZED/);
      await forbidden.stop();
      const producer = new Producer(addr(n), { auth_secret: "s3cret" }, { runtime });
      await expect(producer.publish("other", "x")).rejects.toThrow(/E_UNAUTHORIZED/);
      await producer.stop();
    } finally {
      await authd.close();
    }
  });
});
