// Request bodies read as the original reads them, with a bound: never more
// than a handler's limit is held, and a body the original ignores is drained
// chunk by chunk without being kept.
import { concatBytes } from "../../protocol/text.ts";

/** Content-Length as a number, or -1 when absent or unreadable (a chunked body). */
export function contentLength(req: Request): number {
  const v = req.headers.get("content-length");
  if (v === null || !/^\d+$/.test(v.trim())) return -1;
  return Number(v.trim());
}

export interface LimitedRead {
  bytes: Uint8Array;
  /** The stream failed before the limit or its end was reached. */
  failed: boolean;
}

/**
 * Read at most `limit` bytes of the body (io.LimitReader of the original):
 * stops pulling once `limit` bytes are in, so a longer body is never held
 * whole.
 */
export async function readLimited(body: ReadableStream<Uint8Array> | null, limit: number): Promise<LimitedRead> {
  if (body === null) return { bytes: new Uint8Array(0), failed: false };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let failed = false;
  try {
    while (total < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      const take = Math.min(value.length, limit - total);
      chunks.push(take === value.length ? value : value.subarray(0, take));
      total += take;
    }
  } catch {
    failed = true;
  }
  if (total >= limit || failed) reader.cancel().catch(() => {});
  else reader.releaseLock();
  const [only] = chunks;
  return { bytes: chunks.length === 1 && only !== undefined ? only : concatBytes(chunks, total), failed };
}

/** Read and discard a body the original reads and ignores. False when reading failed. */
export async function drain(body: ReadableStream<Uint8Array> | null): Promise<boolean> {
  if (body === null) return true;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done } = await reader.read();
      if (done) return true;
    }
  } catch {
    return false;
  }
}

/**
 * Pulls bytes from a body stream for a parser that reads it field by field,
 * keeping only what has not been consumed yet. A read error counts as the end
 * of the body, which the parser reports as the truncation of the field it was
 * reading.
 */
export class BodySource {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array> | null;
  #chunks: Uint8Array[] = [];
  #head = 0;
  #buffered = 0;
  #ended = false;

  constructor(body: ReadableStream<Uint8Array> | null) {
    this.#reader = body === null ? null : body.getReader();
    if (this.#reader === null) this.#ended = true;
  }

  get buffered(): number {
    return this.#buffered;
  }

  /** Pull until `n` bytes are buffered; false when the body ends first. */
  async fill(n: number): Promise<boolean> {
    const reader = this.#reader;
    while (this.#buffered < n) {
      if (this.#ended || reader === null) return false;
      try {
        const { done, value } = await reader.read();
        if (done) {
          this.#ended = true;
          return false;
        }
        if (value.length > 0) {
          this.#chunks.push(value);
          this.#buffered += value.length;
        }
      } catch {
        this.#ended = true;
        return false;
      }
    }
    return true;
  }

  /** Take `n` buffered bytes: a view when they sit in one chunk, one copy when they span chunks. */
  take(n: number): Uint8Array {
    if (n > this.#buffered) throw new RangeError(`take(${n}) with ${this.#buffered} bytes buffered`);
    const first = this.#chunks[0];
    if (first !== undefined && first.length - this.#head >= n) {
      const out = first.subarray(this.#head, this.#head + n);
      this.#advance(n);
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const c = this.#chunks[0];
      if (c === undefined) break;
      const part = Math.min(c.length - this.#head, n - filled);
      out.set(c.subarray(this.#head, this.#head + part), filled);
      filled += part;
      this.#advance(part);
    }
    return out;
  }

  #advance(n: number): void {
    this.#head += n;
    this.#buffered -= n;
    if (this.#head === this.#chunks[0]?.length) {
      this.#chunks.shift();
      this.#head = 0;
    }
  }

  /** A big-endian int32 from the next 4 buffered bytes. */
  readInt32(): number {
    const b = this.take(4);
    return new DataView(b.buffer, b.byteOffset, 4).getInt32(0);
  }

  /** Stop reading: a body not read to its end is cancelled. */
  close(): void {
    if (!this.#ended) this.#reader?.cancel().catch(() => {});
    this.#ended = true;
  }
}
