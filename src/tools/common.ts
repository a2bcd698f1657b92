// What every utility shares: Go-style flag parsing against an OptionTable,
// `--version` (`<tool> v1.3.0`), one-line fatal errors, the client config
// built from `--consumer-opt` / `--producer-opt` (U-CLI-OPTS), and waiting for
// SIGINT / SIGTERM (X-SIG).
import { FlagError, formatUsage, parseFlags, type ParsedFlags } from "../common/flags.ts";
import type { OptionSpec, OptionTable } from "../common/options.ts";
import type { Logger } from "../common/log.ts";
import { createLogger } from "../common/logger.ts";
import { VERSION } from "../common/version.ts";
import type { Runtime, SignalName } from "../runtime/types.ts";
import { Config, ConfigOptionError, toolUserAgent } from "../client/config.ts";
import { errorText } from "../common/errors.ts";

/** Where a tool prints: text lines for usage/errors, bytes for data. */
export interface ToolIo {
  out(text: string): void;
  err(text: string): void;
}

export interface ToolContext {
  readonly runtime: Runtime;
  readonly io: ToolIo;
  /** Replaces the stderr logger (tests). */
  readonly logger?: Logger;
}

/** A startup problem: one line on stderr, exit status 1 (the original's log.Fatal). */
export class ToolError extends Error {
  override readonly name = "ToolError";
}

export const VERSION_FLAG: OptionSpec = { flag: "version", key: "version", type: "bool", default: false, help: "print version string" };

export function listFlag(flag: string, help: string): OptionSpec {
  return { flag, key: flag.replaceAll("-", "_"), type: "list", default: [], help };
}

export type Parsed<T> = { kind: "exit"; code: number } | { kind: "run"; options: T; rest: readonly string[] };

/** Parses argv for `program`; handles -h and -version. */
export function parseToolFlags<T>(ctx: ToolContext, program: string, table: OptionTable, args: readonly string[]): Parsed<T> {
  let flags: ParsedFlags;
  try {
    flags = parseFlags(table, args);
  } catch (e) {
    if (e instanceof FlagError) {
      ctx.io.err(`${e.message}\n`);
      return { kind: "exit", code: 2 };
    }
    throw e;
  }
  if (flags.help) {
    ctx.io.err(formatUsage(program, table));
    return { kind: "exit", code: 0 };
  }
  if (flags.given.get("version") === true) {
    ctx.io.out(`${program} v${VERSION}\n`);
    return { kind: "exit", code: 0 };
  }
  const options: Record<string, unknown> = {};
  for (const spec of table) {
    if (spec.key === null) continue;
    const d = flags.given.has(spec.flag) ? flags.given.get(spec.flag) : typeof spec.default === "function" ? (spec.default as () => unknown)() : spec.default;
    options[spec.key] = Array.isArray(d) ? [...d] : d;
  }
  return { kind: "run", options: options as T, rest: flags.rest };
}

/** The stderr logger of a tool (`prefix` as the original: "" or "[nsq_to_file] "). */
export function toolLogger(ctx: ToolContext, prefix = "", level: "debug" | "info" | "warn" | "error" | "fatal" = "info"): Logger {
  return ctx.logger ?? createLogger({ prefix, level, write: (line) => ctx.io.err(line) });
}

/**
 * The client config for a tool: its user agent, then the tool's own settings,
 * then every `key,value` of `opts` (U-CLI-OPTS). Throws ToolError.
 */
export function toolConfig(runtime: Runtime, program: string, base: Record<string, string | number | boolean>, opts: readonly string[]): Config {
  const cfg = new Config({}, runtime.hostname());
  try {
    cfg.set("user_agent", toolUserAgent(program));
    for (const [k, v] of Object.entries(base)) cfg.set(k, v);
    for (const o of opts) cfg.setOpt(o);
    cfg.validate();
  } catch (e) {
    if (e instanceof ConfigOptionError) throw new ToolError(e.message);
    throw e;
  }
  return cfg;
}

/** Exactly one kind of address (the tools' common rule). Throws ToolError. */
export function requireOneAddressKind(nsqd: readonly string[], lookupd: readonly string[], nsqdFlag = "--nsqd-tcp-address"): void {
  if (nsqd.length === 0 && lookupd.length === 0) throw new ToolError(`${nsqdFlag} or --lookupd-http-address required`);
  if (nsqd.length > 0 && lookupd.length > 0) throw new ToolError(`use ${nsqdFlag} or --lookupd-http-address not both`);
}

/**
 * Resolves with the first of `signals` to arrive; `dispose()` removes the
 * handlers. `next()` waits for another one (nsq_to_file's SIGHUP loop).
 */
export class SignalWaiter {
  readonly #removers: (() => void)[] = [];
  readonly #queue: SignalName[] = [];
  #wake: ((s: SignalName) => void) | null = null;

  constructor(runtime: Runtime, signals: readonly SignalName[]) {
    for (const s of signals) {
      this.#removers.push(
        runtime.onSignal(s, () => {
          const w = this.#wake;
          this.#wake = null;
          if (w) w(s);
          else this.#queue.push(s);
        }),
      );
    }
  }

  next(): Promise<SignalName> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => (this.#wake = resolve));
  }

  dispose(): void {
    for (const r of this.#removers.splice(0)) r();
  }
}

/** Runs `main`, mapping ToolError (and connect failures) to one line and exit 1. */
export async function runTool(logger: Logger, main: () => Promise<number>): Promise<number> {
  try {
    return await main();
  } catch (e) {
    if (e instanceof ToolError) {
      logger.fatal(e.message);
      return 1;
    }
    logger.fatal(errorText(e));
    return 1;
  }
}
