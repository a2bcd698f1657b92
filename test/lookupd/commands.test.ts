// L-FLAG-*, X-CFG-*, X-SIG: `nsq lookupd` / `nsqlookupd` and `nsq up`, run
// in-process through runCli with a runtime whose signals the test raises.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { memoryIo } from "../../cli/io.ts";
import { runCli } from "../../cli/run.ts";
import type { Runtime, SignalName } from "../../src/runtime/types.ts";
import { testRuntime, waitFor } from "./helpers.ts";

/** The node runtime with signals raised by the test instead of the OS. */
function signalledRuntime(): Runtime & { raise(signal: SignalName): void } {
  const base = testRuntime();
  const handlers = new Map<SignalName, Set<() => void>>();
  const rt = Object.create(base) as Runtime & { raise(signal: SignalName): void };
  rt.onSignal = (signal, handler) => {
    if (!handlers.has(signal)) handlers.set(signal, new Set());
    handlers.get(signal)!.add(handler);
    return () => handlers.get(signal)!.delete(handler);
  };
  rt.raise = (signal) => {
    for (const h of [...(handlers.get(signal) ?? [])]) h();
  };
  return rt;
}

function run(args: string[], argv0 = "nsq", runtime: Runtime = testRuntime()) {
  const io = memoryIo();
  const done = runCli({ runtime, io }, { argv0, args });
  return { io, done };
}

describe("nsq lookupd (CLI)", () => {
  test("L-FLAG-VERSION: nsqlookupd v1.3.0 (built w/...), also when invoked as nsqlookupd", async () => {
    for (const [argv0, args] of [
      ["nsq", ["lookupd", "--version"]],
      ["/usr/local/bin/nsqlookupd", ["-version"]],
    ] as const) {
      const { io, done } = run([...args], argv0);
      expect(await done).toBe(0);
      expect(io.stdout).toMatch(/^nsqlookupd v1\.3\.0 \(built w\/node v\d+\.\d+\.\d+\)\n$/);
    }
  });

  test("X-CFG-FILE: flag > config key > default; durations as Go strings or ms", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nsq-lk-cfg-"));
    try {
      const cfg = join(dir, "nsqlookupd.cfg");
      writeFileSync(
        cfg,
        'tcp_address = "127.0.0.1:5160"\nhttp_address = "127.0.0.1:5161"\ntombstone_lifetime = 1500\ninactive_producer_timeout = "1m"\nunknown_key = 1\n',
      );
      const { io, done } = run(["lookupd", `--config=${cfg}`, "-http-address", "127.0.0.1:6161", "--print-options"]);
      expect(await done).toBe(0);
      expect(JSON.parse(io.stdout)).toMatchObject({
        tcp_address: "127.0.0.1:5160",
        http_address: "127.0.0.1:6161",
        tombstone_lifetime: 1500,
        inactive_producer_timeout: 60_000,
        log_prefix: "[nsqlookupd] ",
        broadcast_address: testRuntime().hostname(),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("X-CFG-FLAGS: an unknown flag is a usage error (exit 2); -h prints the usage", async () => {
    const bad = run(["lookupd", "--nope"]);
    expect(await bad.done).toBe(2);
    expect(bad.io.stderr).toBe("flag provided but not defined: -nope\n");
    const help = run(["lookupd", "-h"]);
    expect(await help.done).toBe(0);
    expect(help.io.stdout).toMatch(/^Usage of nsqlookupd:\n/);
    expect(help.io.stdout).toContain("-tombstone-lifetime duration");
  });

  test("a listener failure is fatal: exit 1 with the original's wording", async () => {
    const { io, done } = run(["lookupd", "--tcp-address=127.0.0.1:0", "--http-address=256.0.0.1:1"]);
    expect(await done).toBe(1);
    expect(io.stderr).toMatch(/FATAL: failed to start nsqlookupd - /);
  });

  test("X-SIG: SIGTERM stops a running lookupd with exit 0", async () => {
    const rt = signalledRuntime();
    const { io, done } = run(["lookupd", "--tcp-address=127.0.0.1:0", "--http-address=127.0.0.1:0"], "nsq", rt);
    await waitFor(() => /HTTP: listening on/.test(io.stderr), 5000, "lookupd start");
    rt.raise("SIGTERM");
    expect(await done).toBe(0);
  });
});

describe("nsq up", () => {
  test("runs a lookupd and an nsqd registered with it, prints the addresses, stops on SIGINT", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nsq-up-"));
    const rt = signalledRuntime();
    try {
      const { io, done } = run(
        [
          "up",
          `--data-path=${join(dir, "data")}`,
          "--lookupd-tcp-address=127.0.0.1:0",
          "--lookupd-http-address=127.0.0.1:0",
          "--nsqd-tcp-address=127.0.0.1:0",
          "--nsqd-http-address=127.0.0.1:0",
        ],
        "nsq",
        rt,
      );
      await waitFor(() => io.stdout.includes("Press Ctrl-C"), 10_000, "nsq up banner");
      const lookupdHttp = /nsqlookupd +tcp [\d.]+:\d+ +http http:\/\/([\d.]+:\d+)/.exec(io.stdout)![1];
      const nsqdTcp = Number(/nsqd +tcp [\d.]+:(\d+)/.exec(io.stdout)![1]);
      expect(io.stdout).toContain(`data        ${join(dir, "data")}`);
      const nodes = await waitFor(
        async () => {
          const body = (await (await fetch(`http://${lookupdHttp}/nodes`)).json()) as { producers: { tcp_port: number; broadcast_address: string }[] };
          return body.producers.length === 1 ? body.producers : null;
        },
        5000,
        "nsqd registered",
      );
      expect(nodes![0]).toMatchObject({ tcp_port: nsqdTcp, broadcast_address: "127.0.0.1" });
      expect(io.stderr).toMatch(/\[nsqlookupd\] .* INFO: TCP: listening on/);
      expect(io.stderr).toMatch(/\[nsqd\] .* INFO: TCP: listening on/);
      rt.raise("SIGINT");
      expect(await done).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
