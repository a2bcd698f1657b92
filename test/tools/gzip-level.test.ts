// U-FILE-GZIP: nsq_to_file's --gzip-level reaches the compressor, and every
// sync still closes a gzip member that gunzip reads as part of one stream.
// FileLogger runs in-process on the Node runtime with stand-in messages.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, test } from "vitest";
import { FileLogger } from "../../src/tools/file-logger.ts";
import type { Message } from "../../src/client/message.ts";
import { silentLogger } from "../../src/common/log.ts";
import { createNodeRuntime } from "../../src/runtime/node.ts";

const runtime = createNodeRuntime();
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Log-like lines: repetitive text around pseudo-random numbers, so levels make a difference. */
function lines(count: number): string[] {
  const out: string[] = [];
  let x = 7;
  for (let i = 0; i < count; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out.push(`{"ts":${1700000000 + i},"level":"info","user":"u${x % 977}","path":"/api/v1/items/${x % 10007}","status":${x % 2 ? 200 : 404},"ms":${x % 313}}`);
  }
  return out;
}

function fakeMessage(body: string, finished: string[]): Message {
  const bytes = new TextEncoder().encode(body);
  return { body: bytes, disableAutoResponse() {}, finish: () => void finished.push(body) } as unknown as Message;
}

/** Writes `bodies` at `level` with a sync every `maxPending` messages; returns the one file written. */
async function writeGzip(level: number, bodies: string[], maxPending: number): Promise<{ bytes: Buffer; path: string; finished: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), "nsq-gzip-level-"));
  dirs.push(dir);
  const finished: string[] = [];
  const fl = new FileLogger(
    "t",
    {
      outputDir: dir,
      workDir: dir,
      datetimeFormat: "%Y",
      filenameFormat: "t<REV>.log.gz",
      gzip: true,
      gzipLevel: level,
      skipEmptyFiles: false,
      rotateSize: 0,
      rotateIntervalMs: 0,
      maxPending,
    },
    { runtime, logger: silentLogger },
  );
  for (const b of bodies) await fl.handle(fakeMessage(b, finished));
  await fl.close();
  const files = readdirSync(dir);
  expect(files).toHaveLength(1);
  const path = join(dir, files[0]!);
  return { bytes: readFileSync(path), path, finished };
}

/** Offsets of gzip member headers (1f 8b 08) that start a member: counted by walking members with zlib. */
function memberCount(bytes: Buffer): number {
  let n = 0;
  for (let i = 0; i + 2 < bytes.length; i++) if (bytes[i] === 0x1f && bytes[i + 1] === 0x8b && bytes[i + 2] === 0x08) n++;
  return n;
}

describe("U-FILE-GZIP --gzip-level", () => {
  test("level 1 and level 9 give different sizes on compressible data; gunzip reads both back exactly", async () => {
    const bodies = lines(4000);
    const expected = bodies.map((b) => `${b}\n`).join("");
    const fast = await writeGzip(1, bodies, 4000);
    const best = await writeGzip(9, bodies, 4000);
    expect(best.bytes.length).toBeLessThan(fast.bytes.length);
    // Far below the raw size either way: the data really was compressed.
    expect(fast.bytes.length).toBeLessThan(expected.length / 3);
    for (const r of [fast, best]) {
      expect(gunzipSync(r.bytes).toString()).toBe(expected);
      expect(execFileSync("gunzip", ["-c", r.path], { encoding: "utf8", maxBuffer: 64 << 20 })).toBe(expected);
      expect(r.finished).toEqual(bodies);
    }
  });

  test("each sync closes a member: many members, one stream for gunzip, every message acknowledged", async () => {
    const bodies = lines(250);
    const expected = bodies.map((b) => `${b}\n`).join("");
    const r = await writeGzip(5, bodies, 10);
    expect(memberCount(r.bytes)).toBeGreaterThanOrEqual(25);
    expect(execFileSync("gunzip", ["-c", r.path], { encoding: "utf8" })).toBe(expected);
    expect(gunzipSync(r.bytes).toString()).toBe(expected);
    expect(r.finished).toEqual(bodies);
  });
});
