// X-CFG-FLAGS / X-CFG-FILE: Go duration syntax in and out.
import { describe, expect, test } from "vitest";
import { formatDuration, formatDurationNs, parseDuration, parseDurationNs } from "../../src/common/duration.ts";

describe("parseDuration (Go time.ParseDuration)", () => {
  const ok: Array<[string, bigint]> = [
    ["0", 0n],
    ["-0", 0n],
    ["+0", 0n],
    ["5s", 5_000_000_000n],
    ["30s", 30_000_000_000n],
    ["1478s", 1_478_000_000_000n],
    ["-5s", -5_000_000_000n],
    ["+5s", 5_000_000_000n],
    ["-0s", 0n],
    ["5.0s", 5_000_000_000n],
    ["5.6s", 5_600_000_000n],
    ["5.s", 5_000_000_000n],
    [".5s", 500_000_000n],
    ["1.004s", 1_004_000_000n],
    ["100.00100s", 100_001_000_000n],
    ["10ns", 10n],
    ["11us", 11_000n],
    ["12\u00b5s", 12_000n],
    ["12\u03bcs", 12_000n],
    ["13ms", 13_000_000n],
    ["250ms", 250_000_000n],
    ["300us", 300_000n],
    ["14s", 14_000_000_000n],
    ["15m", 900_000_000_000n],
    ["16h", 57_600_000_000_000n],
    ["1.5h", 5_400_000_000_000n],
    ["3h30m", 12_600_000_000_000n],
    ["1h2m3.5s", 3_723_500_000_000n],
    ["10.5s4m", 250_500_000_000n],
    ["-2m3.4s", -123_400_000_000n],
    ["1h2m3s4ms5us6ns", 3_723_004_005_006n],
    ["39h9m14.425s", 140_954_425_000_000n],
    ["0.3333333333333333333h", 1_200_000_000_000n],
    ["9223372036854775807ns", 9_223_372_036_854_775_807n],
    ["9223372036854775.807us", 9_223_372_036_854_775_807n],
    ["-9223372036854775808ns", -9_223_372_036_854_775_808n],
  ];
  for (const [text, ns] of ok) {
    test(`accepts ${JSON.stringify(text)}`, () => {
      expect(parseDurationNs(text)).toBe(ns);
      expect(parseDuration(text)).toBe(Number(ns) / 1e6);
    });
  }

  const bad: Array<[string, RegExp]> = [
    ["", /invalid duration ""/],
    ["3", /missing unit in duration "3"/],
    ["-", /invalid duration/],
    ["s", /invalid duration/],
    [".", /invalid duration/],
    ["-.", /invalid duration/],
    [".s", /invalid duration/],
    ["+.s", /invalid duration/],
    ["1d", /unknown unit "d" in duration "1d"/],
    ["1sec", /unknown unit "sec"/],
    ["1s ", /unknown unit "s "/],
    ["9223372036854775808ns", /invalid duration/],
    ["9223372036854775.808us", /invalid duration/],
    ["-9223372036854775809ns", /invalid duration/],
    ["abc", /invalid duration "abc"/],
  ];
  for (const [text, message] of bad) {
    test(`rejects ${JSON.stringify(text)}`, () => {
      expect(() => parseDuration(text)).toThrow(message);
      expect(() => parseDuration(text)).toThrow(SyntaxError);
    });
  }
});

describe("formatDuration (Go time.Duration.String)", () => {
  const cases: Array<[bigint, string]> = [
    [0n, "0s"],
    [1n, "1ns"],
    [999n, "999ns"],
    [1_000n, "1\u00b5s"],
    [1_100n, "1.1\u00b5s"],
    [2_200_000n, "2.2ms"],
    [25_000_000n, "25ms"],
    [250_000_000n, "250ms"],
    [3_300_000_000n, "3.3s"],
    [2_000_000_000n, "2s"],
    [30_000_000_000n, "30s"],
    [60_000_000_000n, "1m0s"],
    [240_000_000_000n, "4m0s"],
    [270_000_000_000n, "4m30s"],
    [301_000_000_000n, "5m1s"],
    [900_000_000_000n, "15m0s"],
    [3_600_000_000_000n, "1h0m0s"],
    [3_723_500_000_000n, "1h2m3.5s"],
    [3_723_000_000_001n, "1h2m3.000000001s"],
    [-1n, "-1ns"],
    [-3_723_500_000_000n, "-1h2m3.5s"],
    [9_223_372_036_854_775_807n, "2562047h47m16.854775807s"],
    [-9_223_372_036_854_775_808n, "-2562047h47m16.854775808s"],
  ];
  for (const [ns, text] of cases) {
    test(`${ns}ns -> ${text}`, () => {
      expect(formatDurationNs(ns)).toBe(text);
      if (text !== "0s" && !text.includes("2562047h")) expect(parseDurationNs(text)).toBe(ns);
    });
  }

  test("formats milliseconds as the original shows its defaults", () => {
    expect(formatDuration(60_000)).toBe("1m0s");
    expect(formatDuration(2_000)).toBe("2s");
    expect(formatDuration(250)).toBe("250ms");
    expect(formatDuration(0.3)).toBe("300\u00b5s");
    expect(formatDuration(3_600_000)).toBe("1h0m0s");
  });
});
