// The utilities as real processes on every test runtime, against in-process
// nsqd: U-TAIL-*, U-TO-*, U-FILE-*, U-HTTP-*, U-NSQ-*, U-STAT-*.
import { execFileSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import nsq from "nsqjs";
import { RUNTIMES } from "../helpers/cli.ts";
import { ensureDist } from "../integration/harness.ts";
import { startTestNsqd, type TestNsqd } from "../nsqd/helpers.ts";
import { createNodeRuntime } from "../../src/runtime/node.ts";
import { Consumer, Producer } from "../../src/index.ts";
import { runTool, startTool, waitUntil } from "./proc.ts";

const runtime = createNodeRuntime();
const tcp = (n: TestNsqd) => `--nsqd-tcp-address=127.0.0.1:${n.tcpPort}`;

function nsqjsPublish(port: number, topic: string, bodies: Buffer[]): Promise<void> {
  const w = new nsq.Writer("127.0.0.1", port);
  return new Promise((resolve, reject) => {
    w.once("error", reject);
    w.once("ready", () => {
      // One MPUB keeps the order.
      w.publish(topic, bodies, (e?: Error) => {
        w.close();
        if (e) reject(e);
        else resolve();
      });
    });
    w.connect();
  });
}

async function collect(n: TestNsqd, topic: string, channel: string, count: number, timeoutMs = 10_000): Promise<string[]> {
  const got: string[] = [];
  const c = new Consumer(topic, channel, { max_in_flight: 50 }, { runtime });
  c.addHandler((m) => void got.push(new TextDecoder().decode(m.body)));
  await c.connectToNsqd(`127.0.0.1:${n.tcpPort}`);
  try {
    await waitUntil(() => got.length >= count, timeoutMs, `${count} messages on ${topic}`);
    await new Promise((r) => setTimeout(r, 100));
  } finally {
    await c.stop();
  }
  return got;
}

describe.each(RUNTIMES)("tools on %s", (rt) => {
  let n: TestNsqd;
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), "nsq-tools-"));
    dirs.push(d);
    return d;
  };

  beforeAll(async () => {
    await ensureDist([rt]);
    n = await startTestNsqd({ http_address: "127.0.0.1:0" });
  });
  afterAll(async () => {
    await n?.[Symbol.asyncDispose]();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test("U-TAIL-OUTPUT / U-TAIL-N: nsqjs-published bodies come out byte for byte, binary included, then exit 0", async () => {
    const bodies = [Buffer.from("hello"), Buffer.from([0, 1, 2, 0xff, 0xfe, 0x0a, 0x0d, 0x80]), Buffer.from("h\u00e9llo w\u00f6rld"), Buffer.alloc(3000, 0xab)];
    await nsqjsPublish(n.tcpPort, "tail_bin", bodies);
    const r = await runTool(rt, ["tail", "--topic=tail_bin", tcp(n), `-n=${bodies.length}`, "--channel=c1"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.equals(Buffer.concat(bodies.flatMap((b) => [b, Buffer.from("\n")])))).toBe(true);
  });

  test("U-TAIL-FLAGS: a bad flag and an unreachable nsqd each give one readable line and a non-zero exit", async () => {
    const bad = await runTool(rt, ["tail", "--topic=x", "--bogus"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("flag provided but not defined: -bogus\n");
    const down = await runTool(rt, ["tail", "--topic=x", "--nsqd-tcp-address=127.0.0.1:1"]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/FATAL: failed to connect to nsqd 127\.0\.0\.1:1 - /);
    expect(down.stderr.split("\n").filter((l) => l.includes("FATAL"))).toHaveLength(1);
    const none = await runTool(rt, ["tail", "--topic=x"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/--nsqd-tcp-address or --lookupd-http-address required\n$/);
  });

  test("U-TAIL-MULTI: SIGTERM stops a running tail cleanly (exit 0), --print-topic prefixes lines", async () => {
    await using p = startTool(rt, ["tail", "--topic=tail_a", "--topic=tail_b", tcp(n), "--print-topic", "--channel=c2"]);
    await p.waitForStderr(/tail_b\/c2\] \(127\.0\.0\.1:\d+\) connecting/);
    const pr = new Producer(`127.0.0.1:${n.tcpPort}`, {}, { runtime });
    await pr.publish("tail_a", "one");
    await pr.publish("tail_b", "two");
    await pr.stop();
    await waitUntil(() => p.stdout().toString().split("\n").length >= 3, 10_000, "two lines");
    p.signal("SIGTERM");
    expect(await p.exited).toBe(0);
    expect(p.stdout().toString().split("\n").filter(Boolean).sort()).toEqual(["tail_a | one", "tail_b | two"]);
  });

  test("U-TO-PUBLISH / U-TO-RATE: pub publishes stdin lines (empty ones skipped) at the given rate", async () => {
    const lines = Array.from({ length: 8 }, (_, i) => `line${i}`);
    const started = Date.now();
    const r = await runTool(rt, ["pub", "--topic=pub_t", tcp(n), "--rate=20"], lines.join("\n\n") + "\n");
    const took = Date.now() - started;
    expect(r.code, r.stderr).toBe(0);
    // 8 tokens at 20/s from an empty bucket: at least ~350 ms.
    expect(took).toBeGreaterThanOrEqual(350);
    expect((await collect(n, "pub_t", "c", 8)).sort()).toEqual(lines);
  });

  test("U-FILE-*: gzip output survives a rotation and a SIGHUP with every message exactly once", async () => {
    const out = tmp();
    const work = tmp();
    await using p = startTool(rt, [
      "to-file",
      "--topic=tf",
      tcp(n),
      `--output-dir=${out}`,
      `--work-dir=${work}`,
      "--gzip",
      "--sync-interval=200ms",
      "--rotate-interval=700ms",
    ]);
    await p.waitForStderr(/\(127\.0\.0\.1:\d+\) connecting to nsqd/);
    const pr = new Producer(`127.0.0.1:${n.tcpPort}`, {}, { runtime });
    const all: string[] = [];
    const send = async (tag: string) => {
      const batch = Array.from({ length: 10 }, (_, i) => `${tag}-${i}`);
      all.push(...batch);
      await pr.multiPublish("tf", batch);
    };
    const lines = () => {
      const files = [...readdirSync(out), ...readdirSync(work).map((f) => `../${work.split("/").pop()}/${f}`)];
      return files.flatMap((f) => {
        try {
          return gunzipSync(readFileSync(join(out, f)))
            .toString()
            .split("\n")
            .filter(Boolean);
        } catch {
          return [];
        }
      });
    };
    await send("a");
    await waitUntil(() => lines().length >= 10, 10_000, "batch a on disk");
    p.signal("SIGHUP");
    await p.waitForStderr(/received SIGHUP/);
    await send("b");
    await waitUntil(() => lines().length >= 20, 10_000, "batch b on disk");
    await new Promise((r) => setTimeout(r, 900));
    await send("c");
    await waitUntil(() => lines().length >= 30, 10_000, "batch c on disk");
    await pr.stop();
    p.signal("SIGTERM");
    expect(await p.exited, p.stderr()).toBe(0);
    // Everything moved out of the work dir; several files; the system gunzip reads them all.
    expect(readdirSync(work)).toEqual([]);
    const files = readdirSync(out).sort();
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) expect(f).toMatch(/^tf\.[^.]+-\d{6}\.\d{4}-\d{2}-\d{2}_\d{2}\.log\.gz$/);
    const text = execFileSync("gunzip", ["-c", ...files.map((f) => join(out, f))]).toString();
    expect(text.split("\n").filter(Boolean).sort()).toEqual([...all].sort());
  }, 40_000);

  test("U-HTTP-*: to-http POSTs every message, retries a 500, spreads over two endpoints", async () => {
    const received: { server: number; body: string; ua: string; type: string }[] = [];
    let failNext = true;
    const servers: Server[] = [0, 1].map((i) =>
      createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
          if (i === 0 && failNext) {
            failNext = false;
            res.writeHead(500).end("nope");
            return;
          }
          received.push({
            server: i,
            body: Buffer.concat(chunks).toString(),
            ua: String(req.headers["user-agent"]),
            type: String(req.headers["content-type"]),
          });
          res.writeHead(200).end("ok");
        });
      }),
    );
    const ports = await Promise.all(servers.map((s) => new Promise<number>((r) => s.listen(0, "127.0.0.1", () => r((s.address() as { port: number }).port)))));
    try {
      const pr = new Producer(`127.0.0.1:${n.tcpPort}`, {}, { runtime });
      const bodies = Array.from({ length: 10 }, (_, i) => `msg${i}`);
      await pr.multiPublish("th", bodies);
      await pr.stop();
      await using p = startTool(rt, [
        "to-http",
        "--topic=th",
        tcp(n),
        "--mode=round-robin",
        "--header=X-Test: yes",
        ...ports.map((port) => `--post=http://127.0.0.1:${port}/in`),
        "--consumer-opt=backoff_multiplier,20ms",
        "--consumer-opt=default_requeue_delay,0",
      ]);
      await waitUntil(() => new Set(received.map((r) => r.body)).size === 10, 15_000, "10 deliveries");
      p.signal("SIGTERM");
      expect(await p.exited).toBe(0);
      expect([...new Set(received.map((r) => r.body))].sort()).toEqual(bodies);
      expect(failNext).toBe(false);
      expect(new Set(received.map((r) => r.server))).toEqual(new Set([0, 1]));
      expect(received[0]).toMatchObject({ ua: "nsq_to_http v1.3.0", type: "application/octet-stream" });
    } finally {
      for (const s of servers) s.close();
    }
  }, 30_000);

  test("U-NSQ-*: to-nsq relays to another nsqd, keeping only JSON with the required field, whitelisted", async () => {
    await using dest = await startTestNsqd();
    const pr = new Producer(`127.0.0.1:${n.tcpPort}`, {}, { runtime });
    await pr.multiPublish("tn", ['{"keep":1,"drop":2}', "not json", '{"other":true}', '{"keep":"x","y":[1]}']);
    await pr.stop();
    await using p = startTool(rt, [
      "to-nsq",
      "--topic=tn",
      tcp(n),
      `--destination-nsqd-tcp-address=127.0.0.1:${dest.tcpPort}`,
      "--destination-topic=tn_out",
      "--require-json-field=keep",
      "--whitelist-json-field=keep",
    ]);
    const got = await collect(dest, "tn_out", "c", 2);
    p.signal("SIGTERM");
    expect(await p.exited).toBe(0);
    expect(got.sort()).toEqual(['{"keep":"x"}', '{"keep":1}']);
    expect(n.nsqd.topics.get("tn")!.channels.get("nsq_to_nsq")!.depth()).toBe(0);
  }, 30_000);

  test("U-STAT-OUTPUT: stat prints the header and one row per interval, then exits with --count", async () => {
    await fetch(`http://127.0.0.1:${n.httpPort}/topic/create?topic=st`, { method: "POST" });
    await fetch(`http://127.0.0.1:${n.httpPort}/channel/create?topic=st&channel=sc`, { method: "POST" });
    const p2 = new Producer(`127.0.0.1:${n.tcpPort}`, {}, { runtime });
    await p2.multiPublish("st", ["1", "2", "3"]);
    await p2.stop();
    const r = await runTool(rt, ["stat", "--topic=st", "--channel=sc", `--nsqd-http-address=127.0.0.1:${n.httpPort}`, "--interval=200ms", "--count=2"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.toString().split("\n");
    expect(lines[0]).toBe("------rate------+----------------depth----------------+--------------metadata---------------");
    expect(lines[1]).toBe("ingress  egress |   total     mem    disk inflt   def |     req     t-o         msgs clients");
    expect(lines.slice(2).filter(Boolean)).toHaveLength(2);
    expect(lines[2]).toBe("      0       0 |       3       3       0     0     0 |       0       0            3       0");
    const missing = await runTool(rt, ["stat", "--topic=st", "--channel=nope", `--nsqd-http-address=127.0.0.1:${n.httpPort}`, "--count=1"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/failed to find channel\(nope\) in stats metadata for topic\(st\)/);
  });
});
