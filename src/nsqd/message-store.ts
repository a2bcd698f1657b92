// Where a topic's or a channel's messages live: a bounded memory FIFO
// (--mem-queue-size), then the disk queue (diskqueue.ts), plus the side log of
// messages that are out of FIFO order (side-log.ts). One class for both, so
// that the format the original must still read has one writer and one reader.
//
// What survives what, per place:
//
//   memory FIFO          lost on SIGKILL (as in the original); written to the
//                        disk queue at shutdown.
//   disk queue           written (a write call returned) before the publish
//                        that carried it is answered; read again after a crash
//                        until its message is settled (see release-window.ts).
//   deferred (channel)   with --mem-queue-size=0: in the side log (ADD) before
//                        the publish / REQ is answered, so a crash keeps it
//                        with its due time; otherwise in memory, like the
//                        original. At shutdown: written to the disk queue plus
//                        a REF entry with the due time, which a restart reads.
//   in flight (channel)  read from disk: the queue's read position stays
//                        behind it until FIN, so a crash delivers it again;
//                        one that stays in flight for long is moved to the side
//                        log (with --mem-queue-size=0) so that the read position
//                        can move on. From memory: lost on SIGKILL.
//
// Records a publish adds are "fresh": a failed write drops them and the
// publish is answered with an error. Records of messages already acknowledged
// (a topic handing its messages to its channels, requeues, timeouts, deferred
// messages coming due) are "keep": a failed write leaves them buffered, and
// they are written when the disk takes writes again.
import type { Logger } from "../common/log.ts";
import { decodeMessagePayload } from "../protocol/frames.ts";
import type { Committable, Committer } from "./commit.ts";
import { DiskQueue, type DiskQueueHost, type DiskQueueOptions, type QueuePosition } from "./diskqueue.ts";
import { Message, idKey, payloadOf } from "./message.ts";
import { MessageQueue } from "./message-queue.ts";
import { SideLog, type SideEntry, type SideLogHost } from "./side-log.ts";

/** Where and how a durable store keeps its disk queue (the store itself is its host). */
export type StoreSettings = Omit<DiskQueueOptions, "host">;

/** Told when written records became readable, or when a failed write went through. */
export interface StoreOwner {
  storeWritten(): void;
  /** Copies of this store's records elsewhere (a topic's channels) wait for a failed write. */
  copiesStuck?(): boolean;
  /** The messages the side log must keep, with their due times (0: at once), when it is compacted. */
  sideMessages?(): Iterable<{ message: Message; due: number }>;
}

/** The side log is rewritten with its live entries when it grows past this, and past twice its last compacted size. */
const COMPACT_MIN = 1024 * 1024;

/** An in-flight message read from disk is moved to the side log once it held the read position this long. */
export const SPILL_AFTER_MS = 3_000;
/** ... and only when at least this many records wait behind it. */
export const SPILL_WINDOW = 1_000;
/** A publish that needs a disk whose last write failed less than this long ago is refused at once. */
const REFUSE_MS = 250;

export const MEMORY = 1;
export const DISK = 2;
export const DROPPED = 0;
export type Placement = typeof MEMORY | typeof DISK | typeof DROPPED;

function posKey(at: QueuePosition): string {
  return `${at.fileNum}:${at.pos}`;
}

function before(a: QueuePosition, b: QueuePosition): boolean {
  return a.fileNum < b.fileNum || (a.fileNum === b.fileNum && a.pos < b.pos);
}

export class MessageStore implements Committable, DiskQueueHost, SideLogHost {
  readonly memory: MessageQueue;
  readonly disk: DiskQueue | null;
  readonly side: SideLog | null;
  /** --mem-queue-size=0 on a queue with a disk: deferrals and long in-flight messages go to the side log. */
  readonly durable: boolean;
  readonly #committer: Committer;
  readonly #log: Logger;
  #owner: StoreOwner | null = null;
  #fromDiskNext = false;
  /** Side log DELs waiting for the disk write of the message's new copy. */
  #pendingDels: Message[] = [];
  /** Window entries whose message has a new copy in the buffers: settled once it is written. */
  #settleAfterWrite: number[] = [];
  /** Due times (REF entries) of records in the queue, by message id: applied when the reader meets them. */
  readonly #dueById = new Map<string, number>();
  /** Copies written at shutdown of messages that are deferred again in memory: skipped when the reader meets them. */
  readonly #skip = new Map<string, Message>();
  /**
   * Ids of messages brought back from ADD entries at start-up and still
   * deferred: a record of theirs that the reader meets is the copy they were
   * taken from before a crash (its settling had not reached the metadata yet),
   * and is skipped.
   */
  readonly #restored = new Set<string>();
  #failedAt = 0;
  #lastError: Error | null = null;
  #closed = false;
  #compactAt = COMPACT_MIN;

  /** `settings` null: an ephemeral queue (memory only; overflow is dropped, D-BEH-EPHEMERAL). */
  constructor(settings: StoreSettings | null, memQueueSize: number, committer: Committer, logger: Logger) {
    this.memory = new MessageQueue(memQueueSize);
    this.#committer = committer;
    this.#log = logger;
    if (settings === null) {
      this.disk = null;
      this.side = null;
      this.durable = false;
      return;
    }
    this.disk = new DiskQueue({ ...settings, host: this });
    this.side = new SideLog(`${this.disk.metaPath().slice(0, -"meta.dat".length)}deferred.dat`, settings.fs, settings.logger, this);
    this.durable = memQueueSize === 0;
    committer.register(this.disk);
    committer.register(this.side);
  }

  /** Who is told about writes (the topic or channel). */
  setOwner(owner: StoreOwner): void {
    this.#owner = owner;
  }

  // ---- DiskQueueHost / SideLogHost ------------------------------------------------

  dirty(): void {
    this.#committer.dirty(this);
  }

  syncWanted(queue: DiskQueue): void {
    this.#committer.syncWanted(queue);
  }

  /**
   * A record settled here is done: finished, or copied to a write that
   * succeeded (see settleAfterWrite). A topic's records are copied to its
   * channels, so they may be released only while no channel waits for a
   * failed write.
   */
  mayRelease(): boolean {
    return !(this.#owner?.copiesStuck?.() ?? false);
  }

  // ---- Committable ----------------------------------------------------------------

  commit(): Error | null {
    let error: Error | null = null;
    let written = 0;
    const disk = this.disk;
    if (disk !== null) {
      const r = disk.flush();
      error = r.error;
      written = r.written;
    }
    const side = this.side;
    if (side !== null) {
      // A DEL may reach the file only after the message's new copy did.
      if (error === null && this.#pendingDels.length > 0) {
        for (const m of this.#pendingDels) side.del(m);
        this.#pendingDels = [];
      }
      const r = side.flush();
      error ??= r.error;
    }
    if (error === null && this.#settleAfterWrite.length > 0) {
      const seqs = this.#settleAfterWrite;
      this.#settleAfterWrite = [];
      for (const seq of seqs) disk!.settle(seq);
    }
    // Every new copy is written and every DEL with it: the live entries are
    // all the log must hold.
    if (error === null && side !== null && side.fileSize > this.#compactAt && this.#pendingDels.length === 0) this.#compact(side);
    const recovered = error === null && this.#lastError !== null;
    if (error !== null) {
      this.#failedAt = Date.now();
      this.#lastError = error;
    } else {
      this.#lastError = null;
    }
    if (written > 0 || recovered) this.#owner?.storeWritten();
    return error;
  }

  stuck(): boolean {
    if (this.#lastError === null) return false;
    return (this.disk?.stuck() ?? false) || (this.side?.stuck() ?? false) || this.#pendingDels.length > 0;
  }

  /** Rewrites the side log with its live entries only (ADD/DEL pairs of the past go). */
  #compact(side: SideLog): void {
    const entries: SideEntry[] = [];
    for (const { message: m, due } of this.#owner?.sideMessages?.() ?? []) {
      if (m.diskAt !== null) entries.push({ kind: "ref", due, id: m.id, at: m.diskAt });
      else if (m.inSide) entries.push({ kind: "add", due, payload: payloadOf(m) });
    }
    for (const [key, due] of this.#dueById) entries.push({ kind: "ref", due, id: latin1Bytes(key), at: null });
    try {
      side.rewrite(entries);
    } catch (err) {
      this.#log.error(`failed to compact ${side.path} - ${err instanceof Error ? err.message : String(err)}`);
    }
    this.#compactAt = Math.max(COMPACT_MIN, 2 * side.fileSize);
  }

  /** The disk refuses writes for now: a topic stops moving messages to this store. */
  failing(): boolean {
    return this.#lastError !== null;
  }

  // ---- depth --------------------------------------------------------------------

  depth(): number {
    return this.memory.length + (this.disk !== null ? this.disk.depth() : 0);
  }

  backendDepth(): number {
    return this.disk !== null ? this.disk.depth() : 0;
  }

  memoryDepth(): number {
    return this.memory.length;
  }

  /** Something can be taken now. */
  hasReadable(): boolean {
    return this.memory.length > 0 || (this.disk !== null && this.disk.readable() > 0);
  }

  /** Nothing waits in memory or on disk (written or buffered). */
  isEmpty(): boolean {
    return this.memory.length === 0 && (this.disk === null || this.disk.depth() === 0);
  }

  // ---- in and out -----------------------------------------------------------------

  /**
   * Queue a message: memory while there is room, then disk. `fresh`: it comes
   * from the publish being handled (see the file comment). Returns where it
   * went: MEMORY, DISK, or DROPPED (an ephemeral queue that is full). Throws
   * when a fresh record cannot go to a disk that is failing.
   */
  push(m: Message, fresh: boolean): Placement {
    if (this.memory.push(m)) return MEMORY;
    const disk = this.disk;
    if (disk === null) return DROPPED;
    if (fresh) this.#refuseWhileFailing();
    disk.putMessage(m, !fresh);
    if (fresh) this.#committer.fresh();
    return DISK;
  }

  #refuseWhileFailing(): void {
    const e = this.#lastError;
    if (e !== null && Date.now() - this.#failedAt < REFUSE_MS) throw e;
  }

  /**
   * The next message: memory and disk alternate when both hold some, so that
   * neither starves the other (the original selects between them at random).
   * A message from disk carries its window sequence (diskSeq) until settled.
   */
  take(): Message | null {
    const disk = this.disk;
    const diskHas = disk !== null && disk.readable() > 0;
    if (this.memory.length > 0 && !(diskHas && this.#fromDiskNext)) {
      this.#fromDiskNext = true;
      return this.memory.shift()!;
    }
    this.#fromDiskNext = false;
    if (!diskHas) return null;
    for (;;) {
      const m = disk.readNextMessage();
      if (m === null) return null;
      m.diskSeq = disk.lastSeq;
      if (this.#skip.size > 0) {
        const at = { fileNum: disk.lastFileNum, pos: disk.lastPos };
        const held = this.#skip.get(posKey(at));
        if (held !== undefined && held.idHi === m.idHi && held.idLo === m.idLo) {
          this.#skip.delete(posKey(at));
          this.#reachedSkipped(held, at);
          disk.settle(m.diskSeq);
          continue;
        }
      }
      if (this.#restored.size > 0 && this.#restored.has(m.key)) {
        disk.settle(m.diskSeq);
        continue;
      }
      if (this.#dueById.size > 0) {
        const due = this.#dueById.get(m.key);
        if (due !== undefined) {
          this.#dueById.delete(m.key);
          this.#pendingDels.push(m);
          this.dirty();
          m.deferMs = Math.max(0, due - Date.now());
        }
      }
      return m;
    }
  }

  /** The reader met the shutdown copy of a message that is deferred in memory again. */
  #reachedSkipped(held: Message, at: QueuePosition): void {
    if (held.diskAt === null || held.diskAt.fileNum !== at.fileNum || held.diskAt.pos !== at.pos) return;
    held.diskAt = null;
    // The copy is read past: with --mem-queue-size=0 the message must be kept elsewhere.
    if (this.durable && held.heapIndex >= 0 && this.side !== null) {
      this.side.add(held, held.due, true);
      held.inSide = true;
    }
  }

  /** `m` was handed to its consumer: keep its disk record unsettled until it is done (see spill). */
  track(m: Message): void {
    if (m.diskSeq >= 0) this.disk!.attach(m.diskSeq, m);
  }

  /**
   * `m` goes back to the end of the queue (REQ, a timeout): a new copy first;
   * the record it was read from is settled once that copy is written.
   */
  requeue(m: Message): void {
    const seq = m.diskSeq;
    m.diskSeq = -1;
    const placed = this.push(m, false);
    if (seq >= 0) {
      if (placed === DISK) this.#settleAfterWrite.push(seq);
      else this.disk?.settle(seq); // in memory now, as in the original
    }
    if (m.inSide) {
      m.inSide = false;
      this.#pendingDels.push(m);
      this.dirty();
    }
  }

  /**
   * `m` is done here (FIN): its disk record may be read past, its side log
   * entry goes.
   */
  release(m: Message): void {
    if (m.diskSeq >= 0) {
      this.disk?.settle(m.diskSeq);
      m.diskSeq = -1;
    }
    if (m.inSide) {
      m.inSide = false;
      this.#pendingDels.push(m);
      this.dirty();
    }
  }

  /**
   * `m` is deferred until `due`. With --mem-queue-size=0 it is added to the
   * side log first (`fresh` when a publish carried it), so a crash keeps it.
   */
  defer(m: Message, due: number, fresh: boolean): void {
    if (this.durable && this.side !== null) {
      if (fresh) this.#refuseWhileFailing();
      // A later ADD of the same id replaces an earlier one when the log is read.
      this.side.add(m, due, !fresh);
      m.inSide = true;
      if (fresh) this.#committer.fresh();
      // The ADD replaces the record it came from, once written.
      if (m.diskSeq >= 0) this.#settleAfterWrite.push(m.diskSeq);
      m.diskSeq = -1;
      return;
    }
    // In memory from now on, as in the original.
    if (m.diskSeq >= 0) {
      this.disk?.settle(m.diskSeq);
      m.diskSeq = -1;
    }
  }

  /** A deferred message came due: it goes back to the queue; its side log entry goes once that copy is written. */
  undefer(m: Message): void {
    m.diskAt = null;
    if (this.#restored.size > 0) this.#restored.delete(m.key);
    this.push(m, false);
    if (m.inSide) {
      m.inSide = false;
      this.#pendingDels.push(m);
      this.dirty();
    }
  }

  /**
   * A message published with a delay that waits in a topic's disk queue: its
   * due time goes to the side log by id, and comes back when the topic reads it.
   */
  noteDue(m: Message, due: number, fresh: boolean): void {
    if (this.side === null) return;
    this.side.ref(m.id, due, null, !fresh);
    this.#dueById.set(m.key, due);
  }

  /**
   * In-flight messages read from disk that hold the queue's read position for
   * too long: with --mem-queue-size=0 they move to the side log (due at once
   * after a restart); otherwise their records are settled (from now on they are
   * in memory only, as in the original).
   */
  spill(now: number, inFlight: (m: Message) => boolean): void {
    const disk = this.disk;
    // Not while writes fail: a spilled message's record is settled only once its ADD is written.
    if (disk === null || this.#lastError !== null) return;
    while (disk.unsettled() > SPILL_WINDOW) {
      const oldest = disk.oldestUnsettled();
      if (oldest === null) return;
      const m = oldest.item as Message | undefined;
      if (m !== undefined && now - m.deliveredAt < SPILL_AFTER_MS) return;
      if (m !== undefined && this.durable && this.side !== null && inFlight(m) && !m.inSide) {
        this.side.add(m, 0, true);
        m.inSide = true;
        this.#settleAfterWrite.push(oldest.seq);
        // Not settled yet: the next entry is looked at once the ADD is written.
        m.diskSeq = -1;
        disk.attach(oldest.seq, undefined);
        return;
      }
      disk.settle(oldest.seq);
      if (m !== undefined) m.diskSeq = -1;
    }
  }

  // ---- start-up ---------------------------------------------------------------------

  /**
   * Reads the side log: ADD entries come back deferred (`restore`), REF
   * entries with a position bring back the copy written at shutdown, deferred
   * again (the copy is skipped when the reader meets it); REF entries without
   * one are applied when the reader meets the message. Then the log is
   * rewritten with what is still live.
   */
  load(restore: ((m: Message, due: number) => void) | null): void {
    const side = this.side;
    const disk = this.disk;
    if (side === null || disk === null) return;
    const entries = side.load();
    if (entries.size === 0) return;
    const start = disk.releasePosition();
    const keep: SideEntry[] = [];
    for (const [key, e] of entries) {
      if (e.kind === "add") {
        if (restore === null) continue;
        const m = Message.fromRecord(e.payload);
        if (this.durable) {
          m.inSide = true;
          keep.push(e);
          this.#restored.add(key);
        }
        restore(m, e.due);
        continue;
      }
      if (e.at === null || restore === null) {
        // A topic applies due times when it reads the message.
        if (e.at !== null && before(e.at, start)) continue;
        this.#dueById.set(key, e.due);
        keep.push(e);
        continue;
      }
      if (before(e.at, start)) continue; // read past already (by another run)
      const record = disk.readAt(e.at);
      if (record === null) continue;
      const d = decodeMessagePayload(record);
      if (idKey(d.id) !== key) continue;
      const m = Message.fromRecord(record);
      m.diskAt = e.at;
      this.#skip.set(posKey(e.at), m);
      keep.push(e);
      restore(m, e.due);
    }
    try {
      side.rewrite(keep);
    } catch (err) {
      this.#log.error(`failed to rewrite ${side.path} - ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  // ---- shutdown, empty, delete --------------------------------------------------------

  /**
   * D-BEH-SHUTDOWN: memory, in-flight and deferred messages go to the disk
   * queue (as the original does, so it can still deliver them), the due times
   * of the deferred ones to the side log as REF entries; then everything is
   * fsynced and the metadata written. Returns how many messages could not be
   * written (a full disk): they are lost, and logged.
   */
  close(inFlight: Iterable<Message>, deferred: Iterable<Message>): number {
    this.#closed = true;
    const disk = this.disk;
    if (disk === null) return 0;
    let lost = 0;
    const refs: SideEntry[] = [];
    const start = disk.releasePosition();
    const save = (m: Message, due: number): void => {
      let at = m.diskAt;
      if (at === null || before(at, start)) {
        try {
          at = disk.putNow(m);
        } catch (err) {
          // Keep it whole in the side log rather than lose it.
          refs.push({ kind: "add", due, payload: payloadOf(m) });
          this.#log.error(`failed to write a deferred message to ${disk.name} - ${err instanceof Error ? err.message : String(err)}`);
          return;
        }
      }
      refs.push({ kind: "ref", due, id: m.id, at });
    };
    for (const m of this.memory.drain()) {
      // A topic's delayed publish (DPUB) keeps its due time too.
      if (m.deferMs > 0) save(m, Math.floor(m.timestamp / 1e6) + m.deferMs);
      else disk.putMessage(m, true);
    }
    for (const m of inFlight) disk.putMessage(m, true);
    for (const [key, due] of this.#dueById) refs.push({ kind: "ref", due, id: latin1Bytes(key), at: null });
    for (const m of deferred) {
      save(m, m.due);
      m.inSide = false;
    }
    disk.settleAll();
    const buffered = disk.buffered();
    try {
      disk.close();
    } catch (err) {
      lost += buffered;
      this.#log.error(`failed to close ${disk.name}, ${buffered} messages not written - ${err instanceof Error ? err.message : String(err)}`);
    }
    this.#committer.unregister(disk);
    const side = this.side!;
    try {
      side.rewrite(refs);
    } catch (err) {
      this.#log.error(`failed to write ${side.path} - ${err instanceof Error ? err.message : String(err)}`);
    }
    side.close();
    this.#committer.unregister(side);
    return lost;
  }

  /** D-BEH-EMPTY: drops every queued message (memory, disk, side log). */
  empty(): void {
    this.memory.clear();
    this.#pendingDels = [];
    this.#settleAfterWrite = [];
    this.#dueById.clear();
    this.#skip.clear();
    this.#restored.clear();
    this.disk?.empty();
    if (this.side !== null) {
      try {
        this.side.rewrite([]);
      } catch (err) {
        this.#log.error(`failed to empty ${this.side.path} - ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  /** D-BEH-DELETE: drops everything and removes the files. */
  delete(): void {
    this.#closed = true;
    this.memory.clear();
    this.#pendingDels = [];
    if (this.disk !== null) {
      this.disk.delete();
      this.#committer.unregister(this.disk);
    }
    if (this.side !== null) {
      this.side.delete();
      this.#committer.unregister(this.side);
    }
  }

  get closed(): boolean {
    return this.#closed;
  }
}

function latin1Bytes(key: string): Uint8Array {
  const out = new Uint8Array(key.length);
  for (let i = 0; i < key.length; i++) out[i] = key.charCodeAt(i);
  return out;
}
