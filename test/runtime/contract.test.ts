// The runtime contract (contract.ts) on every adapter: in-process against the
// node adapter, and as child processes under Bun and Deno, native adapters and
// node: compat adapters (NSQ_RUNTIME_ADAPTER=node).
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { createNodeRuntime } from "../../src/runtime/node.ts";
import { cases, repoRoot } from "./contract.ts";

describe("runtime contract, node adapter in-process", () => {
  const rt = createNodeRuntime();
  for (const c of cases) {
    it(c.name, () => c.run(rt), 60_000);
  }
});

const bin = (name: string): string => path.join(repoRoot, "node_modules/.bin", name);
const runner = path.join(repoRoot, "test/runtime/run-contract.ts");

interface Summary {
  runtime: string;
  adapter: string;
  passed: number;
  failed: { name: string; error: string }[];
}

const targets: { label: string; cmd: string[]; adapter: string; env?: Record<string, string> }[] = [
  { label: "bun, native adapter", cmd: [bin("bun"), runner], adapter: "bun" },
  { label: "bun, node: compat adapter", cmd: [bin("bun"), runner], adapter: "node", env: { NSQ_RUNTIME_ADAPTER: "node" } },
  { label: "deno, native adapter", cmd: [bin("deno"), "run", "-A", runner], adapter: "deno" },
  {
    label: "deno, node: compat adapter",
    cmd: [bin("deno"), "run", "-A", runner],
    adapter: "node",
    env: { NSQ_RUNTIME_ADAPTER: "node" },
  },
];

describe("runtime contract in other runtimes", () => {
  for (const t of targets) {
    it(`every case passes on ${t.label}`, () => {
      const env: Record<string, string | undefined> = { ...process.env, ...t.env };
      if (!t.env?.NSQ_RUNTIME_ADAPTER) delete env.NSQ_RUNTIME_ADAPTER;
      const r = spawnSync(t.cmd[0]!, t.cmd.slice(1), { cwd: repoRoot, env, encoding: "utf8", timeout: 240_000 });
      const lines = r.stdout.trim().split("\n");
      let summary: Summary;
      try {
        summary = JSON.parse(lines[lines.length - 1]!) as Summary;
      } catch {
        throw new Error(`no summary from ${t.label} (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
      }
      expect(summary.adapter, "adapter in use").toBe(t.adapter);
      expect(summary.failed, r.stdout).toEqual([]);
      expect(summary.passed).toBe(cases.length);
      expect(r.status).toBe(0);
    }, 250_000);
  }
});
