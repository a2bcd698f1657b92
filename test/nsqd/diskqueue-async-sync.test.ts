// D-BEH-DISKQUEUE, D-BEH-SHUTDOWN, D-BEH-EMPTY: the disk queue's periodic sync
// runs its fsync off the event loop (AppendFile.syncAsync) and writes metadata
// only afterwards. These tests hold the asynchronous fsync open with a fake file
// system over node:fs and check what happens meanwhile: no second sync starts,
// no file is closed under the pending fsync, the metadata never names bytes that
// were not fsynced, and close / roll / empty / delete stay correct.
import * as nodeFs from "node:fs";
import * as path from "node:path";
import { beforeEach, describe, expect, test } from "vitest";
import { DiskQueue, parseDiskQueueMeta, type DiskQueueOptions } from "../../src/nsqd/diskqueue.ts";
import { createNodeFileSystem } from "../../src/runtime/node-fs.ts";
import type { AppendFile, FileSystem } from "../../src/runtime/types.ts";
import { recordingLogger, useTempDir } from "./helpers.ts";

const MIN = 26;
const MAX = 1024 + 26;

const tempDir = useTempDir("nsq-dqa-");
let dir: string;
beforeEach(() => {
  dir = tempDir();
});


interface PendingSync {
  path: string;
  /** Size of the file when the fsync was asked (what it makes durable). */
  size: number;
  resolve(): void;
  reject(err: Error): void;
}

/**
 * node:fs with a hand-driven syncAsync. Tracks, per path, how many bytes are
 * known to be durable (fsynced), every metadata write, and every violation:
 * a close or a second fsync while one is pending.
 */
function controlledFs() {
  const base = createNodeFileSystem();
  const pending: PendingSync[] = [];
  const durable = new Map<string, number>();
  const violations: string[] = [];
  const metas: string[] = [];
  let syncCalls = 0;
  let asyncCalls = 0;
  let closesDeferredOk = 0;
  const fs: FileSystem = {
    ...base,
    openAppend(p: string): AppendFile {
      const f = base.openAppend(p);
      const mine = () => pending.filter((x) => x.path === p);
      const file: AppendFile = {
        write: (b) => f.write(b),
        sync: () => {
          syncCalls++;
          f.sync();
          durable.set(p, f.size());
        },
        syncAsync: () => {
          asyncCalls++;
          if (pending.length > 0) violations.push(`second asynchronous fsync of ${path.basename(p)} while one is pending`);
          const size = f.size();
          return new Promise<void>((resolve, reject) => {
            const entry: PendingSync = {
              path: p,
              size,
              resolve: () => {
                pending.splice(pending.indexOf(entry), 1);
                f.sync();
                durable.set(p, Math.max(durable.get(p) ?? 0, size));
                resolve();
              },
              reject: (err) => {
                pending.splice(pending.indexOf(entry), 1);
                reject(err);
              },
            };
            pending.push(entry);
          });
        },
        close: () => {
          if (mine().length > 0) violations.push(`close of ${path.basename(p)} under a pending fsync`);
          else closesDeferredOk++;
          f.close();
        },
        size: () => f.size(),
      };
      return file;
    },
    writeAtomic(p: string, d: string | Uint8Array, m?: number) {
      const text = typeof d === "string" ? d : new TextDecoder().decode(d);
      const meta = parseDiskQueueMeta(text);
      if (meta !== null) {
        // The metadata may only name bytes of the write segment that are fsynced.
        const seg = segPath(meta.writeFileNum);
        if (meta.writePos > 0 && (durable.get(seg) ?? 0) < meta.writePos) {
          violations.push(`metadata names ${meta.writePos} bytes of ${path.basename(seg)}, only ${durable.get(seg) ?? 0} fsynced`);
        }
      }
      metas.push(text);
      base.writeAtomic(p, d, m);
    },
  };
  return {
    fs,
    pending,
    violations,
    metas,
    get syncCalls() {
      return syncCalls;
    },
    get asyncCalls() {
      return asyncCalls;
    },
    get closes() {
      return closesDeferredOk;
    },
  };
}

function segPath(n: number, name = "t"): string {
  return path.join(dir, `${name}.diskqueue.${String(n).padStart(6, "0")}.dat`);
}

function metaFile(name = "t"): string {
  return path.join(dir, `${name}.diskqueue.meta.dat`);
}

function metaText(name = "t"): string {
  return nodeFs.readFileSync(metaFile(name), "utf8");
}

function open(fs: FileSystem, over: Partial<DiskQueueOptions> = {}): DiskQueue {
  return new DiskQueue({
    name: "t",
    dataPath: dir,
    maxBytesPerFile: 1 << 20,
    minMsgSize: MIN,
    maxMsgSize: MAX,
    syncEvery: 3,
    syncTimeoutMs: 60_000,
    fs,
    logger: recordingLogger(),
    ...over,
  });
}

function record(i: number, size = 50): Uint8Array {
  const r = new Uint8Array(size);
  new DataView(r.buffer).setUint32(0, i);
  for (let j = 4; j < size; j++) r[j] = (i * 7 + j) & 0xff;
  return r;
}

function indexOf(r: Uint8Array): number {
  return new DataView(r.buffer, r.byteOffset).getUint32(0);
}

/** Lets promise callbacks (the fsync completion) run. */
async function tick(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

describe("DiskQueue asynchronous sync (D-BEH-DISKQUEUE)", () => {
  test("the fsync runs asynchronously and the metadata is written only after it completed", async () => {
    const c = controlledFs();
    const q = open(c.fs);
    q.put(record(0));
    q.put(record(1));
    q.put(record(2)); // sync due: buffer written, fsync pending
    expect(nodeFs.statSync(segPath(0)).size).toBe(162);
    expect(c.asyncCalls).toBe(1);
    expect(c.syncCalls).toBe(0);
    expect(c.pending.length).toBe(1);
    expect(c.pending[0]!.size).toBe(162);
    expect(c.metas.length).toBe(0);
    expect(nodeFs.existsSync(metaFile())).toBe(false);
    c.pending[0]!.resolve();
    await tick();
    expect(c.metas).toEqual(["3\n0,0\n0,162\n"]);
    expect(metaText()).toBe("3\n0,0\n0,162\n");
    q.close();
    expect(c.violations).toEqual([]);
  });

  test("operations during the fsync do not start a second one; a sync that came due runs after it", async () => {
    const c = controlledFs();
    const q = open(c.fs);
    for (let i = 0; i < 3; i++) q.put(record(i));
    expect(c.asyncCalls).toBe(1);
    // Six more operations: two more syncs come due while the first is pending.
    for (let i = 3; i < 7; i++) q.put(record(i));
    expect(indexOf(q.readNext()!)).toBe(0);
    expect(indexOf(q.readNext()!)).toBe(1);
    expect(c.asyncCalls).toBe(1);
    expect(c.metas.length).toBe(0);
    // The metadata names the state at the start of the fsync, not later bytes.
    c.pending[0]!.resolve();
    await tick();
    expect(c.metas[0]).toBe("3\n0,0\n0,162\n");
    // The sync that came due started right after, with the state as it is now.
    expect(c.asyncCalls).toBe(2);
    expect(c.pending.length).toBe(1);
    expect(c.pending[0]!.size).toBe(7 * 54);
    c.pending[0]!.resolve();
    await tick();
    expect(metaText()).toBe(`5\n0,108\n0,${7 * 54}\n`);
    expect(c.asyncCalls).toBe(2);
    q.close();
    expect(c.violations).toEqual([]);
  });

  test("close() while an fsync is pending: synchronous and complete, the file closed only when the fsync settles", async () => {
    const c = controlledFs();
    const q = open(c.fs);
    for (let i = 0; i < 5; i++) q.put(record(i));
    expect(c.pending.length).toBe(1);
    q.close();
    // close() fsynced and wrote the metadata itself, covering all five records.
    expect(c.syncCalls).toBe(1);
    expect(metaText()).toBe(`5\n0,0\n0,${5 * 54}\n`);
    expect(c.closes).toBe(0); // the segment is still open under the pending fsync
    c.pending[0]!.resolve();
    await tick();
    expect(c.closes).toBe(1);
    // The older metadata captured at the start of the fsync is not written over the newer.
    expect(metaText()).toBe(`5\n0,0\n0,${5 * 54}\n`);
    expect(c.metas.length).toBe(1);
    expect(c.violations).toEqual([]);

    const q2 = open(createNodeFileSystem());
    for (let i = 0; i < 5; i++) expect(indexOf(q2.readNext()!)).toBe(i);
    expect(q2.readNext()).toBeNull();
    q2.close();
  });

  test("a segment roll while an fsync is pending: the old segment is closed after the fsync, no stale metadata", async () => {
    const c = controlledFs();
    // 54-byte frames; the fourth does not fit in 200 bytes: a roll.
    const q = open(c.fs, { maxBytesPerFile: 200 });
    for (let i = 0; i < 3; i++) q.put(record(i));
    expect(c.pending.length).toBe(1);
    q.put(record(3)); // rolls to segment 1 synchronously
    expect(c.syncCalls).toBe(1);
    expect(metaText()).toBe("3\n0,0\n1,0\n");
    expect(c.closes).toBe(0);
    c.pending[0]!.resolve();
    await tick();
    expect(c.closes).toBe(1);
    expect(metaText()).toBe("3\n0,0\n1,0\n"); // not "3\n0,0\n0,162\n"
    q.close();
    expect(metaText()).toBe("4\n0,0\n1,54\n");
    expect(c.violations).toEqual([]);
    const q2 = open(createNodeFileSystem());
    for (let i = 0; i < 4; i++) expect(indexOf(q2.readNext()!)).toBe(i);
    q2.close();
  });

  test("empty() while an fsync is pending: no metadata comes back afterwards", async () => {
    const c = controlledFs();
    const q = open(c.fs);
    for (let i = 0; i < 5; i++) q.put(record(i));
    expect(c.pending.length).toBe(1);
    q.empty();
    expect(q.depth()).toBe(0);
    expect(nodeFs.readdirSync(dir)).toEqual([]);
    c.pending[0]!.resolve();
    await tick();
    expect(nodeFs.readdirSync(dir)).toEqual([]);
    expect(c.metas.length).toBe(0);
    expect(c.closes).toBe(1);
    // The queue goes on working after the empty.
    q.put(record(9));
    expect(indexOf(q.readNext()!)).toBe(9);
    q.close();
    expect(c.violations).toEqual([]);
  });

  test("delete() while an fsync is pending: files gone, the segment closed after the fsync, nothing rewritten", async () => {
    const c = controlledFs();
    const q = open(c.fs);
    for (let i = 0; i < 4; i++) q.put(record(i));
    q.delete();
    expect(nodeFs.readdirSync(dir)).toEqual([]);
    expect(c.closes).toBe(0);
    c.pending[0]!.resolve();
    await tick();
    expect(c.closes).toBe(1);
    expect(nodeFs.readdirSync(dir)).toEqual([]);
    expect(c.violations).toEqual([]);
  });

  test("a failed asynchronous fsync is logged, writes no metadata, and the next sync is synchronous", async () => {
    const c = controlledFs();
    const log = recordingLogger();
    const q = open(c.fs, { logger: log });
    for (let i = 0; i < 3; i++) q.put(record(i));
    c.pending[0]!.reject(new Error("EIO: i/o error, fsync"));
    await tick();
    expect(log.lines.some((l) => l.startsWith("ERROR") && l.includes("EIO") && l.includes("failed to sync"))).toBe(true);
    expect(c.metas.length).toBe(0);
    expect(c.closes).toBe(0); // kept open: the retry fsyncs it again
    for (let i = 3; i < 6; i++) q.put(record(i)); // the next sync: synchronous
    expect(c.syncCalls).toBe(1);
    expect(c.asyncCalls).toBe(1);
    expect(metaText()).toBe(`6\n0,0\n0,${6 * 54}\n`);
    // After a successful synchronous retry, syncs are asynchronous again.
    for (let i = 6; i < 9; i++) q.put(record(i));
    expect(c.asyncCalls).toBe(2);
    c.pending[0]!.resolve();
    await tick();
    expect(metaText()).toBe(`9\n0,0\n0,${9 * 54}\n`);
    q.close();
    expect(c.violations).toEqual([]);
    const q2 = open(createNodeFileSystem());
    for (let i = 0; i < 9; i++) expect(indexOf(q2.readNext()!)).toBe(i);
    expect(q2.readNext()).toBeNull();
    q2.close();
  });

  test("a failed asynchronous fsync is retried on the timer when no operation follows", async () => {
    const c = controlledFs();
    const q = open(c.fs, { syncTimeoutMs: 20 });
    for (let i = 0; i < 3; i++) q.put(record(i));
    c.pending[0]!.reject(new Error("EIO"));
    await tick();
    expect(c.metas.length).toBe(0);
    await new Promise((r) => setTimeout(r, 80));
    expect(c.syncCalls).toBe(1);
    expect(metaText()).toBe("3\n0,0\n0,162\n");
    q.close();
    expect(c.violations).toEqual([]);
  });

  test("the --sync-timeout timer starts an asynchronous sync; metadata after it completes", async () => {
    const c = controlledFs();
    const q = open(c.fs, { syncEvery: 1000, syncTimeoutMs: 20 });
    q.put(record(0));
    await new Promise((r) => setTimeout(r, 60));
    expect(c.asyncCalls).toBe(1);
    expect(c.metas.length).toBe(0);
    c.pending[0]!.resolve();
    await tick();
    expect(metaText()).toBe("1\n0,0\n0,54\n");
    q.close();
    expect(c.violations).toEqual([]);
  });

  test("a segment finished by the reader during the fsync drops the captured metadata and syncs again", async () => {
    const c = controlledFs();
    const q = open(c.fs, { maxBytesPerFile: 200, syncEvery: 5 });
    for (let i = 0; i < 4; i++) q.put(record(i)); // segment 0: records 0-2; the roll syncs it
    expect(c.syncCalls).toBe(1);
    expect(metaText()).toBe("3\n0,0\n1,0\n");
    q.put(record(4)); // fifth operation: asynchronous sync of segment 1
    expect(c.asyncCalls).toBe(1);
    // The reader empties segment 0, which is deleted, while the fsync is pending.
    for (let i = 0; i < 3; i++) expect(indexOf(q.readNext()!)).toBe(i);
    expect(nodeFs.existsSync(segPath(0))).toBe(false);
    c.pending[0]!.resolve();
    await tick();
    // The captured metadata ("5\n0,0\n1,108\n") named the deleted segment: dropped,
    // and a new sync started with the current positions.
    expect(c.metas).toEqual(["3\n0,0\n1,0\n"]);
    expect(c.asyncCalls).toBe(2);
    c.pending[0]!.resolve();
    await tick();
    expect(metaText()).toBe("2\n1,0\n1,108\n");
    q.close();
    expect(c.violations).toEqual([]);
  });
});

describe("DiskQueue asynchronous sync over the real file system", () => {
  test("interleaved puts and reads with a small syncEvery keep order; metadata always names fsynced bytes", async () => {
    const c = controlledFs();
    const q = open(c.fs, { maxBytesPerFile: 4000, syncEvery: 5 });
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 60; round++) {
      for (let k = 0; k < 7; k++) q.put(record(next++, 26 + ((next * 13) % 300)));
      for (let k = 0; k < 5; k++) {
        const r = q.readNext();
        if (r === null) break;
        expect(indexOf(r)).toBe(expected++);
      }
      // Let the pending fsync finish on some rounds only, so syncs overlap rolls and reads.
      if (round % 3 === 0) {
        while (c.pending.length > 0) {
          c.pending[0]!.resolve();
          await tick();
        }
      }
    }
    q.close();
    while (c.pending.length > 0) {
      c.pending[0]!.resolve();
      await tick();
    }
    expect(c.violations).toEqual([]);
    const q2 = open(createNodeFileSystem(), { maxBytesPerFile: 4000 });
    for (let r = q2.readNext(); r !== null; r = q2.readNext()) expect(indexOf(r)).toBe(expected++);
    expect(expected).toBe(next);
    q2.close();
    expect(nodeFs.readdirSync(dir).filter((f) => f.endsWith(".bad"))).toEqual([]);
  });

  test("node's syncAsync fsyncs on the thread pool and the queue reaches the metadata on its own", async () => {
    const fs = createNodeFileSystem();
    const q = open(fs, { syncEvery: 100 });
    for (let i = 0; i < 250; i++) q.put(record(i));
    for (let i = 0; i < 40; i++) expect(indexOf(q.readNext()!)).toBe(i);
    // 290 operations: two syncs, the second started when the first completed.
    for (let i = 0; i < 100 && !(nodeFs.existsSync(metaFile()) && metaText().startsWith("210\n")); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const meta = parseDiskQueueMeta(metaText());
    expect(meta).not.toBeNull();
    expect(meta!.writePos).toBe(250 * 54);
    expect(meta!.depth).toBe(250 - meta!.readPos / 54);
    q.close();
    expect(metaText()).toBe(`210\n0,${40 * 54}\n0,${250 * 54}\n`);
  });
});
