// The side log of deferred and in-flight messages (src/nsqd/side-log.ts) and the
// message store built on it (src/nsqd/message-store.ts): what comes back after
// a restart or a crash, with which due time (D-BEH-DEFER, D-BEH-INFLIGHT).
import * as nodeFs from "node:fs";
import * as path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { SideLog, type SideEntry } from "../../src/nsqd/side-log.ts";
import { MessageStore, SPILL_AFTER_MS, SPILL_WINDOW } from "../../src/nsqd/message-store.ts";
import { Committer } from "../../src/nsqd/commit.ts";
import { Message } from "../../src/nsqd/message.ts";
import { createNodeFileSystem } from "../../src/runtime/node-fs.ts";
import type { AppendFile, FileSystem } from "../../src/runtime/types.ts";
import { silentLogger } from "../../src/common/log.ts";
import { recordingLogger, useTempDir } from "./helpers.ts";

const fs = createNodeFileSystem();
const enc = new TextEncoder();
const dec = new TextDecoder();
const tempDir = useTempDir("nsq-side-");
let dir: string;
beforeEach(() => {
  dir = tempDir();
});

let nextId = 0;
function message(body: string, attempts = 1): Message {
  const id = enc.encode(String(nextId++).padStart(16, "0"));
  return Message.withId(id, enc.encode(body), 1_700_000_000_000_000_000, attempts);
}

function summary(live: Map<string, SideEntry>): string[] {
  return [...live.values()]
    .map((e) =>
      e.kind === "add"
        ? `add ${dec.decode(e.payload.subarray(26))} @${e.due}`
        : `ref ${dec.decode(e.id)} @${e.due} ${e.at === null ? "-" : `${e.at.fileNum}:${e.at.pos}`}`,
    )
    .sort();
}

describe("SideLog", () => {
  it("replays ADD, REF and DEL in order: the latest entry of an id wins, a DEL removes it", () => {
    const log = new SideLog(path.join(dir, "q.diskqueue.deferred.dat"), fs, silentLogger, null);
    const a = message("a");
    const b = message("b");
    log.add(a, 1000, true);
    log.add(b, 2000, false);
    log.ref(enc.encode("cccccccccccccccc"), 3000, { fileNum: 2, pos: 40 }, true);
    log.ref(enc.encode("dddddddddddddddd"), 4000, null, true);
    expect(log.flush()).toEqual({ dropped: 0, error: null });
    log.del(a);
    log.add(a, 5000, true); // deferred again later
    log.del(b);
    log.flush();
    log.close();
    const live = new SideLog(path.join(dir, "q.diskqueue.deferred.dat"), fs, silentLogger, null).load();
    expect(summary(live)).toEqual(["add a @5000", "ref cccccccccccccccc @3000 2:40", "ref dddddddddddddddd @4000 -"]);
    const add = [...live.values()].find((e) => e.kind === "add")!;
    expect(add.kind === "add" && dec.decode(add.payload.subarray(10, 26))).toBe(dec.decode(a.id));
  });

  it("a torn tail (a crash in the middle of a write) is ignored with a warning; the entries before it count", () => {
    const p = path.join(dir, "q.diskqueue.deferred.dat");
    const log = new SideLog(p, fs, silentLogger, null);
    log.add(message("a"), 1, true);
    log.add(message("b"), 2, true);
    log.flush();
    log.close();
    nodeFs.appendFileSync(p, new Uint8Array([0, 0, 0, 90, 1, 2, 3]));
    const warn = recordingLogger();
    expect(summary(new SideLog(p, fs, warn, null).load())).toEqual(["add a @1", "add b @2"]);
    expect(warn.lines.some((l) => l.startsWith("WARN"))).toBe(true);
  });

  it("a file that is not a side log is ignored", () => {
    const p = path.join(dir, "q.diskqueue.deferred.dat");
    nodeFs.writeFileSync(p, "something else");
    const log = recordingLogger();
    expect(new SideLog(p, fs, log, null).load().size).toBe(0);
    expect(log.lines.some((l) => l.startsWith("ERROR"))).toBe(true);
  });

  it("a failed write is cut back: kept entries stay buffered for the next flush, fresh ones are dropped", () => {
    const base = createNodeFileSystem();
    let failing = false;
    const failingFs: FileSystem = {
      ...base,
      openAppend(p: string): AppendFile {
        const f = base.openAppend(p);
        return {
          write(b) {
            if (failing) {
              f.write(b.subarray(0, 5));
              throw new Error("ENOSPC: no space left on device, write");
            }
            return f.write(b);
          },
          sync: () => f.sync(),
          truncate: (n) => f.truncate(n),
          close: () => f.close(),
          size: () => f.size(),
        };
      },
    };
    const p = path.join(dir, "q.diskqueue.deferred.dat");
    const log = new SideLog(p, failingFs, silentLogger, null);
    log.add(message("first"), 1, true);
    log.flush();
    const size = nodeFs.statSync(p).size;
    log.add(message("kept"), 2, true);
    log.add(message("fresh"), 3, false);
    failing = true;
    expect(log.flush()).toMatchObject({ dropped: 1 });
    expect(log.stuck()).toBe(true);
    expect(nodeFs.statSync(p).size).toBe(size);
    failing = false;
    expect(log.flush()).toEqual({ dropped: 0, error: null });
    log.close();
    expect(summary(new SideLog(p, fs, silentLogger, null).load())).toEqual(["add first @1", "add kept @2"]);
  });

  it("rewrite replaces the whole file; with no entries the file goes", () => {
    const p = path.join(dir, "q.diskqueue.deferred.dat");
    const log = new SideLog(p, fs, silentLogger, null);
    log.add(message("old"), 1, true);
    log.flush();
    log.rewrite([{ kind: "ref", due: 9, id: enc.encode("eeeeeeeeeeeeeeee"), at: { fileNum: 0, pos: 0 } }]);
    expect(summary(new SideLog(p, fs, silentLogger, null).load())).toEqual(["ref eeeeeeeeeeeeeeee @9 0:0"]);
    log.rewrite([]);
    expect(nodeFs.existsSync(p)).toBe(false);
  });
});

describe("MessageStore: deferred and in-flight messages survive restarts and crashes", () => {
  function store(
    memQueueSize: number,
    committer = new Committer({ fsyncBeforeAck: false, syncTimeoutMs: 0, logger: silentLogger, onHealth() {} }),
  ): { s: MessageStore; c: Committer } {
    const s = new MessageStore(
      {
        name: "t:c",
        dataPath: dir,
        maxBytesPerFile: 1 << 20,
        minMsgSize: 26,
        maxMsgSize: 1 << 16,
        syncEvery: 2500,
        fs,
        logger: silentLogger,
      },
      memQueueSize,
      committer,
      silentLogger,
    );
    return { s, c: committer };
  }

  function restored(s: MessageStore): Array<{ body: string; due: number }> {
    const out: Array<{ body: string; due: number }> = [];
    s.load((m, due) => out.push({ body: dec.decode(m.body), due }));
    return out.sort((a, b) => a.body.localeCompare(b.body));
  }

  function takeAll(s: MessageStore): string[] {
    const out: string[] = [];
    for (let m = s.take(); m !== null; m = s.take()) {
      out.push(dec.decode(m.body));
      s.release(m);
    }
    return out;
  }

  it("with --mem-queue-size=0 a deferral is in the side log as soon as it is written: after a crash it comes back with its due time, and its old record is not delivered", () => {
    const { s, c } = store(0);
    for (const b of ["a", "b", "c"]) s.push(message(b), false);
    c.commit();
    const m = s.take()!;
    expect(dec.decode(m.body)).toBe("a");
    s.defer(m, 123_456, false); // REQ with a delay
    c.commit();
    // crash: no close; the read position in the metadata never passed "a"
    const { s: again } = store(0);
    expect(restored(again)).toEqual([{ body: "a", due: 123_456 }]);
    expect(takeAll(again)).toEqual(["b", "c"]);
  });

  it("at shutdown deferred messages go to the queue (the original reads them) with REF entries that bring their due times back", () => {
    const { s, c } = store(10);
    const d1 = message("d1");
    const d2 = message("d2");
    d1.due = 5_000;
    d2.due = 6_000;
    s.push(message("plain"), false);
    c.commit();
    expect(s.close([], [d1, d2])).toBe(0);
    const { s: again } = store(10);
    expect(restored(again)).toEqual([
      { body: "d1", due: 5_000 },
      { body: "d2", due: 6_000 },
    ]);
    // their copies in the queue are skipped: they are deferred in memory again
    expect(takeAll(again)).toEqual(["plain"]);
  });

  it("a REF whose copy another run already read (the original took over) is dropped", () => {
    const { s } = store(10);
    const d = message("d");
    d.due = 5_000;
    s.close([], [d]);
    const { s: other } = store(10);
    other.load(null); // a topic-like reader: due times by id, applied when read
    const m = other.take()!;
    expect(dec.decode(m.body)).toBe("d");
    expect(m.deferMs).toBe(0); // long past due
    other.release(m);
    other.close([], []);
    const { s: third } = store(10);
    expect(restored(third)).toEqual([]);
  });

  it(`an in-flight message read from disk that holds the read position for ${SPILL_AFTER_MS} ms moves to the side log`, () => {
    const { s, c } = store(0);
    const n = SPILL_WINDOW + 50;
    for (let i = 0; i < n; i++) s.push(message(`m${i}`), false);
    c.commit();
    const slow = s.take()!;
    slow.deliveredAt = Date.now() - SPILL_AFTER_MS - 1;
    s.track(slow);
    for (let i = 1; i < n; i++) {
      const m = s.take()!;
      m.deliveredAt = Date.now();
      s.release(m); // finished at once
    }
    expect(s.disk!.unsettled()).toBe(n);
    s.spill(Date.now(), () => true);
    c.commit();
    expect(s.disk!.unsettled()).toBe(0);
    s.disk!.syncNow();
    // crash: the slow one comes back from the side log (due at once), nothing else
    const { s: again } = store(0);
    expect(restored(again)).toEqual([{ body: "m0", due: 0 }]);
    expect(takeAll(again)).toEqual([]);
  });

  it("a requeued record is settled only once its new copy is written", () => {
    const { s, c } = store(0);
    s.push(message("x"), false);
    c.commit();
    const m = s.take()!;
    s.requeue(m);
    expect(s.disk!.unsettled()).toBe(1);
    c.commit();
    expect(s.disk!.unsettled()).toBe(0);
    expect(takeAll(s)).toEqual(["x"]);
  });

  it("the side log is compacted to its live entries once it has grown past 1 MiB", () => {
    const { s, c } = store(0);
    const live = new Map<string, Message>();
    s.setOwner({ storeWritten() {}, sideMessages: () => [...live.values()].map((m) => ({ message: m, due: m.due })) });
    const p = path.join(dir, "t:c.diskqueue.deferred.dat");
    const body = "x".repeat(1000);
    // 3000 deferrals of 1 KB that come due again: about 3 MB of ADD and DEL entries
    for (let i = 0; i < 3000; i++) {
      const m = message(`${i}:${body}`);
      m.due = 1_000 + i;
      s.defer(m, m.due, false);
      live.set(m.key, m);
      c.commit();
      if (i % 10 !== 0) {
        live.delete(m.key);
        s.undefer(m);
        c.commit();
      }
    }
    expect(nodeFs.statSync(p).size).toBeLessThan(1.5 * 1024 * 1024);
    const { s: again } = store(0);
    const back = restored(again);
    expect(back.length).toBe(300);
    expect(back.map((x) => Number(x.body.split(":")[0])).sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, k) => k * 10));
  });
});
