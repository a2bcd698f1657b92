// Authorization (D-TCP-AUTH, D-TCP-AUTH-CHECK, D-BEH-AUTH, D-BEH-AUTH-MATCH)
// against an in-process nsqd and a small auth server written for the test.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as http from "node:http";
import * as net from "node:net";
import { RawConnection, utf8 } from "../integration/harness.ts";
import { FrameType, encodeAuth, encodePub } from "../../src/protocol/frames.ts";
import { AuthState, parseAuthReply } from "../../src/nsqd/auth.ts";
import { recordingLogger, startTestNsqd } from "./helpers.ts";

const auth = (secret: string) => encodeAuth(secret);
const pub = (topic: string, body = "m") => encodePub(topic, utf8(body));

interface AuthRequest {
  method: string;
  params: Record<string, string>;
  accept: string;
}

/** Grants publish on topic "allowed" only, ttl from the secret ("ttl1" -> 1 s). */
async function startAuthServer(): Promise<{ port: number; requests: AuthRequest[]; close(): Promise<void> }> {
  const requests: AuthRequest[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://x");
      const params: Record<string, string> = {};
      if (req.method === "POST") {
        for (const [k, v] of Object.entries(JSON.parse(body) as Record<string, string[]>)) params[k] = v[0]!;
      } else {
        for (const [k, v] of url.searchParams) params[k] = v;
      }
      requests.push({ method: req.method ?? "", params, accept: String(req.headers["accept"]) });
      if (url.pathname !== "/auth") {
        res.writeHead(404).end("nope");
        return;
      }
      if (params["secret"] === "nothing") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ttl: 60, identity: "nobody", authorizations: [] }));
        return;
      }
      if (params["secret"] === "badregex") {
        res.writeHead(200).end(JSON.stringify({ ttl: 60, authorizations: [{ topic: "(", channels: [".*"], permissions: ["publish"] }] }));
        return;
      }
      const ttl = params["secret"]?.startsWith("ttl") ? Number(params["secret"].slice(3)) : 60;
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          ttl,
          identity: "tester",
          identity_url: "https://example.invalid/tester",
          authorizations: [
            { topic: "^allowed$", channels: [".*"], permissions: ["publish"] },
            { topic: "^readable$", channels: ["^ch$"], permissions: ["subscribe"] },
          ],
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A port nobody listens on. */
async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function expectError(c: RawConnection, message: string): Promise<void> {
  const f = await c.next();
  expect(f?.type).toBe(FrameType.Error);
  expect(f?.text).toBe(message);
  expect(await c.next()).toBeNull(); // fatal: the server closes
}

describe("D-BEH-AUTH against an auth server", () => {
  let authd: Awaited<ReturnType<typeof startAuthServer>>;
  beforeAll(async () => {
    authd = await startAuthServer();
  });
  afterAll(async () => {
    await authd?.close();
  });

  it("D-TCP-AUTH: AUTH answers identity and permission count; the query carries the original's params and Accept", async () => {
    await using d = await startTestNsqd({ auth_http_addresses: [`127.0.0.1:${authd.port}`] });
    await using c = await RawConnection.open(d.tcpPort);
    authd.requests.length = 0;
    c.send(auth("s3cret"));
    const f = await c.next();
    expect(f?.type).toBe(FrameType.Response);
    expect(JSON.parse(f!.text)).toEqual({ identity: "tester", identity_url: "https://example.invalid/tester", permission_count: 2 });
    expect(authd.requests).toEqual([
      { method: "GET", params: { common_name: "", remote_ip: "127.0.0.1", secret: "s3cret", tls: "false" }, accept: "application/vnd.nsq; version=1.0" },
    ]);
    c.send(pub("allowed"));
    expect((await c.next())?.text).toBe("OK");
    expect(d.nsqd.topics.get("allowed")?.messageCount).toBe(1);
    const client = [...d.nsqd.clients][0]!;
    expect([client.authed, client.authIdentity, client.authIdentityUrl]).toEqual([true, "tester", "https://example.invalid/tester"]);
  });

  it("D-TCP-AUTH-CHECK: PUB on a topic without the grant -> E_UNAUTHORIZED, nothing published", async () => {
    await using d = await startTestNsqd({ auth_http_addresses: [`127.0.0.1:${authd.port}`] });
    await using c = await RawConnection.open(d.tcpPort);
    c.send(auth("s3cret"));
    expect((await c.next())?.type).toBe(FrameType.Response);
    c.send(pub("other"));
    await expectError(c, 'E_UNAUTHORIZED AUTH failed for PUB on "other" ""');
    expect(d.nsqd.topics.has("other")).toBe(false);
  });

  it("D-TCP-MPUB: with a bad body, MPUB leaves its topic behind only where the client may publish", async () => {
    await using d = await startTestNsqd({ auth_http_addresses: [`127.0.0.1:${authd.port}`] });
    const badMpub = (topic: string) => new Uint8Array([...utf8(`MPUB ${topic}\n`), 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0]);
    await using c = await RawConnection.open(d.tcpPort);
    c.send(auth("s3cret"));
    expect((await c.next())?.type).toBe(FrameType.Response);
    c.send(badMpub("allowed"));
    await expectError(c, "E_BAD_BODY MPUB invalid message count 0");
    expect(d.nsqd.getExistingTopic("allowed")?.messageCount).toBe(0);
    // Not granted, or not authenticated: the original refuses before the topic exists.
    await using other = await RawConnection.open(d.tcpPort);
    other.send(auth("s3cret"));
    await other.next();
    other.send(badMpub("other"));
    expect((await other.next())?.type).toBe(FrameType.Error);
    await using anonymous = await RawConnection.open(d.tcpPort);
    anonymous.send(badMpub("anon"));
    expect((await anonymous.next())?.type).toBe(FrameType.Error);
    expect([...d.nsqd.topics.keys()]).toEqual(["allowed"]);
  });

  it("D-BEH-AUTH-MATCH: publish permission does not grant SUB; subscribe grant needs a matching channel", async () => {
    await using d = await startTestNsqd({ auth_http_addresses: [`127.0.0.1:${authd.port}`] });
    await using c1 = await RawConnection.open(d.tcpPort);
    c1.send(auth("s3cret"));
    await c1.next();
    c1.send("SUB allowed ch\n");
    await expectError(c1, 'E_UNAUTHORIZED AUTH failed for SUB on "allowed" "ch"');
    await using c2 = await RawConnection.open(d.tcpPort);
    c2.send(auth("s3cret"));
    await c2.next();
    c2.send("SUB readable ch\n");
    expect((await c2.next())?.text).toBe("OK");
  });

  it("D-TCP-AUTH-CHECK: SUB and PUB without AUTH -> E_AUTH_FIRST", async () => {
    await using d = await startTestNsqd({ auth_http_addresses: [`127.0.0.1:${authd.port}`] });
    await using c = await RawConnection.open(d.tcpPort);
    c.send("SUB readable ch\n");
    await expectError(c, "E_AUTH_FIRST AUTH required before SUB");
    await using c2 = await RawConnection.open(d.tcpPort);
    c2.send(pub("allowed"));
    await expectError(c2, "E_AUTH_FIRST AUTH required before PUB");
    expect(d.nsqd.topics.size).toBe(0);
  });

  it("D-TCP-AUTH-CHECK: an expired TTL re-queries the auth server before the command runs", async () => {
    await using d = await startTestNsqd({ auth_http_addresses: [`127.0.0.1:${authd.port}`] });
    await using c = await RawConnection.open(d.tcpPort);
    authd.requests.length = 0;
    c.send(auth("ttl1"));
    await c.next();
    c.send(pub("allowed"));
    expect((await c.next())?.text).toBe("OK");
    expect(authd.requests.length).toBe(1); // still cached
    await new Promise((r) => setTimeout(r, 1100));
    // Two commands in one write: the second waits behind the re-query, order kept.
    c.send(new Uint8Array([...pub("allowed", "a"), ...pub("allowed", "b")]));
    expect((await c.next())?.text).toBe("OK");
    expect((await c.next())?.text).toBe("OK");
    expect(authd.requests.length).toBe(2);
    expect(d.nsqd.topics.get("allowed")?.messageCount).toBe(3);
  });

  it("D-BEH-AUTH: POST sends url.Values as JSON arrays; a full URL is used as is", async () => {
    await using d = await startTestNsqd({ auth_http_addresses: [`http://127.0.0.1:${authd.port}/auth`], auth_http_request_method: "post" });
    await using c = await RawConnection.open(d.tcpPort);
    authd.requests.length = 0;
    c.send(auth("postme"));
    expect((await c.next())?.type).toBe(FrameType.Response);
    expect(authd.requests[0]).toMatchObject({ method: "POST", params: { secret: "postme", tls: "false", common_name: "", remote_ip: "127.0.0.1" } });
  });

  it("D-TCP-AUTH: zero authorizations -> E_UNAUTHORIZED AUTH no authorizations found", async () => {
    await using d = await startTestNsqd({ auth_http_addresses: [`127.0.0.1:${authd.port}`] });
    await using c = await RawConnection.open(d.tcpPort);
    c.send(auth("nothing"));
    await expectError(c, "E_UNAUTHORIZED AUTH no authorizations found");
  });

  it("D-BEH-AUTH: a reply with an uncompilable regex -> E_AUTH_FAILED", async () => {
    await using d = await startTestNsqd({ auth_http_addresses: [`127.0.0.1:${authd.port}`] });
    await using c = await RawConnection.open(d.tcpPort);
    c.send(auth("badregex"));
    await expectError(c, "E_AUTH_FAILED AUTH failed");
  });

  it("D-TCP-AUTH: AUTH twice -> E_INVALID AUTH already set", async () => {
    await using d = await startTestNsqd({ auth_http_addresses: [`127.0.0.1:${authd.port}`] });
    await using c = await RawConnection.open(d.tcpPort);
    c.send(auth("s3cret"));
    await c.next();
    c.send(auth("s3cret"));
    await expectError(c, "E_INVALID AUTH already set");
  });

  it("D-BEH-AUTH: servers are tried in turn: a dead one is skipped", async () => {
    const dead = await deadPort();
    await using d = await startTestNsqd({ auth_http_addresses: [`127.0.0.1:${dead}`, `127.0.0.1:${authd.port}`] });
    for (let i = 0; i < 4; i++) {
      await using c = await RawConnection.open(d.tcpPort);
      c.send(auth("s3cret"));
      expect((await c.next())?.type).toBe(FrameType.Response);
    }
  });
});

describe("D-TCP-AUTH without a usable auth server", () => {
  it("D-TCP-AUTH: unreachable auth server -> E_AUTH_FAILED (details only logged), nsqd keeps serving", async () => {
    const logger = recordingLogger();
    const dead = await deadPort();
    await using d = await startTestNsqd({ auth_http_addresses: [`127.0.0.1:${dead}`] }, { logger });
    await using c = await RawConnection.open(d.tcpPort);
    c.send(auth("s3cret"));
    await expectError(c, "E_AUTH_FAILED AUTH failed");
    expect(logger.lines.some((l) => l.startsWith("WARNING: PROTOCOL(V2)") && l.includes("AUTH failed"))).toBe(true);
    await using c2 = await RawConnection.open(d.tcpPort);
    c2.send("NOP\n");
    c2.send(utf8("IDENTIFY\n"));
    c2.send(new Uint8Array([0, 0, 0, 2, 0x7b, 0x7d]));
    expect((await c2.next())?.text).toBe("OK");
  });

  it("D-TCP-AUTH: AUTH with auth off -> E_AUTH_DISABLED", async () => {
    await using d = await startTestNsqd();
    await using c = await RawConnection.open(d.tcpPort);
    c.send(auth("x"));
    await expectError(c, "E_AUTH_DISABLED AUTH disabled");
  });
});

describe("D-BEH-AUTH-MATCH permission evaluation", () => {
  const state = (authorizations: unknown[], ttl = 60) => parseAuthReply({ ttl, authorizations });

  it("D-BEH-AUTH-MATCH: regexes are unanchored; publishes need a channel regex matching the empty string", () => {
    const s = state([{ topic: "foo", channels: [".*"], permissions: ["publish"] }]);
    expect(s.isAllowed("xfoox", "")).toBe(true);
    expect(s.isAllowed("bar", "")).toBe(false);
    const strict = state([{ topic: "foo", channels: ["^c$"], permissions: ["publish", "subscribe"] }]);
    expect(strict.isAllowed("foo", "")).toBe(false);
    expect(strict.isAllowed("foo", "c")).toBe(true);
    expect(strict.isAllowed("foo", "d")).toBe(false);
  });

  it("D-BEH-AUTH: replies with ttl <= 0, unknown permissions or bad regexes are rejected", () => {
    expect(() => state([], 0)).toThrow("invalid TTL 0 (must be >0)");
    expect(() => state([{ topic: ".*", channels: [], permissions: ["admin"] }])).toThrow("unknown permission admin");
    expect(() => state([{ topic: ".*", channels: ["["], permissions: ["publish"] }])).toThrow(/unable to compile channel "\["/);
  });

  it("D-BEH-AUTH: the cache expires after ttl seconds", () => {
    const s = parseAuthReply({ ttl: 2, authorizations: [] }, 1_000);
    expect(s).toBeInstanceOf(AuthState);
    expect(s.isExpired(2_999)).toBe(false);
    expect(s.isExpired(3_000)).toBe(true);
  });
});
