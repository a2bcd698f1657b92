// Deno: deno.json carries the JSR name, version and exports, and
// `deno publish --dry-run` passes (type check, no slow types, every module the
// exports reach is included); a Deno script imports the client from the
// package's source path and publishes and consumes through nsqd.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestNsqd, type TestNsqd } from "../nsqd/helpers.ts";
import { runCommand } from "../helpers/cli.ts";
import { ROOT, tempDir } from "./helpers.ts";

const DENO = join(ROOT, "node_modules", ".bin", "deno");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
const denoJson = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")) as { name: string; version: string; exports: string };

let dir = "";
let nsqd: TestNsqd;
beforeAll(async () => {
  dir = tempDir("nsq-deno-");
  nsqd = await startTestNsqd();
});
afterAll(async () => {
  await nsqd?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("Deno and JSR", () => {
  test("deno.json names the package, its version (package.json's) and its exports", () => {
    expect(denoJson.name).toMatch(/^@[a-z0-9-]+\/[a-z0-9-]+$/);
    expect(denoJson.version).toBe(pkg.version);
    expect(denoJson.exports).toBe("./src/index.ts");
  });

  test("deno publish --dry-run passes: type check, no slow types", async () => {
    // --allow-dirty: a working tree with changes is checked as it is.
    const r = await runCommand(DENO, ["publish", "--dry-run", "--allow-dirty"], { timeoutMs: 120_000 });
    const out = r.stdout + r.stderr;
    // Diagnostic lines (`error[missing-explicit-return-type]: ...`, `Warning ...`), not file names such as errors.ts in the list.
    expect(out).not.toMatch(/^\s*(error|warning)\b/im);
    expect(out).toContain(`Simulating publish of ${denoJson.name}@${denoJson.version}`);
    expect(out).toContain("Success Dry run complete");
    expect(r.code).toBe(0);
  });

  test("a Deno script imports the client from the source path, publishes and consumes", async () => {
    const entry = pathToFileURL(join(ROOT, "src", "index.ts")).href;
    writeFileSync(
      join(dir, "client.ts"),
      `import { Consumer, Producer, loadRuntime, type Message } from "${entry}";
const [address, topic] = Deno.args;
const producer = new Producer(address);
await producer.publish(topic, "from deno");
const consumer = new Consumer(topic, "deno", { max_in_flight: 10 });
const got = new Promise<Message>((resolve) => consumer.addHandler((m) => resolve(m)));
await consumer.connectToNsqd(address);
const m = await got;
const runtime = (await loadRuntime()).name;
console.log(JSON.stringify({ body: new TextDecoder().decode(m.body), hostname: consumer.config.hostname === Deno.hostname(), runtime }));
await consumer.stop();
await producer.stop();
`,
    );
    // The permissions a client needs: the network, and the host name (go-nsq's hostname default).
    const r = await runCommand(
      DENO,
      [
        "run",
        "--check",
        `--config=${join(ROOT, "deno.json")}`,
        "--allow-net=127.0.0.1",
        "--allow-sys=hostname",
        join(dir, "client.ts"),
        `127.0.0.1:${nsqd.tcpPort}`,
        "from_deno",
      ],
      { timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ body: "from deno", hostname: true, runtime: "deno" });
  });

  test("no permission prompt at a terminal: the runtime override is read only where env access is granted", async () => {
    writeFileSync(
      join(dir, "pick.ts"),
      `import { loadRuntime } from "${pathToFileURL(join(ROOT, "src", "index.ts")).href}";\nconsole.log("picked", (await loadRuntime()).name);\n`,
    );
    const deno = `${DENO} run --config=${join(ROOT, "deno.json")} ${join(dir, "pick.ts")}`;
    // script(1) gives Deno a terminal, where a missing permission becomes a prompt that waits.
    const quiet = await runCommand("script", ["-qec", deno, "/dev/null"], { env: { NSQ_RUNTIME_ADAPTER: "node" }, timeoutMs: 30_000 });
    expect(quiet.stdout).not.toMatch(/requests|Allow\?/);
    expect(quiet.stdout).toMatch(/picked deno/);
    expect(quiet.code).toBe(0);
    const allowed = await runCommand("script", ["-qec", deno.replace(" run ", " run --allow-env "), "/dev/null"], {
      env: { NSQ_RUNTIME_ADAPTER: "node" },
      timeoutMs: 30_000,
    });
    expect(allowed.stdout).toMatch(/picked node/);
  });
});
