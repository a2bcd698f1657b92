// An indexed binary min-heap: items carry their own position so that removing
// an arbitrary item (FIN of an in-flight message) is O(log n). Used for the
// in-flight deadlines and the deferred due times of a channel (D-BEH-INFLIGHT, D-BEH-DEFER).

export interface HeapItem {
  /** Position in the heap, -1 when not in it. Owned by the heap. */
  heapIndex: number;
}

export class MinHeap<T extends HeapItem> {
  readonly #items: T[] = [];
  readonly #priority: (item: T) => number;

  constructor(priority: (item: T) => number) {
    this.#priority = priority;
  }

  get length(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    item.heapIndex = this.#items.length;
    this.#items.push(item);
    this.#up(item.heapIndex);
  }

  pop(): T | undefined {
    const items = this.#items;
    if (items.length === 0) return undefined;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      last.heapIndex = 0;
      this.#down(0);
    }
    top.heapIndex = -1;
    return top;
  }

  remove(item: T): boolean {
    const i = item.heapIndex;
    const items = this.#items;
    if (i < 0 || i >= items.length || items[i] !== item) return false;
    const last = items.pop()!;
    if (i < items.length) {
      items[i] = last;
      last.heapIndex = i;
      this.#down(i);
      this.#up(i);
    }
    item.heapIndex = -1;
    return true;
  }

  /** Re-position an item after its priority changed. */
  update(item: T): void {
    this.#down(item.heapIndex);
    this.#up(item.heapIndex);
  }

  clear(): T[] {
    const all = this.#items.splice(0);
    for (const item of all) item.heapIndex = -1;
    return all;
  }

  #up(i: number): void {
    const items = this.#items;
    const item = items[i]!;
    const p = this.#priority(item);
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = items[parentIndex]!;
      if (this.#priority(parent) <= p) break;
      items[i] = parent;
      parent.heapIndex = i;
      i = parentIndex;
    }
    items[i] = item;
    item.heapIndex = i;
  }

  #down(i: number): void {
    const items = this.#items;
    const n = items.length;
    const item = items[i]!;
    const p = this.#priority(item);
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && this.#priority(items[r]!) < this.#priority(items[l]!)) c = r;
      if (this.#priority(items[c]!) >= p) break;
      items[i] = items[c]!;
      items[i]!.heapIndex = i;
      i = c;
    }
    items[i] = item;
    item.heapIndex = i;
  }
}
