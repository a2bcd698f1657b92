// What the three daemons (nsqd, nsqlookupd, nsqadmin) share on the command
// line: the program flags, parsing flags and config file into checked options
// (X-CFG-FLAGS, X-CFG-FILE), and running the component until SIGINT or
// SIGTERM (X-SIG).
import { ConfigError, FlagError, parseCommandLine } from "../src/common/flags.ts";
import { createLogger, parseLogLevel, type LevelledLogger } from "../src/common/logger.ts";
import type { OptionTable } from "../src/common/options.ts";
import { versionString } from "../src/common/version.ts";
import type { CommandContext } from "./context.ts";
import { errorText } from "../src/common/errors.ts";

/** Flags of a daemon program that are not options of its component. */
// biome-ignore format: one option per line reads as a table
export const DAEMON_PROGRAM_FLAGS: OptionTable = [
  { flag: "version", key: null, type: "bool", default: false, help: "print version string" },
  { flag: "config", key: null, type: "string", default: "", help: "path to config file" },
  // Prints the resolved options as JSON and exits: lets tests observe flag and
  // config-file handling through a real process.
  { flag: "print-options", key: null, type: "bool", default: false, help: "print the resolved options as JSON and exit", hidden: true },
];

export interface DaemonCommandLine<T> {
  /** The original's program name: "nsqd", "nsqlookupd", "nsqadmin". */
  program: string;
  /** The whole flag table, program flags included. */
  flags: OptionTable;
  /** Startup checks and normalisation (log level included); throw with the original's wording. */
  check(options: T): T;
}

/**
 * Parse argv and the config file. Returns the checked options, or the exit
 * code when the command is already answered (help, version, print-options) or
 * refused (bad flag: one line, exit 2; failed check: one FATAL line, exit 1).
 */
export function parseDaemonOptions<T extends { log_level: string; log_prefix: string }>(
  ctx: CommandContext,
  args: readonly string[],
  spec: DaemonCommandLine<T>,
): T | number {
  const { runtime, io } = ctx;
  try {
    const line = parseCommandLine<T>(spec.flags, args, {
      program: spec.program,
      readTextFile: (path) => runtime.fs.readText(path),
    });
    if (line.kind === "help") {
      io.out(line.usage);
      return 0;
    }
    if (line.kind === "version") {
      io.out(versionString(spec.program, runtime.version) + "\n");
      return 0;
    }
    let options: T;
    try {
      options = spec.check(line.options);
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      throw new ConfigError(errorText(e));
    }
    if (line.flags.given.get("print-options") === true) {
      io.out(JSON.stringify(options, null, 2) + "\n");
      return 0;
    }
    return options;
  } catch (e) {
    if (e instanceof FlagError) {
      io.err(e.message + "\n");
      return e.exitCode;
    }
    if (e instanceof ConfigError) {
      // Until the options are known, the fatal line uses the default prefix.
      createLogger({ prefix: `[${spec.program}] `, level: "info", write: io.err }).fatal(e.message);
      return e.exitCode;
    }
    throw e;
  }
}

/** The logger the options ask for. */
export function daemonLogger(ctx: CommandContext, options: { log_level: string; log_prefix: string }): LevelledLogger {
  return createLogger({ prefix: options.log_prefix, level: parseLogLevel(options.log_level), write: ctx.io.err });
}

/** Start a component, run it until SIGINT/SIGTERM, then close it. Returns the exit code. */
export async function runUntilSignal(
  ctx: CommandContext,
  component: { start(): Promise<void>; close(): Promise<void> },
  name: string,
  log: { fatal(m: string): void; error(m: string): void },
): Promise<number> {
  const { runtime } = ctx;
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const removers = [runtime.onSignal("SIGINT", () => stop()), runtime.onSignal("SIGTERM", () => stop())];
  const cleanup = () => {
    for (const remove of removers) remove();
  };
  try {
    await component.start();
  } catch (e) {
    log.fatal(`failed to start ${name} - ${errorText(e)}`);
    cleanup();
    await component.close().catch(() => {});
    return 1;
  }
  await stopped;
  cleanup();
  try {
    await component.close();
  } catch (e) {
    log.error(`failed to close ${name} - ${errorText(e)}`);
    return 1;
  }
  return 0;
}
