// One topic's output of nsq_to_file (U-FILE-WRITE, -NAME, -ROTATE, -GZIP,
// -WORKDIR, -HUP): messages are appended with a newline and FINed only once
// the file has been synced. With gzip, each sync closes a gzip member, so the
// file is a sequence of members each ending at an acknowledged boundary.
// Compression is pako's zlib port at --gzip-level: CompressionStream (the
// one gzip on all three runtimes) has no level, and node:zlib is runtime code.
import { Deflate, Z_FINISH, Z_NO_FLUSH } from "pako";
import type { Logger } from "../common/log.ts";
import type { AppendFile, Runtime } from "../runtime/types.ts";
import type { Consumer } from "../client/consumer.ts";
import type { Message } from "../client/message.ts";
import { strftime } from "./strftime.ts";

export interface FileLoggerOptions {
  outputDir: string;
  workDir: string;
  datetimeFormat: string;
  /** --filename-format with <TOPIC>, <HOST>, <PID> already replaced (see fileNameFormat). */
  filenameFormat: string;
  gzip: boolean;
  gzipLevel: number;
  skipEmptyFiles: boolean;
  rotateSize: number;
  rotateIntervalMs: number;
  /** Sync once this many messages wait (max_in_flight). */
  maxPending: number;
}

/**
 * U-FILE-NAME: substitute the fixed tokens; keep <REV> only when gzip,
 * rotation or a work dir needs it (else an error), add `.gz` for gzip.
 */
export function fileNameFormat(format: string, t: { topic: string; host: string; pid: number; gzip: boolean; needsRev: boolean }): string {
  let f = format.replaceAll("<TOPIC>", t.topic).replaceAll("<HOST>", t.host).replaceAll("<PID>", String(t.pid));
  if (t.needsRev) {
    if (!f.includes("<REV>")) throw new Error("missing <REV> in --filename-format when gzip, rotation, or work dir enabled");
  } else {
    f = f.replaceAll("<REV>", "");
  }
  if (t.gzip && !f.endsWith(".gz")) f += ".gz";
  return f;
}

function dirOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? (i === 0 ? "/" : ".") : path.slice(0, i);
}

function join(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

const NEWLINE = new Uint8Array([0x0a]);
const EMPTY = new Uint8Array(0);

export class FileLogger {
  readonly topic: string;
  readonly #o: FileLoggerOptions;
  readonly #runtime: Runtime;
  readonly #logger: Logger;
  #consumer: Consumer | null = null;
  #out: AppendFile | null = null;
  /** File name (relative, <REV> still in it) of the open file. */
  #filename = "";
  /** Path of the open file in the work dir. */
  #path = "";
  #rev = 0;
  #openedAt = 0;
  #size = 0;
  /** gzip: the open member; its compressed output is appended to the open file as it comes. */
  #member: Deflate | null = null;
  #pending: Message[] = [];
  #busy: Promise<void> | null = null;
  #closing = false;

  constructor(topic: string, options: FileLoggerOptions, deps: { runtime: Runtime; logger: Logger }) {
    this.topic = topic;
    this.#o = options;
    this.#runtime = deps.runtime;
    this.#logger = deps.logger;
  }

  attach(consumer: Consumer): void {
    this.#consumer = consumer;
  }

  /** The consumer's handler. */
  handle(message: Message): void | Promise<void> {
    message.disableAutoResponse();
    if (this.#busy !== null) return this.#exclusive(() => this.#onMessage(message));
    const r = this.#onMessage(message);
    return r === undefined ? undefined : this.#exclusive(() => r);
  }

  #onMessage(m: Message): void | Promise<void> {
    let sync = false;
    if (this.#needsRotation()) {
      // gzip: the open member belongs to the old file; write it out first.
      if (this.#o.gzip && this.#out !== null && this.#member !== null) return this.#rotateThenWrite(m);
      this.#updateFile();
      sync = true;
    }
    this.#write(m.body);
    this.#write(NEWLINE);
    this.#pending.push(m);
    if (this.#closing || sync || this.#pending.length >= this.#o.maxPending || this.#consumer?.isStarved()) return this.#sync();
  }

  async #rotateThenWrite(m: Message): Promise<void> {
    await this.#sync();
    this.#updateFile();
    this.#write(m.body);
    this.#write(NEWLINE);
    this.#pending.push(m);
    await this.#sync();
  }

  /** Runs `fn` once no other file operation is running. */
  async #exclusive(fn: () => void | Promise<void>): Promise<void> {
    while (this.#busy !== null) await this.#busy;
    let done!: () => void;
    this.#busy = new Promise((r) => (done = r));
    try {
      await fn();
    } finally {
      this.#busy = null;
      done();
    }
  }

  #currentFilename(): string {
    return this.#o.filenameFormat.replaceAll("<DATETIME>", strftime(this.#o.datetimeFormat, new Date()));
  }

  #needsRotation(): boolean {
    if (this.#out === null) return true;
    const name = this.#currentFilename();
    if (name !== this.#filename) {
      this.#logger.info(`[${this.topic}] current filename ${name} != ${this.#filename}, rotating`);
      return true;
    }
    if (this.#o.rotateIntervalMs > 0 && Date.now() - this.#openedAt > this.#o.rotateIntervalMs) {
      this.#logger.info(`[${this.topic}] ${this.#o.rotateIntervalMs} ms since last open, rotating`);
      return true;
    }
    if (this.#o.rotateSize > 0 && this.#size > this.#o.rotateSize) {
      this.#logger.info(`[${this.topic}] ${this.#path} currently ${this.#size} bytes (> ${this.#o.rotateSize}), rotating`);
      return true;
    }
    return false;
  }

  #write(bytes: Uint8Array): void {
    if (this.#o.gzip) {
      if (this.#member === null) this.#member = this.#openMember();
      if (!this.#member.push(bytes, Z_NO_FLUSH)) throw new Error(`gzip failed: ${this.#member.msg || this.#member.err}`);
      return;
    }
    this.#out!.write(bytes);
    this.#size += bytes.length;
  }

  /** A gzip member at --gzip-level writing into the open file. */
  #openMember(): Deflate {
    const member = new Deflate({ gzip: true, level: this.#o.gzipLevel });
    member.onData = (chunk: Uint8Array) => {
      this.#out!.write(chunk);
      this.#size += chunk.length;
    };
    return member;
  }

  /** Close the current file (if any) and open the next one (U-FILE-ROTATE). */
  #updateFile(): void {
    const name = this.#currentFilename();
    if (name !== this.#filename) this.#rev = 0;
    else this.#rev++;
    this.#filename = name;
    this.#openedAt = Date.now();
    this.#closeFileSync();
    const fs = this.#runtime.fs;
    const exclusive = this.#o.gzip || this.#o.rotateIntervalMs > 0;
    for (; ; this.#rev++) {
      const rel = name.replaceAll("<REV>", `-${String(this.#rev).padStart(6, "0")}`);
      const path = join(this.#o.workDir, rel);
      if (this.#o.workDir !== this.#o.outputDir && fs.exists(join(this.#o.outputDir, rel))) continue;
      // Exclusive create: an existing file means "take the next revision".
      if (exclusive && fs.exists(path)) continue;
      fs.mkdir(dirOf(path), 0o770);
      const out = fs.openAppend(path);
      if (this.#o.rotateSize > 0 && out.size() > this.#o.rotateSize) {
        out.close();
        continue;
      }
      this.#logger.info(`[${this.topic}] opening ${path}`);
      this.#out = out;
      this.#path = path;
      this.#size = out.size();
      return;
    }
  }

  /** Write out the gzip member (if any), fsync, FIN what waited for it. */
  async #sync(): Promise<void> {
    if (this.#out !== null) {
      if (this.#member !== null) {
        // Z_FINISH writes the rest of the deflate stream and the gzip trailer.
        const member = this.#member;
        this.#member = null;
        if (!member.push(EMPTY, Z_FINISH)) throw new Error(`gzip failed: ${member.msg || member.err}`);
      }
      this.#out.sync();
    }
    if (this.#pending.length > 0) {
      this.#logger.info(`[${this.topic}] syncing ${this.#pending.length} records to disk`);
      const done = this.#pending;
      this.#pending = [];
      for (const m of done) m.finish();
    }
  }

  /** Close without flushing a gzip member (only called after a sync). Moves work files out. */
  #closeFileSync(): void {
    if (this.#out === null) return;
    this.#out.sync();
    this.#out.close();
    this.#out = null;
    if (this.#o.workDir !== this.#o.outputDir) this.#moveOut(this.#path);
  }

  /** U-FILE-WORKDIR: hard-link into the output dir (never overwriting), then unlink. */
  #moveOut(src: string): void {
    const fs = this.#runtime.fs;
    let rel = src.slice(this.#o.workDir.length).replace(/^\/+/, "");
    for (;;) {
      const dst = join(this.#o.outputDir, rel);
      fs.mkdir(dirOf(dst), 0o770);
      try {
        fs.link(src, dst);
        break;
      } catch (e) {
        if (!fs.exists(dst)) throw e;
        // Taken: bump the revision in the name.
        const m = /-(\d{6})(?!.*-\d{6})/.exec(rel);
        if (m === null) throw e;
        rel = rel.slice(0, m.index) + `-${String(Number(m[1]) + 1).padStart(6, "0")}` + rel.slice(m.index + m[0].length);
      }
    }
    fs.unlink(src);
    this.#logger.info(`[${this.topic}] moved ${src} to ${join(this.#o.outputDir, rel)}`);
  }

  /** The --sync-interval tick: rotate if due, then sync. */
  tick(): Promise<void> {
    return this.#exclusive(async () => {
      if (this.#needsRotation()) {
        await this.#sync();
        if (this.#o.skipEmptyFiles) this.#closeFileSync();
        else this.#updateFile();
      }
      await this.#sync();
    });
  }

  /** SIGHUP / shutdown: sync, FIN and close; the next message opens a file again. */
  close(): Promise<void> {
    return this.#exclusive(async () => {
      await this.#sync();
      this.#closeFileSync();
    });
  }

  /** From now on every message is synced at once (the consumer is stopping). */
  async startClosing(): Promise<void> {
    this.#closing = true;
    await this.#exclusive(() => this.#sync());
  }
}
