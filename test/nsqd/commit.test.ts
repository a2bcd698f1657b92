// The Committer (src/nsqd/commit.ts): when buffered disk writes happen, when a
// publish may be answered (after the write; with --sync-every=1 after a shared
// fsync round), and how failures reach the answers and the health (D-BEH-HEALTH).
import { describe, expect, it } from "vitest";
import { Committer, type Committable, type Generation, type Syncable } from "../../src/nsqd/commit.ts";
import { silentLogger } from "../../src/common/log.ts";

const turn = () => new Promise<void>((r) => setImmediate(r));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until `cond` holds (no fixed waits: timers may run late on a busy machine). */
async function until(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

class FakeStore implements Committable {
  commits = 0;
  error: Error | null = null;
  keep = false;
  commit(): Error | null {
    this.commits++;
    return this.error;
  }
  stuck(): boolean {
    return this.error !== null && this.keep;
  }
}

class FakeFile implements Syncable {
  begun = 0;
  ended = 0;
  dirty = false;
  #pending: Array<{ resolve(): void; reject(e: Error): void }> = [];
  syncBegin(): Promise<void> {
    this.begun++;
    this.dirty = false;
    return new Promise((resolve, reject) => this.#pending.push({ resolve, reject }));
  }
  syncEnd(): void {
    this.ended++;
  }
  unsynced(): boolean {
    return this.dirty;
  }
  active(): boolean {
    return this.dirty;
  }
  /** Completes the oldest fsync under way. */
  finish(error?: Error): void {
    const p = this.#pending.shift()!;
    if (error) p.reject(error);
    else p.resolve();
  }
  get inFlight(): number {
    return this.#pending.length;
  }
}

function committer(over: { fsyncBeforeAck?: boolean; health?: Array<string | null>; probe?: () => Error | null } = {}): Committer {
  const health = over.health ?? [];
  return new Committer({
    fsyncBeforeAck: over.fsyncBeforeAck ?? false,
    syncTimeoutMs: 0,
    logger: silentLogger,
    retryMs: 20,
    onHealth: (e) => health.push(e),
    ...(over.probe ? { probe: over.probe } : {}),
  });
}

describe("Committer: answers wait for the writes of their turn", () => {
  it("a publish that buffered nothing for the disk is answered at once (no generation)", () => {
    const c = committer();
    expect(c.endPublish()).toBeNull();
  });

  it("publishes of one turn share a generation, settled after one commit of every dirty store", async () => {
    const c = committer();
    const a = new FakeStore();
    const b = new FakeStore();
    c.dirty(a);
    c.fresh();
    const g1 = c.endPublish()!;
    c.dirty(b);
    c.dirty(a);
    c.fresh();
    const g2 = c.endPublish()!;
    expect(g2).toBe(g1);
    expect(g1.settled).toBe(false);
    const seen: Generation[] = [];
    g1.listen({ ackSettled: (g) => seen.push(g) });
    await turn();
    expect([a.commits, b.commits]).toEqual([1, 1]);
    expect(g1.settled).toBe(true);
    expect(g1.failed).toBeNull();
    expect(seen).toEqual([g1]);
    c.fresh();
    const g3 = c.endPublish()!;
    expect(g3).not.toBe(g1);
    await turn();
    expect(g3.settled).toBe(true);
  });

  it("a failed write fails the generation, sets the health, and a later successful write clears it", async () => {
    const health: Array<string | null> = [];
    const c = committer({ health });
    const s = new FakeStore();
    s.error = new Error("ENOSPC: no space left on device, write");
    c.dirty(s);
    c.fresh();
    const g = c.endPublish()!;
    await g.wait();
    expect(g.failed).toBe("ENOSPC: no space left on device, write");
    expect(c.healthy).toBe(false);
    expect(health).toEqual(["ENOSPC: no space left on device, write"]);
    s.error = null;
    c.dirty(s);
    await turn();
    expect(c.healthy).toBe(true);
    expect(health.at(-1)).toBeNull();
    c.close();
  });

  it("a store with records that must be kept is retried on a timer until the write succeeds", async () => {
    const health: Array<string | null> = [];
    const c = committer({ health });
    const s = new FakeStore();
    s.error = new Error("EIO");
    s.keep = true;
    c.dirty(s);
    await turn();
    expect(s.commits).toBe(1);
    await until(() => s.commits >= 3, "two retries");
    expect(c.healthy).toBe(false);
    s.error = null;
    await until(() => c.healthy, "a retry that succeeds");
    const after = s.commits;
    await sleep(100);
    expect(s.commits).toBe(after); // nothing left to retry
    c.close();
  });

  it("while unhealthy with nothing to retry, a probe write tells when the disk takes writes again", async () => {
    let probeError: Error | null = new Error("ENOSPC");
    let probes = 0;
    const c = committer({
      probe: () => {
        probes++;
        return probeError;
      },
    });
    const s = new FakeStore();
    s.error = new Error("ENOSPC");
    c.dirty(s);
    await turn();
    expect(c.healthy).toBe(false);
    await until(() => probes >= 2, "probes");
    expect(c.healthy).toBe(false);
    expect(s.commits).toBe(1); // nothing to keep: the store is not retried
    probeError = null;
    await until(() => c.healthy, "a probe that succeeds");
    c.close();
  });
});

describe("Committer with --sync-every=1: answers wait for a shared fsync round (group commit)", () => {
  it("a generation settles only after the fsync of every file written, and one round serves every publish waiting", async () => {
    const c = committer({ fsyncBeforeAck: true });
    const file = new FakeFile();
    c.register(file);
    const s = new FakeStore();
    file.dirty = true;
    c.dirty(s);
    for (let i = 0; i < 50; i++) c.fresh();
    const g = c.endPublish()!;
    await turn();
    expect(file.begun).toBe(1);
    expect(g.settled).toBe(false);
    file.finish();
    await g.wait();
    expect(g.failed).toBeNull();
    expect(file.ended).toBe(1);
  });

  it("publishes written while a round runs wait for the next round, which starts when it completes", async () => {
    const c = committer({ fsyncBeforeAck: true });
    const file = new FakeFile();
    c.register(file);
    file.dirty = true;
    c.dirty(new FakeStore());
    c.fresh();
    const g1 = c.endPublish()!;
    await turn();
    expect(file.begun).toBe(1);
    file.dirty = true;
    c.dirty(new FakeStore());
    c.fresh();
    const g2 = c.endPublish()!;
    await turn();
    expect(file.begun).toBe(1); // one round at a time
    file.finish();
    await g1.wait();
    expect(g2.settled).toBe(false);
    await turn();
    expect(file.begun).toBe(2);
    file.finish();
    await g2.wait();
    expect(g2.failed).toBeNull();
  });

  it("a failed fsync fails the publishes that waited for it and writes no metadata", async () => {
    const health: Array<string | null> = [];
    const c = committer({ fsyncBeforeAck: true, health });
    const file = new FakeFile();
    c.register(file);
    file.dirty = true;
    c.dirty(new FakeStore());
    c.fresh();
    const g = c.endPublish()!;
    await turn();
    file.finish(new Error("EIO: i/o error, fsync"));
    await g.wait();
    expect(g.failed).toBe("EIO: i/o error, fsync");
    expect(file.ended).toBe(0);
    expect(health).toEqual(["EIO: i/o error, fsync"]);
    c.close();
  });

  it("drain() waits until the round under way settled its publishes", async () => {
    const c = committer({ fsyncBeforeAck: true });
    const file = new FakeFile();
    c.register(file);
    file.dirty = true;
    c.dirty(new FakeStore());
    c.fresh();
    const g = c.endPublish()!;
    const drained = c.drain(5_000);
    setTimeout(() => file.finish(), 50);
    await drained;
    expect(g.settled).toBe(true);
  });
});
