// `nsq up`: a local development cluster in one process: an nsqlookupd and an
// nsqd registered with it, both on loopback with the original's default ports,
// messages kept under ./data. Prints where everything listens; stops on
// SIGINT/SIGTERM (nsqd first, so it can unregister and persist).
import { ConfigError, FlagError, parseCommandLine } from "../../src/common/flags.ts";
import { defaultNodeId } from "../../src/common/hash.ts";
import { createLogger, parseLogLevel } from "../../src/common/logger.ts";
import type { OptionSpec, OptionTable } from "../../src/common/options.ts";
import { versionString } from "../../src/common/version.ts";
import { formatAddress } from "../../src/common/address.ts";
import { Admin } from "../../src/admin/admin.ts";
import { defaultAdminOptions } from "../../src/admin/options.ts";
import { Lookupd } from "../../src/lookupd/lookupd.ts";
import { defaultLookupdOptions } from "../../src/lookupd/options.ts";
import { Nsqd } from "../../src/nsqd/nsqd.ts";
import { NSQD_OPTIONS, type NsqdOptions } from "../../src/nsqd/options.ts";
import type { Address } from "../../src/runtime/types.ts";
import type { CommandContext } from "../context.ts";
import { runUntilSignal } from "../daemon.ts";
import { errorText } from "../../src/common/errors.ts";

interface UpOptions {
  data_path: string;
  lookupd_tcp_address: string;
  lookupd_http_address: string;
  nsqd_tcp_address: string;
  nsqd_http_address: string;
  admin_http_address: string;
  log_level: string;
}

// biome-ignore format: one option per line reads as a table
const UP_FLAGS: OptionTable = [
  { flag: "version", key: null, type: "bool", default: false, help: "print version string" },
  { flag: "data-path", key: "data_path", type: "string", default: "./data", help: "directory for nsqd's disk queues and metadata" },
  { flag: "lookupd-tcp-address", key: "lookupd_tcp_address", type: "string", default: "127.0.0.1:4160", help: "<addr>:<port> of nsqlookupd's TCP listener" },
  { flag: "lookupd-http-address", key: "lookupd_http_address", type: "string", default: "127.0.0.1:4161", help: "<addr>:<port> of nsqlookupd's HTTP API" },
  { flag: "nsqd-tcp-address", key: "nsqd_tcp_address", type: "string", default: "127.0.0.1:4150", help: "<addr>:<port> of nsqd's TCP listener" },
  { flag: "nsqd-http-address", key: "nsqd_http_address", type: "string", default: "127.0.0.1:4151", help: "<addr>:<port> of nsqd's HTTP API" },
  { flag: "admin-http-address", key: "admin_http_address", type: "string", default: "127.0.0.1:4171", help: "<addr>:<port> of the nsqadmin web UI (empty: no UI)" },
  { flag: "log-level", key: "log_level", type: "string", default: "info", help: "set log verbosity: debug, info, warn, error, or fatal", choices: ["debug", "info", "warn", "warning", "error", "fatal"] },
];

/** nsqd's defaults for this host, as `nsq nsqd` with no flags would resolve them. */
function nsqdDefaults(hostname: string): NsqdOptions {
  const o: Record<string, unknown> = {};
  const value = (spec: OptionSpec) => (typeof spec.default === "function" ? (spec.default as () => unknown)() : spec.default);
  for (const spec of NSQD_OPTIONS) {
    if (spec.key === null) continue;
    const d = value(spec);
    o[spec.key] = Array.isArray(d) ? [...d] : d;
  }
  o.id = defaultNodeId(hostname);
  return o as unknown as NsqdOptions;
}

function show(a: Address | null): string {
  return a === null ? "-" : formatAddress(a);
}

export async function upCommand(ctx: CommandContext, args: readonly string[]): Promise<number> {
  const { runtime, io } = ctx;
  let options: UpOptions;
  try {
    const line = parseCommandLine<UpOptions>(UP_FLAGS, args, { program: "nsq up", readTextFile: (p) => runtime.fs.readText(p) });
    if (line.kind === "help") {
      io.out(line.usage);
      return 0;
    }
    if (line.kind === "version") {
      io.out(versionString("nsq", runtime.version) + "\n");
      return 0;
    }
    options = line.options;
    try {
      options.log_level = parseLogLevel(options.log_level);
    } catch (e) {
      throw new ConfigError(errorText(e));
    }
  } catch (e) {
    if (e instanceof FlagError) {
      io.err(e.message + "\n");
      return e.exitCode;
    }
    if (e instanceof ConfigError) {
      io.err(`nsq up: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }

  const level = parseLogLevel(options.log_level);
  const lookupd = new Lookupd(
    defaultLookupdOptions({ tcp_address: options.lookupd_tcp_address, http_address: options.lookupd_http_address, broadcast_address: "127.0.0.1" }),
    { runtime, logger: createLogger({ prefix: "[nsqlookupd] ", level, write: io.err }) },
  );
  let nsqd: Nsqd | null = null;
  let admin: Admin | null = null;
  const cluster = {
    start: async () => {
      await lookupd.start();
      const nsqdOptions: NsqdOptions = {
        ...nsqdDefaults(runtime.hostname()),
        tcp_address: options.nsqd_tcp_address,
        http_address: options.nsqd_http_address,
        https_address: "",
        broadcast_address: "127.0.0.1",
        data_path: runtime.fs.resolve(options.data_path),
        nsqlookupd_tcp_addresses: [show(lookupd.tcpAddress)],
      };
      nsqd = new Nsqd(nsqdOptions, { runtime, logger: createLogger({ prefix: "[nsqd] ", level, write: io.err }) });
      await nsqd.start();
      if (options.admin_http_address !== "") {
        admin = new Admin(
          defaultAdminOptions({ http_address: options.admin_http_address, nsqlookupd_http_addresses: [show(lookupd.httpAddress)], log_level: level }),
          { runtime, logger: createLogger({ prefix: "[nsqadmin] ", level, write: io.err }) },
        );
        try {
          await admin.start();
        } catch (e) {
          // The UI is a convenience: a busy port must not stop the cluster.
          io.err(`nsq up: nsqadmin not started - ${errorText(e)}\n`);
          await admin.close().catch(() => {});
          admin = null;
        }
      }
      io.out(
        `nsq up: a local NSQ cluster (${versionString("nsq", runtime.version)})\n` +
          `  nsqlookupd  tcp ${show(lookupd.tcpAddress)}  http http://${show(lookupd.httpAddress)}\n` +
          `  nsqd        tcp ${show(nsqd.tcpAddress)}  http http://${show(nsqd.httpAddress)}\n` +
          (admin ? `  nsqadmin    http://${show(admin.httpAddress)}\n` : "") +
          `  data        ${nsqdOptions.data_path}\n` +
          `Consumers: --lookupd-http-address=${show(lookupd.httpAddress)}  Producers: --nsqd-tcp-address=${show(nsqd.tcpAddress)}\n` +
          `Press Ctrl-C to stop.\n`,
      );
    },
    close: async () => {
      await admin?.close();
      await nsqd?.close();
      await lookupd.close();
    },
  };
  return runUntilSignal(ctx, cluster, "nsq up", { fatal: (m) => io.err(`nsq up: ${m}\n`), error: (m) => io.err(`nsq up: ${m}\n`) });
}
