// vitest globalSetup: make sure dist/ (the compiled binary, its multi-call links
// and dist/nsq.mjs) is fresh before process tests run. Runs the build at most once.
import { ensureBuilt, runNeedsBuild } from "./build.ts";

export default async function setup(): Promise<void> {
  if (!runNeedsBuild(process.argv.slice(2))) return;
  await ensureBuilt();
}
