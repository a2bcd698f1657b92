// The Logger implementation (X-LOG) over consola, with a reporter that writes
// the original's line shape:
//
//   [nsqd] 2026/01/02 15:04:05.000000 INFO: message
//
// i.e. Go's log.New(os.Stderr, prefix, Ldate|Ltime|Lmicroseconds) with the
// level name in front of the text. Local time, microseconds, one line per call.
// Level filtering happens before consola is called: consola gives "error" and
// "fatal" the same numeric level, and skipping filtered messages early keeps
// debug logging cheap when it is off.
import { createConsola, type ConsolaInstance, type LogObject } from "consola/core";
import type { Logger, LogLevel } from "./log.ts";

const RANK: Readonly<Record<LogLevel, number>> = { debug: 1, info: 2, warn: 3, error: 4, fatal: 5 };

const LABEL: Readonly<Record<string, string>> = {
  debug: "DEBUG",
  info: "INFO",
  warn: "WARNING",
  error: "ERROR",
  fatal: "FATAL",
};

/**
 * Parse a --log-level value (case-insensitive). Accepts the original's names
 * (debug, info, warn, error, fatal) and "warning". Throws RangeError otherwise,
 * with the original's message.
 */
export function parseLogLevel(text: string): LogLevel {
  const lower = text.toLowerCase();
  if (lower === "warning") return "warn";
  if (Object.hasOwn(RANK, lower)) return lower as LogLevel;
  throw new RangeError(`invalid log-level '${text}'`);
}

/** The numeric level the original reports in /config/log_level (1 debug .. 5 fatal). */
export function logLevelNumber(level: LogLevel): number {
  return RANK[level];
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/** `YYYY/MM/DD HH:MM:SS.uuuuuu` in local time from epoch milliseconds (fraction = sub-ms). */
export function formatLogTime(epochMs: number): string {
  // Whole microseconds first, so a fractional millisecond never rounds into the next one.
  const totalMicros = Math.round(epochMs * 1000);
  const d = new Date(Math.floor(totalMicros / 1000));
  const micros = ((totalMicros % 1_000_000) + 1_000_000) % 1_000_000;
  return (
    `${d.getFullYear()}/${pad(d.getMonth() + 1, 2)}/${pad(d.getDate(), 2)} ` +
    `${pad(d.getHours(), 2)}:${pad(d.getMinutes(), 2)}:${pad(d.getSeconds(), 2)}.${pad(micros, 6)}`
  );
}

function defaultClock(): number {
  return performance.timeOrigin + performance.now();
}

export interface LoggerOptions {
  /** Line prefix, e.g. "[nsqd] " (note the trailing space, as in the original). */
  prefix: string;
  level: LogLevel;
  /** Receives each complete line, newline included (the CLI sends it to stderr). */
  write(line: string): void;
  /** Epoch milliseconds, fractional for microseconds; injectable for tests. */
  now?: () => number;
}

export interface LevelledLogger extends Logger {
  readonly level: LogLevel;
  /** Change the level at run time (nsqd's PUT /config/log_level). */
  setLevel(level: LogLevel): void;
}

export function createLogger(options: LoggerOptions): LevelledLogger {
  const { prefix, write } = options;
  const now = options.now ?? defaultClock;
  let rank = RANK[options.level];
  let level = options.level;
  const consola: ConsolaInstance = createConsola({
    // consola filters by its own scale; ours is applied before calling it.
    level: 5,
    // consola would otherwise fold repeated identical lines; the original never does.
    throttle: 0,
    reporters: [
      {
        log(obj: LogObject) {
          const text = obj.args.map((a) => (typeof a === "string" ? a : String(a))).join(" ");
          write(`${prefix}${formatLogTime(now())} ${LABEL[obj.type] ?? "INFO"}: ${text}\n`);
        },
      },
    ],
  });
  return {
    get level() {
      return level;
    },
    setLevel(next: LogLevel) {
      level = next;
      rank = RANK[next];
    },
    debug(message: string) {
      if (rank <= 1) consola.debug(message);
    },
    info(message: string) {
      if (rank <= 2) consola.info(message);
    },
    warn(message: string) {
      if (rank <= 3) consola.warn(message);
    },
    error(message: string) {
      if (rank <= 4) consola.error(message);
    },
    fatal(message: string) {
      consola.fatal(message);
    },
  };
}
