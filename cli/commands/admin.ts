// `nsq admin` / `nsqadmin`: parse the original's flags and config file
// (A-FLAG-*), apply the startup checks (A-FLAG-VALIDATION), then serve the web
// UI and API until SIGINT or SIGTERM (X-SIG).
import { ConfigError, FlagError, parseCommandLine } from "../../src/common/flags.ts";
import { createLogger, parseLogLevel } from "../../src/common/logger.ts";
import type { OptionTable } from "../../src/common/options.ts";
import { versionString } from "../../src/common/version.ts";
import { Admin } from "../../src/admin/admin.ts";
import { ADMIN_OPTIONS, checkAdminOptions, type AdminOptions } from "../../src/admin/options.ts";
import type { CommandContext } from "../context.ts";

/** Flags of the nsqadmin program that are not options of the component. */
const PROGRAM_FLAGS: OptionTable = [
  { flag: "version", key: null, type: "bool", default: false, help: "print version string" },
  { flag: "config", key: null, type: "string", default: "", help: "path to config file" },
  { flag: "print-options", key: null, type: "bool", default: false, help: "print the resolved options as JSON and exit", hidden: true },
];

export const ADMIN_FLAGS: OptionTable = [...PROGRAM_FLAGS, ...ADMIN_OPTIONS];

export async function adminCommand(ctx: CommandContext, args: readonly string[]): Promise<number> {
  const { runtime, io } = ctx;
  let logger = createLogger({ prefix: "[nsqadmin] ", level: "info", write: io.err });
  let options: AdminOptions;
  try {
    const line = parseCommandLine<AdminOptions>(ADMIN_FLAGS, args, {
      program: "nsqadmin",
      readTextFile: (path) => runtime.fs.readText(path),
    });
    if (line.kind === "help") {
      io.out(line.usage);
      return 0;
    }
    if (line.kind === "version") {
      io.out(versionString("nsqadmin", runtime.version) + "\n");
      return 0;
    }
    try {
      options = checkAdminOptions({ ...line.options, log_level: parseLogLevel(line.options.log_level) });
    } catch (e) {
      throw new ConfigError(`failed to instantiate nsqadmin - ${(e as Error).message}`);
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
      logger.fatal(e.message);
      return e.exitCode;
    }
    throw e;
  }

  logger = createLogger({ prefix: options.log_prefix, level: parseLogLevel(options.log_level), write: io.err });
  const admin = new Admin(options, { runtime, logger });
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const removers = [runtime.onSignal("SIGINT", () => stop()), runtime.onSignal("SIGTERM", () => stop())];
  const cleanup = () => removers.forEach((remove) => remove());
  try {
    await admin.start();
  } catch (e) {
    logger.fatal(`failed to start nsqadmin - ${(e as Error).message}`);
    cleanup();
    await admin.close().catch(() => {});
    return 1;
  }
  await stopped;
  cleanup();
  await admin.close();
  return 0;
}
