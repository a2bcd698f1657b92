// The compression primitives of the runtime interface, shared by all three
// adapters.
//
// Why pure JavaScript for DEFLATE: nsqd needs a *synchronous* streaming
// deflater with sync flush (one flush per output-buffer flush, D-TCP-NEGOTIATE)
// so that the connection's write path stays free of promises. node:zlib's
// streams are asynchronous, and its only synchronous path (the one behind
// deflateRawSync) closes the engine after one call, on Node, Bun and Deno
// alike. fflate 0.8.3's sync flush produced streams that zlib rejected
// ("invalid stored block lengths"). pako is a port of zlib itself: its
// Z_SYNC_FLUSH output is byte-compatible with Go's compress/flate and with
// node:zlib, and it behaves identically on every runtime.
//
// Snappy: snappyjs is a pure JavaScript block codec; the framing format (stream
// identifier, masked CRC-32C) lives in src/protocol/snappy-frame.ts.
import { Deflate, Inflate, Z_SYNC_FLUSH } from "pako";
import * as snappy from "snappyjs";
import type { ByteTransform, Compression } from "./types.ts";

const EMPTY = new Uint8Array(0);

function joined(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 0) return EMPTY;
  if (chunks.length === 1) return chunks[0]!;
  let total = 0;
  for (const c of chunks) total += c.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

class DeflateTransform implements ByteTransform {
  readonly #engine: Deflate;
  #chunks: Uint8Array[] = [];

  constructor(level: number) {
    this.#engine = new Deflate({ level: level as 1, raw: true, chunkSize: 64 * 1024 });
    // pako hands each output block over once and never writes into it again.
    this.#engine.onData = (chunk: Uint8Array) => void this.#chunks.push(chunk);
  }

  push(bytes: Uint8Array, flush: boolean): Uint8Array {
    if (bytes.length === 0 && !flush) return EMPTY;
    if (!this.#engine.push(bytes, flush ? Z_SYNC_FLUSH : 0)) {
      throw new Error(`deflate failed: ${this.#engine.msg || this.#engine.err}`);
    }
    const out = joined(this.#chunks);
    this.#chunks = [];
    return out;
  }
}

class InflateTransform implements ByteTransform {
  readonly #engine: Inflate;
  #chunks: Uint8Array[] = [];

  constructor() {
    this.#engine = new Inflate({ raw: true, chunkSize: 64 * 1024 });
    this.#engine.onData = (chunk: Uint8Array) => void this.#chunks.push(chunk);
  }

  push(bytes: Uint8Array): Uint8Array {
    if (bytes.length === 0) return EMPTY;
    // Always Z_SYNC_FLUSH: hand over everything decodable from what arrived.
    this.#engine.push(bytes, Z_SYNC_FLUSH);
    if (this.#engine.err !== 0) {
      this.#chunks = [];
      throw new SyntaxError(`inflate failed: ${this.#engine.msg || this.#engine.err}`);
    }
    const out = joined(this.#chunks);
    this.#chunks = [];
    return out;
  }
}

export const compression: Compression = {
  deflateRaw: (level) => new DeflateTransform(level),
  inflateRaw: () => new InflateTransform(),
  // snappyjs returns the type it was given (Uint8Array here); its own typings,
  // which Deno reads, say any of ArrayBuffer | Buffer | Uint8Array.
  snappyEncode: (block) => snappy.compress(block) as Uint8Array,
  snappyDecode: (block, maxLength) => snappy.uncompress(block, maxLength) as Uint8Array,
};
