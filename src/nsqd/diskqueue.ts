// The on-disk FIFO behind every topic and channel (D-BEH-DISKQUEUE), byte-compatible
// with go-diskqueue v1.1.0 as used by nsqd v1.3.0, so a data directory can be
// handed back and forth between the original and this implementation.
//
// Layout under `dataPath`:
//   <name>.diskqueue.000000.dat  segments; each record is [int32 big-endian len][len bytes]
//   <name>.diskqueue.meta.dat    "<depth>\n<readFileNum>,<readPos>\n<writeFileNum>,<writePos>\n"
//
// How a record travels (see commit.ts for the daemon-wide side):
//
//   put()      the record is framed into one of two memory buffers. `keep`
//              holds records that must never be dropped (messages already
//              acknowledged: moved from a topic, requeued, timed out);
//              `fresh` holds records of publishes not yet answered.
//   flush()    at the end of the event-loop turn the buffers are written out,
//              one write call per segment touched. A write that fails (ENOSPC,
//              EIO) is cut back off the file (ftruncate), so a segment never
//              holds a torn record; `keep` records stay buffered for the next
//              attempt, `fresh` ones are dropped and their publishes answered
//              with an error. Only written records are readable.
//   sync       fsync of the segments written since the last one, then the
//              metadata (see syncBegin/syncEnd); driven by --sync-every,
//              --sync-timeout, segment rolls and, with --sync-every=1, by every
//              publish waiting for its answer.
//   readNext() hands out the next written record and remembers it in the
//              release window (release-window.ts) until the owner settles it.
//              The read position in the metadata is the window's head, so a
//              record in flight when the process dies is read again.
//
// Recovery: the metadata names a write position, but records written after
// the metadata was last saved are in the files too. Opening a queue reads on
// from that position through the write segment and any later segments, counts
// every whole record found and cuts a torn record off the tail, so everything
// a write call accepted before a crash is delivered.
//
// Like the original (K-DISK-CORRUPT): a record whose length is outside
// [minMsgSize, maxMsgSize], or a segment that ends inside a record or cannot be
// opened, gets its segment renamed to `<segment>.bad` and reading goes on with
// the next segment. Depth is not lowered for the records lost that way (their
// number is unknown); once the reader reaches the writer a non-zero depth is
// reset to 0 with an error logged, as go-diskqueue's tail check does.

import type { AppendFile, FileSystem, ReadFile } from "../runtime/types.ts";
import type { Logger } from "../common/log.ts";
import { RecordBuffer, fsyncFile } from "./record-buffer.ts";
import { ReleaseWindow } from "./release-window.ts";
import { BadRecord, SegmentReader, scanSegment } from "./diskqueue-reader.ts";
import { Message } from "./message.ts";

export interface DiskQueueOptions {
  /** "<topic>" or "<topic>:<channel>". */
  name: string;
  dataPath: string;
  maxBytesPerFile: number;
  /** Records shorter than this are corrupt (26, the message header size). */
  minMsgSize: number;
  /** max_msg_size + 26. */
  maxMsgSize: number;
  /** An fsync + metadata is wanted after this many records written and read. */
  syncEvery: number;
  fs: FileSystem;
  logger: Logger;
  /** Told when records wait to be written and when a sync is wanted (absent: the caller flushes and syncs). */
  host?: DiskQueueHost;
}

export interface DiskQueueHost {
  /** Records were buffered: flush() this queue soon (at the end of the turn). */
  dirty(queue: DiskQueue): void;
  /** An fsync + metadata write is due (--sync-every reached, a segment roll, a segment finished). */
  syncWanted(queue: DiskQueue): void;
  /**
   * Whether the metadata may now name settled records as read (and their
   * segments go): false while copies of them wait for a failed write.
   */
  mayRelease(queue: DiskQueue): boolean;
}

/** A place in the queue: byte `pos` of segment `fileNum`. */
export interface QueuePosition {
  fileNum: number;
  pos: number;
}

/** Parses `<name>.diskqueue.meta.dat`; null when the text is not in that shape. */
export function parseDiskQueueMeta(text: string): { depth: number; readFileNum: number; readPos: number; writeFileNum: number; writePos: number } | null {
  const m = /^(-?\d+)\r?\n(-?\d+),(-?\d+)\r?\n(-?\d+),(-?\d+)(?:\r?\n|$)/.exec(text);
  if (m === null) return null;
  return {
    depth: Number(m[1]),
    readFileNum: Number(m[2]),
    readPos: Number(m[3]),
    writeFileNum: Number(m[4]),
    writePos: Number(m[5]),
  };
}

/** The metadata text exactly as go-diskqueue writes it. */
export function formatDiskQueueMeta(depth: number, readFileNum: number, readPos: number, writeFileNum: number, writePos: number): string {
  return `${depth}\n${readFileNum},${readPos}\n${writeFileNum},${writePos}\n`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A segment open for appending, with what its fsync bookkeeping needs. */
class Segment {
  /** Bytes written since the last fsync started. */
  dirty = false;
  /** fsyncs under way. */
  syncing = 0;
  /** Close once no fsync is under way (the writer moved on). */
  retired = false;
  closed = false;
  constructor(
    readonly fileNum: number,
    readonly file: AppendFile,
  ) {}
}

/** Outcome of a flush: records written, fresh records dropped, the error when a write failed. */
export interface FlushResult {
  written: number;
  dropped: number;
  error: Error | null;
}

const FLUSHED: FlushResult = Object.freeze({ written: 0, dropped: 0, error: null }) as FlushResult;

export class DiskQueue {
  readonly name: string;
  readonly #dataPath: string;
  readonly #maxBytesPerFile: number;
  readonly #minMsgSize: number;
  readonly #maxMsgSize: number;
  readonly #syncEvery: number;
  readonly #fs: FileSystem;
  readonly #log: Logger;
  readonly #host: DiskQueueHost | null;

  /** Written records not yet read. */
  #depth = 0;
  /** The next record to read. */
  readonly #read: QueuePosition = { fileNum: 0, pos: 0 };
  /** The end of the written records. */
  readonly #write: QueuePosition = { fileNum: 0, pos: 0 };
  /** Where each segment behind the write segment ends for the reader (set at a roll or at recovery). */
  readonly #segmentEnds = new Map<number, number>();
  /** Segments below this number are gone (deleted once the window's head passed them). */
  #deletedBelow = 0;

  readonly #keep = new RecordBuffer();
  readonly #fresh = new RecordBuffer();
  #dirty = false;
  #failing = false;

  #segment: Segment | null = null;
  /** A segment was created since the last sync: the directory needs an fsync too. */
  #newFile = false;
  /** Segments the writer left that still need an fsync (then they are closed). */
  #retired: Segment[] = [];

  readonly #reader: SegmentReader;
  readonly #window = new ReleaseWindow<unknown>();
  /** Segment, position and window sequence of the record readNext() returned last. */
  lastFileNum = 0;
  lastPos = 0;
  lastSeq = -1;

  /** Records written and read since the last sync began. */
  #ops = 0;
  #syncRequested = false;
  /** Bumped by changes that make metadata captured earlier unfit to write (empty, delete, close). */
  #epoch = 0;
  /** Metadata captured by syncBegin, written by syncEnd; `head`: the segment of its read position. */
  #captured: { text: string; epoch: number; head: number } | null = null;
  /** The read position's segment when syncBegin captured (-1: nothing may be deleted). */
  #capturedHead = -1;
  #lastMeta = "";
  #metaWriting = false;
  #metaNext: { text: string; epoch: number; head: number } | null = null;
  #closed = false;

  constructor(options: DiskQueueOptions) {
    this.name = options.name;
    // An empty data path means the working directory, as for the original.
    this.#dataPath = options.dataPath === "" ? "." : options.dataPath.replace(/(.)\/+$/, "$1");
    this.#maxBytesPerFile = options.maxBytesPerFile;
    this.#minMsgSize = options.minMsgSize;
    this.#maxMsgSize = options.maxMsgSize;
    // As with the original's counter: 0 syncs after every operation, a negative
    // value never syncs by count (only at rolls, on the timer and at close).
    this.#syncEvery = options.syncEvery === 0 ? 1 : options.syncEvery < 0 ? Infinity : options.syncEvery;
    this.#fs = options.fs;
    this.#log = options.logger;
    this.#host = options.host ?? null;
    this.#reader = new SegmentReader(this.#fs, (n) => this.segmentPath(n), this.#minMsgSize, this.#maxMsgSize);
    this.#lastMeta = this.#loadMeta();
    this.#recover();
  }

  // ---- state ------------------------------------------------------------------

  /** Records not yet read: written ones and those waiting in the buffers. */
  depth(): number {
    return this.#depth + this.#keep.records + this.#fresh.records;
  }

  /** Written records not yet read: what readNext() can return now. */
  readable(): number {
    return this.#depth;
  }

  /** Records waiting in the buffers. */
  buffered(): number {
    return this.#keep.records + this.#fresh.records;
  }

  /** The last flush failed (records that must be kept may be waiting for the next attempt). */
  failing(): boolean {
    return this.#failing;
  }

  /** Records that must be kept are waiting for a write that failed. */
  stuck(): boolean {
    return this.#failing && this.#keep.length > 0;
  }

  /** Records handed out by readNext() and not yet settled (counted in the metadata depth). */
  unsettled(): number {
    return this.#window.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Path of segment `fileNum` (`<dataPath>/<name>.diskqueue.%06d.dat`). */
  segmentPath(fileNum: number): string {
    return `${this.#dataPath}/${this.name}.diskqueue.${String(fileNum).padStart(6, "0")}.dat`;
  }

  /** Path of the metadata file. */
  metaPath(): string {
    return `${this.#dataPath}/${this.name}.diskqueue.meta.dat`;
  }

  /** The position the metadata names as the read position: the oldest unsettled record, else the reader. */
  releasePosition(): QueuePosition {
    if (this.#window.length > 0) return { fileNum: this.#window.headFileNum(), pos: this.#window.headPos() };
    return { fileNum: this.#read.fileNum, pos: this.#read.pos };
  }

  /** The end of the written records. */
  writePosition(): QueuePosition {
    return { fileNum: this.#write.fileNum, pos: this.#write.pos };
  }

  // ---- writing ----------------------------------------------------------------

  #checkSize(len: number): void {
    if (this.#closed) throw new Error(`DISKQUEUE(${this.name}) is closed`);
    if (len < this.#minMsgSize || len > this.#maxMsgSize) {
      throw new RangeError(`DISKQUEUE(${this.name}) record size ${len} is outside ${this.#minMsgSize}..${this.#maxMsgSize}`);
    }
  }

  /**
   * Buffers one record (`keep`: it must survive a failed write). Throws, and
   * keeps nothing, when its size is outside [minMsgSize, maxMsgSize].
   */
  put(record: Uint8Array, keep = false): void {
    this.#checkSize(record.length);
    (keep ? this.#keep : this.#fresh).push(record);
    this.#markDirty();
  }

  /** put() of a message payload record, framed straight into the buffer. */
  putMessage(m: Message, keep = false): void {
    this.#checkSize(26 + m.body.length);
    (keep ? this.#keep : this.#fresh).pushMessage(m);
    this.#markDirty();
  }

  #markDirty(): void {
    if (this.#dirty) return;
    this.#dirty = true;
    this.#host?.dirty(this);
  }

  /**
   * Writes the buffered records: `keep` ones first, then `fresh` ones. When a
   * write fails, what it wrote is cut back off the segment; `keep` records stay
   * buffered (the next flush tries again), `fresh` records not yet written are
   * dropped and counted in `dropped`. Never throws.
   */
  flush(): FlushResult {
    this.#dirty = false;
    if (this.#keep.length === 0 && this.#fresh.length === 0) return FLUSHED;
    let written = 0;
    let dropped = 0;
    let error: Error | null = null;
    if (this.#keep.length > 0) {
      const r = this.#writeBuffer(this.#keep);
      written += r.written;
      error = r.error;
    }
    if (this.#fresh.length > 0) {
      if (error === null) {
        const r = this.#writeBuffer(this.#fresh);
        written += r.written;
        error = r.error;
      }
      dropped = this.#fresh.records;
      this.#fresh.clear();
    }
    this.#failing = error !== null;
    if (written > 0) this.#count(written);
    return { written, dropped, error };
  }

  /**
   * Writes one record at once (flushing the buffers first) and returns where it
   * landed. Throws when a write fails. For shutdown, where the position of
   * each deferred message is recorded beside the queue.
   */
  putNow(m: Message): QueuePosition {
    const before = this.flush();
    if (before.error !== null) throw before.error;
    this.#checkSize(26 + m.body.length);
    const total = 4 + 26 + m.body.length;
    const at: QueuePosition =
      this.#write.pos > 0 && this.#write.pos + total > this.#maxBytesPerFile
        ? { fileNum: this.#write.fileNum + 1, pos: 0 }
        : { fileNum: this.#write.fileNum, pos: this.#write.pos };
    this.#keep.pushMessage(m);
    const r = this.flush();
    if (r.error !== null) {
      this.#keep.clear();
      throw r.error;
    }
    return at;
  }

  /** Writes the records of `buf` segment by segment; consumes what was written. */
  #writeBuffer(buf: RecordBuffer): { written: number; error: Error | null } {
    const bytes = buf.bytes();
    const len = bytes.length;
    let off = 0;
    let records = 0;
    let error: Error | null = null;
    while (off < len) {
      const first = buf.recordSize(off);
      if (this.#write.pos > 0 && this.#write.pos + first > this.#maxBytesPerFile) this.#roll();
      let end = off + first;
      let n = 1;
      while (end < len) {
        const next = buf.recordSize(end);
        if (this.#write.pos + (end - off) + next > this.#maxBytesPerFile) break;
        end += next;
        n++;
      }
      try {
        this.#append(bytes.subarray(off, end));
      } catch (err) {
        error = err instanceof Error ? err : new Error(String(err));
        break;
      }
      this.#write.pos += end - off;
      this.#depth += n;
      records += n;
      off = end;
    }
    buf.consume(off, records);
    return { written: records, error };
  }

  /** One write call to the write segment; on failure the segment is cut back to where it was, then the error is thrown. */
  #append(bytes: Uint8Array): void {
    const segment = this.#openSegment();
    const expected = this.#write.pos;
    try {
      segment.file.write(bytes);
    } catch (err) {
      try {
        if (segment.file.size() !== expected) segment.file.truncate(expected);
      } catch (cut) {
        // The torn bytes cannot be taken back: writing goes on in the next segment
        // and the reader stops this one where the good records end.
        this.#log.error(`DISKQUEUE(${this.name}) failed to cut a failed write off ${this.segmentPath(segment.fileNum)} - ${errorText(cut)}`);
        this.#relocate(expected);
      }
      throw err;
    }
    segment.dirty = true;
  }

  /** The write segment, opened (and checked against the write position) when needed. */
  #openSegment(): Segment {
    if (this.#segment !== null) return this.#segment;
    const path = this.segmentPath(this.#write.fileNum);
    const file = this.#fs.openAppend(path);
    const size = file.size();
    if (size === 0) this.#newFile = true;
    if (size !== this.#write.pos) {
      // Bytes past the write position are not records of ours (a write whose
      // failure could not be cut back, or a change behind our back).
      this.#log.warn(`DISKQUEUE(${this.name}) ${path} is ${size} bytes, expected ${this.#write.pos}: cutting it back`);
      try {
        if (size < this.#write.pos) throw new Error(`${path} is shorter than the records written to it`);
        file.truncate(this.#write.pos);
      } catch (err) {
        file.close();
        this.#log.error(`DISKQUEUE(${this.name}) ${errorText(err)}: continuing in the next segment`);
        this.#relocate(Math.min(size, this.#write.pos));
        return this.#openSegment();
      }
    }
    this.#log.info(`DISKQUEUE(${this.name}): opened ${path} for writing`);
    this.#segment = new Segment(this.#write.fileNum, file);
    return this.#segment;
  }

  /** The write segment cannot be used past `goodEnd`: the reader stops there, writing goes on in the next one. */
  #relocate(goodEnd: number): void {
    const old = this.#write.fileNum;
    this.#segmentEnds.set(old, goodEnd);
    this.#retireSegment();
    this.#write.fileNum = old + 1;
    this.#write.pos = 0;
    this.#wantSync();
  }

  /** The next record would not fit: the writer moves to the next segment (fsync + metadata follow, as in the original). */
  #roll(): void {
    this.#segmentEnds.set(this.#write.fileNum, this.#write.pos);
    this.#retireSegment();
    this.#write.fileNum++;
    this.#write.pos = 0;
    this.#wantSync();
  }

  #retireSegment(): void {
    const segment = this.#segment;
    this.#segment = null;
    if (segment === null) return;
    segment.retired = true;
    if (segment.dirty || segment.syncing > 0) this.#retired.push(segment);
    else this.#closeSegment(segment);
  }

  #closeSegment(segment: Segment): void {
    if (segment.closed) return;
    segment.closed = true;
    try {
      segment.file.close();
    } catch (err) {
      this.#log.error(`DISKQUEUE(${this.name}) failed to close a segment - ${errorText(err)}`);
    }
  }

  // ---- reading ----------------------------------------------------------------

  /**
   * The next written record (a copy the caller owns), or null when none is
   * readable. The record stays in the release window until settle(lastSeq);
   * `lastFileNum`/`lastPos` say where it was.
   */
  readNext(): Uint8Array | null {
    const len = this.#readCopy();
    if (len < 0) return null;
    const r = this.#reader;
    return r.copyBuf.subarray(r.copyAt, r.copyAt + len);
  }

  /** readNext() as a Message whose body is a view of the copied record (no view of the whole record is made). */
  readNextMessage(): Message | null {
    const len = this.#readCopy();
    if (len < 0) return null;
    return Message.fromBytes(this.#reader.copyBuf, this.#reader.copyAt, len);
  }

  /** Copies the next record out (reader.copyBuf/copyAt); its length, or -1 when none is readable. */
  #readCopy(): number {
    if (this.#closed) return -1;
    for (;;) {
      if (this.#read.fileNum > this.#write.fileNum || (this.#read.fileNum === this.#write.fileNum && this.#read.pos >= this.#write.pos)) {
        this.#checkTail();
        return -1;
      }
      let end: number;
      if (this.#read.fileNum < this.#write.fileNum) {
        let known = this.#segmentEnds.get(this.#read.fileNum);
        if (known === undefined) {
          try {
            known = this.#reader.size(this.#read.fileNum);
          } catch (err) {
            this.#badSegment(errorText(err));
            continue;
          }
          this.#segmentEnds.set(this.#read.fileNum, known);
        }
        end = known;
        if (this.#read.pos >= end) {
          this.#nextReadSegment();
          continue;
        }
      } else {
        end = this.#write.pos;
      }
      const len = this.#reader.readCopy(this.#read.fileNum, this.#read.pos, end);
      if (len < 0) {
        this.#badSegment(this.#reader.badReason);
        continue;
      }
      this.lastFileNum = this.#read.fileNum;
      this.lastPos = this.#read.pos;
      this.lastSeq = this.#window.push(this.#read.fileNum, this.#read.pos, undefined);
      this.#read.pos += 4 + len;
      this.#depth--;
      this.#count(1);
      return len;
    }
  }

  /**
   * The record handed out as `seq` is done (finished, or stored elsewhere):
   * the metadata's read position may pass it. Segments the head left behind
   * are deleted.
   */
  settle(seq: number): void {
    this.#window.settle(seq);
  }

  /** Whether `seq` was handed out and is not settled yet. */
  isUnsettled(seq: number): boolean {
    return this.#window.has(seq);
  }

  /** Attach an item to an unsettled entry (the owner's message), for oldestUnsettled(). */
  attach(seq: number, item: unknown): void {
    this.#window.attach(seq, item);
  }

  /** The item of the oldest unsettled entry (see attach). */
  oldestUnsettled(): { seq: number; item: unknown } | null {
    if (this.#window.length === 0) return null;
    return { seq: this.#window.headSeq, item: this.#window.headItem() };
  }

  /**
   * Settles every entry: their messages were all stored again elsewhere (at
   * shutdown, in flight messages go back to the end of the queue).
   */
  settleAll(): void {
    this.#window.clear();
  }

  /** The record stored at `at` (segment and byte offset), or null when there is no whole valid record there. */
  readAt(at: QueuePosition): Uint8Array | null {
    const reader = new SegmentReader(this.#fs, (n) => this.segmentPath(n), this.#minMsgSize, this.#maxMsgSize);
    try {
      let end: number;
      if (at.fileNum === this.#write.fileNum) end = this.#write.pos;
      else if (at.fileNum < this.#write.fileNum) end = this.#segmentEnds.get(at.fileNum) ?? reader.size(at.fileNum);
      else return null;
      const r = reader.read(at.fileNum, at.pos, end);
      return r instanceof BadRecord ? null : r.slice();
    } catch {
      return null;
    } finally {
      reader.close();
    }
  }

  #nextReadSegment(): void {
    this.#reader.close();
    this.#segmentEnds.delete(this.#read.fileNum);
    this.#read.fileNum++;
    this.#read.pos = 0;
    this.#wantSync();
  }

  /**
   * Deletes the segments wholly behind the read position named by the
   * metadata just written (`head`). Not earlier: a segment is the only copy
   * of its records until every copy made of them elsewhere (a channel's) is
   * written and fsynced, which is what a sync round establishes.
   */
  #deleteBelow(head: number): void {
    while (this.#deletedBelow < head) {
      const path = this.segmentPath(this.#deletedBelow);
      try {
        this.#fs.unlink(path);
      } catch (err) {
        this.#log.error(`DISKQUEUE(${this.name}) failed to remove ${path} - ${errorText(err)}`);
      }
      this.#segmentEnds.delete(this.#deletedBelow);
      this.#deletedBelow++;
    }
  }

  /** K-DISK-CORRUPT: rename the read segment to `.bad` and go on with the next one. */
  #badSegment(reason: string): void {
    const fileNum = this.#read.fileNum;
    const path = this.segmentPath(fileNum);
    this.#log.error(`DISKQUEUE(${this.name}) cannot read ${path} at ${this.#read.pos} - ${reason}`);
    this.#reader.close();
    if (fileNum === this.#write.fileNum) {
      // The broken segment is also the one being written: writing moves on too.
      this.#retireSegment();
      this.#write.fileNum++;
      this.#write.pos = 0;
    }
    const bad = `${path}.bad`;
    this.#log.warn(`DISKQUEUE(${this.name}) skipping to the next segment, ${path} kept as ${bad}`);
    try {
      this.#fs.rename(path, bad);
    } catch (err) {
      this.#log.error(`DISKQUEUE(${this.name}) failed to rename ${path} to ${bad} - ${errorText(err)}`);
    }
    this.#segmentEnds.delete(fileNum);
    this.#read.fileNum++;
    this.#read.pos = 0;
    this.#wantSync();
  }

  /**
   * When the reader has reached the writer the depth must be 0; otherwise
   * records were lost (a `.bad` segment) or the metadata was wrong: reset, as
   * the original does.
   */
  #checkTail(): void {
    if (this.#depth !== 0) {
      this.#log.error(
        this.#depth < 0
          ? `DISKQUEUE(${this.name}) depth ${this.#depth} at the end of the queue (metadata corruption), resetting to 0`
          : `DISKQUEUE(${this.name}) depth ${this.#depth} at the end of the queue (records were lost), resetting to 0`,
      );
      this.#depth = 0;
      this.#wantSync();
    }
  }

  // ---- sync ---------------------------------------------------------------------

  #count(n: number): void {
    this.#ops += n;
    if (this.#ops >= this.#syncEvery) this.#wantSync();
  }

  #wantSync(): void {
    if (this.#syncRequested || this.#closed) return;
    this.#syncRequested = true;
    this.#host?.syncWanted(this);
  }

  /** Something was written or read since the last sync began (the --sync-timeout timer syncs such queues). */
  active(): boolean {
    return this.#ops > 0 || this.#syncRequested || this.unsynced() || this.#metaText() !== this.#lastMeta;
  }

  /** Written bytes wait for an fsync. */
  unsynced(): boolean {
    if (this.#newFile || this.#segment?.dirty) return true;
    for (const s of this.#retired) if (s.dirty) return true;
    return false;
  }

  /**
   * Starts the fsync of every segment written since the last one (off the
   * event loop when the file system offers it) and captures the metadata to
   * write once it is done (syncEnd). The captured metadata names only records
   * written before this call, so it never names bytes that are not fsynced.
   */
  syncBegin(): Promise<void> {
    const captureMeta = this.#host?.mayRelease(this) ?? true;
    this.#ops = 0;
    this.#syncRequested = false;
    const text = captureMeta ? this.#metaText() : this.#lastMeta;
    const head = this.releasePosition().fileNum;
    this.#capturedHead = captureMeta ? head : -1;
    this.#captured = text !== this.#lastMeta ? { text, epoch: this.#epoch, head } : null;
    const pending: Promise<void>[] = [];
    const segments = this.#segment !== null ? [...this.#retired, this.#segment] : [...this.#retired];
    this.#retired = [];
    for (const s of segments) {
      if (s.dirty && !s.closed) pending.push(this.#syncSegment(s));
      else if (s.retired && s.syncing === 0) this.#closeSegment(s);
      else if (s.retired) this.#retired.push(s);
    }
    if (this.#newFile) {
      // A new segment's name must reach the disk as well as its bytes.
      this.#newFile = false;
      pending.push(
        this.#fs.syncDirectory(this.#dataPath).catch((err: unknown) => {
          this.#newFile = true;
          throw err;
        }),
      );
    }
    if (pending.length === 0) return Promise.resolve();
    return pending.length === 1 ? pending[0]! : Promise.all(pending).then(() => {});
  }

  #syncSegment(s: Segment): Promise<void> {
    s.dirty = false;
    s.syncing++;
    const done = (): void => {
      s.syncing--;
      if (s.retired && s.syncing === 0 && !s.dirty) this.#closeSegment(s);
    };
    return fsyncFile(s.file).then(done, (err: unknown) => {
      s.dirty = true;
      done();
      if (s.retired && !s.closed) this.#retired.push(s);
      throw err;
    });
  }

  /**
   * After syncBegin's fsyncs succeeded: writes the captured metadata (off the
   * event loop) and deletes the segments behind its read position.
   */
  syncEnd(): void {
    const captured = this.#captured;
    const head = this.#capturedHead;
    this.#captured = null;
    this.#capturedHead = -1;
    if (head >= 0 && !this.#closed) this.#deleteBelow(head);
    if (captured === null || captured.epoch !== this.#epoch || this.#closed) return;
    if (this.#metaWriting) {
      this.#metaNext = captured;
      return;
    }
    this.#writeMetaAsync(captured);
  }

  #writeMetaAsync(m: { text: string; epoch: number; head: number }): void {
    this.#metaWriting = true;
    const done = (): void => {
      this.#metaWriting = false;
      const next = this.#metaNext;
      this.#metaNext = null;
      if (next !== null && next.epoch === this.#epoch && !this.#closed) this.#writeMetaAsync(next);
    };
    this.#fs.writeAtomicAsync(this.metaPath(), m.text, 0o600).then(
      () => {
        if (m.epoch === this.#epoch) this.#lastMeta = m.text;
        done();
      },
      (err: unknown) => {
        // Tried again by the next sync (the --sync-timeout timer at the latest:
        // the queue counts as active while its metadata is not saved).
        this.#log.error(`DISKQUEUE(${this.name}) failed to write metadata - ${errorText(err)}`);
        done();
      },
    );
  }

  /** Flush, fsync and write the metadata, all synchronously. Throws. */
  syncNow(): void {
    const r = this.flush();
    if (r.error !== null) throw r.error;
    this.#ops = 0;
    this.#syncRequested = false;
    const segments = this.#segment !== null ? [...this.#retired, this.#segment] : [...this.#retired];
    this.#retired = [];
    let error: unknown = null;
    for (const s of segments) {
      if (error === null && s.dirty && !s.closed) {
        try {
          s.file.sync();
          s.dirty = false;
        } catch (err) {
          error = err;
        }
      }
      if (s.retired && s.syncing === 0 && !s.dirty) this.#closeSegment(s);
      else if (s.retired) this.#retired.push(s);
    }
    if (error !== null) throw error;
    this.#persistMeta();
    this.#deleteBelow(this.releasePosition().fileNum);
  }

  #metaText(): string {
    const head = this.releasePosition();
    return formatDiskQueueMeta(this.#depth + this.#window.length, head.fileNum, head.pos, this.#write.fileNum, this.#write.pos);
  }

  #persistMeta(): void {
    const text = this.#metaText();
    this.#epoch++;
    this.#fs.writeAtomic(this.metaPath(), text, 0o600);
    this.#lastMeta = text;
  }

  // ---- lifecycle ----------------------------------------------------------------

  /**
   * Writes out buffered records, fsyncs, writes the metadata and releases the
   * files (D-BEH-SHUTDOWN). Everything is released even when that fails; the
   * error is then thrown. A segment whose asynchronous fsync is still pending
   * is closed as soon as it settles.
   */
  close(): void {
    if (this.#closed) return;
    this.#log.info(`DISKQUEUE(${this.name}): closing`);
    try {
      this.syncNow();
    } finally {
      this.#closed = true;
      this.#releaseFiles();
    }
  }

  /** Drops every record and deletes the segment and metadata files (D-BEH-EMPTY). */
  empty(): void {
    if (this.#closed) throw new Error(`DISKQUEUE(${this.name}) is closed`);
    this.#log.info(`DISKQUEUE(${this.name}): emptying`);
    this.#dropAll();
    // The metadata names the fresh segment at once: without it, records
    // written there before the next sync would not be found after a crash
    // (recovery starts from the metadata's write position).
    try {
      this.#persistMeta();
    } catch (err) {
      this.#log.error(`DISKQUEUE(${this.name}) failed to write metadata after emptying - ${errorText(err)}`);
      this.#fs.unlink(this.metaPath());
      this.#lastMeta = "";
    }
  }

  /**
   * Stops the queue (if still open) and removes its segments and metadata; also
   * works after close(). Segments already renamed `.bad` are left for
   * inspection, as the original leaves them.
   */
  delete(): void {
    this.#log.info(`DISKQUEUE(${this.name}): deleting`);
    this.#dropAll();
    this.#closed = true;
    this.#fs.unlink(this.metaPath());
  }

  /**
   * Drops the buffered records and closes the open segments (one an fsync
   * still uses closes when that ends); metadata captured before is not
   * written any more (the epoch moves on). For close, empty and delete.
   */
  #releaseFiles(): void {
    this.#epoch++;
    this.#keep.clear();
    this.#fresh.clear();
    this.#reader.close();
    this.#retireSegment();
    for (const s of this.#retired) if (s.syncing === 0) this.#closeSegment(s);
    this.#retired = [];
  }

  /** Deletes every segment and restarts both ends in a fresh one. */
  #dropAll(): void {
    this.#releaseFiles();
    this.#window.clear();
    const from = Math.min(this.#deletedBelow, this.#read.fileNum);
    for (let n = from; n <= this.#write.fileNum; n++) {
      const path = this.segmentPath(n);
      try {
        this.#fs.unlink(path);
      } catch (err) {
        this.#log.error(`DISKQUEUE(${this.name}) failed to remove ${path} - ${errorText(err)}`);
      }
    }
    this.#segmentEnds.clear();
    this.#write.fileNum++;
    this.#write.pos = 0;
    this.#read.fileNum = this.#write.fileNum;
    this.#read.pos = 0;
    this.#deletedBelow = this.#write.fileNum;
    this.#depth = 0;
    this.#ops = 0;
  }

  // ---- opening: metadata and recovery ---------------------------------------------

  /** Loads the metadata file; returns its text ("" when there is none or it is unusable). */
  #loadMeta(): string {
    const path = this.metaPath();
    let text: string;
    try {
      if (!this.#fs.exists(path)) return "";
      text = this.#fs.readText(path);
    } catch (err) {
      this.#log.error(`DISKQUEUE(${this.name}) cannot read metadata ${path} - ${errorText(err)}`);
      return "";
    }
    const meta = parseDiskQueueMeta(text);
    if (meta === null) {
      this.#log.error(`DISKQUEUE(${this.name}) metadata ${path} is not in the expected format, starting empty`);
      return "";
    }
    this.#depth = meta.depth;
    this.#read.fileNum = meta.readFileNum;
    this.#read.pos = meta.readPos;
    this.#write.fileNum = meta.writeFileNum;
    this.#write.pos = meta.writePos;
    this.#deletedBelow = meta.readFileNum;
    return text;
  }

  /**
   * Reads on past the metadata's write position: records written after the
   * metadata was last saved (an unclean exit) are counted and kept; a torn
   * record at the end of a segment is cut off.
   */
  #recover(): void {
    if (this.#read.fileNum > this.#write.fileNum || (this.#read.fileNum === this.#write.fileNum && this.#read.pos > this.#write.pos)) {
      this.#log.error(
        `DISKQUEUE(${this.name}) read position ${this.#read.fileNum},${this.#read.pos} is past write position ${this.#write.fileNum},${this.#write.pos}: starting empty`,
      );
      this.#read.fileNum = this.#write.fileNum;
      this.#read.pos = this.#write.pos;
      this.#deletedBelow = this.#read.fileNum;
      this.#depth = 0;
    }
    this.#removeLeftovers();
    let recount = false;
    let found = 0;
    let fileNum = this.#write.fileNum;
    let from = this.#write.pos;
    for (;;) {
      const path = this.segmentPath(fileNum);
      const size = this.#fs.sizeOf(path);
      if (size < 0) {
        if (fileNum === this.#write.fileNum && this.#write.pos > 0) {
          this.#log.error(`DISKQUEUE(${this.name}) ${path} is missing: its records are lost`);
          recount = true;
          this.#write.pos = 0;
          if (this.#read.fileNum === fileNum) this.#read.pos = 0;
        }
        break;
      }
      if (size < from) {
        // Shorter than the metadata says (the data never reached the disk):
        // find the last whole record from a known record boundary.
        this.#log.error(`DISKQUEUE(${this.name}) ${path} holds ${size} bytes but the metadata says ${from}`);
        recount = true;
        from = this.#read.fileNum === fileNum && this.#read.pos <= size ? this.#read.pos : 0;
      }
      if (size > from) {
        const scan = this.#scan(path, from, size);
        found += scan.records;
        if (scan.records > 0) {
          this.#log.warn(`DISKQUEUE(${this.name}) found ${scan.records} records in ${path} written after the metadata was saved`);
        }
        if (scan.stop !== null) {
          this.#log.warn(`DISKQUEUE(${this.name}) ${path}: cutting off ${size - scan.end} bytes at ${scan.end} (${scan.stop})`);
          try {
            this.#fs.truncate(path, scan.end);
          } catch (err) {
            this.#log.error(`DISKQUEUE(${this.name}) failed to cut ${path} - ${errorText(err)}`);
          }
        }
        from = scan.end;
      }
      this.#write.fileNum = fileNum;
      this.#write.pos = from;
      if (this.#read.fileNum === fileNum && this.#read.pos > from) this.#read.pos = from;
      // Writes after the last metadata may have rolled into further segments.
      if (this.#fs.sizeOf(this.segmentPath(fileNum + 1)) < 0) break;
      this.#segmentEnds.set(fileNum, from);
      fileNum++;
      from = 0;
    }
    if (recount) {
      this.#depth = this.#countFromRead();
    } else {
      this.#depth += found;
    }
    if (recount || found > 0) this.#lastMeta = "";
  }

  /**
   * Segments behind the read position that are still there: the process
   * stopped between writing the metadata and deleting them. Their records were
   * all read; they are removed now.
   */
  #removeLeftovers(): void {
    let names: string[];
    try {
      names = this.#fs.list(this.#dataPath);
    } catch {
      return;
    }
    const prefix = `${this.name}.diskqueue.`;
    const metaTmp = `${this.name}.diskqueue.meta.dat.`;
    for (const n of names) {
      if (n.startsWith(metaTmp) && n.endsWith(".tmp")) {
        // A metadata write the process did not finish.
        this.#fs.unlink(`${this.#dataPath}/${n}`);
        continue;
      }
      if (!n.startsWith(prefix) || n.length !== prefix.length + 10 || !n.endsWith(".dat")) continue;
      const digits = n.slice(prefix.length, prefix.length + 6);
      if (!/^\d{6}$/.test(digits)) continue;
      const fileNum = Number(digits);
      if (fileNum >= this.#read.fileNum) continue;
      try {
        this.#fs.unlink(`${this.#dataPath}/${n}`);
        this.#log.info(`DISKQUEUE(${this.name}): removed ${n}, read before the last exit`);
      } catch (err) {
        this.#log.error(`DISKQUEUE(${this.name}) failed to remove ${n} - ${errorText(err)}`);
      }
    }
  }

  #scan(path: string, from: number, size: number): { records: number; end: number; stop: string | null } {
    let file: ReadFile;
    try {
      file = this.#fs.openRead(path);
    } catch (err) {
      this.#log.error(`DISKQUEUE(${this.name}) cannot read ${path} - ${errorText(err)}`);
      return { records: 0, end: from, stop: null };
    }
    try {
      return scanSegment(file, from, size, this.#minMsgSize, this.#maxMsgSize);
    } finally {
      file.close();
    }
  }

  /** Counts the records from the read position to the write position (after damage was found). */
  #countFromRead(): number {
    let count = 0;
    for (let n = this.#read.fileNum; n <= this.#write.fileNum; n++) {
      const path = this.segmentPath(n);
      const size = n === this.#write.fileNum ? this.#write.pos : (this.#segmentEnds.get(n) ?? this.#fs.sizeOf(path));
      if (size <= 0) continue;
      count += this.#scan(path, n === this.#read.fileNum ? this.#read.pos : 0, size).records;
    }
    return count;
  }
}
