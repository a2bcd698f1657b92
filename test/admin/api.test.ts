// nsqadmin's JSON API against a real cluster in the test process: one
// nsqlookupd, two nsqd (SPEC §7.1, A-API-*), plus direct mode, partial and total
// upstream failure, ACL and notifications.
import * as http from "node:http";
import * as net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultAdminOptions } from "../../src/admin/options.ts";
import { nsqdPost, nsqdStats, startAdminFor, startCluster, type TestAdmin, type TestCluster } from "./cluster.ts";

const TOPIC_KEYS = [
  "node",
  "hostname",
  "topic_name",
  "depth",
  "memory_depth",
  "backend_depth",
  "message_count",
  "delivery_msg_count",
  "nodes",
  "channels",
  "paused",
  "e2e_processing_latency",
];
const CHANNEL_KEYS = [
  "node",
  "hostname",
  "topic_name",
  "channel_name",
  "depth",
  "memory_depth",
  "backend_depth",
  "in_flight_count",
  "deferred_count",
  "requeue_count",
  "timeout_count",
  "message_count",
  "client_count",
  "nodes",
  "clients",
  "paused",
  "e2e_processing_latency",
];
const CLIENT_KEYS = [
  "node",
  "remote_address",
  "version",
  "client_id",
  "hostname",
  "user_agent",
  "connect_ts",
  "connected",
  "in_flight_count",
  "ready_count",
  "finish_count",
  "requeue_count",
  "message_count",
  "sample_rate",
  "deflate",
  "snappy",
  "authed",
  "auth_identity",
  "auth_identity_url",
  "tls",
  "tls_cipher_suite",
  "tls_version",
  "tls_negotiated_protocol",
  "tls_negotiated_protocol_is_mutual",
];
const PRODUCER_KEYS = ["remote_addresses", "remote_address", "hostname", "broadcast_address", "tcp_port", "http_port", "version", "topics", "out_of_date"];

/** A raw protocol-V2 consumer subscribed with RDY 0 (shows up as a client). */
function subscribe(node: { tcpPort: number }, topic: string, channel: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(node.tcpPort, "127.0.0.1", () => {
      s.write(`  V2SUB ${topic} ${channel}\n`);
    });
    s.once("data", () => resolve(s));
    s.once("error", reject);
  });
}

let cluster: TestCluster;
let admin: TestAdmin;
let consumer: net.Socket;

beforeAll(async () => {
  cluster = await startCluster(2);
  const [a, b] = cluster.nodes as [string, string];
  await nsqdPost(a, "/topic/create?topic=orders");
  await nsqdPost(b, "/topic/create?topic=orders");
  await nsqdPost(a, "/channel/create?topic=orders&channel=billing");
  await nsqdPost(b, "/channel/create?topic=orders&channel=billing");
  await nsqdPost(a, "/channel/create?topic=orders&channel=audit");
  await nsqdPost(a, "/pub?topic=orders", "one");
  await nsqdPost(a, "/pub?topic=orders", "two");
  await nsqdPost(b, "/pub?topic=orders", "three");
  await nsqdPost(b, "/topic/create?topic=events");
  consumer = await subscribe(cluster.nsqds[0]!, "orders", "billing");
  await cluster.settle();
  admin = await cluster.admin();
});

afterAll(async () => {
  consumer?.destroy();
  await cluster?.close();
});

describe("nsqadmin read API in lookupd mode", () => {
  it("A-HTTP-PING answers OK", async () => {
    const r = await admin.get("/ping");
    expect(r.status).toBe(200);
    expect(r.text).toBe("OK");
  });

  it("A-API-TOPICS lists the union of lookupd topics, sorted", async () => {
    const r = await admin.get("/api/topics");
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ topics: ["events", "orders"], message: "" });
  });

  it("A-API-TOPIC sums the topic over both nodes with the original's keys", async () => {
    const r = await admin.get("/api/topics/orders");
    expect(r.status).toBe(200);
    const t = r.body;
    expect(Object.keys(t)).toEqual([...TOPIC_KEYS, "message"]);
    expect(t.node).toBe("*");
    expect(t.message_count).toBe(3);
    expect(t.nodes.map((n: any) => n.node).sort()).toEqual([...cluster.nodes].sort());
    for (const n of t.nodes) expect(Object.keys(n)).toEqual(TOPIC_KEYS);
    const byNode = Object.fromEntries(t.nodes.map((n: any) => [n.node, n]));
    expect(byNode[cluster.nodes[0]!].message_count).toBe(2);
    expect(byNode[cluster.nodes[1]!].message_count).toBe(1);
    const billing = t.channels.find((c: any) => c.channel_name === "billing");
    const audit = t.channels.find((c: any) => c.channel_name === "audit");
    expect(Object.keys(billing)).toEqual(CHANNEL_KEYS);
    expect(billing.node).toBe("*");
    expect(billing.nodes).toHaveLength(2);
    expect(billing.message_count).toBe(3);
    expect(billing.depth + billing.in_flight_count).toBe(3);
    expect(billing.client_count).toBe(1);
    expect(audit.nodes).toHaveLength(1);
    expect(audit.depth).toBe(2);
    expect(t.e2e_processing_latency).toMatchObject({ count: 0, host: "*", topic: "orders" });
  });

  it("A-API-TOPIC for a topic lookupd does not know is a 502 from the failed lookup", async () => {
    const r = await admin.get("/api/topics/nosuchtopic");
    expect(r.status).toBe(502);
    expect(r.body.message).toMatch(/^UPSTREAM_ERROR: failed to query any nsqlookupd: got response 404/);
  });

  it("A-API-CHANNEL aggregates the channel and lists its clients", async () => {
    const r = await admin.get("/api/topics/orders/billing");
    expect(r.status).toBe(200);
    const c = r.body;
    expect(Object.keys(c)).toEqual([...CHANNEL_KEYS, "message"]);
    expect(c.nodes).toHaveLength(2);
    expect(c.clients).toHaveLength(1);
    const client = c.clients[0];
    expect(Object.keys(client)).toEqual(CLIENT_KEYS);
    expect(client.node).toBe(cluster.nodes[0]);
    expect(client.version).toBe("V2");
    expect(client.connected).toBeGreaterThanOrEqual(0);
    expect(client.connected % 1e9).toBe(0);
  });

  it("A-API-CHANNEL for an unknown channel is a 404", async () => {
    const r = await admin.get("/api/topics/orders/nochannel");
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ message: "CHANNEL_NOT_FOUND" });
  });

  it("A-API-NODES lists every nsqd with the lookupd it is known by", async () => {
    const r = await admin.get("/api/nodes");
    expect(r.status).toBe(200);
    expect(r.body.message).toBe("");
    expect(r.body.nodes).toHaveLength(2);
    for (const n of r.body.nodes) {
      expect(Object.keys(n)).toEqual(PRODUCER_KEYS);
      expect(n.remote_addresses).toEqual([`${cluster.lookupdHttp}/${n.remote_address}`]);
      expect(n.out_of_date).toBe(false);
      expect(n.version).toBe("1.3.0");
    }
    const first = r.body.nodes.find((n: any) => `127.0.0.1:${n.http_port}` === cluster.nodes[0]);
    expect(first.topics).toEqual([{ topic: "orders", tombstoned: false }]);
    const second = r.body.nodes.find((n: any) => `127.0.0.1:${n.http_port}` === cluster.nodes[1]);
    expect(second.topics).toEqual([
      { topic: "events", tombstoned: false },
      { topic: "orders", tombstoned: false },
    ]);
  });

  it("A-API-NODE reports one node's topics with channels and clients", async () => {
    const r = await admin.get(`/api/nodes/${cluster.nodes[0]}`);
    expect(r.status).toBe(200);
    expect(Object.keys(r.body)).toEqual(["node", "topics", "total_messages", "total_clients", "message"]);
    expect(r.body.node).toBe(cluster.nodes[0]);
    expect(r.body.total_messages).toBe(2);
    expect(r.body.total_clients).toBe(1);
    expect(r.body.topics.map((t: any) => t.topic_name)).toEqual(["orders"]);
    expect(r.body.topics[0].channels.map((c: any) => c.channel_name).sort()).toEqual(["audit", "billing"]);
  });

  it("A-API-NODE for an unknown node is 404 NODE_NOT_FOUND", async () => {
    const r = await admin.get("/api/nodes/10.9.9.9:4151");
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ message: "NODE_NOT_FOUND" });
  });

  it("A-API-COUNTER keys message counts by topic:channel:node", async () => {
    const r = await admin.get("/api/counter");
    expect(r.status).toBe(200);
    const [a, b] = cluster.nodes as [string, string];
    expect(r.body.stats).toEqual({
      [`orders:billing:${a}`]: { node: a, topic_name: "orders", channel_name: "billing", message_count: 2 },
      [`orders:billing:${b}`]: { node: b, topic_name: "orders", channel_name: "billing", message_count: 1 },
      [`orders:audit:${a}`]: { node: a, topic_name: "orders", channel_name: "audit", message_count: 2 },
    });
    expect(r.body.message).toBe("");
  });

  it("responses are gzip-compressed when the client asks", async () => {
    const raw = await new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
      http
        .get(`${admin.url}/api/topics`, { headers: { "Accept-Encoding": "gzip" } }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () => resolve({ encoding: res.headers["content-encoding"], body: Buffer.concat(chunks) }));
        })
        .on("error", reject);
    });
    expect(raw.encoding).toBe("gzip");
    const { gunzipSync } = await import("node:zlib");
    expect(JSON.parse(gunzipSync(raw.body).toString())).toEqual({ topics: ["events", "orders"], message: "" });
  });
});

describe("nsqadmin admin actions in lookupd mode", () => {
  it("A-API-CHANNEL-ACTION pauses and unpauses a channel on every producer", async () => {
    let r = await admin.send("POST", "/api/topics/orders/billing", { action: "pause" });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ message: "" });
    for (const node of cluster.nodes) {
      const s = await nsqdStats(node, "&topic=orders&channel=billing");
      expect(s.topics[0].channels[0].paused).toBe(true);
    }
    expect((await admin.get("/api/topics/orders/billing")).body.paused).toBe(true);
    r = await admin.send("POST", "/api/topics/orders/billing", { action: "unpause" });
    expect(r.status).toBe(200);
    for (const node of cluster.nodes) {
      const s = await nsqdStats(node, "&topic=orders&channel=billing");
      expect(s.topics[0].channels[0].paused).toBe(false);
    }
  });

  it("A-API-TOPIC-ACTION pauses a topic and rejects an unknown action", async () => {
    let r = await admin.send("POST", "/api/topics/orders", { action: "pause" });
    expect(r.status).toBe(200);
    for (const node of cluster.nodes) expect((await nsqdStats(node, "&topic=orders")).topics[0].paused).toBe(true);
    r = await admin.send("POST", "/api/topics/orders", { action: "unpause" });
    for (const node of cluster.nodes) expect((await nsqdStats(node, "&topic=orders")).topics[0].paused).toBe(false);
    r = await admin.send("POST", "/api/topics/orders", { action: "explode" });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ message: "INVALID_ACTION" });
    r = await admin.send("POST", "/api/topics/orders", "{not json");
    expect(r.status).toBe(400);
    expect(r.body.message).not.toBe("");
  });

  it("A-API-CHANNEL-ACTION empty drops the channel's queued messages", async () => {
    const r = await admin.send("POST", "/api/topics/orders/audit", { action: "empty" });
    expect(r.status).toBe(200);
    const s = await nsqdStats(cluster.nodes[0]!, "&topic=orders&channel=audit");
    expect(s.topics[0].channels[0].depth).toBe(0);
  });

  it("A-API-CREATE creates a topic and channel in lookupd; it then shows as inactive", async () => {
    let r = await admin.send("POST", "/api/topics", { topic: "fresh", channel: "first" });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ message: "" });
    r = await admin.get("/api/topics?inactive=true");
    expect(r.status).toBe(200);
    expect(r.body.topics).toEqual({ fresh: ["first"] });
    expect((await admin.get("/api/topics")).body.topics).toContain("fresh");
  });

  it("A-API-CREATE creates a channel on the nsqd that have the topic", async () => {
    const r = await admin.send("POST", "/api/topics", { topic: "events", channel: "late" });
    expect(r.status).toBe(200);
    const s = await nsqdStats(cluster.nodes[1]!, "&topic=events");
    expect(s.topics[0].channels.map((c: any) => c.channel_name)).toEqual(["late"]);
  });

  it("A-API-CREATE validates names and the JSON body", async () => {
    expect((await admin.send("POST", "/api/topics", { topic: "bad topic" })).body).toEqual({ message: "INVALID_TOPIC" });
    expect((await admin.send("POST", "/api/topics", { topic: "ok", channel: "bad/chan" })).body).toEqual({ message: "INVALID_CHANNEL" });
    const r = await admin.send("POST", "/api/topics", "{");
    expect(r.status).toBe(400);
    expect(r.body.message.length).toBeGreaterThan(0);
  });

  it("A-API-CHANNEL-DELETE removes the channel from nsqd and lookupd", async () => {
    const r = await admin.send("DELETE", "/api/topics/orders/audit");
    expect(r.status).toBe(200);
    const s = await nsqdStats(cluster.nodes[0]!, "&topic=orders");
    expect(s.topics[0].channels.map((c: any) => c.channel_name)).toEqual(["billing"]);
  });

  it("A-API-TOMBSTONE tombstones a producer in lookupd and deletes the topic there", async () => {
    const node = cluster.nodes[1]!;
    const r = await admin.send("DELETE", `/api/nodes/${node}`, { topic: "events" });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ message: "" });
    expect((await nsqdStats(node, "&topic=events")).topics).toBeNull();
    expect((await admin.send("DELETE", `/api/nodes/${node}`, "nope")).body).toEqual({ message: "INVALID_BODY" });
    expect((await admin.send("DELETE", `/api/nodes/${node}`, { topic: "" })).body).toEqual({ message: "INVALID_TOPIC" });
  });

  it("A-API-TOPIC-DELETE deletes the topic everywhere", async () => {
    const r = await admin.send("DELETE", "/api/topics/fresh");
    expect(r.status).toBe(200);
    expect((await admin.get("/api/topics")).body.topics).not.toContain("fresh");
  });
});

describe("nsqadmin access control and notifications", () => {
  it("A-BEH-ACL: non-admins get 403 FORBIDDEN for actions, reads stay open", async () => {
    await using restricted = await cluster.admin({ admin_users: ["alice"] });
    let r = await restricted.send("POST", "/api/topics/orders/billing", { action: "pause" });
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ message: "FORBIDDEN" });
    r = await restricted.send("DELETE", "/api/topics/orders", undefined, { "X-Forwarded-User": "mallory" });
    expect(r.status).toBe(403);
    expect((await restricted.get("/api/topics")).status).toBe(200);
    r = await restricted.send("POST", "/api/topics/orders/billing", { action: "unpause" }, { "X-Forwarded-User": "alice" });
    expect(r.status).toBe(200);
    const page = await restricted.get("/");
    expect(page.text).toContain("var IS_ADMIN = false;");
    expect((await restricted.get("/", { "X-Forwarded-User": "alice" })).text).toContain("var IS_ADMIN = true;");
  });

  it("A-BEH-NOTIFY posts each admin action as JSON to the endpoint", async () => {
    const received: any[] = [];
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        received.push({ type: req.headers["content-type"], event: JSON.parse(body) });
        res.end("ok");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      await using notifying = await cluster.admin({ notification_http_endpoint: `http://127.0.0.1:${port}/events` });
      const auth = `Basic ${Buffer.from("bob:secret").toString("base64")}`;
      const r = await notifying.send("POST", "/api/topics/orders/billing", { action: "pause" }, { Authorization: auth, "User-Agent": "tester/1" });
      expect(r.status).toBe(200);
      await notifying.send("POST", "/api/topics/orders/billing", { action: "unpause" });
      await notifying.admin.notifier.idle();
      expect(received).toHaveLength(2);
      expect(received[0].type).toBe("application/json");
      const e = received[0].event;
      expect(Object.keys(e)).toEqual(["action", "topic", "channel", "timestamp", "user", "remote_ip", "user_agent", "url", "via"]);
      expect(e).toMatchObject({ action: "pause_channel", topic: "orders", channel: "billing", user: "bob", user_agent: "tester/1" });
      expect(e.url).toBe(`${notifying.url}/api/topics/orders/billing`);
      expect(e.remote_ip).toMatch(/^(127\.0\.0\.1|::ffff:127\.0\.0\.1|\[::ffff:127\.0\.0\.1\]):\d+$/);
      expect(Math.abs(e.timestamp - Date.now() / 1000)).toBeLessThan(60);
      expect(received[1].event.action).toBe("unpause_channel");
      expect(received[1].event.user).toBeUndefined();
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe("nsqadmin upstream failures", () => {
  // A port nothing listens on: bind one, then close it.
  async function deadAddress(): Promise<string> {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const port = (s.address() as net.AddressInfo).port;
    await new Promise((r) => s.close(r));
    return `127.0.0.1:${port}`;
  }

  it("direct mode: one dead nsqd gives data plus a WARNING, all dead gives 502", async () => {
    const dead = await deadAddress();
    await using partial = await cluster.admin({ nsqd_http_addresses: [...cluster.nodes, dead], nsqlookupd_http_addresses: [] });
    let r = await partial.get("/api/topics");
    expect(r.status).toBe(200);
    expect(r.body.topics).toContain("orders");
    expect(r.body.message).toMatch(/^WARNING: Get "http:\/\/127\.0\.0\.1:\d+\/stats\?format=json": /);
    r = await partial.get("/api/nodes");
    expect(r.status).toBe(200);
    expect(r.body.nodes).toHaveLength(2);
    expect(r.body.message).toMatch(/^WARNING: /);
    r = await partial.get("/api/topics/orders");
    expect(r.status).toBe(200);
    expect(r.body.nodes).toHaveLength(2);
    expect(r.body.message).toMatch(/^WARNING: /);

    await using down = await cluster.admin({ nsqd_http_addresses: [dead], nsqlookupd_http_addresses: [] });
    r = await down.get("/api/topics");
    expect(r.status).toBe(502);
    expect(r.body.message).toMatch(/^UPSTREAM_ERROR: failed to query any nsqd: Get "http:\/\/127\.0\.0\.1:\d+\/stats\?format=json": /);
    expect((await down.get("/api/nodes")).status).toBe(502);
    expect((await down.get("/api/counter")).status).toBe(502);
  });

  it("lookupd mode: one dead lookupd gives a WARNING, all dead gives 502", async () => {
    const dead = await deadAddress();
    await using partial = await cluster.admin({ nsqlookupd_http_addresses: [cluster.lookupdHttp, dead] });
    let r = await partial.get("/api/nodes");
    expect(r.status).toBe(200);
    expect(r.body.nodes).toHaveLength(2);
    expect(r.body.message).toMatch(/^WARNING: Get "http:\/\/127\.0\.0\.1:\d+\/nodes": /);
    await using down = await cluster.admin({ nsqlookupd_http_addresses: [dead] });
    r = await down.get("/api/topics");
    expect(r.status).toBe(502);
    expect(r.body.message).toMatch(/^UPSTREAM_ERROR: failed to query any nsqlookupd: /);
    r = await down.send("POST", "/api/topics/orders", { action: "pause" });
    expect(r.status).toBe(502);
  });

  it("direct mode: A-API-TOPIC, A-API-CHANNEL and A-API-NODE work without lookupd", async () => {
    await using direct = await cluster.admin({ nsqd_http_addresses: cluster.nodes, nsqlookupd_http_addresses: [] });
    const t = await direct.get("/api/topics/orders");
    expect(t.status).toBe(200);
    expect(t.body.nodes.map((n: any) => n.node).sort()).toEqual([...cluster.nodes].sort());
    expect((await direct.get("/api/topics/orders/billing")).body.clients).toHaveLength(1);
    expect((await direct.get(`/api/nodes/${cluster.nodes[0]}`)).body.total_clients).toBe(1);
    expect((await direct.get("/api/topics?inactive=true")).body).toEqual({ topics: {}, message: "" });
    // Creating a channel needs lookupd: 502 in direct mode.
    expect((await direct.send("POST", "/api/topics", { topic: "orders", channel: "x" })).status).toBe(502);
  });
});

describe("nsqadmin /config, base path, assets and history", () => {
  it("A-HTTP-CONFIG reads and swaps options from allowed addresses only", async () => {
    await using a = await cluster.admin();
    let r = await a.get("/config/nsqlookupd_http_addresses");
    expect(r.body).toEqual([cluster.lookupdHttp]);
    expect((await a.get("/config/http_client_request_timeout")).body).toBe(5_000_000_000);
    expect((await a.get("/config/log_level")).body).toBe(2);
    expect((await a.get("/config/acl_http_header")).text).toBe("X-Forwarded-User");
    expect((await a.get("/config/nope")).body).toEqual({ message: "INVALID_OPTION" });
    r = await a.send("PUT", "/config/log_level", "debug");
    expect(r.body).toBe(1);
    r = await a.send("PUT", "/config/nsqlookupd_http_addresses", JSON.stringify([cluster.lookupdHttp, cluster.lookupdHttp]));
    expect(r.body).toEqual([cluster.lookupdHttp, cluster.lookupdHttp]);
    expect((await a.send("PUT", "/config/nsqlookupd_http_addresses", "{bad")).body).toEqual({ message: "INVALID_VALUE" });
    expect((await a.send("PUT", "/config/base_path", "/x")).body).toEqual({ message: "INVALID_OPTION" });
    expect((await a.send("PUT", "/config/log_level", "")).status).toBe(413);

    await using locked = await cluster.admin({ allow_config_from_cidr: "10.0.0.0/8" });
    r = await locked.get("/config/log_level");
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ message: "FORBIDDEN" });
  });

  it("A-FLAG-BASE-PATH mounts every route under the prefix", async () => {
    await using a = await cluster.admin({ base_path: "admin/" });
    expect(a.url.endsWith("/admin")).toBe(true);
    expect((await a.get("/ping")).text).toBe("OK");
    const page = await a.get("/topics/orders");
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.text).toContain('src="/admin/static/main.js"');
    expect(page.text).toContain('var BASE_PATH = "/admin";');
    expect((await fetch(a.url.replace(/\/admin$/, "/ping"))).status).toBe(404);
  });

  it("A-HTTP-INDEX and A-HTTP-STATIC serve the page and embedded assets", async () => {
    for (const p of ["/", "/topics", "/topics/orders", "/topics/orders/billing", "/nodes", `/nodes/${cluster.nodes[0]}`, "/counter", "/lookup"]) {
      const r = await admin.get(p);
      expect(r.status, p).toBe(200);
      expect(r.text).toContain('<script type="module" src="/static/main.js">');
      expect(r.text).toContain(`var NSQLOOKUPD = ["${cluster.lookupdHttp}"];`);
      expect(r.text).toContain('var USER_AGENT = "nsqadmin/v1.3.0";');
    }
    const js = await admin.get("/static/main.js");
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(js.text).toContain("import");
    expect((await admin.get("/static/base.css")).headers.get("content-type")).toBe("text/css; charset=utf-8");
    const missing = await admin.get("/static/nope.js");
    expect(missing.status).toBe(404);
    expect(missing.text).toBe("NOT_FOUND");
    expect((await admin.get("/api/nope")).status).toBe(404);
    expect((await admin.send("PUT", "/api/topics")).status).toBe(405);
  });

  it("history: the sampler records depth and rate per topic and channel", async () => {
    await using a = await cluster.admin({}, { historyIntervalMs: 60_000 });
    await a.admin.history.sample();
    await nsqdPost(cluster.nodes[1]!, "/pub?topic=orders", "four");
    await new Promise((r) => setTimeout(r, 50));
    await a.admin.history.sample();
    const r = await a.get("/api/history/topics/orders/billing");
    expect(r.status).toBe(200);
    expect(r.body.samples).toHaveLength(2);
    const [s0, s1] = r.body.samples;
    expect(s1.message_count - s0.message_count).toBe(1);
    expect(s1.rate).toBeGreaterThan(0);
    const t = await a.get("/api/history/topics/orders");
    expect(Object.keys(t.body.channels)).toEqual(["billing"]);
    const all = await a.get("/api/history/topics?points=1");
    expect(all.body.topics.orders).toHaveLength(1);
  });
});

describe("nsqadmin graphite support (A-API-GRAPHITE, A-HTTP-RENDER-PROXY)", () => {
  it("computes a rate from graphite and proxies /render with the URL's credentials", async () => {
    const seen: Array<{ url: string; auth: string | undefined }> = [];
    const graphite = http.createServer((req, res) => {
      seen.push({ url: req.url!, auth: req.headers.authorization });
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify([{ target: "t", datapoints: [[120, 1700000000]] }]));
    });
    await new Promise<void>((r) => graphite.listen(0, "127.0.0.1", r));
    const port = (graphite.address() as net.AddressInfo).port;
    try {
      await using a = await cluster.admin({ graphite_url: `http://user:pw@127.0.0.1:${port}`, proxy_graphite: true });
      let r = await a.get("/api/graphite?metric=rate&target=sumSeries(x)");
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ rate: "2.00" });
      const q = new URL(`http://x${seen[0]!.url}`).searchParams;
      expect(q.get("from")).toBe("-120sec");
      expect(q.get("until")).toBe("-60sec");
      expect(q.get("target")).toBe("sumSeries(x)");
      expect((await a.get("/api/graphite?metric=nope&target=x")).body).toEqual({ message: "INVALID_ARG_METRIC" });
      expect((await a.get("/api/graphite?metric=rate")).body).toEqual({ message: "INVALID_ARG_TARGET" });
      r = await a.get("/render?target=abc&format=json");
      expect(r.status).toBe(200);
      expect(r.body[0].target).toBe("t");
      expect(seen.at(-1)!.url).toBe("/render?target=abc&format=json");
      expect(seen.at(-1)!.auth).toBe(`Basic ${Buffer.from("user:pw").toString("base64")}`);
      expect((await admin.get("/render?target=abc")).status).toBe(404);
    } finally {
      await new Promise((r) => graphite.close(r));
    }
  });
});

describe("Admin startup checks (A-FLAG-VALIDATION)", () => {
  it("refuses both or neither address list", async () => {
    await expect(startAdminFor(defaultAdminOptions({ http_address: "127.0.0.1:0" }))).rejects.toThrow("--nsqd-http-address or --lookupd-http-address required");
    await expect(
      startAdminFor(defaultAdminOptions({ http_address: "127.0.0.1:0", nsqd_http_addresses: ["a:1"], nsqlookupd_http_addresses: ["b:2"] })),
    ).rejects.toThrow("use --nsqd-http-address or --lookupd-http-address not both");
  });
});
