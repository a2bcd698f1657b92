// Runs the runtime contract on the runtime executing this script:
//   npx tsx test/runtime/run-contract.ts            (Node)
//   bun test/runtime/run-contract.ts                (Bun, native adapter)
//   deno run -A test/runtime/run-contract.ts        (Deno, native adapter)
//   NSQ_RUNTIME_ADAPTER=node bun|deno ...           (node: compat adapter)
// Optional argument: a substring; only cases whose name contains it run.
// Prints one line per case, then one JSON summary line.
import { detectRuntime, loadRuntime } from "../../src/runtime/index.ts";
import { cases } from "./contract.ts";

const rt = await loadRuntime();
const filter = rt.args()[0] ?? "";
const timeoutMs = 60_000;
const failed: { name: string; error: string }[] = [];
let passed = 0;
const enc = new TextEncoder();
for (const c of cases) {
  if (!c.name.includes(filter)) continue;
  const started = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      c.run(rt),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs}ms`)), timeoutMs);
      }),
    ]);
    passed++;
    await rt.stdout.write(enc.encode(`ok - ${c.name} (${Date.now() - started} ms)\n`));
  } catch (err) {
    const e = err instanceof Error ? (err.stack ?? err.message) : String(err);
    failed.push({ name: c.name, error: e });
    await rt.stdout.write(enc.encode(`not ok - ${c.name}\n  ${e.replace(/\n/g, "\n  ")}\n`));
  } finally {
    clearTimeout(timer);
  }
}
const summary = { runtime: detectRuntime(), adapter: rt.name, version: rt.version, passed, failed };
await rt.stdout.write(enc.encode(JSON.stringify(summary) + "\n"));
rt.exit(failed.length === 0 ? 0 : 1);
