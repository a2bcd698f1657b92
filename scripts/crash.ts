// `npx tsx scripts/crash.ts [flags]`: the crash workload of scripts/crash-lib.ts
// against our nsqd or any nsqd-compatible executable, printed as a report.
//
//   --target=binary|node|bun|deno|exec:/path/to/nsqd   (default binary)
//   --cycles=10  --mode=pub|mpub|dpub  --producers=1  --consumers=0
//   --window=64  --batch=50  --size=100  --min-run=300ms  --max-run=1500ms
//   --signal=SIGKILL  --nsqd-flag=--mem-queue-size=0 (repeatable)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FlagError, formatUsage, parseFlags } from "../src/common/flags.ts";
import type { OptionTable } from "../src/common/options.ts";
import { crashLoop, type CrashTarget, type PublishMode } from "./crash-lib.ts";

const TABLE: OptionTable = [
  { flag: "target", key: null, type: "string", default: "binary", help: "binary|node|bun|deno|exec:<path of an nsqd executable>" },
  { flag: "cycles", key: null, type: "int", default: 10, help: "kill/restart cycles" },
  { flag: "mode", key: null, type: "string", default: "pub", help: "pub|mpub|dpub" },
  { flag: "producers", key: null, type: "int", default: 1, help: "producer connections per cycle" },
  { flag: "consumers", key: null, type: "int", default: 0, help: "consumer connections per cycle (0: no channel until the drain)" },
  { flag: "window", key: null, type: "int", default: 64, help: "commands outstanding per producer" },
  { flag: "batch", key: null, type: "int", default: 50, help: "bodies per MPUB" },
  { flag: "size", key: null, type: "int", default: 100, help: "body size" },
  { flag: "min-run", key: null, type: "duration", default: 300, help: "earliest kill after start" },
  { flag: "max-run", key: null, type: "duration", default: 1500, help: "latest kill after start" },
  { flag: "signal", key: null, type: "string", default: "SIGKILL", help: "signal that ends each cycle" },
  { flag: "nsqd-flag", key: null, type: "list", default: [], help: "flag for nsqd (repeatable)" },
];

async function main(): Promise<void> {
  const flags: Record<string, unknown> = {};
  try {
    const parsed = parseFlags(TABLE, process.argv.slice(2));
    if (parsed.help) {
      process.stdout.write(formatUsage("crash", TABLE));
      return;
    }
    for (const spec of TABLE) flags[spec.flag] = parsed.given.has(spec.flag) ? parsed.given.get(spec.flag) : spec.default;
  } catch (e) {
    if (e instanceof FlagError) {
      process.stderr.write(`${e.message}\n${formatUsage("crash", TABLE)}`);
      process.exit(2);
    }
    throw e;
  }
  const dataPath = mkdtempSync(join(tmpdir(), "nsq-crash-"));
  try {
    const report = await crashLoop({
      target: flags["target"] as CrashTarget,
      dataPath,
      flags: flags["nsqd-flag"] as string[],
      cycles: flags["cycles"] as number,
      mode: flags["mode"] as PublishMode,
      producers: flags["producers"] as number,
      consumers: flags["consumers"] as number,
      window: flags["window"] as number,
      batch: flags["batch"] as number,
      size: flags["size"] as number,
      minRunMs: flags["min-run"] as number,
      maxRunMs: flags["max-run"] as number,
      signal: flags["signal"] as NodeJS.Signals,
      log: (line) => process.stdout.write(`${line}\n`),
    });
    if (report.lost.length > 0) process.stdout.write(`first lost: ${report.lost.slice(0, 5).join(" ")}\n`);
    process.exitCode = report.lost.length > 0 || report.unknown.length > 0 ? 1 : 0;
  } finally {
    rmSync(dataPath, { recursive: true, force: true });
  }
}

await main();
