// Benchmarks for nsqd: `npm run bench -- <mode> [flags]` (or `npx tsx scripts/bench.ts`,
// `node_modules/.bin/bun scripts/bench.ts`). Flags use Go syntax like the
// original's bench_writer / bench_reader (-flag=value, --flag value, ...).
//
//   run      start our nsqd under --target and report the tracked cases (default mode);
//            --target=floor runs the same cases against scripts/bench-floor.ts, a
//            server that keeps nothing (what the runtime alone costs)
//   writer   publish to any nsqd (MPUB batches, or PUB with --batch-size=1)
//   reader   consume from any nsqd (SUB, RDY, FIN every message; optionally over
//            TLS, Snappy or DEFLATE)
//   profile  summarise a .cpuprofile (hot spots by self and total time)
//   consumers  many consumers (SUB + RDY 1 each, FIN on receipt) on one channel of any nsqd
//   latency  publish-to-delivery latency at fixed rates against any nsqd
import { FlagError, formatUsage, parseFlags } from "../src/common/flags.ts";
import type { OptionTable } from "../src/common/options.ts";
import { CLEAN_STOPS, formatResult, parseTarget, runReader, runWriter } from "./bench-client.ts";
import { ROOT, RUNTIME_TARGETS, TARGETS, formatTable, parseConsumeVariants, runDriver, type TargetName } from "./bench-driver.ts";
import type { TransportOptions } from "./bench-transport.ts";
import { formatProfile, summarizeProfile } from "./bench-profile.ts";
import { formatConsumers, runConsumers } from "./bench-consumers.ts";
import { formatLatency, runLatency } from "./bench-latency.ts";
import { rttClient } from "./bench-rtt.ts";
import { join } from "node:path";

const COMMON: OptionTable = [
  { flag: "nsqd-tcp-address", key: null, type: "string", default: "127.0.0.1:4150", help: "<addr>:<port> of the nsqd to benchmark" },
  { flag: "topic", key: null, type: "string", default: "sub_bench", help: "topic to publish to / consume from" },
  { flag: "runfor", key: null, type: "duration", default: 10_000, help: "upper bound of the run" },
  { flag: "count", key: null, type: "int", default: 0, help: "stop after this many messages (0: until --runfor)" },
  { flag: "connections", key: null, type: "int", default: 1, help: "TCP connections" },
];

const WRITER: OptionTable = [
  ...COMMON,
  { flag: "size", key: null, type: "int", default: 100, help: "message body size in bytes" },
  { flag: "batch-size", key: null, type: "int", default: 200, help: "messages per MPUB (1 sends PUB)" },
  { flag: "pipeline", key: null, type: "int", default: 4, help: "commands in flight per connection (1: wait for each OK)" },
];

const READER: OptionTable = [
  ...COMMON,
  { flag: "channel", key: null, type: "string", default: "ch", help: "channel to consume from" },
  { flag: "rdy", key: null, type: "int", default: 2500, help: "RDY count per connection" },
  { flag: "idle", key: null, type: "duration", default: 2000, help: "stop when no message arrived for this long (backlog drained; 0: never)" },
  { flag: "tls", key: null, type: "bool", default: false, help: "negotiate TLS (tls_v1) after IDENTIFY" },
  { flag: "tls-insecure", key: null, type: "bool", default: false, help: "with --tls: accept any server certificate" },
  { flag: "tls-ca-file", key: null, type: "string", default: "", help: "with --tls: PEM file of the CA that signed nsqd's certificate" },
  { flag: "tls-server-name", key: null, type: "string", default: "", help: "with --tls: name checked against the certificate (default: the address's host)" },
  { flag: "snappy", key: null, type: "bool", default: false, help: "negotiate Snappy compression" },
  { flag: "deflate", key: null, type: "bool", default: false, help: "negotiate DEFLATE compression" },
  { flag: "deflate-level", key: null, type: "int", default: 6, help: "DEFLATE level asked for (1..9)" },
];

const DRIVER: OptionTable = [
  {
    flag: "target",
    key: null,
    type: "list",
    default: [],
    help: `nsqd to start: ${TARGETS.join("|")}|all (repeatable; default binary; all: every runtime; floor: a server that keeps nothing, see bench-floor.ts)`,
  },
  {
    flag: "binary",
    key: null,
    type: "string",
    default: join(ROOT, "dist", "nsq"),
    help: "executable for --target=binary (built with npm run build when missing)",
  },
  { flag: "cases", key: null, type: "string", default: "1,2,3,4,5,6", help: "cases to run, comma separated (5, 6: latency at 10,000 and 50,000 msgs/s)" },
  { flag: "latency-runfor", key: null, type: "duration", default: 10_000, help: "length of each latency case" },
  { flag: "count", key: null, type: "int", default: 1_000_000, help: "case 1 messages (case 2 consumes them)" },
  { flag: "large-count", key: null, type: "int", default: 200_000, help: "case 3 messages" },
  { flag: "pub-count", key: null, type: "int", default: 50_000, help: "case 4 messages" },
  {
    flag: "rtt-client",
    key: null,
    type: "string",
    default: "auto",
    help: "case 4 load generator: c (scripts/bench-rtt.c, compiled with cc), node, or auto (c when cc is there)",
  },
  { flag: "runfor", key: null, type: "duration", default: 30_000, help: "upper bound of each case" },
  { flag: "connections", key: null, type: "int", default: 1, help: "TCP connections of cases 1-3" },
  { flag: "pipeline", key: null, type: "int", default: 4, help: "MPUBs in flight per connection" },
  { flag: "rdy", key: null, type: "int", default: 2500, help: "RDY count per reader connection" },
  { flag: "profile-dir", key: null, type: "string", default: "", help: "write CPU profiles of node/bun targets here" },
  { flag: "nsqd-flag", key: null, type: "list", default: [], help: "extra flag for the spawned nsqd (repeatable)" },
  { flag: "runtime-adapter", key: null, type: "string", default: "", help: "NSQ_RUNTIME_ADAPTER for the spawned nsqd (e.g. node)" },
  { flag: "nsqd-tcp-address", key: null, type: "string", default: "", help: "benchmark this running nsqd instead of starting one" },
  { flag: "pid", key: null, type: "int", default: 0, help: "with --nsqd-tcp-address: pid whose RSS is reported" },
  {
    flag: "consume",
    key: null,
    type: "list",
    default: [],
    help: "transports of case 2, comma separated or repeated: plaintext|tls|snappy|deflate|tls+snappy|tls+deflate; each publishes its own case-1 backlog and consumes it (default plaintext)",
  },
  { flag: "tls", key: null, type: "bool", default: false, help: "start nsqd with the test certificate (test/fixtures/tls), as every tls consume variant does" },
];

const CONSUMERS: OptionTable = [
  { flag: "nsqd-tcp-address", key: null, type: "string", default: "127.0.0.1:4150", help: "<addr>:<port> of the nsqd to benchmark" },
  { flag: "topic", key: null, type: "string", default: "consumers_bench", help: "topic to publish to" },
  { flag: "channel", key: null, type: "string", default: "ch", help: "channel the consumers share" },
  { flag: "consumers", key: null, type: "list", default: [], help: "consumer counts to run, comma separated (default 50,1000,5000)" },
  { flag: "count", key: null, type: "int", default: 100_000, help: "messages per run" },
  { flag: "size", key: null, type: "int", default: 100, help: "message body size in bytes" },
];

const LATENCY: OptionTable = [
  { flag: "nsqd-tcp-address", key: null, type: "string", default: "127.0.0.1:4150", help: "<addr>:<port> of the nsqd to benchmark" },
  { flag: "topic", key: null, type: "string", default: "latency_bench", help: "topic to publish to" },
  { flag: "rate", key: null, type: "list", default: [], help: "messages per second, comma separated (default 10000,50000)" },
  { flag: "runfor", key: null, type: "duration", default: 10_000, help: "length of each run" },
  { flag: "size", key: null, type: "int", default: 100, help: "message body size in bytes" },
];

const PROFILE: OptionTable = [
  { flag: "top", key: null, type: "int", default: 15, help: "rows per table" },
  { flag: "filter", key: null, type: "string", default: "", help: "only frames whose name or file contains this text (e.g. src/)" },
];

const MODES: Record<string, OptionTable> = { run: DRIVER, writer: WRITER, reader: READER, profile: PROFILE, consumers: CONSUMERS, latency: LATENCY };

type Values = Record<string, unknown>;

function values(table: OptionTable, argv: readonly string[], mode: string): { v: Values; rest: readonly string[] } | null {
  const parsed = parseFlags(table, argv);
  if (parsed.help) {
    process.stdout.write(formatUsage(`bench ${mode}`, table));
    return null;
  }
  const v: Values = {};
  for (const spec of table) v[spec.flag] = parsed.given.has(spec.flag) ? parsed.given.get(spec.flag) : spec.default;
  return { v, rest: parsed.rest };
}

function targets(list: string[]): TargetName[] {
  if (list.length === 0) return ["binary"];
  const out: TargetName[] = [];
  for (const item of list.flatMap((x) => x.split(","))) {
    if (item === "all") out.push(...RUNTIME_TARGETS);
    else if ((TARGETS as readonly string[]).includes(item)) out.push(item as TargetName);
    else throw new FlagError(`invalid value ${JSON.stringify(item)} for flag -target: use ${TARGETS.join(", ")} or all`);
  }
  return [...new Set(out)];
}

/** The compiled C client for case 4, or null for the JavaScript writer. */
function pickRttClient(choice: string, cases: number[]): string | null {
  if (choice !== "auto" && choice !== "c" && choice !== "node")
    throw new FlagError(`invalid value ${JSON.stringify(choice)} for flag -rtt-client: use c, node or auto`);
  if (choice === "node" || !cases.includes(4)) return null;
  const c = rttClient();
  if (c.path === null) {
    if (choice === "c") throw new FlagError(`-rtt-client=c: cannot compile scripts/bench-rtt.c (${c.why})`);
    process.stderr.write(`[bench] case 4 uses the JavaScript writer: no C compiler (${c.why})\n`);
  }
  return c.path;
}

async function main(argv: string[]): Promise<number> {
  let mode = "run";
  if (argv[0] !== undefined && !argv[0].startsWith("-")) mode = argv.shift()!;
  const table = MODES[mode];
  if (table === undefined) {
    process.stderr.write(`bench: unknown mode ${JSON.stringify(mode)} (use ${Object.keys(MODES).join(", ")})\n`);
    return 2;
  }
  const parsed = values(table, argv, mode);
  if (parsed === null) return 0;
  const { v, rest } = parsed;
  if (mode !== "profile" && rest.length > 0) throw new FlagError(`unexpected argument ${JSON.stringify(rest[0])}`);

  if (mode === "writer") {
    const r = await runWriter({
      target: parseTarget(v["nsqd-tcp-address"] as string),
      topic: v.topic as string,
      size: v.size as number,
      batchSize: v["batch-size"] as number,
      connections: v.connections as number,
      pipeline: v.pipeline as number,
      runforMs: v.runfor as number,
      count: v.count as number,
    });
    process.stdout.write(formatResult("bench_writer", r) + "\n");
    return CLEAN_STOPS.includes(r.stop) ? 0 : 1;
  }
  if (mode === "reader") {
    const r = await runReader({
      target: parseTarget(v["nsqd-tcp-address"] as string),
      topic: v.topic as string,
      channel: v.channel as string,
      rdy: v.rdy as number,
      connections: v.connections as number,
      runforMs: v.runfor as number,
      count: v.count as number,
      idleMs: v.idle as number,
      transport: {
        tls: v.tls as boolean,
        tlsInsecure: v["tls-insecure"] as boolean,
        tlsCaFile: v["tls-ca-file"] as string,
        tlsServerName: v["tls-server-name"] as string,
        snappy: v.snappy as boolean,
        deflate: v.deflate as boolean,
        deflateLevel: v["deflate-level"] as number,
      } satisfies TransportOptions,
    });
    process.stdout.write(formatResult("bench_reader", r) + "\n");
    return CLEAN_STOPS.includes(r.stop) ? 0 : 1;
  }
  if (mode === "consumers") {
    const list = (v.consumers as string[]).flatMap((x) => x.split(",")).filter((x) => x !== "");
    const counts = list.length === 0 ? [50, 1000, 5000] : list.map((x) => Number(x));
    for (const n of counts) if (!Number.isInteger(n) || n < 1) throw new FlagError(`invalid consumer count ${n}`);
    for (const n of counts) {
      const r = await runConsumers({
        target: parseTarget(v["nsqd-tcp-address"] as string),
        topic: `${v.topic as string}_${n}`,
        channel: v.channel as string,
        consumers: n,
        count: v.count as number,
        size: v.size as number,
      });
      process.stdout.write(formatConsumers(r) + "\n");
    }
    return 0;
  }
  if (mode === "latency") {
    const list = (v.rate as string[]).flatMap((x) => x.split(",")).filter((x) => x !== "");
    const rates = list.length === 0 ? [10_000, 50_000] : list.map((x) => Number(x));
    for (const rate of rates) if (!Number.isInteger(rate) || rate < 1) throw new FlagError(`invalid rate ${rate}`);
    for (const rate of rates) {
      const r = await runLatency({
        target: parseTarget(v["nsqd-tcp-address"] as string),
        topic: `${v.topic as string}_${rate}`,
        rate,
        durationMs: v.runfor as number,
        size: v.size as number,
      });
      process.stdout.write(formatLatency("bench_latency", r) + "\n");
    }
    return 0;
  }
  if (mode === "profile") {
    if (rest.length === 0) throw new FlagError("profile: give one or more .cpuprofile files");
    for (const file of rest) {
      process.stdout.write(`== ${file}\n`);
      process.stdout.write(formatProfile(summarizeProfile(file, ROOT), v.top as number, v.filter as string));
    }
    return 0;
  }

  const cases = (v.cases as string).split(",").map((x) => Number(x.trim()));
  for (const c of cases) if (![1, 2, 3, 4, 5, 6].includes(c)) throw new FlagError(`invalid case ${c} in -cases (1..6)`);
  const external = v["nsqd-tcp-address"] as string;
  const rows = await runDriver({
    targets: targets(v.target as string[]),
    binary: v.binary as string,
    cases,
    count: v.count as number,
    largeCount: v["large-count"] as number,
    pubCount: v["pub-count"] as number,
    rttClient: pickRttClient(v["rtt-client"] as string, cases),
    latencyMs: v["latency-runfor"] as number,
    runforMs: v.runfor as number,
    connections: v.connections as number,
    pipeline: v.pipeline as number,
    rdy: v.rdy as number,
    profileDir: (v["profile-dir"] as string) || null,
    nsqdFlags: v["nsqd-flag"] as string[],
    runtimeAdapter: v["runtime-adapter"] as string,
    external: external === "" ? null : parseTarget(external),
    pid: v.pid as number,
    consume: parseConsumeVariants(v.consume as string[]),
    tls: v.tls as boolean,
  });
  process.stdout.write(formatTable(rows));
  return rows.some((r) => r.result === null || !CLEAN_STOPS.includes(r.result.stop)) ? 1 : 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  if (e instanceof FlagError || e instanceof RangeError || e instanceof TypeError) {
    // Usage and option errors: one line, like Go's flag package.
    process.stderr.write(`bench: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`bench: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 1;
  }
}
