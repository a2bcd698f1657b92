// The npm package: `npm pack` makes a small tarball (compiled ESM + .d.ts of
// the client library, the `nsq` CLI as a prebuilt bundle, README, LICENSE),
// which installs into an empty project where plain Node 20 imports the
// client, publishes and consumes through nsqd, runs `npx nsq`, and tsc
// type-checks a consumer against the installed types.
import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestNsqd, type TestNsqd } from "../nsqd/helpers.ts";
import { runCommand } from "../helpers/cli.ts";
import { ROOT, sh, tempDir } from "./helpers.ts";

const VERSION = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;
const BIN = join(ROOT, "node_modules", ".bin");

let packDir = "";
let project = "";
let tarball = "";
let nsqd: TestNsqd;

// nsqd runs in this process: the clients are awaited (runCommand), never run
// with a blocking spawnSync.
// Publishes one message with a Producer and reads it back with a Consumer,
// neither given a runtime; prints what the consumer saw.
const CLIENT = `import { Consumer, Producer, loadRuntime } from "nsq";
const [address, topic] = process.argv.slice(2);
const producer = new Producer(address);
await producer.publish(topic, "from the package");
const consumer = new Consumer(topic, "pkg", { max_in_flight: 10 });
const got = new Promise((resolve) => consumer.addHandler((m) => resolve(m)));
await consumer.connectToNsqd(address);
const m = await got;
const runtime = (await loadRuntime()).name;
console.log(JSON.stringify({ body: new TextDecoder().decode(m.body), maxInFlight: consumer.config.max_in_flight, runtime }));
await consumer.stop();
await producer.stop();
`;

// Type-checked against the installed package, not run.
const TYPED_CONSUMER = `import { Config, Consumer, Producer, type Message } from "nsq";
const consumer = new Consumer("events", "archive", { max_in_flight: 10 });
consumer.addHandler(async (m: Message) => {
  const attempts: number = m.attempts;
  const body: Uint8Array = m.body;
  void attempts, body;
});
await consumer.connectToNsqLookupd("127.0.0.1:4161");
const producer = new Producer("127.0.0.1:4150", new Config({ snappy: true }));
await producer.publish("events", "hello");
// @ts-expect-error max_in_flight takes a number
new Consumer("events", "archive", { max_in_flight: "ten" });
// @ts-expect-error no such option
new Producer("127.0.0.1:4150", { no_such_option: true });
`;

beforeAll(async () => {
  packDir = tempDir("nsq-pack-");
  project = tempDir("nsq-pkg-project-");
  const packed = sh("npm", ["pack", "--silent", "--pack-destination", packDir]).stdout.trim().split("\n").pop()!;
  tarball = join(packDir, packed);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "uses-nsq", private: true, type: "module" }));
  sh("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", tarball], { cwd: project });
  nsqd = await startTestNsqd();
});
afterAll(async () => {
  await nsqd?.close();
  for (const d of [packDir, project]) if (d) rmSync(d, { recursive: true, force: true });
});

describe("npm package", () => {
  test("the tarball is small and holds the built library, the CLI bundle, README and LICENSE only", () => {
    expect(tarball.endsWith(`nsq-${VERSION}.tgz`)).toBe(true);
    expect(statSync(tarball).size).toBeLessThan(1024 * 1024);
    const files = sh("tar", ["-tzf", tarball]).stdout.split("\n").filter(Boolean);
    expect(files).toEqual(
      expect.arrayContaining([
        "package/package.json",
        "package/README.md",
        "package/LICENSE",
        "package/dist/nsq.mjs",
        "package/dist/lib/index.js",
        "package/dist/lib/index.d.ts",
        "package/dist/lib/client/consumer.js",
      ]),
    );
    const other = files.filter((f) => !/^package\/(package\.json|README\.md|LICENSE|dist\/nsq\.mjs|dist\/lib\/.+\.(js|d\.ts))$/.test(f));
    expect(other).toEqual([]);
  });

  test("plain node 20 imports Producer and Consumer from the package, publishes and consumes", async () => {
    writeFileSync(join(project, "client.mjs"), CLIENT);
    const r = await runCommand(process.execPath, ["client.mjs", `127.0.0.1:${nsqd.tcpPort}`, "pkg_node"], { cwd: project, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ body: "from the package", maxInFlight: 10, runtime: "node" });
  });

  test.each([
    ["bun", [join(BIN, "bun"), "client.mjs"]],
    ["deno", [join(BIN, "deno"), "run", "--allow-net=127.0.0.1", "--allow-sys=hostname", "--allow-read", "client.mjs"]],
  ])("the same script on %s picks that runtime's adapter by itself", async (rt, [file, ...args]) => {
    writeFileSync(join(project, "client.mjs"), CLIENT);
    const r = await runCommand(file!, [...args, `127.0.0.1:${nsqd.tcpPort}`, `pkg_${rt}`], { cwd: project, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ body: "from the package", maxInFlight: 10, runtime: rt });
  });

  test("npx nsq --version runs the packaged CLI on node", () => {
    const r = sh("npx", ["--no-install", "nsq", "--version"], { cwd: project });
    expect(r.stdout).toMatch(new RegExp(`^nsq v${VERSION.replaceAll(".", "\\.")} \\(built w/node v20\\.`));
  });

  test("tsc type-checks a consumer against the installed package's types", () => {
    writeFileSync(join(project, "consumer.ts"), TYPED_CONSUMER);
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          lib: ["ES2022"],
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          noEmit: true,
          types: ["node"],
          typeRoots: [join(ROOT, "node_modules", "@types")],
        },
        files: ["consumer.ts"],
      }),
    );
    const r = sh(join(BIN, "tsc"), ["-p", "."], { cwd: project, allowFail: true });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});
