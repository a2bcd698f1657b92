// `nsq lookupd` / `nsqlookupd`: parse the original's flags and config file
// (X-CFG-FLAGS, X-CFG-FILE, L-FLAG-*), then run the discovery daemon until
// SIGINT or SIGTERM (X-SIG).
import { ConfigError, FlagError, parseCommandLine } from "../../src/common/flags.ts";
import { createLogger, parseLogLevel } from "../../src/common/logger.ts";
import type { OptionTable } from "../../src/common/options.ts";
import { versionString } from "../../src/common/version.ts";
import { Lookupd } from "../../src/lookupd/lookupd.ts";
import { LOOKUPD_OPTIONS, type LookupdOptions } from "../../src/lookupd/options.ts";
import type { CommandContext } from "../context.ts";

/** Flags of the program that are not options of the daemon (L-FLAG-VERSION, L-FLAG-CONFIG). */
const PROGRAM_FLAGS: OptionTable = [
  { flag: "version", key: null, type: "bool", default: false, help: "print version string" },
  { flag: "config", key: null, type: "string", default: "", help: "path to config file" },
  { flag: "print-options", key: null, type: "bool", default: false, help: "print the resolved options as JSON and exit", hidden: true },
];

/** The flag table for this host: the broadcast address defaults to the hostname, as in the original. */
export function lookupdFlags(hostname: string): OptionTable {
  return [
    ...PROGRAM_FLAGS,
    ...LOOKUPD_OPTIONS.map((spec) => (spec.flag === "broadcast-address" ? { ...spec, default: hostname } : spec)),
  ];
}

/** Run a started component until SIGINT/SIGTERM, then close it. Returns the exit code. */
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
  const cleanup = () => removers.forEach((remove) => remove());
  try {
    await component.start();
  } catch (e) {
    log.fatal(`failed to start ${name} - ${(e as Error).message}`);
    cleanup();
    await component.close().catch(() => {});
    return 1;
  }
  await stopped;
  cleanup();
  try {
    await component.close();
  } catch (e) {
    log.error(`failed to close ${name} - ${(e as Error).message}`);
    return 1;
  }
  return 0;
}

export async function lookupdCommand(ctx: CommandContext, args: readonly string[]): Promise<number> {
  const { runtime, io } = ctx;
  const logger0 = createLogger({ prefix: "[nsqlookupd] ", level: "info", write: io.err });
  let options: LookupdOptions;
  try {
    const line = parseCommandLine<LookupdOptions>(lookupdFlags(runtime.hostname()), args, {
      program: "nsqlookupd",
      readTextFile: (path) => runtime.fs.readText(path),
    });
    if (line.kind === "help") {
      io.out(line.usage);
      return 0;
    }
    if (line.kind === "version") {
      io.out(versionString("nsqlookupd", runtime.version) + "\n");
      return 0;
    }
    options = { ...line.options };
    try {
      options.log_level = parseLogLevel(options.log_level);
    } catch (e) {
      throw new ConfigError((e as Error).message);
    }
    if (line.flags.given.get("print-options") === true) {
      io.out(JSON.stringify(options, null, 2) + "\n");
      return 0;
    }
  } catch (e) {
    if (e instanceof FlagError) {
      io.err(e.message + "\n");
      return e.exitCode;
    }
    if (e instanceof ConfigError) {
      logger0.fatal(e.message);
      return e.exitCode;
    }
    throw e;
  }

  const logger = createLogger({ prefix: options.log_prefix, level: parseLogLevel(options.log_level), write: io.err });
  const lookupd = new Lookupd(options, { runtime, logger });
  return runUntilSignal(ctx, lookupd, "nsqlookupd", logger);
}
