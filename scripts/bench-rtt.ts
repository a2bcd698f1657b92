// Case 4 (one PUB per round trip) with the C client of bench-rtt.c, so that
// the load generator costs a few microseconds per round trip and the figure is
// nsqd's. It is compiled on first use with the system's C compiler (`cc`) into
// a cache directory; without one, case 4 uses the JavaScript writer.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { RunResult, TcpTarget } from "./bench-client.ts";

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), "bench-rtt.c");

/** The compiled client, or null (no C compiler; the reason is in `why`). */
export function rttClient(): { path: string | null; why: string } {
  const source = readFileSync(SOURCE);
  const hash = createHash("sha256").update(source).digest("hex").slice(0, 12);
  const dir = join(tmpdir(), "nsq-bench-rtt");
  const path = join(dir, `bench-rtt-${hash}`);
  if (existsSync(path)) return { path, why: "" };
  mkdirSync(dir, { recursive: true });
  const r = spawnSync("cc", ["-O2", "-o", path, SOURCE], { encoding: "utf8" });
  if (r.error !== undefined || r.status !== 0) return { path: null, why: r.error?.message ?? r.stderr.trim().split("\n")[0] ?? "cc failed" };
  return { path, why: "" };
}

export async function runRtt(client: string, o: { target: TcpTarget; topic: string; size: number; count: number; runforMs: number }): Promise<RunResult> {
  const child = spawn(client, [o.target.host, String(o.target.port), o.topic, String(o.size), String(o.count), String(o.runforMs / 1000)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), o.runforMs + 30_000);
  const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`bench-rtt: ${(err || `exit ${code}`).trim()}`);
  const [messages, seconds, p50, p99, max] = out.trim().split(/\s+/).map(Number) as [number, number, number, number, number];
  return {
    messages,
    bytes: messages * o.size,
    seconds,
    latencyUs: { p50, p99, max },
    stop: messages >= o.count ? "count" : "runfor",
    // The child's CPU is not this process's; the C client uses a few % at most.
    clientCpuPct: -1,
  };
}
