// Go's scalar syntaxes (strconv.ParseBool / ParseInt / ParseFloat), shared by
// the flag parser (X-CFG-FLAGS) and the client's options (U-CLI-OPTS). Kept
// apart from flags.ts so the client library loads no config-file parser.

const GO_TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const GO_FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);

/** strconv.ParseBool; null when the text is not a Go boolean. */
export function parseGoBool(text: string): boolean | null {
  if (GO_TRUE.has(text)) return true;
  if (GO_FALSE.has(text)) return false;
  return null;
}

/**
 * strconv.ParseInt(text, 0, 64): decimal, 0x/0o/0b prefixes, a leading 0 for
 * octal, underscores between digits when a prefix is present. Throws
 * SyntaxError("parse error") or RangeError("value out of range") (beyond the
 * safe-integer range, which all our integer options fit in).
 */
export function parseGoInt(text: string): number {
  const m = /^([+-]?)(.*)$/.exec(text)!;
  const sign = m[1] === "-" ? -1n : 1n;
  let body = m[2]!;
  let radix: "0x" | "0b" | "0o" | "" = "";
  let digits: RegExp = /^[0-9]$/;
  let prefixed = false;
  if (/^0[xX]/.test(body)) [radix, digits, prefixed, body] = ["0x", /^[0-9a-fA-F]$/, true, body.slice(2)];
  else if (/^0[bB]/.test(body)) [radix, digits, prefixed, body] = ["0b", /^[01]$/, true, body.slice(2)];
  else if (/^0[oO]/.test(body)) [radix, digits, prefixed, body] = ["0o", /^[0-7]$/, true, body.slice(2)];
  else if (body.length > 1 && body[0] === "0") [radix, digits, prefixed, body] = ["0o", /^[0-7]$/, true, body.slice(1)];
  // Go literal rules: "_" only between digits, or right after a base prefix.
  if (prefixed && body.startsWith("_")) body = body.slice(1);
  if (body === "" || body.startsWith("_") || body.endsWith("_") || body.includes("__")) throw new SyntaxError("parse error");
  const plain = body.replaceAll("_", "");
  for (const ch of plain) if (!digits.test(ch)) throw new SyntaxError("parse error");
  const value = sign * BigInt(radix + plain);
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError("value out of range");
  }
  return Number(value);
}

/** strconv.ParseFloat(text, 64) for decimal forms, "inf"/"infinity"/"nan". */
export function parseGoFloat(text: string): number {
  const lower = text.toLowerCase();
  const unsigned = lower.replace(/^[+-]/, "");
  if (unsigned === "inf" || unsigned === "infinity") return lower.startsWith("-") ? -Infinity : Infinity;
  if (unsigned === "nan") return Number.NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new SyntaxError("parse error");
  const v = Number(text);
  if (!Number.isFinite(v)) throw new RangeError("value out of range");
  return v;
}
