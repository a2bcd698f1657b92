// L-HTTP-*, X-HTTP-*: the lookupd HTTP API called directly as a fetch handler:
// exact JSON shapes, status codes, headers, tombstones and inactivity on a
// controlled clock.
import { describe, expect, test } from "vitest";
import { Lookupd } from "../../src/lookupd/lookupd.ts";
import { defaultLookupdOptions } from "../../src/lookupd/options.ts";
import type { PeerInfo } from "../../src/lookupd/registration-db.ts";
import { parseQuery } from "../../src/common/query.ts";
import type { Runtime } from "../../src/runtime/types.ts";
import { silentLogger } from "../../src/common/log.ts";

const runtime = { hostname: () => "lk-host" } as unknown as Runtime;

function fixture() {
  const clock = { now: 1_700_000_000_000 };
  const lookupd = new Lookupd(defaultLookupdOptions({ tombstone_lifetime: 45_000, inactive_producer_timeout: 300_000 }), {
    runtime,
    logger: silentLogger,
    now: () => clock.now,
  });
  const info = { remoteAddress: "127.0.0.1", remotePort: 5555 };
  const call = (method: string, path: string) => Promise.resolve(lookupd.fetch(new Request(`http://lk${path}`, { method }), info));
  const json = async (method: string, path: string) => {
    const res = await call(method, path);
    return { status: res.status, body: await res.json(), headers: res.headers };
  };
  const addPeer = (id: string, broadcast: string, httpPort: number, topics: [string, string?][]): PeerInfo => {
    const peer: PeerInfo = {
      id,
      remote_address: id,
      hostname: `host-${id}`,
      broadcast_address: broadcast,
      tcp_port: httpPort - 1,
      http_port: httpPort,
      version: "1.3.0",
      topology_zone: "",
      topology_region: "",
      lastUpdate: clock.now,
    };
    lookupd.db.addProducer({ category: "client", key: "", subkey: "" }, peer);
    for (const [t, c] of topics) {
      if (c !== undefined) lookupd.db.addProducer({ category: "channel", key: t, subkey: c }, peer);
      lookupd.db.addProducer({ category: "topic", key: t, subkey: "" }, peer);
    }
    return peer;
  };
  return { lookupd, clock, call, json, addPeer };
}

const peerShape = (id: string, broadcast: string, httpPort: number) => ({
  remote_address: id,
  hostname: `host-${id}`,
  broadcast_address: broadcast,
  tcp_port: httpPort - 1,
  http_port: httpPort,
  version: "1.3.0",
  topology_zone: "",
  topology_region: "",
});

describe("lookupd HTTP API", () => {
  test("L-HTTP-PING is plain OK without X-NSQ-Content-Type (X-HTTP-PLAIN)", async () => {
    const res = await fixture().call("GET", "/ping");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("OK");
    expect(res.headers.get("x-nsq-content-type")).toBeNull();
  });

  test("L-HTTP-INFO and the X-HTTP-V1 headers", async () => {
    const res = await fixture().call("GET", "/info");
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(res.headers.get("x-nsq-content-type")).toBe("nsq; version=1.0");
    expect(await res.text()).toBe('{"version":"1.3.0"}');
  });

  test("L-HTTP-LOOKUP returns channels and active producers with exact keys", async () => {
    const f = fixture();
    f.addPeer("10.0.0.1:1000", "n1", 4151, [
      ["t", "c1"],
      ["t", "c2"],
    ]);
    f.addPeer("10.0.0.2:1000", "n2", 5151, [["t"]]);
    const res = await f.call("GET", "/lookup?topic=t");
    expect(await res.text()).toBe(
      JSON.stringify({ channels: ["c1", "c2"], producers: [peerShape("10.0.0.1:1000", "n1", 4151), peerShape("10.0.0.2:1000", "n2", 5151)] }),
    );
  });

  test("L-HTTP-LOOKUP errors: missing topic 400, unknown topic 404, bad query 400", async () => {
    const f = fixture();
    expect(await f.json("GET", "/lookup")).toMatchObject({ status: 400, body: { message: "MISSING_ARG_TOPIC" } });
    expect(await f.json("GET", "/lookup?topic=nope")).toMatchObject({ status: 404, body: { message: "TOPIC_NOT_FOUND" } });
    expect(await f.json("GET", "/lookup?topic=%zz")).toMatchObject({ status: 400, body: { message: "INVALID_REQUEST" } });
    expect(await f.json("GET", "/lookup?topic=a;b")).toMatchObject({ status: 400, body: { message: "INVALID_REQUEST" } });
  });

  test("L-HTTP-LOOKUP of a topic key without producers is 200 with empty lists (Q)", async () => {
    const f = fixture();
    expect(await f.call("POST", "/topic/create?topic=t").then((r) => r.status)).toBe(200);
    expect(await f.call("GET", "/lookup?topic=t").then((r) => r.text())).toBe('{"channels":[],"producers":[]}');
  });

  test("L-BEH-TOMBSTONE hides the producer from /lookup for the lifetime; /nodes flags it", async () => {
    const f = fixture();
    f.addPeer("10.0.0.1:1000", "n1", 4151, [["t"], ["u"]]);
    f.addPeer("10.0.0.2:1000", "n2", 5151, [["t"]]);
    const res = await f.call("POST", "/topic/tombstone?topic=t&node=n1:4151");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
    expect(res.headers.get("content-type")).toBeNull();
    expect((await f.json("GET", "/lookup?topic=t")).body.producers.map((p: { broadcast_address: string }) => p.broadcast_address)).toEqual(["n2"]);
    expect((await f.json("GET", "/lookup?topic=u")).body.producers).toHaveLength(1);
    const nodes = (await f.json("GET", "/nodes")).body.producers;
    expect(nodes[0]).toEqual({ ...peerShape("10.0.0.1:1000", "n1", 4151), tombstones: [true, false], topics: ["t", "u"] });
    expect(nodes[1]).toEqual({ ...peerShape("10.0.0.2:1000", "n2", 5151), tombstones: [false], topics: ["t"] });
    f.clock.now += 45_000;
    expect((await f.json("GET", "/lookup?topic=t")).body.producers).toHaveLength(2);
    expect((await f.json("GET", "/nodes")).body.producers[0].tombstones).toEqual([false, false]);
  });

  test("L-HTTP-TOMBSTONE parameter errors, and 200 when nothing matches", async () => {
    const f = fixture();
    expect(await f.json("POST", "/topic/tombstone?node=x:1")).toMatchObject({ status: 400, body: { message: "MISSING_ARG_TOPIC" } });
    expect(await f.json("POST", "/topic/tombstone?topic=t")).toMatchObject({ status: 400, body: { message: "MISSING_ARG_NODE" } });
    expect((await f.call("POST", "/topic/tombstone?topic=t&node=x:1")).status).toBe(200);
  });

  test("L-BEH-INACTIVE hides producers from /lookup and /nodes after the timeout", async () => {
    const f = fixture();
    const p = f.addPeer("10.0.0.1:1000", "n1", 4151, [["t"]]);
    f.clock.now += 300_001;
    expect((await f.json("GET", "/lookup?topic=t")).body).toEqual({ channels: [], producers: [] });
    expect((await f.json("GET", "/nodes")).body).toEqual({ producers: [] });
    p.lastUpdate = f.clock.now;
    expect((await f.json("GET", "/nodes")).body.producers).toHaveLength(1);
  });

  test("L-HTTP-TOPICS and L-HTTP-CHANNELS", async () => {
    const f = fixture();
    expect(await f.call("GET", "/topics").then((r) => r.text())).toBe('{"topics":[]}');
    f.addPeer("10.0.0.1:1000", "n1", 4151, [["t", "c"], ["u"]]);
    expect((await f.json("GET", "/topics")).body).toEqual({ topics: ["t", "u"] });
    expect((await f.json("GET", "/channels?topic=t")).body).toEqual({ channels: ["c"] });
    expect((await f.json("GET", "/channels?topic=none")).body).toEqual({ channels: [] });
    expect(await f.json("GET", "/channels")).toMatchObject({ status: 400, body: { message: "MISSING_ARG_TOPIC" } });
  });

  test("L-HTTP-TOPIC-CREATE / L-HTTP-CHANNEL-CREATE create keys; invalid names are refused", async () => {
    const f = fixture();
    expect(await f.json("POST", "/topic/create?topic=bad!")).toMatchObject({ status: 400, body: { message: "INVALID_ARG_TOPIC" } });
    expect(await f.json("POST", "/topic/create")).toMatchObject({ status: 400, body: { message: "MISSING_ARG_TOPIC" } });
    expect(await f.json("POST", "/channel/create?topic=t")).toMatchObject({ status: 400, body: { message: "MISSING_ARG_CHANNEL" } });
    expect(await f.json("POST", "/channel/create?topic=t&channel=b@d")).toMatchObject({ status: 400, body: { message: "INVALID_ARG_CHANNEL" } });
    expect(await f.json("POST", "/channel/create?channel=c")).toMatchObject({ status: 400, body: { message: "MISSING_ARG_TOPIC" } });
    expect((await f.call("POST", "/channel/create?topic=t&channel=c")).status).toBe(200);
    expect((await f.json("GET", "/topics")).body).toEqual({ topics: ["t"] });
    expect((await f.json("GET", "/channels?topic=t")).body).toEqual({ channels: ["c"] });
  });

  test("L-HTTP-CHANNEL-DELETE removes the key; 404 CHANNEL_NOT_FOUND when absent", async () => {
    const f = fixture();
    f.addPeer("10.0.0.1:1000", "n1", 4151, [["t", "c"]]);
    expect((await f.call("POST", "/channel/delete?topic=t&channel=c")).status).toBe(200);
    expect((await f.json("GET", "/lookup?topic=t")).body.channels).toEqual([]);
    expect(await f.json("POST", "/channel/delete?topic=t&channel=c")).toMatchObject({ status: 404, body: { message: "CHANNEL_NOT_FOUND" } });
  });

  test("L-HTTP-TOPIC-DELETE drops the topic and its channel keys, 200 even when absent", async () => {
    const f = fixture();
    f.addPeer("10.0.0.1:1000", "n1", 4151, [["t", "c"], ["u"]]);
    expect((await f.call("POST", "/topic/delete?topic=t")).status).toBe(200);
    expect((await f.json("GET", "/topics")).body).toEqual({ topics: ["u"] });
    expect((await f.json("GET", "/channels?topic=t")).body).toEqual({ channels: [] });
    expect((await f.json("GET", "/lookup?topic=t")).status).toBe(404);
    expect((await f.json("GET", "/nodes")).body.producers[0].topics).toEqual(["u"]);
    expect((await f.call("POST", "/topic/delete?topic=t")).status).toBe(200);
  });

  test("L-HTTP-DEBUG groups producers per key with exact nanosecond integers", async () => {
    const f = fixture();
    f.addPeer("10.0.0.1:1000", "n1", 4151, [["t", "c"]]);
    f.lookupd.db.addRegistration({ category: "topic", key: "empty", subkey: "" });
    await f.call("POST", "/topic/tombstone?topic=t&node=n1:4151");
    const text = await (await f.call("GET", "/debug")).text();
    expect(text).toContain('"last_update":1700000000000000000,');
    expect(text).toContain('"tombstoned_at":-6795364578871345152,');
    expect(text).toContain('"tombstoned":true,"tombstoned_at":1700000000000000000,');
    const body = JSON.parse(text);
    expect(Object.keys(body)).toEqual(["channel:t:c", "client::", "topic:t:"]);
    expect(Object.keys(body["client::"][0])).toEqual([
      "broadcast_address",
      "hostname",
      "http_port",
      "id",
      "last_update",
      "tcp_port",
      "tombstoned",
      "tombstoned_at",
      "topology_region",
      "topology_zone",
      "version",
    ]);
  });

  test("X-HTTP-ERRORS: 404 NOT_FOUND, 405 METHOD_NOT_ALLOWED, trailing-slash redirects, removed pre-1.0 routes", async () => {
    const f = fixture();
    expect(await f.json("GET", "/nope")).toMatchObject({ status: 404, body: { message: "NOT_FOUND" } });
    const r405 = await f.json("GET", "/topic/create?topic=t");
    expect(r405).toMatchObject({ status: 405, body: { message: "METHOD_NOT_ALLOWED" } });
    expect(r405.headers.get("x-nsq-content-type")).toBe("nsq; version=1.0");
    expect(await f.json("POST", "/lookup?topic=t")).toMatchObject({ status: 405 });
    const redirect = await f.call("GET", "/topics/?x=1");
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get("location")).toBe("/topics?x=1");
    // 307 as the original (httprouter v1.3.0), not 308
    expect((await f.call("POST", "/topic/create/?topic=t")).status).toBe(307);
    for (const old of ["/create_topic", "/delete_topic", "/create_channel", "/delete_channel", "/tombstone_topic_producer"]) {
      expect((await f.call("GET", `${old}?topic=t`)).status).toBe(404);
    }
  });

  test("X-HTTP-PARAMS: an unencoded # in the target belongs to the name, on every route that takes one", async () => {
    const f = fixture();
    expect((await f.call("POST", "/topic/create?topic=e#ephemeral")).status).toBe(200);
    expect((await f.call("POST", "/channel/create?topic=e#ephemeral&channel=c#ephemeral")).status).toBe(200);
    expect((await f.json("GET", "/topics")).body).toEqual({ topics: ["e#ephemeral"] });
    expect((await f.json("GET", "/channels?topic=e#ephemeral")).body).toEqual({ channels: ["c#ephemeral"] });
    expect((await f.json("GET", "/lookup?topic=e#ephemeral")).body).toEqual({ channels: ["c#ephemeral"], producers: [] });
    expect((await f.call("POST", "/topic/tombstone?topic=e#ephemeral&node=n:1")).status).toBe(200);
    expect((await f.call("POST", "/channel/delete?topic=e#ephemeral&channel=c#ephemeral")).status).toBe(200);
    expect((await f.json("GET", "/channels?topic=e#ephemeral")).body).toEqual({ channels: [] });
    expect((await f.call("POST", "/topic/delete?topic=e#ephemeral")).status).toBe(200);
    expect((await f.json("GET", "/topics")).body).toEqual({ topics: [] });
    // Still validated as a whole; a # before the ? is part of the path.
    expect(await f.json("POST", "/topic/create?topic=bad#x")).toMatchObject({ status: 400, body: { message: "INVALID_ARG_TOPIC" } });
    expect(await f.json("POST", "/topic/create#x?topic=a")).toMatchObject({ status: 404, body: { message: "NOT_FOUND" } });
  });

  test("X-HTTP-PARAMS: the first value wins; + is a space", async () => {
    const f = fixture();
    await f.call("POST", "/channel/create?topic=a&topic=b&channel=c");
    expect((await f.json("GET", "/topics")).body).toEqual({ topics: ["a"] });
    expect(parseQuery("a=1+2&a=3&b")).toEqual(
      new Map([
        ["a", ["1 2", "3"]],
        ["b", [""]],
      ]),
    );
    expect(parseQuery("a=%4")).toBeNull();
  });
});
