// Server-to-client framing of the V2 protocol (D-TCP-FRAME) and the message
// payload layout (D-TCP-MSG), plus the client-side incremental FrameReader.
//
//   frame   = [size uint32][frame_type int32][data]      size = 4 + len(data)
//   message = [timestamp int64 ns][attempts uint16][id 16 bytes][body]
//
// All integers are big-endian. Integers are written byte by byte rather than
// through a DataView so the hot path (writeMessageFrame) allocates nothing.

import { concatBytes, utf8 } from "./text.ts";

// Client command encoders live in their own file; re-exported here so that
// everything a client needs to speak V2 comes from one module.
export * from "./client-commands.ts";

/** D-TCP-FRAME frame types. */
export const FrameType = { Response: 0, Error: 1, Message: 2 } as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** `[size][frame_type]` */
export const FRAME_HEADER_SIZE = 8;
/** D-TCP-MSG: `[timestamp 8][attempts 2][id 16]` before the body. */
export const MESSAGE_HEADER_SIZE = 26;
/** D-TCP-MSGID: ids are 16 ASCII bytes. */
export const MESSAGE_ID_SIZE = 16;

const TWO_32 = 4294967296;

export function writeUint32(target: Uint8Array, offset: number, value: number): void {
  target[offset] = value >>> 24;
  target[offset + 1] = value >>> 16;
  target[offset + 2] = value >>> 8;
  target[offset + 3] = value;
}

/** Reads a big-endian int32 (signed, as the original's readLen does). */
export function readInt32(source: Uint8Array, offset: number): number {
  return (source[offset]! << 24) | (source[offset + 1]! << 16) | (source[offset + 2]! << 8) | source[offset + 3]!;
}

/**
 * Writes an integer-valued double as a big-endian int64 without BigInt: split
 * into high and low 32-bit words. Exact for every integer a double can hold
 * (|v| < 2^63); the value itself is what limits precision (see readInt64).
 */
export function writeInt64(target: Uint8Array, offset: number, value: number): void {
  const hi = Math.floor(value / TWO_32);
  const lo = value - hi * TWO_32;
  writeUint32(target, offset, hi >>> 0);
  writeUint32(target, offset + 4, lo >>> 0);
}

/**
 * Reads a big-endian int64 into a JS number. Nanosecond timestamps (~1.7e18)
 * exceed 2^53, so the result is rounded to the nearest double: for current
 * dates that is a step of 256 ns. Sub-microsecond precision of a timestamp is
 * therefore lost when it passes through a number; nothing in NSQ depends on it
 * (timestamps are only shown and used for e2e latency in ms).
 */
export function readInt64(source: Uint8Array, offset: number): number {
  return readInt32(source, offset) * TWO_32 + (readInt32(source, offset + 4) >>> 0);
}

function encodeFrame(type: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_SIZE + data.length);
  writeUint32(out, 0, data.length + 4);
  writeUint32(out, 4, type);
  out.set(data, FRAME_HEADER_SIZE);
  return out;
}

/** A response frame (type 0) carrying `data` (UTF-8 when a string). */
export function encodeResponse(data: Uint8Array | string): Uint8Array {
  return encodeFrame(FrameType.Response, typeof data === "string" ? utf8(data) : data);
}

/** An error frame (type 1); `text` is the whole data, e.g. `E_INVALID invalid command FOO` (D-TCP-ERR-FORMAT). */
export function encodeError(text: string | Uint8Array): Uint8Array {
  return encodeFrame(FrameType.Error, typeof text === "string" ? utf8(text) : text);
}

/** `OK` response: `00 00 00 06 00 00 00 00 4F 4B`. Shared: never mutate. */
export const OK_FRAME: Uint8Array = encodeResponse("OK");
/** D-TCP-HEARTBEAT: response `_heartbeat_` (size 0x0F). Shared: never mutate. */
export const HEARTBEAT_FRAME: Uint8Array = encodeResponse("_heartbeat_");
/** D-TCP-CLS: response `CLOSE_WAIT` (size 0x0E). Shared: never mutate. */
export const CLOSE_WAIT_FRAME: Uint8Array = encodeResponse("CLOSE_WAIT");

/** Bytes a whole message frame takes for a body of `bodyLength` bytes. */
export function messageFrameSize(bodyLength: number): number {
  return FRAME_HEADER_SIZE + MESSAGE_HEADER_SIZE + bodyLength;
}

/** Writes a message payload (D-TCP-MSG: timestamp, attempts, id, body) at `offset`. */
export function writePayload(target: Uint8Array, offset: number, timestampNs: number, attempts: number, id: Uint8Array, body: Uint8Array): void {
  if (id.length !== MESSAGE_ID_SIZE) throw new RangeError(`message id must be ${MESSAGE_ID_SIZE} bytes, got ${id.length}`);
  writeInt64(target, offset, timestampNs);
  target[offset + 8] = attempts >>> 8;
  target[offset + 9] = attempts;
  target.set(id, offset + 10);
  target.set(body, offset + MESSAGE_HEADER_SIZE);
}

/**
 * Writes a whole message frame `[size][type=2][timestamp][attempts][id][body]`
 * at `offset` of `target` (the caller's output buffer, which must have
 * messageFrameSize(body.length) bytes free there) and returns the bytes
 * written. `attempts` is written as uint16 (wraps at 65535, D-TCP-MSG).
 */
export function writeMessageFrame(target: Uint8Array, offset: number, timestampNs: number, attempts: number, id: Uint8Array, body: Uint8Array): number {
  const size = messageFrameSize(body.length);
  if (offset + size > target.length) throw new RangeError(`message frame of ${size} bytes does not fit at offset ${offset} of ${target.length}`);
  writeUint32(target, offset, size - 4);
  writeUint32(target, offset + 4, FrameType.Message);
  writePayload(target, offset + FRAME_HEADER_SIZE, timestampNs, attempts, id, body);
  return size;
}

/** The message payload alone (the disk queue's record and the frame's data). */
export function encodeMessagePayload(timestampNs: number, attempts: number, id: Uint8Array, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(MESSAGE_HEADER_SIZE + body.length);
  writePayload(out, 0, timestampNs, attempts, id, body);
  return out;
}

export interface DecodedMessage {
  /** Unix ns, rounded to the nearest double (see readInt64). */
  timestampNs: number;
  attempts: number;
  /** View of the 16 id bytes. */
  id: Uint8Array;
  /** View of the body. */
  body: Uint8Array;
}

/** Decodes a message payload; `id` and `body` are views of `bytes`. Throws SyntaxError when shorter than 26 bytes. */
export function decodeMessagePayload(bytes: Uint8Array): DecodedMessage {
  if (bytes.length < MESSAGE_HEADER_SIZE) {
    throw new SyntaxError(`message payload of ${bytes.length} bytes is shorter than the ${MESSAGE_HEADER_SIZE}-byte header`);
  }
  return {
    timestampNs: readInt64(bytes, 0),
    attempts: (bytes[8]! << 8) | bytes[9]!,
    id: bytes.subarray(10, 26),
    body: bytes.subarray(MESSAGE_HEADER_SIZE),
  };
}

export interface Frame {
  type: FrameType;
  /** Views of the pushed chunk when the frame lay in one chunk; otherwise one fresh copy. */
  data: Uint8Array;
}

export interface FrameReaderOptions {
  /** Largest accepted data size in bytes; a bigger declared size throws RangeError. Default 2^31 - 1. */
  maxFrameSize?: number;
}

/**
 * Client side: splits the server's byte stream into frames. `push(chunk)`
 * returns the frames completed by this chunk and keeps only the bytes of an
 * unfinished frame (as views; joined once when the frame completes). The
 * reader takes ownership of pushed chunks: do not reuse their memory.
 *
 * A size below 4 or an unknown frame type throws SyntaxError, an oversized
 * frame RangeError; after a throw the stream is unusable (close the connection).
 */
export class FrameReader {
  readonly #maxFrameSize: number;
  readonly #head = new Uint8Array(FRAME_HEADER_SIZE);
  #headLen = 0;
  /** Data bytes of the current frame, or -1 while reading a header. */
  #need = -1;
  #type: FrameType = 0;
  #parts: Uint8Array[] = [];
  #partsLen = 0;

  constructor(options: FrameReaderOptions = {}) {
    this.#maxFrameSize = options.maxFrameSize ?? 0x7fffffff;
  }

  /** Bytes held for an unfinished frame. */
  get pending(): number {
    return this.#headLen + this.#partsLen;
  }

  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    const end = chunk.length;
    let pos = 0;
    while (pos < end) {
      if (this.#need < 0) {
        let size: number;
        let type: number;
        if (this.#headLen === 0 && end - pos >= FRAME_HEADER_SIZE) {
          size = readInt32(chunk, pos);
          type = readInt32(chunk, pos + 4);
          pos += FRAME_HEADER_SIZE;
        } else {
          const take = Math.min(FRAME_HEADER_SIZE - this.#headLen, end - pos);
          this.#head.set(chunk.subarray(pos, pos + take), this.#headLen);
          this.#headLen += take;
          pos += take;
          if (this.#headLen < FRAME_HEADER_SIZE) break;
          this.#headLen = 0;
          size = readInt32(this.#head, 0);
          type = readInt32(this.#head, 4);
        }
        size >>>= 0;
        if (size < 4) throw new SyntaxError(`frame size ${size} is smaller than the 4-byte frame type`);
        if (size - 4 > this.#maxFrameSize) throw new RangeError(`frame of ${size - 4} bytes exceeds the limit of ${this.#maxFrameSize}`);
        if (type !== FrameType.Response && type !== FrameType.Error && type !== FrameType.Message) {
          throw new SyntaxError(`unknown frame type ${type}`);
        }
        this.#type = type;
        this.#need = size - 4;
        if (this.#need === 0) {
          frames.push({ type: this.#type, data: new Uint8Array(0) });
          this.#need = -1;
          continue;
        }
      }
      const avail = end - pos;
      if (this.#partsLen === 0 && avail >= this.#need) {
        frames.push({ type: this.#type, data: chunk.subarray(pos, pos + this.#need) });
        pos += this.#need;
        this.#need = -1;
        continue;
      }
      const take = Math.min(this.#need - this.#partsLen, avail);
      this.#parts.push(chunk.subarray(pos, pos + take));
      this.#partsLen += take;
      pos += take;
      if (this.#partsLen === this.#need) {
        frames.push({ type: this.#type, data: concatBytes(this.#parts, this.#partsLen) });
        this.#parts = [];
        this.#partsLen = 0;
        this.#need = -1;
      }
    }
    return frames;
  }
}
