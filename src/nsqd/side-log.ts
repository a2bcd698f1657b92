// Messages of a queue that are out of its FIFO order, in a file of our own
// beside the queue's segments: `<name>.diskqueue.deferred.dat`.
//
// The original keeps deferred messages (DPUB, REQ with a delay) in memory only:
// at shutdown they are written to the disk queue without their due time and
// come back at once after a restart (nsq issues #1107, #674, #871, #1375), and
// a crash loses them. This log keeps what the segments cannot say:
//
//   ADD  a whole message with its due time (ms since the epoch; 0: deliver at
//        once). With --mem-queue-size=0 every deferral is added here before it
//        is acknowledged, and so is an in-flight message that holds up the
//        queue's read position for too long, so `kill -9` loses neither.
//   REF  the due time of a message that is stored in the queue's segments,
//        by id, with its position when known. At shutdown the deferred
//        messages are written to the segments (so the original can still
//        deliver them, at once, as it always did) and this log is rewritten to
//        REF entries, which bring back their due times after a restart.
//   DEL  the message with this id left the log (delivered, moved back to the
//        queue, finished).
//
// The file is a magic line followed by records in the disk queue's framing
// ([int32 len][len bytes]); each record is [u8 kind][fields]. Appends go
// through the same keep/fresh buffers and the same all-or-nothing writes as
// the segments; replay stops at the first record that is not whole (a torn
// tail after a crash) and the next rewrite drops it.
import type { AppendFile, FileSystem } from "../runtime/types.ts";
import type { Logger } from "../common/log.ts";
import { MESSAGE_HEADER_SIZE, readInt64, writeInt64 } from "../protocol/frames.ts";
import { RecordBuffer, fsyncFile } from "./record-buffer.ts";
import { idKey, writePayloadOf, type Message } from "./message.ts";
import type { QueuePosition } from "./diskqueue.ts";

const MAGIC = new TextEncoder().encode("NSQDEFER1\n");
const ADD = 1;
const REF = 2;
const DEL = 3;

/** A live entry after replay. */
export type SideEntry = { kind: "add"; due: number; payload: Uint8Array } | { kind: "ref"; due: number; id: Uint8Array; at: QueuePosition | null };

export interface SideLogHost {
  /** Entries were buffered: flush soon. */
  dirty(log: SideLog): void;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class SideLog {
  readonly path: string;
  readonly #fs: FileSystem;
  readonly #log: Logger;
  readonly #host: SideLogHost | null;
  readonly #keep = new RecordBuffer();
  readonly #fresh = new RecordBuffer();
  readonly #scratch = new Uint8Array(1 + 8 + 8 + 8 + 16);
  #file: AppendFile | null = null;
  #size = 0;
  #dirty = false;
  #failing = false;
  #unsynced = false;
  /** The file was created since the last sync: its directory needs an fsync too. */
  #newFile = false;
  #syncing = 0;
  #closed = false;

  constructor(path: string, fs: FileSystem, logger: Logger, host: SideLogHost | null) {
    this.path = path;
    this.#fs = fs;
    this.#log = logger;
    this.#host = host;
  }

  /** Bytes in the file (what the next rewrite would shrink). */
  get fileSize(): number {
    return this.#size;
  }

  /** Replays the file: the live entries by message id (latin-1 key). */
  load(): Map<string, SideEntry> {
    const live = new Map<string, SideEntry>();
    let bytes: Uint8Array;
    try {
      if (!this.#fs.exists(this.path)) return live;
      bytes = this.#fs.readBytes(this.path);
    } catch (err) {
      this.#log.error(`cannot read ${this.path} - ${errorText(err)}`);
      return live;
    }
    this.#size = bytes.length;
    if (bytes.length < MAGIC.length || !MAGIC.every((b, i) => bytes[i] === b)) {
      this.#log.error(`${this.path} is not a deferred-message log, ignoring it`);
      return live;
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = MAGIC.length;
    let torn: string | null = null;
    while (at < bytes.length) {
      if (at + 4 > bytes.length) {
        torn = "a cut record header";
        break;
      }
      const len = view.getInt32(at);
      if (len < 17 || at + 4 + len > bytes.length) {
        torn = `a record of ${len} bytes`;
        break;
      }
      const rec = bytes.subarray(at + 4, at + 4 + len);
      at += 4 + len;
      const kind = rec[0];
      if (kind === ADD && len >= 1 + 8 + MESSAGE_HEADER_SIZE) {
        const payload = rec.slice(9);
        live.set(idKey(payload.subarray(10, 26)), { kind: "add", due: readInt64(rec, 1), payload });
      } else if (kind === REF && len === 1 + 8 + 8 + 8 + 16) {
        const fileNum = readInt64(rec, 9);
        const id = rec.slice(25, 41);
        live.set(idKey(id), { kind: "ref", due: readInt64(rec, 1), id, at: fileNum < 0 ? null : { fileNum, pos: readInt64(rec, 17) } });
      } else if (kind === DEL && len === 17) {
        live.delete(idKey(rec.subarray(1, 17)));
      } else {
        torn = `an entry of kind ${kind} and ${len} bytes`;
        break;
      }
    }
    if (torn !== null) this.#log.warn(`${this.path}: ignoring the rest of the file after ${at} bytes (${torn})`);
    return live;
  }

  /** Buffers ADD: the whole message with its due time. */
  add(m: Message, due: number, keep: boolean): void {
    // [kind][due][payload]: the payload is the disk queue's record.
    const rec = new Uint8Array(9 + MESSAGE_HEADER_SIZE + m.body.length);
    rec[0] = ADD;
    writeInt64(rec, 1, due);
    writePayloadOf(rec, 9, m);
    (keep ? this.#keep : this.#fresh).push(rec);
    this.#markDirty();
  }

  /** Buffers REF: the due time of the message `id` stored in the segments (at `at` when known). */
  ref(id: Uint8Array, due: number, at: QueuePosition | null, keep: boolean): void {
    (keep ? this.#keep : this.#fresh).push(encodeRef(this.#scratch, id, due, at));
    this.#markDirty();
  }

  /** Buffers DEL for the id of `m`. */
  del(m: Message): void {
    const rec = this.#scratch.subarray(0, 17);
    rec[0] = DEL;
    m.writeId(rec, 1);
    this.#keep.push(rec);
    this.#markDirty();
  }

  #markDirty(): void {
    if (this.#dirty || this.#closed) return;
    this.#dirty = true;
    this.#host?.dirty(this);
  }

  /** Writes the buffered entries; as DiskQueue.flush: keep ones stay on failure, fresh ones are dropped. */
  flush(): { dropped: number; error: Error | null } {
    this.#dirty = false;
    let error: Error | null = null;
    if (this.#keep.length > 0) {
      error = this.#write(this.#keep);
      if (error === null) this.#keep.clear();
    }
    let dropped = 0;
    if (this.#fresh.length > 0) {
      if (error === null) error = this.#write(this.#fresh);
      if (error !== null) dropped = this.#fresh.records;
      this.#fresh.clear();
    }
    this.#failing = error !== null;
    return { dropped, error };
  }

  /** Entries that must be kept wait for a write that failed. */
  stuck(): boolean {
    return this.#failing && this.#keep.length > 0;
  }

  /** Written since the last sync (for the --sync-timeout timer). */
  active(): boolean {
    return this.#unsynced;
  }

  #write(buf: RecordBuffer): Error | null {
    try {
      const file = this.#open();
      const before = this.#size;
      try {
        file.write(buf.bytes());
      } catch (err) {
        try {
          if (file.size() !== before) file.truncate(before);
        } catch (cut) {
          this.#log.error(`failed to cut a failed write off ${this.path} - ${errorText(cut)}`);
        }
        throw err;
      }
      this.#size = before + buf.length;
      this.#unsynced = true;
      return null;
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
  }

  #open(): AppendFile {
    if (this.#file !== null) return this.#file;
    const file = this.#fs.openAppend(this.path);
    let size = file.size();
    if (size === 0) {
      file.write(MAGIC);
      size = MAGIC.length;
      this.#newFile = true;
    } else if (size !== this.#size && this.#size > 0 && size > this.#size) {
      file.truncate(this.#size);
      size = this.#size;
    }
    this.#size = size;
    this.#file = file;
    return file;
  }

  /** Entries were written since the last fsync. */
  unsynced(): boolean {
    return this.#unsynced || this.#newFile;
  }

  /** fsync of what was written (off the event loop when possible). */
  syncBegin(): Promise<void> {
    const file = this.#file;
    if (this.#newFile) {
      this.#newFile = false;
      const dir = this.path.slice(0, Math.max(1, this.path.lastIndexOf("/")));
      const data = this.#syncFile(file);
      return Promise.all([data, this.#fs.syncDirectory(dir)]).then(() => {});
    }
    return this.#syncFile(file);
  }

  #syncFile(file: AppendFile | null): Promise<void> {
    if (!this.#unsynced || file === null) return Promise.resolve();
    this.#unsynced = false;
    this.#syncing++;
    const done = (): void => {
      this.#syncing--;
      // Dropped (rewrite, close) while its fsync ran: close it now.
      if (file !== this.#file && this.#syncing === 0) this.#closeFile(file);
    };
    return fsyncFile(file).then(done, (err: unknown) => {
      this.#unsynced = true;
      done();
      throw err;
    });
  }

  syncEnd(): void {}

  /**
   * Replaces the file with exactly `entries` (written to a temporary file,
   * fsynced, renamed over the log), or removes it when there are none.
   * Buffered entries are dropped: the caller's entries are the whole truth.
   */
  rewrite(entries: readonly SideEntry[]): void {
    this.#keep.clear();
    this.#fresh.clear();
    this.#dirty = false;
    this.#dropFile();
    if (entries.length === 0) {
      this.#fs.unlink(this.path);
      this.#size = 0;
      return;
    }
    const buf = new RecordBuffer();
    for (const e of entries) {
      if (e.kind === "ref") buf.push(encodeRef(this.#scratch, e.id, e.due, e.at));
      else {
        const rec = new Uint8Array(9 + e.payload.length);
        rec[0] = ADD;
        writeInt64(rec, 1, e.due);
        rec.set(e.payload, 9);
        buf.push(rec);
      }
    }
    const out = new Uint8Array(MAGIC.length + buf.length);
    out.set(MAGIC, 0);
    out.set(buf.bytes(), MAGIC.length);
    this.#fs.writeAtomic(this.path, out, 0o600);
    this.#size = out.length;
  }

  /** Closes the file (after pending fsyncs). Buffered entries are dropped. */
  close(): void {
    this.#closed = true;
    this.#keep.clear();
    this.#fresh.clear();
    this.#dropFile();
  }

  /** Closes and removes the file. */
  delete(): void {
    this.close();
    this.#fs.unlink(this.path);
    this.#size = 0;
  }

  #dropFile(): void {
    const file = this.#file;
    this.#file = null;
    this.#unsynced = false;
    if (file !== null && this.#syncing === 0) this.#closeFile(file);
  }

  #closeFile(file: AppendFile): void {
    try {
      file.close();
    } catch (err) {
      this.#log.error(`failed to close ${this.path} - ${errorText(err)}`);
    }
  }
}

function encodeRef(scratch: Uint8Array, id: Uint8Array, due: number, at: QueuePosition | null): Uint8Array {
  scratch[0] = REF;
  writeInt64(scratch, 1, due);
  writeInt64(scratch, 9, at === null ? -1 : at.fileNum);
  writeInt64(scratch, 17, at === null ? 0 : at.pos);
  scratch.set(id, 25);
  return scratch;
}
