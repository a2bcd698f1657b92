// nsq_to_file (U-FILE-*): archive topics to files, one FileLogger per topic,
// topics given with --topic or discovered through lookupd by --topic-pattern.
import type { OptionTable } from "../common/options.ts";
import { parseLogLevel } from "../common/logger.ts";
import type { LogLevel } from "../common/log.ts";
import { Consumer } from "../client/consumer.ts";
import { lookupTopics } from "../client/lookupd.ts";
import { isValidChannelName, isValidTopicName } from "../protocol/names.ts";
import { FileLogger, fileNameFormat, type FileLoggerOptions } from "./file-logger.ts";
import {
  SignalWaiter,
  ToolError,
  VERSION_FLAG,
  listFlag,
  parseToolFlags,
  requireOneAddressKind,
  runTool,
  toolConfig,
  toolLogger,
  type ToolContext,
} from "./common.ts";
import type { Config } from "../client/config.ts";
import { errorText } from "../common/errors.ts";

// biome-ignore format: one option per line reads as a table
export const TO_FILE_FLAGS: OptionTable = [
  VERSION_FLAG,
  { flag: "log-level", key: "log_level", type: "string", default: "info", help: "set log verbosity: debug, info, warn, error, or fatal" },
  { flag: "log-prefix", key: "log_prefix", type: "string", default: "[nsq_to_file] ", help: "log message prefix" },
  { flag: "channel", key: "channel", type: "string", default: "nsq_to_file", help: "nsq channel" },
  { flag: "max-in-flight", key: "max_in_flight", type: "int", default: 200, help: "max number of messages to allow in flight" },
  { flag: "output-dir", key: "output_dir", type: "string", default: "/tmp", help: "directory to write output files to" },
  { flag: "work-dir", key: "work_dir", type: "string", default: "", help: "directory for in-progress files before moving to output-dir" },
  { flag: "datetime-format", key: "datetime_format", type: "string", default: "%Y-%m-%d_%H", help: "strftime compatible format for <DATETIME> in filename format" },
  { flag: "filename-format", key: "filename_format", type: "string", default: "<TOPIC>.<HOST><REV>.<DATETIME>.log", help: "output filename format (<TOPIC>, <HOST>, <PID>, <DATETIME>, <REV> are replaced. <REV> is increased when file already exists)" },
  { flag: "host-identifier", key: "host_identifier", type: "string", default: "", help: "value to output in log filename in place of hostname. <SHORT_HOST> and <HOSTNAME> are valid replacement tokens" },
  { flag: "gzip-level", key: "gzip_level", type: "int", default: 6, help: "gzip compression level (1-9, 1=BestSpeed, 9=BestCompression)" },
  { flag: "gzip", key: "gzip", type: "bool", default: false, help: "gzip output files." },
  { flag: "skip-empty-files", key: "skip_empty_files", type: "bool", default: false, help: "skip writing empty files" },
  { flag: "topic-refresh", key: "topic_refresh", type: "duration", default: 60_000, help: "how frequently the topic list should be refreshed" },
  { flag: "topic-pattern", key: "topic_pattern", type: "string", default: "", help: "only log topics matching the following pattern" },
  { flag: "rotate-size", key: "rotate_size", type: "int", default: 0, help: "rotate the file when it grows bigger than `rotate-size` bytes" },
  { flag: "rotate-interval", key: "rotate_interval", type: "duration", default: 0, help: "rotate the file every duration" },
  { flag: "sync-interval", key: "sync_interval", type: "duration", default: 30_000, help: "sync file to disk every duration" },
  { flag: "http-client-connect-timeout", key: "http_client_connect_timeout", type: "duration", default: 2000, help: "timeout for HTTP connect" },
  { flag: "http-client-request-timeout", key: "http_client_request_timeout", type: "duration", default: 5000, help: "timeout for HTTP request" },
  listFlag("nsqd-tcp-address", "nsqd TCP address (may be given multiple times)"),
  listFlag("lookupd-http-address", "lookupd HTTP address (may be given multiple times)"),
  listFlag("topic", "nsq topic (may be given multiple times)"),
  listFlag("consumer-opt", "option to passthrough to nsq.Consumer (may be given multiple times, http://godoc.org/github.com/nsqio/go-nsq#Config)"),
];

interface ToFileOptions {
  log_level: string;
  log_prefix: string;
  channel: string;
  max_in_flight: number;
  output_dir: string;
  work_dir: string;
  datetime_format: string;
  filename_format: string;
  host_identifier: string;
  gzip_level: number;
  gzip: boolean;
  skip_empty_files: boolean;
  topic_refresh: number;
  topic_pattern: string;
  rotate_size: number;
  rotate_interval: number;
  sync_interval: number;
  http_client_connect_timeout: number;
  http_client_request_timeout: number;
  nsqd_tcp_address: string[];
  lookupd_http_address: string[];
  topic: string[];
  consumer_opt: string[];
}

export async function toFileMain(ctx: ToolContext, args: readonly string[]): Promise<number> {
  const parsed = parseToolFlags<ToFileOptions>(ctx, "nsq_to_file", TO_FILE_FLAGS, args);
  if (parsed.kind === "exit") return parsed.code;
  const o = parsed.options;
  const { runtime } = ctx;
  let level: LogLevel;
  try {
    level = parseLogLevel(o.log_level);
  } catch (e) {
    ctx.io.err(`${errorText(e)}\n`);
    return 1;
  }
  const logger = toolLogger(ctx, o.log_prefix, level);
  return runTool(logger, async () => {
    if (parsed.rest.length > 0) throw new ToolError(`unknown arguments: ${parsed.rest.join(" ")}`);
    if (o.channel === "") throw new ToolError("--channel is required");
    if (!isValidChannelName(o.channel)) throw new ToolError("--channel is invalid");
    if (!(o.http_client_connect_timeout > 0)) throw new ToolError("--http-client-connect-timeout should be positive");
    if (!(o.http_client_request_timeout > 0)) throw new ToolError("--http-client-request-timeout should be positive");
    requireOneAddressKind(o.nsqd_tcp_address, o.lookupd_http_address);
    if (o.topic.length === 0 && o.topic_pattern === "") throw new ToolError("--topic or --topic-pattern required");
    if (o.topic.length === 0 && o.lookupd_http_address.length === 0) throw new ToolError("--lookupd-http-address must be specified when no --topic specified");
    for (const t of o.topic) if (!isValidTopicName(t)) throw new ToolError(`invalid topic name ${JSON.stringify(t)}`);
    if (o.gzip_level < 1 || o.gzip_level > 9) throw new ToolError(`invalid --gzip-level value (${o.gzip_level}), should be 1-9`);
    if (o.max_in_flight < 1) throw new ToolError("--max-in-flight must be at least 1");
    if (!(o.sync_interval > 0)) throw new ToolError("--sync-interval should be positive");
    let pattern: RegExp;
    try {
      pattern = new RegExp(o.topic_pattern);
    } catch (e) {
      throw new ToolError(`invalid --topic-pattern - ${errorText(e)}`);
    }
    const workDir = o.work_dir === "" ? o.output_dir : o.work_dir;
    const hostname = runtime.hostname();
    const shortHost = hostname.split(".")[0] ?? hostname;
    const host = o.host_identifier === "" ? shortHost : o.host_identifier.replaceAll("<SHORT_HOST>", shortHost).replaceAll("<HOSTNAME>", hostname);
    const needsRev = o.gzip || o.rotate_size > 0 || o.rotate_interval > 0 || workDir !== o.output_dir;
    const formatFor = (topic: string) => {
      try {
        return fileNameFormat(o.filename_format, { topic, host, pid: runtime.pid, gzip: o.gzip, needsRev });
      } catch (e) {
        throw new ToolError(errorText(e));
      }
    };
    formatFor("check");
    const config: Config = toolConfig(runtime, "nsq_to_file", { max_in_flight: o.max_in_flight }, o.consumer_opt);
    runtime.fs.mkdir(o.output_dir, 0o770);
    if (workDir !== o.output_dir) runtime.fs.mkdir(workDir, 0o770);

    const loggers = new Map<string, { file: FileLogger; consumer: Consumer }>();
    const start = async (topic: string) => {
      if (loggers.has(topic)) return;
      const options: FileLoggerOptions = {
        outputDir: o.output_dir,
        workDir,
        datetimeFormat: o.datetime_format,
        filenameFormat: formatFor(topic),
        gzip: o.gzip,
        gzipLevel: o.gzip_level,
        skipEmptyFiles: o.skip_empty_files,
        rotateSize: o.rotate_size,
        rotateIntervalMs: o.rotate_interval,
        maxPending: o.max_in_flight,
      };
      const file = new FileLogger(topic, options, { runtime, logger });
      const consumer = new Consumer(topic, o.channel, config, { runtime, logger });
      file.attach(consumer);
      // Write/sync/close errors are fatal (U-FILE-WRITE).
      consumer.addHandler((m) => {
        try {
          const r = file.handle(m);
          return r === undefined
            ? undefined
            : r.catch((e: unknown) => {
                fatal(e);
                throw e;
              });
        } catch (e) {
          fatal(e);
          throw e;
        }
      });
      loggers.set(topic, { file, consumer });
      if (o.nsqd_tcp_address.length > 0) await consumer.connectToNsqds(o.nsqd_tcp_address);
      else await consumer.connectToNsqLookupds(o.lookupd_http_address);
    };

    const discover = async () => {
      const found = new Set<string>();
      for (const l of o.lookupd_http_address) {
        try {
          for (const t of await lookupTopics(l, { timeoutMs: o.http_client_request_timeout })) found.add(t);
        } catch (e) {
          logger.error(`could not retrieve topic list: ${errorText(e)}`);
        }
      }
      for (const t of found) {
        if (loggers.has(t) || !pattern.test(t) || !isValidTopicName(t)) continue;
        await start(t).catch((e) => logger.error(`[${t}] ${errorText(e)}`));
      }
    };

    const signals = new SignalWaiter(runtime, ["SIGINT", "SIGTERM", "SIGHUP"]);
    const syncTimer = setInterval(() => {
      for (const { file } of loggers.values()) file.tick().catch(fatal);
    }, o.sync_interval);
    let refreshTimer: ReturnType<typeof setInterval> | null = null;
    let failed: Error | null = null;
    let wakeOnFailure: (() => void) | null = null;
    function fatal(e: unknown): void {
      failed ??= e as Error;
      wakeOnFailure?.();
    }
    try {
      if (o.topic.length > 0) {
        for (const t of o.topic) await start(t);
      } else {
        await discover();
        refreshTimer = setInterval(() => void discover(), o.topic_refresh);
      }
      const failure = new Promise<"failed">((resolve) => (wakeOnFailure = () => resolve("failed")));
      for (;;) {
        const s = await Promise.race([signals.next(), failure]);
        if (s === "SIGHUP") {
          // U-FILE-HUP: sync and close every file; the next message reopens.
          logger.info("received SIGHUP, closing files");
          await Promise.all([...loggers.values()].map(({ file }) => file.close()));
          continue;
        }
        break;
      }
      if (failed) throw failed;
    } finally {
      clearInterval(syncTimer);
      if (refreshTimer !== null) clearInterval(refreshTimer);
      signals.dispose();
      const all = [...loggers.values()];
      await Promise.all(all.map(({ file }) => file.startClosing().catch(() => {})));
      await Promise.all(all.map(({ consumer }) => consumer.stop()));
      await Promise.all(all.map(({ file }) => file.close().catch(() => {})));
    }
    if (failed) throw failed;
    return 0;
  });
}
