// Entry point of the `nsq` executable (and of its multi-call links).
// The runtime adapter is created once here and passed down (ARCHITECTURE.md).
// No top-level await: that keeps the entry usable by `bun build --bytecode`.
import { loadRuntime } from "../src/runtime/index.ts";
import { runtimeIo } from "./io.ts";
import { runCli } from "./run.ts";

async function main(): Promise<void> {
  const runtime = await loadRuntime();
  const io = runtimeIo(runtime);
  let code: number;
  try {
    code = await runCli({ runtime, io }, { argv0: runtime.argv0(), args: runtime.args() });
  } catch (e) {
    io.err(`nsq: ${(e as Error)?.stack ?? String(e)}\n`);
    code = 1;
  }
  await io.flush();
  runtime.exit(code);
}

void main();
