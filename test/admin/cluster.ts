// A real cluster in the test process for nsqadmin: one nsqlookupd, N nsqd
// registered with it (HTTP on), and an Admin in lookupd or direct mode.
//
// Registration: when nsqd registers itself with lookupd (D-BEH-LOOKUP-*) the
// helper only waits for lookupd to agree with nsqd; on builds where nsqd does
// not yet drive its lookupd peers, it attaches src/nsqd/lookup-peer.ts's
// LookupPeers to each nsqd and mirrors its topics and channels, so the tests
// exercise the same lookupd HTTP answers either way.
import { Admin, type AdminDeps } from "../../src/admin/admin.ts";
import { defaultAdminOptions, type AdminOptions } from "../../src/admin/options.ts";
import { silentLogger, type Logger } from "../../src/common/log.ts";
import { VERSION } from "../../src/common/version.ts";
import { Lookupd } from "../../src/lookupd/lookupd.ts";
import { defaultLookupdOptions } from "../../src/lookupd/options.ts";
import { LookupPeers } from "../../src/nsqd/lookup-peer.ts";
import type { Nsqd } from "../../src/nsqd/nsqd.ts";
import { createNodeRuntime } from "../../src/runtime/node.ts";
import { startTestNsqd, type TestNsqd } from "../nsqd/helpers.ts";

export const V1 = { Accept: "application/vnd.nsq; version=1.0" };

export interface TestCluster extends AsyncDisposable {
  lookupd: Lookupd;
  /** `127.0.0.1:<port>` of lookupd's HTTP API. */
  lookupdHttp: string;
  nsqds: TestNsqd[];
  /** `127.0.0.1:<http port>` of each nsqd: the node ids nsqadmin reports. */
  nodes: string[];
  /** Wait until lookupd lists exactly the topics and channels each nsqd has. */
  settle(): Promise<void>;
  /** Start an Admin on 127.0.0.1:0 against this cluster (lookupd mode unless addresses are given). */
  admin(overrides?: Partial<AdminOptions>, deps?: Partial<AdminDeps>): Promise<TestAdmin>;
  close(): Promise<void>;
}

export interface TestAdmin extends AsyncDisposable {
  admin: Admin;
  /** `http://127.0.0.1:<port>` plus the base path ("" for "/"). */
  url: string;
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; body: any; text: string; headers: Headers }>;
  send(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; text: string; headers: Headers }>;
  close(): Promise<void>;
}

function port(a: { host: string; port: number } | { path: string } | null): number {
  if (a === null || "path" in a) throw new TypeError("no TCP address");
  return a.port;
}

async function json(r: Response): Promise<{ status: number; body: any; text: string; headers: Headers }> {
  const text = await r.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  return { status: r.status, body, text, headers: r.headers };
}

function snapshot(nsqd: Nsqd): Array<[string, string | null]> {
  const out: Array<[string, string | null]> = [];
  for (const [name, topic] of nsqd.topics) {
    out.push([name, null]);
    for (const c of (topic as unknown as { channels: Map<string, unknown> }).channels.keys()) out.push([name, c]);
  }
  return out;
}

export async function startAdminFor(options: AdminOptions, deps: Partial<AdminDeps> = {}): Promise<TestAdmin> {
  const runtime = createNodeRuntime();
  const admin = new Admin(options, { runtime, logger: deps.logger ?? silentLogger, historyIntervalMs: 0, ...deps });
  await admin.start();
  const base = admin.options().base_path === "/" ? "" : admin.options().base_path;
  const url = `http://127.0.0.1:${port(admin.httpAddress)}${base}`;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await admin.close();
  };
  return {
    admin,
    url,
    get: async (path, headers = {}) => json(await fetch(url + path, { headers: { ...V1, ...headers } })),
    send: async (method, path, body, headers = {}) => {
      const init: RequestInit = { method, headers: { ...V1, "Content-Type": "application/json", ...headers } };
      if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
      return json(await fetch(url + path, init));
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

export async function startCluster(count = 2, logger: Logger = silentLogger): Promise<TestCluster> {
  const runtime = createNodeRuntime();
  const lookupd = new Lookupd(defaultLookupdOptions({ tcp_address: "127.0.0.1:0", http_address: "127.0.0.1:0", broadcast_address: "127.0.0.1" }), {
    runtime,
    logger,
  });
  await lookupd.start();
  const lookupdTcp = `127.0.0.1:${port(lookupd.tcpAddress)}`;
  const lookupdHttp = `127.0.0.1:${port(lookupd.httpAddress)}`;
  const nsqds: TestNsqd[] = [];
  for (let i = 0; i < count; i++) {
    nsqds.push(
      await startTestNsqd(
        { id: i + 1, http_address: "127.0.0.1:0", https_address: "", broadcast_address: "127.0.0.1", nsqlookupd_tcp_addresses: [lookupdTcp] },
        { logger },
      ),
    );
  }
  const nodes = nsqds.map((n) => `127.0.0.1:${n.httpPort}`);

  const lookupdView = async (): Promise<Map<number, string[]>> => {
    const r = await fetch(`http://${lookupdHttp}/nodes`, { headers: V1 });
    const body = (await r.json()) as { producers: Array<{ http_port: number; topics: string[] }> };
    return new Map(body.producers.map((p) => [p.http_port, [...p.topics].sort()]));
  };
  const channelsOf = async (topic: string): Promise<string[]> => {
    const r = await fetch(`http://${lookupdHttp}/channels?topic=${encodeURIComponent(topic)}`, { headers: V1 });
    return ((await r.json()) as { channels: string[] }).channels ?? [];
  };

  // Does nsqd register by itself? Give it a moment to connect.
  let native = false;
  for (let i = 0; i < 20 && !native; i++) {
    const view = await lookupdView();
    native = nsqds.every((n) => view.has(n.httpPort));
    if (!native) await new Promise((r) => setTimeout(r, 25));
  }
  const mirrors: Array<{ peers: LookupPeers; nsqd: Nsqd; known: Set<string> }> = [];
  if (!native) {
    for (const n of nsqds) {
      const nsqd = n.nsqd;
      const peers = new LookupPeers([lookupdTcp], {
        runtime,
        logger,
        info: () => ({
          version: VERSION,
          tcp_port: nsqd.broadcastTcpPort,
          http_port: nsqd.broadcastHttpPort,
          hostname: runtime.hostname(),
          broadcast_address: "127.0.0.1",
          topology_zone: "",
          topology_region: "",
        }),
        registrations: () => snapshot(nsqd),
      });
      peers.start();
      mirrors.push({ peers, nsqd, known: new Set(snapshot(nsqd).map(([t, c]) => `${t}\u0000${c ?? ""}`)) });
    }
  }
  const mirror = async () => {
    for (const m of mirrors) {
      const now = snapshot(m.nsqd);
      const keys = new Set(now.map(([t, c]) => `${t}\u0000${c ?? ""}`));
      for (const [t, c] of now) if (!m.known.has(`${t}\u0000${c ?? ""}`)) m.peers.register(t, c ?? undefined);
      for (const k of m.known) {
        if (keys.has(k)) continue;
        const [t, c] = k.split("\u0000") as [string, string];
        m.peers.unregister(t, c === "" ? undefined : c);
      }
      m.known = keys;
      await m.peers.idle();
    }
  };

  const settle = async () => {
    const deadline = Date.now() + 5000;
    for (;;) {
      await mirror();
      const view = await lookupdView();
      let ok = true;
      for (const n of nsqds) {
        const want = [...new Set(snapshot(n.nsqd).map(([t]) => t))].sort();
        const have = view.get(n.httpPort) ?? [];
        if (JSON.stringify(want) !== JSON.stringify(have)) ok = false;
      }
      if (ok) {
        // Channels too (lookupd /channels is the union over producers).
        const wantChannels = new Map<string, Set<string>>();
        for (const n of nsqds) for (const [t, c] of snapshot(n.nsqd)) if (c !== null) (wantChannels.get(t) ?? wantChannels.set(t, new Set()).get(t)!).add(c);
        for (const [t, set] of wantChannels) {
          const have = await channelsOf(t);
          if (![...set].every((c) => have.includes(c))) ok = false;
        }
      }
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`lookupd did not settle: ${JSON.stringify([...view])}`);
      await new Promise((r) => setTimeout(r, 30));
    }
  };

  const admins: TestAdmin[] = [];
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    for (const a of admins) await a.close();
    for (const m of mirrors) await m.peers.close();
    for (const n of nsqds) await n.close();
    await lookupd.close();
  };
  return {
    lookupd,
    lookupdHttp,
    nsqds,
    nodes,
    settle,
    admin: async (overrides = {}, deps = {}) => {
      const a = await startAdminFor(
        defaultAdminOptions({
          http_address: "127.0.0.1:0",
          nsqlookupd_http_addresses: overrides.nsqd_http_addresses?.length ? [] : [lookupdHttp],
          ...overrides,
        }),
        deps,
      );
      admins.push(a);
      return a;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** POST to an nsqd's HTTP API (`path` with query), asserting 200. */
export async function nsqdPost(node: string, path: string, body = ""): Promise<void> {
  const r = await fetch(`http://${node}${path}`, { method: "POST", body, headers: V1 });
  if (r.status !== 200) throw new Error(`POST ${path} -> ${r.status} ${await r.text()}`);
}

export async function nsqdStats(node: string, query = ""): Promise<any> {
  const r = await fetch(`http://${node}/stats?format=json${query}`, { headers: V1 });
  return r.json();
}
