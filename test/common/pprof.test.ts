// X-PPROF, D-HTTP-DEBUG, L-HTTP-DEBUG-PPROF: nsqd and nsqlookupd answer every
// /debug/pprof path alike (the originals both serve Go's pprof there): the
// index at each daemon's own spelling, cmdline and heap with what the runtime
// has, 501 with a reason for the Go-only profiles, 404 NOT_FOUND elsewhere.
import { describe, expect, test } from "vitest";
import { Lookupd } from "../../src/lookupd/lookupd.ts";
import { defaultLookupdOptions } from "../../src/lookupd/options.ts";
import { createHttpHandler } from "../../src/nsqd/http.ts";
import { silentLogger } from "../../src/common/log.ts";
import type { FetchHandler } from "../../src/runtime/types.ts";
import { startTestNsqd } from "../nsqd/helpers.ts";
import { testRuntime } from "../lookupd/helpers.ts";

const info = { remoteAddress: "127.0.0.1", remotePort: 1 };

async function answer(handler: FetchHandler, method: string, path: string) {
  const res = await handler(new Request(`http://h${path}`, { method }), info);
  return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
}

describe("/debug/pprof on nsqd and nsqlookupd", () => {
  test("both daemons give the same status and content type on every pprof path", async () => {
    await using d = await startTestNsqd();
    const nsqd = createHttpHandler(d.nsqd);
    const lookupd = new Lookupd(defaultLookupdOptions(), { runtime: testRuntime(), logger: silentLogger }).fetch;
    const rows: [string, string, number][] = [
      ["GET", "/debug/pprof/cmdline", 200],
      ["GET", "/debug/pprof/heap", 200],
      ["GET", "/debug/pprof/profile", 501],
      ["GET", "/debug/pprof/goroutine", 501],
      ["GET", "/debug/pprof/block", 501],
      ["GET", "/debug/pprof/threadcreate", 501],
      ["GET", "/debug/pprof/symbol", 501],
      ["POST", "/debug/pprof/symbol", 501],
      ["GET", "/debug/pprof/allocs", 404],
      ["GET", "/debug/pprof/mutex", 404],
    ];
    for (const [method, path, status] of rows) {
      const a = await answer(nsqd, method, path);
      const b = await answer(lookupd, method, path);
      expect([a.status, b.status], `${method} ${path}`).toEqual([status, status]);
      expect(a.type, `${method} ${path}`).toBe(b.type);
      if (status === 501) {
        expect(a.type).toBe("text/plain; charset=utf-8");
        expect(a.text).toMatch(/^\w+ is a Go runtime profile; nsqd on \S+ v[\d.]+ cannot produce it \(see \/debug\/pprof\/\)\n$/);
        expect(b.text).toMatch(/^\w+ is a Go runtime profile; nsqlookupd on \S+ v[\d.]+ cannot produce it \(see \/debug\/pprof\)\n$/);
      }
    }
    // cmdline: argv, NUL-separated as Go's; heap: the runtime's memory figures.
    expect((await answer(lookupd, "GET", "/debug/pprof/cmdline")).text.split("\0")).toEqual([testRuntime().argv0(), ...testRuntime().args()]);
    expect(Object.keys(JSON.parse((await answer(lookupd, "GET", "/debug/pprof/heap")).text))).toEqual(["rss", "heapTotal", "heapUsed", "external"]);
  });

  test("the index sits where each original has it, and the other spelling redirects to it", async () => {
    await using d = await startTestNsqd();
    const nsqd = createHttpHandler(d.nsqd);
    const lookupd = new Lookupd(defaultLookupdOptions(), { runtime: testRuntime(), logger: silentLogger }).fetch;
    for (const [handler, index, other, program] of [
      [nsqd, "/debug/pprof/", "/debug/pprof", "nsqd"],
      [lookupd, "/debug/pprof", "/debug/pprof/", "nsqlookupd"],
    ] as const) {
      const i = await answer(handler, "GET", index);
      expect(i.status).toBe(200);
      expect(i.text).toContain(`${program} on `);
      expect(i.text).toContain("/debug/pprof/heap");
      const res = await handler(new Request(`http://h${other}`), info);
      expect({ status: res.status, location: res.headers.get("location") }).toEqual({ status: 301, location: index });
    }
  });
});
