// D-BEH-TLS: the HTTPS listener applies --tls-client-auth-policy like the TCP
// upgrade does. `require` wants a client certificate, any one; `require-verify`
// wants one that verifies against --tls-root-ca-file. A refused client gets no
// HTTP response at all: the connection closes right after the handshake.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as https from "node:https";
import type { NsqdOptions } from "../../src/nsqd/options.ts";
import { startTestNsqd } from "./helpers.ts";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "tls");
const pem = (name: string): string => readFileSync(join(FIXTURES, name), "utf8");

const CLIENT = { cert: pem("client.pem"), key: pem("client.key") };
const ROGUE = { cert: pem("rogue.pem"), key: pem("rogue.key") };
const NONE = {};

/** GET over HTTPS: "<status> <body>", or "refused <code>" when no response came. */
function httpsGet(port: number, path: string, identity: { cert?: string; key?: string }): Promise<string> {
  return new Promise((resolve) => {
    const req = https.get({ host: "127.0.0.1", port, path, ca: pem("ca.pem"), servername: "localhost", agent: false, ...identity }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve(`${res.statusCode} ${body}`));
      res.on("error", (e: NodeJS.ErrnoException) => resolve(`refused ${e.code ?? e.message}`));
    });
    req.setTimeout(5000, () => req.destroy(new Error("no answer in 5 s")));
    req.on("error", (e: NodeJS.ErrnoException) => resolve(`refused ${e.code ?? e.message}`));
  });
}

async function startWithPolicy(overrides: Partial<NsqdOptions>) {
  return startTestNsqd({
    tls_cert: join(FIXTURES, "server.pem"),
    tls_key: join(FIXTURES, "server.key"),
    https_address: "127.0.0.1:0",
    ...overrides,
  });
}

describe("D-BEH-TLS: --tls-client-auth-policy on the HTTPS listener", () => {
  it("no policy: HTTPS /ping is served without a client certificate", async () => {
    await using d = await startWithPolicy({});
    expect(await httpsGet(d.nsqd.httpsPort, "/ping", NONE)).toBe("200 OK");
  });

  it("require: no certificate is refused; a self-signed or CA-signed certificate is served", async () => {
    await using d = await startWithPolicy({ tls_client_auth_policy: "require" });
    const port = d.nsqd.httpsPort;
    expect(port).toBeGreaterThan(0);
    expect(await httpsGet(port, "/ping", NONE)).toMatch(/^refused /);
    expect(await httpsGet(port, "/ping", ROGUE)).toBe("200 OK");
    expect(await httpsGet(port, "/ping", CLIENT)).toBe("200 OK");
    // A certificate unlocks the whole API, not just /ping.
    expect(await httpsGet(port, "/info", ROGUE)).toMatch(/^200 \{"version":/);
  });

  it("require with a root CA file still accepts any certificate (Go's RequireAnyClientCert)", async () => {
    await using d = await startWithPolicy({ tls_client_auth_policy: "require", tls_root_ca_file: join(FIXTURES, "ca.pem") });
    const port = d.nsqd.httpsPort;
    expect(await httpsGet(port, "/ping", NONE)).toMatch(/^refused /);
    expect(await httpsGet(port, "/ping", ROGUE)).toBe("200 OK");
    expect(await httpsGet(port, "/ping", CLIENT)).toBe("200 OK");
  });

  it("require-verify: no certificate and a self-signed one are refused; the CA-signed one is served", async () => {
    await using d = await startWithPolicy({ tls_client_auth_policy: "require-verify", tls_root_ca_file: join(FIXTURES, "ca.pem") });
    const port = d.nsqd.httpsPort;
    expect(await httpsGet(port, "/ping", NONE)).toMatch(/^refused /);
    expect(await httpsGet(port, "/ping", ROGUE)).toMatch(/^refused /);
    expect(await httpsGet(port, "/ping", CLIENT)).toBe("200 OK");
  });

  it("a refused client never reaches the HTTP API (no topic created by its /topic/create)", async () => {
    await using d = await startWithPolicy({ tls_client_auth_policy: "require" });
    const port = d.nsqd.httpsPort;
    const created = await new Promise<string>((resolve) => {
      const req = https.request(
        { host: "127.0.0.1", port, method: "POST", path: "/topic/create?topic=sneaky", ca: pem("ca.pem"), servername: "localhost", agent: false },
        (res) => {
          res.resume();
          res.on("end", () => resolve(`${res.statusCode}`));
        },
      );
      req.on("error", (e: NodeJS.ErrnoException) => resolve(`refused ${e.code ?? e.message}`));
      req.end();
    });
    expect(created).toMatch(/^refused /);
    expect(await httpsGet(port, "/stats?format=json", CLIENT)).not.toContain("sneaky");
    expect(await httpsGet(port, "/stats?format=json", CLIENT)).toMatch(/^200 /);
  });
});
