// Picks the runtime adapter once, at start-up (cli/main.ts calls loadRuntime(),
// the client library on first use), and puts the platform checks in front of it.
import type { Address, Runtime, RuntimeName } from "./types.ts";

export type { Runtime, RuntimeName } from "./types.ts";

/** Which runtime is executing this code. */
export function detectRuntime(): RuntimeName {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (g.Bun !== undefined) return "bun";
  if (g.Deno !== undefined) return "deno";
  return "node";
}

function adapterOverride(): string | undefined {
  const g = globalThis as {
    process?: { env?: Record<string, string | undefined> };
    Deno?: { permissions?: { querySync?(d: { name: "env"; variable: string }): { state: string } } };
  };
  // Deno would ask at a terminal for a permission a library user never meant
  // to give: read the variable only when reading it is already allowed.
  const permissions = g.Deno?.permissions;
  if (permissions?.querySync !== undefined && permissions.querySync({ name: "env", variable: "NSQ_RUNTIME_ADAPTER" }).state !== "granted") {
    return undefined;
  }
  try {
    // process.env exists on all three runtimes (Deno: node globals in npm mode
    // and in `deno run` since 2.0); reading it may need --allow-env on Deno.
    return g.process?.env?.NSQ_RUNTIME_ADAPTER;
  } catch {
    return undefined;
  }
}

let loaded: Promise<Runtime> | null = null;

/**
 * The adapter for the current runtime. NSQ_RUNTIME_ADAPTER=node forces the
 * node: compatibility adapter on Bun and Deno (to compare the two paths).
 */
export function loadRuntime(): Promise<Runtime> {
  loaded ??= load();
  return loaded;
}

async function load(): Promise<Runtime> {
  const name = detectRuntime();
  const forced = adapterOverride();
  if (forced !== undefined && forced !== "" && forced !== "node" && forced !== name) {
    throw new TypeError(`NSQ_RUNTIME_ADAPTER=${forced} is not usable on ${name} (use "node" or leave it unset)`);
  }
  let runtime: Runtime;
  if (name === "bun" && forced !== "node") runtime = await (await import("./bun.ts")).createBunRuntime();
  else if (name === "deno" && forced !== "node") runtime = (await import("./deno.ts")).createDenoRuntime();
  else runtime = (await import("./node.ts")).createNodeRuntime();
  return withPlatformChecks(runtime, platform());
}

/** The operating system as node names it ("linux", "darwin", "win32"); process exists on all three runtimes. */
function platform(): string {
  return (globalThis as { process?: { platform?: string } }).process?.platform ?? "unknown";
}

/**
 * What the platform may lack fails soft, with one clear line, instead of an
 * obscure error from deep in a runtime:
 * - a signal the platform cannot deliver (X-SIG; Windows has no SIGHUP, and
 *   SIGTERM only for some runtimes): a warning on stderr, and the program goes
 *   on without that handler (Ctrl-C still stops it);
 * - a Unix socket address (D-TCP-LISTEN) on Windows: refused with an error
 *   that says to use host:port.
 * (The data directory lock, D-BEH-DATALOCK, needs no check: flock(2) is taken
 * where libc has it, and the lock file works everywhere; see node-fs.ts.)
 */
export function withPlatformChecks(runtime: Runtime, os: string): Runtime {
  const checked: Runtime = {
    ...runtime,
    onSignal(signal, handler) {
      try {
        return runtime.onSignal(signal, handler);
      } catch (err) {
        console.error(`nsq: ${signal} cannot be handled on ${os} (${(err as Error)?.message ?? String(err)}); going on without it`);
        return () => {};
      }
    },
  };
  if (os !== "win32") return checked;
  const noUnixSockets = (address: Address): void => {
    if ("path" in address) {
      throw new Error(`${address.path}: Unix socket addresses are not supported on Windows; use <host>:<port>`);
    }
  };
  return {
    ...checked,
    listen: async (address, ...rest) => {
      noUnixSockets(address);
      return runtime.listen(address, ...rest);
    },
    connect: async (address, ...rest) => {
      noUnixSockets(address);
      return runtime.connect(address, ...rest);
    },
    serveHttp: async (address, ...rest) => {
      noUnixSockets(address);
      return runtime.serveHttp(address, ...rest);
    },
  };
}
