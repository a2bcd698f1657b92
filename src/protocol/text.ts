// Small byte/text helpers shared by the codecs: ASCII decoding without a
// TextDecoder round trip, the original's decimal parser (D-TCP-NUM), and Go's
// `%q` quoting, which the original uses in several error texts
// (`PUB topic name %q is not valid`).

const utf8Decoder = new TextDecoder("utf-8", { fatal: false });
const utf8Encoder = new TextEncoder();

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** Decodes bytes as UTF-8 (invalid sequences become U+FFFD). Used on cold paths (error texts, JSON). */
export function decodeUtf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

/**
 * Decodes bytes known to be ASCII (topic and channel names once validated)
 * without going through TextDecoder, which is slow for short inputs.
 */
export function decodeAscii(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let out = "";
  for (let i = start; i < end; i++) out += String.fromCharCode(bytes[i]!);
  return out;
}

/**
 * D-TCP-NUM: the original's base-10 parser. Decimal digits only (no sign, no
 * spaces); an empty token parses as 0 (a quirk clients may rely on). Returns
 * null on any other byte. Values above 2^53 lose precision; use
 * {@link parseDecimalU64} where the exact wrapped 64-bit value matters.
 */
export function parseDecimal(token: Uint8Array | string): number | null {
  let n = 0;
  if (typeof token === "string") {
    for (let i = 0; i < token.length; i++) {
      const d = token.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return null;
      n = n * 10 + d;
    }
    return n;
  }
  for (let i = 0; i < token.length; i++) {
    const d = token[i]! - 48;
    if (d < 0 || d > 9) return null;
    n = n * 10 + d;
  }
  return n;
}

const U64_MASK = (1n << 64n) - 1n;

/**
 * The same parse as {@link parseDecimal} but exact: the original accumulates in
 * a uint64 that silently wraps, so a 25-digit value yields its residue mod 2^64.
 * Cold path only (it uses BigInt).
 */
export function parseDecimalU64(token: Uint8Array | string): bigint | null {
  const text = typeof token === "string" ? token : decodeAscii(token);
  if (!/^[0-9]*$/.test(text)) return null;
  if (text.length === 0) return 0n;
  return BigInt(text) & U64_MASK;
}

/** Reinterprets a uint64 as Go's int64 (two's complement). */
export function toInt64(u: bigint): bigint {
  return BigInt.asIntN(64, u);
}

/** Go's strconv.IsPrint for non-ASCII code points: letters, marks, numbers, punctuation, symbols. */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

const HEX = "0123456789abcdef";

function hex2(b: number): string {
  return HEX[b >> 4]! + HEX[b & 15]!;
}

/**
 * Decodes one UTF-8 sequence at `i` with Go's rules (no overlongs, no
 * surrogates, max U+10FFFF). Returns the code point and its width, or -1 with
 * width 1 for an invalid byte (Go's RuneError of width 1).
 */
function decodeRune(bytes: Uint8Array, i: number, out: { cp: number; width: number }): void {
  const b0 = bytes[i]!;
  const n = bytes.length;
  out.cp = -1;
  out.width = 1;
  if (b0 < 0x80) {
    out.cp = b0;
    return;
  }
  let need = 0;
  let cp = 0;
  let lo = 0x80;
  let hi = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    need = 1;
    cp = b0 & 0x1f;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    need = 2;
    cp = b0 & 0x0f;
    if (b0 === 0xe0) lo = 0xa0;
    else if (b0 === 0xed) hi = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    need = 3;
    cp = b0 & 0x07;
    if (b0 === 0xf0) lo = 0x90;
    else if (b0 === 0xf4) hi = 0x8f;
  } else {
    return;
  }
  if (i + need >= n) return; // truncated sequence
  for (let k = 1; k <= need; k++) {
    const b = bytes[i + k]!;
    if (b < lo || b > hi) return;
    lo = 0x80;
    hi = 0xbf;
    cp = (cp << 6) | (b & 0x3f);
  }
  out.cp = cp;
  out.width = need + 1;
}

/** Go's unicode.IsSpace. */
function isSpaceRune(cp: number): boolean {
  if (cp < 0x100) return cp === 0x20 || (cp >= 0x09 && cp <= 0x0d) || cp === 0x85 || cp === 0xa0;
  return cp === 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp === 0x2028 || cp === 0x2029 || cp === 0x202f || cp === 0x205f || cp === 0x3000;
}

/**
 * Go's bytes.TrimSpace (and strings.TrimSpace): the bytes without leading and
 * trailing white space, where white space is decoded as UTF-8 and a byte that
 * is not valid UTF-8 is never space. A view of `bytes`, nothing is copied.
 */
export function trimSpace(bytes: Uint8Array): Uint8Array {
  const rune = { cp: 0, width: 0 };
  let start = 0;
  let end = bytes.length;
  while (start < end) {
    decodeRune(bytes, start, rune);
    if (!isSpaceRune(rune.cp)) break;
    start += rune.width;
  }
  while (end > start) {
    // Go's utf8.DecodeLastRune: back to the lead byte (at most 3 steps), and
    // the rune counts only when it ends exactly at `end`.
    let lead = end - 1;
    while (lead > start && lead > end - 4 && (bytes[lead]! & 0xc0) === 0x80) lead--;
    decodeRune(bytes.subarray(0, end), lead, rune);
    if (lead + rune.width !== end || !isSpaceRune(rune.cp)) break;
    end = lead;
  }
  return bytes.subarray(start, end);
}

/**
 * Go's `%q` of a string made from these bytes (strconv.Quote): double quotes,
 * backslash escapes, `\xNN` for invalid UTF-8 and ASCII controls, `\uNNNN` /
 * `\UNNNNNNNN` for non-printable code points, printable Unicode kept as is.
 */
export function goQuote(input: Uint8Array | string): string {
  const bytes = typeof input === "string" ? utf8(input) : input;
  let out = '"';
  const rune = { cp: 0, width: 0 };
  for (let i = 0; i < bytes.length; i += rune.width) {
    decodeRune(bytes, i, rune);
    const cp = rune.cp;
    if (cp < 0) {
      out += "\\x" + hex2(bytes[i]!);
      continue;
    }
    if (cp === 0x22 || cp === 0x5c) {
      out += "\\" + String.fromCharCode(cp);
      continue;
    }
    if (cp >= 0x20 && cp < 0x7f) {
      out += String.fromCharCode(cp);
      continue;
    }
    if (cp >= 0x80 && PRINTABLE.test(String.fromCodePoint(cp))) {
      out += String.fromCodePoint(cp);
      continue;
    }
    switch (cp) {
      case 0x07:
        out += "\\a";
        continue;
      case 0x08:
        out += "\\b";
        continue;
      case 0x0c:
        out += "\\f";
        continue;
      case 0x0a:
        out += "\\n";
        continue;
      case 0x0d:
        out += "\\r";
        continue;
      case 0x09:
        out += "\\t";
        continue;
      case 0x0b:
        out += "\\v";
        continue;
    }
    if (cp < 0x20 || cp === 0x7f) out += "\\x" + hex2(cp);
    else if (cp < 0x10000) out += "\\u" + cp.toString(16).padStart(4, "0");
    else out += "\\U" + cp.toString(16).padStart(8, "0");
  }
  return out + '"';
}

/** Concatenates byte arrays into one new array (the single copy made when a frame spans chunks). */
export function concatBytes(parts: readonly Uint8Array[], total?: number): Uint8Array {
  let size = total ?? 0;
  if (total === undefined) for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
