// Unit tests of nsqadmin's pure parts: option checks, CIDR matching, stats
// aggregation, the history ring, the embedded UI scripts' syntax, and the
// UI's pure functions (rate formatting, graphite targets) loaded as modules.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cidrContains, parseCidr } from "../../src/admin/cidr.ts";
import { SampleRing } from "../../src/admin/history.ts";
import { basicAuthUser } from "../../src/admin/notify.ts";
import { ADMIN_OPTIONS, checkAdminOptions, defaultAdminOptions, normalizeBasePath } from "../../src/admin/options.ts";
import { addE2e, aggregateTopic, compareSemver, nodeE2e, nodeTopic, type E2eAggregate, type Producer } from "../../src/admin/stats.ts";
import { ASSETS, renderIndex } from "../../src/admin/ui/assets.ts";
import { httpsEndpoint } from "../../src/admin/upstream.ts";

const lookupd = { nsqlookupd_http_addresses: ["127.0.0.1:4161"] };

describe("nsqadmin options (A-FLAG-*)", () => {
  it("has every A-FLAG row with the original's defaults", () => {
    const d = defaultAdminOptions();
    expect(d.http_address).toBe("0.0.0.0:4171");
    expect(d.base_path).toBe("/");
    expect(d.statsd_interval).toBe(60_000);
    expect(d.statsd_prefix).toBe("nsq.%s");
    expect(d.statsd_counter_format).toBe("stats.counters.%s.count");
    expect(d.statsd_gauge_format).toBe("stats.gauges.%s");
    expect(d.http_client_connect_timeout).toBe(2000);
    expect(d.http_client_request_timeout).toBe(5000);
    expect(d.allow_config_from_cidr).toBe("127.0.0.1/8");
    expect(d.acl_http_header).toBe("X-Forwarded-User");
    expect(d.log_prefix).toBe("[nsqadmin] ");
    const flags = ADMIN_OPTIONS.map((s) => s.flag);
    for (const f of [
      "lookupd-http-address",
      "nsqd-http-address",
      "admin-user",
      "notification-http-endpoint",
      "proxy-graphite",
      "dev-static-dir",
      "http-client-tls-key",
    ]) {
      expect(flags).toContain(f);
    }
    expect(ADMIN_OPTIONS.find((s) => s.flag === "admin-user")!.key).toBe("admin_users");
  });

  it("A-FLAG-VALIDATION rejects bad combinations with the original's wording", () => {
    const bad = (o: object) => () => checkAdminOptions(defaultAdminOptions(o));
    expect(bad({})).toThrow("--nsqd-http-address or --lookupd-http-address required");
    expect(bad({ ...lookupd, nsqd_http_addresses: ["x:1"] })).toThrow("not both");
    expect(bad({ ...lookupd, http_client_tls_cert: "c.pem" })).toThrow("--http-client-tls-key must be specified with --http-client-tls-cert");
    expect(bad({ ...lookupd, http_client_tls_key: "k.pem" })).toThrow("--http-client-tls-cert must be specified with --http-client-tls-key");
    expect(bad({ nsqlookupd_http_addresses: ["nohost"] })).toThrow("failed to resolve --lookupd-http-address (nohost)");
    expect(bad({ nsqd_http_addresses: ["h:99999"] })).toThrow("failed to resolve --nsqd-http-address (h:99999)");
    expect(bad({ ...lookupd, allow_config_from_cidr: "10.0.0.0/33" })).toThrow("failed to parse --allow-config-from-cidr");
    expect(bad({ ...lookupd, proxy_graphite: true, graphite_url: "not a url" })).toThrow("failed to parse --graphite-url");
    expect(checkAdminOptions(defaultAdminOptions({ ...lookupd, base_path: "a/b/../c/" })).base_path).toBe("/a/c");
    expect(checkAdminOptions(defaultAdminOptions({ nsqd_http_addresses: ["[::1]:4151"] })).nsqd_http_addresses).toEqual(["[::1]:4151"]);
  });

  it("A-FLAG-BASE-PATH is normalised like path.Clean", () => {
    expect(normalizeBasePath("")).toBe("/");
    expect(normalizeBasePath("/")).toBe("/");
    expect(normalizeBasePath("admin")).toBe("/admin");
    expect(normalizeBasePath("//admin//x/")).toBe("/admin/x");
    expect(normalizeBasePath("/a/./b/..")).toBe("/a");
    expect(normalizeBasePath("/..")).toBe("/");
  });
});

describe("CIDR matching for /config", () => {
  it("matches IPv4, IPv4-mapped IPv6 and IPv6 networks", () => {
    const lo = parseCidr("127.0.0.1/8")!;
    expect(cidrContains(lo, "127.9.8.7")).toBe(true);
    expect(cidrContains(lo, "::ffff:127.0.0.1")).toBe(true);
    expect(cidrContains(lo, "128.0.0.1")).toBe(false);
    expect(cidrContains(lo, "::1")).toBe(false);
    const v6 = parseCidr("fd00::/8")!;
    expect(cidrContains(v6, "fd12:3456::1")).toBe(true);
    expect(cidrContains(v6, "fe80::1")).toBe(false);
    expect(cidrContains(parseCidr("0.0.0.0/0")!, "8.8.8.8")).toBe(true);
    expect(cidrContains(parseCidr("10.1.2.3/32")!, "10.1.2.3")).toBe(true);
    expect(cidrContains(parseCidr("10.1.2.3/32")!, "10.1.2.4")).toBe(false);
  });

  it("rejects what net.ParseCIDR rejects", () => {
    for (const bad of ["127.0.0.1", "127.0.0.1/", "127.0.0.1/33", "300.0.0.1/8", "01.0.0.1/8", "::1/129", "1:2:3/64", "x/8", "1.2.3.4/08"]) {
      expect(parseCidr(bad), bad).toBeNull();
    }
  });
});

describe("stats aggregation (A-API-TOPICSTATS, A-API-E2E)", () => {
  const node = (host: string, port: number): Producer => ({
    remote_addresses: [],
    remote_address: "",
    hostname: host,
    broadcast_address: "10.0.0." + port,
    tcp_port: 4150,
    http_port: port,
    version: "1.3.0",
    topics: [],
    out_of_date: false,
  });

  it("merges e2e percentiles: counts summed, count-weighted average, min and max", () => {
    const a = nodeE2e(
      {
        count: 10,
        percentiles: [
          { quantile: 0.99, value: 100 },
          { quantile: 0.5, value: 10 },
        ],
      },
      "t",
      "",
      "a",
    );
    const b = nodeE2e({ count: 30, percentiles: [{ quantile: 0.99, value: 200 }] }, "t", "", "b");
    expect(a.percentiles![0]).toEqual({ quantile: 0.99, value: 100, min: 100, max: 100, average: 100, count: 10 });
    const agg: E2eAggregate = { count: 0, percentiles: null, topic: "t", channel: "", host: "*" };
    addE2e(agg, a);
    addE2e(agg, b);
    expect(agg.count).toBe(40);
    const p99 = agg.percentiles!.find((p) => p.quantile === 0.99)!;
    expect(p99.average).toBe(175);
    expect(p99.min).toBe(100);
    expect(p99.max).toBe(200);
    expect(p99.count).toBe(40);
    expect(agg.percentiles!.map((p) => p.quantile)).toEqual([0.99, 0.5]);
  });

  it("sums topics over nodes, keeps each node's own numbers, sorts nodes by hostname", () => {
    const t1 = nodeTopic(
      { topic_name: "t", depth: 5, backend_depth: 2, message_count: 7, channels: [{ channel_name: "c", depth: 1, message_count: 7, paused: true }] },
      node("zeta", 1),
      false,
      0,
    );
    const t2 = nodeTopic(
      {
        topic_name: "t",
        depth: 3,
        backend_depth: 0,
        message_count: 4,
        zone_local_msg_count: 2,
        channels: [{ channel_name: "c", depth: 2, message_count: 4 }, { channel_name: "d" }],
      },
      node("alpha", 2),
      false,
      0,
    );
    const agg = aggregateTopic("t", [t1, t2]);
    expect(agg.node).toBe("*");
    expect(agg.depth).toBe(8);
    expect(agg.memory_depth).toBe(6);
    expect(agg.backend_depth).toBe(2);
    expect(agg.message_count).toBe(11);
    expect(agg.delivery_msg_count).toBe(2);
    expect(agg.zone_local_msg_count).toBe(2);
    expect(agg.nodes!.map((n) => n.hostname)).toEqual(["alpha", "zeta"]);
    const c = agg.channels!.find((x) => x.channel_name === "c")!;
    expect(c.depth).toBe(3);
    expect(c.paused).toBe(true);
    expect(c.nodes!.map((n) => n.depth)).toEqual([2, 1]);
    // The nodes keep their own figures (the original mutates the first one).
    expect(t1.channels![0]!.depth).toBe(1);
    expect(t1.channels![0]!.node).toBe("10.0.0.1:1");
    expect(aggregateTopic("none", [])).toMatchObject({ topic_name: "none", nodes: null, channels: null, e2e_processing_latency: null });
  });

  it("compares versions for out_of_date", () => {
    expect(compareSemver("1.2.1", "1.3.0")).toBeLessThan(0);
    expect(compareSemver("1.3.0", "1.3.0")).toBe(0);
    expect(compareSemver("garbage", "0.0.1")).toBeLessThan(0);
  });
});

describe("small helpers", () => {
  it("SampleRing keeps the newest samples and derives rates", () => {
    const r = new SampleRing(3);
    r.push(1000, 5, 100);
    r.push(2000, 6, 110);
    r.push(3000, 7, 130);
    r.push(4000, 8, 160);
    const all = r.samples();
    expect(all.map((s) => s.depth)).toEqual([6, 7, 8]);
    expect(all.map((s) => s.rate)).toEqual([0, 20, 30]);
    expect(r.samples(1)).toEqual([{ ts: 4000, depth: 8, message_count: 160, rate: 30 }]);
    r.push(5000, 0, 0);
    expect(r.samples(1)[0]!.rate).toBe(0);
  });

  it("X-HTTP-CLIENT: a 403 with https_port turns into the HTTPS endpoint", () => {
    expect(httpsEndpoint("http://h:4151/stats?format=json", '{"https_port":4152}')).toBe("https://h:4152/stats?format=json");
    expect(httpsEndpoint("http://h:4151/stats", '{"message":"FORBIDDEN"}')).toBeNull();
  });

  it("basicAuthUser reads the user of a Basic Authorization header", () => {
    expect(basicAuthUser(`Basic ${btoa("ann:pw:x")}`)).toBe("ann");
    expect(basicAuthUser("Bearer abc")).toBe("");
    expect(basicAuthUser(`Basic ${btoa("nocolon")}`)).toBe("");
    expect(basicAuthUser(null)).toBe("");
  });

  it("A-UI-SHELL defines the globals and escapes them for a script element", () => {
    const html = renderIndex({ options: defaultAdminOptions({ ...lookupd, statsd_prefix: "</script><b>" }), isAdmin: true, historyIntervalMs: 5000 });
    expect(html).toContain('var STATSD_PREFIX = "\\u003c/script>\\u003cb>";');
    expect(html).toContain("var STATSD_INTERVAL = 60;");
    expect(html).toContain("var GRAPH_ENABLED = false;");
    expect(html).toContain('var NSQLOOKUPD = ["127.0.0.1:4161"];');
    expect(html).not.toContain("<b>");
  });

  it("the embedded UI scripts are valid JavaScript modules", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nsqadmin-ui-"));
    try {
      for (const name of ["main.js", "vendor.js", "graphite.js"]) {
        const file = path.join(dir, name.replace(/\.js$/, ".mjs"));
        fs.writeFileSync(file, ASSETS[name]!);
        const r = spawnSync(process.execPath, ["--check", file], { encoding: "utf8" });
        expect(r.status, `${name}: ${r.stderr}`).toBe(0);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("nsqadmin UI modules", () => {
  // The embedded scripts as real ES modules (graphite.js imports ./vendor.js).
  let dir: string;
  let vendor: any;
  let graphite: any;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "nsqadmin-modules-"));
    fs.writeFileSync(path.join(dir, "package.json"), '{"type":"module"}');
    for (const name of ["vendor.js", "graphite.js"]) fs.writeFileSync(path.join(dir, name), ASSETS[name]!);
    vendor = await import(pathToFileURL(path.join(dir, "vendor.js")).href);
    graphite = await import(pathToFileURL(path.join(dir, "graphite.js")).href);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("fmtRate keeps a fixed number of decimals per magnitude", () => {
    expect([7.6, 7.777, 8, 0, 9.999, 12.34, 99.96, 1234.5].map((n) => vendor.fmtRate(n))).toEqual([
      "7.60",
      "7.78",
      "8.00",
      "0.00",
      "10.0",
      "12.3",
      "100",
      "1,235",
    ]);
    expect(vendor.fmtRate(Number.NaN)).toBe("-");
  });

  // The original's statsd defaults (A-FLAG-STATSD-*), with a 60 s interval.
  const c = { prefix: "nsq.%s", counterFormat: "stats.counters.%s.count", gaugeFormat: "stats.gauges.%s", interval: 60 };

  it("A-UI-GRAPHS: topic, channel, counter and node targets follow the original's key rules", () => {
    expect(graphite.targets("topic", "*", "orders", "", "depth", c)).toEqual(["sumSeries(stats.gauges.nsq.*.topic.orders.depth)"]);
    expect(graphite.targets("topic", "10.0.0.5:4151", "orders", "", "message_count", c)).toEqual([
      "sumSeries(stats.counters.nsq.10_0_0_5_4151.topic.orders.message_count.count)",
    ]);
    expect(graphite.targets("channel", "*", "orders", "billing", "requeue_count", c)).toEqual([
      "sumSeries(stats.counters.nsq.*.topic.orders.channel.billing.requeue_count.count)",
    ]);
    expect(graphite.targets("channel", "*", "orders", "billing", "clients", c)).toEqual(["sumSeries(stats.gauges.nsq.*.topic.orders.channel.billing.clients)"]);
    expect(graphite.targets("counter", "*", "", "", "message_count", c)).toEqual(["sumSeries(stats.counters.nsq.*.topic.*.channel.*.message_count.count)"]);
    expect(graphite.targets("node", "h:4151", "", "", "heap_objects", c)).toEqual(["stats.gauges.nsq.h_4151.mem.heap_objects"]);
    // Functions wrap the formatted key (the original puts them inside the format).
    expect(graphite.targets("node", "h:4151", "", "", "gc_runs", c)).toEqual(["movingAverage(stats.counters.nsq.h_4151.mem.gc_runs.count,45)"]);
    // Names as the statsd daemon stores them.
    expect(graphite.targets("topic", "*", "a b/c#ephemeral", "", "depth", c)).toEqual(["sumSeries(stats.gauges.nsq.*.topic.a_b-cephemeral.depth)"]);
    // Empty formats leave the key alone; the prefix gets one trailing ".", as nsqd's.
    const bare = { prefix: "nsq.%s.", counterFormat: "", gaugeFormat: "", interval: 10 };
    expect(graphite.targets("topic", "*", "t", "", "message_count", bare)).toEqual(["sumSeries(nsq.*.topic.t.message_count)"]);
    expect(graphite.targets("topic", "*", "t", "", "depth", { ...bare, prefix: "" })).toEqual(["sumSeries(topic.t.depth)"]);
  });

  it("A-UI-GRAPHS: e2e targets per percentile, averaged over every node", () => {
    const e2e = { topic: "orders", channel: "billing", percentiles: [{ quantile: 0.99 }, { quantile: 0.5 }, { quantile: 0.999 }] };
    expect(graphite.targets("e2e", "*", e2e, "", "e2e_processing_latency", c)).toEqual([
      "scale(averageSeries(stats.gauges.nsq.*.topic.orders.channel.billing.e2e_processing_latency_99),0.000001)",
      "scale(averageSeries(stats.gauges.nsq.*.topic.orders.channel.billing.e2e_processing_latency_50),0.000001)",
      "scale(averageSeries(stats.gauges.nsq.*.topic.orders.channel.billing.e2e_processing_latency_100),0.000001)",
    ]);
    expect(graphite.targets("e2e", "h:1", { topic: "orders", channel: "", percentiles: [{ quantile: 0.95 }] }, "", "e2e_processing_latency", c)).toEqual([
      "scale(stats.gauges.nsq.h_1.topic.orders.e2e_processing_latency_95,0.000001)",
    ]);
    // nsqd names percentiles with Go's %.0f: halves round to even.
    expect([0.125, 0.135, 0.5].map((q) => graphite.percentName(q))).toEqual(["12", "14", "50"]);
  });

  it("A-UI-GRAPHS: sparkline and large-graph targets, and the rate cell", () => {
    const t = "sumSeries(stats.counters.nsq.*.topic.t.message_count.count)";
    expect(graphite.sparkTarget(t, c)).toBe(`summarize(${t},"60sec","avg")`);
    expect(graphite.largeTarget(t, "message_count", { ...c, interval: 10 })).toBe(`summarize(scale(${t},0.1),"10sec","avg")`);
    expect(graphite.largeTarget("x", "depth", c)).toBe('summarize(x,"60sec","avg")');
    expect(
      graphite.rateText(
        [
          [90, 1],
          [30, 2],
        ],
        c,
      ),
    ).toBe("1.50");
    expect(graphite.rateText([[-1, 1]], c)).toBe("N/A");
    expect(graphite.rateText([[null, 1]], c)).toBe("N/A");
    expect(graphite.rateText([], c)).toBe("N/A");
  });
});
