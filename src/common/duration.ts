// Go duration strings (X-CFG-FLAGS, X-CFG-FILE): the original's duration flags
// and config values use Go's time.ParseDuration syntax, and its help text and
// /config answers print durations the way time.Duration.String() does. Options
// hold durations as milliseconds (possibly fractional for sub-millisecond units).
//
// Arithmetic is done in integer nanoseconds with BigInt so that "1h2m3.5s" or
// "9223372036854775807ns" are exact and overflow is detected the way Go does.

const NS_PER_UNIT: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  "\u00b5s": 1_000n, // micro sign
  "\u03bcs": 1_000n, // Greek small letter mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const MAX_NS = (1n << 63n) - 1n;

function isDigit(c: string): boolean {
  return c >= "0" && c <= "9";
}

/**
 * Parse a Go duration ("1h2m3.5s", "250ms", "-1.5h", "0") into integer nanoseconds.
 * Throws SyntaxError with Go's wording (`time: invalid duration "x"`).
 */
export function parseDurationNs(input: string): bigint {
  const invalid = () => new SyntaxError(`time: invalid duration ${JSON.stringify(input)}`);
  let s = input;
  let negative = false;
  if (s.length > 0 && (s[0] === "-" || s[0] === "+")) {
    negative = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0n;
  if (s === "") throw invalid();
  let total = 0n;
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c !== "." && !isDigit(c)) throw invalid();
    let intStart = i;
    while (i < s.length && isDigit(s[i]!)) i++;
    const intDigits = s.slice(intStart, i);
    let fracDigits = "";
    if (i < s.length && s[i] === ".") {
      i++;
      intStart = i;
      while (i < s.length && isDigit(s[i]!)) i++;
      fracDigits = s.slice(intStart, i);
    }
    if (intDigits === "" && fracDigits === "") throw invalid();
    const unitStart = i;
    while (i < s.length && s[i] !== "." && !isDigit(s[i]!)) i++;
    const unit = s.slice(unitStart, i);
    if (unit === "") throw new SyntaxError(`time: missing unit in duration ${JSON.stringify(input)}`);
    const scale = NS_PER_UNIT[unit];
    if (scale === undefined) {
      throw new SyntaxError(`time: unknown unit ${JSON.stringify(unit)} in duration ${JSON.stringify(input)}`);
    }
    let value = BigInt(intDigits === "" ? "0" : intDigits) * scale;
    if (fracDigits !== "") {
      // Same arithmetic as Go (float64 for the fraction, digits kept while they fit
      // in an int64), so results agree to the nanosecond: "0.3333333333333333333h" is 20m.
      let f = 0n;
      let fscale = 1;
      for (const ch of fracDigits) {
        if (f > MAX_NS / 10n) continue;
        f = f * 10n + BigInt(ch);
        fscale *= 10;
      }
      value += BigInt(Math.trunc(Number(f) * (Number(scale) / fscale)));
    }
    total += value;
    if (total > MAX_NS + (negative ? 1n : 0n)) throw invalid();
  }
  return negative ? -total : total;
}

/** Parse a Go duration into milliseconds. */
export function parseDuration(input: string): number {
  return Number(parseDurationNs(input)) / 1e6;
}

/** Render the digits of `v` as a fraction with `prec` places, dropping trailing zeros (and the dot when none remain). */
function splitFraction(v: bigint, prec: number): { whole: bigint; frac: string } {
  const div = 10n ** BigInt(prec);
  const fracValue = v % div;
  let frac = "";
  if (fracValue !== 0n) {
    frac = "." + fracValue.toString().padStart(prec, "0").replace(/0+$/, "");
  }
  return { whole: v / div, frac };
}

/** Format integer nanoseconds the way Go's time.Duration.String() does ("1m0s", "1.5ms", "0s"). */
export function formatDurationNs(ns: bigint): string {
  if (ns === 0n) return "0s";
  const sign = ns < 0n ? "-" : "";
  const u = ns < 0n ? -ns : ns;
  if (u < 1_000_000_000n) {
    if (u < 1_000n) return `${sign}${u}ns`;
    if (u < 1_000_000n) {
      const { whole, frac } = splitFraction(u, 3);
      return `${sign}${whole}${frac}\u00b5s`;
    }
    const { whole, frac } = splitFraction(u, 6);
    return `${sign}${whole}${frac}ms`;
  }
  const { whole: totalSeconds, frac } = splitFraction(u, 9);
  const seconds = totalSeconds % 60n;
  const totalMinutes = totalSeconds / 60n;
  let out = `${seconds}${frac}s`;
  if (totalMinutes > 0n) {
    out = `${totalMinutes % 60n}m` + out;
    const hours = totalMinutes / 60n;
    if (hours > 0n) out = `${hours}h` + out;
  }
  return sign + out;
}

/** Format milliseconds as a Go duration string. */
export function formatDuration(ms: number): string {
  return formatDurationNs(BigInt(Math.round(ms * 1e6)));
}
