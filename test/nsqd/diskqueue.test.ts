// D-BEH-DISKQUEUE, K-DISK-CORRUPT, D-BEH-EMPTY, D-BEH-SHUTDOWN: the disk queue and
// its on-disk format, its recovery after an unclean exit, its failed writes and
// its release window. The "independent" reader and writer at the bottom know
// only the byte layout from the SPEC, not DiskQueue, and prove the files are the
// ones the original reads and writes.
import * as nodeFs from "node:fs";
import * as path from "node:path";
import { beforeEach, describe, expect, test } from "vitest";
import { DiskQueue, formatDiskQueueMeta, parseDiskQueueMeta, type DiskQueueHost, type DiskQueueOptions } from "../../src/nsqd/diskqueue.ts";
import { createNodeFileSystem } from "../../src/runtime/node-fs.ts";
import type { AppendFile, FileSystem } from "../../src/runtime/types.ts";
import { recordingLogger, useTempDir } from "./helpers.ts";
import { independentRead, independentWrite } from "./layout.ts";
import { Message } from "../../src/nsqd/message.ts";

const MIN = 26;
const MAX = 1024 + 26;

const tempDir = useTempDir("nsq-dq-");
let dir: string;
beforeEach(() => {
  dir = tempDir();
});

function open(over: Partial<DiskQueueOptions> = {}): DiskQueue {
  return new DiskQueue({
    name: "t",
    dataPath: dir,
    maxBytesPerFile: 1000,
    minMsgSize: MIN,
    maxMsgSize: MAX,
    syncEvery: 2500,
    fs: createNodeFileSystem(),
    logger: recordingLogger(),
    ...over,
  });
}

/** A deterministic record: its index in the first 4 bytes, a pattern after. */
function record(i: number, size = 26 + (i % 90)): Uint8Array {
  const r = new Uint8Array(size);
  new DataView(r.buffer).setUint32(0, i);
  for (let j = 4; j < size; j++) r[j] = (i * 31 + j) & 0xff;
  return r;
}

function indexOf(r: Uint8Array): number {
  return new DataView(r.buffer, r.byteOffset).getUint32(0);
}

/** Buffers records (kept on failure) and writes them out, as nsqd does at the end of a turn. */
function put(q: DiskQueue, ...records: Uint8Array[]): void {
  for (const r of records) q.put(r, true);
  const res = q.flush();
  if (res.error !== null) throw res.error;
}

/** The next record, settled at once (as a topic does). */
function take(q: DiskQueue): Uint8Array | null {
  const r = q.readNext();
  if (r !== null) q.settle(q.lastSeq);
  return r;
}

function readAll(q: DiskQueue): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let r = take(q); r !== null; r = take(q)) out.push(r);
  return out;
}

function files(): string[] {
  return nodeFs.readdirSync(dir).sort();
}

function seg(n: number, name = "t"): string {
  return path.join(dir, `${name}.diskqueue.${String(n).padStart(6, "0")}.dat`);
}

function metaText(name = "t"): string {
  return nodeFs.readFileSync(path.join(dir, `${name}.diskqueue.meta.dat`), "utf8");
}

describe("DiskQueue round trips (D-BEH-DISKQUEUE)", () => {
  test("many records across several segment rolls come back in order and byte for byte", () => {
    const q = open();
    const n = 400;
    for (let i = 0; i < n; i++) put(q, record(i));
    expect(q.depth()).toBe(n);
    const segments = files().filter((f) => /\.diskqueue\.\d{6}\.dat$/.test(f));
    expect(segments.length).toBeGreaterThan(10);
    for (let i = 0; i < n; i++) {
      expect(take(q)).toEqual(record(i));
      expect(q.depth()).toBe(n - i - 1);
    }
    expect(take(q)).toBeNull();
    q.close();
    // every fully read segment is gone; only the write segment and the metadata stay
    expect(files().filter((f) => f.includes(".diskqueue.0"))).toHaveLength(1);
    expect(files().some((f) => f.endsWith(".bad"))).toBe(false);
  });

  test("no segment exceeds maxBytesPerFile and rolls happen before a record would not fit", () => {
    const q = open({ maxBytesPerFile: 500 });
    for (let i = 0; i < 300; i++) q.put(record(i), true);
    expect(q.flush()).toMatchObject({ written: 300, dropped: 0, error: null });
    q.close();
    const segs = files().filter((f) => /\.diskqueue\.\d{6}\.dat$/.test(f));
    for (const f of segs.slice(0, -1)) {
      const size = nodeFs.statSync(path.join(dir, f)).size;
      expect(size).toBeLessThanOrEqual(500);
      expect(size).toBeGreaterThan(500 - (4 + 26 + 89)); // the next record would not have fitted
    }
  });

  test.each([2500, 7, 1])("interleaved puts, flushes and reads keep FIFO order and never produce .bad files (syncEvery %i)", (syncEvery) => {
    const q = open({ maxBytesPerFile: 300, syncEvery });
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    let next = 0;
    let expected = 0;
    let written = 0;
    for (let step = 0; step < 2000; step++) {
      const x = rand();
      if (x < 0.4) q.put(record(next++), true);
      else if (x < 0.55) {
        q.flush();
        written = next;
      } else {
        const r = take(q);
        if (expected === written) expect(r).toBeNull();
        else expect(r).toEqual(record(expected++));
      }
      expect(q.depth()).toBe(next - expected);
      if (rand() < 0.05) {
        q.syncNow(); // writes the buffers out too
        written = next;
      }
    }
    q.flush();
    for (const r of readAll(q)) expect(indexOf(r)).toBe(expected++);
    expect(expected).toBe(next);
    q.close();
    expect(files().filter((f) => f.endsWith(".bad"))).toEqual([]);
  });

  test("a reader that caught up moves on when the writer rolls (go-diskqueue #42 does not happen)", () => {
    const log = recordingLogger();
    const q = open({ maxBytesPerFile: 200, logger: log });
    for (let i = 0; i < 100; i++) {
      put(q, record(i, 90)); // two records per segment: every second put rolls
      expect(take(q)).toEqual(record(i, 90));
      expect(take(q)).toBeNull();
    }
    q.close();
    expect(files().filter((f) => f.endsWith(".bad"))).toEqual([]);
    expect(log.lines.filter((l) => l.startsWith("ERROR") || l.startsWith("WARN"))).toEqual([]);
    expect(files()).toEqual(["t.diskqueue.000049.dat", "t.diskqueue.meta.dat"]);
  });

  test("records of exactly minMsgSize and maxMsgSize pass; sizes outside are refused and not stored", () => {
    const q = open({ maxBytesPerFile: 4096 });
    expect(() => q.put(new Uint8Array(MIN - 1))).toThrow(RangeError);
    expect(() => q.put(new Uint8Array(MAX + 1))).toThrow(RangeError);
    put(q, record(1, MIN), record(2, MAX));
    expect(q.depth()).toBe(2);
    expect(take(q)).toEqual(record(1, MIN));
    expect(take(q)).toEqual(record(2, MAX));
    expect(take(q)).toBeNull();
    q.close();
  });

  test("records larger than the write buffer and the read block round trip", () => {
    const big = 300 * 1024;
    const q = open({ maxBytesPerFile: 1024 * 1024, maxMsgSize: big + 26 });
    const sizes = [big, 100, big - 1, 70 * 1024, 26, big];
    sizes.forEach((s, i) => {
      put(q, record(i, s));
    });
    q.close();
    const q2 = open({ maxBytesPerFile: 1024 * 1024, maxMsgSize: big + 26 });
    expect(q2.depth()).toBe(sizes.length);
    sizes.forEach((s, i) => {
      expectSameBytes(take(q2), record(i, s));
    });
    expect(take(q2)).toBeNull();
    q2.close();
  });

  test("a returned record is a copy: later puts and reads do not change it", () => {
    const q = open();
    put(q, record(1));
    const r = take(q)!;
    for (let i = 2; i < 50; i++) put(q, record(i));
    readAll(q);
    expect(r).toEqual(record(1));
    q.close();
  });

  test("buffered records count in depth but are readable only once written", () => {
    const q = open();
    q.put(record(1));
    q.put(record(2), true);
    expect([q.depth(), q.readable(), q.buffered()]).toEqual([2, 0, 2]);
    expect(q.readNext()).toBeNull();
    expect(nodeFs.existsSync(seg(0))).toBe(false);
    expect(q.flush()).toMatchObject({ written: 2, dropped: 0, error: null });
    expect([q.depth(), q.readable(), q.buffered()]).toEqual([2, 2, 0]);
    // keep records go first, then fresh ones
    expect(readAll(q)).toEqual([record(2), record(1)]);
    q.close();
  });
});

describe("DiskQueue persistence (D-BEH-SHUTDOWN)", () => {
  test("reopening after close keeps depth and order", () => {
    const q = open();
    for (let i = 0; i < 120; i++) q.put(record(i), true);
    q.close();
    const q2 = open();
    expect(q2.depth()).toBe(120);
    expect(readAll(q2).map(indexOf)).toEqual(range(0, 120));
    q2.close();
  });

  test("partial reads, reopen, more writes, reopen: nothing lost, nothing repeated", () => {
    const q = open();
    for (let i = 0; i < 100; i++) put(q, record(i));
    for (let i = 0; i < 37; i++) expect(indexOf(take(q)!)).toBe(i);
    q.close();
    const q2 = open();
    expect(q2.depth()).toBe(63);
    for (let i = 37; i < 50; i++) expect(take(q2)).toEqual(record(i));
    for (let i = 100; i < 130; i++) put(q2, record(i));
    q2.close();
    const q3 = open();
    expect(q3.depth()).toBe(80);
    expect(readAll(q3).map(indexOf)).toEqual(range(50, 130));
    q3.close();
  });

  test("put after close throws; readNext after close returns null", () => {
    const q = open();
    put(q, record(1));
    q.close();
    expect(() => q.put(record(2))).toThrow(/closed/);
    expect(q.readNext()).toBeNull();
  });
});

describe("DiskQueue release window: a record is read again after a crash until it is settled", () => {
  test("the metadata's read position is the oldest unsettled record, and its depth counts the unsettled ones", () => {
    const q = open({ maxBytesPerFile: 1000 });
    for (let i = 0; i < 13; i++) put(q, record(i, 96));
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++) {
      q.readNext();
      seqs.push(q.lastSeq);
    }
    q.settle(seqs[0]!);
    q.settle(seqs[2]!); // out of order: the head stays at the 2nd record
    q.syncNow();
    expect(metaText()).toBe("12\n0,100\n1,300\n");
    q.settle(seqs[1]!);
    q.syncNow();
    expect(metaText()).toBe("10\n0,300\n1,300\n");
    q.settle(seqs[3]!);
    q.settle(seqs[4]!);
    q.syncNow();
    expect(metaText()).toBe("8\n0,500\n1,300\n");
  });

  test("records read but not settled come back after an unclean exit; settled ones before them do not", () => {
    const q = open();
    for (let i = 0; i < 50; i++) put(q, record(i));
    for (let i = 0; i < 10; i++) take(q); // done
    for (let i = 10; i < 20; i++) q.readNext(); // in flight
    q.syncNow();
    // no close: the process died
    const q2 = open();
    expect(q2.depth()).toBe(40);
    expect(readAll(q2).map(indexOf)).toEqual(range(10, 50));
    q2.close();
  });

  test("a segment is deleted only when the oldest unsettled record has left it", () => {
    const q = open({ maxBytesPerFile: 200 });
    for (let i = 0; i < 10; i++) put(q, record(i, 90)); // segments 0..4, two records each
    q.readNext();
    const held = q.lastSeq;
    for (let i = 1; i < 8; i++) take(q);
    q.syncNow();
    expect(nodeFs.existsSync(seg(0))).toBe(true);
    expect(nodeFs.existsSync(seg(2))).toBe(true);
    q.settle(held);
    // deleted with the next sync, once the metadata names the new read position
    expect(nodeFs.existsSync(seg(0))).toBe(true);
    q.syncNow();
    expect(nodeFs.existsSync(seg(0))).toBe(false);
    expect(nodeFs.existsSync(seg(2))).toBe(false);
    expect(nodeFs.existsSync(seg(3))).toBe(true);
    q.close();
  });

  test("segments left behind the metadata's read position (an exit between the metadata write and the delete) are removed on open", () => {
    const q = open({ maxBytesPerFile: 200 });
    for (let i = 0; i < 10; i++) put(q, record(i, 90));
    for (let i = 0; i < 5; i++) take(q);
    q.close();
    nodeFs.writeFileSync(seg(0), "left over");
    nodeFs.writeFileSync(seg(1), "left over");
    const q2 = open({ maxBytesPerFile: 200 });
    expect(nodeFs.existsSync(seg(0))).toBe(false);
    expect(nodeFs.existsSync(seg(1))).toBe(false);
    expect(readAll(q2).map(indexOf)).toEqual(range(5, 10));
    q2.close();
  });

  test("settleAll lets the read position move to the reader (shutdown: in-flight messages were copied to the end)", () => {
    const q = open();
    for (let i = 0; i < 10; i++) put(q, record(i));
    for (let i = 0; i < 4; i++) q.readNext();
    expect(q.unsettled()).toBe(4);
    q.settleAll();
    expect(q.unsettled()).toBe(0);
    q.close();
    expect(parseDiskQueueMeta(metaText())).toMatchObject({ depth: 6 });
  });

  test("oldestUnsettled names the item attached to the head entry", () => {
    const q = open();
    put(q, record(1), record(2));
    q.readNext();
    const a = q.lastSeq;
    q.readNext();
    q.attach(a, "first");
    expect(q.oldestUnsettled()).toEqual({ seq: a, item: "first" });
    q.settle(a);
    expect(q.oldestUnsettled()).toEqual({ seq: a + 1, item: undefined });
    q.close();
  });
});

describe("DiskQueue recovery after an unclean exit", () => {
  test("records written after the last metadata are counted and read", () => {
    const q = open({ maxBytesPerFile: 1 << 20 });
    for (let i = 0; i < 10; i++) put(q, record(i));
    q.syncNow(); // metadata names 10 records
    for (let i = 10; i < 25; i++) put(q, record(i)); // written, never in the metadata
    const log = recordingLogger();
    const q2 = open({ maxBytesPerFile: 1 << 20, logger: log });
    expect(q2.depth()).toBe(25);
    expect(readAll(q2).map(indexOf)).toEqual(range(0, 25));
    expect(log.lines.some((l) => l.startsWith("WARN") && l.includes("found 15 records"))).toBe(true);
    // and writing goes on in the same segment
    put(q2, record(99));
    q2.close();
    expect(files()).toEqual(["t.diskqueue.000000.dat", "t.diskqueue.meta.dat"]);
  });

  test("with no metadata at all (killed before the first sync) every record is found", () => {
    const q = open({ maxBytesPerFile: 500 });
    for (let i = 0; i < 30; i++) put(q, record(i));
    expect(nodeFs.existsSync(path.join(dir, "t.diskqueue.meta.dat"))).toBe(false);
    const q2 = open({ maxBytesPerFile: 500 });
    expect(q2.depth()).toBe(30);
    expect(readAll(q2).map(indexOf)).toEqual(range(0, 30));
    q2.close();
  });

  test("segments rolled after the last metadata are found too", () => {
    const q = open({ maxBytesPerFile: 300 });
    for (let i = 0; i < 3; i++) put(q, record(i));
    q.syncNow();
    for (let i = 3; i < 40; i++) put(q, record(i)); // several rolls, no metadata written since
    const q2 = open({ maxBytesPerFile: 300 });
    expect(q2.depth()).toBe(40);
    expect(readAll(q2).map(indexOf)).toEqual(range(0, 40));
    put(q2, record(100));
    expect(readAll(q2).map(indexOf)).toEqual([100]);
    q2.close();
  });

  test("a torn record at the tail is cut off; the whole records before it are kept", () => {
    const q = open({ maxBytesPerFile: 1 << 20 });
    for (let i = 0; i < 10; i++) put(q, record(i, 50));
    q.syncNow();
    for (let i = 10; i < 15; i++) put(q, record(i, 50));
    // half a record, as a crash in the middle of a write leaves it
    nodeFs.appendFileSync(seg(0), new Uint8Array([0, 0, 0, 50, 1, 2, 3]));
    const log = recordingLogger();
    const q2 = open({ maxBytesPerFile: 1 << 20, logger: log });
    expect(nodeFs.statSync(seg(0)).size).toBe(15 * 54);
    expect(log.lines.some((l) => l.includes("cutting off 7 bytes"))).toBe(true);
    expect(readAll(q2).map(indexOf)).toEqual(range(0, 15));
    put(q2, record(20, 50));
    expect(readAll(q2).map(indexOf)).toEqual([20]);
    q2.close();
    expect(files().filter((f) => f.endsWith(".bad"))).toEqual([]);
  });

  test("a segment shorter than the metadata says (data that never reached the disk): the records it holds are counted", () => {
    const q = open({ maxBytesPerFile: 1 << 20 });
    for (let i = 0; i < 10; i++) put(q, record(i, 50));
    q.syncNow();
    nodeFs.truncateSync(seg(0), 6 * 54 + 20);
    const q2 = open({ maxBytesPerFile: 1 << 20 });
    expect(q2.depth()).toBe(6);
    expect(readAll(q2).map(indexOf)).toEqual(range(0, 6));
    q2.close();
  });
});

describe("DiskQueue failed writes (ENOSPC, EIO)", () => {
  /** The node file system whose appends fail (after writing `partial` bytes) while `failing` is set. */
  function failingFs(): FileSystem & { failing: boolean; partial: number; writes: number } {
    const base = createNodeFileSystem();
    const fs = {
      ...base,
      failing: false,
      partial: 7,
      writes: 0,
      openAppend(p: string): AppendFile {
        const f = base.openAppend(p);
        return {
          write(b: Uint8Array) {
            fs.writes++;
            if (fs.failing) {
              f.write(b.subarray(0, Math.min(fs.partial, b.length))); // part of it, then the disk is full
              throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
            }
            return f.write(b);
          },
          sync: () => f.sync(),
          syncAsync: () => f.syncAsync!(),
          truncate: (n: number) => f.truncate(n),
          close: () => f.close(),
          size: () => f.size(),
        };
      },
    };
    return fs;
  }

  test("a failed write is cut back off the segment: fresh records are dropped, kept ones stay buffered and go out later", () => {
    const fs = failingFs();
    const q = open({ fs, maxBytesPerFile: 1 << 20 });
    put(q, record(0), record(1));
    q.put(record(2), true);
    q.put(record(3), false);
    fs.failing = true;
    const r = q.flush();
    expect(r.error?.message).toMatch(/ENOSPC/);
    expect(r).toMatchObject({ written: 0, dropped: 1 });
    expect(q.failing()).toBe(true);
    expect(q.stuck()).toBe(true);
    expect(nodeFs.statSync(seg(0)).size).toBe(4 + 26 + (4 + 27)); // the torn bytes are gone
    expect(q.depth()).toBe(3); // 0, 1 and the kept 2
    fs.failing = false;
    expect(q.flush()).toMatchObject({ written: 1, dropped: 0, error: null });
    expect(q.stuck()).toBe(false);
    expect(readAll(q).map(indexOf)).toEqual([0, 1, 2]);
    q.close();
    const q2 = open({ maxBytesPerFile: 1 << 20 });
    expect(q2.depth()).toBe(0);
    q2.close();
  });

  test("writes that fail again and again keep order and lose no kept record; the file never holds a torn record", () => {
    const fs = failingFs();
    const q = open({ fs, maxBytesPerFile: 2000 });
    const kept: number[] = [];
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 500; i++) {
      const keep = rand() < 0.5;
      q.put(record(i), keep);
      fs.failing = rand() < 0.3;
      fs.partial = Math.floor(rand() * 60);
      const r = q.flush();
      if (r.error === null) kept.push(i);
      else if (keep) kept.push(i); // stays buffered, written by a later flush
    }
    fs.failing = false;
    q.flush();
    const got = readAll(q).map(indexOf);
    expect(got).toEqual(kept.sort((a, b) => a - b).filter((i) => got.includes(i)));
    // every kept record arrived, and the fresh ones that were written
    for (let i = 0; i < 500; i++) if (kept.includes(i)) expect(got).toContain(i);
    q.close();
    const q2 = open({ maxBytesPerFile: 2000 });
    expect(readAll(q2)).toEqual([]);
    q2.close();
    expect(files().filter((f) => f.endsWith(".bad"))).toEqual([]);
  });

  test("putNow writes at once and says where; readAt reads it back", () => {
    const q = open({ maxBytesPerFile: 300 });
    put(q, record(1), record(2));
    const at = q.putNow(Message.withId(new TextEncoder().encode("0123456789abcdef"), new TextEncoder().encode("body"), 5, 0));
    expect(at).toEqual({ fileNum: 0, pos: 4 + 27 + (4 + 28) });
    const r = q.readAt(at)!;
    expect(new TextDecoder().decode(r.subarray(26))).toBe("body");
    expect(q.readAt({ fileNum: 7, pos: 0 })).toBeNull();
    q.close();
  });
});

describe("DiskQueue metadata file", () => {
  test("metadata text is <depth>\\n<readFileNum>,<readPos>\\n<writeFileNum>,<writePos>\\n", () => {
    const q = open({ maxBytesPerFile: 1000 });
    // 10 records of 4 + 96 bytes fill segment 0 exactly; the 11th opens segment 1
    for (let i = 0; i < 13; i++) q.put(record(i, 96), true);
    q.flush();
    take(q);
    take(q);
    q.close();
    expect(metaText()).toBe("11\n0,200\n1,300\n");
    expect(nodeFs.statSync(seg(0)).size).toBe(1000);
    expect(nodeFs.statSync(seg(1)).size).toBe(300);
    expect((nodeFs.statSync(path.join(dir, "t.diskqueue.meta.dat")).mode & 0o777).toString(8)).toBe("600");
  });

  test("the metadata codec reads what it writes and refuses other text", () => {
    expect(formatDiskQueueMeta(3, 4, 5, 6, 7)).toBe("3\n4,5\n6,7\n");
    expect(parseDiskQueueMeta("3\n4,5\n6,7\n")).toEqual({ depth: 3, readFileNum: 4, readPos: 5, writeFileNum: 6, writePos: 7 });
    expect(parseDiskQueueMeta("3\n4,5\n6,7")).not.toBeNull();
    expect(parseDiskQueueMeta("3\n4 5\n6,7\n")).toBeNull();
    expect(parseDiskQueueMeta("")).toBeNull();
  });

  test("an unparseable metadata file is logged and the queue starts empty", () => {
    nodeFs.writeFileSync(path.join(dir, "t.diskqueue.meta.dat"), "garbage");
    const log = recordingLogger();
    const q = open({ logger: log });
    expect(q.depth()).toBe(0);
    expect(log.lines.some((l) => l.startsWith("ERROR") && l.includes("metadata"))).toBe(true);
    q.close();
  });

  test("a channel name with ':' makes file names <topic>:<channel>.diskqueue.*", () => {
    const q = open({ name: "t:c" });
    put(q, record(1));
    q.close();
    expect(files()).toEqual(["t:c.diskqueue.000000.dat", "t:c.diskqueue.meta.dat"]);
  });
});

describe("DiskQueue sync (--sync-every, rolls): syncBegin / syncEnd", () => {
  /** The node file system, counting writes, fsyncs and metadata writes. */
  function countingFs(): FileSystem & { writes: number; syncs: number; metas: number } {
    const base = createNodeFileSystem();
    const c = {
      ...base,
      writes: 0,
      syncs: 0,
      metas: 0,
      openAppend(p: string): AppendFile {
        const f = base.openAppend(p);
        return {
          write: (b) => {
            c.writes++;
            return f.write(b);
          },
          sync: () => {
            c.syncs++;
            f.sync();
          },
          syncAsync: () => {
            c.syncs++;
            return f.syncAsync!();
          },
          truncate: (n) => f.truncate(n),
          close: () => f.close(),
          size: () => f.size(),
        };
      },
      writeAtomic(p: string, d: string | Uint8Array, m?: number) {
        c.metas++;
        base.writeAtomic(p, d, m);
      },
      writeAtomicAsync(p: string, d: string | Uint8Array, m?: number) {
        c.metas++;
        return base.writeAtomicAsync(p, d, m);
      },
    };
    return c;
  }

  function host(): DiskQueueHost & { dirtied: number; wanted: number } {
    return {
      dirtied: 0,
      wanted: 0,
      dirty() {
        this.dirtied++;
      },
      syncWanted() {
        this.wanted++;
      },
      mayRelease: () => true,
    };
  }

  test("a sync is wanted after every syncEvery records written and read, and at every roll", () => {
    const h = host();
    const q = open({ host: h, syncEvery: 3, maxBytesPerFile: 1 << 20 });
    q.put(record(0, 50));
    q.put(record(1, 50));
    expect(h.dirtied).toBe(1); // once per flush cycle
    q.flush();
    expect(h.wanted).toBe(0);
    put(q, record(2, 50));
    expect(h.wanted).toBe(1);
    void q.syncBegin();
    take(q);
    take(q);
    expect(h.wanted).toBe(1);
    take(q);
    expect(h.wanted).toBe(2);
    q.close();
    const h2 = host();
    const q2 = open({ host: h2, name: "r", maxBytesPerFile: 1000 });
    for (let i = 0; i < 10; i++) put(q2, record(i, 96));
    expect(h2.wanted).toBe(0);
    put(q2, record(10, 96)); // rolls
    expect(h2.wanted).toBe(1);
    q2.close();
  });

  test("syncBegin fsyncs what was written and captures metadata that syncEnd writes after it", async () => {
    const fs = countingFs();
    const q = open({ fs, maxBytesPerFile: 1 << 20 });
    put(q, record(0, 50), record(1, 50));
    const done = q.syncBegin();
    put(q, record(2, 50)); // after the capture: not in this metadata
    await done;
    expect(fs.syncs).toBe(1);
    q.syncEnd();
    await new Promise((r) => setTimeout(r, 50));
    expect(metaText()).toBe("2\n0,0\n0,108\n");
    expect(q.unsynced()).toBe(true);
    await q.syncBegin();
    q.syncEnd();
    await new Promise((r) => setTimeout(r, 50));
    expect(metaText()).toBe("3\n0,0\n0,162\n");
    expect(q.unsynced()).toBe(false);
    q.close();
  });

  test("writes are batched: a thousand small puts are one write call per flush", () => {
    const fs = countingFs();
    const q = open({ fs, maxBytesPerFile: 1 << 20 });
    for (let i = 0; i < 1000; i++) q.put(record(i, 100));
    q.flush();
    expect(fs.writes).toBe(1);
    expect(readAll(q)).toHaveLength(1000);
    q.close();
    expect(nodeFs.statSync(seg(0)).size).toBe(1000 * 104);
  });

  test("a rolled segment is fsynced by the next sync, then closed; metadata after empty() or delete() is never written back", async () => {
    const fs = countingFs();
    const q = open({ fs, maxBytesPerFile: 1000 });
    for (let i = 0; i < 11; i++) q.put(record(i, 96), true);
    q.flush();
    expect(q.unsynced()).toBe(true);
    const pending = q.syncBegin();
    q.empty();
    await pending;
    q.syncEnd();
    await new Promise((r) => setTimeout(r, 50));
    expect(fs.syncs).toBe(2); // segment 0 and segment 1
    expect(parseDiskQueueMeta(metaText())).toMatchObject({ depth: 0, readFileNum: 2, writeFileNum: 2 });
    q.delete();
    expect(files()).toEqual([]);
  });
});

describe("DiskQueue empty and delete (D-BEH-EMPTY)", () => {
  test("empty drops every record and deletes the segments; the queue stays usable and finds its records after a crash", () => {
    const q = open();
    for (let i = 0; i < 100; i++) q.put(record(i), true);
    q.close();
    const q2 = open();
    take(q2);
    q2.empty();
    expect(q2.depth()).toBe(0);
    expect(take(q2)).toBeNull();
    expect(files()).toEqual(["t.diskqueue.meta.dat"]);
    put(q2, record(500));
    expect(take(q2)).toEqual(record(500));
    put(q2, record(501));
    // no close: the metadata written by empty() points recovery at the new
    // segment, where both records are found (500 again: its read was not yet
    // in any metadata, and delivery is at least once)
    const q3 = open();
    expect(readAll(q3)).toEqual([record(500), record(501)]);
    q3.close();
  });

  test("delete removes every segment and the metadata", () => {
    const q = open();
    for (let i = 0; i < 100; i++) q.put(record(i), true);
    q.close();
    const other = open({ name: "other" });
    put(other, record(1));
    other.close();
    const q2 = open();
    take(q2);
    q2.delete();
    expect(files()).toEqual(["other.diskqueue.000000.dat", "other.diskqueue.meta.dat"]);
    expect(() => q2.put(record(1))).toThrow();
  });

  test("delete after close still removes the files", () => {
    const q = open({ maxBytesPerFile: 300 });
    for (let i = 0; i < 40; i++) q.put(record(i), true);
    q.flush();
    take(q);
    q.close();
    expect(files().length).toBeGreaterThan(3);
    q.delete();
    expect(files()).toEqual([]);
  });
});

describe("DiskQueue corruption (K-DISK-CORRUPT)", () => {
  function fill(n: number, size = 96): void {
    const q = open();
    for (let i = 0; i < n; i++) q.put(record(i, size), true);
    q.close();
  }

  test("a record length outside the limits: segment renamed .bad, warning logged, reading goes on", () => {
    fill(35); // segments 0, 1, 2 of 10 records, segment 3 of 5
    const fd = nodeFs.openSync(seg(1), "r+");
    nodeFs.writeSync(fd, new Uint8Array([0x7f, 0, 0, 0]), 0, 4, 300); // 4th record of segment 1
    nodeFs.closeSync(fd);
    const log = recordingLogger();
    const q = open({ logger: log });
    const got = readAll(q).map(indexOf);
    expect(got).toEqual([...range(0, 13), ...range(20, 35)]);
    expect(nodeFs.existsSync(`${seg(1)}.bad`)).toBe(true);
    expect(nodeFs.existsSync(seg(1))).toBe(false);
    expect(log.lines.some((l) => l.startsWith("WARN") && l.includes(".bad"))).toBe(true);
    // the 7 lost records stayed counted until the reader reached the writer
    expect(q.depth()).toBe(0);
    expect(log.lines.some((l) => l.startsWith("ERROR") && l.includes("depth 7"))).toBe(true);
    put(q, record(99));
    expect(take(q)).toEqual(record(99));
    q.close();
  });

  test("a record length below minMsgSize is corrupt too", () => {
    fill(15);
    const fd = nodeFs.openSync(seg(0), "r+");
    nodeFs.writeSync(fd, new Uint8Array([0, 0, 0, 25]), 0, 4, 0);
    nodeFs.closeSync(fd);
    const q = open();
    expect(readAll(q).map(indexOf)).toEqual(range(10, 15));
    expect(nodeFs.existsSync(`${seg(0)}.bad`)).toBe(true);
    q.close();
  });

  test("a segment cut inside a record in the middle of the queue: the whole records before the cut are read, then the next segment", () => {
    fill(25);
    nodeFs.truncateSync(seg(1), 450); // 4 whole records and half of the 5th
    const q = open();
    expect(readAll(q).map(indexOf)).toEqual([...range(0, 14), ...range(20, 25)]);
    expect(nodeFs.existsSync(`${seg(1)}.bad`)).toBe(true);
    q.close();
  });

  test("corruption in the segment being written: writing moves to a new segment", () => {
    fill(5); // all in segment 0, which is also the write segment
    const fd = nodeFs.openSync(seg(0), "r+");
    nodeFs.writeSync(fd, new Uint8Array([0xff, 0xff, 0xff, 0xff]), 0, 4, 200);
    nodeFs.closeSync(fd);
    const q = open();
    expect(readAll(q).map(indexOf)).toEqual([0, 1]);
    expect(q.depth()).toBe(0);
    expect(nodeFs.existsSync(`${seg(0)}.bad`)).toBe(true);
    put(q, record(7));
    q.close();
    expect(metaText()).toBe(`1\n1,0\n1,${4 + 33}\n`);
    const q2 = open();
    expect(readAll(q2)).toEqual([record(7)]);
    q2.close();
  });

  test("metadata with depth > 0 whose segments are gone: reading finds nothing and depth becomes 0", () => {
    nodeFs.writeFileSync(path.join(dir, "t.diskqueue.meta.dat"), "42\n3,100\n5,700\n");
    const log = recordingLogger();
    const q = open({ logger: log });
    expect(take(q)).toBeNull();
    expect(q.depth()).toBe(0);
    expect(log.lines.some((l) => l.startsWith("ERROR") && l.includes("missing"))).toBe(true);
    put(q, record(1));
    expect(take(q)).toEqual(record(1));
    q.close();
    expect(files().filter((f) => f.endsWith(".bad"))).toEqual([]); // nothing to rename
  });

  test("metadata with depth > 0 but equal positions reports depth 0 at once", () => {
    nodeFs.writeFileSync(path.join(dir, "t.diskqueue.meta.dat"), "9\n2,0\n2,0\n");
    const q = open();
    expect(take(q)).toBeNull();
    expect(q.depth()).toBe(0);
    q.close();
    expect(metaText()).toBe("0\n2,0\n2,0\n");
  });
});

describe("DiskQueue on-disk compatibility (byte layout from the SPEC only)", () => {
  test("an independent reader finds every unread message in files DiskQueue wrote", () => {
    const q = open({ maxBytesPerFile: 700 });
    for (let i = 0; i < 200; i++) q.put(record(i), true);
    q.flush();
    for (let i = 0; i < 45; i++) take(q);
    q.close();
    const got = independentRead(dir, "t");
    expect(got.depth).toBe(155);
    expect(got.records.length).toBe(155);
    got.records.forEach((r, k) => {
      expect(r).toEqual(record(45 + k));
    });
  });

  test("an independent reader also finds the unsettled records a crash left (read again, not lost)", () => {
    const q = open({ maxBytesPerFile: 700 });
    for (let i = 0; i < 50; i++) q.put(record(i), true);
    q.flush();
    for (let i = 0; i < 20; i++) q.readNext(); // in flight, never settled
    q.close();
    const got = independentRead(dir, "t");
    expect(got.records.map(indexOf)).toEqual(range(0, 50));
  });

  test("DiskQueue reads segments and metadata written the way the original writes them", () => {
    const records = Array.from({ length: 300 }, (_, i) => record(i));
    // as if the original had written 300 records, read 120 of them and exited
    independentWrite(dir, "t", records, 900, 120);
    const q = open({ maxBytesPerFile: 900 });
    expect(q.depth()).toBe(180);
    expect(readAll(q)).toEqual(records.slice(120));
    // and it keeps appending where the original stopped
    put(q, record(1000));
    q.close();
    const after = independentRead(dir, "t");
    expect(after.records).toEqual([record(1000)]);
  });

  test("DiskQueue keeps appending to a segment the original left open, then the original's reader reads all", () => {
    const records = Array.from({ length: 30 }, (_, i) => record(i));
    independentWrite(dir, "t", records, 100_000, 0);
    const q = open({ maxBytesPerFile: 100_000 });
    for (let i = 30; i < 60; i++) q.put(record(i), true);
    q.close();
    expect(files()).toEqual(["t.diskqueue.000000.dat", "t.diskqueue.meta.dat"]);
    const got = independentRead(dir, "t");
    expect(got.records.map(indexOf)).toEqual(range(0, 60));
  });

  test("stale metadata (segment longer than writePos, the original killed): the extra records are counted and read, writing goes on after them", () => {
    const records = Array.from({ length: 20 }, (_, i) => record(i));
    independentWrite(dir, "t", records, 100_000, 0);
    // the metadata was last synced after 12 records
    const writePos = records.slice(0, 12).reduce((s, r) => s + 4 + r.length, 0);
    nodeFs.writeFileSync(path.join(dir, "t.diskqueue.meta.dat"), `12\n0,0\n0,${writePos}\n`);
    const q = open({ maxBytesPerFile: 100_000 });
    expect(q.depth()).toBe(20);
    put(q, record(100));
    expect(readAll(q).map(indexOf)).toEqual([...range(0, 20), 100]);
    q.close();
    expect(independentRead(dir, "t").records).toEqual([]);
  });
});

/** toEqual on large byte arrays is slow; compare directly and report the first difference. */
function expectSameBytes(got: Uint8Array | null, want: Uint8Array): void {
  expect(got).not.toBeNull();
  expect(got!.length).toBe(want.length);
  let diff = -1;
  for (let i = 0; i < want.length; i++) {
    if (got![i] !== want[i]) {
      diff = i;
      break;
    }
  }
  expect(diff).toBe(-1);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}
