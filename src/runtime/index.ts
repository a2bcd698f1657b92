// Picks the runtime adapter once, at start-up (cli/main.ts calls loadRuntime()).
import type { Runtime, RuntimeName } from "./types.ts";

export type { Runtime, RuntimeName } from "./types.ts";

/** Which runtime is executing this code. */
export function detectRuntime(): RuntimeName {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (g.Bun !== undefined) return "bun";
  if (g.Deno !== undefined) return "deno";
  return "node";
}

function adapterOverride(): string | undefined {
  const g = globalThis as { process?: { env?: Record<string, string | undefined> } };
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
  if (name === "bun" && forced !== "node") return (await import("./bun.ts")).createBunRuntime();
  if (name === "deno" && forced !== "node") return (await import("./deno.ts")).createDenoRuntime();
  return (await import("./node.ts")).createNodeRuntime();
}
