import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { CommandReader, type CommandReaderOptions } from "../../src/protocol/command-reader.ts";
import type { Command } from "../../src/protocol/commands.ts";
import {
  MAGIC_V2,
  encodeAuth,
  encodeCommand,
  encodeDpub,
  encodeFin,
  encodeIdentify,
  encodeMpub,
  encodePub,
  encodeReq,
  encodeSub,
  encodeTouch,
} from "../../src/protocol/frames.ts";
import { be32, bytes } from "./chunking.ts";

const OPTS: CommandReaderOptions = { maxMsgSize: 64, maxBodySize: 256, maxReqTimeout: 10_000 };

const hex = (a: Uint8Array) => Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");

function norm(c: Command): unknown {
  return JSON.parse(JSON.stringify(c, (_k, v) => (v instanceof Uint8Array ? `bytes:${hex(v)}` : v)));
}

/** Feeds chunks, draining after each; counts next() calls to prove termination. */
function feed(chunks: Uint8Array[], options = OPTS, end = true) {
  const reader = new CommandReader(options);
  const out: unknown[] = [];
  let calls = 0;
  const total = chunks.reduce((n, c) => n + c.length, 0);
  for (const chunk of chunks) {
    reader.push(chunk);
    for (;;) {
      calls++;
      // A command consumes at least one byte, so more calls than bytes means a loop.
      if (calls > total + chunks.length + 2) throw new Error("reader does not make progress");
      const c = reader.next();
      if (c === null) break;
      out.push(norm(c));
    }
  }
  if (end) out.push({ end: reader.end()?.message ?? null });
  return out;
}

function cut(stream: Uint8Array, points: number[]): Uint8Array[] {
  const sorted = [...new Set(points.map((p) => p % (stream.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...sorted, stream.length]) {
    if (p > prev) chunks.push(stream.slice(prev, p));
    prev = p;
  }
  return chunks;
}

const name = fc.stringMatching(/^[.a-zA-Z0-9_-]{1,12}(#ephemeral)?$/);
const body = fc.uint8Array({ minLength: 1, maxLength: 40 });
const id = fc.stringMatching(/^[0-9a-f]{16}$/).map((s) => new TextEncoder().encode(s));

const command: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.tuple(name, body).map(([t, b]) => encodePub(t, b)),
  fc.tuple(name, fc.array(body, { minLength: 1, maxLength: 4 })).map(([t, bs]) => encodeMpub(t, bs)),
  fc.tuple(name, fc.integer({ min: 0, max: 10_000 }), body).map(([t, d, b]) => encodeDpub(t, d, b)),
  id.map(encodeFin),
  fc.tuple(id, fc.nat(100_000)).map(([i, t]) => encodeReq(i, t)),
  id.map(encodeTouch),
  fc.nat(3000).map((n) => encodeCommand("RDY", [String(n)])),
  fc.tuple(name, name).map(([t, c]) => encodeSub(t, c)),
  fc.constantFrom(encodeCommand("NOP"), encodeCommand("CLS"), bytes("NOP\r\n")),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer()).map((o) => encodeIdentify(o)),
  fc.string({ minLength: 1, maxLength: 30 }).map((s) => encodeAuth(s)),
);

const validStream = fc.array(command, { maxLength: 12 }).map((cmds) => bytes(MAGIC_V2, ...cmds));

/** Flips, inserts and deletes a few bytes. */
const mutatedStream = fc
  .tuple(
    validStream,
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom("flip", "insert", "delete")), { minLength: 1, maxLength: 4 }),
  )
  .map(([s, edits]) => {
    const a = Array.from(s);
    for (const [pos, value, op] of edits) {
      const p = a.length === 0 ? 0 : pos % a.length;
      if (op === "flip") a[p] = value;
      else if (op === "insert") a.splice(p, 0, value);
      else a.splice(p, 1);
    }
    return new Uint8Array(a);
  });

const cuts = fc.array(fc.nat(), { maxLength: 20 });

describe("CommandReader properties", () => {
  it("a valid stream parses completely and identically however it is cut", () => {
    fc.assert(
      fc.property(validStream, cuts, (stream, points) => {
        const reference = feed([stream]);
        expect(reference.some((c) => (c as { kind?: string }).kind === "ERROR")).toBe(false);
        expect(reference.at(-1)).toEqual({ end: null });
        expect(feed(cut(stream, points))).toEqual(reference);
      }),
      { numRuns: 400 },
    );
  });

  it("a mutated stream never throws and gives the same result however it is cut", () => {
    fc.assert(
      fc.property(mutatedStream, cuts, (stream, points) => {
        const reference = feed([stream]);
        expect(feed(cut(stream, points))).toEqual(reference);
        expect(feed(Array.from(stream, (b) => new Uint8Array([b])))).toEqual(reference);
      }),
      { numRuns: 400 },
    );
  });

  // reuseFin hands out well-formed FINs in one reused object; normalised at
  // once (as the connection executes them at once), every stream must read
  // exactly as without it, including FINs whose ids hold spaces, CRs or
  // newlines, which leave the fast path to the general parser.
  const rawFin = fc
    .tuple(fc.uint8Array({ minLength: 14, maxLength: 18 }), fc.constantFrom("\n", "\r\n", " x\n", "\r\r\n"))
    .map(([idBytes, end]) => bytes("FIN ", idBytes, end));
  const finStream = fc.array(fc.oneof(command, rawFin, rawFin), { maxLength: 12 }).map((cmds) => bytes(MAGIC_V2, ...cmds));

  it("reuseFin reads every stream as the allocating reader does, however it is cut", () => {
    const reuse = { ...OPTS, reuseFin: true };
    fc.assert(
      fc.property(fc.oneof(finStream, mutatedStream), cuts, (stream, points) => {
        const reference = feed([stream]);
        expect(feed([stream], reuse)).toEqual(reference);
        expect(feed(cut(stream, points), reuse)).toEqual(reference);
      }),
      { numRuns: 400 },
    );
  });

  it("random bytes never throw and end in bounded time", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), cuts, (noise, withMagic, points) => {
        const stream = withMagic ? bytes(MAGIC_V2, noise) : noise;
        expect(feed(cut(stream, points))).toEqual(feed([stream]));
        expect(feed(cut(stream, points), { ...OPTS, magic: false })).toEqual(feed([stream], { ...OPTS, magic: false }));
      }),
      { numRuns: 500 },
    );
  });

  it("nothing is yielded after an ERROR or DROP", () => {
    fc.assert(
      fc.property(mutatedStream, (stream) => {
        const out = feed([stream], OPTS, false) as { kind?: string }[];
        const stop = out.findIndex((c) => c.kind === "ERROR" || c.kind === "DROP");
        if (stop >= 0) expect(stop).toBe(out.length - 1);
      }),
      { numRuns: 300 },
    );
  });

  it("a huge declared size does not allocate before the bytes arrive", () => {
    const big: CommandReaderOptions = { maxMsgSize: 2 ** 31 - 1, maxBodySize: 2 ** 31 - 1, maxReqTimeout: 1000 };
    const before = process.memoryUsage().arrayBuffers;
    const readers: CommandReader[] = [];
    fc.assert(
      fc.property(
        fc.constantFrom("PUB t\n", "DPUB t 5\n", "IDENTIFY\n", "AUTH\n", "MPUB t\n"),
        fc.integer({ min: 2 ** 24, max: 2 ** 31 - 1 }),
        (line, size) => {
          const r = new CommandReader(big);
          const head = line === "MPUB t\n" ? bytes(MAGIC_V2, line, be32(size), be32(1), be32(size)) : bytes(MAGIC_V2, line, be32(size));
          r.push(bytes(head, "partial"));
          const c = r.next();
          expect(c === null || c.kind === "ERROR").toBe(true);
          readers.push(r); // keep them alive so an allocation would show
        },
      ),
      { numRuns: 100 },
    );
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(grown).toBeLessThan(16 * 1024 * 1024);
    expect(readers.length).toBe(100);
  });
});
