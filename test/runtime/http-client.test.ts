// The node:http(s) implementation of Runtime.httpClient in detail (X-HTTP-CLIENT):
// what fetch callers rely on beyond the cross-runtime contract (contract.ts):
// redirect rules, Request inputs, keep-alive reuse, error shapes.
import * as http from "node:http";
import type * as net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeHttpClient } from "../../src/runtime/http-client.ts";

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  type: string | undefined;
  body: string;
  socket: number;
}

let server: http.Server;
let other: http.Server;
let base: string;
let otherBase: string;
const seen: Seen[] = [];
const sockets = new Map<net.Socket, number>();

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  let body = "";
  req.on("data", (c: Buffer) => (body += c.toString()));
  req.on("end", () => {
    if (!sockets.has(req.socket)) sockets.set(req.socket, sockets.size + 1);
    seen.push({
      method: req.method ?? "",
      url: req.url ?? "",
      authorization: req.headers.authorization,
      type: req.headers["content-type"],
      body,
      socket: sockets.get(req.socket)!,
    });
    const url = new URL(req.url ?? "/", "http://x");
    const to = url.searchParams.get("to");
    if (url.pathname.startsWith("/redirect/") && to !== null) {
      res.writeHead(Number(url.pathname.slice("/redirect/".length)), { location: to }).end();
      return;
    }
    if (url.pathname === "/loop") {
      res.writeHead(302, { location: "/loop" }).end();
      return;
    }
    res.writeHead(200, { "content-type": "text/plain", "set-cookie": ["a=1", "b=2"] }).end(`${req.method} ${req.url} ${body}`);
  });
}

beforeAll(async () => {
  server = http.createServer(handler);
  other = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  await new Promise<void>((r) => other.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  otherBase = `http://127.0.0.1:${(other.address() as net.AddressInfo).port}`;
});

afterAll(async () => {
  for (const s of [server, other]) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

describe("nodeHttpClient (X-HTTP-CLIENT)", () => {
  it("keeps connections alive across calls and reports status, headers, url", async () => {
    const client = nodeHttpClient();
    try {
      seen.length = 0;
      const a = await client(`${base}/one`);
      expect(await a.text()).toBe("GET /one ");
      const b = await client(new URL(`${base}/two`));
      expect(b.status).toBe(200);
      expect(b.statusText).toBe("OK");
      expect(b.url).toBe(`${base}/two`);
      expect(b.headers.get("set-cookie")).toBe("a=1, b=2");
      await b.text();
      expect(seen.map((s) => s.socket)).toHaveLength(2);
      expect(seen[0]!.socket).toBe(seen[1]!.socket);
    } finally {
      client.close();
    }
  });

  it("accepts a Request and string/bytes/URLSearchParams bodies with fetch's content types", async () => {
    const client = nodeHttpClient();
    try {
      seen.length = 0;
      await (await client(new Request(`${base}/req`, { method: "PUT", body: "text", headers: { authorization: "Basic eDp5" } }))).text();
      await (await client(`${base}/bytes`, { method: "POST", body: new Uint8Array([104, 105]) })).text();
      await (await client(`${base}/form`, { method: "POST", body: new URLSearchParams({ k: "v w" }) })).text();
      expect(seen.map(({ method, url, authorization, type, body }) => ({ method, url, authorization, type, body }))).toEqual([
        { method: "PUT", url: "/req", authorization: "Basic eDp5", type: "text/plain;charset=UTF-8", body: "text" },
        { method: "POST", url: "/bytes", authorization: undefined, type: undefined, body: "hi" },
        { method: "POST", url: "/form", authorization: undefined, type: "application/x-www-form-urlencoded;charset=UTF-8", body: "k=v+w" },
      ]);
      await expect(client(`${base}/x`, { method: "GET", body: "no" })).rejects.toThrow(TypeError);
    } finally {
      client.close();
    }
  });

  it("follows redirects as fetch does: 303 and POST on 301/302 become GET, 307 keeps the body, other origins lose Authorization", async () => {
    const client = nodeHttpClient();
    try {
      const post = (status: number, to: string) =>
        client(`${base}/redirect/${status}?to=${encodeURIComponent(to)}`, { method: "POST", body: "payload", headers: { authorization: "Bearer t" } });
      seen.length = 0;
      expect(await (await post(303, "/done")).text()).toBe("GET /done ");
      expect(await (await post(302, "/done")).text()).toBe("GET /done ");
      expect(await (await post(307, "/done")).text()).toBe("POST /done payload");
      expect(seen.filter((s) => s.url === "/done").map((s) => s.authorization)).toEqual(["Bearer t", "Bearer t", "Bearer t"]);
      seen.length = 0;
      const moved = await post(308, `${otherBase}/elsewhere`);
      expect(await moved.text()).toBe("POST /elsewhere payload");
      expect(moved.url).toBe(`${otherBase}/elsewhere`);
      expect(seen.map((s) => s.authorization)).toEqual(["Bearer t", undefined]);

      const manual = await client(`${base}/redirect/302?to=/done`, { redirect: "manual" });
      expect(manual.status).toBe(302);
      expect(manual.headers.get("location")).toBe("/done");
      await expect(client(`${base}/redirect/302?to=/done`, { redirect: "error" })).rejects.toThrow(TypeError);
      await expect(client(`${base}/loop`)).rejects.toMatchObject({ cause: { message: "redirect count exceeded" } });
    } finally {
      client.close();
    }
  });

  it("network failures reject with TypeError('fetch failed') carrying the cause's code", async () => {
    const client = nodeHttpClient({ connectTimeoutMs: 1000 });
    const probe = http.createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    try {
      const e = await client(`http://127.0.0.1:${port}/`).then(
        () => null,
        (err: unknown) => err as TypeError & { cause: { code: string } },
      );
      expect(e).toBeInstanceOf(TypeError);
      expect(e!.message).toBe("fetch failed");
      expect(e!.cause.code).toBe("ECONNREFUSED");
      await expect(client("ftp://127.0.0.1/")).rejects.toThrow("fetch failed");
    } finally {
      client.close();
    }
  });
});
