// Messages by id (a channel's in-flight and deferred sets), keyed by the two
// 32-bit halves of the id (message.ts) instead of a string: no key is built
// per message, and a FIN looks its message up from the parsed halves of the
// 16 bytes it carries. Buckets are the slots of an array (a power of two, at
// least as many as messages, halved when under a quarter full) indexed by a
// mix of both halves; messages that share a bucket are chained through
// Message.idNext (a message is in at most one IdMap at a time). Adding and
// removing allocate nothing.
import { parsed, parseId, type Message } from "./message.ts";

/** Buckets of an empty map. */
const MIN_BUCKETS = 64;

function mix(hi: number, lo: number): number {
  return (Math.imul(hi, 0x9e3779b1) ^ lo) | 0;
}

export class IdMap {
  #buckets: (Message | null)[] = new Array<Message | null>(MIN_BUCKETS).fill(null);
  #mask = MIN_BUCKETS - 1;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** The message with the id whose bytes are `id` (16 bytes), if present. */
  getById(id: Uint8Array): Message | undefined {
    parseId(id);
    return this.#find();
  }

  /** The message with the same id as `m` (maybe `m` itself), if present. */
  getLike(m: Message): Message | undefined {
    parsed.hi = m.idHi;
    parsed.lo = m.idLo;
    parsed.raw = m.raw;
    return this.#find();
  }

  #find(): Message | undefined {
    let m: Message | null = this.#buckets[mix(parsed.hi, parsed.lo) & this.#mask] as Message | null;
    while (m !== null && !m.hasParsedId()) m = m.idNext;
    return m ?? undefined;
  }

  has(m: Message): boolean {
    return this.getLike(m) !== undefined;
  }

  /** Adds `m` (its id must not be present). */
  add(m: Message): void {
    if (this.#size >= this.#buckets.length) this.#resize(this.#buckets.length * 2);
    const i = mix(m.idHi, m.idLo) & this.#mask;
    m.idNext = this.#buckets[i] as Message | null;
    this.#buckets[i] = m;
    this.#size++;
  }

  /** Removes `m` itself; false when it is not here. */
  delete(m: Message): boolean {
    const i = mix(m.idHi, m.idLo) & this.#mask;
    let cur: Message | null = this.#buckets[i] as Message | null;
    let prev: Message | null = null;
    while (cur !== null && cur !== m) {
      prev = cur;
      cur = cur.idNext;
    }
    if (cur === null) return false;
    if (prev === null) this.#buckets[i] = m.idNext;
    else prev.idNext = m.idNext;
    m.idNext = null;
    this.#size--;
    if (this.#size < this.#buckets.length >>> 2 && this.#buckets.length > MIN_BUCKETS) this.#resize(this.#buckets.length >>> 1);
    return true;
  }

  *values(): IterableIterator<Message> {
    for (const head of this.#buckets) {
      for (let m: Message | null = head; m !== null; m = m.idNext) yield m;
    }
  }

  clear(): void {
    for (const m of [...this.values()]) m.idNext = null;
    this.#buckets = new Array<Message | null>(MIN_BUCKETS).fill(null);
    this.#mask = MIN_BUCKETS - 1;
    this.#size = 0;
  }

  /** Rehashes every chain into `n` buckets. */
  #resize(n: number): void {
    const old = this.#buckets;
    const buckets = new Array<Message | null>(n).fill(null);
    const mask = n - 1;
    for (let b = 0; b < old.length; b++) {
      for (let m: Message | null = old[b] as Message | null; m !== null; ) {
        const next: Message | null = m.idNext;
        const i = mix(m.idHi, m.idLo) & mask;
        m.idNext = buckets[i] as Message | null;
        buckets[i] = m;
        m = next;
      }
    }
    this.#buckets = buckets;
    this.#mask = mask;
  }
}
