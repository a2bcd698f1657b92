// nsqadmin against an nsqd that only speaks HTTPS to it (A-BEH-UPSTREAM-TLS,
// X-HTTP-CLIENT): direct mode, nsqd with --https-address and
// --tls-required=true, so every plain-HTTP query gets 403 TLS_REQUIRED with
// the https_port and is retried over HTTPS with the --http-client-tls-* settings.
import * as os from "node:os";
import * as path from "node:path";
import * as nodeFs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultAdminOptions, type AdminOptions } from "../../src/admin/options.ts";
import { Admin } from "../../src/admin/admin.ts";
import { silentLogger } from "../../src/common/log.ts";
import { createNodeRuntime } from "../../src/runtime/node.ts";
import { startTestNsqd, type TestNsqd } from "../nsqd/helpers.ts";
import { startAdminFor, V1 } from "./cluster.ts";

const tlsDir = path.resolve(import.meta.dirname, "../fixtures/tls");
const fixture = (name: string) => path.join(tlsDir, name);

let plainTls: TestNsqd;
let mutualTls: TestNsqd;

beforeAll(async () => {
  // broadcast_address: nsqadmin queries nodes by it, and the certificate names 127.0.0.1.
  const serverTls = { tls_cert: fixture("server.pem"), tls_key: fixture("server.key"), broadcast_address: "127.0.0.1" };
  plainTls = await startTestNsqd({ http_address: "127.0.0.1:0", https_address: "127.0.0.1:0", tls_required: "true", ...serverTls });
  // require-verify: the HTTPS listener refuses clients without a certificate signed by the CA.
  mutualTls = await startTestNsqd({
    http_address: "127.0.0.1:0",
    https_address: "127.0.0.1:0",
    tls_client_auth_policy: "require-verify",
    tls_root_ca_file: fixture("ca.pem"),
    ...serverTls,
  });
  for (const n of [plainTls, mutualTls]) {
    n.nsqd.getTopic("orders").getChannel("billing");
  }
});

afterAll(async () => {
  await plainTls?.close();
  await mutualTls?.close();
});

function direct(node: TestNsqd, overrides: Partial<AdminOptions>): AdminOptions {
  return defaultAdminOptions({ http_address: "127.0.0.1:0", nsqd_http_addresses: [`127.0.0.1:${node.httpPort}`], ...overrides });
}

describe("nsqadmin direct mode against an nsqd with --tls-required=true", () => {
  it("the nsqd refuses plain HTTP with 403 TLS_REQUIRED and its https_port", async () => {
    const r = await fetch(`http://127.0.0.1:${plainTls.httpPort}/stats?format=json`, { headers: V1 });
    expect(r.status).toBe(403);
    expect(await r.json()).toEqual({ message: "TLS_REQUIRED", https_port: plainTls.nsqd.httpsPort });
    expect(plainTls.nsqd.httpsPort).toBeGreaterThan(0);
  });

  it("X-HTTP-CLIENT retries over HTTPS, verified by --http-client-tls-root-ca-file", async () => {
    await using admin = await startAdminFor(direct(plainTls, { http_client_tls_root_ca_file: fixture("ca.pem") }));
    const topics = await admin.get("/api/topics");
    expect(topics.status).toBe(200);
    expect(topics.body).toEqual({ topics: ["orders"], message: "" });
    const channel = await admin.get("/api/topics/orders/billing");
    expect(channel.status).toBe(200);
    expect(channel.body.channel_name).toBe("billing");
    // A POST (A-API-TOPIC-ACTION) takes the same way.
    const paused = await admin.send("POST", "/api/topics/orders", { action: "pause" });
    expect(paused.status).toBe(200);
    expect(plainTls.nsqd.getTopic("orders").paused).toBe(true);
    expect((await admin.send("POST", "/api/topics/orders", { action: "unpause" })).status).toBe(200);
    expect(plainTls.nsqd.getTopic("orders").paused).toBe(false);
  });

  it("without the CA the HTTPS retry fails certificate verification (502)", async () => {
    await using admin = await startAdminFor(direct(plainTls, {}));
    const r = await admin.get("/api/topics");
    expect(r.status).toBe(502);
    expect(r.body.message).toMatch(/^UPSTREAM_ERROR: failed to query any nsqd: Get "https:\/\/127\.0\.0\.1:\d+\/stats\?format=json": /);
  });

  it("--http-client-tls-insecure-skip-verify accepts the unverified certificate", async () => {
    await using admin = await startAdminFor(direct(plainTls, { http_client_tls_insecure_skip_verify: true }));
    const r = await admin.get("/api/topics");
    expect(r.status).toBe(200);
    expect(r.body.topics).toEqual(["orders"]);
  });

  it("--http-client-tls-cert/--http-client-tls-key satisfy --tls-client-auth-policy=require-verify", async () => {
    await using withCert = await startAdminFor(
      direct(mutualTls, {
        http_client_tls_root_ca_file: fixture("ca.pem"),
        http_client_tls_cert: fixture("client.pem"),
        http_client_tls_key: fixture("client.key"),
      }),
    );
    const ok = await withCert.get("/api/topics/orders");
    expect(ok.status).toBe(200);
    expect(ok.body.topic_name).toBe("orders");
    await using withoutCert = await startAdminFor(direct(mutualTls, { http_client_tls_root_ca_file: fixture("ca.pem") }));
    expect((await withoutCert.get("/api/topics/orders")).status).toBe(502);
  });
});

describe("nsqadmin --http-client-tls-* files", () => {
  const runtime = createNodeRuntime();
  const start = async (overrides: Partial<AdminOptions>) => {
    const admin = new Admin(direct(plainTls, overrides), { runtime, logger: silentLogger, historyIntervalMs: 0 });
    try {
      await admin.start();
    } finally {
      await admin.close();
    }
  };

  it("a missing or non-PEM CA file or key pair stops the start with the original's messages", async () => {
    const dir = nodeFs.mkdtempSync(path.join(os.tmpdir(), "nsqadmin-tls-"));
    try {
      const junk = path.join(dir, "junk.pem");
      nodeFs.writeFileSync(junk, "not a certificate\n");
      const missing = path.join(dir, "missing.pem");
      await expect(start({ http_client_tls_root_ca_file: missing })).rejects.toThrow(`failed to read TLS root CA file ${missing} - `);
      await expect(start({ http_client_tls_root_ca_file: junk })).rejects.toThrow(`failed to AppendCertsFromPEM ${junk}`);
      await expect(start({ http_client_tls_cert: missing, http_client_tls_key: fixture("client.key") })).rejects.toThrow(
        `failed to LoadX509KeyPair ${missing}, ${fixture("client.key")} - `,
      );
      await expect(start({ http_client_tls_cert: junk, http_client_tls_key: fixture("client.key") })).rejects.toThrow(
        "tls: failed to find any PEM data in certificate input",
      );
      await expect(start({ http_client_tls_root_ca_file: fixture("ca.pem") })).resolves.toBeUndefined();
    } finally {
      nodeFs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
