// A topic: accepts published messages and gives every channel its own copy
// (D-BEH-FANOUT). While it has no channel, or is paused, messages wait in its
// own store (memory, then disk: message-store.ts), and the first channels to
// exist receive them.
import { Channel } from "./channel.ts";
import { Message, type IdGenerator } from "./message.ts";
import { isEphemeral } from "../protocol/names.ts";
import type { QueueHost } from "./backend.ts";
import { DISK, type MessageStore, type StoreOwner } from "./message-store.ts";

/** How long a topic waits before moving messages again to a channel whose disk refused a write. */
const BLOCKED_RETRY_MS = 250;

export interface TopicHost extends QueueHost {
  /** Called after a channel was created (not during metadata load): lookupd REGISTER + metadata. */
  channelCreated(topic: Topic, channel: Channel): void;
  channelDeleted(topic: Topic, channel: Channel): void;
  /** Makes the ids of published messages (D-TCP-MSGID). */
  readonly ids: IdGenerator;
}

export class Topic implements StoreOwner {
  readonly name: string;
  readonly ephemeral: boolean;
  readonly channels = new Map<string, Channel>();
  readonly #host: TopicHost;
  readonly #store: MessageStore;
  #pumpScheduled = false;
  /** Held back from delivering while its channels are being pre-created (D-BEH-PRECREATE). */
  #held = false;
  paused = false;
  exiting = false;
  messageCount = 0;
  messageBytes = 0;

  constructor(name: string, host: TopicHost) {
    this.name = name;
    this.#host = host;
    this.ephemeral = isEphemeral(name);
    this.#store = host.openStore(name, this.ephemeral);
    this.#store.setOwner(this);
    // Due times of delayed publishes waiting on disk come back when read.
    this.#store.load(null);
  }

  depth(): number {
    return this.#store.depth();
  }

  backendDepth(): number {
    return this.#store.backendDepth();
  }

  memoryDepth(): number {
    return this.#store.memoryDepth();
  }

  /** Make a message from a published body (already copied out of the socket's chunk). */
  #newMessage(body: Uint8Array, timestampNs: number, deferMs = 0): Message {
    const ids = this.#host.ids;
    ids.nextHalves();
    const m = new Message(ids.hi, ids.lo, null, body, timestampNs, 0);
    m.deferMs = deferMs;
    return m;
  }

  /**
   * Publish one body (PUB, DPUB, /pub). Throws when exiting or the disk write
   * fails. `owned`: the caller hands over the buffer under `body` (nothing
   * else writes it again): the body is kept as it is when it fills at least
   * half of that buffer, else copied out, so a small body never holds a large
   * buffer alive.
   */
  publish(body: Uint8Array, deferMs = 0, owned = false): void {
    if (this.exiting) throw new Error("exiting");
    const kept = owned && body.length * 2 >= body.buffer.byteLength ? body : body.slice();
    this.#put(this.#newMessage(kept, Date.now() * 1e6, deferMs));
    this.messageCount++;
    this.messageBytes += body.length;
  }

  /**
   * Publish several bodies at once (MPUB, /mpub). `owned`: the caller hands
   * over the buffers under the bodies (see keepTogether for which bodies stay
   * views of them); else every body is copied, all into one new buffer.
   */
  publishMany(bodies: readonly Uint8Array[], owned = false): void {
    if (this.exiting) throw new Error("exiting");
    const kept = keepTogether(bodies, owned);
    const now = Date.now() * 1e6;
    for (const body of kept) {
      this.#put(this.#newMessage(body, now));
      this.messageBytes += body.length;
    }
    this.messageCount += bodies.length;
  }

  /** A message of the publish being handled ("fresh": see message-store.ts). */
  #put(message: Message): void {
    // Hand straight to the channels when nothing is waiting ahead of the message.
    if (this.#flowing() && this.#store.isEmpty()) {
      this.#distribute(message, true);
      return;
    }
    if (this.#flowing()) this.#schedulePump(0);
    // An ephemeral topic drops what does not fit (D-BEH-EPHEMERAL).
    if (this.#store.push(message, true) === DISK && message.deferMs > 0) {
      // The original loses the delay of a deferred message that overflows to
      // disk (D-BEH-FANOUT); its due time is kept beside the queue instead.
      this.#store.noteDue(message, Math.floor(message.timestamp / 1e6) + message.deferMs, true);
    }
  }

  #flowing(): boolean {
    return !this.paused && !this.exiting && !this.#held && this.channels.size > 0;
  }

  /** Keep messages in the topic until release(), whatever channels appear meanwhile. */
  hold(): void {
    this.#held = true;
  }

  release(): void {
    this.#held = false;
    this.pump();
  }

  #distribute(message: Message, fresh: boolean): void {
    // A channel may deliver (and count an attempt on) its copy at once, so the
    // copies are taken before the original goes out: it goes to the last channel.
    let left = this.channels.size;
    for (const channel of this.channels.values()) channel.put(--left === 0 ? message : message.copy(), fresh);
  }

  /**
   * Move waiting messages to the channels (after a channel appears, an
   * unpause, or a write to the topic's disk queue). A large backlog moves in
   * slices so the server stays responsive. Messages already acknowledged are
   * never dropped: while a channel's disk refuses writes, they wait here.
   */
  pump(): void {
    let budget = 5000;
    while (this.#flowing()) {
      if (budget-- === 0) {
        this.#schedulePump(0);
        return;
      }
      for (const channel of this.channels.values()) {
        if (channel.blocked()) {
          this.#schedulePump(BLOCKED_RETRY_MS);
          return;
        }
      }
      const message = this.#store.take();
      if (message === null) return;
      const seq = message.diskSeq;
      message.diskSeq = -1;
      this.#distribute(message, false);
      // Every channel has its copy (buffered, written before any metadata
      // names this record as read): the record is done.
      if (seq >= 0) this.#store.disk!.settle(seq);
    }
  }

  storeWritten(): void {
    if (this.#flowing()) this.pump();
  }

  copiesStuck(): boolean {
    for (const channel of this.channels.values()) if (channel.stuck()) return true;
    return false;
  }

  #schedulePump(delayMs: number): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    setTimeout(() => {
      this.#pumpScheduled = false;
      this.pump();
    }, delayMs);
  }

  getChannel(name: string): Channel {
    let channel = this.channels.get(name);
    if (channel === undefined) {
      channel = new Channel(this.name, name, this.#host);
      this.channels.set(name, channel);
      this.#host.channelCreated(this, channel);
      this.pump();
    }
    return channel;
  }

  /** Create a channel while loading metadata: no notifications, no pump yet. */
  loadChannel(name: string, paused: boolean): Channel {
    const channel = new Channel(this.name, name, this.#host);
    channel.paused = paused;
    this.channels.set(name, channel);
    return channel;
  }

  deleteChannel(name: string): boolean {
    const channel = this.channels.get(name);
    if (channel === undefined) return false;
    this.channels.delete(name);
    channel.close(true);
    this.#host.channelDeleted(this, channel);
    return true;
  }

  pause(): void {
    this.paused = true;
  }

  unpause(): void {
    this.paused = false;
    this.pump();
  }

  /** D-BEH-EMPTY for a topic: its own queue only; channels keep theirs. */
  empty(): void {
    this.#store.empty();
  }

  /** D-BEH-SHUTDOWN / D-BEH-DELETE. Returns how many messages could not be written (full disk). */
  close(remove: boolean): number {
    this.exiting = true;
    if (remove) {
      for (const name of [...this.channels.keys()]) this.deleteChannel(name);
      this.#store.delete();
      return 0;
    }
    let lost = 0;
    for (const channel of this.channels.values()) lost += channel.close(false);
    return lost + this.#store.close([], []);
  }
}

/**
 * The bodies of one MPUB, made safe to keep. When the caller owns the buffers
 * under them (socket chunks nothing writes again), the bodies of one chunk
 * stay views of it when together they fill at least a quarter of it, so a
 * burst of MPUBs keeps the received bytes without copying them (a large chunk
 * often holds two or three MPUBs, so half would copy most of them); bodies
 * that fill less (the tail of a chunk that mostly held other commands) are
 * copied into one new buffer, so a message never holds alive more than four
 * times the bytes of the MPUB it came in. Bodies the caller does not own are
 * all copied into one buffer.
 */
function keepTogether(bodies: readonly Uint8Array[], owned: boolean): readonly Uint8Array[] {
  const n = bodies.length;
  if (!owned) return n === 0 ? bodies : copyRun(bodies, 0, n, bodies.slice());
  let out: Uint8Array[] | null = null;
  let i = 0;
  while (i < n) {
    const buffer = bodies[i]!.buffer;
    let j = i;
    let total = 0;
    while (j < n && bodies[j]!.buffer === buffer) total += bodies[j++]!.length;
    if (total * 4 < buffer.byteLength) out = copyRun(bodies, i, j, out ?? bodies.slice());
    i = j;
  }
  return out ?? bodies;
}

/** Copies bodies [from, to) into one new buffer; `out` gets views of it at the same places. */
function copyRun(bodies: readonly Uint8Array[], from: number, to: number, out: Uint8Array[]): Uint8Array[] {
  let total = 0;
  for (let i = from; i < to; i++) total += bodies[i]!.length;
  const copy = new Uint8Array(total);
  let at = 0;
  for (let i = from; i < to; i++) {
    const b = bodies[i]!;
    copy.set(b, at);
    out[i] = copy.subarray(at, at + b.length);
    at += b.length;
  }
  return out;
}
