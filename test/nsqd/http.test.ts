// nsqd's HTTP API (SPEC §3): every route of D-HTTP-*, every error row, the
// response conventions (X-HTTP-V1, X-HTTP-PLAIN, X-HTTP-ERRORS) and the bounded
// body reads, by calling the fetch handler directly against an in-process nsqd.
import { readFileSync } from "node:fs";
import * as os from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { createHttpHandler } from "../../src/nsqd/http.ts";
import { parseBinaryMpub } from "../../src/nsqd/http-mpub.ts";
import { parseQuery } from "../../src/common/query.ts";
import { NSQD_OPTIONS, type NsqdOptions } from "../../src/nsqd/options.ts";
import type { FetchHandler } from "../../src/runtime/types.ts";
import { defaultNsqdOptions, recordingLogger, startTestNsqd, type TestNsqd } from "./helpers.ts";

const NSQ_HEADER = "nsq; version=1.0";
const TLS_DIR = join(import.meta.dirname, "..", "fixtures", "tls");
/** nsqd refuses to require TLS without a certificate and key. */
const TLS_FILES = { tls_cert: join(TLS_DIR, "server.pem"), tls_key: join(TLS_DIR, "server.key") };
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

interface Call {
  status: number;
  text: string;
  headers: Headers;
}

type BodyInit = string | Uint8Array | ReadableStream<Uint8Array> | null;

async function call(handler: FetchHandler, method: string, path: string, body: BodyInit = null, headers: Record<string, string> = {}): Promise<Call> {
  const init: RequestInit & { duplex?: string } = { method, headers };
  if (body !== null) {
    init.body = body as RequestInit["body"];
    if (body instanceof ReadableStream) init.duplex = "half";
  }
  const res = await handler(new Request(`http://127.0.0.1${path}`, init), { remoteAddress: "127.0.0.1", remotePort: 5555 });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** A body stream without Content-Length (chunked), made of the given chunks. */
function chunked(...chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const parts = chunks.map((c) => (typeof c === "string" ? enc(c) : c));
  return new ReadableStream({
    pull(controller) {
      const next = parts.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(next);
    },
  });
}

/** An endless body that counts what was pulled from it. */
function endless(chunkSize: number, fill = 0x61): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        pulled += chunkSize;
        controller.enqueue(new Uint8Array(chunkSize).fill(fill));
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, pulled: () => pulled };
}

/** A body that yields `first` and then fails. */
function failing(first: string): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream({
    pull(controller) {
      if (!sent) {
        sent = true;
        controller.enqueue(enc(first));
      } else {
        controller.error(new Error("connection reset"));
      }
    },
  });
}

function expectV1Error(r: Call, status: number, message: string): void {
  expect({ status: r.status, text: r.text }).toEqual({ status, text: JSON.stringify({ message }) });
  expect(r.headers.get("content-type")).toBe("application/json; charset=utf-8");
  expect(r.headers.get("x-nsq-content-type")).toBe(NSQ_HEADER);
}

function expectV1Empty(r: Call): void {
  expect({ status: r.status, text: r.text }).toEqual({ status: 200, text: "" });
  expect(r.headers.get("x-nsq-content-type")).toBe(NSQ_HEADER);
  expect(r.headers.get("content-type")).toBeNull();
}

function expectOk(r: Call): void {
  expect({ status: r.status, text: r.text }).toEqual({ status: 200, text: "OK" });
  expect(r.headers.get("x-nsq-content-type")).toBe(NSQ_HEADER);
  expect(r.headers.get("content-type")).toBe("text/plain; charset=utf-8");
}

async function fixture(overrides: Partial<NsqdOptions> = {}, logger = recordingLogger()) {
  const d = await startTestNsqd(overrides, { logger });
  return Object.assign(d, { handler: createHttpHandler(d.nsqd), logger });
}

function metadataOf(d: TestNsqd): { topics: { name: string; paused: boolean; channels: { name: string; paused: boolean }[] | null }[] | null } {
  return JSON.parse(readFileSync(join(d.dataPath, "nsqd.dat"), "utf8"));
}

/** Make the next disk write fail (or succeed), which sets nsqd's health (D-BEH-HEALTH). */
/** A disk write through the daemon's committer that fails with `error` (or succeeds). */
function diskWrite(d: TestNsqd, error: string | null): void {
  d.nsqd.committer.dirty({ commit: () => (error === null ? null : new Error(error)), stuck: () => false });
  d.nsqd.committer.commit();
}

describe("query strings (X-HTTP-PARAMS)", () => {
  test("first value wins, + and %XX decode, bare keys are empty", () => {
    const q = parseQuery("topic=a%2Eb&topic=second&x=1+2&flag&&empty=")!;
    expect(q.get("topic")).toEqual(["a.b", "second"]);
    expect(q.get("x")).toEqual(["1 2"]);
    expect(q.get("flag")).toEqual([""]);
    expect(q.get("empty")).toEqual([""]);
  });

  test("a bad escape or a semicolon makes the query unparseable, as url.ParseQuery", () => {
    expect(parseQuery("topic=%zz")).toBeNull();
    expect(parseQuery("topic=a%2")).toBeNull();
    expect(parseQuery("topic=a;b=c")).toBeNull();
    expect(parseQuery("")).toEqual(new Map());
  });
});

describe("an unencoded # in the request target (X-HTTP-PARAMS)", () => {
  // Go takes the target as path and query; there is no fragment. Every runtime
  // hands the handler a Request whose URL keeps what follows the # as a fragment.
  test("belongs to the topic or channel name on every route that takes one", async () => {
    await using d = await fixture();
    expectOk(await call(d.handler, "POST", "/pub?topic=p#ephemeral", "x"));
    expect(d.nsqd.getExistingTopic("p#ephemeral")?.ephemeral).toBe(true);
    expect(d.nsqd.getExistingTopic("p")).toBeUndefined();
    expectOk(await call(d.handler, "POST", "/mpub?topic=m#ephemeral", "a\nb\n"));
    expect(d.nsqd.getExistingTopic("m#ephemeral")?.messageCount).toBe(2);
    expectV1Empty(await call(d.handler, "POST", "/topic/create?topic=e#ephemeral"));
    expect([...d.nsqd.topics.keys()].sort()).toEqual(["e#ephemeral", "m#ephemeral", "p#ephemeral"]);
    expectV1Empty(await call(d.handler, "POST", "/channel/create?topic=e#ephemeral&channel=c#ephemeral"));
    const topic = d.nsqd.getExistingTopic("e#ephemeral")!;
    expect(topic.channels.get("c#ephemeral")?.ephemeral).toBe(true);
    const stats = JSON.parse((await call(d.handler, "GET", "/stats?format=json&topic=e#ephemeral&channel=c#ephemeral")).text);
    expect(
      stats.topics.map((t: { topic_name: string; channels: { channel_name: string }[] }) => [t.topic_name, t.channels.map((c) => c.channel_name)]),
    ).toEqual([["e#ephemeral", ["c#ephemeral"]]]);
    expectV1Empty(await call(d.handler, "POST", "/channel/pause?topic=e#ephemeral&channel=c#ephemeral"));
    expect(topic.channels.get("c#ephemeral")!.paused).toBe(true);
    expectV1Empty(await call(d.handler, "POST", "/channel/unpause?topic=e#ephemeral&channel=c#ephemeral"));
    expectV1Empty(await call(d.handler, "POST", "/channel/empty?topic=e#ephemeral&channel=c#ephemeral"));
    expectV1Empty(await call(d.handler, "POST", "/channel/delete?topic=e#ephemeral&channel=c#ephemeral"));
    expect(topic.channels.size).toBe(0);
    expectV1Empty(await call(d.handler, "POST", "/topic/pause?topic=e#ephemeral"));
    expect(topic.paused).toBe(true);
    expectV1Empty(await call(d.handler, "POST", "/topic/unpause?topic=e#ephemeral"));
    expectV1Empty(await call(d.handler, "POST", "/topic/empty?topic=e#ephemeral"));
    expectV1Empty(await call(d.handler, "POST", "/topic/delete?topic=e#ephemeral"));
    expect(d.nsqd.getExistingTopic("e#ephemeral")).toBeUndefined();
  });

  test("an invalid name stays invalid, and a # before the ? is part of the path", async () => {
    await using d = await fixture();
    expectV1Error(await call(d.handler, "POST", "/topic/create?topic=e#"), 400, "INVALID_TOPIC");
    expectV1Error(await call(d.handler, "POST", "/topic/create?topic=bad#x"), 400, "INVALID_TOPIC");
    expectV1Error(await call(d.handler, "POST", "/topic/create#x?topic=a"), 404, "NOT_FOUND");
    expect(d.nsqd.topics.size).toBe(0);
    // The log line carries the target as sent, as the original's does.
    await call(d.handler, "POST", "/topic/create?topic=ok#ephemeral");
    expect(d.logger.lines.some((l) => / POST \/topic\/create\?topic=ok#ephemeral \(/.test(l))).toBe(true);
  });
});

describe("GET /ping (D-HTTP-PING, D-BEH-HEALTH)", () => {
  test("answers plain OK without the nsq content-type header, 500 NOK with the disk error", async () => {
    await using d = await fixture();
    const ok = await call(d.handler, "GET", "/ping");
    expect({ status: ok.status, text: ok.text }).toEqual({ status: 200, text: "OK" });
    expect(ok.headers.get("x-nsq-content-type")).toBeNull();
    diskWrite(d, "disk full");
    const bad = await call(d.handler, "GET", "/ping");
    expect({ status: bad.status, text: bad.text }).toEqual({ status: 500, text: "NOK - disk full" });
    expect(bad.headers.get("x-nsq-content-type")).toBeNull();
    const stats = JSON.parse((await call(d.handler, "GET", "/stats?format=json")).text);
    expect(stats.health).toBe("NOK - disk full");
    diskWrite(d, null);
    expect((await call(d.handler, "GET", "/ping")).text).toBe("OK");
  });
});

describe("GET /info (D-HTTP-INFO-JSON)", () => {
  test("reports the keys in the original's order with durations in ns and the real ports", async () => {
    await using d = await fixture({ broadcast_address: "bcast.example", topology_zone: "z1", topology_region: "r1", max_deflate_level: 7 });
    const r = await call(d.handler, "GET", "/info");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(r.headers.get("x-nsq-content-type")).toBe(NSQ_HEADER);
    const info = JSON.parse(r.text);
    expect(Object.keys(info)).toEqual([
      "version",
      "broadcast_address",
      "hostname",
      "http_port",
      "tcp_port",
      "start_time",
      "max_heartbeat_interval",
      "max_output_buffer_size",
      "max_output_buffer_timeout",
      "max_deflate_level",
      "topology_zone",
      "topology_region",
    ]);
    expect(info).toEqual({
      version: "1.3.0",
      broadcast_address: "bcast.example",
      hostname: os.hostname(),
      http_port: -1,
      tcp_port: d.tcpPort,
      start_time: d.nsqd.startTime,
      max_heartbeat_interval: 60_000_000_000,
      max_output_buffer_size: 65536,
      max_output_buffer_timeout: 30_000_000_000,
      max_deflate_level: 7,
      topology_zone: "z1",
      topology_region: "r1",
    });
    expect(d.tcpPort).toBeGreaterThan(0);
  });

  test("broadcast_address defaults to the hostname", async () => {
    await using d = await fixture();
    expect(JSON.parse((await call(d.handler, "GET", "/info")).text).broadcast_address).toBe(os.hostname());
  });
});

describe("POST /pub (D-HTTP-PUB, D-HTTP-PUB-ORDER)", () => {
  test("publishes the body and /stats counts it", async () => {
    await using d = await fixture();
    expectOk(await call(d.handler, "POST", "/pub?topic=t1", "hello"));
    expectOk(await call(d.handler, "POST", "/pub?topic=t1", enc("world!")));
    const topic = d.nsqd.getExistingTopic("t1")!;
    expect(topic.depth()).toBe(2);
    const stats = JSON.parse((await call(d.handler, "GET", "/stats?format=json")).text);
    expect(stats.topics).toHaveLength(1);
    expect(stats.topics[0]).toMatchObject({ topic_name: "t1", depth: 2, message_count: 2, message_bytes: 11, paused: false });
  });

  test("delivers the exact body bytes to a channel", async () => {
    await using d = await fixture();
    const channel = d.nsqd.getTopic("bytes").getChannel("c");
    const body = new Uint8Array(256).map((_, i) => i);
    expectOk(await call(d.handler, "POST", "/pub?topic=bytes", body));
    expect(channel.depth()).toBe(1);
    const delivered: Uint8Array[] = [];
    channel.addConsumer({
      id: 1,
      sampleRate: 0,
      msgTimeout: 60_000,
      topologyZone: "",
      topologyRegion: "",
      isReady: () => delivered.length === 0,
      deliver: (m) => void delivered.push(m.body),
      inFlightRemoved() {},
      channelGone() {},
    });
    channel.dispatch();
    expect(delivered).toEqual([body]);
  });

  test("Content-Length over --max-msg-size is refused before reading (413 MSG_TOO_BIG)", async () => {
    await using d = await fixture({ max_msg_size: 10 });
    const { stream, pulled } = endless(4);
    const r = await call(d.handler, "POST", "/pub?topic=t", stream, { "content-length": "11" });
    expectV1Error(r, 413, "MSG_TOO_BIG");
    expect(pulled()).toBe(0);
    expect(d.nsqd.getExistingTopic("t")).toBeUndefined();
  });

  test("a chunked body is read up to max+1 bytes and no further (413 MSG_TOO_BIG)", async () => {
    await using d = await fixture({ max_msg_size: 10 });
    const { stream, pulled } = endless(3);
    expectV1Error(await call(d.handler, "POST", "/pub?topic=t", stream), 413, "MSG_TOO_BIG");
    expect(pulled()).toBeLessThanOrEqual(12);
    expectOk(await call(d.handler, "POST", "/pub?topic=t", chunked("12345", "67890")));
    expectV1Error(await call(d.handler, "POST", "/pub?topic=t", chunked("12345", "678901")), 413, "MSG_TOO_BIG");
  });

  test("a body read error is 500 INTERNAL_ERROR", async () => {
    await using d = await fixture();
    expectV1Error(await call(d.handler, "POST", "/pub?topic=t", failing("abc")), 500, "INTERNAL_ERROR");
  });

  test("error rows in the original's order", async () => {
    await using d = await fixture({ max_msg_size: 10, max_req_timeout: 1000 });
    const h = d.handler;
    // body checks come before the query
    expectV1Error(await call(h, "POST", "/pub", "x".repeat(11)), 413, "MSG_TOO_BIG");
    expectV1Error(await call(h, "POST", "/pub?topic=%zz"), 400, "MSG_EMPTY");
    expectV1Error(await call(h, "POST", "/pub?topic=%zz", "m"), 400, "INVALID_REQUEST");
    expectV1Error(await call(h, "POST", "/pub?topic=a;b", "m"), 400, "INVALID_REQUEST");
    expectV1Error(await call(h, "POST", "/pub?defer=5", "m"), 400, "MISSING_ARG_TOPIC");
    expectV1Error(await call(h, "POST", "/pub?topic=a+b", "m"), 400, "INVALID_TOPIC");
    expectV1Error(await call(h, "POST", `/pub?topic=${"x".repeat(65)}`, "m"), 400, "INVALID_TOPIC");
    for (const bad of ["x", "1.5", "-1", "1001", "", "0x10"]) {
      expectV1Error(await call(h, "POST", `/pub?topic=deferred&defer=${bad}`, "m"), 400, "INVALID_DEFER");
    }
    // the topic is created before the defer is checked
    expect(d.nsqd.getExistingTopic("deferred")).toBeDefined();
    expect(d.nsqd.getExistingTopic("deferred")!.depth()).toBe(0);
  });

  test("?defer puts the message in each channel's deferred queue (D-HTTP-PUB-DEFER)", async () => {
    await using d = await fixture({ max_req_timeout: 1000 });
    const channel = d.nsqd.getTopic("later").getChannel("c");
    expectOk(await call(d.handler, "POST", "/pub?topic=later&defer=1000", "m"));
    expectOk(await call(d.handler, "POST", "/pub?topic=later&defer=0", "n"));
    expect(channel.deferredCount()).toBe(1);
    expect(channel.depth()).toBe(1);
  });

  test("a topic that is exiting answers 503 EXITING", async () => {
    await using d = await fixture();
    d.nsqd.getTopic("gone").exiting = true;
    expectV1Error(await call(d.handler, "POST", "/pub?topic=gone", "m"), 503, "EXITING");
  });
});

function binaryBody(messages: (string | Uint8Array)[], count = messages.length): Uint8Array {
  const parts = messages.map((m) => (typeof m === "string" ? enc(m) : m));
  const out = new Uint8Array(4 + parts.reduce((n, p) => n + 4 + p.length, 0));
  const view = new DataView(out.buffer);
  view.setInt32(0, count);
  let offset = 4;
  for (const p of parts) {
    view.setInt32(offset, p.length);
    out.set(p, offset + 4);
    offset += 4 + p.length;
  }
  return out;
}

function drainTopic(d: TestNsqd, name: string): string[] {
  const channel = d.nsqd.getTopic(name).getChannel("drain");
  const bodies: string[] = [];
  channel.addConsumer({
    id: 99,
    sampleRate: 0,
    msgTimeout: 60_000,
    topologyZone: "",
    topologyRegion: "",
    isReady: () => true,
    deliver: (m) => void bodies.push(dec(m.body)),
    inFlightRemoved() {},
    channelGone() {},
  });
  channel.dispatch();
  return bodies;
}

describe("POST /mpub (D-HTTP-MPUB, D-HTTP-MPUB-ORDER)", () => {
  test("text mode splits on \\n, keeps a trailing \\r, skips empty lines (D-HTTP-MPUB-TEXT)", async () => {
    await using d = await fixture();
    expectOk(await call(d.handler, "POST", "/mpub?topic=m", "a\nb\n\nc\r\n\nlast"));
    expect(drainTopic(d, "m")).toEqual(["a", "b", "c\r", "last"]);
    expect(d.nsqd.getExistingTopic("m")!.messageCount).toBe(4);
  });

  test("text mode: a body without a non-empty line is 200 OK and publishes nothing (Q)", async () => {
    await using d = await fixture();
    expectOk(await call(d.handler, "POST", "/mpub?topic=none", "\n\n"));
    expectOk(await call(d.handler, "POST", "/mpub?topic=none"));
    expect(d.nsqd.getExistingTopic("none")!.messageCount).toBe(0);
  });

  test("text mode limits: line over max-msg-size, body over max-body-size, read error", async () => {
    await using d = await fixture({ max_msg_size: 4, max_body_size: 12 });
    const h = d.handler;
    expectV1Error(await call(h, "POST", "/mpub?topic=m", "ab\nabcde\n"), 413, "MSG_TOO_BIG");
    expectV1Error(await call(h, "POST", "/mpub?topic=m", "x".repeat(13)), 413, "BODY_TOO_BIG");
    expectV1Error(await call(h, "POST", "/mpub?topic=m", chunked("abcd\nabcd\n", "abc")), 413, "BODY_TOO_BIG");
    // exactly max-body-size bytes is fine
    expectOk(await call(h, "POST", "/mpub?topic=m", chunked("abcd\nabcd\n", "ab")));
    // a long line that ends before the limit is MSG_TOO_BIG, one that reaches it BODY_TOO_BIG
    expectV1Error(await call(h, "POST", "/mpub?topic=m", chunked("abcdefghijk")), 413, "MSG_TOO_BIG");
    expectV1Error(await call(h, "POST", "/mpub?topic=m", chunked("abcdefghijklm")), 413, "BODY_TOO_BIG");
    const { stream, pulled } = endless(5, 0x0a);
    expectV1Error(await call(h, "POST", "/mpub?topic=m", stream), 413, "BODY_TOO_BIG");
    expect(pulled()).toBeLessThanOrEqual(15);
    expectV1Error(await call(h, "POST", "/mpub?topic=m", failing("ab\n")), 500, "INTERNAL_ERROR");
    expect(d.nsqd.getExistingTopic("m")!.messageCount).toBe(3);
  });

  test("Content-Length over max-body-size comes first; then the topic, which is created even if the body fails (Q)", async () => {
    await using d = await fixture({ max_msg_size: 4, max_body_size: 12 });
    const h = d.handler;
    const big = "x".repeat(13);
    expectV1Error(await call(h, "POST", "/mpub?topic=bad+name", big, { "content-length": "13" }), 413, "BODY_TOO_BIG");
    expectV1Error(await call(h, "POST", "/mpub", "a\n"), 400, "MISSING_ARG_TOPIC");
    expectV1Error(await call(h, "POST", "/mpub?topic=bad+name", "a\n"), 400, "INVALID_TOPIC");
    expectV1Error(await call(h, "POST", "/mpub?topic=%", "a\n"), 400, "INVALID_REQUEST");
    expectV1Error(await call(h, "POST", "/mpub?topic=created", "toolong\n"), 413, "MSG_TOO_BIG");
    expect(d.nsqd.getExistingTopic("created")).toBeDefined();
  });

  test("binary mode: [num]{[size][bytes]}, trailing bytes ignored (D-HTTP-MPUB-BINARY)", async () => {
    await using d = await fixture();
    const body = new Uint8Array([...binaryBody(["one", "two", "three"]), 1, 2, 3]);
    expectOk(await call(d.handler, "POST", "/mpub?topic=b&binary=true", body));
    expect(drainTopic(d, "b")).toEqual(["one", "two", "three"]);
  });

  test("binary param: false/0 mean text, true/1 binary, anything else binary with a warning", async () => {
    const logger = recordingLogger();
    await using d = await fixture({}, logger);
    const bin = binaryBody(["x"]);
    for (const v of ["true", "1", "yes"]) expectOk(await call(d.handler, "POST", `/mpub?topic=p${v}&binary=${v}`, bin));
    for (const v of ["true", "1", "yes"]) expect(d.nsqd.getExistingTopic(`p${v}`)!.messageCount).toBe(1);
    expect(logger.lines).toContain("WARNING: deprecated value 'yes' used for /mpub binary param");
    for (const v of ["false", "0"]) {
      expectOk(await call(d.handler, "POST", `/mpub?topic=q${v}&binary=${v}`, "a\nb\n"));
      expect(d.nsqd.getExistingTopic(`q${v}`)!.messageCount).toBe(2);
    }
  });

  test("binary mode errors are 413 with the TCP code minus E_", async () => {
    await using d = await fixture({ max_msg_size: 8, max_body_size: 64 });
    const h = d.handler;
    const post = (body: Uint8Array | ReadableStream<Uint8Array>) => call(h, "POST", "/mpub?topic=b&binary=1", body);
    expectV1Error(await post(new Uint8Array([0, 0])), 413, "BAD_BODY"); // count cut short
    expectV1Error(await post(binaryBody([], 0)), 413, "BAD_BODY"); // zero messages
    expectV1Error(await post(binaryBody([], -1)), 413, "BAD_BODY");
    expectV1Error(await post(binaryBody(["a"], 13)), 413, "BAD_BODY"); // > (64-4)/5 = 12
    expectV1Error(await post(binaryBody(["a"], 2)), 413, "BAD_MESSAGE"); // second size missing
    expectV1Error(await post(binaryBody([""])), 413, "BAD_MESSAGE"); // size 0
    expectV1Error(await post(binaryBody(["123456789"])), 413, "BAD_MESSAGE"); // > max-msg-size
    expectV1Error(await post(binaryBody(["abcd"]).subarray(0, 10)), 413, "BAD_MESSAGE"); // body cut short
    expectV1Error(await post(failing("\0\0\0\x02")), 413, "BAD_MESSAGE"); // read error mid-way
    expect(d.nsqd.getExistingTopic("b")!.messageCount).toBe(0);
    // 12 messages of 8 bytes = 148 bytes > 64: cut off at max-body-size even when chunked (deliberate)
    const big = binaryBody(Array.from({ length: 12 }, () => "12345678"));
    expectV1Error(await post(chunked(big)), 413, "BODY_TOO_BIG");
    const { stream, pulled } = endless(4);
    const r = await call(h, "POST", "/mpub?topic=b&binary=1", stream, { "content-length": "65" });
    expectV1Error(r, 413, "BODY_TOO_BIG"); // by Content-Length, before reading
    expect(pulled()).toBe(0);
  });

  test("binary parse gives the same messages for the body whole, byte by byte and split at every offset", async () => {
    const body = binaryBody(["alpha", "b", "gamma-gamma"]);
    const expected = ["alpha", "b", "gamma-gamma"];
    const splits: Uint8Array[][] = [[body], Array.from(body, (b) => new Uint8Array([b]))];
    for (let i = 1; i < body.length; i++) splits.push([body.subarray(0, i), body.subarray(i)]);
    for (const parts of splits) {
      const parsed = await parseBinaryMpub(chunked(...parts.map((p) => p.slice())), 1024, 4096);
      expect(Array.isArray(parsed) ? parsed.map(dec) : parsed).toEqual(expected);
    }
    // and every truncation fails with the field it was reading
    for (let i = 0; i < body.length; i++) {
      const parsed = await parseBinaryMpub(chunked(body.slice(0, i)), 1024, 4096);
      expect(Array.isArray(parsed), `cut at ${i}`).toBe(false);
      expect((parsed as { code: string }).code).toBe(i < 4 ? "BAD_BODY" : "BAD_MESSAGE");
    }
    await using d = await fixture();
    expectOk(await call(d.handler, "POST", "/mpub?topic=split&binary=true", chunked(body.subarray(0, 7), body.subarray(7))));
    expect(drainTopic(d, "split")).toEqual(expected);
  });

  test("binary parse error texts are the TCP protocol's (D-TCP-MPUB)", async () => {
    const texts = async (body: Uint8Array) => {
      const r = await parseBinaryMpub(chunked(body), 8, 64);
      return Array.isArray(r) ? "ok" : `${r.code} ${r.text}`;
    };
    expect(await texts(new Uint8Array([0]))).toBe("BAD_BODY MPUB failed to read message count");
    expect(await texts(binaryBody([], 13))).toBe("BAD_BODY MPUB invalid message count 13");
    expect(await texts(binaryBody(["a"], 2))).toBe("BAD_MESSAGE MPUB failed to read message(1) body size");
    expect(await texts(binaryBody(["a", ""]))).toBe("BAD_MESSAGE MPUB invalid message(1) body size 0");
    expect(await texts(binaryBody(["123456789"]))).toBe("BAD_MESSAGE MPUB message too big 9 > 8");
    expect(await texts(binaryBody(["abc"]).subarray(0, 9))).toBe("BAD_MESSAGE MPUB failed to read message body");
  });

  test("a topic that is exiting answers 503 EXITING", async () => {
    await using d = await fixture();
    d.nsqd.getTopic("gone").exiting = true;
    expectV1Error(await call(d.handler, "POST", "/mpub?topic=gone", "a\n"), 503, "EXITING");
  });
});

describe("topic routes (D-HTTP-TOPIC-*)", () => {
  test("create: empty 200, topic exists and is persisted; error rows", async () => {
    await using d = await fixture();
    expectV1Empty(await call(d.handler, "POST", "/topic/create?topic=made"));
    expect(d.nsqd.getExistingTopic("made")).toBeDefined();
    expect(metadataOf(d).topics!.map((t) => t.name)).toEqual(["made"]);
    expectV1Error(await call(d.handler, "POST", "/topic/create?topic=%g0"), 400, "INVALID_REQUEST");
    expectV1Error(await call(d.handler, "POST", "/topic/create"), 400, "MISSING_ARG_TOPIC");
    expectV1Error(await call(d.handler, "POST", "/topic/create?topic=no!"), 400, "INVALID_TOPIC");
  });

  test("delete: removes topic and metadata entry; unknown or invalid names are 404", async () => {
    await using d = await fixture();
    d.nsqd.getTopic("keep");
    d.nsqd.getTopic("drop").getChannel("c");
    expectV1Empty(await call(d.handler, "POST", "/topic/delete?topic=drop", "ignored body"));
    expect(d.nsqd.getExistingTopic("drop")).toBeUndefined();
    expect(metadataOf(d).topics!.map((t) => t.name)).toEqual(["keep"]);
    expectV1Error(await call(d.handler, "POST", "/topic/delete?topic=drop"), 404, "TOPIC_NOT_FOUND");
    expectV1Error(await call(d.handler, "POST", "/topic/delete?topic=no!"), 404, "TOPIC_NOT_FOUND");
    expectV1Error(await call(d.handler, "POST", "/topic/delete"), 400, "MISSING_ARG_TOPIC");
    expectV1Error(await call(d.handler, "POST", "/topic/delete?a;b"), 400, "INVALID_REQUEST");
    expectV1Error(await call(d.handler, "POST", "/topic/delete?topic=keep", failing("x")), 400, "INVALID_REQUEST");
  });

  test("empty: drops the topic's queue, channels keep theirs (D-BEH-EMPTY); error rows", async () => {
    await using d = await fixture();
    const t = d.nsqd.getTopic("e");
    t.pause();
    t.publish(enc("1"));
    t.publish(enc("2"));
    expect(t.depth()).toBe(2);
    expectV1Empty(await call(d.handler, "POST", "/topic/empty?topic=e"));
    expect(t.depth()).toBe(0);
    expectV1Error(await call(d.handler, "POST", "/topic/empty"), 400, "MISSING_ARG_TOPIC");
    expectV1Error(await call(d.handler, "POST", "/topic/empty?topic=no!"), 400, "INVALID_TOPIC");
    expectV1Error(await call(d.handler, "POST", "/topic/empty?topic=nope"), 404, "TOPIC_NOT_FOUND");
    expectV1Error(await call(d.handler, "POST", "/topic/empty?topic=%"), 400, "INVALID_REQUEST");
    t.empty = () => {
      throw new Error("cannot remove file");
    };
    expectV1Error(await call(d.handler, "POST", "/topic/empty?topic=e"), 500, "INTERNAL_ERROR");
  });

  test("pause and unpause: flag in stats, persisted at once (D-BEH-PAUSE); error rows", async () => {
    await using d = await fixture();
    const t = d.nsqd.getTopic("p");
    expectV1Empty(await call(d.handler, "POST", "/topic/pause?topic=p"));
    expect(t.paused).toBe(true);
    expect(metadataOf(d).topics).toEqual([{ name: "p", paused: true, channels: null }]);
    const stats = JSON.parse((await call(d.handler, "GET", "/stats?format=json")).text);
    expect(stats.topics[0].paused).toBe(true);
    expectV1Empty(await call(d.handler, "POST", "/topic/unpause?topic=p"));
    expect(t.paused).toBe(false);
    expect(metadataOf(d).topics).toEqual([{ name: "p", paused: false, channels: null }]);
    for (const route of ["/topic/pause", "/topic/unpause"]) {
      expectV1Error(await call(d.handler, "POST", route), 400, "MISSING_ARG_TOPIC");
      expectV1Error(await call(d.handler, "POST", `${route}?topic=nope`), 404, "TOPIC_NOT_FOUND");
      expectV1Error(await call(d.handler, "POST", `${route}?topic=no!`), 404, "TOPIC_NOT_FOUND");
      expectV1Error(await call(d.handler, "POST", `${route}?%`), 400, "INVALID_REQUEST");
    }
    t.pause = () => {
      throw new Error("boom");
    };
    expectV1Error(await call(d.handler, "POST", "/topic/pause?topic=p"), 500, "INTERNAL_ERROR");
  });
});

describe("channel routes (D-HTTP-CHANNEL-*)", () => {
  const routes = ["create", "delete", "empty", "pause", "unpause"];

  test("shared argument errors for every channel route", async () => {
    await using d = await fixture();
    d.nsqd.getTopic("t");
    for (const r of routes) {
      const path = `/channel/${r}`;
      expectV1Error(await call(d.handler, "POST", `${path}?topic=t&channel=%`), 400, "INVALID_REQUEST");
      expectV1Error(await call(d.handler, "POST", `${path}?channel=c`), 400, "MISSING_ARG_TOPIC");
      expectV1Error(await call(d.handler, "POST", `${path}?topic=t!&channel=c`), 400, "INVALID_ARG_TOPIC");
      expectV1Error(await call(d.handler, "POST", `${path}?topic=t`), 400, "MISSING_ARG_CHANNEL");
      expectV1Error(await call(d.handler, "POST", `${path}?topic=t&channel=c!`), 400, "INVALID_ARG_CHANNEL");
      expectV1Error(await call(d.handler, "POST", `${path}?topic=nope&channel=c`), 404, "TOPIC_NOT_FOUND");
      if (r !== "create") expectV1Error(await call(d.handler, "POST", `${path}?topic=t&channel=nope`), 404, "CHANNEL_NOT_FOUND");
    }
    expect(d.nsqd.getExistingTopic("nope")).toBeUndefined();
  });

  test("create and delete change the channel set and the metadata file", async () => {
    await using d = await fixture();
    d.nsqd.getTopic("t");
    expectV1Empty(await call(d.handler, "POST", "/channel/create?topic=t&channel=c1"));
    expectV1Empty(await call(d.handler, "POST", "/channel/create?topic=t&channel=c2"));
    expectV1Empty(await call(d.handler, "POST", "/channel/create?topic=t&channel=c1")); // idempotent
    expect([...d.nsqd.getExistingTopic("t")!.channels.keys()]).toEqual(["c1", "c2"]);
    expect(metadataOf(d).topics![0]!.channels!.map((c) => c.name)).toEqual(["c1", "c2"]);
    expectV1Empty(await call(d.handler, "POST", "/channel/delete?topic=t&channel=c1"));
    expect([...d.nsqd.getExistingTopic("t")!.channels.keys()]).toEqual(["c2"]);
    expect(metadataOf(d).topics![0]!.channels!.map((c) => c.name)).toEqual(["c2"]);
    expectV1Error(await call(d.handler, "POST", "/channel/delete?topic=t&channel=c1"), 404, "CHANNEL_NOT_FOUND");
  });

  test("empty drops the channel's messages (D-BEH-EMPTY); failure is 500", async () => {
    await using d = await fixture();
    const t = d.nsqd.getTopic("t");
    const c = t.getChannel("c");
    t.publish(enc("a"));
    t.publish(enc("b"), 60_000);
    expect(c.depth() + c.deferredCount()).toBe(2);
    expectV1Empty(await call(d.handler, "POST", "/channel/empty?topic=t&channel=c"));
    expect(c.depth()).toBe(0);
    expect(c.deferredCount()).toBe(0);
    c.empty = () => {
      throw new Error("io");
    };
    expectV1Error(await call(d.handler, "POST", "/channel/empty?topic=t&channel=c"), 500, "INTERNAL_ERROR");
  });

  test("pause and unpause persist the flag; failure is 500", async () => {
    await using d = await fixture();
    const c = d.nsqd.getTopic("t").getChannel("c");
    expectV1Empty(await call(d.handler, "POST", "/channel/pause?topic=t&channel=c"));
    expect(c.paused).toBe(true);
    expect(metadataOf(d).topics![0]!.channels).toEqual([{ name: "c", paused: true }]);
    const stats = JSON.parse((await call(d.handler, "GET", "/stats?format=json")).text);
    expect(stats.topics[0].channels[0].paused).toBe(true);
    expectV1Empty(await call(d.handler, "POST", "/channel/unpause?topic=t&channel=c"));
    expect(c.paused).toBe(false);
    expect(metadataOf(d).topics![0]!.channels).toEqual([{ name: "c", paused: false }]);
    c.unpause = () => {
      throw new Error("boom");
    };
    expectV1Error(await call(d.handler, "POST", "/channel/unpause?topic=t&channel=c"), 500, "INTERNAL_ERROR");
  });
});

/** What GET /config should answer for an option value, worked out independently of the handler. */
function expectedConfig(key: string, type: string, value: unknown, d: TestNsqd): { json: unknown } | string {
  // Completed at start-up from the bound ports (this fixture has no HTTP listener: 0).
  if (key === "broadcast_tcp_port") return { json: d.tcpPort };
  if (key === "broadcast_http_port") return { json: 0 };
  if (key === "statsd_prefix") return `nsq.${os.hostname().replace(/[.:]/g, "_")}_0.`;
  const levels: Record<string, number> = { debug: 1, info: 2, warn: 3, error: 4, fatal: 5 };
  if (key === "log_level") return { json: levels[String(value)] };
  if (key === "tls_required") return { json: value === "true" ? 2 : value === "tcp-https" ? 1 : 0 };
  if (key === "tls_min_version") return { json: ({ "tls1.0": 769, "tls1.1": 770, "tls1.2": 771, "tls1.3": 772 } as Record<string, number>)[String(value)] };
  if (key === "broadcast_address") return String(value) || os.hostname();
  if (type === "string") return String(value);
  if (type === "duration") return { json: Number(value) * 1_000_000 };
  return { json: value };
}

describe("/config/:opt (D-HTTP-CONFIG)", () => {
  test("GET answers every option by config key: strings raw, the rest JSON, durations in ns", async () => {
    await using d = await fixture({ e2e_processing_latency_percentiles: [0.99, 0.5], nsqlookupd_tcp_addresses: ["l1:4160"], tls_min_version: "tls1.2" });
    const keys = NSQD_OPTIONS.filter((s) => s.key !== null);
    expect(keys.length).toBeGreaterThan(50);
    for (const spec of keys) {
      const key = spec.key!;
      const r = await call(d.handler, "GET", `/config/${key}`);
      expect(r.status, key).toBe(200);
      expect(r.headers.get("x-nsq-content-type"), key).toBe(NSQ_HEADER);
      const want = expectedConfig(key, spec.type, (d.nsqd.options as unknown as Record<string, unknown>)[key], d);
      if (typeof want === "string") {
        expect(r.text, key).toBe(want);
        expect(r.headers.get("content-type"), key).not.toBe("application/json; charset=utf-8");
      } else {
        expect(r.headers.get("content-type"), key).toBe("application/json; charset=utf-8");
        expect(JSON.parse(r.text), key).toEqual(want.json);
      }
    }
    // spot checks against the original's answers
    const get = async (k: string) => (await call(d.handler, "GET", `/config/${k}`)).text;
    expect(await get("mem_queue_size")).toBe("10000");
    expect(await get("msg_timeout")).toBe("60000000000");
    expect(await get("min_output_buffer_timeout")).toBe("25000000");
    expect(await get("log_level")).toBe("2");
    expect(await get("tcp_address")).toBe("127.0.0.1:0");
    expect(await get("tls_required")).toBe("0");
    expect(await get("tls_min_version")).toBe("771");
    expect(await get("nsqlookupd_tcp_addresses")).toBe('["l1:4160"]');
    expect(await get("e2e_processing_latency_percentiles")).toBe("[0.99,0.5]");
    expect(await get("snappy")).toBe("true");
    expect(await get("id")).toBe("1");
  });

  test("values the original completes at start-up: broadcast ports and the statsd prefix", async () => {
    // Not given: the bound ports, and the prefix expanded with the broadcast address and HTTP port.
    await using d = await fixture({ http_address: "127.0.0.1:0", broadcast_address: "10.1.2.3" });
    const get = async (k: string) => (await call(d.handler, "GET", `/config/${k}`)).text;
    expect(d.httpPort).toBeGreaterThan(0);
    expect(await get("broadcast_tcp_port")).toBe(String(d.tcpPort));
    expect(await get("broadcast_http_port")).toBe(String(d.httpPort));
    expect(await get("statsd_prefix")).toBe(`nsq.10_1_2_3_${d.httpPort}.`);
    // Given: kept as they are; `%s` anywhere in the prefix, and a final "." added.
    await using g = await fixture({
      http_address: "127.0.0.1:0",
      broadcast_address: "h.example",
      broadcast_tcp_port: 4150,
      broadcast_http_port: 4151,
      statsd_prefix: "app.%s.nsqd",
    });
    const getG = async (k: string) => (await call(g.handler, "GET", `/config/${k}`)).text;
    expect(await getG("broadcast_tcp_port")).toBe("4150");
    expect(await getG("broadcast_http_port")).toBe("4151");
    expect(await getG("statsd_prefix")).toBe("app.h_example_4151.nsqd.");
    // An empty prefix stays empty.
    await using e = await fixture({ statsd_prefix: "" });
    expect((await call(e.handler, "GET", "/config/statsd_prefix")).text).toBe("");
  });

  test("tls_required reports 0/1/2", async () => {
    for (const [value, n] of [
      ["false", "0"],
      ["tcp-https", "1"],
      ["true", "2"],
    ] as const) {
      await using d = await fixture({ tls_required: value, ...TLS_FILES });
      const handler = createHttpHandler(d.nsqd, { tls: true });
      expect((await call(handler, "GET", "/config/tls_required")).text).toBe(n);
    }
  });

  test("unknown keys and flags without a config key are 400 INVALID_OPTION", async () => {
    await using d = await fixture();
    expectV1Error(await call(d.handler, "GET", "/config/nope"), 400, "INVALID_OPTION");
    expectV1Error(await call(d.handler, "GET", "/config/verbose"), 400, "INVALID_OPTION");
    expectV1Error(await call(d.handler, "GET", "/config/lookupd-tcp-address"), 400, "INVALID_OPTION");
  });

  test("PUT log_level takes a level name, changes the logger and answers the number", async () => {
    const levels: string[] = [];
    const logger = Object.assign(recordingLogger(), { setLevel: (l: string) => void levels.push(l) });
    await using d = await startTestNsqd({}, { logger });
    const handler = createHttpHandler(d.nsqd);
    let r = await call(handler, "PUT", "/config/log_level", "debug");
    expect({ status: r.status, text: r.text }).toEqual({ status: 200, text: "1" });
    expect(d.nsqd.options.log_level).toBe("debug");
    r = await call(handler, "PUT", "/config/log_level", "WARN");
    expect(r.text).toBe("3");
    expect(levels).toEqual(["debug", "warn"]);
    expect((await call(handler, "GET", "/config/log_level")).text).toBe("3");
    expectV1Error(await call(handler, "PUT", "/config/log_level", "loud"), 400, "INVALID_VALUE");
    expect(d.nsqd.options.log_level).toBe("warn");
  });

  test("PUT nsqlookupd_tcp_addresses takes a JSON array of strings", async () => {
    await using d = await fixture();
    const r = await call(d.handler, "PUT", "/config/nsqlookupd_tcp_addresses", '["127.0.0.1:1", "127.0.0.1:2"]');
    expect({ status: r.status, text: r.text }).toEqual({ status: 200, text: '["127.0.0.1:1","127.0.0.1:2"]' });
    expect(d.nsqd.options.nsqlookupd_tcp_addresses).toEqual(["127.0.0.1:1", "127.0.0.1:2"]);
    // D-BEH-LOOKUP-RECONFIG: the peer list follows
    expect(d.nsqd.lookupPeers!.peers.map((p) => p.address)).toEqual(["127.0.0.1:1", "127.0.0.1:2"]);
    await call(d.handler, "PUT", "/config/nsqlookupd_tcp_addresses", '["127.0.0.1:2"]');
    expect(d.nsqd.lookupPeers!.peers.map((p) => p.address)).toEqual(["127.0.0.1:2"]);
    for (const bad of ["[1]", '{"a":1}', "not json", '"a:1"']) {
      expectV1Error(await call(d.handler, "PUT", "/config/nsqlookupd_tcp_addresses", bad), 400, "INVALID_VALUE");
    }
    expect(d.nsqd.options.nsqlookupd_tcp_addresses).toEqual(["127.0.0.1:2"]);
  });

  test("PUT: empty or oversized body 413 INVALID_VALUE (checked first), other keys 400 INVALID_OPTION", async () => {
    await using d = await fixture({ max_msg_size: 8 });
    expectV1Error(await call(d.handler, "PUT", "/config/log_level"), 413, "INVALID_VALUE");
    expectV1Error(await call(d.handler, "PUT", "/config/log_level", "123456789"), 413, "INVALID_VALUE");
    expectV1Error(await call(d.handler, "PUT", "/config/nope"), 413, "INVALID_VALUE");
    expectV1Error(await call(d.handler, "PUT", "/config/mem_queue_size", "5"), 400, "INVALID_OPTION");
    expectV1Error(await call(d.handler, "PUT", "/config/nope", "5"), 400, "INVALID_OPTION");
    expect(d.nsqd.options.mem_queue_size).toBe(10000);
    const { stream, pulled } = endless(4);
    expectV1Error(await call(d.handler, "PUT", "/config/log_level", stream), 413, "INVALID_VALUE");
    expect(pulled()).toBeLessThanOrEqual(12);
  });
});

describe("router fallbacks (X-HTTP-ERRORS, D-HTTP-REMOVED)", () => {
  test("unknown paths and pre-1.0 routes are 404 NOT_FOUND", async () => {
    await using d = await fixture();
    for (const path of ["/nope", "/put?topic=t", "/mput?topic=t", "/create_topic?topic=t", "/delete_channel", "/config/", "/config/a/b", "/"]) {
      expectV1Error(await call(d.handler, "POST", path, "x"), 404, "NOT_FOUND");
    }
    expect(d.nsqd.getExistingTopic("t")).toBeUndefined();
  });

  test("a known path with another method is 405 with Allow; OPTIONS answers Allow", async () => {
    await using d = await fixture();
    const r = await call(d.handler, "GET", "/pub?topic=t");
    expectV1Error(r, 405, "METHOD_NOT_ALLOWED");
    expect(r.headers.get("allow")).toBe("OPTIONS, POST");
    const c = await call(d.handler, "DELETE", "/config/log_level");
    expectV1Error(c, 405, "METHOD_NOT_ALLOWED");
    expect(c.headers.get("allow")).toBe("GET, OPTIONS, PUT");
    expect((await call(d.handler, "HEAD", "/ping")).status).toBe(405);
    const o = await call(d.handler, "OPTIONS", "/stats");
    expect({ status: o.status, text: o.text, allow: o.headers.get("allow") }).toEqual({ status: 200, text: "", allow: "GET, OPTIONS" });
  });

  test("a trailing slash redirects to the route: 301 for GET, 307 otherwise", async () => {
    await using d = await fixture();
    const g = await call(d.handler, "GET", "/ping/?x=1");
    expect({ status: g.status, location: g.headers.get("location") }).toEqual({ status: 301, location: "/ping?x=1" });
    const p = await call(d.handler, "POST", "/pub/?topic=t", "m");
    expect({ status: p.status, location: p.headers.get("location") }).toEqual({ status: 307, location: "/pub?topic=t" });
    const i = await call(d.handler, "GET", "/debug/pprof");
    expect({ status: i.status, location: i.headers.get("location") }).toEqual({ status: 301, location: "/debug/pprof/" });
  });

  test("an unexpected failure is 500 INTERNAL_ERROR", async () => {
    await using d = await fixture();
    d.nsqd.getTopic = () => {
      throw new Error("unexpected");
    };
    expectV1Error(await call(d.handler, "POST", "/topic/create?topic=t"), 500, "INTERNAL_ERROR");
    expect(d.logger.lines.some((l) => l.startsWith("ERROR: panic in HTTP handler - unexpected"))).toBe(true);
  });

  test("routes log status, method, URI and remote address; /pub and /mpub do not", async () => {
    await using d = await fixture();
    await call(d.handler, "GET", "/ping?a=1");
    await call(d.handler, "POST", "/pub?topic=t", "m");
    await call(d.handler, "GET", "/missing");
    const lines = d.logger.lines.filter((l) => /^INFO: \d{3} /.test(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^INFO: 200 GET \/ping\?a=1 \(127\.0\.0\.1:5555\) [0-9.]+(ns|µs|ms|s)$/);
    expect(lines[1]).toMatch(/^INFO: 404 GET \/missing \(127\.0\.0\.1:5555\) /);
  });
});

describe("TLS required (D-HTTP-TLS-REQUIRED)", () => {
  test("--tls-required=true refuses every plain-HTTP request with the exact 403 body", async () => {
    await using d = await fixture({ tls_required: "true", ...TLS_FILES });
    const handler = createHttpHandler(d.nsqd, { httpsPort: () => 4152 });
    for (const [m, p] of [
      ["GET", "/ping"],
      ["POST", "/pub?topic=t"],
      ["GET", "/nope"],
    ]) {
      const r = await call(handler, m!, p!, m === "POST" ? "x" : null);
      expect({ status: r.status, text: r.text }).toEqual({ status: 403, text: '{"message": "TLS_REQUIRED", "https_port": 4152}' });
      expect(r.headers.get("content-type")).toBe("application/json; charset=utf-8");
      expect(r.headers.get("x-nsq-content-type")).toBe(NSQ_HEADER);
    }
    expect((await call(d.handler, "GET", "/ping")).text).toBe('{"message": "TLS_REQUIRED", "https_port": 0}');
    expect((await call(createHttpHandler(d.nsqd, { tls: true }), "GET", "/ping")).text).toBe("OK");
  });

  test("tcp-https does not restrict HTTP", async () => {
    await using d = await fixture({ tls_required: "tcp-https", ...TLS_FILES });
    expect((await call(d.handler, "GET", "/ping")).text).toBe("OK");
  });
});

describe("/debug (D-HTTP-DEBUG, X-PPROF)", () => {
  test("index, cmdline and heap report what this runtime has", async () => {
    await using d = await fixture();
    const index = await call(d.handler, "GET", "/debug/pprof/");
    expect(index.status).toBe(200);
    expect(index.text).toContain("/debug/pprof/heap");
    const cmdline = await call(d.handler, "GET", "/debug/pprof/cmdline");
    expect(cmdline.text.split("\0")).toEqual([d.runtime.argv0(), ...d.runtime.args()]);
    const heap = await call(d.handler, "GET", "/debug/pprof/heap");
    expect(heap.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const m = JSON.parse(heap.text);
    expect(Object.keys(m)).toEqual(["rss", "heapTotal", "heapUsed", "external"]);
    expect(m.heapUsed).toBeGreaterThan(0);
  });

  test("Go-only profiles answer a clear 501 (the same as nsqlookupd's, test/common/pprof.test.ts)", async () => {
    await using d = await fixture();
    for (const [m, p] of [
      ["GET", "profile"],
      ["GET", "goroutine"],
      ["GET", "block"],
      ["GET", "threadcreate"],
      ["GET", "symbol"],
      ["POST", "symbol"],
    ]) {
      const r = await call(d.handler, m!, `/debug/pprof/${p}`);
      expect(r.status).toBe(501);
      expect(r.text).toContain(`${p} is a Go runtime profile`);
      expect(r.text).toContain(d.runtime.version);
    }
  });

  test("setblockrate validates like strconv.Atoi; freememory answers 200", async () => {
    await using d = await fixture();
    const ok = await call(d.handler, "PUT", "/debug/setblockrate?rate=5");
    expect({ status: ok.status, text: ok.text, nsq: ok.headers.get("x-nsq-content-type") }).toEqual({ status: 200, text: "", nsq: null });
    const bad = await call(d.handler, "PUT", "/debug/setblockrate?rate=x");
    expect({ status: bad.status, text: bad.text }).toEqual({ status: 400, text: 'invalid block rate : strconv.Atoi: parsing "x": invalid syntax' });
    const none = await call(d.handler, "PUT", "/debug/setblockrate");
    expect(none.text).toBe('invalid block rate : strconv.Atoi: parsing "": invalid syntax');
    const huge = await call(d.handler, "PUT", "/debug/setblockrate?rate=99999999999999999999");
    expect(huge.text).toBe('invalid block rate : strconv.Atoi: parsing "99999999999999999999": value out of range');
    const free = await call(d.handler, "POST", "/debug/freememory");
    expect({ status: free.status, text: free.text }).toEqual({ status: 200, text: "" });
  });
});

describe("served over real HTTP by the node adapter", () => {
  test("--tls-required=true: the plain listener answers 403 with the real HTTPS port", async () => {
    await using d = await startTestNsqd({ http_address: "127.0.0.1:0", https_address: "127.0.0.1:0", tls_required: "true", ...TLS_FILES });
    const httpsPort = d.nsqd.httpsPort;
    expect(httpsPort).toBeGreaterThan(0);
    const res = await fetch(`http://127.0.0.1:${d.httpPort}/ping`);
    expect(res.status).toBe(403);
    expect(await res.text()).toBe(`{"message": "TLS_REQUIRED", "https_port": ${httpsPort}}`);
  });

  test("/info reports the bound HTTP port; /pub then /stats over the wire", async () => {
    await using d = await startTestNsqd({ http_address: "127.0.0.1:0" });
    const base = `http://127.0.0.1:${d.httpPort}`;
    expect(d.httpPort).toBeGreaterThan(0);
    const info = await (await fetch(`${base}/info`)).json();
    expect(info.http_port).toBe(d.httpPort);
    const pub = await fetch(`${base}/pub?topic=wire`, { method: "POST", body: "payload" });
    expect(pub.status).toBe(200);
    expect(pub.headers.get("x-nsq-content-type")).toBe(NSQ_HEADER);
    expect(await pub.text()).toBe("OK");
    const stats = await (await fetch(`${base}/stats?format=json&topic=wire`)).json();
    expect(stats.topics[0]).toMatchObject({ topic_name: "wire", message_count: 1, message_bytes: 7 });
  });
});

test("defaultNsqdOptions builds every option from the table defaults", () => {
  const o = defaultNsqdOptions({ mem_queue_size: 5 });
  expect(o.mem_queue_size).toBe(5);
  expect(o.msg_timeout).toBe(60_000);
  expect(o.tcp_address).toBe("0.0.0.0:4150");
  for (const spec of NSQD_OPTIONS) if (spec.key !== null) expect(spec.key in o, spec.key).toBe(true);
});
