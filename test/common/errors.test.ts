import { describe, expect, it } from "vitest";
import { errorText } from "../../src/common/errors.ts";

describe("errorText", () => {
  it("is the message of an Error and the text of anything else", () => {
    expect(errorText(new RangeError("out of range"))).toBe("out of range");
    expect(errorText("plain text")).toBe("plain text");
    expect(errorText(42)).toBe("42");
    expect(errorText(undefined)).toBe("undefined");
    expect(errorText({ message: "not an Error" })).toBe("[object Object]");
  });
});
