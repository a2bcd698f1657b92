// Helper process for the runtime contract: loads the adapter of the runtime it
// runs on (honouring NSQ_RUNTIME_ADAPTER) and does one thing named by argv.
import { loadRuntime } from "../../src/runtime/index.ts";

const rt = await loadRuntime();
const [mode, arg] = rt.args();
const enc = new TextEncoder();
const say = (s: string): Promise<void> => rt.stdout.write(enc.encode(s + "\n"));

switch (mode) {
  case "lock": {
    // Try to lock `arg`; report, then hold the lock until stdin closes.
    try {
      const lock = rt.fs.lockDirectory(arg!);
      await say("locked");
      const reader = rt.stdin().getReader();
      while (!(await reader.read()).done) {
        // wait for EOF
      }
      lock.release();
      await say("released");
      rt.exit(0);
    } catch (err) {
      await say(`error: ${(err as Error).message}`);
      rt.exit(3);
    }
    break;
  }
  case "signal": {
    for (const sig of ["SIGTERM", "SIGHUP", "SIGINT"] as const) {
      rt.onSignal(sig, () => {
        void say(`got ${sig}`).then(() => {
          if (sig === "SIGTERM") rt.exit(0);
        });
      });
    }
    // A removed handler must not run (the process would print twice).
    const off = rt.onSignal("SIGHUP", () => void say("removed handler ran"));
    off();
    await say("ready");
    setInterval(() => {}, 1000); // stay alive
    break;
  }
  case "spew": {
    // Write forever; the reader closes the pipe and we must exit 0 quietly.
    const block = enc.encode("y".repeat(16383) + "\n");
    for (;;) await rt.stdout.write(block);
  }
  case "cat": {
    const reader = rt.stdin().getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      await rt.stdout.write(value);
    }
    rt.exit(0);
    break;
  }
  case "info": {
    await say(JSON.stringify({ argv0: rt.argv0(), args: rt.args(), name: rt.name }));
    rt.exit(0);
    break;
  }
  default:
    await say(`unknown mode ${mode}`);
    rt.exit(2);
}
