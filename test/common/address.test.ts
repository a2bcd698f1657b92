// One host:port grammar for every flag, upstream address and log line: Go's
// net.SplitHostPort (with a decimal port) and net.JoinHostPort
// (D-TCP-LISTEN, X-LOG, L-FLAG-*, A-FLAG-VALIDATION).
import { describe, expect, it } from "vitest";
import { formatAddress, joinHostPort, parseListenAddress, splitHostPort } from "../../src/common/address.ts";

describe("splitHostPort", () => {
  it.each([
    ["127.0.0.1:4150", "127.0.0.1", 4150],
    ["localhost:80", "localhost", 80],
    [":4150", "", 4150],
    ["[::1]:4151", "::1", 4151],
    ["[fe80::1%eth0]:1", "fe80::1%eth0", 1],
    ["[]:80", "", 80],
    // the port is not range-checked here
    ["h:99999", "h", 99999],
  ])("%s -> host %s, port %d", (value, host, port) => {
    expect(splitHostPort(value)).toEqual({ host, port });
  });

  it.each([
    ["no port", "localhost"],
    ["empty port", "localhost:"],
    ["named port", "localhost:http"],
    ["signed port", "localhost:+80"],
    ["IPv6 without brackets", "::1:4150"],
    ["bracket without port", "[::1]"],
    ["bracket followed by junk", "[::1]x:80"],
    ["unclosed bracket", "[::1:80"],
    ["bracket in a plain host", "a]b:80"],
    ["two colons", "a:b:80"],
  ])("refuses %s (%s)", (_what, value) => {
    expect(splitHostPort(value)).toBeNull();
  });
});

describe("joinHostPort and formatAddress", () => {
  it("brackets IPv6 hosts only", () => {
    expect(joinHostPort("127.0.0.1", 4150)).toBe("127.0.0.1:4150");
    expect(joinHostPort("::1", "4150")).toBe("[::1]:4150");
    expect(joinHostPort("", 80)).toBe(":80");
  });

  it("writes a Unix socket as its path", () => {
    expect(formatAddress({ path: "/tmp/nsqd.sock" })).toBe("/tmp/nsqd.sock");
    expect(formatAddress({ host: "::", port: 4151 })).toBe("[::]:4151");
  });

  it("round-trips through splitHostPort", () => {
    for (const [host, port] of [
      ["10.0.0.1", 1],
      ["::ffff:10.0.0.1", 65535],
      ["example.com", 4161],
    ] as const) {
      expect(splitHostPort(joinHostPort(host, port))).toEqual({ host, port });
    }
  });
});

describe("parseListenAddress (D-TCP-LISTEN)", () => {
  it("host:port is TCP, anything else a Unix socket path", () => {
    expect(parseListenAddress("0.0.0.0:4150")).toEqual({ host: "0.0.0.0", port: 4150 });
    expect(parseListenAddress("[::]:4150")).toEqual({ host: "::", port: 4150 });
    expect(parseListenAddress("/tmp/nsqd.sock")).toEqual({ path: "/tmp/nsqd.sock" });
    expect(parseListenAddress("./run/nsqd:4150")).toEqual({ path: "./run/nsqd:4150" });
    expect(parseListenAddress("nsqd.sock")).toEqual({ path: "nsqd.sock" });
  });
});
