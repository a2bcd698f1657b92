// nsqd's auth queries to HTTPS auth servers (D-BEH-AUTH, X-HTTP-CLIENT): the
// server certificate is verified with --tls-root-ca-file, --tls-min-version
// is the least the server must offer, and a 403 TLS_REQUIRED answer with an
// https_port moves the query to HTTPS.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as http from "node:http";
import * as https from "node:https";
import * as nodeFs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type * as net from "node:net";
import { RawConnection, utf8 } from "../integration/harness.ts";
import { FrameType } from "../../src/protocol/frames.ts";
import { Nsqd } from "../../src/nsqd/nsqd.ts";
import { createNodeRuntime } from "../../src/runtime/node.ts";
import { silentLogger } from "../../src/common/log.ts";
import { defaultNsqdOptions, recordingLogger, startTestNsqd } from "./helpers.ts";

const tlsDir = path.resolve(import.meta.dirname, "../fixtures/tls");
const fixture = (name: string) => path.join(tlsDir, name);
const pem = (name: string) => nodeFs.readFileSync(fixture(name), "utf8");

function auth(secret: string): Uint8Array {
  const line = utf8("AUTH\n");
  const body = utf8(secret);
  const out = new Uint8Array(line.length + 4 + body.length);
  out.set(line);
  new DataView(out.buffer).setUint32(line.length, body.length);
  out.set(body, line.length + 4);
  return out;
}

interface Seen {
  path: string;
  secret: string | null;
  tlsVersion: string;
}

const GRANT = JSON.stringify({
  ttl: 60,
  identity: "secure-tester",
  identity_url: "",
  authorizations: [{ topic: ".*", channels: [".*"], permissions: ["publish", "subscribe"] }],
});

/** An HTTPS auth server with the fixture certificate (127.0.0.1 / localhost). */
async function startHttpsAuthd(maxVersion?: "TLSv1.2") {
  const seen: Seen[] = [];
  const server = https.createServer({ cert: pem("server.pem"), key: pem("server.key"), ...(maxVersion ? { maxVersion } : {}) }, (req, res) => {
    const url = new URL(req.url ?? "/", "https://x");
    seen.push({ path: url.pathname, secret: url.searchParams.get("secret"), tlsVersion: (req.socket as unknown as { getProtocol(): string }).getProtocol() });
    res.writeHead(200, { "content-type": "application/json" }).end(GRANT);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as net.AddressInfo).port,
    seen,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function authResult(tcpPort: number, secret = "s3cret"): Promise<{ type: number | undefined; text: string | undefined }> {
  await using c = await RawConnection.open(tcpPort);
  c.send(auth(secret));
  const f = await c.next();
  return { type: f?.type, text: f?.text };
}

describe("D-BEH-AUTH against an HTTPS auth server", () => {
  let authd: Awaited<ReturnType<typeof startHttpsAuthd>>;
  let oldAuthd: Awaited<ReturnType<typeof startHttpsAuthd>>;
  beforeAll(async () => {
    authd = await startHttpsAuthd();
    oldAuthd = await startHttpsAuthd("TLSv1.2");
  });
  afterAll(async () => {
    await authd?.close();
    await oldAuthd?.close();
  });

  it("verified with --tls-root-ca-file: AUTH succeeds over HTTPS", async () => {
    await using d = await startTestNsqd({ auth_http_addresses: [`https://127.0.0.1:${authd.port}/auth`], tls_root_ca_file: fixture("ca.pem") });
    authd.seen.length = 0;
    const r = await authResult(d.tcpPort);
    expect(r.type).toBe(FrameType.Response);
    expect(JSON.parse(r.text!)).toEqual({ identity: "secure-tester", identity_url: "", permission_count: 1 });
    expect(authd.seen).toEqual([{ path: "/auth", secret: "s3cret", tlsVersion: "TLSv1.3" }]);
  });

  it("without --tls-root-ca-file the unknown CA fails the query: E_AUTH_FAILED, the reason logged", async () => {
    const logger = recordingLogger();
    await using d = await startTestNsqd({ auth_http_addresses: [`https://127.0.0.1:${authd.port}/auth`] }, { logger });
    authd.seen.length = 0;
    const r = await authResult(d.tcpPort);
    expect(r).toEqual({ type: FrameType.Error, text: "E_AUTH_FAILED AUTH failed" });
    expect(authd.seen).toEqual([]);
    const line = logger.lines.find((l) => l.includes("AUTH failed -"));
    expect(line).toMatch(/failed auth against https:\/\/127\.0\.0\.1:\d+\/auth GET https:.* - .*(certificate|CERT)/i);
  });

  it("--tls-min-version=tls1.3 refuses a TLS 1.2-only auth server; tls1.2 accepts it", async () => {
    const address = `https://127.0.0.1:${oldAuthd.port}/auth`;
    await using strict = await startTestNsqd({ auth_http_addresses: [address], tls_root_ca_file: fixture("ca.pem"), tls_min_version: "tls1.3" });
    expect(await authResult(strict.tcpPort)).toEqual({ type: FrameType.Error, text: "E_AUTH_FAILED AUTH failed" });
    await using lenient = await startTestNsqd({ auth_http_addresses: [address], tls_root_ca_file: fixture("ca.pem"), tls_min_version: "tls1.2" });
    oldAuthd.seen.length = 0;
    expect((await authResult(lenient.tcpPort)).type).toBe(FrameType.Response);
    expect(oldAuthd.seen.map((s) => s.tlsVersion)).toEqual(["TLSv1.2"]);
  });

  it("X-HTTP-CLIENT: a 403 with https_port from http:// is retried on https://host:https_port", async () => {
    const plain = http.createServer((_req, res) => {
      res.writeHead(403, { "content-type": "application/json" }).end(`{"message": "TLS_REQUIRED", "https_port": ${authd.port}}`);
    });
    await new Promise<void>((r) => plain.listen(0, "127.0.0.1", r));
    try {
      const port = (plain.address() as net.AddressInfo).port;
      await using d = await startTestNsqd({ auth_http_addresses: [`127.0.0.1:${port}`], tls_root_ca_file: fixture("ca.pem") });
      authd.seen.length = 0;
      const r = await authResult(d.tcpPort, "via-403");
      expect(r.type).toBe(FrameType.Response);
      expect(authd.seen).toEqual([{ path: "/auth", secret: "via-403", tlsVersion: "TLSv1.3" }]);
    } finally {
      plain.closeAllConnections();
      await new Promise<void>((r) => plain.close(() => r()));
    }
  });

  it("an unreadable or non-PEM --tls-root-ca-file stops nsqd from being built when auth is on (nsqd.New in the original)", async () => {
    const dir = nodeFs.mkdtempSync(path.join(os.tmpdir(), "nsqd-auth-ca-"));
    try {
      const junk = path.join(dir, "junk.pem");
      nodeFs.writeFileSync(junk, "no certificate here\n");
      for (const ca of [junk, path.join(dir, "missing.pem")]) {
        const o = defaultNsqdOptions({
          tcp_address: "127.0.0.1:0",
          http_address: "",
          https_address: "",
          data_path: dir,
          auth_http_addresses: [`https://127.0.0.1:${authd.port}/auth`],
          tls_root_ca_file: ca,
        });
        expect(() => new Nsqd(o, { runtime: createNodeRuntime(), logger: silentLogger })).toThrow(/^failed to build client TLS config - /);
      }
    } finally {
      nodeFs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
