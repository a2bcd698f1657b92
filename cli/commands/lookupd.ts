// `nsq lookupd` / `nsqlookupd`: parse the original's flags and config file
// (X-CFG-FLAGS, X-CFG-FILE, L-FLAG-*), then run the discovery daemon until
// SIGINT or SIGTERM (X-SIG).
import { parseLogLevel } from "../../src/common/logger.ts";
import type { OptionTable } from "../../src/common/options.ts";
import { Lookupd } from "../../src/lookupd/lookupd.ts";
import { LOOKUPD_OPTIONS, type LookupdOptions } from "../../src/lookupd/options.ts";
import type { CommandContext } from "../context.ts";
import { DAEMON_PROGRAM_FLAGS, daemonLogger, parseDaemonOptions, runUntilSignal } from "../daemon.ts";

/** The flag table for this host: the broadcast address defaults to the hostname, as in the original. */
export function lookupdFlags(hostname: string): OptionTable {
  return [...DAEMON_PROGRAM_FLAGS, ...LOOKUPD_OPTIONS.map((spec) => (spec.flag === "broadcast-address" ? { ...spec, default: hostname } : spec))];
}

export async function lookupdCommand(ctx: CommandContext, args: readonly string[]): Promise<number> {
  const options = parseDaemonOptions<LookupdOptions>(ctx, args, {
    program: "nsqlookupd",
    flags: lookupdFlags(ctx.runtime.hostname()),
    check: (o) => ({ ...o, log_level: parseLogLevel(o.log_level) }),
  });
  if (typeof options === "number") return options;
  const logger = daemonLogger(ctx, options);
  return runUntilSignal(ctx, new Lookupd(options, { runtime: ctx.runtime, logger }), "nsqlookupd", logger);
}
