// The records a disk queue has handed out and not yet seen settled.
//
// A record read from a segment is not done when it is read: a channel's
// message is done when it is finished (FIN), or once a copy of it is stored
// elsewhere (requeued to the end of the queue, deferred to the side log). Until
// then the queue must be able to read it again after a crash, so the read
// position written to the metadata file is that of the oldest record handed
// out and not yet settled (the window's head), not the reader's position.
// Records settle in any order; the head moves past every settled record at the
// front. A topic settles each record as soon as its channels have their copies.
//
// Entries live in a ring of parallel arrays indexed by sequence number, so
// settling is O(1) and nothing is allocated per record. Sequence numbers grow
// without bound (doubles), so indexes are taken with %, not a bit mask.

export class ReleaseWindow<T> {
  #fileNums = new Float64Array(64);
  #positions = new Float64Array(64);
  #settled = new Uint8Array(64);
  #items: (T | undefined)[] = new Array(64);
  #size = 64;
  /** Sequence number of the oldest entry. */
  #head = 0;
  /** Sequence number the next entry gets. */
  #tail = 0;

  /** Entries held, settled ones behind the head included. */
  get length(): number {
    return this.#tail - this.#head;
  }

  /** Adds the record at (fileNum, pos); returns its sequence number. */
  push(fileNum: number, pos: number, item: T | undefined): number {
    if (this.#tail - this.#head >= this.#size) this.#grow();
    const i = this.#tail % this.#size;
    this.#fileNums[i] = fileNum;
    this.#positions[i] = pos;
    this.#settled[i] = 0;
    this.#items[i] = item;
    return this.#tail++;
  }

  /** Whether `seq` is held and not yet settled. */
  has(seq: number): boolean {
    return seq >= this.#head && seq < this.#tail && this.#settled[seq % this.#size] === 0;
  }

  /** Attaches an item to an unsettled entry. */
  attach(seq: number, item: T): void {
    if (this.has(seq)) this.#items[seq % this.#size] = item;
  }

  /** Settles `seq`; returns true when the head moved. */
  settle(seq: number): boolean {
    if (seq < this.#head || seq >= this.#tail) return false;
    const i = seq % this.#size;
    this.#settled[i] = 1;
    this.#items[i] = undefined;
    if (seq !== this.#head) return false;
    let h = this.#head + 1;
    while (h < this.#tail && this.#settled[h % this.#size] === 1) h++;
    this.#head = h;
    return true;
  }

  /** Segment of the oldest unsettled entry; -1 when none. */
  headFileNum(): number {
    return this.#head < this.#tail ? this.#fileNums[this.#head % this.#size]! : -1;
  }

  /** Position of the oldest unsettled entry (valid when length > 0). */
  headPos(): number {
    return this.#positions[this.#head % this.#size]!;
  }

  /** Item of the oldest unsettled entry. */
  headItem(): T | undefined {
    return this.#head < this.#tail ? this.#items[this.#head % this.#size] : undefined;
  }

  /** Sequence number of the oldest entry. */
  get headSeq(): number {
    return this.#head;
  }

  /** Drops every entry (the queue was emptied, or all were copied elsewhere). */
  clear(): void {
    for (let s = this.#head; s < this.#tail; s++) this.#items[s % this.#size] = undefined;
    this.#head = this.#tail;
  }

  #grow(): void {
    const n = this.#size * 2;
    const fileNums = new Float64Array(n);
    const positions = new Float64Array(n);
    const settled = new Uint8Array(n);
    const items: (T | undefined)[] = new Array(n);
    for (let s = this.#head; s < this.#tail; s++) {
      const from = s % this.#size;
      const to = s % n;
      fileNums[to] = this.#fileNums[from]!;
      positions[to] = this.#positions[from]!;
      settled[to] = this.#settled[from]!;
      items[to] = this.#items[from];
    }
    this.#fileNums = fileNums;
    this.#positions = positions;
    this.#settled = settled;
    this.#items = items;
    this.#size = n;
  }
}
