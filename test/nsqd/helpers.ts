// In-process nsqd fixtures: options from the D-FLAG defaults, a daemon on
// 127.0.0.1 port 0 with a temporary data path, removed on dispose.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NSQD_OPTIONS, type NsqdOptions } from "../../src/nsqd/options.ts";
import { Nsqd } from "../../src/nsqd/nsqd.ts";
import { createNodeRuntime } from "../../src/runtime/node.ts";
import { silentLogger, type Logger } from "../../src/common/log.ts";

export function defaultNsqdOptions(overrides: Partial<NsqdOptions> = {}): NsqdOptions {
  const o: Record<string, unknown> = {};
  for (const spec of NSQD_OPTIONS) {
    if (spec.key === null) continue;
    const d = typeof spec.default === "function" ? (spec.default as () => unknown)() : spec.default;
    o[spec.key] = Array.isArray(d) ? [...d] : d;
  }
  o.id = 7;
  o.broadcast_address = "127.0.0.1";
  o.tcp_address = "127.0.0.1:0";
  o.http_address = "127.0.0.1:0";
  return { ...(o as unknown as NsqdOptions), ...overrides };
}

export interface TestNsqd extends AsyncDisposable {
  nsqd: Nsqd;
  tcpPort: number;
  httpPort: number;
  dataPath: string;
}

/** Starts an in-process nsqd; `await using` stops it and removes its data path. */
export async function startTestNsqd(overrides: Partial<NsqdOptions> = {}, logger: Logger = silentLogger): Promise<TestNsqd> {
  const dataPath = overrides.data_path ?? mkdtempSync(join(tmpdir(), "nsqd-test-"));
  const nsqd = new Nsqd(defaultNsqdOptions({ data_path: dataPath, ...overrides }), { runtime: createNodeRuntime(), logger });
  await nsqd.start();
  return {
    nsqd,
    tcpPort: nsqd.tcpPort,
    httpPort: nsqd.httpPort,
    dataPath,
    async [Symbol.asyncDispose]() {
      await nsqd.close();
      if (overrides.data_path === undefined) rmSync(dataPath, { recursive: true, force: true });
    },
  };
}
