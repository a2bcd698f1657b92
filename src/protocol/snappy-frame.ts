// The Snappy framing format (D-TCP-NEGOTIATE): the stream golang/snappy's
// Reader/Writer and nsqjs's snappystream speak. A stream starts with the
// stream identifier chunk; data travels in chunks of at most 65536
// uncompressed bytes, each carrying the masked CRC-32C of its uncompressed
// data:
//
//   [type:1][length:3 little endian][payload:length]
//   0xff  stream identifier, payload "sNaPpY"
//   0x00  compressed data:   [masked crc32c:4 LE][snappy block]
//   0x01  uncompressed data: [masked crc32c:4 LE][bytes]
//   0xfe  padding, 0x80-0xfd skippable: ignored
//   0x02-0x7f reserved unskippable: an error
//
// Pure: the snappy *block* codec is injected (the runtime's Compression).
// The decoder is incremental: it keeps a partial chunk as views and joins it
// once, when the chunk is complete.
import { errorText } from "../common/errors.ts";

const STREAM_ID = new Uint8Array([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]); // ff 06 00 00 "sNaPpY"
const CHUNK_COMPRESSED = 0x00;
const CHUNK_UNCOMPRESSED = 0x01;
const CHUNK_PADDING = 0xfe;
const CHUNK_STREAM_ID = 0xff;
/** Largest uncompressed payload of one data chunk. */
export const MAX_BLOCK_SIZE = 65536;
/** Largest chunk payload the decoder accepts: a worst-case compressed block plus the CRC. */
const MAX_CHUNK_LENGTH = 4 + 32 + MAX_BLOCK_SIZE + Math.ceil(MAX_BLOCK_SIZE / 6);
const EMPTY = new Uint8Array(0);

// ---- CRC-32C (Castagnoli), slicing by 8 -------------------------------------

const CRC_TABLES: Uint32Array[] = (() => {
  const tables: Uint32Array[] = [];
  const t0 = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t0[i] = c >>> 0;
  }
  tables.push(t0);
  for (let t = 1; t < 8; t++) {
    const prev = tables[t - 1]!;
    const cur = new Uint32Array(256);
    for (let i = 0; i < 256; i++) cur[i] = (prev[i]! >>> 8) ^ t0[prev[i]! & 0xff]!;
    tables.push(cur);
  }
  return tables;
})();

/** CRC-32C of `bytes`. */
export function crc32c(bytes: Uint8Array): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC_TABLES as [
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
  ];
  let crc = 0xffffffff;
  let i = 0;
  const n = bytes.length;
  for (; i + 8 <= n; i += 8) {
    const a = crc ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    crc =
      t7[a & 0xff]! ^
      t6[(a >>> 8) & 0xff]! ^
      t5[(a >>> 16) & 0xff]! ^
      t4[a >>> 24]! ^
      t3[bytes[i + 4]!]! ^
      t2[bytes[i + 5]!]! ^
      t1[bytes[i + 6]!]! ^
      t0[bytes[i + 7]!]!;
  }
  for (; i < n; i++) crc = t0[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The framing format's masked checksum: rotate right by 15, add a constant. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const c = crc32c(bytes);
  return (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0;
}

// ---- encoder ----------------------------------------------------------------

export type BlockEncoder = (block: Uint8Array) => Uint8Array;
export type BlockDecoder = (block: Uint8Array, maxLength: number) => Uint8Array;

/** Turns bytes into framed chunks; the first call also emits the stream identifier. */
export class SnappyFrameEncoder {
  readonly #encodeBlock: BlockEncoder;
  #started = false;

  constructor(encodeBlock: BlockEncoder) {
    this.#encodeBlock = encodeBlock;
  }

  /** The framed form of `bytes` (empty input gives nothing, not even the identifier). */
  encode(bytes: Uint8Array): Uint8Array {
    if (bytes.length === 0) return EMPTY;
    const parts: Uint8Array[] = [];
    let total = 0;
    if (!this.#started) {
      this.#started = true;
      parts.push(STREAM_ID);
      total += STREAM_ID.length;
    }
    for (let at = 0; at < bytes.length; at += MAX_BLOCK_SIZE) {
      const block = bytes.subarray(at, Math.min(at + MAX_BLOCK_SIZE, bytes.length));
      const crc = maskedCrc32c(block);
      const compressed = this.#encodeBlock(block);
      // As golang/snappy does: keep the compressed form only if it saves at least 1/8.
      const useCompressed = compressed.length < block.length - (block.length >>> 3);
      const payload = useCompressed ? compressed : block;
      const header = new Uint8Array(8);
      const length = payload.length + 4;
      header[0] = useCompressed ? CHUNK_COMPRESSED : CHUNK_UNCOMPRESSED;
      header[1] = length & 0xff;
      header[2] = (length >>> 8) & 0xff;
      header[3] = (length >>> 16) & 0xff;
      new DataView(header.buffer).setUint32(4, crc, true);
      parts.push(header, payload);
      total += 8 + payload.length;
    }
    const out = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

// ---- decoder ----------------------------------------------------------------

/** Incremental decoder of a framed stream. Errors are SyntaxErrors and leave the decoder dead. */
export class SnappyFrameDecoder {
  readonly #decodeBlock: BlockDecoder;
  /** Bytes of an incomplete chunk, kept as views of the pushed chunks. */
  #pending: Uint8Array[] = [];
  #pendingLength = 0;
  /** Bytes the pending chunk needs before it is worth joining: its header, then all of it. */
  #need = 4;
  #sawStreamId = false;
  #dead: SyntaxError | null = null;

  constructor(decodeBlock: BlockDecoder) {
    this.#decodeBlock = decodeBlock;
  }

  /** Feed bytes; returns the uncompressed data of every chunk completed by them (possibly empty). */
  push(bytes: Uint8Array): Uint8Array {
    if (this.#dead !== null) throw this.#dead;
    if (bytes.length === 0) return EMPTY;
    let buf = bytes;
    if (this.#pendingLength > 0) {
      this.#pending.push(bytes);
      this.#pendingLength += bytes.length;
      // Still short of the chunk (or of its header): keep the views, join nothing.
      if (this.#pendingLength < this.#need) return EMPTY;
      buf = join(this.#pending, this.#pendingLength);
      this.#pending = [];
      this.#pendingLength = 0;
    }
    const out: Uint8Array[] = [];
    let outLength = 0;
    let at = 0;
    try {
      while (buf.length - at >= 4) {
        const type = buf[at]!;
        const length = buf[at + 1]! | (buf[at + 2]! << 8) | (buf[at + 3]! << 16);
        if (!this.#sawStreamId && type !== CHUNK_STREAM_ID) throw new SyntaxError("snappy: stream does not start with the stream identifier");
        if ((type === CHUNK_COMPRESSED || type === CHUNK_UNCOMPRESSED) && (length < 4 || length > MAX_CHUNK_LENGTH)) {
          throw new SyntaxError(`snappy: bad data chunk length ${length}`);
        }
        if (buf.length - at - 4 < length) break;
        const payload = buf.subarray(at + 4, at + 4 + length);
        at += 4 + length;
        if (type === CHUNK_STREAM_ID) {
          if (length !== 6 || !sameBytes(payload, STREAM_ID.subarray(4))) throw new SyntaxError("snappy: bad stream identifier");
          this.#sawStreamId = true;
          continue;
        }
        if (type === CHUNK_COMPRESSED || type === CHUNK_UNCOMPRESSED) {
          const expected = new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0, true);
          const body = payload.subarray(4);
          let data: Uint8Array;
          if (type === CHUNK_UNCOMPRESSED) {
            if (body.length > MAX_BLOCK_SIZE) throw new SyntaxError(`snappy: uncompressed chunk of ${body.length} bytes`);
            data = body;
          } else {
            try {
              data = this.#decodeBlock(body, MAX_BLOCK_SIZE);
            } catch (e) {
              throw new SyntaxError(`snappy: corrupt compressed chunk (${errorText(e)})`);
            }
          }
          if (maskedCrc32c(data) !== expected) throw new SyntaxError("snappy: checksum mismatch");
          out.push(data);
          outLength += data.length;
          continue;
        }
        if (type === CHUNK_PADDING || (type >= 0x80 && type <= 0xfd)) continue; // skippable
        throw new SyntaxError(`snappy: reserved unskippable chunk type 0x${type.toString(16).padStart(2, "0")}`);
      }
    } catch (e) {
      this.#dead = e as SyntaxError;
      throw e;
    }
    if (at < buf.length) {
      const rest = buf.subarray(at);
      this.#pending.push(rest);
      this.#pendingLength = rest.length;
      this.#need = rest.length >= 4 ? 4 + (rest[1]! | (rest[2]! << 8) | (rest[3]! << 16)) : 4;
    }
    if (out.length === 1) return out[0]!;
    return join(out, outLength);
  }
}

function join(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 0) return EMPTY;
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
