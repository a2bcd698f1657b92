// The driver: starts our nsqd (the CLI under a chosen runtime) on 127.0.0.1
// with port 0 and a temporary --data-path, runs the four tracked cases against
// it, samples the daemon's RSS after each case and prints one table.
//
//   1. publish 100-byte messages in MPUB batches of 200
//   2. consume that backlog (SUB, RDY, FIN every message)
//   3. publish 1000-byte messages in MPUB batches of 200
//   4. publish one 100-byte message per round trip (PUB, wait for OK)
//
// Every published topic gets its channel first (a SUB that is closed again), so
// each case measures the whole path a message takes with one consumer group
// attached: topic, channel queue (memory, then disk past --mem-queue-size).
//
// Case 2 can be repeated over other transports (--consume tls,snappy,...): the
// first consumes case 1's backlog, every further one first publishes a backlog
// of the same size to a topic of its own (not timed), then consumes it. TLS
// variants start nsqd with the test certificate (test/fixtures/tls) and check
// it against the test CA.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createChannel, formatResult, runReader, runWriter, type RunResult, type TcpTarget } from "./bench-client.ts";
import { PLAINTEXT, describeTransport, type TransportOptions } from "./bench-transport.ts";
import { runRtt } from "./bench-rtt.ts";
import { runLatency, type LatencyResult } from "./bench-latency.ts";
import { errorText } from "../src/common/errors.ts";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** nsqd under each runtime, and the floor: bench-floor.ts under Bun (the binary's runtime), which keeps nothing. */
export const TARGETS = ["binary", "node", "bun", "deno", "floor"] as const;
export type TargetName = (typeof TARGETS)[number];
/** What `--target=all` means: nsqd under every runtime. */
export const RUNTIME_TARGETS: readonly TargetName[] = ["binary", "node", "bun", "deno"];

export interface DriverOptions {
  targets: TargetName[];
  /** The compiled executable for the "binary" target. */
  binary: string;
  cases: number[];
  /** Case 1 messages (and the backlog case 2 drains). */
  count: number;
  /** Case 3 messages. */
  largeCount: number;
  /** Case 4 messages. */
  pubCount: number;
  /** Upper bound of each case. */
  runforMs: number;
  connections: number;
  pipeline: number;
  rdy: number;
  /** Where node/bun write .cpuprofile files (null: no profiling). */
  profileDir: string | null;
  /** Extra flags for the spawned nsqd. */
  nsqdFlags: string[];
  /** NSQ_RUNTIME_ADAPTER for the spawned nsqd ("" leaves it unset). */
  runtimeAdapter: string;
  /** Run against this nsqd instead of spawning one. */
  external: TcpTarget | null;
  /** With `external`: the pid whose RSS is reported. */
  pid: number;
  /** Transports case 2 runs over, in order (empty: plaintext only). */
  consume: TransportOptions[];
  /** Case 4's load generator: the compiled C client (bench-rtt.c), or null for the JavaScript writer. */
  rttClient: string | null;
  /** Length of each latency case (5, 6). */
  latencyMs: number;
  /** Start nsqd with the test certificate even when no consume variant uses TLS. */
  tls: boolean;
}

/** The test certificate nsqd is started with, and the CA the reader checks it against. */
export const TLS_FIXTURE = {
  cert: join(ROOT, "test", "fixtures", "tls", "server.pem"),
  key: join(ROOT, "test", "fixtures", "tls", "server.key"),
  ca: join(ROOT, "test", "fixtures", "tls", "ca.pem"),
};

const CONSUME_NAMES = ["plaintext", "tls", "snappy", "deflate", "tls+snappy", "tls+deflate"] as const;

/** --consume values ("tls,snappy", repeatable) to transports; [] gives [plaintext]. */
export function parseConsumeVariants(list: readonly string[]): TransportOptions[] {
  const names = list
    .flatMap((x) => x.split(","))
    .map((x) => x.trim())
    .filter((x) => x !== "");
  if (names.length === 0) return [PLAINTEXT];
  const out: TransportOptions[] = [];
  for (const name of names) {
    if (!(CONSUME_NAMES as readonly string[]).includes(name)) {
      throw new RangeError(`invalid value ${JSON.stringify(name)} for flag -consume: use ${CONSUME_NAMES.join(", ")}`);
    }
    const parts = name.split("+");
    const tls = parts.includes("tls");
    out.push({
      ...PLAINTEXT,
      tls,
      tlsCaFile: tls ? TLS_FIXTURE.ca : "",
      snappy: parts.includes("snappy"),
      deflate: parts.includes("deflate"),
    });
  }
  return out;
}

/** nsqd flags that give it the test certificate, when a variant (or --tls) asks for TLS. */
export function tlsFlags(o: Pick<DriverOptions, "consume" | "tls" | "cases">): string[] {
  const wanted = o.tls || (o.cases.includes(2) && o.consume.some((t) => t.tls));
  return wanted ? [`--tls-cert=${TLS_FIXTURE.cert}`, `--tls-key=${TLS_FIXTURE.key}`] : [];
}

export interface CaseRow {
  target: string;
  name: string;
  result: RunResult | null;
  error?: string;
  rssKiB: number;
  peakKiB: number;
  /** CPU the nsqd process used during the case, % of one core (-1: unknown). */
  nsqdCpuPct: number;
}

const CASE_NAMES: Record<number, string> = {
  1: "1 MPUB 200 x 100 B",
  2: "2 consume backlog",
  3: "3 MPUB 200 x 1000 B",
  4: "4 PUB 100 B / round trip",
  5: "5 latency at 10,000/s",
  6: "6 latency at 50,000/s",
};

function log(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

/** VmRSS and VmHWM (peak) of a process, in KiB; zeros when unreadable (not Linux, or gone). */
export function readRss(pid: number): { rss: number; peak: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
    const peak = /^VmHWM:\s+(\d+) kB/m.exec(status);
    return { rss: rss ? Number(rss[1]) : 0, peak: peak ? Number(peak[1]) : 0 };
  } catch {
    return { rss: 0, peak: 0 };
  }
}

/** CPU seconds (user + system) a process has used so far; -1 when unreadable. */
export function readCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the ")" that closes the command name: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // USER_HZ is 100 on every Linux this runs on.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return -1;
  }
}

function bin(name: string): string {
  return join(ROOT, "node_modules", ".bin", name);
}

/** The command line that runs `nsq nsqd` under a target. */
export function nsqdCommand(target: TargetName, o: DriverOptions, profileDir: string | null): string[] {
  const cli = join(ROOT, "cli", "main.ts");
  switch (target) {
    case "binary":
      return [o.binary, "nsqd"];
    case "node": {
      const prof = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
      // `node` from PATH even when this script runs under Bun (process.execPath would be bun).
      return ["node", ...prof, "--import", "tsx", cli, "nsqd"];
    }
    case "bun": {
      const prof = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
      return [bin("bun"), ...prof, cli, "nsqd"];
    }
    case "deno":
      return [bin("deno"), "run", "-A", cli, "nsqd"];
    case "floor":
      return [bin("bun"), join(ROOT, "scripts", "bench-floor.ts")];
  }
}

interface Daemon {
  child: ChildProcess;
  target: TcpTarget;
  /** Last lines of its stderr, for error reports. */
  tail: string[];
  exited: Promise<number | null>;
}

function startNsqd(argv: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Daemon> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, env, stdio: ["ignore", "ignore", "pipe"] });
    const tail: string[] = [];
    const exited = new Promise<number | null>((r) => child.once("exit", (code, signal) => r(code ?? (signal ? -1 : null))));
    let settled = false;
    let partial = "";
    const timer = setTimeout(() => fail(`nsqd did not report its TCP address within ${timeoutMs} ms`), timeoutMs);
    function fail(why: string): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      if (partial !== "") tail.push(partial);
      reject(new Error(`${why}\n  command: ${argv.join(" ")}\n  stderr: ${tail.join("\n          ")}`));
    }
    child.once("error", (e) => fail(`cannot start nsqd: ${e.message}`));
    // "close" (not "exit") so the whole of stderr has been read into the tail.
    child.once("close", (code) => fail(`nsqd exited with ${code} during start-up`));
    // Keep draining stderr for the whole run: a full pipe would block the daemon.
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (text: string) => {
      const lines = (partial + text).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 20) tail.shift();
        const m = /TCP: listening on (\S+)/.exec(line);
        if (m && !settled) {
          const addr = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(m[1]!);
          if (!addr) return fail(`cannot parse the address in ${JSON.stringify(line)}`);
          settled = true;
          clearTimeout(timer);
          resolvePromise({ child, target: { host: addr[1] ?? addr[2]!, port: Number(addr[3]) }, tail, exited });
        }
      }
    });
  });
}

async function stopNsqd(d: Daemon, graceMs: number): Promise<void> {
  if (d.child.exitCode !== null || d.child.signalCode !== null) return;
  d.child.kill("SIGTERM");
  const timer = setTimeout(() => {
    log(`nsqd pid ${d.child.pid} still running ${graceMs} ms after SIGTERM: killing it`);
    d.child.kill("SIGKILL");
  }, graceMs);
  await d.exited;
  clearTimeout(timer);
}

/** Runs the selected cases against one nsqd; `pid` (0: none) is sampled for RSS after each. */
async function runCases(label: string, target: TcpTarget, pid: number, o: DriverOptions, suffix: string): Promise<CaseRow[]> {
  const rows: CaseRow[] = [];
  const topic = (n: string) => `bench_${n}${suffix}`;
  let published = 0;
  let cpuBefore = -1;
  const record = (n: number, result: RunResult | null, error?: string, name = CASE_NAMES[n]!) => {
    const { rss, peak } = pid > 0 ? readRss(pid) : { rss: 0, peak: 0 };
    const cpuAfter = pid > 0 ? readCpuSeconds(pid) : -1;
    const nsqdCpuPct = result !== null && result.seconds > 0 && cpuBefore >= 0 && cpuAfter >= 0 ? ((cpuAfter - cpuBefore) / result.seconds) * 100 : -1;
    const row: CaseRow = { target: label, name, result, rssKiB: rss, peakKiB: peak, nsqdCpuPct };
    if (error !== undefined) row.error = error;
    rows.push(row);
    log(result ? formatResult(`${label} ${name}`, result) : `${label} ${name}: ${error}`);
  };
  const attempt = async (n: number, fn: () => Promise<RunResult>, name = CASE_NAMES[n]!) => {
    if (!o.cases.includes(n)) return;
    cpuBefore = pid > 0 ? readCpuSeconds(pid) : -1;
    try {
      record(n, await fn(), undefined, name);
    } catch (e) {
      record(n, null, errorText(e), name);
    }
  };
  const base = { target, connections: o.connections, pipeline: o.pipeline, runforMs: o.runforMs };

  await attempt(1, async () => {
    await createChannel(target, topic("100"), "ch");
    const r = await runWriter({ ...base, topic: topic("100"), size: 100, batchSize: 200, count: o.count });
    published = r.messages;
    return r;
  });
  const variants = o.consume.length > 0 ? o.consume : [PLAINTEXT];
  for (let i = 0; i < variants.length; i++) {
    const transport = variants[i]!;
    const kind = describeTransport(transport);
    const name = kind === "plaintext" ? CASE_NAMES[2]! : `${CASE_NAMES[2]} (${kind})`;
    // The first variant drains case 1's backlog; the others publish their own first.
    const own = i > 0;
    const consumeTopic = own ? topic(`100_${kind.replace(/\+/g, "_")}`) : topic("100");
    let expected = o.cases.includes(1) ? published : 0;
    if (own && o.cases.includes(2)) {
      try {
        await createChannel(target, consumeTopic, "ch");
        const w = await runWriter({ ...base, topic: consumeTopic, size: 100, batchSize: 200, count: o.count });
        expected = w.messages;
        log(`${label} backlog for ${name}: ${w.messages} messages published (${w.stop})`);
      } catch (e) {
        record(2, null, `publishing the backlog: ${errorText(e)}`, name);
        continue;
      }
    }
    await attempt(
      2,
      async () => {
        const r = await runReader({
          target,
          topic: consumeTopic,
          channel: "ch",
          rdy: o.rdy,
          connections: o.connections,
          // Without a known backlog, drain whatever is there until idle.
          count: expected,
          runforMs: o.runforMs,
          idleMs: 2000,
          transport,
        });
        // Every published message must come back: a shortfall is a lost message, not a slow run.
        if (expected > 0 && r.stop === "drained" && r.messages < expected) {
          r.stop = `drained with ${expected - r.messages} of ${expected} messages missing`;
        }
        return r;
      },
      name,
    );
  }
  await attempt(3, async () => {
    await createChannel(target, topic("1000"), "ch");
    return runWriter({ ...base, topic: topic("1000"), size: 1000, batchSize: 200, count: o.largeCount });
  });
  await attempt(4, async () => {
    await createChannel(target, topic("pub"), "ch");
    if (o.rttClient !== null) return runRtt(o.rttClient, { target, topic: topic("pub"), size: 100, count: o.pubCount, runforMs: o.runforMs });
    return runWriter({ ...base, topic: topic("pub"), size: 100, batchSize: 1, pipeline: 1, connections: 1, count: o.pubCount });
  });
  for (const [n, rate] of [
    [5, 10_000],
    [6, 50_000],
  ] as const) {
    await attempt(n, () => runLatency({ target, topic: topic(`latency_${rate}`), rate, durationMs: o.latencyMs, size: 100 }));
  }
  return rows;
}

function ensureBinary(path: string): void {
  if (existsSync(path)) return;
  log(`${path} is missing: running npm run build`);
  const r = spawnSync("npm", ["run", "build"], { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"], timeout: 600_000 });
  if (r.status !== 0 || !existsSync(path)) throw new Error(`npm run build did not produce ${path}`);
}

async function runTarget(name: TargetName, o: DriverOptions): Promise<CaseRow[]> {
  if (name === "binary") ensureBinary(o.binary);
  const dataPath = mkdtempSync(join(tmpdir(), `nsq-bench-${name}-`));
  let profileDir: string | null = null;
  if (o.profileDir !== null && (name === "node" || name === "bun")) {
    profileDir = resolve(o.profileDir, name);
    mkdirSync(profileDir, { recursive: true });
  }
  const argv = [
    ...nsqdCommand(name, o, profileDir),
    "--tcp-address=127.0.0.1:0",
    "--http-address=127.0.0.1:0",
    `--data-path=${dataPath}`,
    ...tlsFlags(o),
    ...o.nsqdFlags,
  ];
  const env = { ...process.env };
  if (o.runtimeAdapter !== "") env.NSQ_RUNTIME_ADAPTER = o.runtimeAdapter;
  log(`${name}: ${argv.join(" ")}`);
  let daemon: Daemon | null = null;
  try {
    daemon = await startNsqd(argv, env, 60_000);
    const pid = daemon.child.pid ?? 0;
    log(`${name}: nsqd pid ${pid} on ${daemon.target.host}:${daemon.target.port}, start-up RSS ${(readRss(pid).rss / 1024).toFixed(1)} MiB`);
    // The floor keeps no bodies, so it has no latency to show (cases 5, 6), nor TLS or compression.
    let own = o;
    if (name === "floor") {
      own = { ...o, cases: o.cases.filter((c) => c <= 4), consume: [] };
      if (own.cases.length < o.cases.length || o.consume.length > 0) log("floor: cases 1-4 only, over plaintext");
    }
    const rows = await runCases(name, daemon.target, pid, own, "");
    if (daemon.child.exitCode !== null) log(`${name}: nsqd exited early; last stderr:\n${daemon.tail.join("\n")}`);
    return rows;
  } catch (e) {
    log(`${name}: ${errorText(e)}`);
    return [{ target: name, name: "start", result: null, error: errorText(e), rssKiB: 0, peakKiB: 0, nsqdCpuPct: -1 }];
  } finally {
    if (daemon !== null) await stopNsqd(daemon, 30_000);
    rmSync(dataPath, { recursive: true, force: true });
    if (profileDir !== null) {
      const files = readdirSync(profileDir).filter((f) => f.endsWith(".cpuprofile"));
      if (files.length > 0) log(`${name}: CPU profiles in ${profileDir}: ${files.join(", ")}`);
    }
  }
}

/** The 1-minute load average (Linux), to judge how noisy a run was; null elsewhere. */
export function loadAverage(): string | null {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  } catch {
    return null;
  }
}

export async function runDriver(o: DriverOptions): Promise<CaseRow[]> {
  const load = loadAverage();
  if (load !== null) log(`load average before the run: ${load} (${availableParallelism()} CPUs)`);
  if (o.external !== null) {
    // Unique topic names: an external nsqd may hold data of earlier runs.
    const suffix = `_${Date.now().toString(36)}`;
    const label = `${o.external.host}:${o.external.port}`;
    return runCases(label, o.external, o.pid, o, suffix);
  }
  const rows: CaseRow[] = [];
  for (const t of o.targets) rows.push(...(await runTarget(t, o)));
  return rows;
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

export function formatTable(rows: CaseRow[]): string {
  const header = ["target", "case", "messages", "seconds", "msgs/s", "MiB/s", "RSS MiB", "peak MiB", "nsqd CPU", "bench CPU", "notes"];
  const body = rows.map((r) => {
    const mib = (k: number) => (k > 0 ? (k / 1024).toFixed(1) : "-");
    if (r.result === null) return [r.target, r.name, "-", "-", "-", "-", mib(r.rssKiB), mib(r.peakKiB), "-", "-", `error: ${r.error ?? "?"}`.split("\n")[0]!];
    const x = r.result;
    const rate = x.seconds > 0 ? x.messages / x.seconds : 0;
    const mbs = x.seconds > 0 ? x.bytes / x.seconds / 1024 / 1024 : 0;
    let notes = `stop: ${x.stop}`;
    if (x.latencyUs && r.name.startsWith("4")) notes += `; RTT p50 ${x.latencyUs.p50.toFixed(0)} us, p99 ${x.latencyUs.p99.toFixed(0)} us`;
    if ("p999" in x) {
      const l = x as LatencyResult;
      const ms = (us: number) => (us / 1000).toFixed(us < 10_000 ? 2 : 1);
      notes += `; p50 ${ms(l.p50)} ms, p99 ${ms(l.p99)} ms, p99.9 ${ms(l.p999)} ms, max ${ms(l.max)} ms; after 1 s: p99 ${ms(l.p99Warm)} ms, max ${ms(l.maxWarm)} ms`;
    }
    return [
      r.target,
      r.name,
      String(x.messages),
      x.seconds.toFixed(2),
      Math.round(rate).toLocaleString("en-US"),
      mbs.toFixed(1),
      mib(r.rssKiB),
      mib(r.peakKiB),
      r.nsqdCpuPct >= 0 ? `${r.nsqdCpuPct.toFixed(0)}%` : "-",
      x.clientCpuPct >= 0 ? `${x.clientCpuPct.toFixed(0)}%` : "-",
      notes,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const numeric = new Set([2, 3, 4, 5, 6, 7, 8, 9]);
  const line = (cells: string[]) => "| " + cells.map((c, i) => pad(c, widths[i]!, numeric.has(i))).join(" | ") + " |";
  const sep = "|" + widths.map((w, i) => (numeric.has(i) ? "-".repeat(w + 1) + ":" : "-".repeat(w + 2))).join("|") + "|";
  return [line(header), sep, ...body.map(line)].join("\n") + "\n";
}
