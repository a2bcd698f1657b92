// A message as nsqd holds it (D-TCP-MSG). The body and timestamp are shared by
// the copies a topic hands to its channels; attempts and the in-flight /
// deferred bookkeeping belong to one channel's copy.
//
// Memory layout: a message in flight, deferred, or at the head of a memory
// queue is one object of numbers plus a view of its body (bodies of one MPUB
// share a buffer: the socket chunk they arrived in, or one copy of them); one
// further back in a memory queue is kept as bytes, not as an object
// (message-queue.ts). Its id is not kept as bytes or as a string:
// the 16 lowercase hex digits nsqd makes (D-TCP-MSGID) are a 64-bit value, kept
// as two 32-bit halves (`idHi`, `idLo`), written out as hex where a frame or a
// record needs them, and looked up in the in-flight and deferred maps through
// IdMap (id-map.ts) without building a key. An id that is not 16 lowercase hex
// digits (a file from elsewhere) keeps its bytes in `raw`, and the halves are
// hashes of them.
import type { HeapItem } from "./heap.ts";
import { FRAME_HEADER_SIZE, FrameType, MESSAGE_HEADER_SIZE, readInt64, writeInt64, writeUint32 } from "../protocol/frames.ts";

const HEX = new TextEncoder().encode("0123456789abcdef");
/** Value of each byte as a lowercase hex digit, -1 when it is not one. */
const HEX_VALUE = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let i = 0; i < 16; i++) t[HEX[i]!] = i;
  return t;
})();

/** The two halves of the id parsed last (parseId), so that parsing allocates nothing. */
export const parsed = { hi: 0, lo: 0, raw: null as Uint8Array | null };

/**
 * Parses the 16 id bytes at `bytes[at..at+16]` into `parsed`: the halves of
 * their hex value, or (not 16 lowercase hex digits) hashes of them with `raw`
 * a copy of the bytes.
 */
export function parseId(bytes: Uint8Array, at = 0): void {
  let hi = 0;
  let lo = 0;
  let bad = 0;
  for (let i = 0; i < 8; i++) {
    const v = HEX_VALUE[bytes[at + i]!]!;
    bad |= v;
    hi = (hi << 4) | (v & 15);
  }
  for (let i = 8; i < 16; i++) {
    const v = HEX_VALUE[bytes[at + i]!]!;
    bad |= v;
    lo = (lo << 4) | (v & 15);
  }
  if (bad >= 0) {
    parsed.hi = hi;
    parsed.lo = lo;
    parsed.raw = null;
    return;
  }
  // Two FNV-1a hashes (different offsets) stand in for the halves.
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < 16; i++) {
    h1 = Math.imul(h1 ^ bytes[at + i]!, 0x01000193);
    h2 = Math.imul(h2 ^ bytes[at + i]!, 0x811c9dc5);
  }
  parsed.hi = h1 | 0;
  parsed.lo = h2 | 0;
  parsed.raw = bytes.slice(at, at + 16);
}

function writeHex32(out: Uint8Array, at: number, word: number): void {
  for (let i = 7; i >= 0; i--) {
    out[at + i] = HEX[word & 15]!;
    word >>>= 4;
  }
}

export class Message implements HeapItem {
  /** High and low 32 bits of the id's value (signed), or hashes of `raw`. */
  readonly idHi: number;
  readonly idLo: number;
  /** The id bytes when they are not 16 lowercase hex digits, else null. */
  readonly raw: Uint8Array | null;
  /** The body; a view into a larger buffer (an MPUB, a block of a memory queue) until ownBody(). */
  body: Uint8Array;
  /** Publish time in Unix nanoseconds (a double: sub-microsecond digits may be rounded). */
  readonly timestamp: number;
  attempts: number;
  /** Requested defer of a DPUB / `/pub?defer` (ms), applied when the topic hands the message to its channels. */
  deferMs = 0;

  // In-flight state (D-BEH-INFLIGHT).
  clientId = 0;
  deliveredAt = 0;
  /** In-flight deadline or deferred due time (ms since epoch), whichever heap the message is in. */
  due = 0;
  heapIndex = -1;
  /** The next message in the same IdMap bucket. */
  idNext: Message | null = null;

  // Where the message is stored (message-store.ts).
  /** Release-window sequence of the disk record it was read from, -1 when it did not come from disk (or was settled). */
  diskSeq = -1;
  /** It has an ADD entry in the channel's side log (a durable deferral or a spilled in-flight message). */
  inSide = false;
  /** A copy written at shutdown still waits, unread, at this place of the queue (its REF entry brought it back). */
  diskAt: { fileNum: number; pos: number } | null = null;

  constructor(idHi: number, idLo: number, raw: Uint8Array | null, body: Uint8Array, timestamp: number, attempts = 0) {
    this.idHi = idHi;
    this.idLo = idLo;
    this.raw = raw;
    this.body = body;
    this.timestamp = timestamp;
    this.attempts = attempts;
  }

  /** A message whose id is given as its 16 bytes. */
  static withId(id: Uint8Array, body: Uint8Array, timestamp: number, attempts = 0): Message {
    parseId(id);
    return new Message(parsed.hi, parsed.lo, parsed.raw, body, timestamp, attempts);
  }

  /** The message stored in a disk queue record (D-TCP-MSG layout); the body is a view of `record`. */
  static fromRecord(record: Uint8Array): Message {
    return Message.fromBytes(record, 0, record.length);
  }

  /** The message stored in `buf[at, at + len)` (D-TCP-MSG layout); the body is a view of `buf`. */
  static fromBytes(buf: Uint8Array, at: number, len: number): Message {
    if (len < MESSAGE_HEADER_SIZE) {
      throw new SyntaxError(`message payload of ${len} bytes is shorter than the ${MESSAGE_HEADER_SIZE}-byte header`);
    }
    parseId(buf, at + 10);
    return new Message(
      parsed.hi,
      parsed.lo,
      parsed.raw,
      buf.subarray(at + MESSAGE_HEADER_SIZE, at + len),
      readInt64(buf, at),
      (buf[at + 8]! << 8) | buf[at + 9]!,
    );
  }

  /**
   * Gives the message a body of its own when it is a view into a larger
   * buffer, so that a message kept for long (deferred) does not keep the rest
   * of that buffer alive.
   */
  ownBody(): void {
    const b = this.body;
    if (b.byteLength < b.buffer.byteLength) this.body = b.slice();
  }

  /** The 16 id bytes (a new array: for the rare paths that need them as bytes). */
  get id(): Uint8Array {
    const out = new Uint8Array(16);
    this.writeId(out, 0);
    return out;
  }

  /** The id as a latin-1 string (for maps outside the hot path). */
  get key(): string {
    return idKey(this.id);
  }

  writeId(target: Uint8Array, at: number): void {
    if (this.raw !== null) target.set(this.raw, at);
    else {
      writeHex32(target, at, this.idHi);
      writeHex32(target, at + 8, this.idLo);
    }
  }

  /** Whether this message has the id that parseId() left in `parsed`. */
  hasParsedId(): boolean {
    if (this.idHi !== parsed.hi || this.idLo !== parsed.lo) return false;
    const a = this.raw;
    const b = parsed.raw;
    if (a === null || b === null) return a === b;
    for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  /** A channel's own copy: same id, body and timestamp. */
  copy(): Message {
    const m = new Message(this.idHi, this.idLo, this.raw, this.body, this.timestamp, this.attempts);
    m.deferMs = this.deferMs;
    return m;
  }
}

/** Size of the message payload (timestamp, attempts, id, body). */
export function payloadSize(m: Message): number {
  return MESSAGE_HEADER_SIZE + m.body.length;
}

/** Writes the message payload (D-TCP-MSG: timestamp, attempts, id, body) at `offset`. */
export function writePayloadOf(target: Uint8Array, offset: number, m: Message): void {
  writeInt64(target, offset, m.timestamp);
  target[offset + 8] = m.attempts >>> 8;
  target[offset + 9] = m.attempts & 0xff;
  m.writeId(target, offset + 10);
  target.set(m.body, offset + MESSAGE_HEADER_SIZE);
}

/** The message payload as a new array. */
export function payloadOf(m: Message): Uint8Array {
  const out = new Uint8Array(payloadSize(m));
  writePayloadOf(out, 0, m);
  return out;
}

/** Writes a message frame (D-TCP-FRAME) at `offset`; returns its size. */
export function writeFrameOf(target: Uint8Array, offset: number, m: Message): number {
  const size = FRAME_HEADER_SIZE + MESSAGE_HEADER_SIZE + m.body.length;
  if (offset + size > target.length) throw new RangeError(`message frame of ${size} bytes does not fit at offset ${offset} of ${target.length}`);
  writeUint32(target, offset, size - 4);
  writeUint32(target, offset + 4, FrameType.Message);
  writePayloadOf(target, offset + FRAME_HEADER_SIZE, m);
  return size;
}

/** Latin-1 view of 16 id bytes, for map keys. */
export function idKey(id: Uint8Array): string {
  return String.fromCharCode(
    id[0]!,
    id[1]!,
    id[2]!,
    id[3]!,
    id[4]!,
    id[5]!,
    id[6]!,
    id[7]!,
    id[8]!,
    id[9]!,
    id[10]!,
    id[11]!,
    id[12]!,
    id[13]!,
    id[14]!,
    id[15]!,
  );
}

// The epoch of the original's snowflake ids (D-TCP-MSGID), in 2^20 ns ticks.
const TWEPOCH = 1288834974288;
const TWO_10 = 1024;

/**
 * Message ids as the original makes them (D-TCP-MSGID): a 64-bit value
 * `(tick - epoch) << 22 | node << 12 | sequence`, written as 16 lowercase hex
 * characters. The original sleeps when a tick's 4096 sequence numbers are used
 * up; a single-threaded server cannot sleep, so it borrows the next tick
 * instead, which keeps ids unique and increasing.
 */
export class IdGenerator {
  readonly #node: number;
  #lastTick = -1;
  #sequence = 0;
  /** The halves of the id made by the last nextHalves() call (signed 32-bit). */
  hi = 0;
  lo = 0;

  constructor(nodeId: number) {
    if (!Number.isInteger(nodeId) || nodeId < 0 || nodeId > 1023) throw new RangeError(`node id ${nodeId} is not in [0,1024)`);
    this.#node = nodeId;
  }

  /** Makes the next id into `hi` / `lo`. */
  nextHalves(): void {
    let tick = Math.floor((Date.now() * 1e6) / 1048576);
    if (tick <= this.#lastTick) {
      tick = this.#lastTick;
      this.#sequence++;
      if (this.#sequence > 4095) {
        tick++;
        this.#sequence = 0;
      }
    } else {
      this.#sequence = 0;
    }
    this.#lastTick = tick;
    const t = tick - TWEPOCH;
    // value = t * 2^22 + node * 2^12 + seq, split into two 32-bit words without BigInt.
    this.hi = Math.floor(t / TWO_10) | 0;
    this.lo = ((t % TWO_10) * 4194304 + this.#node * 4096 + this.#sequence) | 0;
  }

  /** The next id as its 16 hex bytes. */
  next(): Uint8Array {
    this.nextHalves();
    const out = new Uint8Array(16);
    writeHex32(out, 0, this.hi);
    writeHex32(out, 8, this.lo);
    return out;
  }
}
