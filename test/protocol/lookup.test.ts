import { describe, expect, it } from "vitest";
import {
  MAGIC_V1,
  V1CommandReader,
  V1ResponseReader,
  encodeV1Command,
  encodeV1Response,
  parseTopicChannel,
  type V1Command,
} from "../../src/protocol/lookup.ts";
import { allChunkings, be32, byteByByte, bytes, text, whole } from "./chunking.ts";

function norm(c: V1Command): unknown {
  if (c.kind === "IDENTIFY") return { kind: c.kind, body: text(c.body) };
  if (c.kind === "ERROR") return { kind: c.kind, message: c.message };
  if (c.kind === "DROP") return { ...c };
  return { kind: c.kind, params: c.params.map(text) };
}

/** Bytes as a Latin-1 string (one char per byte), so echoed bytes compare readably. */
const latin1 = (b: Uint8Array | undefined) => (b === undefined ? "<no data>" : String.fromCharCode(...b));

function run(chunks: Uint8Array[], reader = new V1CommandReader()) {
  const out: unknown[] = [];
  for (const chunk of chunks) {
    reader.push(chunk);
    for (let c = reader.next(); c !== null; c = reader.next()) out.push(norm(c));
  }
  return out;
}

const json = '{"broadcast_address":"h","tcp_port":4150,"http_port":4151,"version":"1.3.0"}';

describe("lookupd V1 encoders", () => {
  it("L-TCP-FRAME: OK reply is 00 00 00 02 4F 4B (no frame type)", () => {
    expect(Array.from(encodeV1Response("OK"))).toEqual([0, 0, 0, 2, 0x4f, 0x4b]);
  });
  it("L-TCP-MAGIC is 20 20 56 31", () => {
    expect(Array.from(MAGIC_V1)).toEqual([0x20, 0x20, 0x56, 0x31]);
  });
  it("IDENTIFY command carries a sized body", () => {
    expect(Array.from(encodeV1Command("IDENTIFY", [], bytes("{}")))).toEqual([...bytes("IDENTIFY\n"), ...be32(2), 0x7b, 0x7d]);
    expect(text(encodeV1Command("REGISTER", ["t", "c"]))).toBe("REGISTER t c\n");
  });
});

describe("V1CommandReader", () => {
  const stream = bytes(
    MAGIC_V1,
    "PING\n",
    "IDENTIFY\n",
    be32(json.length),
    json,
    "REGISTER t\n",
    "  REGISTER t c  \r\n",
    "UNREGISTER t c#ephemeral\n",
    "PING\n",
  );
  const expected = [
    { kind: "PING", params: [] },
    { kind: "IDENTIFY", body: json },
    { kind: "REGISTER", params: ["t"] },
    { kind: "REGISTER", params: ["t", "c"] },
    { kind: "UNREGISTER", params: ["t", "c#ephemeral"] },
    { kind: "PING", params: [] },
  ];

  it.each(allChunkings(stream).map((c) => [c.name, c.chunks] as const))("parses every command fed %s", (_n, chunks) => {
    expect(run(chunks)).toEqual(expected);
  });

  it.each([
    ["bad magic", bytes("  V2PING\n"), "E_BAD_PROTOCOL"],
    ["unknown verb", bytes(MAGIC_V1, "FOO x\n"), "E_INVALID invalid command FOO"],
    ["empty line", bytes(MAGIC_V1, "\n"), "E_INVALID invalid command "],
    ["negative IDENTIFY size", bytes(MAGIC_V1, "IDENTIFY\n", be32(-1)), "E_BAD_BODY IDENTIFY failed to read body"],
    ["oversized IDENTIFY", bytes(MAGIC_V1, "IDENTIFY\n", be32(2 ** 30)), "E_BAD_BODY IDENTIFY failed to read body"],
  ])("%s -> %s, then nothing more", (_n, input, message) => {
    for (const chunks of [whole(bytes(input, "PING\n")), byteByByte(bytes(input, "PING\n"))]) {
      expect(run(chunks)).toEqual([{ kind: "ERROR", message }]);
    }
  });

  it("drops an over-long line", () => {
    const r = new V1CommandReader({ maxLineSize: 100 });
    expect(run([bytes(MAGIC_V1, "PING", " ".repeat(200))], r)).toEqual([{ kind: "DROP" }]);
    expect(r.done).toBe(true);
  });

  it("end() reports an IDENTIFY cut short, and nothing otherwise", () => {
    const cases: [Uint8Array, string | null][] = [
      [bytes(MAGIC_V1, "PI"), null],
      [bytes(MAGIC_V1, "IDENTIFY\n", [0, 0]), "E_BAD_BODY IDENTIFY failed to read body size"],
      [bytes(MAGIC_V1, "IDENTIFY\n", be32(4), "{}"), "E_BAD_BODY IDENTIFY failed to read body"],
    ];
    for (const [input, message] of cases) {
      const r = new V1CommandReader();
      run(byteByByte(input), r);
      expect(r.end()?.message ?? null).toBe(message);
    }
  });

  it("trims white space as Go's strings.TrimSpace does: Unicode spaces in UTF-8, never an invalid byte", () => {
    const line = bytes(MAGIC_V1, [0xc2, 0xa0], "\tREGISTER t c", [0xe3, 0x80, 0x80], "\n");
    expect(run(whole(line))).toEqual([{ kind: "REGISTER", params: ["t", "c"] }]);
    const r = new V1CommandReader();
    r.push(bytes(MAGIC_V1, " ", [0xa0, 0xc2, 0xa0], "PI", [0xff], " ", [0x85], "\n"));
    const err = r.next();
    expect(err?.kind).toBe("ERROR");
    // The verb is everything up to the first space after the trim, echoed byte for byte.
    expect(latin1((err as { data?: Uint8Array }).data)).toBe("E_INVALID invalid command \xa0\xc2\xa0PI\xff");
  });

  it("echoes an unknown verb and invalid names as sent, bytes that are not UTF-8 included", () => {
    const r = new V1CommandReader();
    r.push(bytes(MAGIC_V1, [0xff, 0xfe], "X y\n"));
    expect(latin1((r.next() as { data?: Uint8Array }).data)).toBe("E_INVALID invalid command \xff\xfeX");
    const topic = parseTopicChannel("REGISTER", [bytes("t", [0xff])]);
    expect(latin1((topic as { data?: Uint8Array }).data)).toBe("E_BAD_TOPIC REGISTER topic name 't\xff' is not valid");
    const channel = parseTopicChannel("UNREGISTER", [bytes("t"), bytes([0xc3, 0xa9, 0xe9])]);
    expect(latin1((channel as { data?: Uint8Array }).data)).toBe("E_BAD_CHANNEL UNREGISTER channel name '\xc3\xa9\xe9' is not valid");
  });

  it("identifyGate refuses IDENTIFY before its size and body are read", () => {
    let identified = false;
    const r = new V1CommandReader({
      identifyGate: () =>
        identified ? { kind: "ERROR", code: "E_INVALID", text: "cannot IDENTIFY again", fatal: true, message: "E_INVALID cannot IDENTIFY again" } : null,
    });
    expect(run([bytes(MAGIC_V1, "IDENTIFY\n", be32(2), "{}")], r)).toEqual([{ kind: "IDENTIFY", body: "{}" }]);
    identified = true;
    // Only the line: the refusal does not wait for a body.
    expect(run([bytes("IDENTIFY\n")], r)).toEqual([{ kind: "ERROR", message: "E_INVALID cannot IDENTIFY again" }]);
    expect(r.end()).toBeNull();
  });

  it("parseTopicChannel checks count, topic and channel with single-quoted texts", () => {
    expect(parseTopicChannel("REGISTER", ["t"])).toEqual({ topic: "t", channel: "" });
    expect(parseTopicChannel("REGISTER", ["t", "c"])).toEqual({ topic: "t", channel: "c" });
    expect(parseTopicChannel("REGISTER", [])).toMatchObject({ message: "E_INVALID REGISTER insufficient number of params" });
    expect(parseTopicChannel("UNREGISTER", ["t!"])).toMatchObject({ message: "E_BAD_TOPIC UNREGISTER topic name 't!' is not valid" });
    expect(parseTopicChannel("REGISTER", ["t", "c!"])).toMatchObject({ message: "E_BAD_CHANNEL REGISTER channel name 'c!' is not valid" });
  });
});

describe("V1ResponseReader", () => {
  const stream = bytes(encodeV1Response("OK"), encodeV1Response(json), be32(0), encodeV1Response("E_INVALID client must IDENTIFY"));
  const expected = ["OK", json, "", "E_INVALID client must IDENTIFY"];

  it.each(allChunkings(stream).map((c) => [c.name, c.chunks] as const))("splits replies fed %s", (_n, chunks) => {
    const r = new V1ResponseReader();
    expect(chunks.flatMap((c) => r.push(c)).map(text)).toEqual(expected);
  });

  it("refuses a negative or oversized reply size", () => {
    expect(() => new V1ResponseReader().push(bytes(be32(-1)))).toThrow(RangeError);
    expect(() => new V1ResponseReader({ maxSize: 10 }).push(bytes(be32(11)))).toThrow(RangeError);
  });
});
