#!/usr/bin/env node
// Build: `npm run build` makes the binary and the bundle; name parts to make
// only those (`node scripts/build.mjs bundle lib`, as `npm pack` does).
//   binary  dist/nsq       single executable (bun build --compile), no runtime needed beside it
//           dist/<name>    a link to it for each of the original's program names (multi-call)
//   bundle  dist/nsq.mjs   one-file bundle for Node: `node dist/nsq.mjs`, the npm package's `nsq` bin
//   lib     dist/lib/      the client library (src/index.ts) as ESM JavaScript + .d.ts (tsconfig.lib.json)
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(ROOT, "dist");
const bin = (name) => join(ROOT, "node_modules", ".bin", process.platform === "win32" ? `${name}.cmd` : name);

/** The original's executables; each becomes a link to dist/nsq. */
export const PROGRAM_NAMES = ["nsqd", "nsqlookupd", "nsqadmin", "nsq_tail", "nsq_to_file", "nsq_to_http", "nsq_to_nsq", "nsq_stat", "to_nsq"];

/** Runs a tool of node_modules/.bin in the repository; exits the build on failure. Returns the time taken. */
export function run(tool, args) {
  const started = Date.now();
  const r = spawnSync(bin(tool), args, { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"], shell: process.platform === "win32" });
  if (r.status !== 0) {
    console.error(`build: ${tool} ${args.join(" ")} failed (${r.error?.message ?? `exit ${r.status}`})`);
    process.exit(1);
  }
  return Date.now() - started;
}

/**
 * `bun build --compile` of the CLI into `outfile`, for this machine or a
 * `bun-<os>-<arch>` target (Bun fetches that target's runtime once and caches it).
 * `bytecode` precompiles the JavaScript for a faster start.
 */
export function compile(outfile, { target, bytecode = true } = {}) {
  const args = ["build", "--compile", "--minify"];
  if (bytecode) args.push("--bytecode");
  if (target !== undefined) args.push(`--target=${target}`);
  return run("bun", [...args, "cli/main.ts", "--outfile", outfile]);
}

const size = (p) => `${(statSync(p).size / 1024 / 1024).toFixed(1)} MiB`;

function buildBinary() {
  mkdirSync(dist, { recursive: true });
  const ms = compile("dist/nsq");
  // Symlinks: the compiled binary sees the link's name in argv[0] (a hard link
  // works too, but symlinks keep dist/ small and survive a rebuild of dist/nsq).
  for (const name of PROGRAM_NAMES) {
    const link = join(dist, name);
    rmSync(link, { force: true });
    symlinkSync("nsq", link);
  }
  if (!existsSync(join(dist, "nsq"))) process.exit(1);
  return `dist/nsq ${size(join(dist, "nsq"))} (${ms} ms), links: ${PROGRAM_NAMES.join(" ")}`;
}

function buildBundle() {
  const ms = run("bun", ["build", "--target=node", "--format=esm", "--minify", "cli/main.ts", "--outfile", "dist/nsq.mjs"]);
  const path = join(dist, "nsq.mjs");
  const bundle = readFileSync(path, "utf8");
  if (!bundle.startsWith("#!")) writeFileSync(path, "#!/usr/bin/env node\n" + bundle);
  chmodSync(path, 0o755);
  return `dist/nsq.mjs ${size(path)} (${ms} ms)`;
}

function buildLib() {
  rmSync(join(dist, "lib"), { recursive: true, force: true });
  const ms = run("tsc", ["-p", "tsconfig.lib.json"]);
  return `dist/lib/ (${ms} ms)`;
}

const PARTS = { binary: buildBinary, bundle: buildBundle, lib: buildLib };

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const names = process.argv.slice(2);
  for (const name of names) {
    if (!(name in PARTS)) {
      console.error(`build: unknown part "${name}" (one of ${Object.keys(PARTS).join(", ")})`);
      process.exit(2);
    }
  }
  const done = (names.length > 0 ? names : ["binary", "bundle"]).map((name) => PARTS[name]());
  console.log(`build: ${done.join(", ")}`);
}
