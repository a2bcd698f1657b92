// D-FLAG-NODE-ID: the default node id is crc32(md5(hostname)) % 1024.
import { createHash } from "node:crypto";
import { describe, expect, test } from "vitest";
import { crc32, defaultNodeId, md5 } from "../../src/common/hash.ts";

const enc = new TextEncoder();
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

describe("md5", () => {
  // RFC 1321 appendix A.5 test suite.
  const vectors: Array<[string, string]> = [
    ["", "d41d8cd98f00b204e9800998ecf8427e"],
    ["a", "0cc175b9c0f1b6a831c399e269772661"],
    ["abc", "900150983cd24fb0d6963f7d28e17f72"],
    ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
    ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
    ["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"],
    ["12345678901234567890123456789012345678901234567890123456789012345678901234567890", "57edf4a22be3c955ac49da2e2107b67a"],
  ];
  for (const [input, digest] of vectors) {
    test(`RFC 1321 vector ${JSON.stringify(input.slice(0, 20))}`, () => {
      expect(hex(md5(enc.encode(input)))).toBe(digest);
    });
  }
  test("matches node:crypto for every length 0..200 (padding boundaries)", () => {
    for (let n = 0; n <= 200; n++) {
      const data = new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff);
      expect(hex(md5(data))).toBe(createHash("md5").update(data).digest("hex"));
    }
  });
});

describe("crc32 IEEE", () => {
  test('check value of "123456789" is 0xCBF43926', () => {
    expect(crc32(enc.encode("123456789"))).toBe(0xcbf43926);
  });
  test("empty input is 0", () => {
    expect(crc32(new Uint8Array(0))).toBe(0);
  });
  test('"The quick brown fox jumps over the lazy dog" is 0x414FA339', () => {
    expect(crc32(enc.encode("The quick brown fox jumps over the lazy dog"))).toBe(0x414fa339);
  });
});

describe("defaultNodeId", () => {
  test("is crc32 of the raw md5 digest of the hostname, mod 1024", () => {
    for (const host of ["localhost", "nsq-1.example.com", "", "h\u00e9te"]) {
      const digest = createHash("md5").update(host, "utf8").digest();
      let crc = 0xffffffff;
      for (const byte of digest) {
        crc ^= byte;
        for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
      }
      const expected = ((crc ^ 0xffffffff) >>> 0) % 1024;
      expect(defaultNodeId(host)).toBe(expected);
      expect(defaultNodeId(host)).toBeGreaterThanOrEqual(0);
      expect(defaultNodeId(host)).toBeLessThan(1024);
    }
  });
});
