// Keeps dist/ (scripts/build.mjs output) fresh for tests that start the CLI as a
// process. Fresh = every output exists and is newer than every source file.
import { PROGRAMS } from "../../cli/programs.ts";
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const DIST = join(ROOT, "dist");

/** The original's program names; scripts/build.mjs links each to dist/nsq. */
export const LINK_NAMES: readonly string[] = PROGRAMS.map((p) => p.program).filter((name) => name !== "");

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Why dist/ must be rebuilt, or null when it is fresh. */
export function staleReason(): string | null {
  const outputs = [join(DIST, "nsq"), join(DIST, "nsq.mjs")];
  for (const out of outputs) if (!existsSync(out)) return `${out} is missing`;
  for (const name of LINK_NAMES) {
    try {
      lstatSync(join(DIST, name));
    } catch {
      return `dist/${name} is missing`;
    }
  }
  const builtAt = Math.min(...outputs.map((o) => statSync(o).mtimeMs));
  const sources = ["src", "cli", "scripts/build.mjs", "package.json", "package-lock.json", "deno.json"];
  for (const s of sources) if (newestMtime(join(ROOT, s)) > builtAt) return `${s} changed since the last build`;
  return null;
}

/**
 * Whether a vitest invocation (its argv after the binary) selects tests that
 * need dist/: no file filter (whole suite), or a filter naming cli/helpers.
 * NSQ_TEST_BUILD=0 / =1 forces the answer.
 */
export function runNeedsBuild(argv: readonly string[]): boolean {
  const forced = process.env.NSQ_TEST_BUILD;
  if (forced === "0") return false;
  if (forced === "1") return true;
  const commands = new Set(["run", "watch", "dev", "related"]);
  const filters = argv.filter((a, i) => !a.startsWith("-") && !(i === 0 && commands.has(a)));
  if (filters.length === 0) return true;
  return filters.some((f) => /cli|helpers/.test(f));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Build dist/ unless fresh. Concurrent callers wait on a lock directory. */
export async function ensureBuilt(): Promise<void> {
  if (staleReason() === null) return;
  mkdirSync(DIST, { recursive: true });
  const lock = join(DIST, ".build-lock");
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another worker is building; a lock older than 3 minutes is abandoned.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 180_000) rmSync(lock, { recursive: true, force: true });
      } catch {}
      if (Date.now() > deadline) throw new Error("timed out waiting for dist/.build-lock");
      await sleep(200);
      if (staleReason() === null) return;
    }
  }
  try {
    if (staleReason() === null) return;
    const r = spawnSync(process.execPath, [join(ROOT, "scripts", "build.mjs")], { cwd: ROOT, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`npm run build failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
