// In-process lookupd fixtures: a Lookupd on 127.0.0.1 port 0 (or given ports)
// announcing 127.0.0.1, plus small HTTP and polling helpers.
import { Lookupd } from "../../src/lookupd/lookupd.ts";
import { defaultLookupdOptions, type LookupdOptions } from "../../src/lookupd/options.ts";
import { createNodeRuntime } from "../../src/runtime/node.ts";
import { silentLogger, type Logger } from "../../src/common/log.ts";
import type { Runtime } from "../../src/runtime/types.ts";

/**
 * One runtime for every fixture of a test file: each createNodeRuntime() adds
 * listeners to process.stdout/stderr, and a dozen trip Node's leak warning.
 */
let shared: Runtime | null = null;
export function testRuntime(): Runtime {
  shared ??= createNodeRuntime();
  return shared;
}

export interface TestLookupd extends AsyncDisposable {
  lookupd: Lookupd;
  tcpPort: number;
  httpPort: number;
  /** "127.0.0.1:<tcp port>" for --lookupd-tcp-address. */
  tcpAddress: string;
  /** GET/POST the HTTP API over the network; JSON body (or null when empty). */
  api(method: "GET" | "POST", path: string): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

export async function startTestLookupd(overrides: Partial<LookupdOptions> = {}, logger: Logger = silentLogger): Promise<TestLookupd> {
  const lookupd = new Lookupd(
    defaultLookupdOptions({ tcp_address: "127.0.0.1:0", http_address: "127.0.0.1:0", broadcast_address: "127.0.0.1", ...overrides }),
    { runtime: testRuntime(), logger },
  );
  await lookupd.start();
  const port = (a: typeof lookupd.tcpAddress) => (a !== null && "port" in a ? a.port : -1);
  const tcpPort = port(lookupd.tcpAddress);
  const httpPort = port(lookupd.httpAddress);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await lookupd.close();
  };
  return {
    lookupd,
    tcpPort,
    httpPort,
    tcpAddress: `127.0.0.1:${tcpPort}`,
    async api(method, path) {
      const res = await fetch(`http://127.0.0.1:${httpPort}${path}`, { method });
      const text = await res.text();
      return { status: res.status, body: text === "" ? null : JSON.parse(text) };
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Poll until `check` returns a truthy value (returned) or throw after `timeoutMs`. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 5000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
