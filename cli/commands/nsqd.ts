// `nsq nsqd` / `nsqd`: parse the original's flags and config file (X-CFG-FLAGS,
// X-CFG-FILE, D-FLAG-*), apply the startup checks the original makes, then run
// the daemon until SIGINT or SIGTERM (X-SIG).
import { ConfigError } from "../../src/common/flags.ts";
import { defaultNodeId } from "../../src/common/hash.ts";
import { parseLogLevel } from "../../src/common/logger.ts";
import type { OptionTable } from "../../src/common/options.ts";
import { Nsqd } from "../../src/nsqd/nsqd.ts";
import { NSQD_OPTIONS, type NsqdOptions } from "../../src/nsqd/options.ts";
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

/**
 * The checks the original applies at startup (apps/nsqd and nsqd.New), with its
 * wording. Returns normalised options; throws ConfigError.
 */
export function checkNsqdOptions(options: NsqdOptions): NsqdOptions {
  const o: NsqdOptions = { ...options };
  try {
    o.log_level = parseLogLevel(o.log_level);
  } catch (e) {
    throw new ConfigError(errorText(e));
  }
  // D-FLAG-TLS-MIN-VERSION: an empty value keeps the default.
  if (o.tls_min_version === "") o.tls_min_version = "tls1.0";
  if (o.max_deflate_level < 1 || o.max_deflate_level > 9) {
    throw new ConfigError("--max-deflate-level must be [1,9]");
  }
  if (!Number.isInteger(o.id) || o.id < 0 || o.id >= 1024) {
    throw new ConfigError("--node-id must be [0,1024)");
  }
  // D-FLAG-E2E-PERCENTILE: values in (0, 1], kept sorted descending.
  for (const p of o.e2e_processing_latency_percentiles) {
    if (!(p > 0 && p <= 1)) throw new ConfigError(`invalid E2E processing latency percentile: ${p}`);
  }
  o.e2e_processing_latency_percentiles = [...o.e2e_processing_latency_percentiles].sort((a, b) => b - a);
  return o;
}

export async function nsqdCommand(ctx: CommandContext, args: readonly string[]): Promise<number> {
  const options = parseDaemonOptions<NsqdOptions>(ctx, args, {
    program: "nsqd",
    flags: nsqdFlags(ctx.runtime.hostname()),
    check: (o) => {
      try {
        return checkNsqdOptions(o);
      } catch (e) {
        // The original reports these as nsqd.New failures.
        throw new ConfigError(`failed to instantiate nsqd - ${errorText(e)}`);
      }
    },
  });
  if (typeof options === "number") return options;
  const logger = daemonLogger(ctx, options);
  const deps = { runtime: ctx.runtime, logger };
  const nsqd = ctx.components?.nsqd?.(options, deps) ?? new Nsqd(options, deps);
  return runUntilSignal(ctx, nsqd, "nsqd", logger);
}
