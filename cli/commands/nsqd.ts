// `nsq nsqd` / `nsqd`: parse the original's flags and config file (X-CFG-FLAGS,
// X-CFG-FILE, D-FLAG-*), apply the startup checks the original makes, then run
// the daemon until SIGINT or SIGTERM (X-SIG).
import { ConfigError } from "../../src/common/flags.ts";
import { defaultNodeId } from "../../src/common/hash.ts";
import type { OptionTable } from "../../src/common/options.ts";
import { Nsqd } from "../../src/nsqd/nsqd.ts";
import { NSQD_OPTIONS, normaliseNsqdOptions, type NsqdOptions } from "../../src/nsqd/options.ts";
import type { CommandContext } from "../context.ts";
import { DAEMON_PROGRAM_FLAGS, daemonLogger, parseDaemonOptions, runUntilSignal } from "../daemon.ts";
import { errorText } from "../../src/common/errors.ts";

/**
 * nsqd's flag table for this host. As in the original, the hostname-derived
 * defaults are real defaults (shown by -help, overridden by flag or config):
 * D-FLAG-NODE-ID crc32(md5(hostname)) % 1024, D-FLAG-BROADCAST-ADDRESS hostname.
 */
export function nsqdFlags(hostname: string): OptionTable {
  return [
    ...DAEMON_PROGRAM_FLAGS,
    ...NSQD_OPTIONS.map((spec) => {
      if (spec.flag === "node-id") return { ...spec, default: defaultNodeId(hostname) };
      if (spec.flag === "broadcast-address") return { ...spec, default: hostname };
      return spec;
    }),
  ];
}

export async function nsqdCommand(ctx: CommandContext, args: readonly string[]): Promise<number> {
  const options = parseDaemonOptions<NsqdOptions>(ctx, args, {
    program: "nsqd",
    flags: nsqdFlags(ctx.runtime.hostname()),
    check: (o) => {
      try {
        return normaliseNsqdOptions(o);
      } catch (e) {
        // The original reports these as nsqd.New failures.
        throw new ConfigError(`failed to instantiate nsqd - ${errorText(e)}`);
      }
    },
  });
  if (typeof options === "number") return options;
  const logger = daemonLogger(ctx, options);
  const deps = { runtime: ctx.runtime, logger };
  let nsqd: { start(): Promise<void>; close(): Promise<void> };
  try {
    nsqd = ctx.components?.nsqd?.(options, deps) ?? new Nsqd(options, deps);
  } catch (e) {
    // What the constructor refuses (the TLS files) the original also reports from nsqd.New.
    logger.fatal(`failed to instantiate nsqd - ${errorText(e)}`);
    return 1;
  }
  return runUntilSignal(ctx, nsqd, "nsqd", logger);
}
