// Runs `nsq <tool>` as a process under a test runtime, keeping stdout as raw
// bytes (tail prints binary bodies), with signals and stdin.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { DIST, ROOT } from "../helpers/build.ts";
import type { CliRuntime } from "../helpers/cli.ts";

const BIN = join(ROOT, "node_modules", ".bin");

function commandLine(rt: CliRuntime, args: readonly string[]): [string, string[]] {
  switch (rt) {
    case "node":
      return [process.execPath, [join(DIST, "nsq.mjs"), ...args]];
    case "bun":
      return [join(BIN, "bun"), [join(ROOT, "cli", "main.ts"), ...args]];
    case "deno":
      return [join(BIN, "deno"), ["run", "-A", "--quiet", join(ROOT, "cli", "main.ts"), ...args]];
    case "binary":
      return [join(DIST, "nsq"), [...args]];
  }
}

export interface ToolProcess extends AsyncDisposable {
  readonly child: ChildProcess;
  stdout(): Buffer;
  stderr(): string;
  readonly exited: Promise<number | null>;
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<void>;
  signal(sig: NodeJS.Signals): void;
}

export function startTool(rt: CliRuntime, args: readonly string[], input?: string | Uint8Array): ToolProcess {
  const [file, argv] = commandLine(rt, args);
  const child = spawn(file, argv, { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" }, stdio: ["pipe", "pipe", "pipe"] });
  const out: Buffer[] = [];
  let err = "";
  child.stdout!.on("data", (d: Buffer) => out.push(d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  if (input !== undefined) child.stdin!.end(input);
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));
  return {
    child,
    stdout: () => Buffer.concat(out),
    stderr: () => err,
    exited,
    async waitForStderr(pattern, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(err)) {
        if (done) throw new Error(`exited before stderr matched ${pattern}: ${err}`);
        if (Date.now() > deadline) throw new Error(`stderr did not match ${pattern} in ${timeoutMs} ms: ${err}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    signal(sig) {
      if (!done) child.kill(sig);
    },
    async [Symbol.asyncDispose]() {
      if (!done) {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}

/** Runs to completion (SIGKILL after timeoutMs). */
export async function runTool(
  rt: CliRuntime,
  args: readonly string[],
  input?: string | Uint8Array,
  timeoutMs = 20_000,
): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  const p = startTool(rt, args, input);
  const timer = setTimeout(() => p.child.kill("SIGKILL"), timeoutMs);
  const code = await p.exited;
  clearTimeout(timer);
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
