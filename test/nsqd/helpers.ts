// Test helpers for nsqd: options from the defaults of the option table, and an
// in-process daemon on port 0 with a temporary data directory.
import * as nodeFs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach } from "vitest";
import { NSQD_OPTIONS, type NsqdOptions } from "../../src/nsqd/options.ts";
import { Nsqd } from "../../src/nsqd/nsqd.ts";
import { createNodeRuntime } from "../../src/runtime/node.ts";
import { silentLogger, type Logger } from "../../src/common/log.ts";
import type { Runtime } from "../../src/runtime/types.ts";

/**
 * NsqdOptions built from the defaults in NSQD_OPTIONS (lists copied), with
 * node id 1 (the CLI derives the real default from the hostname), then
 * `overrides` applied. Addresses stay at their defaults (0.0.0.0:4150...):
 * startTestNsqd() moves them to port 0.
 */
export function defaultNsqdOptions(overrides: Partial<NsqdOptions> = {}): NsqdOptions {
  const values: Record<string, unknown> = {};
  for (const spec of NSQD_OPTIONS) {
    if (spec.key === null) continue;
    const d = typeof spec.default === "function" ? (spec.default as () => unknown)() : spec.default;
    values[spec.key] = Array.isArray(d) ? [...d] : d;
  }
  values["id"] = 1;
  return { ...(values as unknown as NsqdOptions), ...overrides };
}

export interface TestNsqd extends AsyncDisposable {
  nsqd: Nsqd;
  runtime: Runtime;
  dataPath: string;
  /** The bound TCP port (-1 on a Unix socket). */
  readonly tcpPort: number;
  /** The bound HTTP port (-1 when HTTP is off). */
  readonly httpPort: number;
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  runtime?: Runtime;
  /** Keep the data directory after close (restart tests). */
  keepData?: boolean;
}

/**
 * Start an nsqd on 127.0.0.1:0 (HTTP and HTTPS off unless their addresses are given) with a
 * fresh temporary data path (unless `data_path` is given), removed on close.
 */
export async function startTestNsqd(overrides: Partial<NsqdOptions> = {}, start: StartOptions = {}): Promise<TestNsqd> {
  const dataPath = overrides.data_path ?? nodeFs.mkdtempSync(path.join(os.tmpdir(), "nsqd-test-"));
  const runtime = start.runtime ?? createNodeRuntime();
  const options = defaultNsqdOptions({ tcp_address: "127.0.0.1:0", http_address: "", https_address: "", ...overrides, data_path: dataPath });
  const nsqd = new Nsqd(options, { runtime, logger: start.logger ?? silentLogger });
  await nsqd.start();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await nsqd.close();
    if (!start.keepData && overrides.data_path === undefined) nodeFs.rmSync(dataPath, { recursive: true, force: true });
  };
  return {
    nsqd,
    runtime,
    dataPath,
    get tcpPort() {
      return nsqd.tcpPort;
    },
    get httpPort() {
      return nsqd.httpPort;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A logger that records lines ("LEVEL: text") for assertions. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (text: string) => void lines.push(`${level}: ${text}`);
  return { lines, debug: at("DEBUG"), info: at("INFO"), warn: at("WARNING"), error: at("ERROR"), fatal: at("FATAL") };
}

/** A fresh temporary directory per test (vitest hooks), removed after it; call the result inside a test. */
export function useTempDir(prefix: string): () => string {
  let dir = "";
  beforeEach(() => {
    dir = nodeFs.mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  afterEach(() => {
    nodeFs.rmSync(dir, { recursive: true, force: true });
  });
  return () => dir;
}
