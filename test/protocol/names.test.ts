import { describe, expect, it } from "vitest";
import { isEphemeral, isValidChannelName, isValidNameBytes, isValidTopicName } from "../../src/protocol/names.ts";

const valid = ["a", "test", "a.b-c_D9", "t#ephemeral", "x".repeat(64), `${"x".repeat(54)}#ephemeral`, "...", "-_-"];
const invalid = [
  "",
  "x".repeat(65),
  `${"x".repeat(55)}#ephemeral`, // suffix counts toward 64
  "#ephemeral", // needs a name before the suffix
  "a b",
  "a/b",
  "a#ephemeral#ephemeral",
  "a#Ephemeral",
  "a#ephemeralx",
  "é",
  "a\n",
  "a:b",
];

describe("X-NAME-VALID", () => {
  it.each(valid)("accepts topic and channel name %j", (name) => {
    expect(isValidTopicName(name)).toBe(true);
    expect(isValidChannelName(name)).toBe(true);
    expect(isValidNameBytes(new TextEncoder().encode(name))).toBe(true);
  });

  it.each(invalid)("refuses topic and channel name %j", (name) => {
    expect(isValidTopicName(name)).toBe(false);
    expect(isValidChannelName(name)).toBe(false);
    expect(isValidNameBytes(new TextEncoder().encode(name))).toBe(false);
  });

  it("byte check agrees with the string rule on every single byte", () => {
    for (let b = 0; b < 256; b++) {
      const s = String.fromCharCode(b);
      const expected = b < 0x80 && /^[.a-zA-Z0-9_-]$/.test(s);
      expect(isValidNameBytes(new Uint8Array([b]))).toBe(expected);
      if (b < 0x80) expect(isValidTopicName(s)).toBe(expected);
    }
  });

  it("byte check honours start and end offsets", () => {
    const line = new TextEncoder().encode("PUB good-name rest");
    expect(isValidNameBytes(line, 4, 13)).toBe(true);
    expect(isValidNameBytes(line, 3, 13)).toBe(false);
    expect(isValidNameBytes(line, 4, 4)).toBe(false);
  });
});

describe("X-NAME-EPHEMERAL", () => {
  it("detects the #ephemeral suffix", () => {
    expect(isEphemeral("t#ephemeral")).toBe(true);
    expect(isEphemeral("t")).toBe(false);
    expect(isEphemeral("t#ephemeralx")).toBe(false);
  });
});
