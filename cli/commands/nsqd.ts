// `nsq nsqd` / `nsqd`: parse the original's flags and config file (X-CFG-FLAGS,
// X-CFG-FILE, D-FLAG-*), apply the startup checks the original makes, then run
// the daemon until SIGINT or SIGTERM (X-SIG).
import { ConfigError, FlagError, parseCommandLine } from "../../src/common/flags.ts";
import { defaultNodeId } from "../../src/common/hash.ts";
import { createLogger, parseLogLevel } from "../../src/common/logger.ts";
import type { OptionTable } from "../../src/common/options.ts";
import { versionString } from "../../src/common/version.ts";
import { Nsqd } from "../../src/nsqd/nsqd.ts";
import { NSQD_OPTIONS, type NsqdOptions } from "../../src/nsqd/options.ts";
import type { CommandContext } from "../context.ts";

/** Flags of the nsqd program that are not options of the daemon itself. */
const PROGRAM_FLAGS: OptionTable = [
  { flag: "version", key: null, type: "bool", default: false, help: "print version string" },
  { flag: "config", key: null, type: "string", default: "", help: "path to config file" },
  // Prints the resolved options as JSON and exits: lets tests observe flag and
  // config-file handling through a real process.
  { flag: "print-options", key: null, type: "bool", default: false, help: "print the resolved options as JSON and exit", hidden: true },
];

/**
 * nsqd's flag table for this host. As in the original, the hostname-derived
 * defaults are real defaults (shown by -help, overridden by flag or config):
 * D-FLAG-NODE-ID crc32(md5(hostname)) % 1024, D-FLAG-BROADCAST-ADDRESS hostname.
 */
export function nsqdFlags(hostname: string): OptionTable {
  return [
    ...PROGRAM_FLAGS,
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
    throw new ConfigError((e as Error).message);
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
  const { runtime, io } = ctx;
  // Until the options are known, fatal lines use the default prefix and level.
  let logger = createLogger({ prefix: "[nsqd] ", level: "info", write: io.err });
  let options: NsqdOptions;
  try {
    const line = parseCommandLine<NsqdOptions>(nsqdFlags(runtime.hostname()), args, {
      program: "nsqd",
      readTextFile: (path) => runtime.fs.readText(path),
    });
    if (line.kind === "help") {
      io.out(line.usage);
      return 0;
    }
    if (line.kind === "version") {
      io.out(versionString("nsqd", runtime.version) + "\n");
      return 0;
    }
    try {
      options = checkNsqdOptions(line.options);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      // The original reports these as nsqd.New failures.
      throw new ConfigError(`failed to instantiate nsqd - ${e.message}`);
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
  const deps = { runtime, logger };
  const nsqd = ctx.components?.nsqd?.(options, deps) ?? new Nsqd(options, deps);
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const removers = [runtime.onSignal("SIGINT", () => stop()), runtime.onSignal("SIGTERM", () => stop())];
  const cleanup = () => removers.forEach((remove) => remove());
  try {
    await nsqd.start();
  } catch (e) {
    logger.fatal(`failed to start nsqd - ${(e as Error).message}`);
    cleanup();
    await nsqd.close().catch(() => {});
    return 1;
  }
  await stopped;
  cleanup();
  try {
    await nsqd.close();
  } catch (e) {
    logger.error(`failed to close nsqd - ${(e as Error).message}`);
    return 1;
  }
  return 0;
}
