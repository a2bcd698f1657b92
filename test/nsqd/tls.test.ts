// TLS policy and configuration (D-BEH-TLS, D-TCP-TLS-POLICY, D-HTTP-TLS-REQUIRED,
// D-TCP-NEGOTIATE) against an in-process nsqd, with node:net/node:tls clients.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as net from "node:net";
import * as tls from "node:tls";
import * as https from "node:https";
import { FrameReader, FrameType, MAGIC_V2, type Frame } from "../../src/protocol/frames.ts";
import { startTestNsqd } from "./helpers.ts";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "tls");
const pem = (name: string): string => readFileSync(join(FIXTURES, name), "utf8");
const SERVER = { tls_cert: join(FIXTURES, "server.pem"), tls_key: join(FIXTURES, "server.key") };
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

function sizePrefixed(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

function identifyCommand(fields: Record<string, unknown>): Uint8Array {
  const body = sizePrefixed(utf8(JSON.stringify(fields)));
  const line = utf8("IDENTIFY\n");
  const out = new Uint8Array(line.length + body.length);
  out.set(line);
  out.set(body, line.length);
  return out;
}

function pubCommand(topic: string, body: string): Uint8Array {
  const line = utf8(`PUB ${topic}\n`);
  const b = sizePrefixed(utf8(body));
  const out = new Uint8Array(line.length + b.length);
  out.set(line);
  out.set(b, line.length);
  return out;
}

/** Frames from a stream socket, one at a time; null once the peer closed. */
class Frames {
  readonly #reader = new FrameReader();
  readonly #queue: Frame[] = [];
  #closed = false;
  #wake: (() => void) | null = null;

  attach(s: net.Socket | tls.TLSSocket): void {
    s.on("data", (chunk: Buffer) => {
      this.#queue.push(...this.#reader.push(new Uint8Array(chunk)));
      this.#wake?.();
    });
    const end = () => {
      this.#closed = true;
      this.#wake?.();
    };
    s.on("close", end);
    s.on("end", end);
    s.on("error", end);
  }

  detach(s: net.Socket): void {
    s.removeAllListeners("data");
    s.removeAllListeners("close");
    s.removeAllListeners("end");
  }

  async next(timeoutMs = 5000): Promise<Frame | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = this.#queue.shift();
      if (f !== undefined) return f;
      if (this.#closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("no frame in time");
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(t);
          this.#wake = null;
          resolve();
        };
      });
    }
  }
}

async function connectPlain(port: number): Promise<{ sock: net.Socket; frames: Frames }> {
  const sock = net.connect({ host: "127.0.0.1", port });
  await new Promise<void>((resolve, reject) => {
    sock.once("connect", resolve);
    sock.once("error", reject);
  });
  const frames = new Frames();
  frames.attach(sock);
  sock.write(MAGIC_V2);
  return { sock, frames };
}

/** IDENTIFY asking for tls_v1, then the client handshake; resolves with the TLS socket and its frames. */
async function connectTls(
  port: number,
  clientOptions: tls.ConnectionOptions,
): Promise<{ response: Record<string, unknown>; tsock: tls.TLSSocket; frames: Frames; handshake: Promise<Error | null> }> {
  const { sock, frames } = await connectPlain(port);
  sock.write(identifyCommand({ feature_negotiation: true, tls_v1: true }));
  const first = await frames.next();
  expect(first?.type).toBe(FrameType.Response);
  const response = JSON.parse(text(first!.data)) as Record<string, unknown>;
  frames.detach(sock);
  const tsock = tls.connect({ socket: sock, servername: "localhost", ...clientOptions });
  const tframes = new Frames();
  tframes.attach(tsock);
  const handshake = new Promise<Error | null>((resolve) => {
    tsock.once("secureConnect", () => resolve(null));
    tsock.once("error", (e: Error) => resolve(e));
    tsock.once("close", () => resolve(new Error("closed")));
  });
  return { response, tsock, frames: tframes, handshake };
}

describe("D-BEH-TLS startup", () => {
  it("D-BEH-TLS: --tls-required without cert and key is a startup error", async () => {
    await expect(startTestNsqd({ tls_required: "true" })).rejects.toThrow("cannot require TLS client connections without TLS key and cert");
  });

  it("D-BEH-TLS: a client-auth policy without cert and key is a startup error (it implies --tls-required)", async () => {
    await expect(startTestNsqd({ tls_client_auth_policy: "require" })).rejects.toThrow("cannot require TLS");
  });

  it("D-BEH-TLS: an unreadable certificate fails the start with the original's prefix", async () => {
    await expect(startTestNsqd({ tls_cert: join(FIXTURES, "missing.pem"), tls_key: SERVER.tls_key })).rejects.toThrow(/^failed to build TLS config - /);
  });
});

describe("D-TCP-NEGOTIATE", () => {
  it("D-TCP-IDENTIFY-RESP: tls_v1/snappy/deflate are false when the server cannot or may not offer them", async () => {
    await using d = await startTestNsqd({ snappy: false, deflate: false });
    const { sock, frames } = await connectPlain(d.tcpPort);
    sock.write(identifyCommand({ feature_negotiation: true, tls_v1: true, snappy: true, deflate: true }));
    const r = JSON.parse(text((await frames.next())!.data)) as Record<string, unknown>;
    expect([r["tls_v1"], r["snappy"], r["deflate"]]).toEqual([false, false, false]);
    // Still plain V2: a PUB answers OK in clear text.
    sock.write(pubCommand("plain", "x"));
    expect(text((await frames.next())!.data)).toBe("OK");
    sock.destroy();
  });

  it("D-TCP-NEGOTIATE: snappy and deflate together -> E_IDENTIFY_FAILED, connection closed", async () => {
    await using d = await startTestNsqd();
    const { sock, frames } = await connectPlain(d.tcpPort);
    sock.write(identifyCommand({ feature_negotiation: true, snappy: true, deflate: true }));
    const f = await frames.next();
    expect(f?.type).toBe(FrameType.Error);
    expect(text(f!.data)).toBe("E_IDENTIFY_FAILED cannot enable both deflate and snappy compression");
    expect(await frames.next()).toBeNull();
    sock.destroy();
  });

  it("D-TCP-NEGOTIATE: after the JSON response the server handshakes and sends OK over TLS", async () => {
    await using d = await startTestNsqd({ ...SERVER });
    const c = await connectTls(d.tcpPort, { ca: pem("ca.pem") });
    expect(c.response["tls_v1"]).toBe(true);
    expect(await c.handshake).toBeNull();
    const ok = await c.frames.next();
    expect(text(ok!.data)).toBe("OK");
    c.tsock.write(pubCommand("secure", "hello"));
    expect(text((await c.frames.next())!.data)).toBe("OK");
    expect(d.nsqd.topics.get("secure")?.messageCount).toBe(1);
    const client = [...d.nsqd.clients][0]!;
    expect(client.tls?.version).toMatch(/^TLSv1\.[23]$/);
    c.tsock.destroy();
  });
});

describe("D-TCP-TLS-POLICY", () => {
  it("D-TCP-TLS-POLICY: with --tls-required a plaintext PUB gets the original's error and publishes nothing", async () => {
    await using d = await startTestNsqd({ ...SERVER, tls_required: "true" });
    const { sock, frames } = await connectPlain(d.tcpPort);
    // IDENTIFY is allowed in plain text.
    sock.write(identifyCommand({ feature_negotiation: false }));
    expect(text((await frames.next())!.data)).toBe("OK");
    sock.write(pubCommand("blocked", "secret"));
    const f = await frames.next();
    expect(f?.type).toBe(FrameType.Error);
    expect(text(f!.data)).toBe("E_INVALID cannot PUB in current state (TLS required)");
    expect(await frames.next()).toBeNull();
    expect(d.nsqd.topics.has("blocked")).toBe(false);
    sock.destroy();
  });

  it("D-TCP-TLS-POLICY: an unknown verb is refused by the TLS policy first, as in the original", async () => {
    await using d = await startTestNsqd({ ...SERVER, tls_required: "tcp-https" });
    const { sock, frames } = await connectPlain(d.tcpPort);
    sock.write(utf8("BOGUS\n"));
    expect(text((await frames.next())!.data)).toBe("E_INVALID cannot BOGUS in current state (TLS required)");
    sock.destroy();
  });

  it("D-TCP-TLS-POLICY: over TLS the same PUB is accepted", async () => {
    await using d = await startTestNsqd({ ...SERVER, tls_required: "true" });
    const c = await connectTls(d.tcpPort, { ca: pem("ca.pem") });
    expect(await c.handshake).toBeNull();
    expect(text((await c.frames.next())!.data)).toBe("OK");
    c.tsock.write(pubCommand("allowed", "hello"));
    expect(text((await c.frames.next())!.data)).toBe("OK");
    expect(d.nsqd.topics.get("allowed")?.messageCount).toBe(1);
    c.tsock.destroy();
  });
});

describe("D-BEH-TLS client certificates", () => {
  const policy = { ...SERVER, tls_client_auth_policy: "require-verify", tls_root_ca_file: join(FIXTURES, "ca.pem") };

  async function tryPublish(port: number, clientOptions: tls.ConnectionOptions): Promise<string | null> {
    const c = await connectTls(port, { ca: pem("ca.pem"), ...clientOptions });
    const err = await c.handshake;
    if (err === null) c.tsock.write(pubCommand("mtls", "hello"));
    let answer: string | null = null;
    // Success is the TLS OK and the PUB's OK; a refusal closes the connection.
    for (let n = 0; n < 2; n++) {
      const f = await c.frames.next().catch(() => null);
      if (f === null) break;
      answer = answer === null ? text(f.data) : `${answer},${text(f.data)}`;
    }
    c.tsock.destroy();
    return answer;
  }

  it("D-BEH-TLS: require-verify accepts a client certificate signed by the CA", async () => {
    await using d = await startTestNsqd(policy);
    const c = await connectTls(d.tcpPort, { ca: pem("ca.pem"), cert: pem("client.pem"), key: pem("client.key") });
    expect(await c.handshake).toBeNull();
    expect(text((await c.frames.next())!.data)).toBe("OK");
    c.tsock.write(pubCommand("mtls", "hello"));
    expect(text((await c.frames.next())!.data)).toBe("OK");
    expect([...d.nsqd.clients][0]!.tls?.peerCommonName).toBe("nsq test client");
    c.tsock.destroy();
  });

  it("D-BEH-TLS: require-verify refuses a certificate not signed by the CA; nothing is published", async () => {
    await using d = await startTestNsqd(policy);
    const answer = await tryPublish(d.tcpPort, { cert: pem("rogue.pem"), key: pem("rogue.key") });
    expect(answer).toBeNull();
    expect(d.nsqd.topics.has("mtls")).toBe(false);
  });

  it("D-BEH-TLS: require-verify refuses a client without a certificate", async () => {
    await using d = await startTestNsqd(policy);
    expect(await tryPublish(d.tcpPort, {})).toBeNull();
    expect(d.nsqd.topics.has("mtls")).toBe(false);
  });

  it("D-BEH-TLS: require accepts an unverified certificate but not a missing one", async () => {
    await using d = await startTestNsqd({ ...SERVER, tls_client_auth_policy: "require" });
    expect(await tryPublish(d.tcpPort, { cert: pem("rogue.pem"), key: pem("rogue.key") })).toBe("OK,OK");
    expect(d.nsqd.topics.get("mtls")?.messageCount).toBe(1);
    expect(await tryPublish(d.tcpPort, {})).toBeNull();
    expect(d.nsqd.topics.get("mtls")?.messageCount).toBe(1);
  });
});

describe("D-HTTP-TLS-REQUIRED", () => {
  function httpsGet(port: number, path: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = https.get({ host: "127.0.0.1", port, path, ca: pem("ca.pem"), servername: "localhost" }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
    });
  }

  it("D-HTTP-TLS-REQUIRED: --tls-required=true: plain HTTP answers 403 with the HTTPS port, HTTPS serves", async () => {
    await using d = await startTestNsqd({ ...SERVER, tls_required: "true", http_address: "127.0.0.1:0", https_address: "127.0.0.1:0" });
    const httpsPort = d.nsqd.httpsPort;
    expect(httpsPort).toBeGreaterThan(0);
    const res = await fetch(`http://127.0.0.1:${d.httpPort}/ping`);
    expect(res.status).toBe(403);
    expect(res.headers.get("x-nsq-content-type")).toBe("nsq; version=1.0");
    expect(await res.text()).toBe(`{"message": "TLS_REQUIRED", "https_port": ${httpsPort}}`);
    expect(await httpsGet(httpsPort, "/ping")).toEqual({ status: 200, body: "OK" });
  });

  it("D-HTTP-TLS-REQUIRED: tcp-https leaves plain HTTP open", async () => {
    await using d = await startTestNsqd({ ...SERVER, tls_required: "tcp-https", http_address: "127.0.0.1:0", https_address: "127.0.0.1:0" });
    const res = await fetch(`http://127.0.0.1:${d.httpPort}/ping`);
    expect(res.status).toBe(200);
  });
});
