// Details of the wire that cross each runtime's socket and HTTP layers, checked
// against `nsq nsqd` and `nsq lookupd` as processes on every runtime with raw
// TCP (byte for byte) and raw HTTP (the request target exactly as written):
//   D-TCP-ERR-FORMAT / L-TCP-UNKNOWN  error texts echo the client's bytes as sent
//   D-TCP-MPUB                        MPUB creates its topic before reading the body
//   L-TCP-IDENTIFY                    an IDENTIFY cut short by EOF is answered before the close
//   X-HTTP-PARAMS                     an unencoded # in the target is part of the query
//   D-HTTP-PUB / D-HTTP-MPUB          size limits answer 413 with the JSON error, even to a
//                                     client still sending a long chunked body
//   D-HTTP-CONFIG                     values completed at start-up
//   X-PPROF                           both daemons answer /debug/pprof alike
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RUNTIMES } from "../helpers/cli.ts";
import { MAGIC_V1 } from "../../src/protocol/lookup.ts";
import { encodeMpub } from "../../src/protocol/frames.ts";
import { bytes } from "../protocol/chunking.ts";
import { ensureDist, parseRawResponse, rawExchange, startLookupdProcess, startNsqd, utf8, type LookupdProcess, type NsqdProcess } from "./harness.ts";

const MAX_MSG = 100;
const MAX_BODY = 1000;

/** One char per byte, so a string literal can spell bytes that are not UTF-8 ("\xff"). */
const raw = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const join = (...parts: (string | Uint8Array)[]): Uint8Array => bytes(...parts.map((p) => (typeof p === "string" ? raw(p) : p)));
const be32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, n);
  return b;
};
const u32 = (s: string, at: number): number =>
  ((s.charCodeAt(at) << 24) | (s.charCodeAt(at + 1) << 16) | (s.charCodeAt(at + 2) << 8) | s.charCodeAt(at + 3)) >>> 0;

/** V2 frames of a Latin-1 byte string: "<type>:<data>". */
function v2Frames(bytes: string): string[] {
  const out: string[] = [];
  for (let at = 0; at + 8 <= bytes.length; ) {
    const size = u32(bytes, at);
    out.push(`${u32(bytes, at + 4)}:${bytes.slice(at + 8, at + 4 + size)}`);
    at += 4 + size;
  }
  return out;
}

/** V1 (lookupd) replies of a Latin-1 byte string. */
function v1Replies(bytes: string): string[] {
  const out: string[] = [];
  for (let at = 0; at + 4 <= bytes.length; ) {
    const size = u32(bytes, at);
    out.push(bytes.slice(at + 4, at + 4 + size));
    at += 4 + size;
  }
  return out;
}

/**
 * A raw HTTP/1.1 request that asks the server to close after answering, or
 * (keepAlive) one that does not and is closed by us once the answer is in.
 */
function http(port: number, method: string, target: string, body?: Uint8Array, options: { chunked?: boolean; keepAlive?: boolean } = {}) {
  const framing = body === undefined ? "Content-Length: 0" : options.chunked ? "Transfer-Encoding: chunked" : `Content-Length: ${body.length}`;
  const connection = options.keepAlive ? "" : "Connection: close\r\n";
  const head = `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${connection}${framing}\r\n\r\n`;
  return rawExchange(port, head, body, { chunked: options.chunked, untilHttpResponse: options.keepAlive }).then((r) => ({
    ...parseRawResponse(r.received),
    error: r.error,
  }));
}

describe.each(RUNTIMES)("wire details through the socket and HTTP layers on %s", (rt) => {
  let nsqd: NsqdProcess;
  let lookupd: LookupdProcess;
  const started = Date.now();

  beforeAll(async () => {
    await ensureDist([rt]);
    [nsqd, lookupd] = await Promise.all([
      startNsqd(rt, { args: [`--max-msg-size=${MAX_MSG}`, `--max-body-size=${MAX_BODY}`, "--broadcast-address=10.1.2.3"] }),
      startLookupdProcess(rt, { args: ["--broadcast-address=127.0.0.1"] }),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([nsqd?.[Symbol.asyncDispose](), lookupd?.[Symbol.asyncDispose]()]);
    console.log(`[timing] wire details on ${rt}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  const tcp = async (port: number, bytes: Uint8Array) => (await rawExchange(port, bytes, undefined, { halfClose: true })).received;

  it("D-TCP-ERR-FORMAT: nsqd error frames echo the command's bytes, not U+FFFD", async () => {
    const sub = "SUB t c\n";
    const cases: [string, string[]][] = [
      ["\xff\xfeX bar\n", ["1:E_INVALID invalid command \xff\xfeX"]],
      ["DPUB t 1\xff\n", ["1:E_INVALID DPUB could not parse timeout 1\xff"]],
      ["SUB t\xff c\n", ['1:E_BAD_TOPIC SUB topic name "t\\xff" is not valid']],
      [`${sub}RDY \xc3\n`, ["0:OK", "1:E_INVALID RDY could not parse count \xc3"]],
      [`${sub}REQ 0123456789abcdef 5\xff\n`, ["0:OK", "1:E_INVALID REQ could not parse timeout 5\xff"]],
      // non-fatal: the connection stays until our EOF
      [`${sub}FIN 0123456789abcde\xff\n`, ["0:OK", "1:E_FIN_FAILED FIN 0123456789abcde\xff failed ID not in flight"]],
    ];
    for (const [command, frames] of cases) {
      expect(v2Frames(await tcp(nsqd.tcpPort, join("  V2", command))), JSON.stringify(command)).toEqual(frames);
    }
  });

  it("L-TCP-UNKNOWN, L-TCP-REGISTER: lookupd echoes the bytes as sent too", async () => {
    expect(v1Replies(await tcp(lookupd.tcpPort, join(MAGIC_V1, "\xff\xfeX\n")))).toEqual(["E_INVALID invalid command \xff\xfeX"]);
    const identity = JSON.stringify({ broadcast_address: "n", tcp_port: 1, http_port: 2, version: "1.3.0" });
    const replies = v1Replies(await tcp(lookupd.tcpPort, join(MAGIC_V1, "IDENTIFY\n", be32(identity.length), identity, "REGISTER t\xe9\n")));
    expect(replies.slice(1)).toEqual(["E_BAD_TOPIC REGISTER topic name 't\xe9' is not valid"]);
  });

  it("L-TCP-IDENTIFY: an IDENTIFY cut short by EOF gets E_BAD_BODY before the close", async () => {
    expect(v1Replies(await tcp(lookupd.tcpPort, join(MAGIC_V1, "IDENTIFY\n", be32(50), '{"broadcast')))).toEqual(["E_BAD_BODY IDENTIFY failed to read body"]);
    expect(v1Replies(await tcp(lookupd.tcpPort, join(MAGIC_V1, "IDENTIFY\n", "\0\0")))).toEqual(["E_BAD_BODY IDENTIFY failed to read body size"]);
    expect(v1Replies(await tcp(lookupd.tcpPort, join(MAGIC_V1, "PING\n", "IDENT")))).toEqual(["OK"]);
  });

  it("D-TCP-MPUB: a bad MPUB body still leaves its new topic behind, with no message", async () => {
    const topic = `mpub_bad_${rt}`;
    const frames = v2Frames(await tcp(nsqd.tcpPort, join("  V2", `MPUB ${topic}\n`, be32(8), be32(0), be32(0))));
    expect(frames).toEqual(["1:E_BAD_BODY MPUB invalid message count 0"]);
    const stats = JSON.parse((await http(nsqd.httpPort, "GET", `/stats?format=json&topic=${topic}`)).body);
    expect(stats.topics.map((t: { topic_name: string; message_count: number }) => [t.topic_name, t.message_count])).toEqual([[topic, 0]]);
    // A good MPUB still publishes.
    expect(v2Frames(await tcp(nsqd.tcpPort, join("  V2", encodeMpub(topic, [utf8("a"), utf8("b")]))))).toEqual(["0:OK"]);
  });

  it("X-HTTP-PARAMS: an unencoded # in the request target belongs to the topic or channel name", async () => {
    const topic = `h_${rt}#ephemeral`;
    expect((await http(nsqd.httpPort, "POST", `/topic/create?topic=${topic}`)).status).toBe(200);
    expect((await http(nsqd.httpPort, "POST", `/channel/create?topic=${topic}&channel=c#ephemeral`)).status).toBe(200);
    const stats = JSON.parse((await http(nsqd.httpPort, "GET", `/stats?format=json&topic=${topic}`)).body);
    expect(
      stats.topics.map((t: { topic_name: string; channels: { channel_name: string }[] }) => [t.topic_name, t.channels.map((c) => c.channel_name)]),
    ).toEqual([[topic, ["c#ephemeral"]]]);
    expect((await http(lookupd.httpPort, "POST", "/topic/create?topic=l#ephemeral")).status).toBe(200);
    expect(JSON.parse((await http(lookupd.httpPort, "GET", "/topics")).body).topics).toContain("l#ephemeral");
  });

  it("D-HTTP-PUB, D-HTTP-MPUB: size limits answer 413 with the JSON error, Content-Length or chunked", async () => {
    const json = (r: Awaited<ReturnType<typeof http>>) => ({
      status: r.status,
      type: r.headers.get("content-type"),
      nsq: r.headers.get("x-nsq-content-type"),
      body: r.body,
    });
    const tooBig = (message: string) => ({ status: 413, type: "application/json; charset=utf-8", nsq: "nsq; version=1.0", body: JSON.stringify({ message }) });
    // The client keeps sending a body thousands of times the limit while the answer comes back.
    const huge = new Uint8Array(3 * 1024 * 1024).fill(0x61);
    expect(json(await http(nsqd.httpPort, "POST", "/pub?topic=big", huge, { chunked: true }))).toEqual(tooBig("MSG_TOO_BIG"));
    expect(json(await http(nsqd.httpPort, "POST", "/pub?topic=big", huge, { chunked: true, keepAlive: true }))).toEqual(tooBig("MSG_TOO_BIG"));
    expect(json(await http(nsqd.httpPort, "POST", "/pub?topic=big", huge, { keepAlive: true }))).toEqual(tooBig("MSG_TOO_BIG"));
    expect(json(await http(nsqd.httpPort, "POST", "/pub?topic=big", new Uint8Array(MAX_MSG + 1).fill(0x61), { chunked: true }))).toEqual(tooBig("MSG_TOO_BIG"));
    expect(json(await http(nsqd.httpPort, "POST", "/pub?topic=big", new Uint8Array(MAX_MSG + 1).fill(0x61)))).toEqual(tooBig("MSG_TOO_BIG"));
    const lines = utf8("0123456789\n".repeat(300_000));
    expect(json(await http(nsqd.httpPort, "POST", "/mpub?topic=big", lines, { chunked: true }))).toEqual(tooBig("BODY_TOO_BIG"));
    expect(json(await http(nsqd.httpPort, "POST", "/mpub?topic=big", lines))).toEqual(tooBig("BODY_TOO_BIG"));
    expect(json(await http(nsqd.httpPort, "POST", "/mpub?topic=big", new Uint8Array(MAX_MSG + 1).fill(0x61), { chunked: true }))).toEqual(
      tooBig("MSG_TOO_BIG"),
    );
    // Within the limits the same connection style publishes.
    expect((await http(nsqd.httpPort, "POST", "/pub?topic=big", new Uint8Array(MAX_MSG).fill(0x61), { chunked: true })).body).toBe("OK");
  });

  it("D-HTTP-CONFIG: broadcast ports and the statsd prefix as the original completes them at start-up", async () => {
    expect((await http(nsqd.httpPort, "GET", "/config/broadcast_tcp_port")).body).toBe(String(nsqd.tcpPort));
    expect((await http(nsqd.httpPort, "GET", "/config/broadcast_http_port")).body).toBe(String(nsqd.httpPort));
    expect((await http(nsqd.httpPort, "GET", "/config/statsd_prefix")).body).toBe(`nsq.10_1_2_3_${nsqd.httpPort}.`);
  });

  it("X-PPROF: nsqd and lookupd answer the pprof paths alike", async () => {
    for (const path of ["/debug/pprof/goroutine", "/debug/pprof/profile", "/debug/pprof/cmdline", "/debug/pprof/heap"]) {
      const [a, b] = await Promise.all([http(nsqd.httpPort, "GET", path), http(lookupd.httpPort, "GET", path)]);
      expect([a.status, b.status], path).toEqual(path.endsWith("goroutine") || path.endsWith("profile") ? [501, 501] : [200, 200]);
      expect(a.headers.get("content-type"), path).toBe(b.headers.get("content-type"));
    }
  });
});
