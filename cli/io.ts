// Text output for the CLI over the runtime's byte writers. Writes are chained so
// they reach the stream in call order, and flush() lets the entry point wait for
// the last byte before it exits.
import type { Runtime } from "../src/runtime/types.ts";

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Resolves when everything written so far has been accepted. */
  flush(): Promise<void>;
}

export function runtimeIo(runtime: Runtime): CliIo {
  const encoder = new TextEncoder();
  let pending: Promise<void> = Promise.resolve();
  const enqueue = (write: (bytes: Uint8Array) => Promise<void>, text: string) => {
    const bytes = encoder.encode(text);
    pending = pending.then(() => write(bytes)).catch(() => {});
  };
  return {
    out: (text) => enqueue((b) => runtime.stdout.write(b), text),
    err: (text) => enqueue((b) => runtime.stderr.write(b), text),
    flush: () => pending,
  };
}

/** Collects output in memory (in-process tests). */
export function memoryIo(): CliIo & { readonly stdout: string; readonly stderr: string } {
  let stdout = "";
  let stderr = "";
  return {
    out(text) {
      stdout += text;
    },
    err(text) {
      stderr += text;
    },
    flush: () => Promise.resolve(),
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
  };
}
