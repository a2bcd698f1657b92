// X-VERSION: the version is set in package.json; deno.json (JSR) and
// src/common/version.ts (what --version and the HTTP APIs report) carry copies
// that scripts/version.mjs (run by `npm version`) keeps in step.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { ROOT } from "../helpers/build.ts";
import { VERSION } from "../../src/common/version.ts";

const read = (file: string) => JSON.parse(readFileSync(join(ROOT, file), "utf8")) as { version: string };

test("package.json, deno.json and src/common/version.ts say the same version", () => {
  const version = read("package.json").version;
  expect(version).toMatch(/^\d+\.\d+\.\d+/);
  expect(read("deno.json").version).toBe(version);
  expect(VERSION).toBe(version);
  const check = spawnSync(process.execPath, [join(ROOT, "scripts", "version.mjs"), "--check"], { encoding: "utf8" });
  expect(check.stderr).toBe("");
  expect(check.status).toBe(0);
});
