// A bounded FIFO over a circular array: O(1) push and shift, no Array.shift
// copying. Used for the in-memory queues of topics and channels (D-BEH-MEMQUEUE).

export class Ring<T> {
  #items: (T | undefined)[];
  #head = 0;
  #size = 0;
  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
    // Grow lazily: a topic with mem-queue-size 10000 should not cost 10000 slots until used.
    this.#items = new Array(Math.min(capacity, 64));
  }

  get length(): number {
    return this.#size;
  }

  isFull(): boolean {
    return this.#size >= this.capacity;
  }

  /** Append; returns false when the ring is at capacity. */
  push(item: T): boolean {
    if (this.#size >= this.capacity) return false;
    if (this.#size === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#size) % this.#items.length] = item;
    this.#size++;
    return true;
  }

  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#items.length;
    this.#size--;
    return item;
  }

  /** Remove every item, returning them in order. */
  drain(): T[] {
    const out: T[] = [];
    for (let item = this.shift(); item !== undefined; item = this.shift()) out.push(item);
    return out;
  }

  clear(): void {
    this.#items = new Array(Math.min(this.capacity, 64));
    this.#head = 0;
    this.#size = 0;
  }

  #grow(): void {
    const old = this.#items;
    const next: (T | undefined)[] = new Array(Math.min(Math.max(old.length * 2, 64), this.capacity));
    for (let i = 0; i < this.#size; i++) next[i] = old[(this.#head + i) % old.length];
    this.#items = next;
    this.#head = 0;
  }
}
