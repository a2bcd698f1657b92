// Reads records out of disk queue segments (D-BEH-DISKQUEUE): one segment open
// at a time, fetched in blocks, records sliced out of the block.
import type { FileSystem, ReadFile } from "../runtime/types.ts";

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

/** Why a record could not be read: the segment is damaged from `pos` on. */
export class BadRecord {
  constructor(readonly reason: string) {}
}

export class SegmentReader {
  readonly #fs: FileSystem;
  readonly #path: (fileNum: number) => string;
  readonly #minMsgSize: number;
  readonly #maxMsgSize: number;
  #file: ReadFile | null = null;
  #fileNum = -1;
  #buf: Uint8Array | null = null;
  #view: DataView | null = null;
  #start = 0;
  #length = 0;
  #arena: Uint8Array | null = null;
  #arenaUsed = 0;

  constructor(fs: FileSystem, path: (fileNum: number) => string, minMsgSize: number, maxMsgSize: number) {
    this.#fs = fs;
    this.#path = path;
    this.#minMsgSize = minMsgSize;
    this.#maxMsgSize = maxMsgSize;
  }

  /** The segment open for reading, or -1. */
  get fileNum(): number {
    return this.#fileNum;
  }

  /** Size of segment `fileNum` as the file system reports it now (opens it). Throws when it cannot be opened. */
  size(fileNum: number): number {
    return this.#open(fileNum).size();
  }

  /**
   * The record at `pos` of segment `fileNum`, whose readable part ends at
   * `end`: a copy the caller owns, or BadRecord when the bytes there are not a
   * whole record of a valid size (or the segment cannot be read).
   */
  read(fileNum: number, pos: number, end: number): Uint8Array | BadRecord {
    const len = this.readCopy(fileNum, pos, end);
    if (len < 0) return new BadRecord(this.badReason);
    return this.copyBuf.subarray(this.copyAt, this.copyAt + len);
  }

  /** Where readCopy() put the record: `copyBuf[copyAt, copyAt + length)`, memory nobody else writes. */
  copyBuf: Uint8Array = new Uint8Array(0);
  copyAt = 0;
  /** Why the last readCopy() failed. */
  badReason = "";

  /**
   * read() without a view of its own: copies the record out (see copyBuf)
   * and returns its length, or -1 when it is not a whole record of a valid
   * size (badReason says why).
   */
  readCopy(fileNum: number, pos: number, end: number): number {
    let file: ReadFile;
    try {
      file = this.#open(fileNum);
    } catch (err) {
      return this.#bad(err instanceof Error ? err.message : String(err));
    }
    try {
      if (!this.#ensure(file, pos, 4, end)) return this.#bad(`segment ends inside a record header (${end - pos} bytes left)`);
      const len = this.#view!.getInt32(pos - this.#start);
      if (len < this.#minMsgSize || len > this.#maxMsgSize) return this.#bad(`invalid record size ${len}`);
      if (!this.#ensure(file, pos, 4 + len, end)) return this.#bad(`segment ends inside a record of ${len} bytes`);
      this.#copyOut(pos - this.#start + 4, len);
      return len;
    } catch (err) {
      return this.#bad(err instanceof Error ? err.message : String(err));
    }
  }

  #bad(reason: string): number {
    this.badReason = reason;
    return -1;
  }

  close(): void {
    const file = this.#file;
    this.#file = null;
    this.#fileNum = -1;
    this.#length = 0;
    if (file !== null) {
      try {
        file.close();
      } catch {
        // nothing was written through it
      }
    }
  }

  #open(fileNum: number): ReadFile {
    if (this.#fileNum === fileNum && this.#file !== null) return this.#file;
    this.close();
    const file = this.#fs.openRead(this.#path(fileNum));
    this.#file = file;
    this.#fileNum = fileNum;
    this.#length = 0;
    return file;
  }

  /** Makes bytes [pos, pos + n) available in the block, reading when needed. False when the readable part ends first. */
  #ensure(file: ReadFile, pos: number, n: number, end: number): boolean {
    if (pos >= this.#start && pos + n <= this.#start + this.#length) return true;
    if (pos + n > end) return false;
    let buf = this.#buf;
    if (buf === null || buf.length < n) {
      buf = this.#buf = new Uint8Array(Math.max(READ_BLOCK, n));
      this.#view = new DataView(buf.buffer);
    }
    const want = Math.max(n, Math.min(buf.length, end - pos));
    this.#start = pos;
    this.#length = 0;
    let got = 0;
    while (got < want) {
      const r = file.read(buf.subarray(got, want), pos + got);
      if (r <= 0) break;
      got += r;
    }
    this.#length = got;
    return got >= n;
  }

  #copyOut(from: number, len: number): void {
    const src = this.#buf!;
    if (len > ARENA_RECORD) {
      this.copyBuf = src.slice(from, from + len);
      this.copyAt = 0;
      return;
    }
    let arena = this.#arena;
    let at = this.#arenaUsed;
    if (arena === null || at + len > arena.length) {
      arena = this.#arena = new Uint8Array(ARENA);
      at = 0;
    }
    // A byte loop, not set(subarray): a record this small is copied faster
    // than a view of it is allocated, and leaves nothing for the collector.
    for (let i = 0; i < len; i++) arena[at + i] = src[from + i]!;
    this.#arenaUsed = at + len;
    this.copyBuf = arena;
    this.copyAt = at;
  }
}

/**
 * Walks the whole records of a segment from `from` (a record boundary) up to
 * `size`: how many there are and where the last whole one ends. Stops at the
 * first length outside [min, max] or a record cut short by the end of the file.
 * Reads headers in blocks; bodies are skipped, not read.
 */
export function scanSegment(
  file: ReadFile,
  from: number,
  size: number,
  minMsgSize: number,
  maxMsgSize: number,
): { records: number; end: number; stop: string | null } {
  const block = new Uint8Array(READ_BLOCK);
  const view = new DataView(block.buffer);
  let blockStart = 0;
  let blockLength = 0;
  let at = from;
  let records = 0;
  while (at < size) {
    if (at + 4 > size) return { records, end: at, stop: `${size - at} bytes of a record header` };
    if (at < blockStart || at + 4 > blockStart + blockLength) {
      blockStart = at;
      blockLength = 0;
      const want = Math.min(block.length, size - at);
      while (blockLength < want) {
        const r = file.read(block.subarray(blockLength, want), at + blockLength);
        if (r <= 0) break;
        blockLength += r;
      }
      if (blockLength < 4) return { records, end: at, stop: `${blockLength} bytes of a record header` };
    }
    const len = view.getInt32(at - blockStart);
    if (len < minMsgSize || len > maxMsgSize) return { records, end: at, stop: `invalid record size ${len}` };
    if (at + 4 + len > size) return { records, end: at, stop: `a record of ${len} bytes cut short after ${size - at - 4}` };
    at += 4 + len;
    records++;
  }
  return { records, end: at, stop: null };
}
