// The FileSystem interface over node:fs (synchronous calls), and the data
// directory lock shared by every adapter.
import * as fs from "node:fs";
import * as path from "node:path";
import * as os from "node:os";
import type { AppendFile, DirectoryLock, FileSystem, ReadFile } from "./types.ts";
import { lockedMessage, randomHex } from "./shared.ts";

/**
 * A kernel lock on a directory where the runtime can take one: returns a
 * release function, or null when the directory is locked by someone else.
 */
export type DirectoryFlock = (dir: string) => (() => void) | null;

export const LOCK_FILE_NAME = ".nsq.lock";

function code(err: unknown): string | undefined {
  return (err as { code?: string } | null)?.code;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return code(err) === "EPERM"; // exists, owned by another user
  }
}

/**
 * Data directory lock (D-BEH-DATALOCK).
 *
 * The original takes a non-blocking flock(2) on the directory. Node has no
 * flock, and a lock must exclude every instance whatever runtime runs it, so
 * the common mechanism is a lock file, `<dir>/.nsq.lock`, holding
 * "<pid> <hostname>":
 * - it is created complete and atomically: written to a temporary file, then
 *   hard-linked to the lock name (link(2) fails if the name exists), so no
 *   reader ever sees a half-written lock;
 * - a lock whose pid is dead on this host is stale (the holder crashed) and is
 *   replaced; a live pid, our own pid included, or a lock from another host
 *   means "in use";
 * - release removes the file only if it still holds our token.
 * Where the runtime offers flock (Bun through bun:ffi, Deno through
 * FsFile.tryLockSync), `flock` is also taken on the directory itself, first,
 * which additionally excludes the original Go nsqd.
 * Known limits: a stale lock whose pid was reused by an unrelated live
 * process reads as "in use" (remove the file by hand; the error names it), and
 * two processes replacing the same stale lock at the same instant can race.
 */
export function lockDirectory(dir: string, flock?: DirectoryFlock): DirectoryLock {
  const abs = path.resolve(dir);
  let unflock: (() => void) | null = null;
  if (flock) {
    unflock = flock(abs);
    if (unflock === null) throw new Error(lockedMessage(abs, "flock held by another process"));
  }
  try {
    const release = takeLockFile(abs);
    let released = false;
    return {
      release() {
        if (released) return;
        released = true;
        release();
        unflock?.();
      },
    };
  } catch (err) {
    unflock?.();
    throw err;
  }
}

function takeLockFile(dir: string): () => void {
  const lockPath = path.join(dir, LOCK_FILE_NAME);
  const host = os.hostname();
  const token = `${process.pid} ${host}\n`;
  const tmp = path.join(dir, `${LOCK_FILE_NAME}.${randomHex()}.tmp`);
  fs.writeFileSync(tmp, token, { mode: 0o644 });
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        fs.linkSync(tmp, lockPath);
        return () => {
          try {
            if (fs.readFileSync(lockPath, "utf8") === token) fs.unlinkSync(lockPath);
          } catch {
            // already gone
          }
        };
      } catch (err) {
        if (code(err) !== "EEXIST") throw err;
      }
      let content: string;
      try {
        content = fs.readFileSync(lockPath, "utf8");
      } catch (err) {
        if (code(err) === "ENOENT") continue; // released meanwhile
        throw err;
      }
      const [pidText, holderHost] = content.trim().split(" ");
      const pid = Number(pidText);
      const stale = Number.isInteger(pid) && pid > 0 && holderHost === host && pid !== process.pid && !pidAlive(pid);
      if (!stale) {
        throw new Error(lockedMessage(dir, `${lockPath} held by pid ${pidText ?? "?"} on ${holderHost ?? "?"}`));
      }
      try {
        fs.unlinkSync(lockPath);
      } catch (err) {
        if (code(err) !== "ENOENT") throw err;
      }
    }
    throw new Error(lockedMessage(dir, `${lockPath} keeps changing`));
  } finally {
    try {
      fs.unlinkSync(tmp);
    } catch {
      // ignore
    }
  }
}

class NodeAppendFile implements AppendFile {
  #fd: number;
  #size: number;
  constructor(p: string) {
    this.#fd = fs.openSync(p, "a", 0o644);
    this.#size = fs.fstatSync(this.#fd).size;
  }
  write(bytes: Uint8Array): number {
    let off = 0;
    while (off < bytes.byteLength) {
      const n = fs.writeSync(this.#fd, bytes, off, bytes.byteLength - off);
      off += n;
      // Counted as it goes: when a later call fails (ENOSPC), size() still
      // tells how much reached the file, so the caller can cut it back.
      this.#size += n;
    }
    return off;
  }
  sync(): void {
    fs.fsyncSync(this.#fd);
  }
  syncAsync(): Promise<void> {
    // fs.fsync runs on the libuv thread pool (Bun: its own pool).
    return new Promise((resolve, reject) => {
      fs.fsync(this.#fd, (err) => (err ? reject(err) : resolve()));
    });
  }
  truncate(size: number): void {
    fs.ftruncateSync(this.#fd, size);
    this.#size = size;
  }
  close(): void {
    fs.closeSync(this.#fd);
  }
  size(): number {
    return this.#size;
  }
}

class NodeReadFile implements ReadFile {
  #fd: number;
  constructor(p: string) {
    this.#fd = fs.openSync(p, "r");
  }
  read(into: Uint8Array, position: number): number {
    return fs.readSync(this.#fd, into, 0, into.byteLength, position);
  }
  size(): number {
    return fs.fstatSync(this.#fd).size;
  }
  close(): void {
    fs.closeSync(this.#fd);
  }
}

export function writeAtomicNode(p: string, data: string | Uint8Array, mode?: number): void {
  const tmp = `${p}.${randomHex()}.tmp`;
  const fd = fs.openSync(tmp, "w", mode ?? 0o644);
  try {
    if (mode !== undefined) fs.fchmodSync(fd, mode); // not narrowed by the umask
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    let off = 0;
    while (off < bytes.byteLength) off += fs.writeSync(fd, bytes, off, bytes.byteLength - off);
    fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(tmp, p);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

export async function writeAtomicNodeAsync(p: string, data: string | Uint8Array, mode?: number): Promise<void> {
  const tmp = `${p}.${randomHex()}.tmp`;
  const handle = await fs.promises.open(tmp, "w", mode ?? 0o644);
  try {
    if (mode !== undefined) await handle.chmod(mode);
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await fs.promises.rename(tmp, p);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
}

/** node:fs errors carry Node's `code` ("ENOENT", "EEXIST", ...) already. */
export function createNodeFileSystem(flock?: DirectoryFlock): FileSystem {
  return {
    openAppend: (p) => new NodeAppendFile(p),
    openRead: (p) => new NodeReadFile(p),
    exists: (p) => fs.existsSync(p),
    sizeOf: (p) => fs.statSync(p, { throwIfNoEntry: false })?.size ?? -1,
    readText: (p) => fs.readFileSync(p, "utf8"),
    readBytes: (p) => {
      const b = fs.readFileSync(p);
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    },
    writeAtomic: writeAtomicNode,
    writeAtomicAsync: writeAtomicNodeAsync,
    truncate: (p, size) => fs.truncateSync(p, size),
    syncDirectory: async (p) => {
      const handle = await fs.promises.open(p, "r");
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    },
    rename: (from, to) => fs.renameSync(from, to),
    unlink: (p) => fs.rmSync(p, { force: true }),
    list: (dir) => fs.readdirSync(dir),
    mkdir: (p, mode) => {
      fs.mkdirSync(p, { recursive: true, mode: mode ?? 0o755 });
    },
    removeTree: (p) => fs.rmSync(p, { recursive: true, force: true }),
    lockDirectory: (dir) => lockDirectory(dir, flock),
    resolve: (p) => path.resolve(p),
    link: (existing, newPath) => fs.linkSync(existing, newPath),
  };
}
