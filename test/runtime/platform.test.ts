// What a platform may lack fails soft with one clear line (src/runtime/index.ts
// withPlatformChecks): a signal it cannot deliver (X-SIG), a Unix socket
// address (D-TCP-LISTEN) on Windows.
import { afterEach, describe, expect, test, vi } from "vitest";
import { withPlatformChecks } from "../../src/runtime/index.ts";
import { createNodeRuntime } from "../../src/runtime/node.ts";
import type { SignalName } from "../../src/runtime/types.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("platform checks", () => {
  test("a signal the platform cannot deliver: one warning line, no handler, no crash", () => {
    const warn = vi.spyOn(console, "error").mockImplementation(() => {});
    const runtime = withPlatformChecks(createNodeRuntime(), "linux");
    // No platform lets a program catch SIGKILL: node refuses it, as Windows refuses SIGHUP.
    const remove = runtime.onSignal("SIGKILL" as SignalName, () => {});
    expect(typeof remove).toBe("function");
    remove();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/^nsq: SIGKILL cannot be handled on linux \(.+\); going on without it$/);
  });

  test("signals the platform has are registered as before", () => {
    const warn = vi.spyOn(console, "error").mockImplementation(() => {});
    const runtime = withPlatformChecks(createNodeRuntime(), "linux");
    const before = process.listenerCount("SIGHUP");
    const remove = runtime.onSignal("SIGHUP", () => {});
    expect(process.listenerCount("SIGHUP")).toBe(before + 1);
    remove();
    expect(process.listenerCount("SIGHUP")).toBe(before);
    expect(warn).not.toHaveBeenCalled();
  });

  test("Windows: a Unix socket address is refused with a clear error; host:port is untouched", async () => {
    const runtime = withPlatformChecks(createNodeRuntime(), "win32");
    const noop = () => ({ data() {}, close() {} });
    await expect(runtime.listen({ path: "/tmp/nsqd.sock" }, noop)).rejects.toThrow(
      "/tmp/nsqd.sock: Unix socket addresses are not supported on Windows; use <host>:<port>",
    );
    await expect(runtime.connect({ path: "/tmp/nsqd.sock" }, noop)).rejects.toThrow(/not supported on Windows/);
    await expect(runtime.serveHttp({ path: "/tmp/nsqd.sock" }, () => new Response())).rejects.toThrow(/not supported on Windows/);
    const listener = await runtime.listen({ host: "127.0.0.1", port: 0 }, noop);
    expect("port" in listener.address && listener.address.port).toBeGreaterThan(0);
    await listener.close();
  });
});
