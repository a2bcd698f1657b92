#!/usr/bin/env node
// The version is set in one place, package.json ("version"). `npm version <v>`
// runs this script (package.json's "version" script), which copies it into the
// two files that cannot read package.json at run time:
//   deno.json              "version", for JSR
//   src/common/version.ts  VERSION, what `nsq --version` and the HTTP APIs report
// `node scripts/version.mjs --check` changes nothing and exits 1 when they differ.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT } from "./build.mjs";

const VERSION_TS = join(ROOT, "src", "common", "version.ts");
const DENO_JSON = join(ROOT, "deno.json");
const VERSION_LINE = /^export const VERSION = "([^"]*)";$/m;

export function packageVersion() {
  return JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version;
}

/** [file, version found] for each copy. */
export function copies() {
  const ts = VERSION_LINE.exec(readFileSync(VERSION_TS, "utf8"))?.[1] ?? "(none)";
  const deno = JSON.parse(readFileSync(DENO_JSON, "utf8")).version ?? "(none)";
  return [
    ["src/common/version.ts", ts],
    ["deno.json", deno],
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const v = packageVersion();
  if (process.argv.includes("--check")) {
    const wrong = copies().filter(([, found]) => found !== v);
    for (const [file, found] of wrong) console.error(`version: ${file} says ${found}, package.json says ${v}`);
    process.exit(wrong.length === 0 ? 0 : 1);
  }
  const ts = readFileSync(VERSION_TS, "utf8");
  if (!VERSION_LINE.test(ts)) throw new Error(`version: no VERSION line in ${VERSION_TS}`);
  writeFileSync(VERSION_TS, ts.replace(VERSION_LINE, `export const VERSION = "${v}";`));
  const deno = readFileSync(DENO_JSON, "utf8");
  writeFileSync(DENO_JSON, deno.replace(/("version":\s*)"[^"]*"/, `$1"${v}"`));
  console.log(`version: ${v} in package.json, deno.json and src/common/version.ts`);
}
