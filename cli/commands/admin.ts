// `nsq admin` / `nsqadmin`: parse the original's flags and config file
// (A-FLAG-*), apply the startup checks (A-FLAG-VALIDATION), then serve the web
// UI and API until SIGINT or SIGTERM (X-SIG).
import { ConfigError } from "../../src/common/flags.ts";
import { parseLogLevel } from "../../src/common/logger.ts";
import type { OptionTable } from "../../src/common/options.ts";
import { Admin } from "../../src/admin/admin.ts";
import { ADMIN_OPTIONS, checkAdminOptions, type AdminOptions } from "../../src/admin/options.ts";
import type { CommandContext } from "../context.ts";
import { DAEMON_PROGRAM_FLAGS, daemonLogger, parseDaemonOptions, runUntilSignal } from "../daemon.ts";
import { errorText } from "../../src/common/errors.ts";

export const ADMIN_FLAGS: OptionTable = [...DAEMON_PROGRAM_FLAGS, ...ADMIN_OPTIONS];

export async function adminCommand(ctx: CommandContext, args: readonly string[]): Promise<number> {
  const options = parseDaemonOptions<AdminOptions>(ctx, args, {
    program: "nsqadmin",
    flags: ADMIN_FLAGS,
    check: (o) => {
      try {
        return checkAdminOptions({ ...o, log_level: parseLogLevel(o.log_level) });
      } catch (e) {
        throw new ConfigError(`failed to instantiate nsqadmin - ${errorText(e)}`);
      }
    },
  });
  if (typeof options === "number") return options;
  const logger = daemonLogger(ctx, options);
  return runUntilSignal(ctx, new Admin(options, { runtime: ctx.runtime, logger }), "nsqadmin", logger);
}
