// Throughput of the V2 CommandReader: N PUB commands of a 100-byte body fed
// in 64 KiB chunks (commands cut at arbitrary points, as from a socket).
// Run: npx tsx test/protocol/bench-command-reader.ts [count]
//      node_modules/.bin/bun test/protocol/bench-command-reader.ts
//      node_modules/.bin/deno run -A test/protocol/bench-command-reader.ts
// Not a test file (no .test.ts suffix): vitest does not pick it up.

import { CommandReader } from "../../src/protocol/command-reader.ts";
import { MAGIC_V2, encodeFin, encodePub } from "../../src/protocol/frames.ts";

const argv: string[] = (globalThis as { process?: { argv: string[] } }).process?.argv ?? [];
const count = Number(argv[2] ?? 1_000_000);
const CHUNK = 64 * 1024;

function build(one: Uint8Array): Uint8Array[] {
  const stream = new Uint8Array(4 + one.length * count);
  stream.set(MAGIC_V2, 0);
  for (let i = 0; i < count; i++) stream.set(one, 4 + i * one.length);
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < stream.length; at += CHUNK) chunks.push(stream.subarray(at, at + CHUNK));
  return chunks;
}

function measure(label: string, chunks: Uint8Array[], bytesPerCommand: number): void {
  for (let round = 0; round < 6; round++) {
    const reader = new CommandReader({ maxMsgSize: 1024 * 1024, maxBodySize: 5 * 1024 * 1024 });
    let n = 0;
    const t0 = performance.now();
    for (const chunk of chunks) {
      reader.push(chunk);
      while (reader.next() !== null) n++;
    }
    const ms = performance.now() - t0;
    if (n !== count) throw new Error(`parsed ${n} of ${count}`);
    const perSec = (n / ms) * 1000;
    const mbps = (n * bytesPerCommand) / ms / 1000;
    console.log(`${label} round ${round + 1}: ${n} commands in ${ms.toFixed(0)} ms = ${(perSec / 1e6).toFixed(2)} M cmd/s, ${mbps.toFixed(0)} MB/s`);
  }
}

const pub = encodePub("bench_topic", new Uint8Array(100).fill(0x61));
measure("PUB 100B", build(pub), pub.length);
const fin = encodeFin(new TextEncoder().encode("0123456789abcdef"));
measure("FIN", build(fin), fin.length);
