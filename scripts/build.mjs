#!/usr/bin/env node
// Build: `npm run build`.
//   dist/nsq       single executable (bun build --compile), no runtime needed beside it
//   dist/<name>    a link to it for each of the original's program names (multi-call)
//   dist/nsq.mjs   one-file bundle for Node: `node dist/nsq.mjs`
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, chmodSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const bun = join(root, "node_modules", ".bin", process.platform === "win32" ? "bun.exe" : "bun");

/** The original's executables; each becomes a link to dist/nsq. */
export const PROGRAM_NAMES = [
  "nsqd",
  "nsqlookupd",
  "nsqadmin",
  "nsq_tail",
  "nsq_to_file",
  "nsq_to_http",
  "nsq_to_nsq",
  "nsq_stat",
  "to_nsq",
];

function run(args) {
  const started = Date.now();
  const r = spawnSync(bun, args, { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) {
    console.error(`build: bun ${args.join(" ")} failed (${r.error?.message ?? `exit ${r.status}`})`);
    process.exit(1);
  }
  return Date.now() - started;
}

mkdirSync(dist, { recursive: true });

const compileMs = run(["build", "--compile", "--minify", "--bytecode", "cli/main.ts", "--outfile", "dist/nsq"]);

// Symlinks: the compiled binary sees the link's name in argv[0] (a hard link
// works too, but symlinks keep dist/ small and survive a rebuild of dist/nsq).
for (const name of PROGRAM_NAMES) {
  const link = join(dist, name);
  rmSync(link, { force: true });
  symlinkSync("nsq", link);
}

const bundleMs = run([
  "build", "--target=node", "--format=esm", "--minify", "cli/main.ts", "--outfile", "dist/nsq.mjs",
]);
const bundlePath = join(dist, "nsq.mjs");
const bundle = readFileSync(bundlePath, "utf8");
if (!bundle.startsWith("#!")) writeFileSync(bundlePath, "#!/usr/bin/env node\n" + bundle);
chmodSync(bundlePath, 0o755);

const size = (p) => `${(statSync(p).size / 1024 / 1024).toFixed(1)} MiB`;
console.log(`build: dist/nsq ${size(join(dist, "nsq"))} (${compileMs} ms), dist/nsq.mjs ${size(bundlePath)} (${bundleMs} ms), links: ${PROGRAM_NAMES.join(" ")}`);
if (!existsSync(join(dist, "nsq"))) process.exit(1);
