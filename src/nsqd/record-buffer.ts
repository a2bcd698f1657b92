// A growable byte buffer of length-prefixed records ([int32 big-endian len][len
// bytes], the disk queue's record framing) waiting to be written out in one call,
// and the fsync of the files such buffers are written to.
import type { AppendFile } from "../runtime/types.ts";
import { MESSAGE_HEADER_SIZE } from "../protocol/frames.ts";
import { writePayloadOf, type Message } from "./message.ts";

/** Initial capacity; the buffer doubles as needed and shrinks back after a large burst. */
const INITIAL = 16 * 1024;

// A queue written at hundreds of MB/s fills a buffer of about a megabyte every
// turn and empties it at the turn's end. Growing that buffer again from 16 KiB
// each turn allocated, zeroed and copied twice the bytes written, so buffers
// past POOLED_MIN go, when emptied, to a small pool shared by every queue, and
// a buffer that must grow takes one from there first. The pool holds at most
// POOL_SIZE buffers of at most POOLED_MAX bytes: what a burst leaves behind is
// bounded whatever the number of queues.
const POOLED_MIN = 16 * INITIAL;
const POOLED_MAX = 4 * 1024 * 1024;
const POOL_SIZE = 4;
const pool: Uint8Array[] = [];

/** A pooled buffer of at least `need` bytes (the smallest there is), or null. */
function takePooled(need: number): Uint8Array | null {
  let best = -1;
  for (let i = 0; i < pool.length; i++) {
    const len = pool[i]!.length;
    if (len >= need && (best < 0 || len < pool[best]!.length)) best = i;
  }
  if (best < 0) return null;
  const b = pool[best]!;
  pool[best] = pool[pool.length - 1]!;
  pool.pop();
  return b;
}

/** Gives a buffer no longer used to the pool when it is worth keeping and there is room. */
function givePooled(b: Uint8Array): void {
  if (b.length >= POOLED_MIN && b.length <= POOLED_MAX && pool.length < POOL_SIZE) pool.push(b);
}

/** Buffers in the pool (for tests). */
export function pooledBuffers(): number {
  return pool.length;
}

export class RecordBuffer {
  #bytes: Uint8Array = new Uint8Array(0);
  #view: DataView = new DataView(this.#bytes.buffer);
  #length = 0;
  #records = 0;

  /** Framed bytes held. */
  get length(): number {
    return this.#length;
  }

  /** Records held. */
  get records(): number {
    return this.#records;
  }

  /** The framed bytes (a view, valid until the next change). */
  bytes(): Uint8Array {
    return this.#bytes.subarray(0, this.#length);
  }

  /** Appends [len][record]. */
  push(record: Uint8Array): void {
    const total = 4 + record.length;
    this.#reserve(total);
    const at = this.#length;
    this.#view.setInt32(at, record.length);
    this.#bytes.set(record, at + 4);
    this.#length = at + total;
    this.#records++;
  }

  /** Appends a message payload record (D-TCP-MSG layout) without building the payload first. */
  pushMessage(m: Message): void {
    const len = MESSAGE_HEADER_SIZE + m.body.length;
    this.#reserve(4 + len);
    const at = this.#length;
    this.#view.setInt32(at, len);
    writePayloadOf(this.#bytes, at + 4, m);
    this.#length = at + 4 + len;
    this.#records++;
  }

  /** Framed length of the record at byte offset `at`. */
  recordSize(at: number): number {
    return 4 + this.#view.getInt32(at);
  }

  /** Drops the first `bytes` bytes, which hold `records` records. */
  consume(bytes: number, records: number): void {
    if (bytes >= this.#length) {
      this.clear();
      return;
    }
    this.#bytes.copyWithin(0, bytes, this.#length);
    this.#length -= bytes;
    this.#records -= records;
  }

  clear(): void {
    this.#length = 0;
    this.#records = 0;
    // Give back what a burst made us take.
    if (this.#bytes.length >= POOLED_MIN) {
      givePooled(this.#bytes);
      this.#bytes = new Uint8Array(0);
      this.#view = new DataView(this.#bytes.buffer);
    }
  }

  #reserve(n: number): void {
    const need = this.#length + n;
    if (need <= this.#bytes.length) return;
    let next = takePooled(need);
    if (next === null) {
      let size = Math.max(INITIAL, this.#bytes.length * 2);
      while (size < need) size *= 2;
      next = new Uint8Array(size);
    }
    if (this.#length > 0) next.set(this.#bytes.subarray(0, this.#length));
    givePooled(this.#bytes);
    this.#bytes = next;
    this.#view = new DataView(next.buffer);
  }
}

/** fsync of `file` as a promise: off the event loop where the runtime can, else in place. */
export function fsyncFile(file: AppendFile): Promise<void> {
  if (file.syncAsync !== undefined) return file.syncAsync();
  try {
    file.sync();
    return Promise.resolve();
  } catch (err) {
    return Promise.reject(err);
  }
}
