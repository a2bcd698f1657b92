// The CLI in-process: dispatch, multi-call names, --version (X-VERSION), nsqd
// option post-processing (D-FLAG-NODE-ID, D-FLAG-BROADCAST-ADDRESS,
// D-FLAG-MAX-DEFLATE-LEVEL, D-FLAG-E2E-PERCENTILE) and signal handling (X-SIG).
import { describe, expect, test } from "vitest";
import { memoryIo } from "../../cli/io.ts";
import { runCli } from "../../cli/run.ts";
import { PROGRAMS } from "../../cli/programs.ts";
import type { Component, ComponentFactories } from "../../cli/context.ts";
import { defaultNodeId } from "../../src/common/hash.ts";
import type { NsqdOptions } from "../../src/nsqd/options.ts";
import type { Runtime, SignalName } from "../../src/runtime/types.ts";

interface FakeRuntime {
  runtime: Runtime;
  raise(signal: SignalName): void;
  handlerCount(): number;
}

function fakeRuntime(files: Record<string, string> = {}): FakeRuntime {
  const handlers = new Map<SignalName, Set<() => void>>();
  const runtime = {
    name: "node",
    version: "fake v1.2.3",
    hostname: () => "host-a.example",
    fs: {
      readText(path: string) {
        const t = files[path];
        if (t === undefined) throw new Error(`open ${path}: no such file or directory`);
        return t;
      },
    },
    onSignal(signal: SignalName, handler: () => void) {
      const set = handlers.get(signal) ?? new Set();
      set.add(handler);
      handlers.set(signal, set);
      return () => set.delete(handler);
    },
  } as unknown as Runtime;
  return {
    runtime,
    raise: (s) => {
      for (const h of handlers.get(s) ?? []) h();
    },
    handlerCount: () => [...handlers.values()].reduce((n, s) => n + s.size, 0),
  };
}

async function cli(args: string[], opts: { argv0?: string; files?: Record<string, string>; components?: ComponentFactories } = {}) {
  const io = memoryIo();
  const { runtime } = fakeRuntime(opts.files);
  const code = await runCli({ runtime, io, components: opts.components }, { argv0: opts.argv0 ?? "/opt/nsq/bin/nsq", args });
  return { code, stdout: io.stdout, stderr: io.stderr };
}

describe("nsq (top level)", () => {
  test("--version prints `nsq v1.3.0 (built w/<runtime>)`", async () => {
    for (const flag of ["--version", "-version"]) {
      const r = await cli([flag]);
      expect(r).toEqual({ code: 0, stdout: "nsq v1.3.0 (built w/fake v1.2.3)\n", stderr: "" });
    }
  });

  test("--help and no arguments list only the working subcommands", async () => {
    for (const args of [[], ["--help"], ["-h"]]) {
      const r = await cli(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^nsq v1\.3\.0 \(built w\/fake v1\.2\.3\)\n/);
      for (const p of PROGRAMS) {
        const listed = new RegExp(`^ {2}${p.subcommand} +${p.description}`, "m").test(r.stdout);
        expect(listed, p.subcommand).toBe(true);
      }
      expect(r.stdout).not.toMatch(/[ \t]$/m);
    }
  });

  test("an unknown subcommand or top-level flag is a usage error (exit 2, one line)", async () => {
    const a = await cli(["frobnicate"]);
    expect(a.code).toBe(2);
    expect(a.stderr).toBe('nsq: unknown command "frobnicate" (see "nsq --help")\n');
    const b = await cli(["--bogus=1"]);
    expect(b.code).toBe(2);
    expect(b.stderr).toBe("flag provided but not defined: -bogus\n");
  });
});

describe("multi-call names", () => {
  test("invoked as nsqd (any directory, .exe or not) it is nsqd", async () => {
    for (const argv0 of ["nsqd", "/usr/local/bin/nsqd", "C:\\nsq\\nsqd.exe", "./dist/nsqd"]) {
      const r = await cli(["--version"], { argv0 });
      expect(r, argv0).toEqual({ code: 0, stdout: "nsqd v1.3.0 (built w/fake v1.2.3)\n", stderr: "" });
    }
  });

  test("script names (main.ts, nsq.mjs) are the nsq dispatcher", async () => {
    for (const argv0 of ["/repo/cli/main.ts", "/repo/dist/nsq.mjs", "nsq"]) {
      expect((await cli(["--version"], { argv0 })).stdout).toBe("nsq v1.3.0 (built w/fake v1.2.3)\n");
    }
  });
});

describe("nsq nsqd", () => {
  const printed = async (args: string[], files?: Record<string, string>): Promise<NsqdOptions> => {
    const r = await cli(["nsqd", "--print-options", ...args], { files });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as NsqdOptions;
  };

  test("--version prints `nsqd v1.3.0 (built w/<runtime>)`", async () => {
    expect(await cli(["nsqd", "--version"])).toEqual({ code: 0, stdout: "nsqd v1.3.0 (built w/fake v1.2.3)\n", stderr: "" });
  });

  test("-h prints Go-style usage with hostname-derived defaults; --print-options stays hidden", async () => {
    const r = await cli(["nsqd", "-h"]);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith("Usage of nsqd:\n")).toBe(true);
    expect(r.stdout).toContain(`(default ${defaultNodeId("host-a.example")})`);
    expect(r.stdout).toContain('(default "host-a.example")');
    expect(r.stdout).toContain("  -config string\n");
    expect(r.stdout).toContain("  -version\n");
    expect(r.stdout).not.toContain("print-options");
  });

  test("node id defaults to crc32(md5(hostname)) % 1024 and broadcast address to the hostname", async () => {
    const o = await printed([]);
    expect(o.id).toBe(defaultNodeId("host-a.example"));
    expect(o.broadcast_address).toBe("host-a.example");
    const p = await printed(["--node-id=5", "--broadcast-address=b.example"]);
    expect(p.id).toBe(5);
    expect(p.broadcast_address).toBe("b.example");
  });

  test("percentiles are sorted descending; log level normalised; empty tls-min-version is the default", async () => {
    const o = await printed([
      "-e2e-processing-latency-percentile=0.5,1.0",
      "-e2e-processing-latency-percentile",
      "0.99",
      "--log-level=WARNING",
      "--tls-min-version=",
    ]);
    expect(o.e2e_processing_latency_percentiles).toEqual([1, 0.99, 0.5]);
    expect(o.log_level).toBe("warn");
    expect(o.tls_min_version).toBe("tls1.0");
  });

  test("config file values apply below flags (X-CFG-FILE precedence)", async () => {
    const files = { "/c.toml": 'id = 9\nmem_queue_size = 77\nmsg_timeout = "2m"\nbroadcast_address = "cfg.example"\n' };
    const o = await printed(["--config=/c.toml", "--mem-queue-size=5"], files);
    expect(o.id).toBe(9);
    expect(o.mem_queue_size).toBe(5);
    expect(o.msg_timeout).toBe(120_000);
    expect(o.broadcast_address).toBe("cfg.example");
  });

  test("startup checks fail with one FATAL line and exit 1", async () => {
    const cases: Array<[string[], RegExp, Record<string, string>?]> = [
      [["--max-deflate-level=0"], /FATAL: failed to instantiate nsqd - --max-deflate-level must be \[1,9\]$/],
      [["--max-deflate-level=10"], /--max-deflate-level must be \[1,9\]$/],
      [["--node-id=1024"], /FATAL: failed to instantiate nsqd - --node-id must be \[0,1024\)$/],
      [["--node-id=-1"], /--node-id must be \[0,1024\)$/],
      [["--e2e-processing-latency-percentile=1.5"], /invalid E2E processing latency percentile: 1.5$/],
      [["--e2e-processing-latency-percentile=0"], /invalid E2E processing latency percentile: 0$/],
      // The original makes these checks when it builds the daemon, before it listens (nsqd.New).
      [["--tls-required=true"], /FATAL: failed to instantiate nsqd - cannot require TLS client connections without TLS key and cert$/],
      [["--tls-client-auth-policy=require"], /FATAL: failed to instantiate nsqd - cannot require TLS client connections without TLS key and cert$/],
      [["--tls-cert=/missing.pem", "--tls-key=/missing.pem"], /FATAL: failed to instantiate nsqd - failed to build TLS config - /],
      [["--config=/bad.toml"], /FATAL: invalid value "loud" for config option log_level/, { "/bad.toml": 'log_level = "loud"' }],
      [["--config=/missing.toml"], /FATAL: failed to load config file \/missing.toml - /],
    ];
    for (const [args, message, files] of cases) {
      const r = await cli(["nsqd", ...args], { files });
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.stdout).toBe("");
      const lines = r.stderr.split("\n");
      expect(lines, args.join(" ")).toHaveLength(2);
      expect(lines[0]).toMatch(/^\[nsqd\] \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d{6} FATAL: /);
      expect(lines[0]).toMatch(message);
    }
  });

  test("flag errors are one line and exit 2", async () => {
    const r = await cli(["nsqd", "--log-level=loud"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^invalid value "loud" for flag -log-level: must be one of .*\n$/);
    const u = await cli(["nsqd", "-foo"]);
    expect(u).toEqual({ code: 2, stdout: "", stderr: "flag provided but not defined: -foo\n" });
  });

  test("runs the daemon until SIGTERM, then closes it and exits 0", async () => {
    const fake = fakeRuntime();
    const calls: string[] = [];
    let seen: NsqdOptions | null = null;
    const nsqd = (options: NsqdOptions): Component => {
      seen = options;
      return {
        start: async () => void calls.push("start"),
        close: async () => void calls.push("close"),
      };
    };
    const io = memoryIo();
    const done = runCli({ runtime: fake.runtime, io, components: { nsqd } }, { argv0: "nsqd", args: ["-tcp-address=127.0.0.1:0"] });
    await new Promise((r) => setTimeout(r, 10));
    expect(calls).toEqual(["start"]);
    expect(fake.handlerCount()).toBe(2);
    fake.raise("SIGTERM");
    expect(await done).toBe(0);
    expect(calls).toEqual(["start", "close"]);
    expect(fake.handlerCount()).toBe(0);
    expect(seen!.tcp_address).toBe("127.0.0.1:0");
  });

  test("SIGINT also stops it; a failing start is one FATAL line and exit 1", async () => {
    const fake = fakeRuntime();
    const io = memoryIo();
    const ok = runCli(
      { runtime: fake.runtime, io, components: { nsqd: () => ({ start: async () => {}, close: async () => {} }) } },
      { argv0: "nsq", args: ["nsqd"] },
    );
    await new Promise((r) => setTimeout(r, 10));
    fake.raise("SIGINT");
    expect(await ok).toBe(0);

    const failing = await runCli(
      {
        runtime: fakeRuntime().runtime,
        io,
        components: {
          nsqd: () => ({
            start: async () => {
              throw new Error("listen tcp 0.0.0.0:4150: address already in use");
            },
            close: async () => {},
          }),
        },
      },
      { argv0: "nsq", args: ["nsqd"] },
    );
    expect(failing).toBe(1);
    expect(io.stderr).toMatch(/^\[nsqd\] .* FATAL: failed to start nsqd - listen tcp 0.0.0.0:4150: address already in use\n$/);
  });
});
