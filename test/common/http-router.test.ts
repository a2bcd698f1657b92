// X-HTTP-ERRORS, X-HTTP-V1, X-LOG: nsqd, nsqlookupd and nsqadmin answer the
// router's fallbacks alike, as the original daemons do (they share
// julienschmidt/httprouter and the http_api decorators). Each expectation
// below was read off the original v1.3.0 binaries side by side; where our
// three daemons used to differ, the comment names what each did.
import { describe, expect, test } from "vitest";
import { Admin } from "../../src/admin/admin.ts";
import { defaultAdminOptions } from "../../src/admin/options.ts";
import { cleanPath, createRouter, escapePath } from "../../src/common/http/router.ts";
import { HttpError } from "../../src/common/http/error.ts";
import { v1Json } from "../../src/common/http/responses.ts";
import { Lookupd } from "../../src/lookupd/lookupd.ts";
import { defaultLookupdOptions } from "../../src/lookupd/options.ts";
import { createHttpHandler } from "../../src/nsqd/http.ts";
import type { FetchHandler, RequestInfo } from "../../src/runtime/types.ts";
import { testRuntime } from "../lookupd/helpers.ts";
import { recordingLogger, startTestNsqd } from "../nsqd/helpers.ts";

const V6: RequestInfo = { remoteAddress: "::1", remotePort: 40000 };
const V4: RequestInfo = { remoteAddress: "127.0.0.1", remotePort: 40001 };

interface Daemon {
  name: string;
  fetch: FetchHandler;
  lines: string[];
}

async function send(d: Daemon, method: string, path: string, info: RequestInfo = V4, body?: string) {
  const res = await d.fetch(new Request(`http://h${path}`, { method, ...(body === undefined ? {} : { body }) }), info);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** The three daemons with recording loggers; nsqd is a real one on port 0. */
async function daemons(): Promise<Daemon[] & AsyncDisposable> {
  const nsqdLog = recordingLogger();
  const nsqd = await startTestNsqd({}, { logger: nsqdLog });
  const lookupdLog = recordingLogger();
  const lookupd = new Lookupd(defaultLookupdOptions(), { runtime: testRuntime(), logger: lookupdLog });
  const adminLog = recordingLogger();
  const admin = new Admin(defaultAdminOptions({ nsqd_http_addresses: ["127.0.0.1:1"] }), {
    runtime: testRuntime(),
    logger: adminLog,
    historyIntervalMs: 0,
  });
  const list = [
    { name: "nsqd", fetch: createHttpHandler(nsqd.nsqd), lines: nsqdLog.lines },
    { name: "nsqlookupd", fetch: lookupd.fetch, lines: lookupdLog.lines },
    { name: "nsqadmin", fetch: admin.fetch, lines: adminLog.lines },
  ];
  return Object.assign(list, { [Symbol.asyncDispose]: () => nsqd.close() });
}

const requestLines = (d: Daemon) => d.lines.filter((l) => /^INFO: \d{3} /.test(l));

describe("router fallbacks on all three daemons", () => {
  test("a trailing slash redirects 301 for GET (with Go's HTML body) and 307 otherwise (lookupd answered 308)", async () => {
    await using all = await daemons();
    for (const d of all) {
      const g = await send(d, "GET", "/ping/?a=1");
      expect({ daemon: d.name, status: g.status, location: g.headers.get("location"), type: g.headers.get("content-type"), text: g.text }).toEqual({
        daemon: d.name,
        status: 301,
        location: "/ping?a=1",
        type: "text/html; charset=utf-8",
        text: '<a href="/ping?a=1">Moved Permanently</a>.\n\n',
      });
    }
    for (const d of all.slice(0, 2)) {
      const p = await send(d, "POST", "/topic/create/?topic=t");
      expect({ daemon: d.name, status: p.status, location: p.headers.get("location"), text: p.text }).toEqual({
        daemon: d.name,
        status: 307,
        location: "/topic/create?topic=t",
        text: "",
      });
    }
  });

  test("no redirect for a method without routes, and none on a path no route spells (lookupd redirected both)", async () => {
    await using all = await daemons();
    for (const d of all.slice(0, 2)) {
      expect((await send(d, "DELETE", "/ping/")).status, d.name).toBe(404);
    }
    // nsqadmin has DELETE routes, but not /ping
    expect((await send(all[2]!, "DELETE", "/ping/")).status).toBe(404);
    expect((await send(all[2]!, "POST", "/topic/create/?topic=t")).status).toBe(404);
  });

  test("a path in another case or with extra slashes redirects to the route's spelling (no daemon did)", async () => {
    await using all = await daemons();
    for (const d of all) {
      for (const path of ["/PING", "//ping", "/Ping/"]) {
        const r = await send(d, "GET", path);
        expect({ daemon: d.name, path, status: r.status, location: r.headers.get("location") }).toEqual({
          daemon: d.name,
          path,
          status: 301,
          location: "/ping",
        });
      }
    }
  });

  test("HEAD has no route: 405 with Allow (nsqadmin answered HEAD as GET); OPTIONS answers Allow (nsqadmin said 405)", async () => {
    await using all = await daemons();
    for (const d of all) {
      const h = await send(d, "HEAD", "/ping");
      expect({ daemon: d.name, status: h.status, allow: h.headers.get("allow") }).toEqual({ daemon: d.name, status: 405, allow: "GET, OPTIONS" });
      const o = await send(d, "OPTIONS", "/ping");
      expect({ daemon: d.name, status: o.status, allow: o.headers.get("allow"), text: o.text }).toEqual({
        daemon: d.name,
        status: 200,
        allow: "GET, OPTIONS",
        text: "",
      });
      const p = await send(d, "PUT", "/ping");
      expect({ daemon: d.name, status: p.status, allow: p.headers.get("allow"), text: p.text }).toEqual({
        daemon: d.name,
        status: 405,
        allow: "GET, OPTIONS",
        text: '{"message":"METHOD_NOT_ALLOWED"}',
      });
    }
  });

  test("the path is matched decoded (nsqlookupd matched it encoded; nsqadmin decoded segment by segment)", async () => {
    await using all = await daemons();
    for (const d of all) expect((await send(d, "GET", "/p%69ng")).text, d.name).toBe("OK");
    // %2F is a slash once decoded: nsqadmin's /api/topics/a%2Fb is the channel b of topic a
    const admin = all[2]!;
    const topic = await send(admin, "GET", "/api/topics/a%2Fb");
    expect(topic.status).toBe(502); // routed to the channel API, whose upstream is down
    expect(admin.lines.some((l) => l.includes("failed to get topic producers") || l.includes("failed to get channel metadata"))).toBe(true);
  });

  test("request lines: IPv6 peers in brackets, Go durations, the target as sent (nsqd wrote ::1:port)", async () => {
    await using all = await daemons();
    for (const d of all) {
      await send(d, "GET", "/ping?x=1", V6);
      await send(d, "GET", "/missing", V4);
      await send(d, "PUT", "/ping", V6);
      await send(d, "GET", "/ping/", V6); // a redirect: not logged
      await send(d, "OPTIONS", "/ping", V6); // not logged
      const lines = requestLines(d);
      expect(lines, d.name).toHaveLength(3);
      expect(lines[0], d.name).toMatch(/^INFO: 200 GET \/ping\?x=1 \(\[::1\]:40000\) \d+(\.\d+)?(ns|µs|ms|s)$/);
      expect(lines[1], d.name).toMatch(/^INFO: 404 GET \/missing \(127\.0\.0\.1:40001\) /);
      expect(lines[2], d.name).toMatch(/^INFO: 405 PUT \/ping \(\[::1\]:40000\) /);
    }
  });

  test("pprof is not logged by nsqd or nsqlookupd (nsqlookupd logged it)", async () => {
    await using all = await daemons();
    for (const d of all.slice(0, 2)) {
      expect((await send(d, "GET", "/debug/pprof/cmdline")).status, d.name).toBe(200);
      expect(requestLines(d), d.name).toEqual([]);
    }
  });

  test("nsqadmin writes JSON as Go does, escaping < > & (it used JSON.stringify)", async () => {
    await using all = await daemons();
    const admin = all[2]!;
    const put = await send(admin, "PUT", "/config/nsqlookupd_http_addresses", V4, '["a&b<c>:1"]');
    expect(put.text).toBe('["a\\u0026b\\u003cc\\u003e:1"]');
    expect(JSON.parse(put.text)).toEqual(["a&b<c>:1"]);
  });
});

describe("the router alone", () => {
  const logger = recordingLogger();
  const router = createRouter(
    [
      { method: "GET", path: "/a/:name", handler: (r) => v1Json({ name: r.params["name"] }) },
      { method: "GET", path: "/refuse", handler: () => Promise.reject(new HttpError(418, "NO_TEA")) },
      { method: "GET", path: "/fail", handler: () => Promise.reject(new Error("broken")) },
      { method: "GET", path: "/quiet", handler: () => v1Json(1), log: false },
      { method: "GET", path: "/quiet-fail", handler: () => Promise.reject(new Error("loud")), log: false },
    ],
    logger,
  );
  const get = async (path: string) => {
    const res = await router(new Request(`http://h${path}`), V4);
    return { status: res.status, text: await res.text(), location: res.headers.get("location") };
  };

  test("a parameter is one non-empty decoded segment", async () => {
    expect(await get("/a/x%20y")).toMatchObject({ status: 200, text: '{"name":"x y"}' });
    expect(await get("/a/")).toMatchObject({ status: 404 });
    expect(await get("/a/x/y")).toMatchObject({ status: 404 });
    expect(await get("/A/Z")).toMatchObject({ status: 301, location: "/a/Z" });
  });

  test("HttpError keeps its status; anything else is a logged panic answered 500, even on a quiet route", async () => {
    expect(await get("/refuse")).toMatchObject({ status: 418, text: '{"message":"NO_TEA"}' });
    expect(await get("/fail")).toMatchObject({ status: 500, text: '{"message":"INTERNAL_ERROR"}' });
    expect(await get("/quiet")).toMatchObject({ status: 200 });
    expect(await get("/quiet-fail")).toMatchObject({ status: 500 });
    expect(logger.lines.filter((l) => l.startsWith("ERROR:"))).toEqual(["ERROR: panic in HTTP handler - broken", "ERROR: panic in HTTP handler - loud"]);
    const statuses = logger.lines.filter((l) => l.startsWith("INFO:")).map((l) => l.split(" ").slice(1, 4).join(" "));
    expect(statuses).toEqual(["200 GET /a/x%20y", "404 GET /a/", "404 GET /a/x/y", "418 GET /refuse", "500 GET /fail", "500 GET /quiet-fail"]);
  });

  test("cleanPath and escapePath follow httprouter and Go's URL", () => {
    expect(["", "/", "//a//b/", "/a/./b/..", "/a/b/.", "/../a", "a/b"].map(cleanPath)).toEqual(["/", "/", "/a/b/", "/a/", "/a/b/", "/a", "/a/b"]);
    expect(escapePath("/a b/ü?#%")).toBe("/a%20b/%C3%BC%3F%23%25");
    expect(escapePath("/topic/create")).toBe("/topic/create");
  });
});
