#!/usr/bin/env node
// `npm run release`: the files of a release, in release/:
//   nsq-<version>-<target>.tar.gz   (.zip for Windows) the `nsq` executable and LICENSE in nsq-<version>-<target>/
//   nsq-<version>.tgz               the npm package (`npm pack`)
//   SHA256SUMS                      for `sha256sum -c SHA256SUMS`
// The version is package.json's (scripts/version.mjs keeps the others in step).
//
//   node scripts/release.mjs                     every target
//   node scripts/release.mjs linux-x64 ...       only these (no npm package unless "npm" is named)
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT, compile } from "./build.mjs";
import { tarGz, zip } from "./archive.mjs";

/**
 * Release targets. `bytecode`: precompiled JavaScript for a faster start, only
 * where the release tests run the executable (test/release/archives.test.ts:
 * natively, or under qemu-user); elsewhere the plain bundle is safer.
 */
export const TARGETS = [
  { name: "linux-x64", bun: "bun-linux-x64", exe: "nsq", format: "tar.gz", bytecode: true },
  { name: "linux-arm64", bun: "bun-linux-arm64", exe: "nsq", format: "tar.gz", bytecode: true },
  { name: "linux-x64-musl", bun: "bun-linux-x64-musl", exe: "nsq", format: "tar.gz", bytecode: false },
  { name: "darwin-x64", bun: "bun-darwin-x64", exe: "nsq", format: "tar.gz", bytecode: false },
  { name: "darwin-arm64", bun: "bun-darwin-arm64", exe: "nsq", format: "tar.gz", bytecode: false },
  { name: "windows-x64", bun: "bun-windows-x64", exe: "nsq.exe", format: "zip", bytecode: false },
];

export const RELEASE_DIR = join(ROOT, "release");

export function version() {
  return JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version;
}

export function archiveName(target, v = version()) {
  return `nsq-${v}-${target.name}.${target.format}`;
}

function sha256(path) {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

function buildTarget(target, v) {
  const work = join(RELEASE_DIR, ".work", target.name);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const exe = join(work, target.exe);
  const compileMs = compile(exe, { target: target.bun, bytecode: target.bytecode });
  const entries = [
    { name: target.exe, data: readFileSync(exe), mode: 0o755 },
    { name: "LICENSE", data: readFileSync(join(ROOT, "LICENSE")), mode: 0o644 },
  ];
  const dir = `nsq-${v}-${target.name}`;
  const started = Date.now();
  const bytes = target.format === "zip" ? zip(dir, entries) : tarGz(dir, entries);
  writeFileSync(join(RELEASE_DIR, archiveName(target, v)), bytes);
  rmSync(work, { recursive: true, force: true });
  console.log(
    `release: ${archiveName(target, v)} ${(bytes.length / 1024 / 1024).toFixed(1)} MiB (compile ${compileMs} ms, archive ${Date.now() - started} ms)`,
  );
}

function packNpm() {
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const r = spawnSync(npm, ["pack", "--silent", "--pack-destination", RELEASE_DIR], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
    encoding: "utf8",
    shell: process.platform === "win32",
  });
  if (r.status !== 0) {
    console.error(`release: npm pack failed (exit ${r.status})`);
    process.exit(1);
  }
  console.log(`release: ${r.stdout.trim().split("\n").pop()}`);
}

/** SHA256SUMS over every archive and package in release/, in `sha256sum` format. */
function writeSums() {
  const files = readdirSync(RELEASE_DIR)
    .filter((f) => /\.(tar\.gz|zip|tgz)$/.test(f) && statSync(join(RELEASE_DIR, f)).isFile())
    .sort();
  const lines = files.map((f) => `${sha256(join(RELEASE_DIR, f))}  ${f}\n`);
  writeFileSync(join(RELEASE_DIR, "SHA256SUMS"), lines.join(""));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const names = process.argv.slice(2);
  const known = new Set([...TARGETS.map((t) => t.name), "npm"]);
  for (const n of names) {
    if (!known.has(n)) {
      console.error(`release: unknown target "${n}" (one of ${[...known].join(", ")})`);
      process.exit(2);
    }
  }
  const v = version();
  const picked = names.length === 0 ? TARGETS : TARGETS.filter((t) => names.includes(t.name));
  // A full release starts from an empty release/; a partial one adds to it.
  if (names.length === 0) rmSync(RELEASE_DIR, { recursive: true, force: true });
  mkdirSync(RELEASE_DIR, { recursive: true });
  for (const t of picked) buildTarget(t, v);
  rmSync(join(RELEASE_DIR, ".work"), { recursive: true, force: true });
  if (names.length === 0 || names.includes("npm")) packNpm();
  writeSums();
  console.log(`release: ${RELEASE_DIR}/SHA256SUMS`);
}
