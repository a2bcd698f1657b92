import { describe, expect, it } from "vitest";
import { goQuote, parseDecimal, parseDecimalU64, trimSpace } from "../../src/protocol/text.ts";

describe("D-TCP-NUM parseDecimal", () => {
  it("parses digits and treats an empty token as 0", () => {
    expect(parseDecimal("0")).toBe(0);
    expect(parseDecimal("007")).toBe(7);
    expect(parseDecimal("2500")).toBe(2500);
    expect(parseDecimal("")).toBe(0);
    expect(parseDecimal(new TextEncoder().encode("123"))).toBe(123);
    expect(parseDecimal(new Uint8Array(0))).toBe(0);
  });

  it.each(["-1", "+1", " 1", "1 ", "1.5", "0x10", "abc", "1e3"])("refuses %j", (token) => {
    expect(parseDecimal(token)).toBeNull();
    expect(parseDecimal(new TextEncoder().encode(token))).toBeNull();
    expect(parseDecimalU64(token)).toBeNull();
  });

  it("wraps at 2^64 like the original's uint64 accumulator", () => {
    expect(parseDecimalU64("18446744073709551615")).toBe(18446744073709551615n);
    expect(parseDecimalU64("18446744073709551616")).toBe(0n);
    expect(parseDecimalU64("18446744073709551617")).toBe(1n);
    expect(parseDecimalU64("")).toBe(0n);
  });
});

describe("goQuote (Go %q)", () => {
  it.each([
    ["abc", '"abc"'],
    ["", '""'],
    ['a"b', '"a\\"b"'],
    ["a\\b", '"a\\\\b"'],
    ["a b", '"a b"'],
    ["\n\r\t\u0007\b\f\v", '"\\n\\r\\t\\a\\b\\f\\v"'],
    ["\u0000\u001f\u007f", '"\\x00\\x1f\\x7f"'],
    ["héllo", '"héllo"'],
    ["日本", '"日本"'],
    ["\u00a0", '"\\u00a0"'],
    ["\u200b", '"\\u200b"'],
    ["😀", '"😀"'],
    ["\u{e0001}", '"\\U000e0001"'],
  ])("quotes %j as %s", (input, expected) => {
    expect(goQuote(input)).toBe(expected);
  });

  it("escapes invalid UTF-8 bytes one by one", () => {
    expect(goQuote(new Uint8Array([0x61, 0xff, 0x62]))).toBe('"a\\xffb"');
    expect(goQuote(new Uint8Array([0xc3]))).toBe('"\\xc3"'); // truncated sequence
    expect(goQuote(new Uint8Array([0xc0, 0x80]))).toBe('"\\xc0\\x80"'); // overlong
    expect(goQuote(new Uint8Array([0xed, 0xa0, 0x80]))).toBe('"\\xed\\xa0\\x80"'); // surrogate
    expect(goQuote(new Uint8Array([0xe2, 0x82, 0xac]))).toBe('"€"');
  });
});

describe("trimSpace (Go's bytes.TrimSpace)", () => {
  const raw = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
  const latin1 = (b: Uint8Array) => String.fromCharCode(...b);
  it.each([
    ["  PING \r", "PING"],
    ["\t\v\f\n x y \n", "x y"],
    // U+0085, U+00A0, U+2028 and U+3000 in UTF-8 are white space
    ["\xc2\x85\xc2\xa0A\xe2\x80\xa8\xe3\x80\x80", "A"],
    // ...but the same code points as single bytes are not valid UTF-8, so not space
    ["\x85A\xa0", "\x85A\xa0"],
    // a lone continuation byte or a truncated sequence at either end stops the trim
    [" \xa0\xc2\xa0PI\xff \x85", "\xa0\xc2\xa0PI\xff \x85"],
    [" x \xe2\x80", "x \xe2\x80"],
    ["   ", ""],
    ["", ""],
  ])("%j -> %j", (input, expected) => {
    expect(latin1(trimSpace(raw(input)))).toBe(expected);
  });
});
