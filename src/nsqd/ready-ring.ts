// The consumers of a channel that can take a message now, in rotation order
// (D-BEH-CHANNEL-DIST): a circular doubly linked list of nodes, one node per
// subscribed consumer, linked while the consumer is ready (RDY allows another
// message, the socket is not backed up). Picking the next consumer, joining
// and leaving are O(1), whatever the number of consumers: a channel with
// 20,000 `RDY 1` workers never scans them to find one.
//
// Rotation: `head` is the consumer served next; serving it moves the head on
// to the following one, and a consumer that becomes ready joins just before
// the head, i.e. last in the current rotation.

export class ReadyNode<T> {
  prev: ReadyNode<T> | null = null;
  next: ReadyNode<T> | null = null;
  /** In a ring right now. */
  linked = false;
  constructor(
    readonly item: T,
    /** The ring this consumer joins when ready (the topology experiment keeps three). */
    readonly ring: ReadyRing<T>,
  ) {}
}

export class ReadyRing<T> {
  #head: ReadyNode<T> | null = null;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** The consumer served next, or null when none is ready. */
  get head(): ReadyNode<T> | null {
    return this.#head;
  }

  /** Joins last in rotation (just before the head). */
  insert(node: ReadyNode<T>): void {
    if (node.linked) return;
    node.linked = true;
    this.#size++;
    const head = this.#head;
    if (head === null) {
      node.prev = node.next = node;
      this.#head = node;
      return;
    }
    const tail = head.prev!;
    node.prev = tail;
    node.next = head;
    tail.next = node;
    head.prev = node;
  }

  remove(node: ReadyNode<T>): void {
    if (!node.linked) return;
    node.linked = false;
    this.#size--;
    if (node.next === node) {
      this.#head = null;
    } else {
      node.prev!.next = node.next;
      node.next!.prev = node.prev;
      if (this.#head === node) this.#head = node.next;
    }
    node.prev = node.next = null;
  }

  /** `node` was served: the rotation moves on to the one after it. */
  served(node: ReadyNode<T>): void {
    if (node.linked && this.#head === node) this.#head = node.next;
  }

  clear(): void {
    let n = this.#head;
    while (n?.linked) {
      const next: ReadyNode<T> | null = n.next;
      n.linked = false;
      n.prev = n.next = null;
      n = next;
    }
    this.#head = null;
    this.#size = 0;
  }
}
