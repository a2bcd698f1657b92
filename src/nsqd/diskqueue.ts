// The on-disk FIFO behind every topic and channel (D-BEH-DISKQUEUE), byte-compatible
// with go-diskqueue v1.1.0 as used by nsqd v1.3.0, so a data directory can be
// handed back and forth between the original and this implementation.
//
// Layout under `dataPath`:
//   <name>.diskqueue.000000.dat  segments; each record is [int32 big-endian len][len bytes]
//   <name>.diskqueue.meta.dat    "<depth>\n<readFileNum>,<readPos>\n<writeFileNum>,<writePos>\n"
//
// Differences from the original, all invisible on disk:
// - Writes are gathered in a memory buffer (WRITE_BUFFER bytes) and written out when
//   it fills, at every sync, at a segment roll and at close; records still in the
//   buffer are served to readers straight from memory. Metadata is only ever
//   written after the buffer was written out, so it never names bytes that are not
//   in the file. An unclean exit can lose what sits in the buffer (at most
//   WRITE_BUFFER bytes, at most --sync-timeout old), like the memory queue.
// - Reads fetch segment data in blocks and slice records out of them.
// - A reader that has caught up with the writer moves on to the next segment when
//   the writer rolls, instead of hitting end-of-file and renaming a healthy, fully
//   read segment to `.bad` (go-diskqueue issue #42).
// - Depth is checked against the read/write positions when the queue is opened,
//   so an empty queue never reports a stale depth from its metadata.
// - The periodic sync (every --sync-every operations, and the --sync-timeout
//   timer) writes the buffer out synchronously, then runs the fsync off the event
//   loop (AppendFile.syncAsync) and writes the metadata once it has completed,
//   naming the positions as they were when the fsync started: the metadata never
//   names bytes that are not fsynced. At most one such sync is in flight; one that
//   comes due meanwhile runs when it completes. Segment rolls, close(), empty() and
//   delete() stay synchronous; a segment file is never closed while its fsync is
//   pending (its close waits for the fsync), and metadata from a sync that was
//   overtaken by one of those (or by a segment change) is dropped, not written
//   over newer metadata. A failed asynchronous fsync is logged and the next sync
//   is a synchronous one. After a crash the metadata can be one fsync older than
//   with the original: records read during that fsync are delivered again.
//
// Like the original (K-DISK-CORRUPT): a record whose length is outside
// [minMsgSize, maxMsgSize], or a segment that ends inside a record or cannot be
// opened, gets its segment renamed to `<segment>.bad` and reading goes on with the
// next segment. Depth is not lowered for the records lost that way (their number is
// unknown); once the reader reaches the writer a non-zero depth is reset to 0 with
// an error logged, as go-diskqueue's tail check does.

import type { AppendFile, FileSystem, ReadFile } from "../runtime/types.ts";
import type { Logger } from "../common/log.ts";

export interface DiskQueueOptions {
  /** "<topic>" or "<topic>:<channel>". */
  name: string;
  dataPath: string;
  maxBytesPerFile: number;
  /** Records shorter than this are corrupt (26, the message header size). */
  minMsgSize: number;
  /** max_msg_size + 26. */
  maxMsgSize: number;
  /** fsync + metadata after this many writes and reads. */
  syncEvery: number;
  /** fsync + metadata at this interval when anything changed. */
  syncTimeoutMs: number;
  fs: FileSystem;
  logger: Logger;
}

/** Bytes gathered in memory before a write to the segment file. */
const WRITE_BUFFER = 64 * 1024;
/** Bytes fetched from a segment per read call. */
const READ_BLOCK = 256 * 1024;
/**
 * Records up to ARENA_RECORD bytes are copied out into a shared 16 KiB arena and
 * handed out as views of it: allocating one small ArrayBuffer per record
 * (`slice`) costs about a microsecond on V8, which capped reads near 600k
 * records/s on Node. Each view covers bytes that nothing else writes, so it is
 * the caller's own; a record kept alive keeps its arena (16 KiB) alive.
 */
const ARENA = 16 * 1024;
const ARENA_RECORD = 1024;

/** Parses `<name>.diskqueue.meta.dat`; null when the text is not in that shape. */
export function parseDiskQueueMeta(
  text: string,
): { depth: number; readFileNum: number; readPos: number; writeFileNum: number; writePos: number } | null {
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
export function formatDiskQueueMeta(
  depth: number,
  readFileNum: number,
  readPos: number,
  writeFileNum: number,
  writePos: number,
): string {
  return `${depth}\n${readFileNum},${readPos}\n${writeFileNum},${writePos}\n`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class DiskQueue {
  readonly #name: string;
  readonly #dataPath: string;
  readonly #maxBytesPerFile: number;
  readonly #minMsgSize: number;
  readonly #maxMsgSize: number;
  readonly #syncEvery: number;
  readonly #syncTimeoutMs: number;
  readonly #fs: FileSystem;
  readonly #log: Logger;

  // The persisted state (the metadata file). writePos counts buffered bytes too.
  #depth = 0;
  #readFileNum = 0;
  #readPos = 0;
  #writeFileNum = 0;
  #writePos = 0;

  // Write side: bytes [writePos - wlen, writePos) of the write segment sit in wbuf.
  #writeFile: AppendFile | null = null;
  #wbuf: Uint8Array | null = null;
  #wview: DataView | null = null;
  #wlen = 0;

  // Read side: rbuf holds bytes [rstart, rstart + rlen) of the read segment.
  #readFile: ReadFile | null = null;
  #rbuf: Uint8Array | null = null;
  #rview: DataView | null = null;
  #rstart = 0;
  #rlen = 0;
  // Where a completed segment ends for the reader: its size when it is opened, or
  // the write position at which the writer left it (set when the writer rolls
  // while the reader is still in that segment).
  #limitFileNum = -1;
  #limit = 0;
  #arena: Uint8Array | null = null;
  #arenaUsed = 0;

  // Sync state: operations since the last sync, a pending forced sync, one timer.
  #count = 0;
  #needSync = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  readonly #onTimer = (): void => this.#timerFired();
  #closed = false;

  // Asynchronous sync: the file whose fsync is in flight (at most one), whether
  // it must be closed when that fsync settles, whether another sync came due in
  // the meantime, and whether the next sync must be synchronous (the last
  // asynchronous fsync failed).
  #inflight: AppendFile | null = null;
  #inflightClose = false;
  #syncAgain = false;
  #syncRetry = false;
  // Bumped by every change that makes metadata captured earlier unfit to write:
  // a metadata write, a segment roll/relocation/skip, a segment finished or
  // renamed by the reader, empty(), delete().
  #epoch = 0;
  // The state captured when the in-flight fsync started.
  #snapEpoch = 0;
  #snapDepth = 0;
  #snapReadFileNum = 0;
  #snapReadPos = 0;
  #snapWriteFileNum = 0;
  #snapWritePos = 0;
  readonly #onSynced = (): void => this.#synced();
  readonly #onSyncFailed = (err: unknown): void => this.#syncFailed(err);

  constructor(options: DiskQueueOptions) {
    this.#name = options.name;
    // An empty data path means the working directory, as for the original.
    this.#dataPath = options.dataPath === "" ? "." : options.dataPath.replace(/(.)\/+$/, "$1");
    this.#maxBytesPerFile = options.maxBytesPerFile;
    this.#minMsgSize = options.minMsgSize;
    this.#maxMsgSize = options.maxMsgSize;
    // As with the original's counter: 0 syncs after every operation, a negative
    // value never syncs by count (only at rolls, on the timer and at close).
    this.#syncEvery = options.syncEvery === 0 ? 1 : options.syncEvery < 0 ? Infinity : options.syncEvery;
    this.#syncTimeoutMs = options.syncTimeoutMs;
    this.#fs = options.fs;
    this.#log = options.logger;
    this.#loadMeta();
  }

  /** Records written and not yet read. */
  depth(): number {
    return this.#depth;
  }

  /** Path of segment `fileNum` (`<dataPath>/<name>.diskqueue.%06d.dat`). */
  segmentPath(fileNum: number): string {
    return `${this.#dataPath}/${this.#name}.diskqueue.${String(fileNum).padStart(6, "0")}.dat`;
  }

  /** Path of the metadata file. */
  metaPath(): string {
    return `${this.#dataPath}/${this.#name}.diskqueue.meta.dat`;
  }

  /**
   * Appends one record. Throws (and keeps nothing of the record) when its size is
   * outside [minMsgSize, maxMsgSize] or when buffered bytes cannot be written out;
   * the caller reports that as the disk health (D-BEH-HEALTH).
   */
  put(record: Uint8Array): void {
    if (this.#closed) throw new Error(`DISKQUEUE(${this.#name}) is closed`);
    const len = record.length;
    this.#count++;
    this.#armTimer();
    if (len < this.#minMsgSize || len > this.#maxMsgSize) {
      throw new RangeError(
        `DISKQUEUE(${this.#name}) record size ${len} is outside ${this.#minMsgSize}..${this.#maxMsgSize}`,
      );
    }
    const total = 4 + len;
    if (this.#writePos > 0 && this.#writePos + total > this.#maxBytesPerFile) this.#rollWrite();

    let wbuf = this.#wbuf;
    if (wbuf === null) {
      wbuf = this.#wbuf = new Uint8Array(WRITE_BUFFER);
      this.#wview = new DataView(wbuf.buffer);
    }
    if (this.#wlen + total > wbuf.length) this.#flush();
    if (total > wbuf.length) {
      // A record larger than the buffer goes out in one write of its own.
      const whole = new Uint8Array(total);
      new DataView(whole.buffer).setInt32(0, len);
      whole.set(record, 4);
      const file = this.#openWriteFile();
      try {
        file.write(whole);
      } catch (err) {
        this.#dropWriteFile();
        throw err;
      }
    } else {
      const at = this.#wlen;
      this.#wview!.setInt32(at, len);
      wbuf.set(record, at + 4);
      this.#wlen = at + total;
    }
    this.#writePos += total;
    this.#depth++;
    if (this.#count >= this.#syncEvery) this.#syncDue();
  }

  /** The next record (a copy the caller owns), or null when the queue holds none. */
  readNext(): Uint8Array | null {
    if (this.#closed) return null;
    for (;;) {
      if (!(this.#readFileNum < this.#writeFileNum || this.#readPos < this.#writePos)) return null;

      // Bytes not yet written out are served from the write buffer.
      if (this.#readFileNum === this.#writeFileNum) {
        const flushed = this.#writePos - this.#wlen;
        if (this.#readPos >= flushed) {
          const at = this.#readPos - flushed;
          const len = this.#wview!.getInt32(at);
          const record = this.#copyOut(this.#wbuf!, at + 4, len);
          this.#advance(4 + len);
          return record;
        }
      }

      let end: number;
      try {
        const file = this.#openReadFile();
        if (this.#readFileNum < this.#writeFileNum) {
          if (this.#limitFileNum !== this.#readFileNum) {
            this.#limitFileNum = this.#readFileNum;
            this.#limit = file.size();
          }
          end = this.#limit;
          if (this.#readPos >= end) {
            // The writer rolled after the reader caught up with it: this segment is done.
            this.#finishReadFile();
            this.#checkTail();
            this.#afterOp(false);
            continue;
          }
        } else {
          end = this.#writePos - this.#wlen;
        }
      } catch (err) {
        this.#badReadFile(errorText(err));
        continue;
      }

      const pos = this.#readPos;
      let ok: boolean;
      try {
        ok = this.#ensure(pos, 4, end);
      } catch (err) {
        this.#badReadFile(errorText(err));
        continue;
      }
      if (!ok) {
        this.#badReadFile(`segment ends inside a record header (${end - pos} bytes left)`);
        continue;
      }
      const len = this.#rview!.getInt32(pos - this.#rstart);
      if (len < this.#minMsgSize || len > this.#maxMsgSize) {
        this.#badReadFile(`invalid record size ${len}`);
        continue;
      }
      try {
        ok = this.#ensure(pos, 4 + len, end);
      } catch (err) {
        this.#badReadFile(errorText(err));
        continue;
      }
      if (!ok) {
        this.#badReadFile(`segment ends inside a record of ${len} bytes`);
        continue;
      }
      const from = pos - this.#rstart + 4;
      const record = this.#copyOut(this.#rbuf!, from, len);
      this.#advance(4 + len);
      return record;
    }
  }

  /** Drops every record and deletes the segment and metadata files (D-BEH-EMPTY). */
  empty(): void {
    if (this.#closed) throw new Error(`DISKQUEUE(${this.#name}) is closed`);
    this.#log.info(`DISKQUEUE(${this.#name}): emptying`);
    this.#skipToNextFile();
    this.#fs.unlink(this.metaPath());
    this.#count = 0;
    this.#needSync = false;
    this.#syncAgain = false;
  }

  /**
   * Writes out buffered records, fsyncs, writes the metadata and releases the
   * files (D-BEH-SHUTDOWN). Everything is released even when that fails; the
   * error is then thrown. A segment whose asynchronous fsync is still pending is
   * closed as soon as that fsync settles.
   */
  close(): void {
    if (this.#closed) return;
    this.#log.info(`DISKQUEUE(${this.#name}): closing`);
    this.#closed = true;
    this.#clearTimer();
    try {
      this.#sync();
    } finally {
      this.#wlen = 0;
      this.#closeFiles();
    }
  }

  /**
   * Stops the queue (if still open) and removes its segments and metadata; also
   * works after close(). Segments already renamed `.bad` are left for
   * inspection, as the original leaves them.
   */
  delete(): void {
    this.#log.info(`DISKQUEUE(${this.#name}): deleting`);
    this.#closed = true;
    this.#clearTimer();
    this.#skipToNextFile();
    this.#fs.unlink(this.metaPath());
  }

  // ---- metadata -------------------------------------------------------------

  #loadMeta(): void {
    const path = this.metaPath();
    let text: string;
    try {
      if (!this.#fs.exists(path)) return;
      text = this.#fs.readText(path);
    } catch (err) {
      this.#log.error(`DISKQUEUE(${this.#name}) cannot read metadata ${path} - ${errorText(err)}`);
      return;
    }
    const meta = parseDiskQueueMeta(text);
    if (meta === null) {
      this.#log.error(`DISKQUEUE(${this.#name}) metadata ${path} is not in the expected format, starting empty`);
      return;
    }
    this.#depth = meta.depth;
    this.#readFileNum = meta.readFileNum;
    this.#readPos = meta.readPos;
    this.#writeFileNum = meta.writeFileNum;
    this.#writePos = meta.writePos;

    // Metadata older than the data (no sync before the last exit): the write
    // segment is longer than writePos says. Writing goes on in a fresh segment
    // and the reader takes whatever complete records the old one holds, as
    // go-diskqueue does.
    const segment = this.segmentPath(this.#writeFileNum);
    const size = this.#fs.sizeOf(segment);
    if (size > this.#writePos) {
      this.#log.warn(
        `DISKQUEUE(${this.#name}) ${segment} holds ${size} bytes but metadata says ${this.#writePos}: writing continues in the next segment`,
      );
      this.#writeFileNum++;
      this.#writePos = 0;
    }
    this.#checkTail();
  }

  #persistMeta(): void {
    this.#epoch++;
    this.#fs.writeAtomic(
      this.metaPath(),
      formatDiskQueueMeta(this.#depth, this.#readFileNum, this.#readPos, this.#writeFileNum, this.#writePos),
      0o600,
    );
  }

  // ---- sync -----------------------------------------------------------------

  /**
   * Write out buffered bytes, fsync the write segment, persist metadata, all
   * synchronously. Throws. May run while an asynchronous fsync of the same file
   * is pending (close, retry): two fsyncs of one descriptor are safe, and the
   * metadata written here makes the pending one's metadata stale (#epoch).
   */
  #sync(): void {
    this.#count = 0;
    this.#flush();
    const file = this.#writeFile;
    if (file !== null) {
      try {
        file.sync();
      } catch (err) {
        this.#dropWriteFile();
        throw err;
      }
    }
    this.#persistMeta();
    this.#needSync = false;
    this.#syncRetry = false;
  }

  /**
   * A periodic sync is due (--sync-every, --sync-timeout, a forced sync): write
   * the buffer out now, fsync off the event loop, then write the metadata
   * captured here (#synced). Synchronous when the previous asynchronous fsync
   * failed, when the file has no asynchronous fsync, or when there is no write
   * segment open (nothing to fsync: only the metadata is written).
   */
  #syncDue(): void {
    if (this.#closed) return;
    if (this.#inflight !== null) {
      this.#syncAgain = true;
      return;
    }
    if (this.#syncRetry) {
      this.#syncLogged();
      return;
    }
    this.#count = 0;
    try {
      this.#flush();
    } catch (err) {
      this.#log.error(`DISKQUEUE(${this.#name}) failed to sync - ${errorText(err)}`);
      return;
    }
    const file = this.#writeFile;
    if (file === null || file.syncAsync === undefined) {
      this.#syncLogged();
      return;
    }
    this.#snapEpoch = this.#epoch;
    this.#snapDepth = this.#depth;
    this.#snapReadFileNum = this.#readFileNum;
    this.#snapReadPos = this.#readPos;
    this.#snapWriteFileNum = this.#writeFileNum;
    this.#snapWritePos = this.#writePos;
    this.#needSync = false;
    this.#inflight = file;
    let pending: Promise<void>;
    try {
      pending = file.syncAsync();
    } catch (err) {
      this.#syncFailed(err);
      return;
    }
    pending.then(this.#onSynced, this.#onSyncFailed);
  }

  /** The in-flight fsync completed: close its file if that was asked, write the captured metadata. */
  #synced(): void {
    this.#settle();
    if (this.#snapEpoch === this.#epoch && !this.#closed) {
      try {
        this.#epoch++;
        this.#fs.writeAtomic(
          this.metaPath(),
          formatDiskQueueMeta(
            this.#snapDepth,
            this.#snapReadFileNum,
            this.#snapReadPos,
            this.#snapWriteFileNum,
            this.#snapWritePos,
          ),
          0o600,
        );
      } catch (err) {
        this.#needSync = true;
        this.#log.error(`DISKQUEUE(${this.#name}) failed to sync - ${errorText(err)}`);
      }
    }
    if (this.#closed) return;
    const again = this.#syncAgain;
    this.#syncAgain = false;
    if (again || this.#needSync || this.#count >= this.#syncEvery) this.#syncDue();
  }

  /** The in-flight fsync failed: no metadata; the next sync (on the timer at the latest) is synchronous. */
  #syncFailed(err: unknown): void {
    this.#settle();
    this.#log.error(`DISKQUEUE(${this.#name}) failed to sync - ${errorText(err)} (retrying synchronously)`);
    // The write segment stays open: the synchronous retry must fsync it again
    // before any metadata names its bytes.
    this.#syncRetry = true;
    this.#needSync = true;
    this.#syncAgain = false;
    if (!this.#closed) this.#armTimer();
  }

  /** Ends the in-flight state; closes the file if its close was deferred. True if it was closed. */
  #settle(): boolean {
    const file = this.#inflight;
    this.#inflight = null;
    if (!this.#inflightClose) return false;
    this.#inflightClose = false;
    if (file !== null) this.#closeQuietly(file);
    return true;
  }

  /** Closes a write segment now, or once its pending fsync settles. */
  #releaseWriteFile(file: AppendFile): void {
    if (file === this.#inflight) this.#inflightClose = true;
    else this.#closeQuietly(file);
  }

  #syncLogged(): void {
    try {
      this.#sync();
    } catch (err) {
      this.#log.error(`DISKQUEUE(${this.#name}) failed to sync - ${errorText(err)}`);
    }
  }

  #armTimer(): void {
    if (this.#timer !== null) return;
    const timer = setTimeout(this.#onTimer, this.#syncTimeoutMs);
    // A pending sync must not keep the process alive on its own (Node and Bun).
    (timer as { unref?: () => void }).unref?.();
    this.#timer = timer;
  }

  #clearTimer(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
  }

  #timerFired(): void {
    this.#timer = null;
    if (this.#closed) return;
    if (this.#count > 0 || this.#needSync) this.#syncDue();
  }

  /** Bookkeeping after a read step: count it, sync when due. */
  #afterOp(counted: boolean): void {
    if (counted) {
      this.#count++;
      this.#armTimer();
    }
    if (this.#needSync || this.#count >= this.#syncEvery) this.#syncDue();
  }

  // ---- writing --------------------------------------------------------------

  /** Opens the write segment, moving to a fresh one if its size is not what we expect. */
  #openWriteFile(): AppendFile {
    if (this.#writeFile !== null) return this.#writeFile;
    for (;;) {
      const path = this.segmentPath(this.#writeFileNum);
      const file = this.#fs.openAppend(path);
      const expected = this.#writePos - this.#wlen;
      const size = file.size();
      if (size === expected) {
        this.#log.info(`DISKQUEUE(${this.#name}): opened ${path} for writing`);
        this.#writeFile = file;
        return file;
      }
      file.close();
      this.#relocateWrite(path, size, expected);
    }
  }

  /**
   * The write segment does not end where the queue's positions say (a failed,
   * partial write, or a file changed behind our back). The buffered records move
   * to the next segment; the reader finishes the old one at the last known-good
   * position.
   */
  #relocateWrite(path: string, size: number, expected: number): void {
    this.#log.warn(
      `DISKQUEUE(${this.#name}) ${path} is ${size} bytes, expected ${expected}: continuing in the next segment`,
    );
    const old = this.#writeFileNum;
    if (this.#readFileNum === old) {
      if (this.#readPos >= expected) {
        // Everything of the old segment that is known good has been read.
        this.#closeReadFile();
        this.#fs.unlink(path);
        this.#readFileNum = old + 1;
        this.#readPos -= expected;
      } else {
        this.#limitFileNum = old;
        this.#limit = expected;
      }
    }
    this.#writeFileNum = old + 1;
    this.#writePos = this.#wlen;
    this.#needSync = true;
    this.#epoch++;
  }

  /** Writes the buffer to the write segment. Throws, keeping the buffer, on failure. */
  #flush(): void {
    const n = this.#wlen;
    if (n === 0) return;
    const file = this.#openWriteFile();
    try {
      file.write(this.#wbuf!.subarray(0, n));
    } catch (err) {
      this.#dropWriteFile();
      throw err;
    }
    this.#wlen = 0;
  }

  /** The next record would not fit: close this segment and start the next one. */
  #rollWrite(): void {
    this.#flush(); // throws before any state changes
    const old = this.#writeFileNum;
    if (this.#readFileNum === old) {
      this.#limitFileNum = old;
      this.#limit = this.#writePos;
    }
    const file = this.#writeFile;
    this.#writeFile = null;
    this.#writeFileNum = old + 1;
    this.#writePos = 0;
    this.#epoch++;
    // fsync + metadata at every roll, as the original does (synchronously, even
    // with an asynchronous fsync of the same file in flight).
    try {
      if (file !== null) file.sync();
      this.#persistMeta();
      this.#needSync = false;
    } catch (err) {
      this.#needSync = true;
      this.#log.error(`DISKQUEUE(${this.#name}) failed to sync - ${errorText(err)}`);
    } finally {
      if (file !== null) this.#releaseWriteFile(file);
    }
  }

  #dropWriteFile(): void {
    const file = this.#writeFile;
    this.#writeFile = null;
    if (file !== null) this.#releaseWriteFile(file);
  }

  // ---- reading --------------------------------------------------------------

  #openReadFile(): ReadFile {
    if (this.#readFile !== null) return this.#readFile;
    const path = this.segmentPath(this.#readFileNum);
    const file = this.#fs.openRead(path);
    this.#log.info(`DISKQUEUE(${this.#name}): opened ${path} for reading`);
    this.#readFile = file;
    this.#rlen = 0;
    return file;
  }

  /**
   * Makes bytes [pos, pos + n) of the read segment available in rbuf, reading a
   * block when they are not. False when the readable part ends (at `end`) first.
   */
  #ensure(pos: number, n: number, end: number): boolean {
    if (pos >= this.#rstart && pos + n <= this.#rstart + this.#rlen) return true;
    if (pos + n > end) return false;
    let rbuf = this.#rbuf;
    if (rbuf === null || rbuf.length < n) {
      rbuf = this.#rbuf = new Uint8Array(Math.max(READ_BLOCK, n));
      this.#rview = new DataView(rbuf.buffer);
    }
    const want = Math.max(n, Math.min(rbuf.length, end - pos));
    const file = this.#readFile!;
    this.#rstart = pos;
    this.#rlen = 0;
    let got = 0;
    while (got < want) {
      const r = file.read(rbuf.subarray(got, want), pos + got);
      if (r <= 0) break;
      got += r;
    }
    this.#rlen = got;
    return got >= n;
  }

  /** An owned copy of src[from, from + len): a view of the arena or, if large, its own buffer. */
  #copyOut(src: Uint8Array, from: number, len: number): Uint8Array {
    if (len > ARENA_RECORD) return src.slice(from, from + len);
    let arena = this.#arena;
    let at = this.#arenaUsed;
    if (arena === null || at + len > arena.length) {
      arena = this.#arena = new Uint8Array(ARENA);
      at = 0;
    }
    arena.set(src.subarray(from, from + len), at);
    this.#arenaUsed = at + len;
    return arena.subarray(at, at + len);
  }

  /** A record of `total` bytes was handed out. */
  #advance(total: number): void {
    this.#readPos += total;
    this.#depth--;
    if (this.#readFileNum < this.#writeFileNum) {
      if (this.#limitFileNum !== this.#readFileNum && this.#readFile !== null) {
        this.#limitFileNum = this.#readFileNum;
        this.#limit = this.#readFile.size();
      }
      if (this.#limitFileNum === this.#readFileNum && this.#readPos >= this.#limit) this.#finishReadFile();
    }
    this.#checkTail();
    this.#afterOp(true);
  }

  /** The read segment is fully consumed: delete it and move to the next one. */
  #finishReadFile(): void {
    this.#closeReadFile();
    const path = this.segmentPath(this.#readFileNum);
    try {
      this.#fs.unlink(path);
    } catch (err) {
      this.#log.error(`DISKQUEUE(${this.#name}) failed to remove ${path} - ${errorText(err)}`);
    }
    this.#readFileNum++;
    this.#readPos = 0;
    this.#needSync = true;
    this.#epoch++;
  }

  /** K-DISK-CORRUPT: rename the read segment to `.bad` and go on with the next one. */
  #badReadFile(reason: string): void {
    const path = this.segmentPath(this.#readFileNum);
    this.#log.error(`DISKQUEUE(${this.#name}) cannot read ${path} at ${this.#readPos} - ${reason}`);
    this.#closeReadFile();
    if (this.#readFileNum === this.#writeFileNum) {
      // The broken segment is also the one being written: writing moves on too.
      // Buffered records are written out first so they end up in the `.bad` file
      // as they would with the original, which has no buffer.
      try {
        this.#flush();
      } catch {
        // the records are lost with the segment either way
      }
      this.#wlen = 0;
      this.#dropWriteFile();
      this.#writeFileNum++;
      this.#writePos = 0;
    }
    const bad = `${path}.bad`;
    this.#log.warn(`DISKQUEUE(${this.#name}) skipping to the next segment, ${path} kept as ${bad}`);
    try {
      this.#fs.rename(path, bad);
    } catch (err) {
      this.#log.error(`DISKQUEUE(${this.#name}) failed to rename ${path} to ${bad} - ${errorText(err)}`);
    }
    this.#readFileNum++;
    this.#readPos = 0;
    this.#needSync = true;
    this.#epoch++;
    this.#checkTail();
    this.#afterOp(false);
  }

  #closeReadFile(): void {
    const file = this.#readFile;
    this.#readFile = null;
    this.#rlen = 0;
    if (file !== null) this.#closeQuietly(file);
  }

  // ---- consistency ----------------------------------------------------------

  /**
   * When the reader has reached the writer the depth must be 0 and the positions
   * equal; otherwise the metadata or data was damaged: reset, as the original does.
   */
  #checkTail(): void {
    if (this.#readFileNum < this.#writeFileNum || this.#readPos < this.#writePos) return;
    if (this.#depth !== 0) {
      this.#log.error(
        this.#depth < 0
          ? `DISKQUEUE(${this.#name}) depth ${this.#depth} at the end of the queue (metadata corruption), resetting to 0`
          : `DISKQUEUE(${this.#name}) depth ${this.#depth} at the end of the queue (records were lost), resetting to 0`,
      );
      this.#depth = 0;
      this.#needSync = true;
    }
    if (this.#readFileNum !== this.#writeFileNum || this.#readPos !== this.#writePos) {
      this.#log.error(
        `DISKQUEUE(${this.#name}) read position ${this.#readFileNum},${this.#readPos} is past write position ${this.#writeFileNum},${this.#writePos}: skipping to a new segment`,
      );
      this.#skipToNextFile();
      this.#needSync = true;
    }
  }

  /** Deletes segments readFileNum..writeFileNum and restarts both ends in the next one. */
  #skipToNextFile(): void {
    this.#closeFiles();
    this.#wlen = 0;
    for (let n = this.#readFileNum; n <= this.#writeFileNum; n++) {
      const path = this.segmentPath(n);
      try {
        this.#fs.unlink(path);
      } catch (err) {
        this.#log.error(`DISKQUEUE(${this.#name}) failed to remove ${path} - ${errorText(err)}`);
      }
    }
    this.#writeFileNum++;
    this.#writePos = 0;
    this.#readFileNum = this.#writeFileNum;
    this.#readPos = 0;
    this.#depth = 0;
    this.#limitFileNum = -1;
    this.#epoch++;
  }

  #closeFiles(): void {
    this.#closeReadFile();
    this.#dropWriteFile();
  }

  #closeQuietly(file: { close(): void }): void {
    try {
      file.close();
    } catch (err) {
      this.#log.error(`DISKQUEUE(${this.#name}) failed to close a segment - ${errorText(err)}`);
    }
  }
}
