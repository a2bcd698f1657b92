// Messages by id (a channel's in-flight and deferred sets), keyed by the two
// 32-bit halves of the id (message.ts) instead of a string: no key is built
// per message, and a FIN looks its message up from the parsed halves of the
// 16 bytes it carries. Buckets are a Map keyed by a mix of both halves;
// messages that share a bucket are chained through Message.idNext (a message
// is in at most one IdMap at a time).
import { parsed, parseId, type Message } from "./message.ts";

function mix(hi: number, lo: number): number {
  return (Math.imul(hi, 0x9e3779b1) ^ lo) | 0;
}

export class IdMap {
  readonly #buckets = new Map<number, Message>();
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
    let m = this.#buckets.get(mix(parsed.hi, parsed.lo));
    while (m !== undefined && !m.hasParsedId()) m = m.idNext ?? undefined;
    return m;
  }

  has(m: Message): boolean {
    return this.getLike(m) !== undefined;
  }

  /** Adds `m` (its id must not be present). */
  add(m: Message): void {
    const k = mix(m.idHi, m.idLo);
    m.idNext = this.#buckets.get(k) ?? null;
    this.#buckets.set(k, m);
    this.#size++;
  }

  /** Removes `m` itself; false when it is not here. */
  delete(m: Message): boolean {
    const k = mix(m.idHi, m.idLo);
    let cur = this.#buckets.get(k);
    let prev: Message | null = null;
    while (cur !== undefined && cur !== m) {
      prev = cur;
      cur = cur.idNext ?? undefined;
    }
    if (cur === undefined) return false;
    if (prev === null) {
      if (m.idNext === null) this.#buckets.delete(k);
      else this.#buckets.set(k, m.idNext);
    } else {
      prev.idNext = m.idNext;
    }
    m.idNext = null;
    this.#size--;
    return true;
  }

  *values(): IterableIterator<Message> {
    for (const head of this.#buckets.values()) {
      for (let m: Message | null = head; m !== null; m = m.idNext) yield m;
    }
  }

  clear(): void {
    for (const m of [...this.values()]) m.idNext = null;
    this.#buckets.clear();
    this.#size = 0;
  }
}
