// A topic: accepts published messages and gives every channel its own copy
// (D-BEH-FANOUT). While it has no channel, or is paused, messages wait in its
// own memory queue and then on disk, and the first channels to exist receive them.
import { Ring } from "./ring.ts";
import { Channel } from "./channel.ts";
import { Message, idKey } from "./message.ts";
import { decodeMessagePayload, encodeMessagePayload } from "../protocol/frames.ts";
import { isEphemeral } from "../protocol/names.ts";
import type { Backend, QueueHost } from "./backend.ts";

export interface TopicHost extends QueueHost {
  /** Called after a channel was created (not during metadata load): lookupd REGISTER + metadata. */
  channelCreated(topic: Topic, channel: Channel): void;
  channelDeleted(topic: Topic, channel: Channel): void;
  nextMessageId(): Uint8Array;
}

export class Topic {
  readonly name: string;
  readonly ephemeral: boolean;
  readonly channels = new Map<string, Channel>();
  readonly #host: TopicHost;
  readonly #memory: Ring<Message>;
  readonly #backend: Backend | null;
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
    this.#memory = new Ring(host.options.mem_queue_size);
    this.#backend = this.ephemeral ? null : host.openBackend(name);
  }

  depth(): number {
    return this.#memory.length + (this.#backend ? this.#backend.depth() : 0);
  }

  backendDepth(): number {
    return this.#backend ? this.#backend.depth() : 0;
  }

  memoryDepth(): number {
    return this.#memory.length;
  }

  /** Make a message from a published body (already copied out of the socket's chunk). */
  #newMessage(body: Uint8Array, timestampNs: number, deferMs = 0): Message {
    const id = this.#host.nextMessageId();
    const m = new Message(id, idKey(id), body, timestampNs, 0);
    m.deferMs = deferMs;
    return m;
  }

  /** Publish one body (PUB, DPUB, /pub). Throws when exiting or the disk write fails. */
  publish(body: Uint8Array, deferMs = 0): void {
    if (this.exiting) throw new Error("exiting");
    this.#put(this.#newMessage(body.slice(), Date.now() * 1e6, deferMs));
    this.messageCount++;
    this.messageBytes += body.length;
  }

  /**
   * Publish several bodies at once (MPUB, /mpub). Bodies parsed from one chunk
   * lie in one stretch of it: that stretch is copied once and every message
   * keeps a view of it, instead of one allocation per message.
   */
  publishMany(bodies: readonly Uint8Array[]): void {
    if (this.exiting) throw new Error("exiting");
    const owned = copyTogether(bodies);
    const now = Date.now() * 1e6;
    for (const body of owned) {
      this.#put(this.#newMessage(body, now));
      this.messageBytes += body.length;
    }
    this.messageCount += bodies.length;
  }

  #put(message: Message): void {
    // Hand straight to the channels when nothing is waiting ahead of the message.
    if (this.#flowing() && this.#memory.length === 0 && (this.#backend === null || this.#backend.depth() === 0)) {
      this.#distribute(message);
      return;
    }
    if (this.#flowing()) this.#schedulePump();
    if (this.#memory.push(message)) return;
    if (this.#backend === null) return; // ephemeral overflow is dropped
    // Q (D-BEH-FANOUT): a deferred message that overflows to disk loses its delay.
    this.#host.writeBackend(this.#backend, encodeMessagePayload(message.timestamp, message.attempts, message.id, message.body));
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

  #distribute(message: Message): void {
    // A channel may deliver (and count an attempt on) its copy at once, so the
    // copies are taken before the original goes out: it goes to the last channel.
    let left = this.channels.size;
    for (const channel of this.channels.values()) channel.put(--left === 0 ? message : message.copy());
  }

  /**
   * Move waiting messages to the channels (after a channel appears or an
   * unpause). A large backlog moves in slices so the server stays responsive.
   */
  pump(): void {
    let budget = 5000;
    while (this.#flowing()) {
      if (budget-- === 0) {
        this.#schedulePump();
        return;
      }
      let message = this.#memory.shift();
      if (message === undefined && this.#backend !== null && this.#backend.depth() > 0) {
        const record = this.#host.readBackend(this.#backend);
        if (record !== null) {
          const d = decodeMessagePayload(record);
          message = new Message(d.id, idKey(d.id), d.body, d.timestampNs, d.attempts);
        }
      }
      if (message === undefined) return;
      this.#distribute(message);
    }
  }

  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    setTimeout(() => {
      this.#pumpScheduled = false;
      this.pump();
    }, 0);
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
    this.#memory.clear();
    this.#backend?.empty();
  }

  /** D-BEH-SHUTDOWN / D-BEH-DELETE. */
  close(remove: boolean): void {
    this.exiting = true;
    if (remove) {
      for (const name of [...this.channels.keys()]) this.deleteChannel(name);
      this.#memory.clear();
      this.#backend?.delete();
      return;
    }
    for (const channel of this.channels.values()) channel.close(false);
    const backend = this.#backend;
    if (backend !== null) {
      for (const m of this.#memory.drain()) {
        this.#host.writeBackend(backend, encodeMessagePayload(m.timestamp, m.attempts, m.id, m.body));
      }
      backend.close();
    }
  }
}

/** Copies of `bodies`: views of one new buffer when they share one in order, else one copy each. */
function copyTogether(bodies: readonly Uint8Array[]): Uint8Array[] {
  const n = bodies.length;
  if (n === 0) return [];
  const first = bodies[0]!;
  const buffer = first.buffer;
  let end = first.byteOffset + first.length;
  for (let i = 1; i < n; i++) {
    const b = bodies[i]!;
    if (b.buffer !== buffer || b.byteOffset < end) return bodies.map((x) => x.slice());
    end = b.byteOffset + b.length;
  }
  const start = first.byteOffset;
  const copy = new Uint8Array(buffer, start, end - start).slice();
  return bodies.map((b) => copy.subarray(b.byteOffset - start, b.byteOffset - start + b.length));
}
