// Process-level pieces over node:process / node:os / node:stream.
import * as os from "node:os";
import process from "node:process";
import { Readable } from "node:stream";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import type { ByteWriter, MemoryUsage, SignalName } from "./types.ts";

export function nodeOnSignal(signal: SignalName, handler: () => void): () => void {
  process.on(signal, handler);
  return () => {
    process.off(signal, handler);
  };
}

export function nodeExit(code: number): never {
  process.exit(code);
}

export const nodeHostname = (): string => os.hostname();

export function nodeMemoryUsage(): MemoryUsage {
  const m = process.memoryUsage();
  return { rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external };
}

let collect: (() => void) | null = null;

/**
 * V8's full collection, reached without --expose-gc: the flag is turned on
 * for a moment and a new context hands out its `gc` function (V8 also returns
 * freed pages to the system on a full collection). Node and Deno alike;
 * Bun under this adapter has its own collector call.
 */
export function nodeFreeMemory(): void {
  if (collect === null) {
    const exposed = (globalThis as { gc?: unknown }).gc;
    if (typeof exposed === "function") collect = exposed as () => void;
    else {
      try {
        v8.setFlagsFromString("--expose-gc");
        collect = vm.runInNewContext("gc") as () => void;
        v8.setFlagsFromString("--no-expose-gc");
      } catch {
        // Bun running this adapter: node:v8 takes no flags there, Bun.gc collects.
        const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
        collect = bun !== undefined ? () => bun.gc(true) : () => {};
      }
    }
  }
  collect();
}

export function nodeStdin(): ReadableStream<Uint8Array> {
  return Readable.toWeb(process.stdin) as unknown as ReadableStream<Uint8Array>;
}

function isPipeGone(err: unknown): boolean {
  const c = (err as { code?: string } | null)?.code;
  return c === "EPIPE" || c === "ERR_STREAM_DESTROYED" || c === "ECONNRESET";
}

/**
 * A ByteWriter over a node stream (process.stdout / process.stderr). When the
 * reader has gone (EPIPE, e.g. `| head`), the process exits 0 quietly, as
 * shell tools do; Node ignores SIGPIPE, so the failure arrives as an error.
 */
const watched = new WeakSet<NodeJS.WriteStream>();

export function nodeByteWriter(stream: NodeJS.WriteStream): ByteWriter {
  // One listener per stream, however many runtimes a process creates (tests create several).
  if (!watched.has(stream)) {
    watched.add(stream);
    stream.on("error", (err) => {
      if (isPipeGone(err)) process.exit(0);
      throw err;
    });
  }
  return {
    write: (bytes) =>
      new Promise<void>((resolve, reject) => {
        stream.write(bytes, (err) => {
          if (!err) resolve();
          else if (isPipeGone(err)) process.exit(0);
          else reject(err);
        });
      }),
  };
}
