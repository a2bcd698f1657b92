// Start the `nsq` CLI as a real process under a chosen runtime:
//   node    node dist/nsq.mjs          (the bundle: ~0.15 s to start; tsx would take ~0.55 s)
//   bun     bun cli/main.ts            (sources)
//   deno    deno run -A cli/main.ts    (sources, deno.json)
//   binary  dist/nsq                   (bun build --compile)
// node and binary need dist/, which the vitest globalSetup (or ensureBuilt) provides.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DIST, ROOT } from "./build.ts";

export type CliRuntime = "node" | "bun" | "deno" | "binary";

export const ALL_RUNTIMES: readonly CliRuntime[] = ["node", "bun", "deno", "binary"];

/** Runtimes to test: all, or NSQ_TEST_RUNTIMES=node,bun. */
export const RUNTIMES: readonly CliRuntime[] = (() => {
  const env = process.env.NSQ_TEST_RUNTIMES?.trim();
  if (!env) return ALL_RUNTIMES;
  const picked = env
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const p of picked) {
    if (!ALL_RUNTIMES.includes(p as CliRuntime)) throw new Error(`NSQ_TEST_RUNTIMES: unknown runtime "${p}"`);
  }
  return picked as CliRuntime[];
})();

const BIN = join(ROOT, "node_modules", ".bin");

export interface CliOptions {
  /**
   * Invoke under another program name (multi-call), e.g. "nsqd". binary: the
   * dist/<name> link; node: a symlink <tmp>/<name> -> dist/nsq.mjs. Not
   * supported for bun and deno, which run the .ts sources.
   */
  as?: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Bytes for stdin (closed after). */
  input?: string | Uint8Array;
  /** Kill with SIGKILL after this long (runCli only). Default 30 s. */
  timeoutMs?: number;
}

interface Command {
  file: string;
  args: string[];
  cleanup(): void;
}

function command(rt: CliRuntime, args: readonly string[], as: string | undefined): Command {
  const none = () => {};
  if (as !== undefined && (rt === "bun" || rt === "deno")) {
    throw new Error(`CliOptions.as is supported for node and binary only (asked for ${rt})`);
  }
  switch (rt) {
    case "node": {
      if (as === undefined) return { file: process.execPath, args: [join(DIST, "nsq.mjs"), ...args], cleanup: none };
      const dir = mkdtempSync(join(tmpdir(), "nsq-as-"));
      const link = join(dir, as);
      symlinkSync(join(DIST, "nsq.mjs"), link);
      return { file: process.execPath, args: [link, ...args], cleanup: () => rmSync(dir, { recursive: true, force: true }) };
    }
    case "bun":
      return { file: join(BIN, "bun"), args: [join(ROOT, "cli", "main.ts"), ...args], cleanup: none };
    case "deno":
      return { file: join(BIN, "deno"), args: ["run", "-A", "--quiet", join(ROOT, "cli", "main.ts"), ...args], cleanup: none };
    case "binary":
      return { file: join(DIST, as ?? "nsq"), args: [...args], cleanup: none };
  }
}

function spawnCli(rt: CliRuntime, args: readonly string[], opts: CliOptions): { child: ChildProcess; cleanup(): void } {
  return spawnCommand(command(rt, args, opts.as), opts);
}

function spawnCommand(cmd: Command, opts: CliOptions): { child: ChildProcess; cleanup(): void } {
  const child = spawn(cmd.file, cmd.args, {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: "1", ...opts.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  else child.stdin!.end();
  return { child, cleanup: cmd.cleanup };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI to completion. */
export function runCli(rt: CliRuntime, args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  return collect(spawnCli(rt, args, opts), opts);
}

/** Run any executable to completion, as runCli does (`as` is not supported). */
export function runCommand(file: string, args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  return collect(spawnCommand({ file, args: [...args], cleanup: () => {} }, opts), opts);
}

function collect({ child, cleanup }: { child: ChildProcess; cleanup(): void }, opts: CliOptions): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
  return new Promise((resolve, reject) => {
    child.on("error", (e) => {
      clearTimeout(timer);
      cleanup();
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      cleanup();
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export interface CliProcess extends AsyncDisposable {
  readonly pid: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves with the stderr text so far once `pattern` matches it; rejects on exit or timeout. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<string>;
  waitForStdout(pattern: RegExp, timeoutMs?: number): Promise<string>;
  kill(signal?: NodeJS.Signals): void;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start the CLI and keep it running; dispose (or kill) to stop it. */
export function startCli(rt: CliRuntime, args: readonly string[], opts: CliOptions = {}): CliProcess {
  return watch(spawnCli(rt, args, opts));
}

/** Start any executable, as startCli does (`as` is not supported). */
export function startCommand(file: string, args: readonly string[], opts: CliOptions = {}): CliProcess {
  return watch(spawnCommand({ file, args: [...args], cleanup: () => {} }, opts));
}

function watch({ child, cleanup }: { child: ChildProcess; cleanup(): void }): CliProcess {
  const out = { stdout: "", stderr: "" };
  type Waiter = { stream: "stdout" | "stderr"; pattern: RegExp; resolve(s: string): void; reject(e: Error): void };
  const waiters = new Set<Waiter>();
  let done = false;
  const check = () => {
    for (const w of waiters) {
      if (w.pattern.test(out[w.stream])) {
        waiters.delete(w);
        w.resolve(out[w.stream]);
      }
    }
  };
  child.stdout!.setEncoding("utf8").on("data", (d: string) => {
    out.stdout += d;
    check();
  });
  child.stderr!.setEncoding("utf8").on("data", (d: string) => {
    out.stderr += d;
    check();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("close", (code, signal) => {
      done = true;
      cleanup();
      check();
      for (const w of waiters) {
        w.reject(
          new Error(`process exited (code ${code}, signal ${signal}) before ${w.stream} matched ${w.pattern}\nstdout: ${out.stdout}\nstderr: ${out.stderr}`),
        );
      }
      waiters.clear();
      resolve({ code, signal });
    });
    child.on("error", () => {});
  });
  const waitFor =
    (stream: "stdout" | "stderr") =>
    (pattern: RegExp, timeoutMs = 15_000) =>
      new Promise<string>((resolve, reject) => {
        if (pattern.test(out[stream])) return resolve(out[stream]);
        if (done) return reject(new Error(`process already exited; ${stream} did not match ${pattern}`));
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${stream} to match ${pattern}\nstdout: ${out.stdout}\nstderr: ${out.stderr}`));
        }, timeoutMs);
        const w: Waiter = {
          stream,
          pattern,
          resolve: (s) => {
            clearTimeout(timer);
            resolve(s);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        };
        waiters.add(w);
      });
  return {
    pid: child.pid ?? -1,
    get stdout() {
      return out.stdout;
    },
    get stderr() {
      return out.stderr;
    },
    waitForStderr: waitFor("stderr"),
    waitForStdout: waitFor("stdout"),
    kill(signal: NodeJS.Signals = "SIGTERM") {
      if (!done) child.kill(signal);
    },
    exited,
    async [Symbol.asyncDispose]() {
      if (!done) {
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}
