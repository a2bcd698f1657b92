// A channel: one copy of every message of its topic, handed to exactly one of
// its consumers at a time (D-BEH-CHANNEL-DIST), with in-flight tracking,
// deferral, requeue and timeout (D-BEH-INFLIGHT, D-BEH-DEFER, D-BEH-REQUEUE).
//
// Delivery is event driven: anything that can make a message deliverable
// (a put, a RDY change, a FIN, a subscriber, an unpause, a disk write) calls
// dispatch(), which hands messages to ready consumers in rotation until nobody
// is ready or the queue is empty.
//
// The queued messages live in a MessageStore (message-store.ts), which also
// keeps what is in flight or deferred recoverable after a crash; this class
// tells it when a message is delivered, done, requeued or deferred.
import { MinHeap } from "./heap.ts";
import type { Message } from "./message.ts";
import { IdMap } from "./id-map.ts";
import { isEphemeral } from "../protocol/names.ts";
import type { QueueHost } from "./backend.ts";
import type { LatencyStream } from "./quantile.ts";
import type { MessageStore, StoreOwner } from "./message-store.ts";
import { ReadyNode, ReadyRing } from "./ready-ring.ts";

/**
 * What a channel needs from a subscribed connection (ClientV2). Whenever
 * isReady() may have changed (RDY, FIN, REQ, a backed-up or drained socket,
 * CLS) the consumer calls Channel.readyChanged(); the channel keeps the ready
 * ones in a ring (ready-ring.ts) instead of asking every consumer.
 */
export interface Consumer {
  readonly id: number;
  /** Ready to take one more message now (D-TCP-RDY-SEMANTICS). */
  isReady(): boolean;
  /** The per-client sample rate (D-TCP-SAMPLE), 0 = all. */
  readonly sampleRate: number;
  /** This client's in-flight timeout (ms). */
  readonly msgTimeout: number;
  /** Declared in IDENTIFY (D-BEH-TOPO). */
  readonly topologyZone: string;
  readonly topologyRegion: string;
  /** Deliver: the channel has already recorded the message in flight. */
  deliver(message: Message): void;
  /** One of this client's in-flight messages timed out or was dropped by empty(). */
  inFlightRemoved(count: number): void;
  /** The channel is going away (delete): close the connection. */
  channelGone(): void;
}

export class Channel implements StoreOwner {
  readonly topicName: string;
  readonly name: string;
  readonly ephemeral: boolean;
  readonly #host: QueueHost;
  readonly #store: MessageStore;
  readonly #inFlight = new IdMap();
  readonly #inFlightHeap = new MinHeap<Message>((m) => m.due);
  readonly #deferred = new IdMap();
  readonly #deferredHeap = new MinHeap<Message>((m) => m.due);
  readonly #consumers: Consumer[] = [];
  /** Each consumer's node in its ready ring, and consumers by id (timeouts find their owner). */
  readonly #nodes = new Map<Consumer, ReadyNode<Consumer>>();
  readonly #byId = new Map<number, Consumer>();
  /** Without the topology experiment one ring; with it three: this zone, this region, the rest. */
  readonly #rings: ReadyRing<Consumer>[];
  #dispatching = false;
  paused = false;
  exiting = false;

  messageCount = 0;
  requeueCount = 0;
  timeoutCount = 0;
  // D-BEH-TOPO counters of deliveries from memory (global ones counted without the experiment too).
  zoneLocalMsgCount = 0;
  regionLocalMsgCount = 0;
  globalMsgCount = 0;
  /** This nsqd's zone and region when the experiment is on, else null. */
  readonly #topology: { zone: string; region: string } | null;
  readonly e2e: LatencyStream | null;

  constructor(topicName: string, name: string, host: QueueHost) {
    this.topicName = topicName;
    this.name = name;
    this.#host = host;
    this.ephemeral = isEphemeral(name);
    this.#store = host.openStore(`${topicName}:${name}`, this.ephemeral);
    this.#store.setOwner(this);
    this.e2e = host.newLatencyStream();
    const o = host.options;
    this.#topology = o.enable_experiment.includes("topology-aware-consumption") ? { zone: o.topology_zone, region: o.topology_region } : null;
    this.#rings = this.#topology === null ? [new ReadyRing()] : [new ReadyRing(), new ReadyRing(), new ReadyRing()];
    // Deferred messages of an earlier run come back with their due times.
    this.#store.load((m, due) => this.#restoreDeferred(m, due));
  }

  get consumers(): readonly Consumer[] {
    return this.#consumers;
  }

  depth(): number {
    return this.#store.depth();
  }

  backendDepth(): number {
    return this.#store.backendDepth();
  }

  inFlightCount(): number {
    return this.#inFlight.size;
  }

  deferredCount(): number {
    return this.#deferred.size;
  }

  memoryDepth(): number {
    return this.#store.memoryDepth();
  }

  /** The disk refuses writes: the topic holds its messages back meanwhile. */
  blocked(): boolean {
    return this.#store.failing();
  }

  /** Messages that must be kept wait in memory for a failed write. */
  stuck(): boolean {
    return this.#store.stuck();
  }

  /**
   * A message from the topic (D-BEH-FANOUT); `fresh` when it comes straight
   * from a publish (see message-store.ts). Throws when a fresh message cannot
   * be stored (the disk refuses writes).
   */
  put(message: Message, fresh: boolean): void {
    if (message.deferMs > 0) {
      this.#startDeferred(message, message.deferMs, fresh);
      this.messageCount++;
      return;
    }
    // An ephemeral channel drops what does not fit (D-BEH-EPHEMERAL).
    this.#store.push(message, fresh);
    this.messageCount++;
    this.dispatch();
  }

  /** Written records became readable (or a failed write went through): deliver. */
  storeWritten(): void {
    this.dispatch();
  }

  /** For the side log's compaction: deferred messages with their due times, in-flight ones due at once. */
  *sideMessages(): Iterable<{ message: Message; due: number }> {
    for (const m of this.#deferred.values()) yield { message: m, due: m.due };
    for (const m of this.#inFlight.values()) if (m.inSide) yield { message: m, due: 0 };
  }

  addConsumer(consumer: Consumer): string | null {
    if (this.exiting) return "exiting";
    const max = this.#host.options.max_channel_consumers;
    if (max > 0 && this.#consumers.length >= max) {
      return `consumers for ${this.topicName}:${this.name} exceeds limit of ${max}`;
    }
    this.#consumers.push(consumer);
    this.#nodes.set(consumer, new ReadyNode(consumer, this.#rings[this.#ringIndex(consumer)]!));
    this.#byId.set(consumer.id, consumer);
    this.readyChanged(consumer);
    return null;
  }

  removeConsumer(consumer: Consumer): void {
    const node = this.#nodes.get(consumer);
    if (node === undefined) return;
    node.ring.remove(node);
    this.#nodes.delete(consumer);
    this.#byId.delete(consumer.id);
    const i = this.#consumers.indexOf(consumer);
    if (i >= 0) this.#consumers.splice(i, 1);
    if (this.#consumers.length === 0 && this.ephemeral && !this.exiting) {
      // D-BEH-EPHEMERAL: deleted asynchronously when its last consumer leaves.
      queueMicrotask(() => {
        if (this.#consumers.length === 0 && !this.exiting) this.#host.deleteEphemeralChannel(this);
      });
    }
  }

  /**
   * A consumer's readiness may have changed: it joins or leaves its ready
   * ring, and when it became ready, waiting messages go out.
   */
  readyChanged(consumer: Consumer): void {
    const node = this.#nodes.get(consumer);
    if (node === undefined) return;
    if (consumer.isReady()) {
      if (!node.linked) {
        node.ring.insert(node);
        this.dispatch();
      }
    } else if (node.linked) {
      node.ring.remove(node);
    }
  }

  /** Ready consumers, for tests and stats. */
  readyCount(): number {
    let n = 0;
    for (const r of this.#rings) n += r.size;
    return n;
  }

  /** Hand messages to ready consumers until nobody is ready or nothing is queued. */
  dispatch(): void {
    if (this.#dispatching || this.paused || this.exiting) return;
    this.#dispatching = true;
    try {
      // Pick a consumer only when there is a message for it: the rotation
      // advances with each delivery, so single arrivals alternate too.
      const store = this.#store;
      const rings = this.#rings;
      while (store.hasReadable()) {
        // D-BEH-TOPO: this zone's consumers first, then this region's, then any.
        let node = rings[0]!.head;
        for (let r = 1; node === null && r < rings.length; r++) node = rings[r]!.head;
        if (node === null) break;
        const consumer = node.item;
        const queued = store.memory.length;
        const message = store.take();
        if (message === null) break;
        // D-BEH-TOPO counters: deliveries from memory only, as in the original;
        // without the experiment every one of them counts as global.
        if (store.memory.length < queued) {
          if (this.#topology !== null) this.#countPlacement(consumer, this.#topology);
          else this.globalMsgCount++;
        }
        node.ring.served(node);
        if (consumer.sampleRate > 0 && Math.random() * 100 > consumer.sampleRate) {
          store.release(message); // D-TCP-SAMPLE drops it
          continue;
        }
        message.attempts = (message.attempts + 1) & 0xffff;
        this.#startInFlight(message, consumer);
        store.track(message);
        consumer.deliver(message);
        if (!consumer.isReady()) node.ring.remove(node);
      }
    } finally {
      this.#dispatching = false;
    }
  }

  /** Which ready ring a consumer joins: 0 without the experiment; with it 0 zone, 1 region, 2 the rest. */
  #ringIndex(c: Consumer): number {
    const t = this.#topology;
    if (t === null) return 0;
    if (t.zone !== "" && c.topologyZone === t.zone) return 0;
    if (t.region !== "" && c.topologyRegion === t.region) return 1;
    return 2;
  }

  #countPlacement(c: Consumer, t: { zone: string; region: string }): void {
    if (t.zone !== "" && c.topologyZone === t.zone) this.zoneLocalMsgCount++;
    else if (t.region !== "" && c.topologyRegion === t.region) this.regionLocalMsgCount++;
    else this.globalMsgCount++;
  }

  #startInFlight(message: Message, consumer: Consumer): void {
    const now = Date.now();
    message.clientId = consumer.id;
    message.deliveredAt = now;
    message.due = now + consumer.msgTimeout;
    this.#inFlight.add(message);
    this.#inFlightHeap.push(message);
  }

  #popInFlight(clientId: number, id: Uint8Array): Message | string {
    const message = this.#inFlight.getById(id);
    if (message === undefined) return "ID not in flight";
    if (message.clientId !== clientId) return "client does not own message";
    this.#inFlight.delete(message);
    this.#inFlightHeap.remove(message);
    return message;
  }

  /** FIN (D-BEH-FIN); returns an error reason or null. */
  finish(clientId: number, id: Uint8Array): string | null {
    const message = this.#popInFlight(clientId, id);
    if (typeof message === "string") return message;
    this.#store.release(message);
    this.e2e?.add(Date.now() * 1e6 - message.timestamp);
    return null;
  }

  /** REQ (D-BEH-REQUEUE); `timeoutMs` already clamped. */
  requeue(clientId: number, id: Uint8Array, timeoutMs: number): string | null {
    const message = this.#popInFlight(clientId, id);
    if (typeof message === "string") return message;
    this.requeueCount++;
    if (this.exiting) return "exiting";
    if (timeoutMs <= 0) {
      this.#requeue(message);
      this.dispatch();
      return null;
    }
    if (this.#deferred.has(message)) return "ID already deferred";
    this.#startDeferred(message, timeoutMs, false);
    return null;
  }

  /** Back to the end of the queue (a new copy; the old record is done once it is written). */
  #requeue(message: Message): void {
    this.#store.requeue(message);
  }

  /** TOUCH (D-BEH-TOUCH). */
  touch(clientId: number, id: Uint8Array, clientMsgTimeout: number): string | null {
    const message = this.#inFlight.getById(id);
    if (message === undefined) return "ID not in flight";
    if (message.clientId !== clientId) return "client does not own message";
    const now = Date.now();
    const cap = message.deliveredAt + this.#host.options.max_msg_timeout;
    message.due = Math.min(now + clientMsgTimeout, cap);
    this.#inFlightHeap.update(message);
    return null;
  }

  #startDeferred(message: Message, deferMs: number, fresh: boolean): void {
    if (this.#deferred.has(message)) return;
    const due = Date.now() + deferMs;
    this.#store.defer(message, due, fresh);
    message.ownBody();
    message.due = due;
    this.#deferred.add(message);
    this.#deferredHeap.push(message);
  }

  /** A deferred message of an earlier run (side log), due at `due`. */
  #restoreDeferred(message: Message, due: number): void {
    if (this.#deferred.has(message)) return;
    message.due = due;
    this.#deferred.add(message);
    this.#deferredHeap.push(message);
  }

  /** Called by the queue scanner: time out in-flight messages and release due deferred ones. Returns whether work was done. */
  processTimers(now: number): boolean {
    let worked = false;
    let released = false;
    for (let m = this.#inFlightHeap.peek(); m !== undefined && m.due <= now; m = this.#inFlightHeap.peek()) {
      this.#inFlightHeap.pop();
      this.#inFlight.delete(m);
      this.timeoutCount++;
      const owner = this.#byId.get(m.clientId);
      if (owner !== undefined) {
        owner.inFlightRemoved(1);
        this.readyChanged(owner);
      }
      this.#requeue(m);
      worked = released = true;
    }
    for (let m = this.#deferredHeap.peek(); m !== undefined && m.due <= now; m = this.#deferredHeap.peek()) {
      this.#deferredHeap.pop();
      this.#deferred.delete(m);
      this.#store.undefer(m);
      worked = released = true;
    }
    // Long in-flight messages must not hold the queue's read position for ever.
    if (this.#inFlight.size > 0) this.#store.spill(now, this.#isInFlight);
    if (released) this.dispatch();
    return worked;
  }

  readonly #isInFlight = (m: Message): boolean => this.#inFlight.getLike(m) === m;

  pause(): void {
    this.paused = true;
  }

  unpause(): void {
    this.paused = false;
    this.dispatch();
  }

  /** D-BEH-EMPTY: drop queued, in-flight and deferred messages. */
  empty(): void {
    this.#store.empty();
    const counts = new Map<number, number>();
    for (const m of this.#inFlight.values()) counts.set(m.clientId, (counts.get(m.clientId) ?? 0) + 1);
    this.#inFlight.clear();
    this.#inFlightHeap.clear();
    this.#deferred.clear();
    this.#deferredHeap.clear();
    for (const [id, n] of counts) {
      const c = this.#byId.get(id);
      if (c === undefined) continue;
      c.inFlightRemoved(n);
      this.readyChanged(c);
    }
  }

  /**
   * Shut down (D-BEH-SHUTDOWN): close consumers, then write memory, in-flight
   * and deferred messages to disk so nothing is lost (deferred ones keep their
   * due time). With `remove`, drop everything and delete the files instead
   * (D-BEH-DELETE). Returns how many messages could not be written.
   */
  close(remove: boolean): number {
    this.exiting = true;
    for (const r of this.#rings) r.clear();
    this.#nodes.clear();
    this.#byId.clear();
    for (const c of this.#consumers.splice(0)) c.channelGone();
    const inFlight = this.#inFlightHeap.clear();
    const deferred = this.#deferredHeap.clear();
    this.#inFlight.clear();
    this.#deferred.clear();
    if (remove) {
      this.#store.delete();
      return 0;
    }
    return this.#store.close(inFlight, deferred);
  }
}
