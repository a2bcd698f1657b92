// X-CFG-FLAGS and X-CFG-FILE: Go `flag` syntax, config-file keys, precedence.
import { describe, expect, test } from "vitest";
import {
  ConfigError,
  FlagError,
  convertConfigValue,
  formatUsage,
  parseCommandLine,
  parseConfigText,
  parseFlags,
  parseGoBool,
  parseGoFloat,
  parseGoInt,
  resolveOptions,
} from "../../src/common/flags.ts";
import type { OptionTable } from "../../src/common/options.ts";
import { NSQD_OPTIONS, type NsqdOptions } from "../../src/nsqd/options.ts";

const TABLE: OptionTable = [
  { flag: "config", key: null, type: "string", default: "", help: "path to config file" },
  { flag: "version", key: null, type: "bool", default: false, help: "print version string" },
  ...NSQD_OPTIONS,
];

function nsqd(argv: string[], configText?: string): NsqdOptions {
  const files: Record<string, string> = configText === undefined ? {} : { "/etc/nsqd.toml": configText };
  const line = parseCommandLine<NsqdOptions>(TABLE, argv, {
    program: "nsqd",
    readTextFile: (p) => {
      const t = files[p];
      if (t === undefined) throw new Error(`open ${p}: no such file or directory`);
      return t;
    },
  });
  if (line.kind !== "run") throw new Error(`unexpected ${line.kind}`);
  return line.options;
}

function flagError(argv: string[]): string {
  try {
    parseFlags(TABLE, argv);
  } catch (e) {
    expect(e).toBeInstanceOf(FlagError);
    expect((e as FlagError).exitCode).toBe(2);
    return (e as Error).message;
  }
  throw new Error(`no error for ${argv.join(" ")}`);
}

describe("Go flag syntax (X-CFG-FLAGS)", () => {
  test.each([[["-tcp-address=127.0.0.1:1"]], [["-tcp-address", "127.0.0.1:1"]], [["--tcp-address=127.0.0.1:1"]], [["--tcp-address", "127.0.0.1:1"]]])(
    "string flag form %j",
    (argv) => {
      expect(nsqd(argv).tcp_address).toBe("127.0.0.1:1");
    },
  );

  test("a value may contain '=' and may start with '-' when given as the next argument", () => {
    expect(nsqd(["-statsd-prefix=a=b"]).statsd_prefix).toBe("a=b");
    expect(nsqd(["-statsd-prefix", "-x"]).statsd_prefix).toBe("-x");
  });

  test("the last of repeated scalar flags wins", () => {
    expect(nsqd(["-mem-queue-size=1", "--mem-queue-size", "2"]).mem_queue_size).toBe(2);
  });

  test("repeated list flags accumulate, in order, without comma splitting", () => {
    const o = nsqd(["-lookupd-tcp-address=a:1", "--lookupd-tcp-address", "b:2", "-lookupd-tcp-address", "c:3,d:4"]);
    expect(o.nsqlookupd_tcp_addresses).toEqual(["a:1", "b:2", "c:3,d:4"]);
  });

  test("float-list flags accumulate and split on commas", () => {
    const o = nsqd(["-e2e-processing-latency-percentile=0.5", "-e2e-processing-latency-percentile", "0.99,1.0"]);
    expect(o.e2e_processing_latency_percentiles).toEqual([0.5, 0.99, 1]);
  });

  test("booleans: bare means true, =false/=0/=F mean false, either dash count", () => {
    expect(nsqd(["-snappy=false"]).snappy).toBe(false);
    expect(nsqd(["--snappy=false"]).snappy).toBe(false);
    expect(nsqd(["--snappy=0"]).snappy).toBe(false);
    expect(nsqd(["-snappy=F"]).snappy).toBe(false);
    expect(nsqd(["-statsd-exclude-ephemeral"]).statsd_exclude_ephemeral).toBe(true);
    expect(nsqd(["--statsd-exclude-ephemeral"]).statsd_exclude_ephemeral).toBe(true);
    expect(nsqd(["--statsd-exclude-ephemeral=TRUE"]).statsd_exclude_ephemeral).toBe(true);
  });

  test("a boolean never consumes the next argument; parsing stops at the first non-flag", () => {
    const parsed = parseFlags(TABLE, ["-snappy", "false", "-mem-queue-size=5"]);
    expect(parsed.given.get("snappy")).toBe(true);
    expect(parsed.given.has("mem-queue-size")).toBe(false);
    expect(parsed.rest).toEqual(["false", "-mem-queue-size=5"]);
  });

  test("tls-required is bool-like: bare means true; true/false/tcp-https by value", () => {
    expect(nsqd([]).tls_required).toBe("false");
    expect(nsqd(["-tls-required"]).tls_required).toBe("true");
    expect(nsqd(["--tls-required=tcp-https"]).tls_required).toBe("tcp-https");
    expect(nsqd(["--tls-required=TCP-HTTPS"]).tls_required).toBe("tcp-https");
    expect(nsqd(["--tls-required=false"]).tls_required).toBe("false");
    expect(nsqd(["--tls-required=1"]).tls_required).toBe("true");
    const parsed = parseFlags(TABLE, ["-tls-required", "tcp-https"]);
    expect(parsed.given.get("tls-required")).toBe("true");
    expect(parsed.rest).toEqual(["tcp-https"]);
  });

  test("'--' ends the flags; a lone '-' is an argument", () => {
    expect(parseFlags(TABLE, ["-snappy", "--", "-deflate"]).rest).toEqual(["-deflate"]);
    expect(parseFlags(TABLE, ["-", "-deflate"]).rest).toEqual(["-", "-deflate"]);
    expect(parseFlags(TABLE, ["-deflate=false", "x"]).given.get("deflate")).toBe(false);
  });

  test("durations use Go syntax and become milliseconds", () => {
    expect(nsqd(["-msg-timeout=1h2m3.5s"]).msg_timeout).toBe(3_723_500);
    expect(nsqd(["-msg-timeout", "250ms"]).msg_timeout).toBe(250);
    expect(nsqd(["--msg-timeout=90s"]).msg_timeout).toBe(90_000);
    expect(nsqd(["--msg-timeout=1.5h"]).msg_timeout).toBe(5_400_000);
    expect(nsqd(["--output-buffer-timeout=300us"]).output_buffer_timeout).toBe(0.3);
    expect(nsqd(["--msg-timeout=0"]).msg_timeout).toBe(0);
  });

  test("integers accept Go base prefixes and underscores", () => {
    expect(nsqd(["-mem-queue-size=0x10"]).mem_queue_size).toBe(16);
    expect(nsqd(["-mem-queue-size=010"]).mem_queue_size).toBe(8);
    expect(nsqd(["-mem-queue-size=0b101"]).mem_queue_size).toBe(5);
    expect(nsqd(["-mem-queue-size=0o17"]).mem_queue_size).toBe(15);
    expect(nsqd(["-mem-queue-size=1_000"]).mem_queue_size).toBe(1000);
    expect(nsqd(["-mem-queue-size=-7"]).mem_queue_size).toBe(-7);
  });

  test("unknown flags, missing values and bad values are usage errors with Go's wording", () => {
    expect(flagError(["-foo"])).toBe("flag provided but not defined: -foo");
    expect(flagError(["--foo=bar"])).toBe("flag provided but not defined: -foo");
    expect(flagError(["-mem-queue-size"])).toBe("flag needs an argument: -mem-queue-size");
    expect(flagError(["-mem-queue-size=abc"])).toBe('invalid value "abc" for flag -mem-queue-size: parse error');
    expect(flagError(["-mem-queue-size=99999999999999999999"])).toBe('invalid value "99999999999999999999" for flag -mem-queue-size: value out of range');
    expect(flagError(["-msg-timeout=5"])).toBe('invalid value "5" for flag -msg-timeout: parse error');
    expect(flagError(["-msg-timeout=1d"])).toBe('invalid value "1d" for flag -msg-timeout: parse error');
    expect(flagError(["-snappy=yes"])).toBe('invalid boolean value "yes" for -snappy: parse error');
    expect(flagError(["---snappy"])).toBe("bad flag syntax: ---snappy");
    expect(flagError(["-=x"])).toBe("bad flag syntax: -=x");
    expect(flagError(["--tls-required=maybe"])).toMatch(/^invalid value "maybe" for flag -tls-required: must be one of true, false, tcp-https$/);
    expect(flagError(["-auth-http-request-method=put"])).toMatch(/^invalid value "put" for flag -auth-http-request-method/);
    expect(flagError(["-e2e-processing-latency-percentile=0.5,x"])).toMatch(/^invalid value "0.5,x"/);
    for (const argv of [["-foo"], ["-mem-queue-size=abc"]]) expect(flagError(argv)).not.toContain("\n");
  });

  test("-h, -help, --h and --help ask for usage", () => {
    for (const h of ["-h", "-help", "--h", "--help"]) expect(parseFlags(TABLE, ["-snappy", h]).help).toBe(true);
    const line = parseCommandLine(TABLE, ["--help"], { program: "nsqd", readTextFile: () => "" });
    expect(line.kind).toBe("help");
  });

  test("-version is answered before the config file is read", () => {
    const line = parseCommandLine(TABLE, ["-config=/missing.toml", "-version"], {
      program: "nsqd",
      readTextFile: () => {
        throw new Error("must not be read");
      },
    });
    expect(line.kind).toBe("version");
  });

  test("defaults are the table's, with copies of list defaults", () => {
    const a = nsqd([]);
    const b = nsqd([]);
    expect(a.mem_queue_size).toBe(10000);
    expect(a.msg_timeout).toBe(60_000);
    expect(a.log_prefix).toBe("[nsqd] ");
    expect(a.nsqlookupd_tcp_addresses).toEqual([]);
    expect(a.nsqlookupd_tcp_addresses).not.toBe(b.nsqlookupd_tcp_addresses);
  });
});

describe("Go scalar parsers", () => {
  test("parseGoBool accepts exactly strconv.ParseBool's spellings", () => {
    for (const t of ["1", "t", "T", "TRUE", "true", "True"]) expect(parseGoBool(t)).toBe(true);
    for (const f of ["0", "f", "F", "FALSE", "false", "False"]) expect(parseGoBool(f)).toBe(false);
    for (const x of ["", "yes", "tRUE", "2", " true"]) expect(parseGoBool(x)).toBeNull();
  });
  test("parseGoInt rejects malformed literals", () => {
    for (const x of ["", "+", "0x", "08", "1__0", "_1", "1_", "1.0", "1e3", " 1", "0x_", "abc"]) {
      expect(() => parseGoInt(x), x).toThrow();
    }
    expect(parseGoInt("0x_1F")).toBe(31);
    expect(parseGoInt("0")).toBe(0);
    expect(parseGoInt("-0x10")).toBe(-16);
  });
  test("parseGoFloat", () => {
    expect(parseGoFloat("0.99")).toBe(0.99);
    expect(parseGoFloat("1e-2")).toBe(0.01);
    expect(parseGoFloat(".5")).toBe(0.5);
    expect(parseGoFloat("-Inf")).toBe(-Infinity);
    expect(() => parseGoFloat("1,0")).toThrow();
    expect(() => parseGoFloat("")).toThrow();
  });
});

describe("config file (X-CFG-FILE)", () => {
  const toml = `
# nsqd.toml
mem_queue_size = 123
msg_timeout = "90s"
sync_timeout = 1500
nsqlookupd_tcp_addresses = ["l1:4160", "l2:4160"]
auth_http_addresses = "a1:4181,a2:4181"
e2e_processing_latency_percentiles = [0.99, 0.5]
id = 7
statsd_mem_stats = false
tls_required = true
tls_min_version = "TLS1.2"
log_level = "WARN"
not_an_option = "ignored"

[some_table]
x = 1
`;

  test("keys are the config keys; durations as strings or ms integers; lists as arrays or comma strings", () => {
    const o = nsqd(["-config=/etc/nsqd.toml"], toml);
    expect(o.mem_queue_size).toBe(123);
    expect(o.msg_timeout).toBe(90_000);
    expect(o.sync_timeout).toBe(1500);
    expect(o.nsqlookupd_tcp_addresses).toEqual(["l1:4160", "l2:4160"]);
    expect(o.auth_http_addresses).toEqual(["a1:4181", "a2:4181"]);
    expect(o.e2e_processing_latency_percentiles).toEqual([0.99, 0.5]);
    expect(o.id).toBe(7);
    expect(o.statsd_mem_stats).toBe(false);
    expect(o.tls_required).toBe("true");
    expect(o.tls_min_version).toBe("tls1.2");
    expect(o.log_level).toBe("warn");
    expect(o).not.toHaveProperty("not_an_option");
  });

  test("precedence: command-line flag > config file > default", () => {
    const o = nsqd(["--config", "/etc/nsqd.toml", "-mem-queue-size=5", "-lookupd-tcp-address=x:1"], toml);
    expect(o.mem_queue_size).toBe(5);
    expect(o.nsqlookupd_tcp_addresses).toEqual(["x:1"]);
    expect(o.msg_timeout).toBe(90_000);
    expect(o.max_rdy_count).toBe(2500);
  });

  test("the flag wins even when it sets the default value", () => {
    expect(nsqd(["-config=/etc/nsqd.toml", "-mem-queue-size=10000"], toml).mem_queue_size).toBe(10000);
  });

  test("invalid values are fatal ConfigErrors naming the key", () => {
    const bad: Array<[string, RegExp]> = [
      ['msg_timeout = "soon"', /msg_timeout: time: invalid duration "soon"/],
      ["msg_timeout = 1.5", /msg_timeout/],
      ['mem_queue_size = "many"', /mem_queue_size/],
      ["mem_queue_size = 1.5", /mem_queue_size/],
      ['tls_required = "maybe"', /tls_required/],
      ['tls_min_version = "ssl3.0"', /tls_min_version/],
      ["nsqlookupd_tcp_addresses = [1, 2]", /nsqlookupd_tcp_addresses/],
      ['snappy = "perhaps"', /snappy/],
      ['e2e_processing_latency_percentiles = "0.5,x"', /e2e_processing_latency_percentiles/],
    ];
    for (const [text, message] of bad) {
      expect(() => nsqd(["-config=/etc/nsqd.toml"], text), text).toThrow(ConfigError);
      expect(() => nsqd(["-config=/etc/nsqd.toml"], text), text).toThrow(message);
    }
  });

  test("a TOML syntax error or a missing file names the file", () => {
    expect(() => nsqd(["-config=/etc/nsqd.toml"], "mem_queue_size = = 1")).toThrow(/failed to load config file \/etc\/nsqd.toml - /);
    expect(() => nsqd(["-config=/nope.toml"])).toThrow(/failed to load config file \/nope.toml - open \/nope.toml/);
    expect(() => parseConfigText("[a", "x.toml")).toThrow(ConfigError);
  });

  test("convertConfigValue: strings for numbers are read in base 10, booleans accept 0/1", () => {
    const spec = NSQD_OPTIONS.find((s) => s.flag === "mem-queue-size")!;
    expect(convertConfigValue(spec, "mem_queue_size", "010")).toBe(10);
    const snappy = NSQD_OPTIONS.find((s) => s.flag === "snappy")!;
    expect(convertConfigValue(snappy, "snappy", 0)).toBe(false);
    expect(convertConfigValue(snappy, "snappy", "true")).toBe(true);
  });

  test("resolveOptions leaves out options without a config key", () => {
    const o = resolveOptions(TABLE, parseFlags(TABLE, ["-verbose", "-version"]), { verbose: true });
    expect(o).not.toHaveProperty("verbose");
    expect(o).not.toHaveProperty("version");
    expect(o).not.toHaveProperty("config");
  });
});

describe("usage text", () => {
  test("lists every visible flag sorted, Go-style, with non-zero defaults", () => {
    const text = formatUsage("nsqd", [...TABLE, { flag: "secret", key: null, type: "bool", default: false, help: "hidden", hidden: true }]);
    const lines = text.split("\n");
    expect(lines[0]).toBe("Usage of nsqd:");
    const names = lines.filter((l) => l.startsWith("  -")).map((l) => l.slice(3).split(" ")[0]!);
    expect(names).toEqual([...names].sort());
    expect(names).toHaveLength(TABLE.length);
    expect(names).not.toContain("secret");
    expect(text).toContain("  -msg-timeout duration\n    \tdefault duration to wait before auto-requeing a message (default 1m0s)\n");
    expect(text).toContain("  -tcp-address string\n");
    expect(text).toContain('(default "0.0.0.0:4150")');
    expect(text).toContain("  -snappy\n    \tenable snappy feature negotiation (client compression) (default true)\n");
    expect(text).toContain("  -lookupd-tcp-address value\n");
    expect(text).toContain("  -tls-required\n");
    expect(text).toContain("  -mem-queue-size int\n");
  });
});
