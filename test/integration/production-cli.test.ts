// Production features of `nsq nsqd` as a real process on every runtime:
// authorization against an auth server (D-TCP-AUTH, D-TCP-AUTH-CHECK,
// D-BEH-AUTH, D-BEH-AUTH-MATCH), statsd push over UDP (D-BEH-STATSD,
// D-BEH-STATSD-NAMES) and GET /metrics in the Prometheus text format.
// The in-process versions live in test/nsqd/{auth,statsd,prometheus}.test.ts;
// these prove the same wiring holds when the flags come through the CLI and
// the sockets, timers and HTTP client are each runtime's own.
//
// One nsqd per runtime carries all three features: publishes for statsd and
// /metrics go through the HTTP API, which the original does not authorize.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as dgram from "node:dgram";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { RUNTIMES } from "../helpers/cli.ts";
import { FrameType, encodeAuth, encodeIdentify, encodePub } from "../../src/protocol/frames.ts";
import { ensureDist, RawConnection, startNsqd, utf8, waitFor, type NsqdProcess } from "./harness.ts";

const auth = (secret: string) => encodeAuth(secret);
const pub = (topic: string, body = "m") => encodePub(topic, utf8(body));

const ALLOWED = "allowed";
const TTL_SECONDS = 1;

interface AuthServer {
  port: number;
  /** Secrets of the queries received, in order. */
  queries: string[];
  close(): Promise<void>;
}

/** Grants publish on ALLOWED only, for TTL_SECONDS; records each query's secret. */
async function startAuthServer(): Promise<AuthServer> {
  const queries: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname !== "/auth") {
      res.writeHead(404).end();
      return;
    }
    queries.push(url.searchParams.get("secret") ?? "");
    res.writeHead(200, { "content-type": "application/json" }).end(
      JSON.stringify({
        ttl: TTL_SECONDS,
        identity: "cli-tester",
        identity_url: "",
        authorizations: [{ topic: `^${ALLOWED}$`, channels: [".*"], permissions: ["publish"] }],
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  let closed = false;
  return {
    port: (server.address() as AddressInfo).port,
    queries,
    async close() {
      if (closed) return;
      closed = true;
      // nsqd's HTTP client may hold keep-alive connections open.
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** The next frame must be this fatal error, and the server must close the connection. */
async function expectFatal(c: RawConnection, message: string): Promise<void> {
  const f = await c.next(10_000);
  expect(f?.type).toBe(FrameType.Error);
  expect(f?.text).toBe(message);
  expect(await c.next(10_000)).toBeNull();
}

interface StatsdLine {
  name: string;
  value: number;
  type: "c" | "g";
}

/** Parses one datagram: newline-terminated `<name>:<int>|<c|g>` lines, nothing else. */
function parseDatagram(text: string): StatsdLine[] {
  if (!text.endsWith("\n")) throw new SyntaxError(`datagram does not end with a newline: ${JSON.stringify(text)}`);
  return text
    .slice(0, -1)
    .split("\n")
    .map((line) => {
      const m = /^([^:|\n]+):(-?\d+)\|([cg])$/.exec(line);
      if (m === null) throw new SyntaxError(`bad statsd line ${JSON.stringify(line)}`);
      return { name: m[1]!, value: Number(m[2]), type: m[3] as "c" | "g" };
    });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(RUNTIMES)("nsqd auth, statsd and /metrics as a process on %s", (rt) => {
  let authd: AuthServer;
  let udp: dgram.Socket;
  const lines: StatsdLine[] = [];
  const badDatagrams: string[] = [];
  let nsqd: NsqdProcess;
  let started = 0;

  const api = (method: "GET" | "POST", path: string, body?: string) => fetch(`http://127.0.0.1:${nsqd.httpPort}${path}`, { method, body });

  beforeAll(async () => {
    await ensureDist([rt]);
    started = Date.now();
    authd = await startAuthServer();
    udp = dgram.createSocket("udp4");
    udp.on("message", (m) => {
      const text = m.toString("utf8");
      try {
        lines.push(...parseDatagram(text));
      } catch {
        badDatagrams.push(text);
      }
    });
    await new Promise<void>((r) => udp.bind(0, "127.0.0.1", r));
    nsqd = await startNsqd(rt, {
      args: [
        `--auth-http-address=127.0.0.1:${authd.port}`,
        `--statsd-address=127.0.0.1:${udp.address().port}`,
        "--statsd-interval=1s",
        "--statsd-prefix=test.",
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await nsqd?.[Symbol.asyncDispose]();
    await authd?.close();
    udp?.close();
    if (started > 0) console.log(`[timing] production features on ${rt}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  it("D-TCP-AUTH-CHECK: SUB before AUTH -> E_AUTH_FIRST, and the connection is closed", async () => {
    await using c = await RawConnection.open(nsqd.tcpPort);
    c.send("SUB allowed ch\n");
    await expectFatal(c, "E_AUTH_FIRST AUTH required before SUB");
  });

  it("D-TCP-AUTH / D-BEH-AUTH-MATCH: AUTH then PUB on the granted topic -> OK; another topic -> E_UNAUTHORIZED", async () => {
    const before = authd.queries.length;
    await using c = await RawConnection.open(nsqd.tcpPort);
    c.send(auth("granted"));
    const reply = await c.next(10_000);
    expect(reply?.type).toBe(FrameType.Response);
    expect(JSON.parse(reply!.text)).toEqual({ identity: "cli-tester", identity_url: "", permission_count: 1 });
    expect(authd.queries.slice(before)).toEqual(["granted"]);
    c.send(pub(ALLOWED, "one"));
    await c.expectResponse("OK", 10_000);

    await using other = await RawConnection.open(nsqd.tcpPort);
    other.send(auth("granted"));
    expect((await other.next(10_000))?.type).toBe(FrameType.Response);
    other.send(pub("elsewhere"));
    await expectFatal(other, 'E_UNAUTHORIZED AUTH failed for PUB on "elsewhere" ""');
    // Nothing was created by the refused publish.
    const stats = (await (await api("GET", "/stats?format=json")).json()) as { topics: { topic_name: string }[] };
    expect(stats.topics.map((t) => t.topic_name)).not.toContain("elsewhere");
  });

  it("D-TCP-AUTH-CHECK: once the ttl has passed, the next PUB queries the auth server again", async () => {
    await using c = await RawConnection.open(nsqd.tcpPort);
    c.send(auth("short-lived"));
    expect((await c.next(10_000))?.type).toBe(FrameType.Response);
    const afterAuth = authd.queries.filter((q) => q === "short-lived").length;
    expect(afterAuth).toBe(1);
    await sleep(TTL_SECONDS * 1000 + 200);
    c.send(pub(ALLOWED, "two"));
    await c.expectResponse("OK", 10_000);
    expect(authd.queries.filter((q) => q === "short-lived").length).toBe(afterAuth + 1);
  });

  it("D-BEH-STATSD / D-BEH-STATSD-NAMES: message_count arrives as N, then as the delta M", async () => {
    const topic = "st";
    const name = `test.topic.${topic}.message_count`;
    const counts = () => lines.filter((l) => l.name === name);
    const N = 5;
    const M = 3;
    // One /mpub: the topic and its N messages appear in the same push.
    const r1 = await api("POST", `/mpub?topic=${topic}`, Array.from({ length: N }, (_, i) => `a${i}`).join("\n"));
    expect(r1.status).toBe(200);
    await waitFor(() => (counts().length > 0 ? true : undefined), 10_000, `${name} in a statsd datagram`);
    expect(counts()[0]).toEqual({ name, value: N, type: "c" });
    const seen = counts().length;
    const r2 = await api("POST", `/mpub?topic=${topic}`, Array.from({ length: M }, (_, i) => `b${i}`).join("\n"));
    expect(r2.status).toBe(200);
    // Pushes in between carry 0; the first non-zero delta after is M.
    const later = await waitFor(
      () => {
        const nonZero = counts()
          .slice(seen)
          .filter((l) => l.value !== 0);
        return nonZero.length > 0 ? nonZero : undefined;
      },
      10_000,
      `a non-zero ${name} delta`,
    );
    expect(later[0]).toEqual({ name, value: M, type: "c" });
    // Gauges and bytes of the same topic, with the prefix taken verbatim.
    const depth = lines.filter((l) => l.name === `test.topic.${topic}.depth`);
    expect(depth.length).toBeGreaterThan(0);
    expect(depth.every((l) => l.type === "g")).toBe(true);
    expect(lines.find((l) => l.name === `test.topic.${topic}.message_bytes`)).toEqual({
      name: `test.topic.${topic}.message_bytes`,
      value: 2 * N,
      type: "c",
    });
    expect(lines.some((l) => l.name === "test.mem.gc_runs" && l.type === "c")).toBe(true);
    expect(lines.every((l) => l.name.startsWith("test."))).toBe(true);
    expect(badDatagrams).toEqual([]);
  });

  it("GET /metrics: Prometheus text format with the topic's depth", async () => {
    const topic = "prom";
    for (let i = 0; i < 4; i++) expect((await api("POST", `/pub?topic=${topic}`, `p${i}`)).status).toBe(200);
    const res = await api("GET", "/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const body = await res.text();
    expect(body.endsWith("\n")).toBe(true);
    const all = body.slice(0, -1).split("\n");
    // Every line is a comment or `name{labels} value`, strictly.
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (-?\d+(?:\.\d+)?(?:e[+-]?\d+)?|NaN|[+-]Inf)$/;
    for (const line of all) {
      if (line.startsWith("#")) expect(line, line).toMatch(/^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* \S/);
      else expect(line, line).toMatch(sample);
    }
    // HELP, then TYPE gauge, then the samples of nsq_topic_depth.
    const help = all.indexOf(all.find((l) => l.startsWith("# HELP nsq_topic_depth "))!);
    expect(help).toBeGreaterThanOrEqual(0);
    expect(all[help + 1]).toBe("# TYPE nsq_topic_depth gauge");
    const depthLines = all.filter((l) => l.startsWith(`nsq_topic_depth{topic="${topic}"`));
    expect(depthLines).toEqual([`nsq_topic_depth{topic="${topic}"} 4`]);
    expect(all.indexOf(depthLines[0]!)).toBeGreaterThan(help + 1);
    expect(all).toContain(`nsq_topic_messages_total{topic="${topic}"} 4`);
  });

  // Last: it stops the auth server.
  it("D-TCP-AUTH: with the auth server gone, AUTH -> E_AUTH_FAILED AUTH failed and nsqd keeps serving", async () => {
    await authd.close();
    await using c = await RawConnection.open(nsqd.tcpPort);
    c.send(auth("granted"));
    await expectFatal(c, "E_AUTH_FAILED AUTH failed");
    const ping = await api("GET", "/ping");
    expect(ping.status).toBe(200);
    expect(await ping.text()).toBe("OK");
    await using again = await RawConnection.open(nsqd.tcpPort);
    again.send("NOP\n");
    again.send(encodeIdentify({}));
    await again.expectResponse("OK", 10_000);
  });
});
