// JSON as the original's encoding/json writes it.

/**
 * JSON.stringify with what Go's encoder escapes besides: `<`, `>`, `&`,
 * U+2028 and U+2029 become \u escapes, so a body matches the original byte
 * for byte wherever the key order does too.
 */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
