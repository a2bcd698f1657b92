// /stats (SPEC §3.4): the JSON objects and their key order, filters, producers
// and consumers from real TCP connections, the memory mapping, and the exact
// text layout of D-HTTP-STATS-TEXT.
import { describe, expect, test } from "vitest";
import {
  clientLine,
  clientStats,
  collectStats,
  formatRfc3339,
  formatStatsText,
  goFixed1,
  memoryStats,
  nanosecondsToHuman,
  type ClientStatsSource,
  type Stats,
} from "../../src/nsqd/stats.ts";
import type { ClientStats } from "../../src/protocol/stats-json.ts";
import { createHttpHandler } from "../../src/nsqd/http.ts";
import { encodeIdentify, encodePub, encodeRdy, encodeSub } from "../../src/protocol/frames.ts";
import { RawConnection, waitFor } from "../integration/harness.ts";
import { startTestNsqd } from "./helpers.ts";

const enc = (s: string) => new TextEncoder().encode(s);

const CLIENT_KEYS = [
  "client_id",
  "hostname",
  "version",
  "remote_address",
  "state",
  "ready_count",
  "in_flight_count",
  "message_count",
  "finish_count",
  "requeue_count",
  "connect_ts",
  "sample_rate",
  "deflate",
  "snappy",
  "user_agent",
  "topology_zone",
  "topology_region",
  "tls",
  "tls_cipher_suite",
  "tls_version",
  "tls_negotiated_protocol",
  "tls_negotiated_protocol_is_mutual",
];

function source(overrides: Partial<ClientStatsSource> = {}): ClientStatsSource {
  return {
    clientId: "cid",
    hostname: "host.local",
    userAgent: "ua/1.0",
    remoteAddress: "10.0.0.1:51234",
    state: 3,
    readyCount: 5,
    inFlightCount: 2,
    messageCount: 9,
    finishCount: 7,
    requeueCount: 1,
    connectTs: 1_700_000_000,
    sampleRate: 0,
    deflate: false,
    snappy: true,
    topologyZone: "",
    topologyRegion: "",
    pubCounts: new Map(),
    ...overrides,
  };
}

describe("client objects (D-HTTP-STATS-CLIENT)", () => {
  test("keys in the original's order; empty optional keys are left out", () => {
    const s = clientStats(source(), "");
    expect(Object.keys(s)).toEqual(CLIENT_KEYS);
    expect(s).toMatchObject({ version: "V2", state: 3, ready_count: 5, snappy: true, tls: false, tls_version: "", tls_negotiated_protocol_is_mutual: false });
  });

  test("auth, topology counters, pub_counts and TLS appear in their places when set", () => {
    const s = clientStats(
      source({
        authed: true,
        authIdentity: "me",
        authIdentityUrl: "http://id",
        zoneLocalMsgCount: 4,
        globalMsgCount: 1,
        pubCounts: new Map([["t", 3]]),
        tls: { version: "TLSv1.3", cipher: "TLS_AES_128_GCM_SHA256", authorized: false, peerCommonName: "", peerCertificate: false, alpnProtocol: "" },
      }),
      "",
    );
    expect(Object.keys(s)).toEqual([
      "client_id",
      "hostname",
      "version",
      "remote_address",
      "state",
      "ready_count",
      "in_flight_count",
      "message_count",
      "zone_local_msg_count",
      "global_msg_count",
      "finish_count",
      "requeue_count",
      "connect_ts",
      "sample_rate",
      "deflate",
      "snappy",
      "user_agent",
      "authed",
      "auth_identity",
      "auth_identity_url",
      "topology_zone",
      "topology_region",
      "pub_counts",
      "tls",
      "tls_cipher_suite",
      "tls_version",
      "tls_negotiated_protocol",
      "tls_negotiated_protocol_is_mutual",
    ]);
    expect(s).toMatchObject({
      pub_counts: [{ topic: "t", count: 3 }],
      tls: true,
      tls_version: "TLS1.3",
      tls_cipher_suite: "TLS_AES_128_GCM_SHA256",
      tls_negotiated_protocol_is_mutual: true,
    });
    expect(
      clientStats(source({ tls: { version: "TLSv1", cipher: "x", authorized: false, peerCommonName: "", peerCertificate: false, alpnProtocol: "" } }), "")
        .tls_version,
    ).toBe("TLS1.0");
  });

  test("pub_counts holds at most one entry: the filtered topic, else the first (Q)", () => {
    const c = source({
      pubCounts: new Map([
        ["a", 1],
        ["b", 2],
      ]),
    });
    expect(clientStats(c, "").pub_counts).toEqual([{ topic: "a", count: 1 }]);
    expect(clientStats(c, "b").pub_counts).toEqual([{ topic: "b", count: 2 }]);
    expect("pub_counts" in clientStats(c, "zzz")).toBe(false);
  });
});

describe("text helpers", () => {
  test("%0.1f rounds exact ties to even, like Go", () => {
    expect(goFixed1(0.25)).toBe("0.2");
    expect(goFixed1(0.75)).toBe("0.8");
    expect(goFixed1(2.25)).toBe("2.2");
    expect(goFixed1(1.35)).toBe("1.4");
    expect(goFixed1(12.04)).toBe("12.0");
    expect(goFixed1(0)).toBe("0.0");
  });

  test("NanoSecondToHuman picks the unit with strict thresholds", () => {
    expect(nanosecondsToHuman(0)).toBe("0.0ns");
    expect(nanosecondsToHuman(1000)).toBe("1000.0ns");
    expect(nanosecondsToHuman(1250)).toBe("1.2us");
    expect(nanosecondsToHuman(1_000_000)).toBe("1000.0us");
    expect(nanosecondsToHuman(2_500_000)).toBe("2.5ms");
    expect(nanosecondsToHuman(1_000_000_000)).toBe("1000.0ms");
    expect(nanosecondsToHuman(61_500_000_000)).toBe("61.5s");
  });

  test("RFC 3339 in local time with the zone offset", () => {
    const ms = 1_700_000_000_000;
    const text = formatRfc3339(ms);
    expect(text).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
    expect(Date.parse(text)).toBe(ms);
  });

  test("consumer and producer client lines", () => {
    const now = (1_700_000_000 + 125) * 1000 + 900;
    const consumer = clientStats(source(), "");
    expect(clientLine(consumer, now)).toBe(
      "[V2 host.local:51234 ua/1.0] state: 3 inflt: 2    rdy: 5    fin: 7        re-q: 1        msgs: 9        connected: 2m5s",
    );
    const short = clientStats(source({ hostname: "h", userAgent: "" }), "");
    expect(clientLine(short, now).startsWith(`[V2 ${"h:51234 ".padEnd(21)}] state: 3 `)).toBe(true);
    const producer = clientStats(source({ pubCounts: new Map([["t", 12]]) }), "");
    expect(clientLine(producer, (1_700_000_000 + 3) * 1000)).toBe("[V2 host.local:51234 ua/1.0] msgs: 12       topics: t=12 connected: 3s");
  });
});

describe("memory (D-HTTP-STATS-MEM)", () => {
  test("maps the runtime's heap figures and reports Go-only figures as 0, keys in order", () => {
    const m = memoryStats({ rss: 1000, heapTotal: 800, heapUsed: 500, external: 7 });
    expect(Object.keys(m)).toEqual([
      "heap_objects",
      "heap_idle_bytes",
      "heap_in_use_bytes",
      "heap_released_bytes",
      "gc_pause_usec_100",
      "gc_pause_usec_99",
      "gc_pause_usec_95",
      "next_gc_bytes",
      "gc_total_runs",
    ]);
    expect(m).toMatchObject({ heap_in_use_bytes: 500, heap_idle_bytes: 300, heap_objects: 0, gc_total_runs: 0 });
  });
});

describe("text layout (D-HTTP-STATS-TEXT)", () => {
  const e2eNone = { count: 0, percentiles: null };
  const consumer: ClientStats = clientStats(source({ readyCount: 1, inFlightCount: 1, messageCount: 3, finishCount: 2, requeueCount: 0 }), "");
  const producer: ClientStats = clientStats(
    source({ hostname: "pub", remoteAddress: "10.0.0.2:40000", userAgent: "go-nsq/1.1.0", pubCounts: new Map([["alpha", 4]]) }),
    "",
  );
  const stats: Stats = {
    topics: [
      {
        topic_name: "alpha",
        depth: 12,
        backend_depth: 2,
        message_count: 100,
        message_bytes: 900,
        paused: false,
        e2e_processing_latency: {
          count: 3,
          percentiles: [
            { quantile: 0.99, value: 2_500_000 },
            { quantile: 0.5, value: 1250 },
          ],
        },
        channels: [
          {
            channel_name: "ch1",
            depth: 1,
            backend_depth: 0,
            in_flight_count: 1,
            deferred_count: 0,
            message_count: 100,
            requeue_count: 3,
            timeout_count: 4,
            client_count: 1,
            clients: [consumer],
            paused: true,
            e2e_processing_latency: { count: 3, percentiles: [{ quantile: 0.99, value: 3e9 }] },
          },
          {
            channel_name: "ch2",
            depth: 0,
            backend_depth: 0,
            in_flight_count: 0,
            deferred_count: 5,
            message_count: 7,
            requeue_count: 0,
            timeout_count: 0,
            client_count: 0,
            clients: [],
            paused: false,
            e2e_processing_latency: e2eNone,
          },
        ],
      },
      { topic_name: "beta", depth: 0, backend_depth: 0, message_count: 0, message_bytes: 0, paused: true, e2e_processing_latency: e2eNone, channels: [] },
    ],
    producers: [producer],
  };
  const mem = memoryStats({ rss: 1, heapTotal: 300, heapUsed: 200, external: 0 });
  const base = {
    versionLine: "nsqd v1.3.0 (built w/node v20.0.0)",
    startTime: 1_700_000_000,
    uptimeMs: 65_500,
    health: "OK",
    nowMs: (1_700_000_000 + 10) * 1000,
  };

  test("the whole document, line for line", () => {
    const text = formatStatsText({ ...base, memory: mem, stats });
    const expected = [
      "nsqd v1.3.0 (built w/node v20.0.0)",
      `start_time ${formatRfc3339(1_700_000_000_000)}`,
      "uptime 1m5.5s",
      "",
      "Health: OK",
      "",
      "Memory:",
      "   heap_objects             \t0",
      "   heap_idle_bytes          \t100",
      "   heap_in_use_bytes        \t200",
      "   heap_released_bytes      \t0",
      "   gc_pause_usec_100        \t0",
      "   gc_pause_usec_99         \t0",
      "   gc_pause_usec_95         \t0",
      "   next_gc_bytes            \t0",
      "   gc_total_runs            \t0",
      "",
      "Topics:",
      "   [alpha          ] depth: 12    be-depth: 2     msgs: 100      e2e%: 2.5ms, 1.2us",
      "   *P [ch1                      ] depth: 1     be-depth: 0     inflt: 1    def: 0    re-q: 3     timeout: 4     msgs: 100      e2e%: 3.0s",
      "        [V2 host.local:51234 ua/1.0] state: 3 inflt: 1    rdy: 1    fin: 2        re-q: 0        msgs: 3        connected: 10s",
      "      [ch2                      ] depth: 0     be-depth: 0     inflt: 0    def: 5    re-q: 0     timeout: 0     msgs: 7        e2e%: ",
      "",
      "*P [beta           ] depth: 0     be-depth: 0     msgs: 0        e2e%: ",
      "",
      "Producers:",
      "   [V2 pub:40000 go-nsq/1.1.0] msgs: 4        topics: alpha=4 connected: 10s",
      "",
    ].join("\n");
    expect(text).toBe(expected);
  });

  test("no memory section without include_mem; None for no topics and no producers", () => {
    const text = formatStatsText({ ...base, health: "NOK - disk full", memory: null, stats: { topics: null, producers: null } });
    expect(text.split("\n").slice(3)).toEqual(["", "Health: NOK - disk full", "", "Topics: None", "", "Producers: None", ""]);
    const empty = formatStatsText({ ...base, memory: null, stats: { topics: [], producers: [] } });
    expect(empty.endsWith("\nTopics: None\n\nProducers: None\n")).toBe(true);
  });
});

describe("collectStats against a running nsqd", () => {
  test("topic and channel objects: key order, counts, sorting and filters (D-HTTP-STATS-FILTER)", async () => {
    await using d = await startTestNsqd();
    const n = d.nsqd;
    n.getTopic("zeta").getChannel("c");
    const t = n.getTopic("alpha");
    t.getChannel("second");
    t.getChannel("first");
    t.publish(enc("abc"));
    t.publish(enc("de"), 60_000);
    const all = collectStats(n, { includeClients: true });
    expect(all.topics!.map((x) => x.topic_name)).toEqual(["alpha", "zeta"]);
    const alpha = all.topics![0]!;
    expect(Object.keys(alpha)).toEqual([
      "topic_name",
      "channels",
      "depth",
      "backend_depth",
      "message_count",
      "message_bytes",
      "paused",
      "e2e_processing_latency",
    ]);
    expect(alpha).toMatchObject({
      depth: 0,
      backend_depth: 0,
      message_count: 2,
      message_bytes: 5,
      paused: false,
      e2e_processing_latency: { count: 0, percentiles: null },
    });
    expect(alpha.channels.map((c) => c.channel_name)).toEqual(["first", "second"]);
    const first = alpha.channels[0]!;
    expect(Object.keys(first)).toEqual([
      "channel_name",
      "depth",
      "backend_depth",
      "in_flight_count",
      "deferred_count",
      "message_count",
      "requeue_count",
      "timeout_count",
      "client_count",
      "clients",
      "paused",
      "e2e_processing_latency",
    ]);
    expect(first).toMatchObject({ depth: 1, deferred_count: 1, message_count: 2, client_count: 0, clients: [] });
    expect(all.producers).toBeNull();

    expect(collectStats(n, { topic: "nope", includeClients: true })).toEqual({ topics: null, producers: null });
    expect(collectStats(n, { topic: "zeta", includeClients: true }).topics!.map((x) => x.topic_name)).toEqual(["zeta"]);
    const onlyFirst = collectStats(n, { channel: "first", includeClients: true });
    expect(onlyFirst.topics!.map((x) => [x.topic_name, x.channels.map((c) => c.channel_name)])).toEqual([["alpha", ["first"]]]);
    expect(collectStats(n, { channel: "none", includeClients: true }).topics).toEqual([]);
    expect(collectStats(n, { includeClients: false }).topics![0]!.channels[0]!.clients).toBeNull();
  });

  test("e2e objects: configured percentiles per channel, merged per topic (D-HTTP-STATS-E2E)", async () => {
    await using d = await startTestNsqd({ e2e_processing_latency_percentiles: [0.99, 0.5] });
    d.nsqd.getTopic("lonely");
    const c = d.nsqd.getTopic("t").getChannel("c");
    c.e2e!.add(2_000_000);
    c.e2e!.add(4_000_000);
    const s = collectStats(d.nsqd, { includeClients: true });
    const [lonely, t] = s.topics!;
    expect(lonely!.e2e_processing_latency).toEqual({ count: 0, percentiles: null });
    expect(t!.e2e_processing_latency.count).toBe(2);
    expect(t!.e2e_processing_latency.percentiles!.map((p) => Object.keys(p))).toEqual([
      ["quantile", "value"],
      ["quantile", "value"],
    ]);
    expect(t!.e2e_processing_latency.percentiles!.map((p) => p.quantile)).toEqual([0.99, 0.5]);
    expect(t!.channels[0]!.e2e_processing_latency.count).toBe(2);
    expect(t!.channels[0]!.e2e_processing_latency.percentiles![0]!.value).toBeGreaterThanOrEqual(2_000_000);
  });

  test("TCP publishers are producers, subscribers are channel clients; /stats JSON and text show both", async () => {
    await using d = await startTestNsqd();
    await using p = await RawConnection.open(d.tcpPort);
    p.send(encodeIdentify({ client_id: "pub-1", hostname: "pubhost", user_agent: "test-producer/1" }));
    await p.expectResponse("OK");
    p.send(encodePub("events", enc("hello")));
    await p.expectResponse("OK");
    p.send(encodePub("events", enc("again")));
    await p.expectResponse("OK");
    await using c = await RawConnection.open(d.tcpPort);
    c.send(encodeIdentify({ client_id: "sub-1", hostname: "subhost", user_agent: "test-consumer/1" }));
    await c.expectResponse("OK");
    c.send(encodeSub("events", "archive"));
    await c.expectResponse("OK");
    c.send(encodeRdy(5));
    const channel = d.nsqd.getExistingTopic("events")!.channels.get("archive")!;
    await waitFor(() => (channel.inFlightCount() === 2 ? true : undefined), 3000, "two deliveries");

    const handler = createHttpHandler(d.nsqd);
    const res = await handler(new Request("http://x/stats?format=json"), { remoteAddress: "127.0.0.1", remotePort: 1 });
    const json = await res.json();
    expect(Object.keys(json)).toEqual(["version", "health", "start_time", "topics", "memory", "producers"]);
    expect(json).toMatchObject({ version: "1.3.0", health: "OK", start_time: d.nsqd.startTime });
    expect(json.producers).toHaveLength(1);
    const prod = json.producers[0];
    expect(prod).toMatchObject({
      client_id: "pub-1",
      hostname: "pubhost",
      user_agent: "test-producer/1",
      pub_counts: [{ topic: "events", count: 2 }],
      state: 0,
    });
    expect(prod.remote_address).toMatch(/^127\.0\.0\.1:\d+$/);
    const ch = json.topics[0].channels[0];
    expect(ch).toMatchObject({ channel_name: "archive", client_count: 1, in_flight_count: 2, message_count: 2 });
    // D-HTTP-STATS-CHANNEL: deliveries from memory count as global even without the topology experiment.
    expect(Object.keys(ch).slice(5, 8)).toEqual(["message_count", "global_msg_count", "requeue_count"]);
    expect(ch.global_msg_count).toBe(2);
    expect(Object.keys(ch.clients[0])).toEqual(CLIENT_KEYS);
    expect(ch.clients[0]).toMatchObject({ client_id: "sub-1", hostname: "subhost", state: 3, ready_count: 5, in_flight_count: 2, message_count: 2 });

    const noClients = await (
      await handler(new Request("http://x/stats?format=json&include_clients=false&include_mem=0"), { remoteAddress: "", remotePort: 0 })
    ).json();
    expect(Object.keys(noClients)).toEqual(["version", "health", "start_time", "topics", "producers"]);
    expect(noClients.producers).toBeNull();
    expect(noClients.topics[0].channels[0]).toMatchObject({ client_count: 1, clients: null });
    // any other value means true
    const yes = await (
      await handler(new Request("http://x/stats?format=json&include_clients=yes&include_mem=maybe"), { remoteAddress: "", remotePort: 0 })
    ).json();
    expect(yes.producers).toHaveLength(1);
    expect(yes.memory).toBeDefined();

    const textRes = await handler(new Request("http://x/stats"), { remoteAddress: "", remotePort: 0 });
    expect(textRes.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(textRes.headers.get("x-nsq-content-type")).toBe("nsq; version=1.0");
    const text = await textRes.text();
    expect(text.startsWith(`nsqd v1.3.0 (built w/${d.runtime.version})\n`)).toBe(true);
    expect(text).toContain("\nTopics:\n   [events         ] depth: 0     be-depth: 0     msgs: 2        e2e%: \n");
    expect(text).toMatch(/\n {6}\[archive {18}\] depth: 0 {5}be-depth: 0 {5}inflt: 2 {4}def: 0 {4}re-q: 0 {5}timeout: 0 {5}msgs: 2 {8}e2e%: \n/);
    expect(text).toMatch(/\n {8}\[V2 subhost:\d+ test-consumer\/1\] state: 3 inflt: 2 {4}rdy: 5 {4}fin: 0 {8}re-q: 0 {8}msgs: 2 {8}connected: \d+s\n/);
    expect(text).toMatch(/\nProducers:\n {3}\[V2 pubhost:\d+ test-producer\/1\] msgs: 2 {8}topics: events=2 connected: \d+s\n$/);
  });

  test("JSON escapes <, > and & the way encoding/json does", async () => {
    await using d = await startTestNsqd();
    await using p = await RawConnection.open(d.tcpPort);
    p.send(encodeIdentify({ user_agent: "<a&b>" }));
    await p.expectResponse("OK");
    p.send(encodePub("esc", enc("x")));
    await p.expectResponse("OK");
    const res = await createHttpHandler(d.nsqd)(new Request("http://x/stats?format=json"), { remoteAddress: "", remotePort: 0 });
    const raw = await res.text();
    expect(raw).toContain('"user_agent":"\\u003ca\\u0026b\\u003e"');
    expect(JSON.parse(raw).producers[0].user_agent).toBe("<a&b>");
  });
});
