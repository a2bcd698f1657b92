// X-LOG: line shape, levels, filtering.
import { describe, expect, test } from "vitest";
import { createLogger, formatLogTime, logLevelNumber, parseLogLevel } from "../../src/common/logger.ts";

function capture(level: Parameters<typeof createLogger>[0]["level"], prefix = "[nsqd] ") {
  const lines: string[] = [];
  // 2026-01-02 15:04:05.000123 local time
  const at = new Date(2026, 0, 2, 15, 4, 5).getTime() + 0.123;
  const logger = createLogger({ prefix, level, write: (l) => lines.push(l), now: () => at });
  return { logger, lines };
}

describe("createLogger", () => {
  test("writes the original's line shape: prefix, local date/time with microseconds, LEVEL: text", () => {
    const { logger, lines } = capture("debug");
    logger.info("TCP: listening on 127.0.0.1:4150");
    expect(lines).toEqual(["[nsqd] 2026/01/02 15:04:05.000123 INFO: TCP: listening on 127.0.0.1:4150\n"]);
  });

  test("level names are DEBUG INFO WARNING ERROR FATAL", () => {
    const { logger, lines } = capture("debug", "[nsqlookupd] ");
    logger.debug("d");
    logger.info("i");
    logger.warn("w");
    logger.error("e");
    logger.fatal("f");
    expect(lines.map((l) => l.replace(/^\[nsqlookupd\] \S+ \S+ /, ""))).toEqual(["DEBUG: d\n", "INFO: i\n", "WARNING: w\n", "ERROR: e\n", "FATAL: f\n"]);
  });

  test("filters below the configured level (error and fatal are distinct)", () => {
    const levels = ["debug", "info", "warn", "error", "fatal"] as const;
    for (const [i, level] of levels.entries()) {
      const { logger, lines } = capture(level);
      logger.debug("x");
      logger.info("x");
      logger.warn("x");
      logger.error("x");
      logger.fatal("x");
      expect(lines.length, level).toBe(5 - i);
    }
  });

  test("setLevel changes filtering at run time", () => {
    const { logger, lines } = capture("info");
    logger.debug("hidden");
    logger.setLevel("debug");
    expect(logger.level).toBe("debug");
    logger.debug("shown");
    logger.setLevel("error");
    logger.warn("hidden");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("DEBUG: shown");
  });

  test("identical messages are never folded (consola throttling is off)", () => {
    const { logger, lines } = capture("info");
    for (let i = 0; i < 12; i++) logger.info("same");
    expect(lines).toHaveLength(12);
  });

  test("uses the real clock by default", () => {
    const lines: string[] = [];
    createLogger({ prefix: "[x] ", level: "info", write: (l) => lines.push(l) }).info("now");
    expect(lines[0]).toMatch(/^\[x\] \d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}\.\d{6} INFO: now\n$/);
  });
});

describe("formatLogTime", () => {
  test("pads every field and keeps microseconds from the fractional millisecond", () => {
    const t = new Date(2026, 8, 3, 4, 5, 6, 7).getTime();
    expect(formatLogTime(t)).toBe("2026/09/03 04:05:06.007000");
    expect(formatLogTime(t + 0.999)).toBe("2026/09/03 04:05:06.007999");
    expect(formatLogTime(t + 0.9996)).toBe("2026/09/03 04:05:06.008000");
  });
});

describe("parseLogLevel", () => {
  test("accepts the original's names case-insensitively", () => {
    expect(parseLogLevel("DEBUG")).toBe("debug");
    expect(parseLogLevel("Info")).toBe("info");
    expect(parseLogLevel("warn")).toBe("warn");
    expect(parseLogLevel("warning")).toBe("warn");
    expect(parseLogLevel("ERROR")).toBe("error");
    expect(parseLogLevel("fatal")).toBe("fatal");
    expect(() => parseLogLevel("verbose")).toThrow("invalid log-level 'verbose'");
  });
  test("numbers match /config/log_level (1 debug .. 5 fatal)", () => {
    expect(["debug", "info", "warn", "error", "fatal"].map((l) => logLevelNumber(l as never))).toEqual([1, 2, 3, 4, 5]);
  });
});
