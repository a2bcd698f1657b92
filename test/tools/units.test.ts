// Pure pieces of the tools: stdin splitting (U-TO-PUBLISH), strftime and
// file names (U-FILE-NAME), JSON filtering (U-NSQ-JSON), GET escaping
// (U-HTTP-GET), headers (U-HTTP-HEADER), host pool (U-HTTP-MODES), nsq_stat rows.
import { describe, expect, test } from "vitest";
import { splitStream } from "../../src/tools/pub.ts";
import { strftime } from "../../src/tools/strftime.ts";
import { fileNameFormat } from "../../src/tools/file-logger.ts";
import { filterJson } from "../../src/tools/to-nsq.ts";
import { parseHeaders, queryEscape } from "../../src/tools/to-http.ts";
import { HostPool } from "../../src/tools/hostpool.ts";
import { aggregate, statHeader, statRow } from "../../src/tools/stat.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const ch of chunks) c.enqueue(ch);
      c.close();
    },
  });
}

async function split(chunks: Uint8Array[], delim = 0x0a): Promise<string[]> {
  const out: string[] = [];
  await splitStream(streamOf(chunks), delim, (b) => void out.push(dec(b)));
  return out;
}

describe("splitStream (U-TO-PUBLISH)", () => {
  const input = enc("alpha\n\nbeta\ngamma delta\nlast!");
  const expected = ["alpha", "beta", "gamma delta", "last"]; // the original drops the final byte of an unterminated chunk

  test("whole, byte by byte, and split at every offset", async () => {
    expect(await split([input])).toEqual(expected);
    expect(await split([...input].map((b) => new Uint8Array([b])))).toEqual(expected);
    for (let i = 0; i <= input.length; i++) {
      expect(await split([input.subarray(0, i), input.subarray(i)]), `split at ${i}`).toEqual(expected);
    }
  });

  test("other delimiters; a terminated last chunk is kept whole", async () => {
    expect(await split([enc("a,b,,c,")], 0x2c)).toEqual(["a", "b", "c"]);
    expect(await split([enc("x")])).toEqual([]);
  });
});

describe("U-FILE-NAME", () => {
  test("strftime tokens", () => {
    const d = new Date(2024, 2, 5, 7, 8, 9);
    expect(strftime("%Y-%m-%d_%H %I:%M:%S %p %y %B %b %A %a %j %% %Q", d)).toBe("2024-03-05_07 07:08:09 AM 24 March Mar Tuesday Tue 065 % %Q");
    expect(strftime("%z", d)).toMatch(/^[+-]\d{4}$/);
  });

  test("file name tokens, <REV> rules and .gz", () => {
    const base = { topic: "t", host: "h", pid: 42, gzip: false, needsRev: false };
    expect(fileNameFormat("<TOPIC>.<HOST><REV>.<DATETIME>.log", base)).toBe("t.h.<DATETIME>.log");
    expect(fileNameFormat("<TOPIC>-<PID><REV>.log", { ...base, gzip: true, needsRev: true })).toBe("t-42<REV>.log.gz");
    expect(() => fileNameFormat("<TOPIC>.log", { ...base, needsRev: true })).toThrow(/missing <REV>/);
  });
});

describe("U-NSQ-JSON", () => {
  const f = (body: string, requireField = "", requireValue = "", whitelist: string[] = []) => {
    const r = filterJson(enc(body), { requireField, requireValue, whitelist });
    return r.kind === "publish" ? dec(r.body) : r.kind;
  };
  test("required field and value, whitelist", () => {
    expect(f("nope", "a")).toBe("drop");
    expect(f("[1]", "a")).toBe("drop");
    expect(f('{"b":1}', "a")).toBe("drop");
    expect(f('{"b":1}', "a", "x")).toBe("fail");
    expect(f('{"a":"x"}', "a", "x")).toBe('{"a":"x"}');
    expect(f('{"a":"y"}', "a", "x")).toBe("drop");
    expect(f('{"a":5}', "a", "5.0")).toBe('{"a":5}');
    expect(f('{"a":true}', "a", "true")).toBe("drop");
    expect(f('{"a":1.0,"b":2,"c":3}', "", "", ["a", "c", "z"])).toBe('{"a":1,"c":3}');
  });
});

describe("nsq_to_http pieces", () => {
  test("U-HTTP-GET: query escaping like Go's url.QueryEscape", () => {
    expect(queryEscape(enc("a b&c=d/é~"))).toBe("a+b%26c%3Dd%2F%C3%A9~");
  });
  test("U-HTTP-HEADER: Name: value, trimmed; bad ones refused", () => {
    expect(parseHeaders(["X-A:  1 ", "Auth: Bearer x:y"])).toEqual([
      ["X-A", "1"],
      ["Auth", "Bearer x:y"],
    ]);
    expect(() => parseHeaders(["nocolon"])).toThrow(/Invalid header format/);
    expect(() => parseHeaders([": v"])).toThrow();
  });
  test("U-HTTP-MODES: hostpool skips a dead host until its retry time, all-dead revives", () => {
    let now = 0;
    const pool = new HostPool(["a", "b"], () => now);
    expect([pool.get(), pool.get()]).toEqual(["a", "b"]);
    pool.mark("a", false);
    expect([pool.get(), pool.get(), pool.get()]).toEqual(["b", "b", "b"]);
    now = 30_001;
    expect([pool.get(), pool.get()].sort()).toEqual(["a", "b"]);
    pool.mark("a", false);
    pool.mark("b", false);
    expect(["a", "b"]).toContain(pool.get());
  });
});

describe("U-STAT-OUTPUT", () => {
  test("rows from two samples, aggregated over nodes", () => {
    const ch = (depth: number, msgs: number) => ({
      channel_name: "c",
      depth,
      backend_depth: 1,
      in_flight_count: 2,
      deferred_count: 3,
      requeue_count: 4,
      timeout_count: 5,
      message_count: msgs,
      client_count: 1,
    });
    const node = (depth: number, msgs: number) => ({ topics: [{ topic_name: "t", channels: [ch(depth, msgs)] }] });
    const a = aggregate([node(10, 100), node(5, 50)], "t", "c")!;
    const b = aggregate([node(12, 140), node(5, 70)], "t", "c")!;
    expect(aggregate([node(1, 1)], "t", "other")).toBeNull();
    expect(statHeader().split("\n")[1]).toBe("ingress  egress |   total     mem    disk inflt   def |     req     t-o         msgs clients");
    // ingress (210-150)/2s = 30; egress (60 - 2)/2s = 29.
    expect(statRow(a, b, 2000)).toBe("     30      29 |      17      15       2     4     6 |       8      10          210       2\n");
  });
});
