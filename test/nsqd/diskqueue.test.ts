// D-BEH-DISKQUEUE, K-DISK-CORRUPT, D-BEH-EMPTY, D-BEH-SHUTDOWN: the disk queue and
// its on-disk format. The "independent" reader and writer at the bottom know only
// the byte layout from the SPEC, not DiskQueue, and prove the files are the ones
// the original reads and writes.
import * as nodeFs from "node:fs";
import * as path from "node:path";
import { beforeEach, describe, expect, test } from "vitest";
import { DiskQueue, formatDiskQueueMeta, parseDiskQueueMeta, type DiskQueueOptions } from "../../src/nsqd/diskqueue.ts";
import { createNodeFileSystem } from "../../src/runtime/node-fs.ts";
import type { AppendFile, FileSystem } from "../../src/runtime/types.ts";
import { recordingLogger, useTempDir } from "./helpers.ts";

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
    syncTimeoutMs: 60_000,
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

function readAll(q: DiskQueue): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let r = q.readNext(); r !== null; r = q.readNext()) out.push(r);
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
    for (let i = 0; i < n; i++) q.put(record(i));
    expect(q.depth()).toBe(n);
    const segments = files().filter((f) => f.endsWith(".dat") && !f.includes("meta"));
    expect(segments.length).toBeGreaterThan(10);
    for (let i = 0; i < n; i++) {
      const r = q.readNext();
      expect(r).toEqual(record(i));
      expect(q.depth()).toBe(n - i - 1);
    }
    expect(q.readNext()).toBeNull();
    expect(q.depth()).toBe(0);
    q.close();
    // every fully read segment is gone; only the write segment and the metadata stay
    expect(files().filter((f) => f.includes(".diskqueue.0"))).toHaveLength(1);
    expect(files().some((f) => f.endsWith(".bad"))).toBe(false);
  });

  test("no segment exceeds maxBytesPerFile and rolls happen before a record would not fit", () => {
    const q = open({ maxBytesPerFile: 500 });
    for (let i = 0; i < 300; i++) q.put(record(i));
    q.close();
    const segs = files().filter((f) => /\.diskqueue\.\d{6}\.dat$/.test(f));
    for (const f of segs.slice(0, -1)) {
      const size = nodeFs.statSync(path.join(dir, f)).size;
      expect(size).toBeLessThanOrEqual(500);
      expect(size).toBeGreaterThan(500 - (4 + 26 + 89)); // the next record would not have fitted
    }
  });

  test.each([2500, 7, 1])("interleaved puts and reads keep FIFO order and never produce .bad files (syncEvery %i)", (syncEvery) => {
    const q = open({ maxBytesPerFile: 300, syncEvery });
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    let next = 0;
    let expected = 0;
    // fsync is slow on some disks: fewer steps when every operation syncs
    const steps = syncEvery === 1 ? 800 : 2000;
    for (let step = 0; step < steps; step++) {
      if (rand() < 0.52) q.put(record(next++));
      else {
        const r = q.readNext();
        if (expected === next) expect(r).toBeNull();
        else expect(r).toEqual(record(expected++));
      }
      expect(q.depth()).toBe(next - expected);
    }
    for (const r of readAll(q)) expect(indexOf(r)).toBe(expected++);
    expect(expected).toBe(next);
    q.close();
    expect(files().filter((f) => f.endsWith(".bad"))).toEqual([]);
  });

  test("a reader that caught up moves on when the writer rolls (go-diskqueue #42 does not happen)", () => {
    // syncEvery 1 writes every record out at once, so reads come from the segment files
    const log = recordingLogger();
    const q = open({ maxBytesPerFile: 200, syncEvery: 1, logger: log });
    for (let i = 0; i < 100; i++) {
      q.put(record(i, 90)); // two records per segment: every second put rolls
      expect(q.readNext()).toEqual(record(i, 90));
      expect(q.readNext()).toBeNull();
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
    q.put(record(1, MIN));
    q.put(record(2, MAX));
    expect(q.depth()).toBe(2);
    expect(q.readNext()).toEqual(record(1, MIN));
    expect(q.readNext()).toEqual(record(2, MAX));
    expect(q.readNext()).toBeNull();
    q.close();
  });

  test("records larger than the write buffer and the read block round trip", () => {
    const big = 300 * 1024;
    const q = open({ maxBytesPerFile: 1024 * 1024, maxMsgSize: big + 26 });
    const sizes = [big, 100, big - 1, 70 * 1024, 26, big];
    sizes.forEach((s, i) => q.put(record(i, s)));
    q.close();
    const q2 = open({ maxBytesPerFile: 1024 * 1024, maxMsgSize: big + 26 });
    expect(q2.depth()).toBe(sizes.length);
    sizes.forEach((s, i) => expectSameBytes(q2.readNext(), record(i, s)));
    expect(q2.readNext()).toBeNull();
    q2.close();
  });

  test("a returned record is a copy: later puts and reads do not change it", () => {
    const q = open();
    q.put(record(1));
    const r = q.readNext()!;
    for (let i = 2; i < 50; i++) q.put(record(i));
    readAll(q);
    expect(r).toEqual(record(1));
    q.close();
  });
});

describe("DiskQueue persistence (D-BEH-SHUTDOWN)", () => {
  test("reopening after close keeps depth and order", () => {
    const q = open();
    for (let i = 0; i < 120; i++) q.put(record(i));
    q.close();
    const q2 = open();
    expect(q2.depth()).toBe(120);
    const got = readAll(q2).map(indexOf);
    expect(got).toEqual(Array.from({ length: 120 }, (_, i) => i));
    q2.close();
  });

  test("partial reads, reopen, more writes, reopen: nothing lost, nothing repeated", () => {
    const q = open();
    for (let i = 0; i < 100; i++) q.put(record(i));
    for (let i = 0; i < 37; i++) expect(indexOf(q.readNext()!)).toBe(i);
    q.close();
    const q2 = open();
    expect(q2.depth()).toBe(63);
    for (let i = 37; i < 50; i++) expect(q2.readNext()).toEqual(record(i));
    for (let i = 100; i < 130; i++) q2.put(record(i));
    q2.close();
    const q3 = open();
    expect(q3.depth()).toBe(80);
    expect(readAll(q3).map(indexOf)).toEqual(Array.from({ length: 80 }, (_, i) => 50 + i));
    q3.close();
  });

  test("put after close throws; readNext after close returns null", () => {
    const q = open();
    q.put(record(1));
    q.close();
    expect(() => q.put(record(2))).toThrow(/closed/);
    expect(q.readNext()).toBeNull();
  });
});

describe("DiskQueue metadata file", () => {
  test("metadata text is <depth>\\n<readFileNum>,<readPos>\\n<writeFileNum>,<writePos>\\n", () => {
    const q = open({ maxBytesPerFile: 1000 });
    // 10 records of 4 + 96 bytes fill segment 0 exactly; the 11th opens segment 1
    for (let i = 0; i < 13; i++) q.put(record(i, 96));
    q.readNext();
    q.readNext();
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
    q.put(record(1));
    q.close();
    expect(files()).toEqual(["t:c.diskqueue.000000.dat", "t:c.diskqueue.meta.dat"]);
  });
});

describe("DiskQueue sync (--sync-every, --sync-timeout)", () => {
  /** The node file system, counting writes and fsyncs. */
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
          write: (b) => (c.writes++, f.write(b)),
          sync: () => (c.syncs++, f.sync()),
          close: () => f.close(),
          size: () => f.size(),
        };
      },
      writeAtomic(p: string, d: string | Uint8Array, m?: number) {
        c.metas++;
        base.writeAtomic(p, d, m);
      },
    };
    return c;
  }

  test("fsync and metadata after every syncEvery operations, reads included", () => {
    const fs = countingFs();
    const q = open({ fs, syncEvery: 3, maxBytesPerFile: 1 << 20 });
    q.put(record(0, 50));
    q.put(record(1, 50));
    expect(fs.metas).toBe(0);
    expect(nodeFs.existsSync(seg(0))).toBe(false); // still buffered
    q.put(record(2, 50));
    expect(fs.syncs).toBe(1);
    expect(fs.metas).toBe(1);
    expect(metaText()).toBe("3\n0,0\n0,162\n");
    expect(nodeFs.statSync(seg(0)).size).toBe(162);
    q.readNext();
    q.readNext();
    expect(fs.metas).toBe(1);
    q.readNext();
    expect(fs.metas).toBe(2);
    expect(metaText()).toBe("0\n0,162\n0,162\n");
    q.close();
  });

  test("syncEvery 0 syncs after every operation, as the original's counter does", () => {
    const fs = countingFs();
    const q = open({ fs, syncEvery: 0 });
    q.put(record(0));
    expect(fs.metas).toBe(1);
    q.readNext();
    expect(fs.metas).toBe(2);
    q.close();
  });

  test("writes are batched: a thousand small puts are a handful of write calls", () => {
    const fs = countingFs();
    const q = open({ fs, maxBytesPerFile: 1 << 20 });
    for (let i = 0; i < 1000; i++) q.put(record(i, 100));
    expect(fs.writes).toBeLessThanOrEqual(3);
    expect(readAll(q)).toHaveLength(1000);
    q.close();
    expect(nodeFs.statSync(seg(0)).size).toBe(1000 * 104);
  });

  test("every segment roll fsyncs and writes metadata", () => {
    const fs = countingFs();
    const q = open({ fs, maxBytesPerFile: 1000 });
    for (let i = 0; i < 10; i++) q.put(record(i, 96));
    expect(fs.metas).toBe(0);
    q.put(record(10, 96));
    expect(fs.syncs).toBe(1);
    expect(metaText()).toBe("10\n0,0\n1,0\n");
    q.close();
  });

  test("--sync-timeout syncs after activity, and a closed queue's timer never fires", async () => {
    const q = open({ syncTimeoutMs: 20 });
    q.put(record(1));
    expect(nodeFs.existsSync(path.join(dir, "t.diskqueue.meta.dat"))).toBe(false);
    await new Promise((r) => setTimeout(r, 80));
    expect(metaText()).toBe(`1\n0,0\n0,${4 + 27}\n`);
    q.put(record(2));
    q.delete();
    await new Promise((r) => setTimeout(r, 80));
    expect(files()).toEqual([]);
  });
});

describe("DiskQueue empty and delete (D-BEH-EMPTY)", () => {
  test("empty drops every record and deletes segments and metadata; the queue stays usable", () => {
    const q = open();
    for (let i = 0; i < 100; i++) q.put(record(i));
    q.close();
    const q2 = open();
    q2.readNext();
    q2.empty();
    expect(q2.depth()).toBe(0);
    expect(q2.readNext()).toBeNull();
    expect(files()).toEqual([]);
    q2.put(record(500));
    expect(q2.readNext()).toEqual(record(500));
    q2.put(record(501));
    q2.close();
    const q3 = open();
    expect(readAll(q3)).toEqual([record(501)]);
    q3.close();
  });

  test("delete removes every segment and the metadata", () => {
    const q = open();
    for (let i = 0; i < 100; i++) q.put(record(i));
    q.close();
    const other = open({ name: "other" });
    other.put(record(1));
    other.close();
    const q2 = open();
    q2.readNext();
    q2.delete();
    expect(files()).toEqual(["other.diskqueue.000000.dat", "other.diskqueue.meta.dat"]);
    expect(() => q2.put(record(1))).toThrow();
  });

  test("delete after close still removes the files", () => {
    const q = open({ maxBytesPerFile: 300 });
    for (let i = 0; i < 40; i++) q.put(record(i));
    q.readNext();
    q.close();
    expect(files().length).toBeGreaterThan(3);
    q.delete();
    expect(files()).toEqual([]);
  });
});

describe("DiskQueue corruption (K-DISK-CORRUPT)", () => {
  function fill(n: number, size = 96): void {
    const q = open();
    for (let i = 0; i < n; i++) q.put(record(i, size));
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
    const want = [...range(0, 13), ...range(20, 35)];
    expect(got).toEqual(want);
    expect(nodeFs.existsSync(`${seg(1)}.bad`)).toBe(true);
    expect(nodeFs.existsSync(seg(1))).toBe(false);
    expect(log.lines.some((l) => l.startsWith("WARN") && l.includes(".bad"))).toBe(true);
    // the 7 lost records stayed counted until the reader reached the writer
    expect(q.depth()).toBe(0);
    expect(log.lines.some((l) => l.startsWith("ERROR") && l.includes("depth 7"))).toBe(true);
    q.put(record(99));
    expect(q.readNext()).toEqual(record(99));
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

  test("a segment truncated inside a record: the whole records before the cut are read, then the next segment", () => {
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
    q.put(record(7));
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
    expect(q.depth()).toBe(42); // like the original, known only once the reader looks
    expect(q.readNext()).toBeNull();
    expect(q.depth()).toBe(0);
    expect(log.lines.some((l) => l.startsWith("ERROR") && l.includes("depth 42"))).toBe(true);
    q.put(record(1));
    expect(q.readNext()).toEqual(record(1));
    q.close();
    expect(files().filter((f) => f.endsWith(".bad"))).toEqual([]); // nothing to rename
  });

  test("metadata with depth > 0 but equal positions reports depth 0 at once", () => {
    nodeFs.writeFileSync(path.join(dir, "t.diskqueue.meta.dat"), "9\n2,0\n2,0\n");
    const q = open();
    expect(q.depth()).toBe(0);
    q.close();
    expect(metaText()).toBe("0\n2,0\n2,0\n");
  });

  test("a failed write refuses the record; a partial write does not corrupt what follows", () => {
    const base = createNodeFileSystem();
    let failNext = false;
    const fs: FileSystem = {
      ...base,
      openAppend(p) {
        const f = base.openAppend(p);
        return {
          write(b) {
            if (failNext) {
              failNext = false;
              f.write(b.subarray(0, 7)); // half done, then the disk is full
              throw new Error("ENOSPC: no space left on device");
            }
            return f.write(b);
          },
          sync: () => f.sync(),
          close: () => f.close(),
          size: () => f.size(),
        };
      },
    };
    const log = recordingLogger();
    const q = open({ fs, logger: log, maxBytesPerFile: 1 << 20, syncEvery: 1 << 30 });
    const accepted: number[] = [];
    let refused = 0;
    for (let i = 0; i < 3000; i++) {
      if (i === 1000 || i === 2200) failNext = true;
      try {
        q.put(record(i, 100));
        accepted.push(i);
      } catch (err) {
        expect(String(err)).toMatch(/ENOSPC/);
        refused++;
      }
      if (i === 1500) for (let k = 0; k < 200; k++) expect(indexOf(q.readNext()!)).toBe(accepted[k]);
    }
    expect(refused).toBe(2);
    expect(log.lines.filter((l) => l.startsWith("WARN")).length).toBe(2); // moved to a fresh segment twice
    q.close();
    const q2 = open({ maxBytesPerFile: 1 << 20 });
    // every accepted record, in order, once; a segment with a torn tail is renamed .bad
    // only after its last whole record was read
    expect(readAll(q2).map(indexOf)).toEqual(accepted.slice(200));
    expect(q2.depth()).toBe(0);
    q2.close();
  });
});

describe("DiskQueue on-disk compatibility (byte layout from the SPEC only)", () => {
  test("an independent reader finds every unread message in files DiskQueue wrote", () => {
    const q = open({ maxBytesPerFile: 700 });
    for (let i = 0; i < 200; i++) q.put(record(i));
    for (let i = 0; i < 45; i++) q.readNext();
    q.close();
    const got = independentRead(dir, "t");
    expect(got.depth).toBe(155);
    expect(got.records.length).toBe(155);
    got.records.forEach((r, k) => expect(r).toEqual(record(45 + k)));
  });

  test("DiskQueue reads segments and metadata written the way the original writes them", () => {
    const records = Array.from({ length: 300 }, (_, i) => record(i));
    // as if the original had written 300 records, read 120 of them and exited
    independentWrite(dir, "t", records, 900, 120);
    const q = open({ maxBytesPerFile: 900 });
    expect(q.depth()).toBe(180);
    const got = readAll(q);
    expect(got).toEqual(records.slice(120));
    // and it keeps appending where the original stopped
    q.put(record(1000));
    q.close();
    const after = independentRead(dir, "t");
    expect(after.records).toEqual([record(1000)]);
  });

  test("DiskQueue keeps appending to a segment the original left open, then the original's reader reads all", () => {
    const records = Array.from({ length: 30 }, (_, i) => record(i));
    independentWrite(dir, "t", records, 100_000, 0);
    const q = open({ maxBytesPerFile: 100_000 });
    for (let i = 30; i < 60; i++) q.put(record(i));
    q.close();
    expect(files()).toEqual(["t.diskqueue.000000.dat", "t.diskqueue.meta.dat"]);
    const got = independentRead(dir, "t");
    expect(got.records.map(indexOf)).toEqual(range(0, 60));
  });

  test("stale metadata (segment longer than writePos): writes go to a new segment, the extra records are read", () => {
    const records = Array.from({ length: 20 }, (_, i) => record(i));
    independentWrite(dir, "t", records, 100_000, 0);
    // the metadata was last synced after 12 records
    const writePos = records.slice(0, 12).reduce((s, r) => s + 4 + r.length, 0);
    nodeFs.writeFileSync(path.join(dir, "t.diskqueue.meta.dat"), `12\n0,0\n0,${writePos}\n`);
    const log = recordingLogger();
    const q = open({ maxBytesPerFile: 100_000, logger: log });
    q.put(record(100));
    expect(log.lines.some((l) => l.startsWith("WARN"))).toBe(true);
    expect(readAll(q).map(indexOf)).toEqual([...range(0, 20), 100]);
    q.close();
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

// ---- independent implementation of the SPEC byte layout ----------------------
// Segments `<name>.diskqueue.%06d.dat` of records [int32 big-endian len][len bytes];
// metadata `<name>.diskqueue.meta.dat` = "<depth>\n<rfn>,<rpos>\n<wfn>,<wpos>\n".

function segName(d: string, name: string, n: number): string {
  return path.join(d, `${name}.diskqueue.${n.toString().padStart(6, "0")}.dat`);
}

function independentRead(d: string, name: string): { depth: number; records: Uint8Array[] } {
  const lines = nodeFs.readFileSync(path.join(d, `${name}.diskqueue.meta.dat`), "latin1").split("\n");
  const depth = parseInt(lines[0]!, 10);
  const [rfn, rpos] = lines[1]!.split(",").map((x) => parseInt(x, 10)) as [number, number];
  const [wfn, wpos] = lines[2]!.split(",").map((x) => parseInt(x, 10)) as [number, number];
  const records: Uint8Array[] = [];
  for (let n = rfn; n <= wfn; n++) {
    const p = segName(d, name, n);
    if (!nodeFs.existsSync(p)) continue;
    const bytes = nodeFs.readFileSync(p);
    let off = n === rfn ? rpos : 0;
    const end = n === wfn ? wpos : bytes.length;
    while (off < end) {
      const len = (bytes[off]! << 24) | (bytes[off + 1]! << 16) | (bytes[off + 2]! << 8) | bytes[off + 3]!;
      records.push(new Uint8Array(bytes.subarray(off + 4, off + 4 + len)));
      off += 4 + len;
    }
    if (off !== end) throw new Error(`segment ${p} does not end on a record boundary`);
  }
  return { depth, records };
}

/**
 * Writes segments and metadata as the original does: a new segment starts when
 * the next record would not fit in maxBytesPerFile; the first `consumed` records
 * count as read (the segments they emptied are deleted, as the original deletes them).
 */
function independentWrite(d: string, name: string, records: Uint8Array[], maxBytesPerFile: number, consumed: number): void {
  let fileNum = 0;
  let pos = 0;
  let rfn = 0;
  let rpos = 0;
  let chunks: Uint8Array[] = [];
  const flush = () => {
    const all = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      all.set(c, at);
      at += c.length;
    }
    nodeFs.writeFileSync(segName(d, name, fileNum), all);
  };
  records.forEach((r, i) => {
    const total = 4 + r.length;
    if (pos > 0 && pos + total > maxBytesPerFile) {
      flush();
      chunks = [];
      fileNum++;
      pos = 0;
    }
    const head = new Uint8Array(4);
    head[0] = (r.length >>> 24) & 0xff;
    head[1] = (r.length >>> 16) & 0xff;
    head[2] = (r.length >>> 8) & 0xff;
    head[3] = r.length & 0xff;
    chunks.push(head, r);
    if (i < consumed) {
      rfn = fileNum;
      rpos = pos + total;
    }
    pos += total;
  });
  flush();
  // a reader that finished a complete segment has moved on to the next one and deleted it
  if (consumed > 0 && rfn < fileNum && rpos === nodeFs.statSync(segName(d, name, rfn)).size) {
    rfn++;
    rpos = 0;
  }
  for (let n = 0; n < rfn; n++) nodeFs.rmSync(segName(d, name, n));
  nodeFs.writeFileSync(
    path.join(d, `${name}.diskqueue.meta.dat`),
    `${records.length - consumed}\n${rfn},${rpos}\n${fileNum},${pos}\n`,
  );
}
