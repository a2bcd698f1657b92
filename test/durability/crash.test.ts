// The durability promise under SIGKILL (D-BEH-DISKQUEUE, D-BEH-INFLIGHT): nsqd
// is killed at random moments while a producer pipelines PUB or MPUB (64
// commands outstanding) and consumers hold messages for a random while before
// FIN; it is restarted on the same --data-path each time; after the last start
// everything left is drained, and every body that was answered OK must have
// been delivered (a consumer counts a body once its FIN was written: a message
// still held at the kill must come again).
//
// `npm test` runs a short loop per runtime; `npm run test:crash` runs it with
// NSQ_CRASH_CYCLES=10 (and more configurations) on every runtime.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RUNTIMES } from "../helpers/cli.ts";
import { ensureDist } from "../integration/harness.ts";
import { crashLoop, type CrashLoopOptions } from "../../scripts/crash-lib.ts";

const CYCLES = Number(process.env.NSQ_CRASH_CYCLES ?? 2);
const LONG = CYCLES >= 10;

interface Case {
  name: string;
  options: Omit<CrashLoopOptions, "target" | "dataPath" | "cycles">;
}

const CASES: Case[] = [
  {
    name: "PUB, --mem-queue-size=0, no channel until the drain",
    options: { flags: ["--mem-queue-size=0"], mode: "pub" },
  },
  {
    name: "MPUB, --mem-queue-size=0, two consumers holding messages in flight",
    options: { flags: ["--mem-queue-size=0"], mode: "mpub", consumers: 2, batch: 20 },
  },
  {
    name: "PUB, --mem-queue-size=0 --sync-every=1, two consumers",
    options: { flags: ["--mem-queue-size=0", "--sync-every=1"], mode: "pub", consumers: 2 },
  },
];
if (LONG) {
  CASES.push(
    {
      name: "MPUB, --mem-queue-size=0 --max-bytes-per-file=65536 (many segment rolls), one consumer",
      options: { flags: ["--mem-queue-size=0", "--max-bytes-per-file=65536"], mode: "mpub", consumers: 1, batch: 20 },
    },
    {
      name: "PUB, --mem-queue-size=0, two producers, no channel",
      options: { flags: ["--mem-queue-size=0"], mode: "pub", producers: 2 },
    },
  );
}

describe.each(RUNTIMES)("kill -9 under load on %s", (rt) => {
  let started = 0;
  beforeAll(async () => {
    await ensureDist([rt]);
    started = Date.now();
  });
  afterAll(() => {
    console.log(`[timing] crash loops on ${rt}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  it.each(CASES)(
    `$name: every acknowledged message is delivered after ${CYCLES} kill/restart cycles`,
    async ({ options }) => {
      const dataPath = mkdtempSync(join(tmpdir(), "nsq-crash-"));
      try {
        const report = await crashLoop({ ...options, target: rt, dataPath, cycles: CYCLES, minRunMs: 200, maxRunMs: 1_000 });
        // The workload did run: messages were acknowledged in every cycle.
        for (const c of report.perCycle) expect(c.acknowledged).toBeGreaterThan(0);
        expect(report.lost.slice(0, 5)).toEqual([]);
        expect(report.lost.length).toBe(0);
        expect(report.unknown).toEqual([]);
      } finally {
        rmSync(dataPath, { recursive: true, force: true });
      }
    },
    60_000 + CYCLES * 20_000,
  );
});
