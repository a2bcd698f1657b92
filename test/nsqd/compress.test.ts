// The compression layers of D-TCP-NEGOTIATE: the Snappy framing codec (ours)
// against snappystream (npm, by others), and the runtime's raw DEFLATE
// transforms against node:zlib. Decoders are fed whole, byte by byte and split
// at every offset.
import { describe, expect, it } from "vitest";
import * as zlib from "node:zlib";
import { SnappyStream, UnsnappyStream } from "snappystream";
import { crc32c, maskedCrc32c, SnappyFrameDecoder, SnappyFrameEncoder } from "../../src/protocol/snappy-frame.ts";
import { compression } from "../../src/runtime/compression.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const concat = (parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

function streamThrough(stream: NodeJS.ReadWriteStream, input: Uint8Array[]): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    stream.on("data", (b: Buffer) => out.push(b));
    stream.on("end", () => resolve(new Uint8Array(Buffer.concat(out))));
    stream.on("error", reject);
    for (const i of input) stream.write(Buffer.from(i));
    stream.end();
  });
}

/** Pseudo-random but compressible input of `n` bytes. */
function sample(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = i % 7 === 0 ? x >>> 24 : 97 + (i % 13);
  }
  return out;
}

function decodeSplit(decoder: SnappyFrameDecoder | { push(b: Uint8Array): Uint8Array }, bytes: Uint8Array, cuts: number[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const c of [...cuts, bytes.length]) {
    parts.push(decoder.push(bytes.slice(at, c)));
    at = c;
  }
  return concat(parts);
}

describe("Snappy framing", () => {
  it("crc32c matches the standard check value and the masking of the framing format", () => {
    expect(crc32c(enc("123456789"))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    const c = crc32c(enc("abc"));
    expect(maskedCrc32c(enc("abc"))).toBe((((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0);
  });

  it("what we encode, snappystream decodes (compressed, uncompressed and multi-block chunks)", async () => {
    const e = new SnappyFrameEncoder(compression.snappyEncode);
    const inputs = [enc("OK"), sample(200_000), crypto.getRandomValues(new Uint8Array(5000))];
    const framed = inputs.map((i) => e.encode(i));
    expect([...framed[0]!.subarray(0, 10)]).toEqual([0xff, 6, 0, 0, ...enc("sNaPpY")]);
    const decoded = await streamThrough(new UnsnappyStream(), framed);
    expect(Buffer.compare(decoded, concat(inputs))).toBe(0);
  });

  it("what snappystream encodes, we decode: whole, byte by byte, and split at every offset", async () => {
    const input = concat([enc("IDENTIFY\n"), sample(3000, 7), enc("PUB t\n")]);
    const framed = await streamThrough(new SnappyStream(), [input]);
    expect(Buffer.compare(decodeSplit(new SnappyFrameDecoder(compression.snappyDecode), framed, []), input)).toBe(0);
    const bytewise = Array.from({ length: framed.length - 1 }, (_, i) => i + 1);
    expect(Buffer.compare(decodeSplit(new SnappyFrameDecoder(compression.snappyDecode), framed, bytewise), input)).toBe(0);
    for (let cut = 1; cut < framed.length; cut++) {
      expect(Buffer.compare(decodeSplit(new SnappyFrameDecoder(compression.snappyDecode), framed, [cut]), input), `cut ${cut}`).toBe(0);
    }
  });

  it("skippable and padding chunks are ignored; a bad checksum, a reserved chunk or a missing stream identifier is an error", () => {
    const e = new SnappyFrameEncoder(compression.snappyEncode);
    const framed = e.encode(enc("hello hello hello"));
    const skippable = new Uint8Array([0x80, 2, 0, 0, 9, 9, 0xfe, 1, 0, 0, 0]);
    const withSkips = concat([framed.subarray(0, 10), skippable, framed.subarray(10)]);
    expect(new TextDecoder().decode(new SnappyFrameDecoder(compression.snappyDecode).push(withSkips))).toBe("hello hello hello");

    const corrupt = framed.slice();
    corrupt[14] = corrupt[14]! ^ 1; // a checksum byte
    expect(() => new SnappyFrameDecoder(compression.snappyDecode).push(corrupt)).toThrow(/checksum/);
    const reserved = concat([framed.subarray(0, 10), new Uint8Array([0x02, 1, 0, 0, 0])]);
    expect(() => new SnappyFrameDecoder(compression.snappyDecode).push(reserved)).toThrow(/reserved/);
    expect(() => new SnappyFrameDecoder(compression.snappyDecode).push(framed.subarray(10))).toThrow(/stream identifier/);
  });
});

describe("raw DEFLATE transforms", () => {
  it("our sync-flushed deflate output decodes with node:zlib after every flush", () => {
    const d = compression.deflateRaw(6);
    const inflater = zlib.createInflateRaw();
    const pieces = [enc("OK"), sample(70_000, 3), enc("last")];
    const out: Uint8Array[] = [];
    for (const p of pieces) {
      const bytes = d.push(p, true);
      expect([...bytes.subarray(bytes.length - 4)]).toEqual([0, 0, 0xff, 0xff]); // sync flush marker
      out.push(bytes);
    }
    const all = zlib.inflateRawSync(Buffer.concat(out), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    expect(Buffer.compare(all, Buffer.concat(pieces))).toBe(0);
    inflater.close();
  });

  it("node:zlib's deflate output inflates: whole, byte by byte, and split at every offset", () => {
    const input = concat([enc("SUB t c\n"), sample(2000, 5)]);
    const compressed = new Uint8Array(zlib.deflateRawSync(input, { finishFlush: zlib.constants.Z_SYNC_FLUSH }));
    const decode = (cuts: number[]) => {
      const i = compression.inflateRaw();
      return decodeSplit({ push: (b) => i.push(b, true) }, compressed, cuts);
    };
    expect(Buffer.compare(decode([]), input)).toBe(0);
    expect(Buffer.compare(decode(Array.from({ length: compressed.length - 1 }, (_, k) => k + 1)), input)).toBe(0);
    for (let cut = 1; cut < compressed.length; cut++) expect(Buffer.compare(decode([cut]), input), `cut ${cut}`).toBe(0);
  });

  it("corrupt deflate input throws", () => {
    const i = compression.inflateRaw();
    expect(() => i.push(new Uint8Array([0xff, 0xff, 0xff, 0xff]), true)).toThrow(SyntaxError);
  });
});
