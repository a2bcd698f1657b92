// nsqadmin's HTTP server as a fetch handler: the page routes that serve the
// single-page UI (A-HTTP-INDEX), the embedded assets (A-HTTP-STATIC), the JSON
// API (A-API-*), /config (A-HTTP-CONFIG), /ping, and the optional graphite
// proxy, all under --base-path. The router, the response shapes (a value as
// JSON on 200, `{"message": "..."}` otherwise) and the request log are the
// ones nsqd and nsqlookupd use (../common/http/); every response is then
// compressed when the client accepts it, as the original's nsqadmin does.
import { errorText } from "../common/errors.ts";
import { HttpError } from "../common/http/error.ts";
import { readLimited } from "../common/http/body.ts";
import { plainText, v1Json, v1Text } from "../common/http/responses.ts";
import { createRouter, type Route } from "../common/http/router.ts";
import type { Logger } from "../common/log.ts";
import { logLevelNumber, parseLogLevel } from "../common/logger.ts";
import { isValidChannelName, isValidTopicName } from "../protocol/names.ts";
import type { FetchHandler, RequestInfo, Runtime } from "../runtime/types.ts";
import { AllFailedError, type ClusterInfo, type ClusterSources } from "./cluster.ts";
import { cidrContains, parseCidr } from "./cidr.ts";
import type { History } from "./history.ts";
import type { Notifier } from "./notify.ts";
import type { AdminOptions } from "./options.ts";
import { aggregateTopic, clientsByNodeTopology, producerHttpAddress } from "./stats.ts";
import { ASSETS, renderIndex } from "./ui/assets.ts";
import { splitCredentials, type UpstreamClient } from "./upstream.ts";
import { joinHostPort } from "../common/address.ts";

/** What the handler needs from the Admin. */
export interface AdminHttpHost {
  readonly runtime: Runtime;
  readonly logger: Logger;
  /** Current options (PUT /config swaps them). */
  options(): AdminOptions;
  setOptions(next: AdminOptions): void;
  readonly cluster: ClusterInfo;
  readonly client: UpstreamClient;
  readonly history: History;
  readonly notifier: Notifier;
}

/** A V1 success: a string raw, any other value as JSON. */
function v1(data: unknown): Response {
  return typeof data === "string" ? v1Text(data) : v1Json(data);
}

function warn(messages: string[]): string {
  return messages.length > 0 ? `WARNING: ${messages.join("; ")}` : "";
}

type Params = Readonly<Record<string, string>>;
type Handler = (req: Request, params: Params, info: RequestInfo) => Promise<Response> | Response;

/**
 * The partial-failure bookkeeping of one request: steps whose upstreams all
 * failed become 502 UPSTREAM_ERROR, partial ones a WARNING message.
 */
async function collect<T>(step: Promise<{ value: T; errors: string[] }>, messages: string[], logger: Logger, what: string): Promise<T> {
  try {
    const r = await step;
    if (r.errors.length > 0) {
      const text = r.errors.join("\n");
      logger.warn(text);
      messages.push(text);
    }
    return r.value;
  } catch (e) {
    if (e instanceof AllFailedError) {
      logger.error(`failed to ${what} - ${e.message}`);
      throw new HttpError(502, `UPSTREAM_ERROR: ${e.message}`);
    }
    throw e;
  }
}

/** Same for actions, which report a flat list of errors. */
async function collectAction(step: Promise<string[]>, messages: string[], logger: Logger, what: string): Promise<void> {
  await collect(
    step.then((errors) => ({ value: null, errors })),
    messages,
    logger,
    what,
  );
}

async function readJson(req: Request, badMessage: (e: Error) => string): Promise<Record<string, unknown>> {
  const text = await req.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, badMessage(e as Error));
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new HttpError(400, badMessage(new SyntaxError("json: cannot unmarshal into an object")));
  }
  return value as Record<string, unknown>;
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff": "application/font-woff",
  ".woff2": "application/font-woff2",
  ".ttf": "application/font-sfnt",
  ".eot": "application/vnd.ms-fontobject",
};

/** A-BEH-ACL */
export function isAdminRequest(options: AdminOptions, req: Request): boolean {
  if (options.admin_users.length === 0) return true;
  const user = req.headers.get(options.acl_http_header) ?? "";
  return options.admin_users.includes(user);
}

/** A-HTTP-CONFIG: the value GET /config/:opt returns, by config key. */
function configValue(o: AdminOptions, opt: string): unknown {
  if (!Object.hasOwn(o, opt)) return undefined;
  const v = (o as unknown as Record<string, unknown>)[opt];
  switch (opt) {
    case "log_level":
      return logLevelNumber(parseLogLevel(String(v)));
    case "statsd_interval":
    case "http_client_connect_timeout":
    case "http_client_request_timeout":
      // Go durations marshal as integer nanoseconds.
      return (v as number) * 1e6;
  }
  return v;
}

export function createAdminHttpHandler(host: AdminHttpHost): FetchHandler {
  const { logger } = host;
  const sources = (): ClusterSources => {
    const o = host.options();
    return { lookupd: o.nsqlookupd_http_addresses, nsqd: o.nsqd_http_addresses };
  };
  const requireAdmin = (req: Request) => {
    if (!isAdminRequest(host.options(), req)) throw new HttpError(403, "FORBIDDEN");
  };
  const notify = (action: string, topic: string, channel: string, node: string, req: Request, info: RequestInfo) =>
    host.notifier.notify(action, topic, channel, node, req, info);

  // The routes live under --base-path, as the original registers them (its
  // index is then the base path itself, without a trailing slash).
  const base = host.options().base_path;
  const routes: Route[] = [];
  const add = (method: string, path: string, handler: Handler, log = true) =>
    routes.push({
      method,
      path: base === "/" ? path : path === "/" ? base : `${base}${path}`,
      handler: (r) => handler(r.request, r.params, r.info),
      log,
    });

  // ---- pages, assets, ping ----------------------------------------------------

  const index: Handler = (req) => {
    const o = host.options();
    return new Response(renderIndex({ options: o, isAdmin: isAdminRequest(o, req), historyIntervalMs: host.history.intervalMs }), {
      headers: { "Content-Type": "text/html; charset=utf-8" },
    });
  };
  for (const p of ["/", "/topics", "/topics/:topic", "/topics/:topic/:channel", "/nodes", "/nodes/:node", "/counter", "/lookup"]) add("GET", p, index);
  add("GET", "/ping", () => plainText("OK"));

  const asset: Handler = (_req, params) => {
    const name = params["asset"]!;
    const dot = name.lastIndexOf(".");
    const type = dot >= 0 ? CONTENT_TYPES[name.slice(dot).toLowerCase()] : undefined;
    const headers: Record<string, string> = {};
    if (type !== undefined) headers["Content-Type"] = type;
    const dev = host.options().dev_static_dir;
    if (dev !== "") {
      if (name === "." || name === ".." || name.includes("\\")) return plainText("NOT_FOUND", 404);
      try {
        const bytes = host.runtime.fs.readBytes(`${dev.replace(/\/+$/, "")}/${name}`);
        logger.debug(`using dev dir "${dev}" for static asset "${name}"`);
        return new Response(bytes as Uint8Array<ArrayBuffer>, { headers });
      } catch {
        return plainText("NOT_FOUND", 404);
      }
    }
    const body = ASSETS[name];
    if (body === undefined) return plainText("NOT_FOUND", 404);
    headers["Cache-Control"] = "no-cache";
    return new Response(body, { headers });
  };
  add("GET", "/static/:asset", asset);
  add("GET", "/fonts/:asset", asset);

  // A-HTTP-RENDER-PROXY: only with --proxy-graphite; the original does not log these.
  const render: Handler = async (req) => {
    const o = host.options();
    const target = new URL(o.graphite_url);
    const incoming = new URL(req.url);
    const out = new URL(`${target.protocol}//${target.host}${incoming.pathname.slice(incoming.pathname.lastIndexOf("/render"))}${incoming.search}`);
    const headers = new Headers();
    const auth = splitCredentials(o.graphite_url).authorization;
    if (auth !== null) headers.set("Authorization", auth);
    try {
      const r = await fetch(out, { headers, signal: AbortSignal.timeout(Math.max(o.http_client_request_timeout, 1)) });
      return new Response(await r.arrayBuffer(), {
        status: r.status,
        headers: { "Content-Type": r.headers.get("Content-Type") ?? "application/octet-stream" },
      });
    } catch (e) {
      logger.error(`graphite proxy failed - ${errorText(e)}`);
      return plainText("Bad Gateway", 502);
    }
  };
  if (host.options().proxy_graphite) add("GET", "/render", render, false);

  // ---- read-only API ------------------------------------------------------------

  add("GET", "/api/topics", async (req) => {
    const messages: string[] = [];
    const src = sources();
    const topics = await collect(host.cluster.topics(src), messages, logger, "get topics");
    if (new URL(req.url).searchParams.get("inactive") === "true") {
      const map: Record<string, string[]> = {};
      if (src.lookupd.length > 0) {
        await Promise.all(
          topics.map(async (t) => {
            const producers = await host.cluster.lookupdTopicProducers(t, src.lookupd).catch(() => ({ value: [], errors: [] }));
            if (producers.value.length > 0) return;
            const channels = await host.cluster.lookupdTopicChannels(t, src.lookupd).catch(() => ({ value: [] as string[], errors: [] }));
            map[t] = channels.value;
          }),
        );
      }
      const sorted: Record<string, string[]> = {};
      for (const k of Object.keys(map).sort()) sorted[k] = map[k]!;
      return v1({ topics: sorted, message: warn(messages) });
    }
    return v1({ topics, message: warn(messages) });
  });

  add("GET", "/api/topics/:topic", async (_req, { topic }) => {
    const messages: string[] = [];
    const producers = await collect(host.cluster.topicProducers(topic!, sources()), messages, logger, "get topic producers");
    const stats = await collect(host.cluster.nsqdStats(producers, topic!, "", false), messages, logger, "get topic metadata");
    return v1({ ...aggregateTopic(topic!, stats.topics), message: warn(messages) });
  });

  add("GET", "/api/topics/:topic/:channel", async (_req, { topic, channel }) => {
    const messages: string[] = [];
    const producers = await collect(host.cluster.topicProducers(topic!, sources()), messages, logger, "get topic producers");
    const stats = await collect(host.cluster.nsqdStats(producers, topic!, channel!, true), messages, logger, "get channel metadata");
    const c = stats.channels.get(channel!);
    // The original fails with 500 INTERNAL_ERROR here (SPEC Q); a 404 says what happened.
    if (c === undefined) throw new HttpError(404, "CHANNEL_NOT_FOUND");
    c.clients?.sort(clientsByNodeTopology);
    return v1({ ...c, message: warn(messages) });
  });

  add("GET", "/api/nodes", async () => {
    const messages: string[] = [];
    const nodes = await collect(host.cluster.producers(sources()), messages, logger, "get nodes");
    return v1({ nodes, message: warn(messages) });
  });

  add("GET", "/api/nodes/:node", async (_req, { node }) => {
    const messages: string[] = [];
    const producers = await collect(host.cluster.producers(sources()), messages, logger, "get producers");
    const producer = producers.find((p) => producerHttpAddress(p) === node);
    if (producer === undefined) throw new HttpError(404, "NODE_NOT_FOUND");
    const stats = await host.cluster.nsqdStats([producer], "", "", true).then(
      (r) => r.value,
      (e: unknown) => {
        logger.error(`failed to get nsqd stats - ${errorText(e)}`);
        throw new HttpError(502, `UPSTREAM_ERROR: ${errorText(e)}`);
      },
    );
    let totalClients = 0;
    let totalMessages = 0;
    for (const t of stats.topics) {
      for (const c of t.channels ?? []) totalClients += c.clients?.length ?? 0;
      totalMessages += t.message_count;
    }
    return v1({ node, topics: stats.topics, total_messages: totalMessages, total_clients: totalClients, message: warn(messages) });
  });

  add("GET", "/api/counter", async () => {
    const messages: string[] = [];
    const producers = await collect(host.cluster.producers(sources()), messages, logger, "get counter producer list");
    const stats = await collect(host.cluster.nsqdStats(producers, "", "", false), messages, logger, "get nsqd stats");
    const out: Record<string, { node: string; topic_name: string; channel_name: string; message_count: number }> = {};
    for (const c of stats.channels.values()) {
      for (const nc of c.nodes ?? []) {
        const key = `${c.topic_name}:${c.channel_name}:${nc.node}`;
        const entry = (out[key] ??= { node: nc.node, topic_name: c.topic_name, channel_name: c.channel_name, message_count: 0 });
        entry.message_count += nc.message_count;
      }
    }
    return v1({ stats: out, message: warn(messages) });
  });

  add("GET", "/api/graphite", async (req) => {
    const o = host.options();
    const params = new URL(req.url).searchParams;
    if (params.get("metric") !== "rate") throw new HttpError(400, "INVALID_ARG_METRIC");
    const target = params.get("target");
    if (target === null) throw new HttpError(400, "INVALID_ARG_TARGET");
    const interval = Math.floor(o.statsd_interval / 1000);
    const query = new URLSearchParams({ format: "json", from: `-${interval * 2}sec`, target, until: `-${interval}sec` });
    const url = `${o.graphite_url}/render?${query.toString()}`;
    logger.info(`GRAPHITE: ${url}`);
    let rate: number;
    try {
      const answer = await host.client.getV1<Array<{ datapoints: Array<[number | null, number]> }>>(url);
      rate = Number(answer[0]!.datapoints[0]![0]);
      if (!Number.isFinite(rate)) throw new TypeError("no datapoint");
    } catch (e) {
      logger.error(`graphite request failed - ${errorText(e)}`);
      throw new HttpError(500, "INTERNAL_ERROR");
    }
    return v1({ rate: rate < 0 ? "N/A" : (rate / interval).toFixed(2) });
  });

  // Beyond the original: the admin's own depth/rate history (see history.ts).
  const limitOf = (req: Request): number | undefined => {
    const v = Number(new URL(req.url).searchParams.get("points") ?? "");
    return Number.isInteger(v) && v > 0 ? v : undefined;
  };
  add("GET", "/api/history/topics", (req) => v1({ interval_ms: host.history.intervalMs, topics: host.history.allTopics(limitOf(req)), message: "" }));
  add("GET", "/api/history/topics/:topic", (req, { topic }) =>
    v1({
      topic_name: topic,
      interval_ms: host.history.intervalMs,
      samples: host.history.topic(topic!, limitOf(req)),
      channels: host.history.topicChannels(topic!, limitOf(req)),
      message: "",
    }),
  );
  add("GET", "/api/history/topics/:topic/:channel", (req, { topic, channel }) =>
    v1({
      topic_name: topic,
      channel_name: channel,
      interval_ms: host.history.intervalMs,
      samples: host.history.channel(topic!, channel!, limitOf(req)),
      message: "",
    }),
  );

  // ---- admin actions (A-BEH-ACL) ------------------------------------------------------

  add("POST", "/api/topics", async (req, _p, info) => {
    requireAdmin(req);
    const body = await readJson(req, (e) => e.message);
    const topic = str(body["topic"]);
    const channel = str(body["channel"]);
    if (!isValidTopicName(topic)) throw new HttpError(400, "INVALID_TOPIC");
    if (channel.length > 0 && !isValidChannelName(channel)) throw new HttpError(400, "INVALID_CHANNEL");
    const messages: string[] = [];
    await collectAction(host.cluster.createTopicChannel(topic, channel, sources().lookupd), messages, logger, "create topic/channel");
    notify("create_topic", topic, "", "", req, info);
    if (channel.length > 0) notify("create_channel", topic, channel, "", req, info);
    return v1({ message: warn(messages) });
  });

  const action =
    (hasChannel: boolean): Handler =>
    async (req, { topic, channel = "" }, info) => {
      requireAdmin(req);
      const body = await readJson(req, (e) => e.message);
      const act = str(body["action"]);
      if (act !== "pause" && act !== "unpause" && act !== "empty") throw new HttpError(400, "INVALID_ACTION");
      // Sent whatever the outcome, as the original does for these three.
      notify(`${act}_${hasChannel ? "channel" : "topic"}`, topic!, channel, "", req, info);
      const messages: string[] = [];
      await collectAction(host.cluster.topicChannelAction(topic!, channel, act, sources()), messages, logger, `${act} topic/channel`);
      return v1({ message: warn(messages) });
    };
  add("POST", "/api/topics/:topic", action(false));
  add("POST", "/api/topics/:topic/:channel", action(true));

  add("DELETE", "/api/topics/:topic", async (req, { topic }, info) => {
    requireAdmin(req);
    const messages: string[] = [];
    await collectAction(host.cluster.deleteTopic(topic!, sources()), messages, logger, "delete topic");
    notify("delete_topic", topic!, "", "", req, info);
    return v1({ message: warn(messages) });
  });

  add("DELETE", "/api/topics/:topic/:channel", async (req, { topic, channel }, info) => {
    requireAdmin(req);
    const messages: string[] = [];
    await collectAction(host.cluster.deleteChannel(topic!, channel!, sources()), messages, logger, "delete channel");
    notify("delete_channel", topic!, channel!, "", req, info);
    return v1({ message: warn(messages) });
  });

  add("DELETE", "/api/nodes/:node", async (req, { node }, info) => {
    requireAdmin(req);
    const body = await readJson(req, () => "INVALID_BODY");
    const topic = str(body["topic"]);
    if (!isValidTopicName(topic)) throw new HttpError(400, "INVALID_TOPIC");
    const messages: string[] = [];
    await collectAction(host.cluster.tombstoneNodeForTopic(topic, node!, sources().lookupd), messages, logger, "tombstone node for topic");
    notify("tombstone_topic_producer", topic, "", node!, req, info);
    return v1({ message: warn(messages) });
  });

  // ---- /config/:opt ------------------------------------------------------------------

  const config: Handler = async (req, { opt }, info) => {
    const o = host.options();
    if (o.allow_config_from_cidr !== "") {
      const cidr = parseCidr(o.allow_config_from_cidr);
      if (info.remoteAddress === "" || cidr === null) {
        logger.error(`failed to parse RemoteAddr ${joinHostPort(info.remoteAddress, info.remotePort)}`);
        throw new HttpError(400, "INVALID_REMOTE_ADDR");
      }
      if (!cidrContains(cidr, info.remoteAddress)) throw new HttpError(403, "FORBIDDEN");
    }
    if (req.method === "PUT") {
      const readMax = 1024 * 1024 + 1;
      const read = await readLimited(req.body, readMax);
      if (read.failed) throw new HttpError(500, "INTERNAL_ERROR");
      if (read.bytes.length === 0 || read.bytes.length === readMax) throw new HttpError(413, "INVALID_VALUE");
      const text = new TextDecoder().decode(read.bytes);
      const next: AdminOptions = { ...o };
      if (opt === "nsqlookupd_http_addresses") {
        let list: unknown;
        try {
          list = JSON.parse(text);
        } catch {
          throw new HttpError(400, "INVALID_VALUE");
        }
        if (list !== null && (!Array.isArray(list) || !list.every((x) => typeof x === "string"))) throw new HttpError(400, "INVALID_VALUE");
        next.nsqlookupd_http_addresses = list === null ? [] : [...(list as string[])];
      } else if (opt === "log_level") {
        try {
          next.log_level = parseLogLevel(text);
        } catch {
          throw new HttpError(400, "INVALID_VALUE");
        }
      } else {
        throw new HttpError(400, "INVALID_OPTION");
      }
      host.setOptions(next);
    }
    const value = configValue(host.options(), opt!);
    if (value === undefined) throw new HttpError(400, "INVALID_OPTION");
    return v1(value);
  };
  add("GET", "/config/:opt", config);
  add("PUT", "/config/:opt", config);

  const router = createRouter(routes, logger);
  return async (req, info) => compress(req, await router(req, info));
}

/** Every response is gzip- or deflate-compressed when the client lists one (SPEC §7). */
async function compress(req: Request, response: Response): Promise<Response> {
  if (response.body === null) return response;
  for (const raw of (req.headers.get("Accept-Encoding") ?? "").split(",")) {
    const enc = raw.trim();
    if (enc !== "gzip" && enc !== "deflate") continue;
    const headers = new Headers(response.headers);
    headers.set("Content-Encoding", enc);
    headers.append("Vary", "Accept-Encoding");
    headers.delete("Content-Length");
    // HTTP "deflate" from the original is raw DEFLATE (Go's compress/flate).
    const stream = response.body.pipeThrough(new CompressionStream(enc === "gzip" ? "gzip" : "deflate-raw"));
    return new Response(stream, { status: response.status, headers });
  }
  return response;
}
