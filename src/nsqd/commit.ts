// When records reach the disk, and when a publish may be answered.
//
// nsqd answers PUB / MPUB / DPUB with OK only once every record the command
// stored on disk has been handed to the operating system (a write call
// returned), and with --sync-every=1 once it has also been fsynced. To keep
// that cheap the Committer groups the work:
//
// - Stores (message-store.ts) buffer records during a turn of the event loop
//   and say so (dirty). At the end of the turn (setImmediate: after every
//   socket read of that turn was handled) each dirty store writes its buffers,
//   one write call per segment, whatever the number of connections and
//   commands behind them.
// - A publish that buffered records for the disk gets the turn's Generation;
//   its connection holds the OK (and everything after it) until the
//   generation settles: right after the writes, or, with --sync-every=1,
//   after the next fsync round that began after them (group commit: one fsync
//   per file for every record waiting at that moment). A failed write or fsync
//   fails the generation: its publishes get E_PUB_FAILED / E_MPUB_FAILED /
//   E_DPUB_FAILED (HTTP 500) and /ping says NOK.
// - Fsync rounds also serve --sync-every=N, --sync-timeout and segment rolls:
//   the queues that want a sync, and every file with unsynced writes, are
//   fsynced together, then each queue's metadata is written (off the event
//   loop) and the segments it no longer names are deleted. A queue whose
//   records have copies waiting for a failed write (a topic's channel, or the
//   queue itself) keeps its old metadata and segments meanwhile (see
//   MessageStore.mayRelease), so nothing names as read a record whose only
//   other copy is in memory.
// - After a failed write the records that must be kept (messages already
//   acknowledged) stay buffered and are retried on a timer; when the disk
//   takes them again, health returns to OK and delivery resumes.
import type { Logger } from "../common/log.ts";

/** A store that buffers records during a turn. */
export interface Committable {
  /** Writes what is buffered; the error when a write failed. */
  commit(): Error | null;
  /** Records that must be kept wait for a write that failed. */
  stuck(): boolean;
}

/** A file (queue or side log) that is fsynced in rounds. */
export interface Syncable {
  /** Starts the fsync of what was written (and captures the metadata to write after it). */
  syncBegin(): Promise<void>;
  /** The round's fsyncs all succeeded: write what syncBegin captured. */
  syncEnd(): void;
  unsynced(): boolean;
  /** Written or read since the last sync (the --sync-timeout timer syncs these). */
  active(): boolean;
}

export interface AckListener {
  ackSettled(gen: Generation): void;
}

/** The publishes of one turn whose records went to disk: they are answered together. */
export class Generation {
  /** The error text when a write or fsync failed, else null. */
  failed: string | null = null;
  settled = false;
  #listeners: AckListener[] = [];
  #waiters: Array<() => void> = [];

  listen(listener: AckListener): void {
    this.#listeners.push(listener);
  }

  /** Resolves once settled (then read `failed`). */
  wait(): Promise<void> {
    if (this.settled) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  fail(error: string): void {
    this.failed ??= error;
  }

  settle(): void {
    if (this.settled) return;
    this.settled = true;
    const listeners = this.#listeners;
    const waiters = this.#waiters;
    this.#listeners = [];
    this.#waiters = [];
    for (const l of listeners) l.ackSettled(this);
    for (const w of waiters) w();
  }
}

export interface CommitterOptions {
  /** --sync-every=1 (or 0): a publish is answered only after its records were fsynced. */
  fsyncBeforeAck: boolean;
  /** --sync-timeout: queues with activity are synced at this interval. */
  syncTimeoutMs: number;
  logger: Logger;
  /** Health changes (D-BEH-HEALTH): the error text, or null when writes succeed again. */
  onHealth(error: string | null): void;
  /** While unhealthy with nothing to retry: try a small write (returns the error or null). */
  probe?(): Error | null;
  /** How long to wait before retrying failed writes (default 250 ms). */
  retryMs?: number;
}

const RETRY_MS = 250;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class Committer {
  readonly fsyncBeforeAck: boolean;
  readonly #o: CommitterOptions;
  readonly #syncables = new Set<Syncable>();
  #dirty = new Set<Committable>();
  readonly #stuck = new Set<Committable>();
  #syncWanted = new Set<Syncable>();
  /** Generations whose records are written and wait for an fsync round. */
  #awaiting: Generation[] = [];
  /** The generation publishes of this turn join. */
  #gen: Generation | null = null;
  #touched = false;
  #scheduled = false;
  #roundRunning = false;
  #roundAgain = false;
  #roundWaiters: Array<() => void> = [];
  #unhealthy = false;
  #syncTimer: ReturnType<typeof setInterval> | null = null;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;
  readonly #onTurnEnd = (): void => {
    this.#scheduled = false;
    this.commit();
  };

  constructor(options: CommitterOptions) {
    this.#o = options;
    this.fsyncBeforeAck = options.fsyncBeforeAck;
  }

  /** Starts the --sync-timeout timer. */
  start(): void {
    if (this.#syncTimer !== null || this.#o.syncTimeoutMs <= 0) return;
    this.#syncTimer = setInterval(() => this.#onSyncTimer(), this.#o.syncTimeoutMs);
    (this.#syncTimer as { unref?: () => void }).unref?.();
  }

  register(s: Syncable): void {
    this.#syncables.add(s);
  }

  unregister(s: Syncable): void {
    this.#syncables.delete(s);
    this.#syncWanted.delete(s);
  }

  // ---- publishes ----------------------------------------------------------------

  /** A store buffered a record of the publish being handled. */
  fresh(): void {
    this.#touched = true;
  }

  /**
   * After a publish was handled: the generation it must wait for when it
   * buffered records for the disk, else null (answer at once).
   */
  endPublish(): Generation | null {
    if (!this.#touched) return null;
    this.#touched = false;
    this.#schedule();
    return (this.#gen ??= new Generation());
  }

  // ---- writes ---------------------------------------------------------------------

  /** `store` buffered records: commit at the end of this turn. */
  dirty(store: Committable): void {
    if (this.#closed) return;
    this.#dirty.add(store);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#closed) return;
    this.#scheduled = true;
    setImmediate(this.#onTurnEnd);
  }

  /** Writes every dirty store now, then settles (or hands to an fsync round) this turn's generation. */
  commit(): void {
    const gen = this.#gen;
    this.#gen = null;
    this.#touched = false;
    let error: string | null = null;
    // A store's owner may buffer more while it is told about its writes (a
    // topic moving messages to its channels): go round until nothing is dirty.
    for (let pass = 0; this.#dirty.size > 0 && pass < 8; pass++) {
      const dirty = this.#dirty;
      this.#dirty = new Set();
      for (const store of dirty) {
        const e = store.commit();
        if (e !== null) error ??= errorText(e);
        if (store.stuck()) this.#stuck.add(store);
        else this.#stuck.delete(store);
      }
    }
    if (this.#dirty.size > 0) this.#schedule();
    if (error !== null) {
      this.#o.logger.error(`failed to write to disk - ${error}`);
      this.#setHealth(error);
      gen?.fail(error);
    } else if (this.#stuck.size === 0 && this.#unhealthy) {
      this.#setHealth(null);
    }
    if (this.#stuck.size > 0) this.#armRetry();
    if (gen !== null) {
      if (this.fsyncBeforeAck && gen.failed === null) {
        this.#awaiting.push(gen);
        this.#round();
      } else {
        gen.settle();
      }
    }
    if (this.#syncWanted.size > 0) this.#round();
  }

  /** `s` wants an fsync + metadata (--sync-every reached, a roll). */
  syncWanted(s: Syncable): void {
    if (this.#closed) return;
    this.#syncWanted.add(s);
    // Rounds start at the end of the turn, after the writes of the turn.
    this.#schedule();
  }

  // ---- fsync rounds -----------------------------------------------------------------

  #round(): void {
    if (this.#closed) return;
    if (this.#roundRunning) {
      this.#roundAgain = true;
      return;
    }
    // Everything buffered so far is written before the round begins.
    if (this.#dirty.size > 0) {
      this.commit();
      if (this.#roundRunning) return;
    }
    const waiting = this.#awaiting;
    this.#awaiting = [];
    const targets: Syncable[] = [];
    for (const s of this.#syncables) if (this.#syncWanted.has(s) || s.unsynced()) targets.push(s);
    this.#syncWanted = new Set();
    if (targets.length === 0) {
      for (const g of waiting) g.settle();
      return;
    }
    this.#roundRunning = true;
    this.#roundAgain = false;
    const results = targets.map((s) =>
      s.syncBegin().then(
        () => null,
        (e: unknown) => errorText(e),
      ),
    );
    void Promise.all(results).then((errors) => {
      this.#roundRunning = false;
      let error: string | null = null;
      for (let i = 0; i < targets.length; i++) {
        if (errors[i] === null) targets[i]!.syncEnd();
        else error ??= errors[i]!;
      }
      if (error !== null) {
        this.#o.logger.error(`failed to sync - ${error}`);
        this.#setHealth(error);
        for (const g of waiting) g.fail(error);
      }
      for (const g of waiting) g.settle();
      const waiters = this.#roundWaiters;
      this.#roundWaiters = [];
      for (const w of waiters) w();
      if (this.#closed) return;
      if (this.#roundAgain || this.#awaiting.length > 0 || this.#syncWanted.size > 0) this.#round();
    });
  }

  #onSyncTimer(): void {
    let any = false;
    for (const s of this.#syncables) {
      if (s.active()) {
        this.#syncWanted.add(s);
        any = true;
      }
    }
    if (any) this.#round();
  }

  // ---- failures ---------------------------------------------------------------------

  get healthy(): boolean {
    return !this.#unhealthy;
  }

  #setHealth(error: string | null): void {
    this.#unhealthy = error !== null;
    this.#o.onHealth(error);
    if (error !== null) this.#armRetry();
  }

  #armRetry(): void {
    if (this.#retryTimer !== null || this.#closed) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#retry();
    }, this.#o.retryMs ?? RETRY_MS);
    (this.#retryTimer as { unref?: () => void }).unref?.();
  }

  /** Tries the stuck stores again; with none, probes the disk while unhealthy. */
  #retry(): void {
    if (this.#closed) return;
    if (this.#stuck.size > 0) {
      for (const s of this.#stuck) this.#dirty.add(s);
      this.commit();
      return;
    }
    if (!this.#unhealthy) return;
    const e = this.#o.probe?.() ?? null;
    if (e === null) this.#setHealth(null);
    else this.#armRetry();
  }

  /**
   * Writes what is buffered and waits (up to `timeoutMs`) until every
   * publish waiting for an fsync round is settled: at shutdown, answers that
   * are due go out before the connections close.
   */
  async drain(timeoutMs = 5_000): Promise<void> {
    this.commit();
    const deadline = Date.now() + timeoutMs;
    while ((this.#roundRunning || this.#awaiting.length > 0) && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.#roundWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Stops the timers; generations still waiting are failed ("exiting"). Stores close themselves (synchronously). */
  close(): void {
    if (this.#closed) return;
    this.commit();
    this.#closed = true;
    if (this.#syncTimer !== null) clearInterval(this.#syncTimer);
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#syncTimer = null;
    this.#retryTimer = null;
    for (const g of this.#awaiting) {
      g.fail("exiting");
      g.settle();
    }
    this.#awaiting = [];
  }
}
