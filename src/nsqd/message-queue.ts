// The in-memory FIFO of a topic or a channel (D-BEH-MEMQUEUE, --mem-queue-size).
//
// Memory layout. A queue that keeps up holds a few messages for a moment; a
// queue that backs up holds up to --mem-queue-size of them for as long as its
// consumers lag. The two get different shapes:
//
//   head   the first PACK_AFTER entries pushed while the queue is short stay
//          Message objects: they are about to be taken, and packing them
//          would only cost a copy.
//   packed an entry pushed while the queue is longer is written as bytes into
//          the tail of a chain of 64 KiB blocks and the Message object is
//          dropped: per message, a 22-byte header (id halves, timestamp,
//          attempts, body length) and the body, instead of an object of
//          fifteen fields, a view object and the view's buffer. The
//          collector has nothing to trace for it, so a full queue does not
//          raise the heap the collector sizes its headroom against.
//
// `#slots` keeps the order: one slot per entry, the Message for an object
// entry, null for a packed one (packed entries are read from the blocks in the
// order they were written). shift() of a packed entry makes a new Message
// whose body is a view into its block: bodies are never copied out again, and
// a block is never written twice, so a view stays valid for as long as the
// message lives (the block is freed by the collector when its last view goes).
// A block read to its end is dropped from the chain, the last one too once no
// packed entry is left, so a queue that drained after a backlog holds none.
//
// Messages in any state beyond "queued" keep their object (see packable()):
// an id that is not hex (kept as raw bytes), a disk-read window sequence, a
// side-log entry, a shutdown copy's position, a delay still to apply, more
// attempts than the protocol's 16 bits, or a body larger than a block's quarter.
import { Message } from "./message.ts";

/** Entries pushed while the queue holds fewer than this stay objects. */
export const PACK_AFTER = 256;
/** Size of one block of packed entries. */
export const BLOCK_SIZE = 64 * 1024;
/** Bodies larger than this stay in their object (a block holds at least four). */
const MAX_PACKED_BODY = BLOCK_SIZE / 4;
/** idHi(4) idLo(4) timestamp(8, f64) attempts(2) body length(4). */
const HEADER = 22;

interface Block {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /** Where the next packed entry is read. */
  readAt: number;
  /** Where the next packed entry is written (never below a position already written). */
  writeAt: number;
}

function newBlock(): Block {
  const bytes = new Uint8Array(BLOCK_SIZE);
  return { bytes, view: new DataView(bytes.buffer), readAt: 0, writeAt: 0 };
}

/** Whether a message may be kept as bytes: nothing but its payload to remember. */
function packable(m: Message): boolean {
  return m.raw === null && m.diskSeq === -1 && !m.inSide && m.diskAt === null && m.deferMs === 0 && m.attempts <= 0xffff && m.body.length <= MAX_PACKED_BODY;
}

export class MessageQueue {
  readonly capacity: number;
  /** Circular array of entries: the Message, or null for a packed one. */
  #slots: (Message | null)[];
  #head = 0;
  #size = 0;
  /** Blocks holding packed entries, oldest first; the last one is written. */
  #blocks: Block[] = [];
  #packed = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    // Grow lazily: a queue with room for 10000 should not cost 10000 slots until used.
    this.#slots = new Array(Math.min(capacity, 64)).fill(null);
  }

  get length(): number {
    return this.#size;
  }

  /** How many entries are kept as bytes (for tests). */
  get packed(): number {
    return this.#packed;
  }

  isFull(): boolean {
    return this.#size >= this.capacity;
  }

  /** Append; returns false when the queue is at capacity. */
  push(m: Message): boolean {
    if (this.#size >= this.capacity) return false;
    if (this.#size === this.#slots.length) this.#grow();
    const at = (this.#head + this.#size) % this.#slots.length;
    if (this.#size >= PACK_AFTER && packable(m)) {
      this.#write(m);
      this.#slots[at] = null;
    } else {
      this.#slots[at] = m;
    }
    this.#size++;
    return true;
  }

  shift(): Message | undefined {
    if (this.#size === 0) return undefined;
    const m = this.#slots[this.#head] ?? this.#read();
    this.#slots[this.#head] = null;
    this.#head = (this.#head + 1) % this.#slots.length;
    this.#size--;
    return m;
  }

  /** Remove every entry, returning them in order. */
  drain(): Message[] {
    const out: Message[] = [];
    for (let m = this.shift(); m !== undefined; m = this.shift()) out.push(m);
    return out;
  }

  clear(): void {
    this.#slots = new Array(Math.min(this.capacity, 64)).fill(null);
    this.#head = 0;
    this.#size = 0;
    this.#blocks = [];
    this.#packed = 0;
  }

  #write(m: Message): void {
    const len = m.body.length;
    let b = this.#blocks[this.#blocks.length - 1];
    if (b === undefined || b.writeAt + HEADER + len > BLOCK_SIZE) {
      b = newBlock();
      this.#blocks.push(b);
    }
    const v = b.view;
    const at = b.writeAt;
    v.setInt32(at, m.idHi);
    v.setInt32(at + 4, m.idLo);
    v.setFloat64(at + 8, m.timestamp);
    v.setUint16(at + 16, m.attempts);
    v.setUint32(at + 18, len);
    b.bytes.set(m.body, at + HEADER);
    b.writeAt = at + HEADER + len;
    this.#packed++;
  }

  #read(): Message {
    let b = this.#blocks[0]!;
    if (b.readAt >= b.writeAt && this.#blocks.length > 1) {
      // Read to its end: the block is dropped (views of it keep its bytes alive).
      this.#blocks.shift();
      b = this.#blocks[0]!;
    }
    const v = b.view;
    const at = b.readAt;
    const len = v.getUint32(at + 18);
    const m = new Message(
      v.getInt32(at),
      v.getInt32(at + 4),
      null,
      b.bytes.subarray(at + HEADER, at + HEADER + len),
      v.getFloat64(at + 8),
      v.getUint16(at + 16),
    );
    b.readAt = at + HEADER + len;
    // Every packed entry is read: let the last block go too (taken bodies keep
    // their bytes), so an emptied queue holds no block.
    if (--this.#packed === 0) this.#blocks.length = 0;
    return m;
  }

  #grow(): void {
    const old = this.#slots;
    const next: (Message | null)[] = new Array(Math.min(Math.max(old.length * 2, 64), this.capacity)).fill(null);
    for (let i = 0; i < this.#size; i++) next[i] = old[(this.#head + i) % old.length]!;
    this.#slots = next;
    this.#head = 0;
  }
}
