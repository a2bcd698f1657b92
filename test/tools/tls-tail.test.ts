// U-TAIL-* with U-CLI-OPTS upgrades: `nsq tail` as a real process on every
// test runtime reads from a TLS-enabled in-process nsqd, with TLS asked for
// through --consumer-opt. nsqd's log proves the connection was upgraded.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { RUNTIMES } from "../helpers/cli.ts";
import { ensureDist } from "../integration/harness.ts";
import { recordingLogger, startTestNsqd, type TestNsqd } from "../nsqd/helpers.ts";
import { createNodeRuntime } from "../../src/runtime/node.ts";
import { Producer } from "../../src/index.ts";
import { runTool } from "./proc.ts";

const runtime = createNodeRuntime();
const FIXTURES = join(import.meta.dirname, "..", "fixtures", "tls");

describe.each(RUNTIMES)("nsq tail over TLS on %s", (rt) => {
  let n: TestNsqd;
  const log = recordingLogger();

  beforeAll(async () => {
    await ensureDist([rt]);
    n = await startTestNsqd({ tls_cert: join(FIXTURES, "server.pem"), tls_key: join(FIXTURES, "server.key") }, { logger: log });
  });
  afterAll(async () => {
    await n?.close();
  });

  async function publish(topic: string, bodies: string[]): Promise<void> {
    const p = new Producer(`127.0.0.1:${n.tcpPort}`, {}, { runtime });
    await p.multiPublish(topic, bodies);
    await p.stop();
  }

  test("U-TAIL-N: --consumer-opt=tls_v1 --consumer-opt=tls_insecure_skip_verify gets the messages over TLS", async () => {
    const topic = `tls_tail_${rt}`;
    await publish(topic, ["one", "two", "three"]);
    const before = log.lines.filter((l) => l.includes("upgraded to TLS")).length;
    const r = await runTool(rt, [
      "tail",
      `--topic=${topic}`,
      `--nsqd-tcp-address=127.0.0.1:${n.tcpPort}`,
      "--consumer-opt=tls_v1",
      "--consumer-opt=tls_insecure_skip_verify",
      "-n",
      "3",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.toString()).toBe("one\ntwo\nthree\n");
    expect(log.lines.filter((l) => l.includes("upgraded to TLS")).length).toBe(before + 1);
  });

  test("U-CLI-OPTS: tls_root_ca_file verification and deflate together through --consumer-opt", async () => {
    const topic = `tls_deflate_tail_${rt}`;
    await publish(topic, ["a", "b"]);
    const tlsBefore = log.lines.filter((l) => l.includes("upgraded to TLS")).length;
    const deflateBefore = log.lines.filter((l) => l.includes("upgraded to deflate")).length;
    const r = await runTool(rt, [
      "tail",
      `--topic=${topic}`,
      `--nsqd-tcp-address=127.0.0.1:${n.tcpPort}`,
      "--consumer-opt=tls_v1,true",
      `--consumer-opt=tls_root_ca_file,${join(FIXTURES, "ca.pem")}`,
      "--consumer-opt=deflate",
      "-n",
      "2",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.toString()).toBe("a\nb\n");
    expect(log.lines.filter((l) => l.includes("upgraded to TLS")).length).toBe(tlsBefore + 1);
    expect(log.lines.filter((l) => l.includes("upgraded to deflate")).length).toBe(deflateBefore + 1);
  });
});
