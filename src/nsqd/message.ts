// A message as nsqd holds it (D-TCP-MSG). The id, body and timestamp are shared
// by the copies a topic hands to its channels; attempts and the in-flight /
// deferred bookkeeping belong to one channel's copy.
import type { HeapItem } from "./heap.ts";

export class Message implements HeapItem {
  /** 16 ASCII bytes. */
  readonly id: Uint8Array;
  /** The id as a string: the key of the in-flight and deferred maps. */
  readonly key: string;
  readonly body: Uint8Array;
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

  // Where the message is stored (message-store.ts).
  /** Release-window sequence of the disk record it was read from, -1 when it did not come from disk (or was settled). */
  diskSeq = -1;
  /** It has an ADD entry in the channel's side log (a durable deferral or a spilled in-flight message). */
  inSide = false;
  /** A copy written at shutdown still waits, unread, at this place of the queue (its REF entry brought it back). */
  diskAt: { fileNum: number; pos: number } | null = null;

  constructor(id: Uint8Array, key: string, body: Uint8Array, timestamp: number, attempts = 0) {
    this.id = id;
    this.key = key;
    this.body = body;
    this.timestamp = timestamp;
    this.attempts = attempts;
  }

  /** A channel's own copy: same id, body and timestamp. */
  copy(): Message {
    const m = new Message(this.id, this.key, this.body, this.timestamp, this.attempts);
    m.deferMs = this.deferMs;
    return m;
  }
}

/** Latin-1 view of 16 id bytes, for map keys. */
export function idKey(id: Uint8Array): string {
  return String.fromCharCode(
    id[0]!, id[1]!, id[2]!, id[3]!, id[4]!, id[5]!, id[6]!, id[7]!,
    id[8]!, id[9]!, id[10]!, id[11]!, id[12]!, id[13]!, id[14]!, id[15]!,
  );
}

const HEX = new TextEncoder().encode("0123456789abcdef");
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

  constructor(nodeId: number) {
    if (!Number.isInteger(nodeId) || nodeId < 0 || nodeId > 1023) throw new RangeError(`node id ${nodeId} is not in [0,1024)`);
    this.#node = nodeId;
  }

  next(): Uint8Array {
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
    const hi = Math.floor(t / TWO_10);
    const lo = ((t % TWO_10) * 4194304 + this.#node * 4096 + this.#sequence) >>> 0;
    const out = new Uint8Array(16);
    writeHex32(out, 0, hi);
    writeHex32(out, 8, lo);
    return out;
  }
}

function writeHex32(out: Uint8Array, at: number, word: number): void {
  for (let i = 7; i >= 0; i--) {
    out[at + i] = HEX[word & 15]!;
    word = Math.floor(word / 16);
  }
}
