// Shared by the distribution tests: running commands, and nsqd started from
// any executable (an unpacked release, or one under qemu-user).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCommand, type CliProcess } from "../helpers/cli.ts";
import { ROOT } from "../helpers/build.ts";

export { ROOT };

export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; throws with its output when it exits non-zero (unless `allowFail`). */
export function sh(
  file: string,
  args: readonly string[],
  opts: { cwd?: string; env?: Record<string, string | undefined>; input?: string; allowFail?: boolean; timeoutMs?: number } = {},
): Ran {
  const r = spawnSync(file, args, {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: "1", ...opts.env },
    input: opts.input,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    timeout: opts.timeoutMs ?? 300_000,
  });
  if (r.error) throw new Error(`${file} ${args.join(" ")}: ${r.error.message}`);
  const ran = { status: r.status, stdout: r.stdout, stderr: r.stderr };
  if (!opts.allowFail && r.status !== 0) {
    throw new Error(`${file} ${args.join(" ")} exited ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return ran;
}

/** The path of a program on PATH, or null. */
export function which(name: string): string | null {
  const r = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface RunningNsqd extends AsyncDisposable {
  readonly proc: CliProcess;
  readonly tcpAddress: string;
  readonly httpAddress: string;
}

/**
 * `<file> [...prefix] nsqd` on 127.0.0.1 port 0 with a fresh data path; the
 * bound ports are read from its log. `prefix` puts the executable behind
 * another one (qemu-aarch64 <binary>).
 */
export async function startNsqdFrom(file: string, prefix: readonly string[] = [], timeoutMs = 60_000): Promise<RunningNsqd> {
  const dataPath = tempDir("nsq-release-data-");
  const proc = startCommand(file, [...prefix, "nsqd", "--tcp-address=127.0.0.1:0", "--http-address=127.0.0.1:0", `--data-path=${dataPath}`]);
  let log: string;
  try {
    log = await proc.waitForStderr(/TCP: listening on [^\n]*:\d+\n[\s\S]*HTTP: listening on [^\n]*:\d+\n/, timeoutMs);
  } catch (e) {
    await proc[Symbol.asyncDispose]();
    rmSync(dataPath, { recursive: true, force: true });
    throw e;
  }
  const tcp = /TCP: listening on ([^\n]*:\d+)\n/.exec(log)![1]!;
  const http = /HTTP: listening on ([^\n]*:\d+)\n/.exec(log)![1]!;
  return {
    proc,
    tcpAddress: tcp,
    httpAddress: http,
    async [Symbol.asyncDispose]() {
      await proc[Symbol.asyncDispose]();
      rmSync(dataPath, { recursive: true, force: true });
    },
  };
}
