// An allocation-free scanner for the server's frame stream (D-TCP-FRAME), used
// by the benchmark reader. src/protocol's FrameReader returns a Frame object and
// a view per frame, which is right for a client library but is one to three
// objects per message at several hundred thousand messages per second; here the
// caller gets (type, buffer, start, end) through a method call instead, and
// bytes are copied only when a frame spans two chunks.

import { FRAME_HEADER_SIZE, FrameType, readInt32 } from "../src/protocol/frames.ts";

export interface FrameSink {
  /** One complete frame: its data is `buf[start, end)`; valid only during the call. */
  frame(type: number, buf: Uint8Array, start: number, end: number): void;
}

export class FrameScanner {
  readonly #sink: FrameSink;
  /** Bytes of a frame that spans chunks (header included), or null. */
  #carry: Uint8Array | null = null;
  #carryLen = 0;
  /** Total bytes of the carried frame once its header is known, else -1. */
  #carryNeed = -1;

  constructor(sink: FrameSink) {
    this.#sink = sink;
  }

  push(chunk: Uint8Array): void {
    let pos = 0;
    const end = chunk.length;
    if (this.#carry !== null) {
      pos = this.#fillCarry(chunk);
      if (pos < 0) return;
    }
    while (end - pos >= FRAME_HEADER_SIZE) {
      const size = readInt32(chunk, pos) >>> 0;
      if (size < 4) throw new SyntaxError(`frame size ${size} is smaller than the 4-byte frame type`);
      const total = 4 + size;
      if (end - pos < total) break;
      const type = readInt32(chunk, pos + 4);
      this.#check(type);
      this.#sink.frame(type, chunk, pos + FRAME_HEADER_SIZE, pos + total);
      pos += total;
    }
    if (pos < end) this.#startCarry(chunk, pos);
  }

  #check(type: number): void {
    if (type !== FrameType.Response && type !== FrameType.Error && type !== FrameType.Message) {
      throw new SyntaxError(`unknown frame type ${type}`);
    }
  }

  #startCarry(chunk: Uint8Array, pos: number): void {
    const rest = chunk.length - pos;
    let need = -1;
    if (rest >= 4) {
      need = 4 + (readInt32(chunk, pos) >>> 0);
      if (need < FRAME_HEADER_SIZE) throw new SyntaxError(`frame size ${need - 4} is smaller than the 4-byte frame type`);
    }
    const cap = Math.max(need, 64);
    this.#carry = new Uint8Array(cap);
    this.#carry.set(chunk.subarray(pos), 0);
    this.#carryLen = rest;
    this.#carryNeed = need;
  }

  /** Completes the carried frame from `chunk`; returns the offset after it, or -1 when the chunk ran out. */
  #fillCarry(chunk: Uint8Array): number {
    let carry = this.#carry!;
    let pos = 0;
    if (this.#carryNeed < 0) {
      const take = Math.min(4 - this.#carryLen, chunk.length);
      carry.set(chunk.subarray(0, take), this.#carryLen);
      this.#carryLen += take;
      pos = take;
      if (this.#carryLen < 4) return -1;
      const size = readInt32(carry, 0) >>> 0;
      if (size < 4) throw new SyntaxError(`frame size ${size} is smaller than the 4-byte frame type`);
      this.#carryNeed = 4 + size;
      if (carry.length < this.#carryNeed) {
        const grown = new Uint8Array(this.#carryNeed);
        grown.set(carry.subarray(0, this.#carryLen));
        carry = this.#carry = grown;
      }
    }
    const take = Math.min(this.#carryNeed - this.#carryLen, chunk.length - pos);
    carry.set(chunk.subarray(pos, pos + take), this.#carryLen);
    this.#carryLen += take;
    pos += take;
    if (this.#carryLen < this.#carryNeed) return -1;
    const type = readInt32(carry, 4);
    this.#check(type);
    const total = this.#carryNeed;
    this.#carry = null;
    this.#carryLen = 0;
    this.#carryNeed = -1;
    this.#sink.frame(type, carry, FRAME_HEADER_SIZE, total);
    return pos;
  }
}
