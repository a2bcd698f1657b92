// `nsq admin` / `nsqadmin` in-process: flags (A-FLAG-*), config keys, the
// startup checks' exit status, and a real start that serves until SIGINT.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { memoryIo } from "../../cli/io.ts";
import { runCli } from "../../cli/run.ts";
import { createNodeRuntime } from "../../src/runtime/node.ts";
import type { Runtime, SignalName } from "../../src/runtime/types.ts";

/** The node runtime with signals we can raise. */
function signalled(): { runtime: Runtime; raise(s: SignalName): void } {
  const base = createNodeRuntime();
  const handlers = new Map<SignalName, Set<() => void>>();
  const runtime = Object.create(base) as Runtime;
  Object.defineProperty(runtime, "onSignal", {
    value: (signal: SignalName, handler: () => void) => {
      const set = handlers.get(signal) ?? new Set();
      set.add(handler);
      handlers.set(signal, set);
      return () => set.delete(handler);
    },
  });
  return {
    runtime,
    raise: (s) => {
      for (const h of handlers.get(s) ?? []) h();
    },
  };
}

async function run(args: string[], argv0 = "nsq") {
  const io = memoryIo();
  const code = await runCli({ runtime: createNodeRuntime(), io }, { argv0, args });
  return { code, out: io.stdout, err: io.stderr };
}

describe("nsq admin command line", () => {
  it("prints its version, as nsq admin and as nsqadmin", async () => {
    const a = await run(["admin", "--version"]);
    expect(a.code).toBe(0);
    expect(a.out).toMatch(/^nsqadmin v1\.3\.0 \(built w\/node v/);
    const b = await run(["-version"], "/usr/local/bin/nsqadmin");
    expect(b.out).toMatch(/^nsqadmin v1\.3\.0 /);
  });

  it("A-FLAG-VALIDATION failures are fatal with the original's message", async () => {
    const r = await run(["admin", "--http-address=127.0.0.1:0"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^\[nsqadmin\] \S+ \S+ FATAL: failed to instantiate nsqadmin - --nsqd-http-address or --lookupd-http-address required\n$/);
    const both = await run(["admin", "-nsqd-http-address=a:1", "-lookupd-http-address=b:2"]);
    expect(both.err).toContain("use --nsqd-http-address or --lookupd-http-address not both");
    const usage = await run(["admin", "--no-such-flag"]);
    expect(usage.code).toBe(2);
    expect(usage.err).toBe("flag provided but not defined: -no-such-flag\n");
  });

  it("repeatable flags accumulate; config keys use the original's names", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nsqadmin-cfg-"));
    const file = path.join(dir, "nsqadmin.cfg");
    fs.writeFileSync(file, 'admin_users = ["alice", "bob"]\nbase_path = "ui"\nstatsd_interval = "30s"\n');
    try {
      const r = await run(["admin", `--config=${file}`, "--print-options", "-lookupd-http-address", "127.0.0.1:4161", "--lookupd-http-address=127.0.0.1:4162"]);
      expect(r.code).toBe(0);
      const o = JSON.parse(r.out);
      expect(o.nsqlookupd_http_addresses).toEqual(["127.0.0.1:4161", "127.0.0.1:4162"]);
      expect(o.admin_users).toEqual(["alice", "bob"]);
      expect(o.base_path).toBe("/ui");
      expect(o.statsd_interval).toBe(30_000);
      expect(o.http_address).toBe("0.0.0.0:4171");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("-help lists the flags", async () => {
    const r = await run(["admin", "-help"]);
    expect(r.code).toBe(0);
    for (const f of ["-lookupd-http-address", "-nsqd-http-address", "-admin-user", "-acl-http-header", "-base-path"]) expect(r.out).toContain(f);
  });

  it("serves the UI until SIGINT", async () => {
    const { runtime, raise } = signalled();
    const io = memoryIo();
    const done = runCli({ runtime, io }, { argv0: "nsq", args: ["admin", "--http-address=127.0.0.1:0", "--nsqd-http-address=127.0.0.1:1"] });
    let port = 0;
    for (let i = 0; i < 100 && port === 0; i++) {
      const m = /HTTP: listening on 127\.0\.0\.1:(\d+)/.exec(io.stderr);
      if (m) port = Number(m[1]);
      else await new Promise((r) => setTimeout(r, 20));
    }
    expect(port).toBeGreaterThan(0);
    expect(await (await fetch(`http://127.0.0.1:${port}/ping`)).text()).toBe("OK");
    raise("SIGINT");
    expect(await done).toBe(0);
  });
});
