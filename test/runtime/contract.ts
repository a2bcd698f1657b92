// The runtime contract: every adapter (node, bun, deno, and node: compat on
// Bun/Deno) must pass these cases. No test framework, so the same file runs
// in-process under vitest and as a script under each runtime (run-contract.ts).
//
// node: modules are used here only as independent counterparts (a UDP
// listener, an HTTPS client, child processes); the adapter under test is `rt`.
import * as childProcess from "node:child_process";
import * as dgram from "node:dgram";
import * as https from "node:https";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as net from "node:net";
import * as tls from "node:tls";
import type { Runtime, Socket, SocketHandler, TlsInfo, TlsServerOptions } from "../../src/runtime/types.ts";
import { detectRuntime } from "../../src/runtime/index.ts";
import { bytesEqual, deferred, equal, ok, rejects, sleep, throws, waitFor } from "./assert.ts";

export interface ContractCase {
  name: string;
  run(rt: Runtime): Promise<void>;
}

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const tlsDir = path.join(repoRoot, "test/fixtures/tls");
const childScript = path.join(repoRoot, "test/runtime/child.ts");
const enc = new TextEncoder();
const dec = new TextDecoder();

function fixture(rt: Runtime, name: string): string {
  return rt.fs.readText(path.join(tlsDir, name));
}

function tempDir(rt: Runtime, tag: string): string {
  const dir = path.join(os.tmpdir(), `nsq-rt-${tag}-${rt.pid}-${Math.random().toString(36).slice(2)}`);
  rt.fs.mkdir(dir);
  return dir;
}

/** Command line that runs child.ts on the runtime executing this code. */
export function childCommand(args: string[]): string[] {
  const exe = process.execPath;
  switch (detectRuntime()) {
    case "bun":
      return [exe, childScript, ...args];
    case "deno":
      return [exe, "run", "-A", childScript, ...args];
    default:
      return [exe, "--import", "tsx", childScript, ...args];
  }
}

function spawnChild(args: string[]): childProcess.ChildProcessWithoutNullStreams {
  const [cmd, ...rest] = childCommand(args);
  return childProcess.spawn(cmd!, rest, { cwd: repoRoot, env: process.env, stdio: "pipe" });
}

/** Collects a child's stdout as text and its exit. */
function watchChild(child: childProcess.ChildProcessWithoutNullStreams): {
  out: () => string;
  exited: Promise<{ code: number | null; signal: string | null }>;
} {
  let out = "";
  child.stdout.on("data", (d: Uint8Array) => (out += dec.decode(d)));
  child.stderr.on("data", (d: Uint8Array) => (out += dec.decode(d)));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return { out: () => out, exited };
}

/** A handler that records everything a socket reports. */
class Recorder implements SocketHandler {
  chunks: Uint8Array[] = [];
  closes = 0;
  closeError: Error | undefined;
  drains = 0;
  received = 0;
  onData: ((chunk: Uint8Array) => void) | null = null;
  closed = deferred<void>();
  data(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.received += chunk.byteLength;
    this.onData?.(chunk);
  }
  drain(): void {
    this.drains++;
  }
  close(error?: Error): void {
    this.closes++;
    this.closeError = error;
    this.closed.resolve();
  }
  text(): string {
    return this.chunks.map((c) => dec.decode(c)).join("");
  }
}

/** A raw HTTP/1.1 exchange over node:net: writes `head` as is; what arrived (Latin-1) once the server closes. */
function rawHttp(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let received = "";
    socket.on("error", reject);
    socket.on("data", (d: Uint8Array) => (received += Array.from(d, (b) => String.fromCharCode(b)).join("")));
    socket.on("close", () => resolve(received));
    socket.write(head);
  });
}

async function echoServer(rt: Runtime, address: Parameters<Runtime["listen"]>[0]) {
  const servers: Recorder[] = [];
  const listener = await rt.listen(address, (s) => {
    const r = new Recorder();
    r.onData = (c) => s.write(c);
    servers.push(r);
    return r;
  });
  return { listener, servers };
}

function pattern(n: number, seed: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 255;
  return b;
}

async function tlsPair(rt: Runtime, mutual: boolean) {
  const cert = fixture(rt, "server.pem");
  const key = fixture(rt, "server.key");
  const ca = fixture(rt, "ca.pem");
  let serverInfo: Promise<TlsInfo> | null = null;
  const server = new Recorder();
  let serverSock: Socket | null = null;
  const listener = await rt.listen({ host: "127.0.0.1", port: 0 }, (s) => {
    serverSock = s;
    server.onData = (c) => {
      const text = dec.decode(c);
      if (text === "IDENTIFY\n" && serverInfo === null) {
        // Answer in plaintext, then switch to TLS before reading on (D-TCP-NEGOTIATE).
        s.write(enc.encode("OK\n"));
        serverInfo = s.upgradeTls({
          server: { cert, key, ca, requestCert: mutual, rejectUnauthorized: mutual },
        });
        serverInfo.catch(() => {});
      } else if (text === "ping") {
        s.write(enc.encode("pong"));
      }
    };
    return server;
  });
  const client = new Recorder();
  const port = (listener.address as { port: number }).port;
  const sock = await rt.connect({ host: "127.0.0.1", port }, () => client);
  sock.write(enc.encode("IDENTIFY\n"));
  await waitFor(() => client.text() === "OK\n", "plaintext OK");
  return { listener, server, client, sock, serverSock: () => serverSock, serverInfo: () => serverInfo, ca };
}

/**
 * One HTTPS GET with node:https as an independent client: "<status> <body>",
 * or "refused <code>" when the connection fails before a response.
 */
function httpsOutcome(port: number, options: https.RequestOptions): Promise<string> {
  return new Promise<string>((resolve) => {
    const req = https.request({ host: "127.0.0.1", port, path: "/ping", servername: "localhost", agent: false, ...options }, (res) => {
      let s = "";
      res.on("data", (d: Uint8Array) => (s += dec.decode(d)));
      res.on("end", () => resolve(`${res.statusCode} ${s}`));
      res.on("error", (e: NodeJS.ErrnoException) => resolve(`refused ${e.code ?? e.message}`));
    });
    req.setTimeout(5000, () => req.destroy(new Error("no answer in 5 s")));
    req.on("error", (e: NodeJS.ErrnoException) => resolve(`refused ${e.code ?? e.message}`));
    req.end();
  });
}

/** An HTTPS server of the adapter under test answering "pong", counting the requests that reach it. */
async function pingHttps(rt: Runtime, extra: Partial<TlsServerOptions>) {
  const tls = { cert: fixture(rt, "server.pem"), key: fixture(rt, "server.key"), ...extra };
  const seen = { requests: 0 };
  const server = await rt.serveHttp(
    { host: "127.0.0.1", port: 0 },
    () => {
      seen.requests++;
      return new Response("pong");
    },
    { tls },
  );
  return { server, seen, port: (server.address as { port: number }).port };
}

const tcpCases: ContractCase[] = [
  {
    name: "TCP echo on 127.0.0.1 port 0 reports addresses and echoes bytes",
    async run(rt) {
      const { listener, servers } = await echoServer(rt, { host: "127.0.0.1", port: 0 });
      const port = (listener.address as { port: number }).port;
      ok(port > 0, "listener port resolved");
      equal((listener.address as { host: string }).host, "127.0.0.1", "listener host");
      const client = new Recorder();
      const sock = await rt.connect({ host: "127.0.0.1", port }, () => client, { timeoutMs: 2000 });
      equal(sock.remoteAddress, "127.0.0.1", "client remoteAddress");
      equal(sock.remotePort, port, "client remotePort");
      ok(sock.localPort > 0, "client localPort");
      equal(sock.tls, null, "no TLS yet");
      sock.write(enc.encode("hello "));
      sock.write(enc.encode("world"));
      await waitFor(() => client.text() === "hello world", "echo");
      sock.close();
      await client.closed.promise;
      await waitFor(() => servers[0]?.closes === 1, "server close");
      await listener.close();
      await rejects(
        rt.connect({ host: "127.0.0.1", port }, () => new Recorder()),
        "connect to closed listener",
      );
    },
  },
  {
    name: "Unix socket listen and connect",
    async run(rt) {
      const dir = tempDir(rt, "unix");
      const sockPath = path.join(dir, "nsqd.sock");
      try {
        const { listener, servers } = await echoServer(rt, { path: sockPath });
        equal((listener.address as { path: string }).path, sockPath, "listener path");
        const client = new Recorder();
        const sock = await rt.connect({ path: sockPath }, () => client);
        equal(sock.remoteAddress, "", "unix remoteAddress");
        equal(sock.remotePort, 0, "unix remotePort");
        sock.write(enc.encode("over unix"));
        await waitFor(() => client.text() === "over unix", "unix echo");
        sock.end();
        await client.closed.promise;
        await waitFor(() => servers[0]?.closes === 1, "server close");
        await listener.close();
      } finally {
        rt.fs.removeTree(dir);
      }
    },
  },
  {
    name: "large transfer with backpressure arrives intact, in order, in owned chunks",
    async run(rt) {
      const total = 8 * 1024 * 1024;
      const block = 64 * 1024;
      const server = new Recorder();
      let serverSock: Socket | null = null;
      const listener = await rt.listen({ host: "127.0.0.1", port: 0 }, (s) => {
        serverSock = s;
        s.pause(); // let the sender's buffers fill up first
        return server;
      });
      const client = new Recorder();
      const sock = await rt.connect({ host: "127.0.0.1", port: (listener.address as { port: number }).port }, () => client);
      await waitFor(() => serverSock !== null, "accept");
      let sent = 0;
      let sawFalse = 0;
      let drainSeen = 0;
      const drained = (): Promise<void> => {
        const before = client.drains;
        return waitFor(() => client.drains > before, "drain", 20000);
      };
      setTimeout(() => serverSock!.resume(), 300);
      while (sent < total) {
        const n = Math.min(block, total - sent);
        const more = sock.write(pattern(n, sent));
        sent += n;
        if (!more) {
          sawFalse++;
          const w = drained();
          await w;
          drainSeen++;
        }
      }
      ok(sawFalse > 0, "write() returned false at least once");
      equal(drainSeen, sawFalse, "a drain followed every false write()");
      await waitFor(() => server.received === total, `all ${total} bytes (have ${server.received})`, 30000);
      // Chunks were kept, not copied: they must still hold what arrived.
      let off = 0;
      for (const c of server.chunks) {
        for (let i = 0; i < c.byteLength; i++) {
          const pos = off + i;
          const blockStart = pos - (pos % block);
          const expected = ((pos - blockStart) * 31 + blockStart) & 255;
          if (c[i] !== expected) throw new Error(`byte ${pos}: expected ${expected}, got ${c[i]}`);
        }
        off += c.byteLength;
      }
      sock.close();
      await server.closed.promise;
      await listener.close();
    },
  },
  {
    name: "pause stops data delivery until resume",
    async run(rt) {
      const listener = await rt.listen({ host: "127.0.0.1", port: 0 }, (s) => {
        s.write(enc.encode("first"));
        setTimeout(() => s.write(enc.encode("second")), 50);
        return new Recorder();
      });
      const client = new Recorder();
      const sock = await rt.connect({ host: "127.0.0.1", port: (listener.address as { port: number }).port }, (s) => {
        s.pause();
        return client;
      });
      await sleep(200);
      equal(client.received, 0, "bytes delivered while paused");
      sock.resume();
      await waitFor(() => client.text() === "firstsecond", "data after resume");
      sock.pause();
      await sleep(20);
      sock.resume();
      sock.close();
      await listener.close();
    },
  },
  {
    name: "close is reported exactly once on both sides (end from client, close from server)",
    async run(rt) {
      const servers: Recorder[] = [];
      const sockets: Socket[] = [];
      const listener = await rt.listen({ host: "127.0.0.1", port: 0 }, (s) => {
        sockets.push(s);
        const r = new Recorder();
        servers.push(r);
        return r;
      });
      const port = (listener.address as { port: number }).port;
      // 1. The client ends after writing: the server gets the bytes, then close.
      const c1 = new Recorder();
      const s1 = await rt.connect({ host: "127.0.0.1", port }, () => c1);
      s1.write(enc.encode("bye"));
      s1.end();
      await waitFor(() => servers[0]?.closes === 1, "server sees client end");
      equal(servers[0]!.text(), "bye", "bytes before end");
      await c1.closed.promise;
      // 2. The server closes: the client is told.
      const c2 = new Recorder();
      await rt.connect({ host: "127.0.0.1", port }, () => c2);
      await waitFor(() => sockets.length === 2, "second accept");
      sockets[1]!.close();
      await c2.closed.promise;
      await waitFor(() => servers[1]?.closes === 1, "server close reported");
      await sleep(50);
      equal(c1.closes, 1, "client 1 closes");
      equal(c2.closes, 1, "client 2 closes");
      equal(servers[0]!.closes, 1, "server 1 closes");
      equal(servers[1]!.closes, 1, "server 2 closes");
      await listener.close();
    },
  },
];

/** The same runtime, with `extra` added to every listen/connect call's options. */
function withSocketOptions(rt: Runtime, extra: { allowTlsUpgrade: boolean }): Runtime {
  return {
    ...rt,
    listen: (address, accept, options) => rt.listen(address, accept, { ...options, ...extra }),
    connect: (address, handler, options) => rt.connect(address, handler, { ...options, ...extra }),
  };
}

export const cases: ContractCase[] = [
  ...tcpCases,
  // Sockets promised never to need TLS may be a different, faster kind (Deno).
  ...tcpCases.map((c) => ({
    name: `${c.name} [allowTlsUpgrade: false]`,
    run: (rt: Runtime) => c.run(withSocketOptions(rt, { allowTlsUpgrade: false })),
  })),
  {
    name: "in-place TLS upgrade after plaintext, with client certificates (mutual TLS)",
    async run(rt) {
      const p = await tlsPair(rt, true);
      const clientInfo = await p.sock.upgradeTls({
        client: {
          ca: p.ca,
          serverName: "localhost",
          cert: fixture(rt, "client.pem"),
          key: fixture(rt, "client.key"),
        },
      });
      const serverInfo = await p.serverInfo()!;
      ok(/^TLSv1\.[23]$/.test(clientInfo.version), `client TLS version ${clientInfo.version}`);
      equal(serverInfo.version, clientInfo.version, "same version on both sides");
      ok(clientInfo.cipher.length > 0, "client cipher name");
      ok(serverInfo.cipher.length > 0, "server cipher name");
      ok(clientInfo.authorized, "server certificate verified");
      equal(clientInfo.peerCommonName, "localhost", "server CN");
      ok(serverInfo.authorized, "client certificate verified");
      ok(serverInfo.peerCertificate, "client presented a certificate");
      equal(serverInfo.peerCommonName, "nsq test client", "client CN");
      equal(p.sock.tls?.version, clientInfo.version, "socket.tls after upgrade");
      equal(p.serverSock()!.tls?.cipher, serverInfo.cipher, "server socket.tls");
      p.client.chunks = [];
      p.sock.write(enc.encode("ping"));
      await waitFor(() => p.client.text() === "pong", "pong over TLS");
      // A large TLS write goes through intact.
      const big = pattern(1024 * 1024, 7);
      p.server.onData = null;
      p.server.chunks = [];
      p.server.received = 0;
      p.sock.write(big);
      await waitFor(() => p.server.received === big.byteLength, "1 MiB over TLS", 15000);
      const got = new Uint8Array(big.byteLength);
      let off = 0;
      for (const c of p.server.chunks) {
        got.set(c, off);
        off += c.byteLength;
      }
      bytesEqual(got, big, "1 MiB over TLS");
      p.sock.end();
      await p.server.closed.promise;
      await p.client.closed.promise;
      equal(p.client.closes, 1, "client close once after TLS");
      equal(p.server.closes, 1, "server close once after TLS");
      await p.listener.close();
    },
  },
  {
    name: "TLS upgrade without client certificate; IP host verified by the CA; bad CA is refused",
    async run(rt) {
      const p = await tlsPair(rt, false);
      const info = await p.sock.upgradeTls({ client: { ca: p.ca } });
      const sinfo = await p.serverInfo()!;
      ok(info.authorized, "server certificate verified for 127.0.0.1");
      equal(sinfo.peerCertificate, false, "no client certificate");
      equal(sinfo.peerCommonName, "", "no client CN");
      p.sock.close();
      await p.client.closed.promise;
      await p.listener.close();
      // A client that does not trust the server's CA fails the handshake.
      const q = await tlsPair(rt, false);
      await rejects(q.sock.upgradeTls({ client: { serverName: "localhost" } }), "untrusted server certificate");
      await q.client.closed.promise;
      equal(q.client.closes, 1, "client close once after failed handshake");
      await q.server.closed.promise;
      await q.listener.close();
    },
  },
  {
    name: "HTTP serving of a fetch handler: status, headers, query, POST body, remote address",
    async run(rt) {
      const seen: { remote: string; port: number }[] = [];
      const server = await rt.serveHttp({ host: "127.0.0.1", port: 0 }, async (req, info) => {
        seen.push({ remote: info.remoteAddress, port: info.remotePort });
        const url = new URL(req.url);
        if (req.method === "POST") {
          const body = new Uint8Array(await req.arrayBuffer());
          return new Response(body, { status: 200, headers: { "X-Len": String(body.byteLength) } });
        }
        return new Response(`topic=${url.searchParams.get("topic")} ua=${req.headers.get("user-agent")}`, {
          status: 201,
          headers: { "Content-Type": "text/plain; charset=utf-8", "X-NSQ-Content-Type": "nsq; version=1.0" },
        });
      });
      const port = (server.address as { port: number }).port;
      const r1 = await fetch(`http://127.0.0.1:${port}/pub?topic=t1`, { headers: { "User-Agent": "contract/1" } });
      equal(r1.status, 201, "status");
      equal(r1.headers.get("x-nsq-content-type"), "nsq; version=1.0", "custom header");
      equal(await r1.text(), "topic=t1 ua=contract/1", "body");
      const payload = pattern(300_000, 3);
      const r2 = await fetch(`http://127.0.0.1:${port}/mpub`, { method: "POST", body: payload });
      equal(r2.headers.get("x-len"), String(payload.byteLength), "POST length seen by handler");
      bytesEqual(new Uint8Array(await r2.arrayBuffer()), payload, "POST body echoed");
      equal(seen[0]!.remote.replace(/^::ffff:/, ""), "127.0.0.1", "remote address");
      ok(seen[0]!.port > 0, "remote port");
      await server.close();
    },
  },
  {
    name: "HTTP: Request.url keeps what follows an unencoded # in the request target (the handler rebuilds Go's query from it)",
    async run(rt) {
      const server = await rt.serveHttp({ host: "127.0.0.1", port: 0 }, (req) => {
        const url = new URL(req.url);
        return new Response(`${url.pathname}|${url.search}|${url.hash}`);
      });
      const port = (server.address as { port: number }).port;
      const answer = await rawHttp(port, "GET /topic/create?topic=e#ephemeral&x=1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
      ok(answer.includes("/topic/create|?topic=e|#ephemeral&x=1"), `fragment kept: ${JSON.stringify(answer.slice(-60))}`);
      await server.close();
    },
  },
  {
    name: "HTTP serving on a Unix socket",
    async run(rt) {
      const dir = tempDir(rt, "http-unix");
      const socketPath = path.join(dir, "http.sock");
      try {
        const server = await rt.serveHttp({ path: socketPath }, (req) => new Response(`path ${new URL(req.url).pathname}`));
        const body = await new Promise<string>((resolve, reject) => {
          const req = http.request({ socketPath, path: "/ping", method: "GET" }, (res) => {
            let s = "";
            res.on("data", (d: Uint8Array) => (s += dec.decode(d)));
            res.on("end", () => resolve(`${res.statusCode} ${s}`));
          });
          req.on("error", reject);
          req.end();
        });
        equal(body, "200 path /ping", "response over unix socket");
        await server.close();
      } finally {
        rt.fs.removeTree(dir);
      }
    },
  },
  {
    name: "HTTPS serving with the fixture certificate",
    async run(rt) {
      const tls = { cert: fixture(rt, "server.pem"), key: fixture(rt, "server.key") };
      const server = await rt.serveHttp({ host: "127.0.0.1", port: 0 }, (req) => new Response(`secure ${new URL(req.url).protocol}`, { status: 200 }), { tls });
      const port = (server.address as { port: number }).port;
      const ca = fixture(rt, "ca.pem");
      const body = await new Promise<string>((resolve, reject) => {
        const req = https.request({ host: "127.0.0.1", port, path: "/info", ca, servername: "localhost" }, (res) => {
          let s = "";
          res.on("data", (d: Uint8Array) => (s += dec.decode(d)));
          res.on("end", () => resolve(`${res.statusCode} ${s}`));
        });
        req.on("error", reject);
        req.end();
      });
      equal(body, "200 secure https:", "HTTPS response");
      await server.close();
    },
  },
  {
    name: "HTTPS requireCert without verification: no certificate is refused before the handler, any certificate is served",
    async run(rt) {
      const ca = fixture(rt, "ca.pem");
      const client = { cert: fixture(rt, "client.pem"), key: fixture(rt, "client.key") };
      const rogue = { cert: fixture(rt, "rogue.pem"), key: fixture(rt, "rogue.key") };
      // Without requireCert, asking for a certificate does not demand one.
      const asked = await pingHttps(rt, { ca, requestCert: true, rejectUnauthorized: false });
      try {
        equal(await httpsOutcome(asked.port, { ca }), "200 pong", "requestCert alone: no certificate is served");
      } finally {
        await asked.server.close();
      }
      const s = await pingHttps(rt, { ca, requestCert: true, rejectUnauthorized: false, requireCert: true });
      try {
        const none = await httpsOutcome(s.port, { ca });
        ok(none.startsWith("refused "), `no certificate: ${none}`);
        equal(s.seen.requests, 0, "requests that reached the handler without a certificate");
        equal(await httpsOutcome(s.port, { ca, ...rogue }), "200 pong", "self-signed certificate served");
        equal(await httpsOutcome(s.port, { ca, ...client }), "200 pong", "CA-signed certificate served");
        equal(s.seen.requests, 2, "requests served");
        // Two requests on one kept-alive connection; close() then drops the idle connection at once.
        const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
        try {
          equal(await httpsOutcome(s.port, { ca, ...client, agent }), "200 pong", "kept-alive request 1");
          equal(await httpsOutcome(s.port, { ca, ...client, agent }), "200 pong", "kept-alive request 2");
          const started = Date.now();
          await s.server.close();
          const took = Date.now() - started;
          ok(took < 900, `close() with an idle kept-alive connection took ${took} ms`);
        } finally {
          agent.destroy();
        }
      } finally {
        await s.server.close();
      }
      // requireCert alone implies asking for the certificate.
      const implied = await pingHttps(rt, { ca, requireCert: true });
      try {
        const none = await httpsOutcome(implied.port, { ca });
        ok(none.startsWith("refused "), `requireCert without requestCert, no certificate: ${none}`);
        equal(await httpsOutcome(implied.port, { ca, ...rogue }), "200 pong", "requireCert alone: certificate served");
      } finally {
        await implied.server.close();
      }
    },
  },
  {
    name: "HTTPS requireCert with rejectUnauthorized: only a certificate the CA signed is served",
    async run(rt) {
      const ca = fixture(rt, "ca.pem");
      const s = await pingHttps(rt, { ca, requestCert: true, rejectUnauthorized: true, requireCert: true });
      try {
        const none = await httpsOutcome(s.port, { ca });
        ok(none.startsWith("refused "), `no certificate: ${none}`);
        const rogue = await httpsOutcome(s.port, { ca, cert: fixture(rt, "rogue.pem"), key: fixture(rt, "rogue.key") });
        ok(rogue.startsWith("refused "), `self-signed certificate: ${rogue}`);
        equal(s.seen.requests, 0, "requests that reached the handler unverified");
        equal(await httpsOutcome(s.port, { ca, cert: fixture(rt, "client.pem"), key: fixture(rt, "client.key") }), "200 pong", "CA-signed certificate served");
        equal(s.seen.requests, 1, "requests served");
      } finally {
        await s.server.close();
      }
    },
  },
  {
    name: "HTTPS minVersion TLSv1.3 refuses a TLS 1.2-only client; minVersion TLSv1.2 serves it",
    async run(rt) {
      const ca = fixture(rt, "ca.pem");
      const strict = await pingHttps(rt, { minVersion: "TLSv1.3" });
      const lenient = await pingHttps(rt, { minVersion: "TLSv1.2" });
      try {
        const old = await httpsOutcome(strict.port, { ca, maxVersion: "TLSv1.2" });
        ok(old.startsWith("refused "), `TLS 1.2 client against a TLS 1.3 minimum: ${old}`);
        equal(strict.seen.requests, 0, "requests that reached the strict handler");
        equal(await httpsOutcome(strict.port, { ca }), "200 pong", "TLS 1.3 client served");
        equal(await httpsOutcome(lenient.port, { ca, maxVersion: "TLSv1.2" }), "200 pong", "TLS 1.2 client served by a TLS 1.2 minimum");
      } finally {
        await strict.server.close();
        await lenient.server.close();
      }
    },
  },
  {
    name: "TLS upgrade with server minVersion TLSv1.3 refuses a TLS 1.2-only client and accepts TLS 1.3",
    async run(rt) {
      const ca = fixture(rt, "ca.pem");
      const upgrades: Promise<TlsInfo>[] = [];
      const listener = await rt.listen({ host: "127.0.0.1", port: 0 }, (s) => {
        const p = s.upgradeTls({ server: { cert: fixture(rt, "server.pem"), key: fixture(rt, "server.key"), minVersion: "TLSv1.3" } });
        p.catch(() => {});
        upgrades.push(p);
        return new Recorder();
      });
      const port = (listener.address as { port: number }).port;
      // node:tls as the independent client: it can cap its own version.
      const handshake = (maxVersion: tls.SecureVersion | undefined) =>
        new Promise<string>((resolve) => {
          const raw = net.connect({ host: "127.0.0.1", port });
          const t = tls.connect({ socket: raw, ca, servername: "localhost", maxVersion });
          t.setTimeout(5000, () => t.destroy(new Error("no handshake in 5 s")));
          t.once("secureConnect", () => {
            resolve(`ok ${t.getProtocol()}`);
            t.end();
          });
          t.once("error", (e: NodeJS.ErrnoException) => resolve(`refused ${e.code ?? e.message}`));
          t.once("close", () => resolve("refused closed"));
        });
      try {
        const old = await handshake("TLSv1.2");
        ok(old.startsWith("refused "), `TLS 1.2 client: ${old}`);
        await waitFor(() => upgrades.length === 1, "first accept");
        await rejects(upgrades[0]!, "server side of the refused handshake");
        equal(await handshake(undefined), "ok TLSv1.3", "TLS 1.3 client");
        await waitFor(() => upgrades.length === 2, "second accept");
        equal((await upgrades[1]!).version, "TLSv1.3", "server side version");
      } finally {
        await listener.close();
      }
    },
  },
  {
    name: "UDP datagrams reach a listener (statsd)",
    async run(rt) {
      const rx = dgram.createSocket("udp4");
      const got = deferred<string>();
      rx.on("message", (m: Uint8Array) => got.resolve(dec.decode(m)));
      await new Promise<void>((r) => rx.bind(0, "127.0.0.1", () => r()));
      const port = rx.address().port;
      const u = rt.udpSocket();
      await u.send(enc.encode("nsq.topic.x.message_count:1|c"), "127.0.0.1", port);
      const msg = await Promise.race([got.promise, sleep(3000).then(() => "timeout")]);
      equal(msg, "nsq.topic.x.message_count:1|c", "datagram");
      u.close();
      rx.close();
    },
  },
  {
    name: "file system: append, positioned read, size, fsync, truncate, atomic write (sync and async), directory fsync, rename, unlink, list, mkdir, link, removeTree",
    async run(rt) {
      const fs = rt.fs;
      const dir = tempDir(rt, "fs");
      try {
        const nested = path.join(dir, "a/b/c");
        fs.mkdir(nested);
        ok(fs.exists(nested), "mkdir -p");
        fs.mkdir(nested); // existing is fine
        const f = path.join(dir, "q.diskqueue.000000.dat");
        equal(fs.sizeOf(f), -1, "size of a missing file");
        equal(fs.exists(f), false, "missing file");
        const a = fs.openAppend(f);
        equal(a.size(), 0, "new file size");
        equal(a.write(enc.encode("hello ")), 6, "bytes written");
        a.write(enc.encode("world"));
        a.sync();
        equal(a.size(), 11, "size after appends");
        a.close();
        const a2 = fs.openAppend(f); // reopening appends at the end
        equal(a2.size(), 11, "size on reopen");
        a2.write(pattern(100_000, 1));
        a2.close();
        equal(fs.sizeOf(f), 100_011, "sizeOf");
        const r = fs.openRead(f);
        equal(r.size(), 100_011, "read size");
        const buf = new Uint8Array(5);
        equal(r.read(buf, 6), 5, "read count");
        equal(dec.decode(buf), "world", "read at offset");
        const big = new Uint8Array(100_000);
        let n = 0;
        while (n < big.byteLength) {
          const k = r.read(big.subarray(n), 11 + n);
          ok(k > 0, "progress");
          n += k;
        }
        bytesEqual(big, pattern(100_000, 1), "large positioned read");
        equal(r.read(buf, 100_011), 0, "read at end of file");
        r.close();
        equal(fs.readText(f).slice(0, 11), "hello world", "readText");
        equal(fs.readBytes(f).byteLength, 100_011, "readBytes");
        const meta = path.join(dir, "nsqd.dat");
        fs.writeAtomic(meta, '{"version":"1.3.0"}', 0o600);
        equal(fs.readText(meta), '{"version":"1.3.0"}', "atomic write content");
        fs.writeAtomic(meta, enc.encode('{"topics":[]}'), 0o600);
        equal(fs.readText(meta), '{"topics":[]}', "atomic overwrite");
        const { statSync } = await import("node:fs");
        equal(statSync(meta).mode & 0o777, 0o600, "mode 0600");
        await fs.writeAtomicAsync(meta, '{"async":true}', 0o600);
        equal(fs.readText(meta), '{"async":true}', "asynchronous atomic write");
        equal(statSync(meta).mode & 0o777, 0o600, "asynchronous atomic write: mode 0600");
        await fs.syncDirectory(dir);
        const cut = path.join(dir, "cut.dat");
        const c = fs.openAppend(cut);
        c.write(pattern(1000, 3));
        c.truncate(600);
        equal(c.size(), 600, "size after truncate");
        c.write(enc.encode("tail"));
        c.close();
        equal(fs.sizeOf(cut), 604, "appends go after the cut");
        fs.truncate(cut, 10);
        equal(fs.sizeOf(cut), 10, "truncate by path");
        fs.unlink(cut);
        equal(fs.list(dir).filter((x) => x.endsWith(".tmp")).length, 0, "no temporary files left");
        const moved = path.join(dir, "moved.dat");
        fs.rename(f, moved);
        equal(fs.exists(f), false, "rename source gone");
        equal(fs.sizeOf(moved), 100_011, "rename target");
        const linked = path.join(dir, "linked.dat");
        fs.link(moved, linked);
        equal(fs.sizeOf(linked), 100_011, "hard link");
        throws(() => fs.link(moved, linked), "link over an existing file");
        equal(fs.list(dir).sort().join(","), "a,linked.dat,moved.dat,nsqd.dat", "list");
        fs.unlink(moved);
        fs.unlink(moved); // missing is not an error
        equal(fs.exists(moved), false, "unlink");
        const missing = throws(() => fs.openRead(path.join(dir, "nope")), "openRead of a missing file");
        equal((missing as { code?: string }).code, "ENOENT", "error code of a missing file");
        equal(fs.resolve("x/y"), path.join(rt.cwd(), "x/y"), "resolve");
        fs.removeTree(path.join(dir, "a"));
        equal(fs.exists(nested), false, "removeTree");
        fs.removeTree(path.join(dir, "a")); // missing is not an error
      } finally {
        fs.removeTree(dir);
      }
      equal(fs.exists(dir), false, "tree removed");
    },
  },
  {
    name: "directory lock refuses a second lock, also from another process, and is released",
    async run(rt) {
      const dir = tempDir(rt, "lock");
      try {
        const lock = rt.fs.lockDirectory(dir);
        throws(() => rt.fs.lockDirectory(dir), "second lock in the same process", /possibly in use by another instance/);
        const c1 = spawnChild(["lock", dir]);
        const w1 = watchChild(c1);
        const e1 = await w1.exited;
        ok(/possibly in use by another instance/.test(w1.out()), `other process refused: ${w1.out()}`);
        equal(e1.code, 3, "refused child exit code");
        lock.release();
        const c2 = spawnChild(["lock", dir]);
        const w2 = watchChild(c2);
        await waitFor(() => w2.out().includes("locked"), "child takes the lock after release", 15000);
        throws(() => rt.fs.lockDirectory(dir), "lock held by the child", /possibly in use by another instance/);
        c2.stdin.end();
        const e2 = await w2.exited;
        equal(e2.code, 0, "child released and exited");
        const again = rt.fs.lockDirectory(dir);
        again.release();
        // A lock left by a process that died (SIGKILL) is taken over.
        const c3 = spawnChild(["lock", dir]);
        const w3 = watchChild(c3);
        await waitFor(() => w3.out().includes("locked"), "child takes the lock", 15000);
        c3.kill("SIGKILL");
        await w3.exited;
        const after = rt.fs.lockDirectory(dir);
        after.release();
      } finally {
        rt.fs.removeTree(dir);
      }
    },
  },
  {
    name: "signals: SIGTERM and SIGHUP reach registered handlers; a removed handler does not run",
    async run() {
      const c = spawnChild(["signal"]);
      const w = watchChild(c);
      await waitFor(() => w.out().includes("ready"), "child ready", 15000);
      // process.kill, not c.kill: Deno's ChildProcess.kill() refuses a second signal.
      process.kill(c.pid!, "SIGHUP");
      await waitFor(() => w.out().includes("got SIGHUP"), "SIGHUP handled");
      process.kill(c.pid!, "SIGTERM");
      const e = await Promise.race([w.exited, sleep(15000).then(() => ({ code: -1, signal: "timeout" }))]);
      if (e.signal === "timeout") process.kill(c.pid!, "SIGKILL");
      ok(w.out().includes("got SIGTERM"), `SIGTERM handled: ${w.out()}`);
      ok(!w.out().includes("removed handler ran"), "removed handler did not run");
      equal(e.code, 0, "exit code after SIGTERM");
    },
  },
  {
    name: "stdout: a closed pipe (| head -c1) ends the writer with exit code 0",
    async run() {
      const c = spawnChild(["spew"]);
      let stderr = "";
      c.stderr.on("data", (d: Uint8Array) => (stderr += dec.decode(d)));
      const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => c.on("exit", (code, signal) => resolve({ code, signal })));
      const first = deferred<void>();
      c.stdout.once("data", () => first.resolve());
      await first.promise;
      c.stdout.destroy();
      const e = await Promise.race([exited, sleep(15000).then(() => ({ code: -1, signal: "timeout" }))]);
      if (e.signal === "timeout") c.kill("SIGKILL");
      equal(`${e.code} ${e.signal}`, "0 null", `exit after EPIPE (stderr: ${stderr.slice(0, 300)})`);
      equal(stderr, "", "quiet exit");
    },
  },
  {
    name: "stdin is a byte stream (cat)",
    async run() {
      const c = spawnChild(["cat"]);
      const w = watchChild(c);
      const data = "line one\nline two\n".repeat(1000);
      c.stdin.end(data);
      const e = await w.exited;
      equal(e.code, 0, "cat exit code");
      equal(w.out(), data, "stdin copied to stdout");
    },
  },
  {
    name: "process: args, argv0, env, cwd, hostname, pid, memoryUsage, freeMemory, name/version",
    async run(rt) {
      ok(/^(node|bun|deno) v\d+\.\d+\.\d+/.test(rt.version), `version ${rt.version}`);
      ok(rt.hostname().length > 0, "hostname");
      equal(rt.hostname(), os.hostname(), "hostname matches os");
      equal(rt.pid, process.pid, "pid");
      equal(rt.cwd(), process.cwd(), "cwd");
      equal(rt.env("PATH"), process.env.PATH, "env");
      equal(rt.env("NSQ_SURELY_UNSET_VARIABLE"), undefined, "unset env");
      const m = rt.memoryUsage();
      ok(m.rss > 0 && m.heapUsed > 0 && m.heapTotal > 0 && m.external >= 0, `memory usage ${JSON.stringify(m)}`);
      // freeMemory (D-HTTP-DEBUG-FREEMEM): a full collection, so garbage no longer counts as used heap.
      rt.freeMemory();
      let garbage: { n: number; s: string }[] | null = [];
      for (let i = 0; i < 200_000; i++) garbage.push({ n: i, s: `item ${i}` });
      const full = rt.memoryUsage().heapUsed;
      garbage = null;
      rt.freeMemory();
      const after = rt.memoryUsage().heapUsed;
      ok(after < full - 4 * 1024 * 1024, `heap used ${full} with 200,000 dropped objects, ${after} after freeMemory`);
      const c = spawnChild(["info", "--tcp-address=0.0.0.0:4150", "x y"]);
      const w = watchChild(c);
      const e = await w.exited;
      equal(e.code, 0, "info exit");
      const info = JSON.parse(w.out()) as { argv0: string; args: string[]; name: string };
      equal(info.args.join("|"), "info|--tcp-address=0.0.0.0:4150|x y", "args after the script");
      ok(info.argv0.endsWith("child.ts"), `argv0 of a script: ${info.argv0}`);
    },
  },
];

// ---- X-HTTP-CLIENT: Runtime.httpClient (custom TLS settings, deadlines) ----

/** An HTTPS server of the adapter under test that echoes what it received. */
async function echoHttps(rt: Runtime, extra: { ca?: string; requestCert?: boolean; rejectUnauthorized?: boolean } = {}) {
  const tls = { cert: fixture(rt, "server.pem"), key: fixture(rt, "server.key"), ...extra };
  return rt.serveHttp(
    { host: "127.0.0.1", port: 0 },
    async (req) => {
      const url = new URL(req.url);
      if (url.pathname === "/moved") return new Response(null, { status: 302, headers: { location: "/info?from=moved" } });
      if (url.pathname === "/empty") return new Response(null, { status: 204 });
      const body = await req.text();
      return Response.json(
        { method: req.method, path: url.pathname + url.search, accept: req.headers.get("accept"), type: req.headers.get("content-type"), body },
        { status: url.searchParams.has("status") ? Number(url.searchParams.get("status")) : 200, headers: { "x-echo": "1" } },
      );
    },
    { tls },
  );
}

function portOf(server: { address: Parameters<Runtime["listen"]>[0] }): number {
  return (server.address as { port: number }).port;
}

cases.push(
  {
    name: "httpClient: HTTPS verified with the CA file, refused without it, accepted insecure; method, headers, body, redirects",
    async run(rt) {
      const server = await echoHttps(rt);
      const base = `https://127.0.0.1:${portOf(server)}`;
      const verified = rt.httpClient({ ca: fixture(rt, "ca.pem") });
      const untrusted = rt.httpClient({});
      const insecure = rt.httpClient({ insecureSkipVerify: true });
      try {
        const r = await verified(`${base}/pub?topic=t`, {
          method: "POST",
          headers: { Accept: "application/vnd.nsq; version=1.0", "Content-Type": "application/json" },
          body: JSON.stringify({ a: 1 }),
        });
        equal(r.status, 200, "status with the CA");
        equal(r.headers.get("x-echo"), "1", "response header");
        const echoed = (await r.json()) as Record<string, string>;
        equal(echoed.method, "POST", "method");
        equal(echoed.path, "/pub?topic=t", "path and query");
        equal(echoed.accept, "application/vnd.nsq; version=1.0", "accept header");
        equal(echoed.type, "application/json", "content type");
        equal(echoed.body, '{"a":1}', "request body");

        const moved = await verified(`${base}/moved`);
        equal(moved.status, 200, "redirect followed");
        equal(((await moved.json()) as Record<string, string>).path, "/info?from=moved", "redirect target");
        const empty = await verified(`${base}/empty`);
        equal(empty.status, 204, "204 status");
        equal(await empty.text(), "", "204 has no body");
        const err = await verified(`${base}/x?status=403`);
        equal(err.status, 403, "non-200 status is a response, not an error");
        await err.text();

        await rejects(untrusted(`${base}/info`), "no CA: the fixture certificate is not trusted");
        const loose = await insecure(`${base}/info`);
        equal(loose.status, 200, "insecure skip verify");
        await loose.text();
        // "localhost" is in the certificate too; a name it does not carry is refused.
        const byName = await verified(`https://localhost:${portOf(server)}/info`);
        equal(byName.status, 200, "host name verified");
        await byName.text();
      } finally {
        verified.close();
        untrusted.close();
        insecure.close();
        await server.close();
      }
    },
  },
  {
    name: "httpClient: presents a client certificate to a server that requires one",
    async run(rt) {
      const ca = fixture(rt, "ca.pem");
      const server = await echoHttps(rt, { ca, requestCert: true, rejectUnauthorized: true });
      const url = `https://127.0.0.1:${portOf(server)}/info`;
      const withCert = rt.httpClient({ ca, cert: fixture(rt, "client.pem"), key: fixture(rt, "client.key") });
      const without = rt.httpClient({ ca });
      const rogue = rt.httpClient({ ca, cert: fixture(rt, "rogue.pem"), key: fixture(rt, "rogue.key") });
      try {
        const r = await withCert(url);
        equal(r.status, 200, "mutual TLS status");
        equal(((await r.json()) as Record<string, string>).path, "/info", "mutual TLS body");
        await rejects(without(url), "no client certificate is refused by the server");
        await rejects(rogue(url), "a client certificate the server's CA did not sign is refused");
      } finally {
        withCert.close();
        without.close();
        rogue.close();
        await server.close();
      }
    },
  },
  {
    name: "httpClient: minVersion TLSv1.3 refuses a TLS 1.2-only server",
    async run(rt) {
      // The adapter's server has no maximum version: node:https plays the old server.
      const server = https.createServer({ cert: fixture(rt, "server.pem"), key: fixture(rt, "server.key"), maxVersion: "TLSv1.2" }, (_req, res) =>
        res.end("old"),
      );
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const url = `https://127.0.0.1:${(server.address() as { port: number }).port}/`;
      const strict = rt.httpClient({ ca: fixture(rt, "ca.pem"), minVersion: "TLSv1.3" });
      const lenient = rt.httpClient({ ca: fixture(rt, "ca.pem"), minVersion: "TLSv1.2" });
      try {
        const r = await lenient(url);
        equal(await r.text(), "old", "TLS 1.2 allowed by minVersion TLSv1.2");
        await rejects(strict(url), "TLS 1.2 refused by minVersion TLSv1.3");
      } finally {
        strict.close();
        lenient.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  },
  {
    name: "httpClient: request deadline (TimeoutError) and connect deadline against a silent server",
    async run(rt) {
      // An HTTP server that answers after 3 s.
      const slow = http.createServer((_req, res) => {
        const t = setTimeout(() => res.end("late"), 3000);
        res.on("close", () => clearTimeout(t));
      });
      await new Promise<void>((resolve) => slow.listen(0, "127.0.0.1", resolve));
      const slowUrl = `http://127.0.0.1:${(slow.address() as { port: number }).port}/`;
      // A TCP listener that accepts and never speaks: the TLS handshake never ends.
      const silent = await rt.listen({ host: "127.0.0.1", port: 0 }, () => new Recorder());
      const silentUrl = `https://127.0.0.1:${portOf(silent)}/`;
      const client = rt.httpClient({ connectTimeoutMs: 300, requestTimeoutMs: 600 });
      // Only the node: implementation has a connect deadline of its own; elsewhere
      // the request deadline bounds the connect phase (see http-client.ts).
      const connectOnly = rt.httpClient({ connectTimeoutMs: 300, requestTimeoutMs: 20_000 });
      const nodeImpl = rt.name === "node";
      try {
        let started = Date.now();
        const e = await rejects(client(slowUrl), "slow response");
        const took = Date.now() - started;
        equal(e.name, "TimeoutError", "request deadline error name");
        ok(took >= 500 && took < 2500, `request deadline took ${took} ms`);

        started = Date.now();
        await rejects((nodeImpl ? connectOnly : client)(silentUrl), "silent server");
        const took2 = Date.now() - started;
        ok(took2 >= 250 && took2 < 2500, `connect phase deadline took ${took2} ms`);

        // An abort signal of the caller still applies.
        const ac = new AbortController();
        setTimeout(() => ac.abort(new Error("caller gave up")), 100);
        await rejects(connectOnly(slowUrl, { signal: ac.signal }), "caller abort", /caller gave up/);
      } finally {
        client.close();
        connectOnly.close();
        await silent.close();
        slow.closeAllConnections();
        await new Promise<void>((resolve) => slow.close(() => resolve()));
      }
    },
  },
);
