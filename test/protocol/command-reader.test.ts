import { describe, expect, it } from "vitest";
import { CommandReader, MAX_LINE_SIZE, type CommandReaderOptions } from "../../src/protocol/command-reader.ts";
import { checkIdCommand, parseRdyCount, parseSubParams, reqTimeoutMs, stateError, tlsRequiredError } from "../../src/protocol/command-checks.ts";
import type { Command, CommandGate, CommandVerb } from "../../src/protocol/commands.ts";
import { MAGIC_V2, encodeIdentify, encodeMpub, encodePub } from "../../src/protocol/frames.ts";
import { allChunkings, be32, byteByByte, bytes, text, whole } from "./chunking.ts";

const OPTS: CommandReaderOptions = { maxMsgSize: 1024, maxBodySize: 4096, maxReqTimeout: 3_600_000 };
const ID = "0123456789abcdef";

/** A plain, comparable view of a command. */
function norm(c: Command): Record<string, unknown> {
  switch (c.kind) {
    case "IDENTIFY":
      return { kind: c.kind, body: text(c.body) };
    case "AUTH":
      return { kind: c.kind, body: text(c.body), params: c.params };
    case "SUB":
    case "RDY":
      return { kind: c.kind, params: c.params.map(text) };
    case "FIN":
    case "TOUCH":
      return { kind: c.kind, id: text(c.id), paramCount: c.paramCount };
    case "REQ":
      return { kind: c.kind, id: text(c.id), timeout: text(c.timeout), paramCount: c.paramCount };
    case "PUB":
      return { kind: c.kind, topic: c.topic, body: text(c.body) };
    case "MPUB":
      return { kind: c.kind, topic: c.topic, bodies: c.bodies.map(text) };
    case "DPUB":
      return { kind: c.kind, topic: c.topic, deferRaw: c.deferRaw, deferMs: c.deferMs, body: text(c.body) };
    case "ERROR":
      return { kind: c.kind, message: c.message, fatal: c.fatal };
    default:
      return { ...c };
  }
}

/** Pushes each chunk and drains the reader after each one, like a connection does. */
function run(chunks: Uint8Array[], options: CommandReaderOptions = OPTS, reader = new CommandReader(options)) {
  const out: Record<string, unknown>[] = [];
  for (const chunk of chunks) {
    reader.push(chunk);
    for (let c = reader.next(); c !== null; c = reader.next()) out.push(norm(c));
  }
  return out;
}

const afterMagic = (...parts: Parameters<typeof bytes>) => bytes(MAGIC_V2, ...parts);

describe("CommandReader: every command kind", () => {
  const stream = afterMagic(
    encodeIdentify({ client_id: "x" }),
    "AUTH\n",
    be32(6),
    "secret",
    "SUB t c#ephemeral\n",
    "RDY 10\n",
    `FIN ${ID}\n`,
    `REQ ${ID} 100\n`,
    `TOUCH ${ID}\n`,
    "NOP\n",
    encodePub("t", bytes("hello")),
    encodeMpub("t", [bytes("a"), bytes("bc")]),
    "DPUB t 1000\n",
    be32(2),
    "hi",
    "CLS\r\n",
    "RDY\n",
    "FIN\r\n",
    "REQ  \n",
  );
  const expected = [
    { kind: "IDENTIFY", body: '{"client_id":"x"}' },
    { kind: "AUTH", body: "secret", params: [] },
    { kind: "SUB", params: ["t", "c#ephemeral"] },
    { kind: "RDY", params: ["10"] },
    { kind: "FIN", id: ID, paramCount: 1 },
    { kind: "REQ", id: ID, timeout: "100", paramCount: 2 },
    { kind: "TOUCH", id: ID, paramCount: 1 },
    { kind: "NOP" },
    { kind: "PUB", topic: "t", body: "hello" },
    { kind: "MPUB", topic: "t", bodies: ["a", "bc"] },
    { kind: "DPUB", topic: "t", deferRaw: "1000", deferMs: 1000, body: "hi" },
    { kind: "CLS" },
    { kind: "RDY", params: [] },
    { kind: "FIN", id: "", paramCount: 0 },
    { kind: "REQ", id: "", timeout: "", paramCount: 2 },
  ];

  it.each(allChunkings(stream).map((c) => [c.name, c.chunks] as const))("parses the stream fed %s", (_n, chunks) => {
    expect(run(chunks)).toEqual(expected);
  });

  it("parses the stream with all chunks pushed before draining", () => {
    const reader = new CommandReader(OPTS);
    for (const c of byteByByte(stream)) reader.push(c);
    const out = [];
    for (let c = reader.next(); c !== null; c = reader.next()) out.push(norm(c));
    expect(out).toEqual(expected);
  });
});

describe("CommandReader: push and next interleaved", () => {
  it("keeps chunk order when pushes arrive while earlier chunks are still queued", () => {
    const r = new CommandReader({ ...OPTS, magic: false });
    r.push(bytes("NOP\n"));
    r.push(bytes("RDY 1\n"));
    expect(r.next()).toEqual({ kind: "NOP" });
    r.push(bytes("CLS\n"));
    expect(norm(r.next()!)).toEqual({ kind: "RDY", params: ["1"] });
    expect(r.next()).toEqual({ kind: "CLS" });
    expect(r.next()).toBeNull();
  });

  it("gives the same commands for random push/next interleavings", () => {
    const stream = afterMagic(encodePub("t", bytes("hello")), "NOP\n", `FIN ${ID}\n`, encodeMpub("t", [bytes("a"), bytes("bc")]), "RDY 3\n");
    const reference = run(whole(stream));
    for (let seed = 1; seed <= 200; seed++) {
      let x = seed;
      const rand = () => {
        x = (x * 1103515245 + 12345) & 0x7fffffff;
        return x / 0x80000000;
      };
      const r = new CommandReader(OPTS);
      const out: unknown[] = [];
      let at = 0;
      while (at < stream.length || out.length < reference.length) {
        if (at < stream.length && rand() < 0.6) {
          const n = 1 + Math.floor(rand() * 9);
          r.push(stream.slice(at, at + n));
          at += n;
        } else {
          const c = r.next();
          if (c !== null) out.push(norm(c));
          else if (at >= stream.length) break;
        }
      }
      expect(out).toEqual(reference);
    }
  });
});

describe("CommandReader: copies only what spans chunks", () => {
  it("PUB in one chunk yields a view of that chunk", () => {
    const chunk = afterMagic(encodePub("t", bytes("hello")));
    const r = new CommandReader(OPTS);
    r.push(chunk);
    const c = r.next();
    expect(c?.kind).toBe("PUB");
    if (c?.kind === "PUB") expect(c.body.buffer).toBe(chunk.buffer);
  });

  it("PUB split inside the body yields one joined copy with the right bytes", () => {
    const all = afterMagic(encodePub("t", bytes("hello world")));
    const [a, b] = [all.slice(0, 16), all.slice(16)];
    const r = new CommandReader(OPTS);
    r.push(a);
    expect(r.next()).toBeNull();
    r.push(b);
    const c = r.next();
    if (c?.kind !== "PUB") throw new Error("expected PUB");
    expect(text(c.body)).toBe("hello world");
    expect(c.body.buffer).not.toBe(a.buffer);
    expect(c.body.buffer).not.toBe(b.buffer);
  });

  it("FIN ids are 16-byte views of the line", () => {
    const chunk = afterMagic(`FIN ${ID}\n`);
    const r = new CommandReader(OPTS);
    r.push(chunk);
    const c = r.next();
    if (c?.kind !== "FIN") throw new Error("expected FIN");
    expect(c.id.length).toBe(16);
    expect(c.id.buffer).toBe(chunk.buffer);
  });

  it("reuseFin: a well-formed FIN in one chunk comes in one reused command, its id copied out of the chunk", () => {
    const other = "fedcba9876543210";
    const chunk = afterMagic(`FIN ${ID}\n`, `FIN ${other}\r\n`, "NOP\n");
    const r = new CommandReader({ ...OPTS, reuseFin: true });
    r.push(chunk);
    const a = r.next();
    if (a?.kind !== "FIN") throw new Error("expected FIN");
    expect([text(a.id), a.paramCount]).toEqual([ID, 1]);
    expect(a.id.buffer).not.toBe(chunk.buffer);
    const b = r.next();
    expect(b).toBe(a);
    expect(text(a.id)).toBe(other);
    expect(r.next()?.kind).toBe("NOP");
  });

  it("reuseFin: a FIN split across chunks, with a TLS gate, or not 16 bytes and one parameter takes the general path", () => {
    const reuse = new CommandReader({ ...OPTS, reuseFin: true });
    reuse.push(afterMagic(`FIN ${ID.slice(0, 5)}`));
    expect(reuse.next()).toBeNull();
    reuse.push(bytes(`${ID.slice(5)}\nFIN ${ID} 1\nFIN ${ID}0\n`));
    const cmds = [reuse.next(), reuse.next(), reuse.next()];
    expect(new Set(cmds).size).toBe(3);
    expect(cmds.map((c) => (c?.kind === "FIN" ? [text(c.id), c.paramCount] : null))).toEqual([
      [ID, 1],
      [ID, 2],
      [ID + "0", 1],
    ]);
    const gated = new CommandReader({ ...OPTS, reuseFin: true, gate: { admit: () => null } });
    gated.push(afterMagic(`FIN ${ID}\nFIN ${ID}\n`));
    expect(gated.next()).not.toBe(gated.next());
  });

  it("repeated PUBs to one topic return the same topic string", () => {
    const r = new CommandReader(OPTS);
    r.push(afterMagic(encodePub("abc", bytes("1")), encodePub("abc", bytes("2")), encodePub("abd", bytes("3"))));
    const got = [r.next(), r.next(), r.next()].map((c) => (c?.kind === "PUB" ? c.topic : null));
    expect(got).toEqual(["abc", "abc", "abd"]);
  });
});

// [name, bytes after the magic, expected error-frame data]
const errorRows: [string, Uint8Array, string][] = [
  ["unknown verb", bytes("FOO bar\n"), "E_INVALID invalid command FOO"],
  ["empty line", bytes("\n"), "E_INVALID invalid command "],
  ["lower-case verb", bytes("pub t\n"), "E_INVALID invalid command pub"],
  ["verb with trailing space before CR", bytes("NOPE\r\n"), "E_INVALID invalid command NOPE"],
  ["PUB without topic", bytes("PUB\n"), "E_INVALID PUB insufficient number of parameters"],
  ["PUB with empty topic", bytes("PUB \n"), 'E_BAD_TOPIC PUB topic name "" is not valid'],
  ["PUB with invalid topic", bytes("PUB bad/topic\n"), 'E_BAD_TOPIC PUB topic name "bad/topic" is not valid'],
  ["PUB with 65-byte topic", bytes(`PUB ${"x".repeat(65)}\n`), `E_BAD_TOPIC PUB topic name "${"x".repeat(65)}" is not valid`],
  ["PUB with non-UTF-8 topic", bytes("PUB a", [0xff], "\n"), 'E_BAD_TOPIC PUB topic name "a\\xff" is not valid'],
  ["PUB size 0", bytes("PUB t\n", be32(0)), "E_BAD_MESSAGE PUB invalid message body size 0"],
  ["PUB size -1", bytes("PUB t\n", be32(-1)), "E_BAD_MESSAGE PUB invalid message body size -1"],
  ["PUB size 0x80000000", bytes("PUB t\n", be32(0x80000000)), "E_BAD_MESSAGE PUB invalid message body size -2147483648"],
  ["PUB size over --max-msg-size", bytes("PUB t\n", be32(1025)), "E_BAD_MESSAGE PUB message too big 1025 > 1024"],
  ["PUB declaring 2 GB", bytes("PUB t\n", be32(0x7fffffff)), "E_BAD_MESSAGE PUB message too big 2147483647 > 1024"],
  ["MPUB without topic", bytes("MPUB\n"), "E_INVALID MPUB insufficient number of parameters"],
  ["MPUB with invalid topic (doubled code)", bytes("MPUB b!d\n"), 'E_BAD_TOPIC E_BAD_TOPIC MPUB topic name "b!d" is not valid'],
  ["MPUB body size 0", bytes("MPUB t\n", be32(0)), "E_BAD_BODY MPUB invalid body size 0"],
  ["MPUB body size negative", bytes("MPUB t\n", be32(-7)), "E_BAD_BODY MPUB invalid body size -7"],
  ["MPUB body over --max-body-size", bytes("MPUB t\n", be32(4097)), "E_BAD_BODY MPUB body too big 4097 > 4096"],
  ["MPUB count 0", bytes("MPUB t\n", be32(10), be32(0)), "E_BAD_BODY MPUB invalid message count 0"],
  ["MPUB count negative", bytes("MPUB t\n", be32(10), be32(-5)), "E_BAD_BODY MPUB invalid message count -5"],
  ["MPUB count over (max-body-size - 4) / 5", bytes("MPUB t\n", be32(10), be32(819)), "E_BAD_BODY MPUB invalid message count 819"],
  ["MPUB message(1) size 0", bytes("MPUB t\n", be32(10), be32(2), be32(1), "a", be32(0)), "E_BAD_MESSAGE MPUB invalid message(1) body size 0"],
  ["MPUB message(0) size negative", bytes("MPUB t\n", be32(10), be32(2), be32(-2)), "E_BAD_MESSAGE MPUB invalid message(0) body size -2"],
  ["MPUB message over --max-msg-size", bytes("MPUB t\n", be32(10), be32(1), be32(1025)), "E_BAD_MESSAGE MPUB message too big 1025 > 1024"],
  ["DPUB without timeout", bytes("DPUB t\n"), "E_INVALID DPUB insufficient number of parameters"],
  ["DPUB without timeout, invalid topic", bytes("DPUB b!d\n"), "E_INVALID DPUB insufficient number of parameters"],
  ["DPUB with invalid topic", bytes("DPUB b!d 10\n"), 'E_BAD_TOPIC DPUB topic name "b!d" is not valid'],
  ["DPUB with non-numeric timeout", bytes("DPUB t 1s\n"), "E_INVALID DPUB could not parse timeout 1s"],
  ["DPUB with negative timeout", bytes("DPUB t -1\n"), "E_INVALID DPUB could not parse timeout -1"],
  ["DPUB over --max-req-timeout", bytes("DPUB t 3600001\n"), "E_INVALID DPUB timeout 3600001 out of range 0-3600000"],
  ["DPUB with leading zeros over the limit", bytes("DPUB t 0003600001\n"), "E_INVALID DPUB timeout 3600001 out of range 0-3600000"],
  ["DPUB wrapping past 2^64", bytes("DPUB t 99999999999999999999\n"), "E_INVALID DPUB timeout 7766279631452241919 out of range 0-3600000"],
  ["DPUB size 0", bytes("DPUB t 5\n", be32(0)), "E_BAD_MESSAGE DPUB invalid message body size 0"],
  ["DPUB size over --max-msg-size", bytes("DPUB t 5\n", be32(2000)), "E_BAD_MESSAGE DPUB message too big 2000 > 1024"],
  ["IDENTIFY over --max-body-size", bytes("IDENTIFY\n", be32(4097)), "E_BAD_BODY IDENTIFY body too big 4097 > 4096"],
  ["IDENTIFY size 0", bytes("IDENTIFY\n", be32(0)), "E_BAD_BODY IDENTIFY invalid body size 0"],
  ["IDENTIFY size negative", bytes("IDENTIFY\n", be32(-1)), "E_BAD_BODY IDENTIFY invalid body size -1"],
  ["AUTH with a parameter", bytes("AUTH secret\n"), "E_INVALID AUTH invalid number of parameters"],
  ["AUTH with a trailing space", bytes("AUTH \n"), "E_INVALID AUTH invalid number of parameters"],
  ["AUTH over --max-body-size", bytes("AUTH\n", be32(5000)), "E_BAD_BODY AUTH body too big 5000 > 4096"],
  ["AUTH size 0", bytes("AUTH\n", be32(0)), "E_BAD_BODY AUTH invalid body size 0"],
];

describe("CommandReader: §2.2 framing errors, exact texts", () => {
  for (const [name, input, message] of errorRows) {
    const stream = afterMagic(input, "NOP\n");
    it.each(allChunkings(stream).map((c) => [c.name, c.chunks] as const))(`${name} -> ${message} (fed %s)`, (_n, chunks) => {
      // Commands before the failing one are not involved; the NOP after it never appears.
      expect(run(chunks)).toEqual([{ kind: "ERROR", message, fatal: true }]);
    });
  }

  it("bad magic yields E_BAD_PROTOCOL with an empty description", () => {
    const r = new CommandReader(OPTS);
    r.push(bytes("  V1PUB t\n"));
    const c = r.next();
    expect(c).toMatchObject({ kind: "ERROR", code: "E_BAD_PROTOCOL", text: "", message: "E_BAD_PROTOCOL", fatal: true });
    expect(r.next()).toBeNull();
    expect(r.done).toBe(true);
  });

  it("a size error comes as soon as the size arrives, before any body byte", () => {
    const r = new CommandReader(OPTS);
    r.push(afterMagic("PUB t\n", be32(0x7fffffff)));
    expect(r.next()).toMatchObject({ kind: "ERROR", code: "E_BAD_MESSAGE" });
  });

  it("nothing more is yielded after a fatal error", () => {
    const r = new CommandReader(OPTS);
    r.push(afterMagic("FOO\nNOP\n"));
    expect(r.next()?.kind).toBe("ERROR");
    r.push(bytes("NOP\n"));
    expect(r.next()).toBeNull();
  });

  it("DPUB accepts 0..--max-req-timeout inclusive and an empty timeout as 0", () => {
    const got = run(whole(afterMagic("DPUB t 3600000\n", be32(1), "a", "DPUB t 0\n", be32(1), "b", "DPUB t \n", be32(1), "c")));
    expect(got.map((c) => c.deferMs)).toEqual([3_600_000, 0, 0]);
  });

  it("DPUB reproduces the original's 64-bit wrap of a huge timeout", () => {
    // 5000 + 2^58 ms is 5 s after the uint64 -> int64 ns product wraps.
    const got = run(whole(afterMagic("DPUB t 288230376151716744\n", be32(1), "a")));
    expect(got).toEqual([{ kind: "DPUB", topic: "t", deferRaw: "288230376151716744", deferMs: 5000, body: "a" }]);
  });

  it("MPUB accepts the largest message count and reads exactly count messages", () => {
    const r = new CommandReader(OPTS);
    r.push(afterMagic("MPUB t\n", be32(4096), be32(818)));
    expect(r.next()).toBeNull();
    const r2 = new CommandReader(OPTS);
    // the declared body size (999) is not compared with what follows
    const got = run(whole(afterMagic("MPUB t\n", be32(999), be32(1), be32(1), "a", "NOP\n")), OPTS, r2);
    expect(got).toEqual([{ kind: "MPUB", topic: "t", bodies: ["a"] }, { kind: "NOP" }]);
  });
});

describe("D-TCP-CMDLINE 16 KiB line limit", () => {
  it(`accepts a line of ${MAX_LINE_SIZE} bytes including the newline`, () => {
    const verb = "X".repeat(MAX_LINE_SIZE - 1);
    const got = run(whole(afterMagic(verb, "\n")));
    expect(got).toEqual([{ kind: "ERROR", message: `E_INVALID invalid command ${verb}`, fatal: true }]);
  });

  it.each([
    ["whole", (s: Uint8Array) => whole(s)],
    ["in 1000-byte chunks", (s: Uint8Array) => Array.from({ length: Math.ceil(s.length / 1000) }, (_, i) => s.slice(i * 1000, i * 1000 + 1000))],
  ])("drops a longer line without an error frame (fed %s)", (_n, cut) => {
    expect(run(cut(afterMagic("X".repeat(MAX_LINE_SIZE), "\n")))).toEqual([{ kind: "DROP" }]);
  });

  it("drops as soon as 16 KiB arrive without a newline", () => {
    const r = new CommandReader(OPTS);
    r.push(afterMagic("PUB ", "t".repeat(MAX_LINE_SIZE - 5)));
    expect(r.next()).toBeNull();
    r.push(bytes("t"));
    expect(r.next()).toEqual({ kind: "DROP" });
    expect(r.done).toBe(true);
  });
});

describe("CommandReader.end(): stream cut short", () => {
  const cases: [string, Uint8Array, string | null][] = [
    ["before the magic", bytes("  V"), null],
    ["between commands", bytes(MAGIC_V2, "NOP\n"), null],
    ["inside a command line", bytes(MAGIC_V2, "PUB t"), null],
    ["PUB size", bytes(MAGIC_V2, "PUB t\n", [0, 0]), "E_BAD_MESSAGE PUB failed to read message body size"],
    ["PUB body", bytes(MAGIC_V2, "PUB t\n", be32(5), "he"), "E_BAD_MESSAGE PUB failed to read message body"],
    ["DPUB size", bytes(MAGIC_V2, "DPUB t 1\n"), "E_BAD_MESSAGE DPUB failed to read message body size"],
    ["DPUB body", bytes(MAGIC_V2, "DPUB t 1\n", be32(5)), "E_BAD_MESSAGE DPUB failed to read message body"],
    ["IDENTIFY size", bytes(MAGIC_V2, "IDENTIFY\n", [0]), "E_BAD_BODY IDENTIFY failed to read body size"],
    ["IDENTIFY body", bytes(MAGIC_V2, "IDENTIFY\n", be32(3), "{"), "E_BAD_BODY IDENTIFY failed to read body"],
    ["AUTH size", bytes(MAGIC_V2, "AUTH\n"), "E_BAD_BODY AUTH failed to read body size"],
    ["AUTH body", bytes(MAGIC_V2, "AUTH\n", be32(3)), "E_BAD_BODY AUTH failed to read body"],
    ["MPUB size", bytes(MAGIC_V2, "MPUB t\n", [0, 0, 0]), "E_BAD_BODY MPUB failed to read body size"],
    ["MPUB count", bytes(MAGIC_V2, "MPUB t\n", be32(20)), "E_BAD_BODY MPUB failed to read message count"],
    ["MPUB message(1) size", bytes(MAGIC_V2, "MPUB t\n", be32(20), be32(2), be32(1), "a"), "E_BAD_MESSAGE MPUB failed to read message(1) body size"],
    ["MPUB message body", bytes(MAGIC_V2, "MPUB t\n", be32(20), be32(2), be32(3), "a"), "E_BAD_MESSAGE MPUB failed to read message body"],
  ];
  it.each(cases)("%s -> %s", (_n, input, message) => {
    const r = new CommandReader(OPTS);
    for (const chunk of byteByByte(input)) {
      r.push(chunk);
      while (r.next() !== null);
    }
    const err = r.end();
    expect(err === null ? null : err.message).toBe(message);
    expect(r.done).toBe(true);
    expect(r.next()).toBeNull();
  });
});

describe("CommandReader gate (state and TLS checks that precede framing)", () => {
  it("refuses IDENTIFY before its body is read", () => {
    const seen: (string | null)[] = [];
    const gate: CommandGate = {
      admit(verb) {
        seen.push(verb);
        return verb === "IDENTIFY" ? { code: "E_INVALID", text: "cannot IDENTIFY in current state" } : null;
      },
    };
    const r = new CommandReader({ ...OPTS, gate });
    r.push(afterMagic("NOP\nIDENTIFY\n"));
    expect(r.next()).toEqual({ kind: "NOP" });
    expect(r.next()).toMatchObject({ kind: "ERROR", message: "E_INVALID cannot IDENTIFY in current state", fatal: true });
    expect(seen).toEqual(["NOP", "IDENTIFY"]);
  });

  it("runs before the reader's own checks, and sees unknown verbs as null", () => {
    const gate: CommandGate = { admit: (_verb, bytes) => tlsRequiredError(bytes) };
    for (const [line, message] of [
      ["PUB\n", "E_INVALID cannot PUB in current state (TLS required)"],
      ["PUB bad!\n", "E_INVALID cannot PUB in current state (TLS required)"],
      ["FOO\n", "E_INVALID cannot FOO in current state (TLS required)"],
    ] as const) {
      expect(run(whole(afterMagic(line)), { ...OPTS, gate })).toEqual([{ kind: "ERROR", message, fatal: true }]);
    }
    let got: unknown = "unset";
    const admit = (v: CommandVerb | null, b: Uint8Array) => {
      got = [v, text(b)];
      return null;
    };
    run(whole(afterMagic("BAR x\n")), { ...OPTS, gate: { admit } });
    expect(got).toEqual([null, "BAR"]);
  });
});

/** Bytes as a Latin-1 string (one char per byte), so echoed bytes compare readably. */
const latin1 = (b: Uint8Array | undefined) => (b === undefined ? "<no data>" : String.fromCharCode(...b));
const raw = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

describe("error texts echo the client's bytes as sent (D-TCP-ERR-FORMAT)", () => {
  it("an unknown verb that is not valid UTF-8 comes back byte for byte, in any chunking", () => {
    for (const { name, chunks } of allChunkings(afterMagic(raw("\xff\xfeX bar\n")))) {
      const r = new CommandReader(OPTS);
      const got: Command[] = [];
      for (const c of chunks) {
        r.push(c);
        for (let cmd = r.next(); cmd !== null; cmd = r.next()) got.push(cmd);
      }
      expect(got.length, name).toBe(1);
      const err = got[0]!;
      expect(err.kind).toBe("ERROR");
      if (err.kind !== "ERROR") return;
      expect(latin1(err.data), name).toBe("E_INVALID invalid command \xff\xfeX");
      expect(err.message).toBe("E_INVALID invalid command \ufffd\ufffdX"); // for the log
    }
  });

  it("the DPUB timeout, RDY count and REQ timeout are echoed; SUB names are %q-quoted from the bytes", () => {
    const dpub = run(whole(afterMagic(raw("DPUB t 1\xff\n"))))[0]!;
    expect(dpub).toMatchObject({ kind: "ERROR", message: "E_INVALID DPUB could not parse timeout 1\ufffd" });
    const r = new CommandReader(OPTS);
    r.push(afterMagic(raw("DPUB t 1\xff\n")));
    expect(latin1((r.next() as { data?: Uint8Array }).data)).toBe("E_INVALID DPUB could not parse timeout 1\xff");

    const rdy = parseRdyCount([raw("\xc3")], 2500);
    expect(latin1((rdy as { data?: Uint8Array }).data)).toBe("E_INVALID RDY could not parse count \xc3");
    const req = checkIdCommand({ kind: "REQ", id: bytes(ID), timeout: raw("9\xff"), paramCount: 2 });
    expect(latin1(req?.data)).toBe("E_INVALID REQ could not parse timeout 9\xff");
    // Valid UTF-8 passes through unchanged; %q keeps printable Unicode and escapes the rest.
    expect(parseSubParams([raw("t\xff"), bytes("c")])).toMatchObject({ message: 'E_BAD_TOPIC SUB topic name "t\\xff" is not valid' });
    expect(parseSubParams([bytes("t"), raw("c\xff\xc3\xa9")])).toMatchObject({ message: 'E_BAD_CHANNEL SUB channel name "c\\xffé" is not valid' });
    expect(parseSubParams([bytes("t"), bytes("c#ephemeral")])).toEqual({ topic: "t", channel: "c#ephemeral" });
  });

  it("the TLS policy refusal echoes the verb as sent", () => {
    const gate: CommandGate = { admit: (_verb, b) => tlsRequiredError(b) };
    const r = new CommandReader({ ...OPTS, gate });
    r.push(afterMagic(raw("P\xffB t\n")));
    expect(latin1((r.next() as { data?: Uint8Array }).data)).toBe("E_INVALID cannot P\xffB in current state (TLS required)");
  });
});

describe("CommandReader gate: MPUB's topic is announced before its body (D-TCP-MPUB)", () => {
  it("calls mpubTopic once the MPUB line is valid, before any body byte, and never for PUB or DPUB", () => {
    const seen: string[] = [];
    const r = new CommandReader({ ...OPTS, gate: { mpubTopic: (t) => seen.push(t) } });
    r.push(afterMagic("MPUB fresh\n"));
    expect(r.next()).toBeNull();
    expect(seen).toEqual(["fresh"]);
    r.push(bytes(be32(4), be32(0)));
    expect(r.next()).toMatchObject({ kind: "ERROR", message: "E_BAD_BODY MPUB invalid message count 0" });
    const other = new CommandReader({ ...OPTS, gate: { mpubTopic: (t) => seen.push(t) } });
    other.push(afterMagic("PUB p\n", be32(1), "x", "DPUB d 10\n", be32(1), "y", "MPUB bad!\n"));
    const kinds = [];
    for (let c = other.next(); c !== null; c = other.next()) kinds.push(c.kind);
    expect(kinds).toEqual(["PUB", "DPUB", "ERROR"]);
    expect(seen).toEqual(["fresh"]);
  });
});

describe("CommandReader.takeRemaining", () => {
  it("hands over the bytes that followed IDENTIFY for a transport upgrade", () => {
    const r = new CommandReader(OPTS);
    r.push(afterMagic(encodeIdentify({ tls_v1: true }), [0x16, 0x03, 0x01]));
    r.push(bytes([0x02, 0x00]));
    expect(r.next()?.kind).toBe("IDENTIFY");
    expect(Array.from(r.takeRemaining())).toEqual([0x16, 0x03, 0x01, 0x02, 0x00]);
    expect(r.next()).toBeNull();
    r.push(bytes("NOP\n"));
    expect(r.next()).toEqual({ kind: "NOP" });
  });

  it("includes a partial command line", () => {
    const r = new CommandReader({ ...OPTS, magic: false });
    r.push(bytes("NO"));
    expect(r.next()).toBeNull();
    r.push(bytes("P"));
    expect(r.next()).toBeNull();
    expect(text(r.takeRemaining())).toBe("NOP");
  });
});

describe("helpers for the checks the connection owns", () => {
  const fin = (id: string, paramCount = 1) => ({ kind: "FIN" as const, id: bytes(id), paramCount });
  it("checkIdCommand: params, then id length, then REQ timeout", () => {
    expect(checkIdCommand(fin(ID))).toBeNull();
    expect(checkIdCommand(fin("", 0))?.message).toBe("E_INVALID FIN insufficient number of params");
    expect(checkIdCommand({ kind: "TOUCH", id: bytes(""), paramCount: 0 })?.message).toBe("E_INVALID TOUCH insufficient number of params");
    expect(checkIdCommand(fin("short"))?.message).toBe("E_INVALID invalid message ID");
    expect(checkIdCommand({ kind: "REQ", id: bytes(ID), timeout: bytes(""), paramCount: 1 })?.message).toBe("E_INVALID REQ insufficient number of params");
    expect(checkIdCommand({ kind: "REQ", id: bytes("x"), timeout: bytes("z"), paramCount: 2 })?.message).toBe("E_INVALID invalid message ID");
    expect(checkIdCommand({ kind: "REQ", id: bytes(ID), timeout: bytes("1x"), paramCount: 2 })?.message).toBe("E_INVALID REQ could not parse timeout 1x");
    expect(checkIdCommand({ kind: "REQ", id: bytes(ID), timeout: bytes(""), paramCount: 2 })).toBeNull();
  });

  it("reqTimeoutMs clamps to 0..max (DISC-05)", () => {
    const req = (t: string) => ({ kind: "REQ" as const, id: bytes(ID), timeout: bytes(t), paramCount: 2 });
    expect(reqTimeoutMs(req("250"), 1000)).toBe(250);
    expect(reqTimeoutMs(req("5000"), 1000)).toBe(1000);
    expect(reqTimeoutMs(req(""), 1000)).toBe(0);
    expect(reqTimeoutMs(req("99999999999999999999"), 1000)).toBe(0); // wraps negative
  });

  it("parseRdyCount: missing -> 1, empty -> 0, range 0..max (DISC-03)", () => {
    expect(parseRdyCount([], 2500)).toBe(1);
    expect(parseRdyCount([""], 2500)).toBe(0);
    expect(parseRdyCount(["2500"], 2500)).toBe(2500);
    expect(parseRdyCount(["2501"], 2500)).toMatchObject({ message: "E_INVALID RDY count 2501 out of range 0-2500" });
    expect(parseRdyCount(["-1"], 2500)).toMatchObject({ message: "E_INVALID RDY could not parse count -1" });
    expect(parseRdyCount(["18446744073709551615"], 2500)).toMatchObject({ message: "E_INVALID RDY count -1 out of range 0-2500" });
    expect(parseRdyCount(["18446744073709551621"], 2500)).toBe(5);
  });

  it("parseSubParams: count, topic, channel, with %q texts", () => {
    expect(parseSubParams(["t", "c"])).toEqual({ topic: "t", channel: "c" });
    expect(parseSubParams(["t"])).toMatchObject({ message: "E_INVALID SUB insufficient number of parameters" });
    expect(parseSubParams(["t/", "c"])).toMatchObject({ message: 'E_BAD_TOPIC SUB topic name "t/" is not valid' });
    expect(parseSubParams(["t", "é"])).toMatchObject({ message: 'E_BAD_CHANNEL SUB channel name "é" is not valid' });
  });

  it("stateError text", () => {
    expect(stateError("CLS").message).toBe("E_INVALID cannot CLS in current state");
  });
});
