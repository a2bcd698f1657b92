// D-BEH-LOOKUP-*, D-BEH-PRECREATE, L-BEH-*: an in-process nsqd registering
// with in-process lookupds over real sockets on 127.0.0.1.
import { afterEach, describe, expect, test } from "vitest";
import { startTestNsqd, type TestNsqd } from "../nsqd/helpers.ts";
import { startTestLookupd, testRuntime, waitFor, type TestLookupd } from "./helpers.ts";
import { LookupPeers, type LookupPeersHost } from "../../src/nsqd/lookup-peer.ts";
import { silentLogger } from "../../src/common/log.ts";

const body = (s: string) => new TextEncoder().encode(s);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function lookupd(overrides: Parameters<typeof startTestLookupd>[0] = {}): Promise<TestLookupd> {
  const l = await startTestLookupd(overrides);
  cleanups.push(() => l.close());
  return l;
}

async function nsqd(lookupds: TestLookupd[]): Promise<TestNsqd> {
  const n = await startTestNsqd(
    { broadcast_address: "127.0.0.1", http_address: "127.0.0.1:0", nsqlookupd_tcp_addresses: lookupds.map((l) => l.tcpAddress) },
    { runtime: testRuntime() },
  );
  cleanups.push(() => n.close());
  return n;
}

/** The broadcast addresses of the producers /lookup returns for a topic. */
async function producersOf(l: TestLookupd, topic: string): Promise<string[]> {
  const r = await l.api("GET", `/lookup?topic=${encodeURIComponent(topic)}`);
  if (r.status !== 200) return [];
  return r.body.producers.map((p: { broadcast_address: string; tcp_port: number }) => `${p.broadcast_address}:${p.tcp_port}`);
}

describe("nsqd registers with lookupd", () => {
  test("D-BEH-LOOKUP-CONNECT / NOTIFY: topics and channels appear in /lookup and /nodes with the nsqd's identity", async () => {
    const l = await lookupd();
    const n = await nsqd([l]);
    const me = `127.0.0.1:${n.tcpPort}`;
    const topic = n.nsqd.getTopic("orders");
    topic.getChannel("billing");
    await waitFor(async () => (await producersOf(l, "orders")).includes(me), 5000, "producer in /lookup");
    const lookup = await l.api("GET", "/lookup?topic=orders");
    expect(lookup.body.channels).toEqual(["billing"]);
    expect(lookup.body.producers[0]).toMatchObject({
      broadcast_address: "127.0.0.1",
      tcp_port: n.tcpPort,
      http_port: n.httpPort,
      version: "1.3.0",
      topology_zone: "",
      topology_region: "",
    });
    expect(lookup.body.producers[0].remote_address).toMatch(/^127\.0\.0\.1:\d+$/);
    const nodes = await l.api("GET", "/nodes");
    expect(nodes.body.producers).toHaveLength(1);
    expect(nodes.body.producers[0].topics).toEqual(["orders"]);
    expect(nodes.body.producers[0].tombstones).toEqual([false]);
  });

  test("D-BEH-LOOKUP-NOTIFY: deleting an ephemeral channel and a topic unregisters them", async () => {
    const l = await lookupd();
    const n = await nsqd([l]);
    const me = `127.0.0.1:${n.tcpPort}`;
    const topic = n.nsqd.getTopic("t");
    topic.getChannel("keep");
    topic.getChannel("tmp#ephemeral");
    await waitFor(async () => (await l.api("GET", "/channels?topic=t")).body.channels.length === 2, 5000, "two channels");
    topic.deleteChannel("tmp#ephemeral");
    await waitFor(async () => (await l.api("GET", "/channels?topic=t")).body.channels.join() === "keep", 5000, "ephemeral channel key dropped");
    n.nsqd.deleteTopic("t");
    await waitFor(async () => !(await producersOf(l, "t")).includes(me), 5000, "producer gone");
    // L-BEH-DB (Q): the topic key stays, with no producers.
    expect((await l.api("GET", "/lookup?topic=t")).status).toBe(200);
    expect((await l.api("GET", "/topics")).body.topics).toEqual(["t"]);
  });

  test("L-BEH-TOMBSTONE hides the nsqd for --tombstone-lifetime, then it comes back", async () => {
    const l = await lookupd({ tombstone_lifetime: 400 });
    const n = await nsqd([l]);
    const me = `127.0.0.1:${n.tcpPort}`;
    n.nsqd.getTopic("t");
    await waitFor(async () => (await producersOf(l, "t")).includes(me));
    const r = await l.api("POST", `/topic/tombstone?topic=t&node=127.0.0.1:${n.httpPort}`);
    expect(r.status).toBe(200);
    const at = Date.now();
    expect(await producersOf(l, "t")).toEqual([]);
    expect((await l.api("GET", "/nodes")).body.producers[0].tombstones).toEqual([true]);
    await waitFor(async () => (await producersOf(l, "t")).includes(me), 3000, "tombstone expiry");
    expect(Date.now() - at).toBeGreaterThanOrEqual(350);
  });

  test("D-BEH-LOOKUP-RECONNECT: after lookupd restarts, the next notification reconnects and re-registers everything", async () => {
    const first = await startTestLookupd();
    const { tcpPort, httpPort } = first;
    const n = await nsqd([first]);
    const me = `127.0.0.1:${n.tcpPort}`;
    n.nsqd.getTopic("a").getChannel("c");
    await waitFor(async () => (await producersOf(first, "a")).includes(me));
    await first.close();
    await waitFor(() => n.nsqd.lookupPeers!.peers[0]!.connected === false, 3000, "peer noticed the close");
    const second = await lookupd({ tcp_address: `127.0.0.1:${tcpPort}`, http_address: `127.0.0.1:${httpPort}` });
    expect((await second.api("GET", "/topics")).body.topics).toEqual([]);
    n.nsqd.getTopic("b");
    await waitFor(async () => (await producersOf(second, "b")).includes(me), 5000, "re-registration");
    expect(await producersOf(second, "a")).toEqual([me]);
    expect((await second.api("GET", "/channels?topic=a")).body.channels).toEqual(["c"]);
    expect(n.nsqd.lookupPeers!.peers[0]!.connects).toBe(2);
  });

  test("D-BEH-PRECREATE: channels created in lookupd exist on nsqd when the topic is first published, and get the first message", async () => {
    const l1 = await lookupd();
    const l2 = await lookupd();
    expect((await l1.api("POST", "/channel/create?topic=events&channel=archive")).status).toBe(200);
    expect((await l2.api("POST", "/channel/create?topic=events&channel=audit")).status).toBe(200);
    expect((await l2.api("POST", "/channel/create?topic=events&channel=live%23ephemeral")).status).toBe(200);
    const n = await nsqd([l1, l2]);
    // The IDENTIFY replies carry the lookupds' HTTP addresses.
    await waitFor(() => n.nsqd.lookupPeers!.httpAddresses().length === 2, 5000, "lookupd identities");
    const topic = n.nsqd.getTopic("events");
    topic.publish(body("first"));
    await waitFor(() => topic.channels.size === 2, 5000, "pre-created channels");
    expect([...topic.channels.keys()].sort()).toEqual(["archive", "audit"]);
    for (const c of topic.channels.values()) expect(c.depth()).toBe(1);
    expect(topic.depth()).toBe(0);
    // The new channels were registered back with the lookupds.
    await waitFor(async () => (await l1.api("GET", "/channels?topic=events")).body.channels.length === 2, 5000, "channels registered");
  });

  test("D-BEH-PRECREATE failure is not fatal: the topic works without pre-created channels", async () => {
    const l = await lookupd();
    const n = await nsqd([l]);
    await waitFor(() => n.nsqd.lookupPeers!.httpAddresses().length === 1);
    // Point the learned HTTP address at a closed port.
    n.nsqd.lookupPeers!.peers[0]!.info.http_port = 1;
    const topic = n.nsqd.getTopic("t");
    topic.publish(body("x"));
    await new Promise((r) => setTimeout(r, 100));
    topic.getChannel("c");
    expect(topic.channels.get("c")!.depth()).toBe(1);
  });
});

describe("LookupPeers on its own", () => {
  function host(overrides: Partial<LookupPeersHost> = {}, regs: Array<[string, string | null]> = [["t", null]]): LookupPeersHost {
    return {
      runtime: testRuntime(),
      logger: silentLogger,
      info: () => ({
        version: "1.3.0",
        tcp_port: 4150,
        http_port: 4151,
        hostname: "h",
        broadcast_address: "peer.example",
        topology_zone: "",
        topology_region: "",
      }),
      registrations: () => regs,
      ...overrides,
    };
  }

  test("D-BEH-LOOKUP-PING keeps last_update fresh and reconnects a dropped peer", async () => {
    const l = await lookupd({ inactive_producer_timeout: 300 });
    const peers = new LookupPeers([l.tcpAddress], host({ pingIntervalMs: 50 }));
    cleanups.push(() => peers.close());
    peers.start();
    await waitFor(async () => (await producersOf(l, "t")).length === 1);
    // Longer than the inactivity timeout: still listed thanks to the pings.
    await new Promise((r) => setTimeout(r, 500));
    expect(await producersOf(l, "t")).toEqual(["peer.example:4150"]);
    // Drop the connection from the lookupd side: the next PING reconnects.
    await l.close();
    const again = await lookupd({ tcp_address: l.tcpAddress, http_address: `127.0.0.1:${l.httpPort}` });
    await waitFor(async () => (await producersOf(again, "t")).length === 1, 3000, "re-registration after ping");
    expect(peers.peers[0]!.connects).toBe(2);
  });

  test("D-BEH-LOOKUP-RECONFIG: setAddresses closes removed peers and connects new ones", async () => {
    const a = await lookupd();
    const b = await lookupd();
    const peers = new LookupPeers([a.tcpAddress], host());
    cleanups.push(() => peers.close());
    peers.start();
    await waitFor(async () => (await a.api("GET", "/nodes")).body.producers.length === 1);
    peers.setAddresses([b.tcpAddress]);
    await waitFor(async () => (await b.api("GET", "/nodes")).body.producers.length === 1, 3000, "new peer");
    await waitFor(async () => (await a.api("GET", "/nodes")).body.producers.length === 0, 3000, "old peer closed");
    expect(peers.peers.map((p) => p.address)).toEqual([b.tcpAddress]);
  });

  test("an IDENTIFY the lookupd refuses closes the peer; it is retried on the next command", async () => {
    const l = await lookupd();
    let version = "";
    const peers = new LookupPeers(
      [l.tcpAddress],
      host({ info: () => ({ version, tcp_port: 4150, http_port: 4151, hostname: "h", broadcast_address: "b", topology_zone: "", topology_region: "" }) }),
    );
    cleanups.push(() => peers.close());
    peers.start();
    await peers.idle();
    expect(peers.peers[0]!.connected).toBe(false);
    expect((await l.api("GET", "/nodes")).body.producers).toEqual([]);
    version = "1.3.0";
    peers.register("u");
    await peers.idle();
    expect(await producersOf(l, "u")).toEqual(["b:4150"]);
    expect(await producersOf(l, "t")).toEqual(["b:4150"]);
  });

  test("channelsFor unions every lookupd, sorted, without #ephemeral; unreachable ones are skipped", async () => {
    const a = await lookupd();
    const b = await lookupd();
    await a.api("POST", "/channel/create?topic=t&channel=z");
    await a.api("POST", "/channel/create?topic=t&channel=m");
    await b.api("POST", "/channel/create?topic=t&channel=m");
    await b.api("POST", "/channel/create?topic=t&channel=a%23ephemeral");
    const peers = new LookupPeers([a.tcpAddress, b.tcpAddress, "127.0.0.1:1"], host());
    cleanups.push(() => peers.close());
    peers.start();
    await peers.idle();
    expect(peers.httpAddresses()).toEqual([`127.0.0.1:${a.httpPort}`, `127.0.0.1:${b.httpPort}`]);
    expect(await peers.channelsFor("t")).toEqual(["m", "z"]);
    expect(await peers.channelsFor("other")).toEqual([]);
  });
});
