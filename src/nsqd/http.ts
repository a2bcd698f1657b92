// nsqd's HTTP API (SPEC §3): the routes of D-HTTP-* with the original's status
// codes, error texts and validation order. The router, the response shapes
// (X-HTTP-V1, X-HTTP-PLAIN), the request log and the body readers are the
// ones nsqlookupd and nsqadmin use (../common/http/).
//
// Request bodies are read from the stream with a bound and never buffered
// whole: /pub reads at most max_msg_size+1 bytes, text /mpub at most
// max_body_size+1, binary /mpub is parsed as it streams in (./http-mpub.ts),
// PUT /config at most max_msg_size+1; admin POSTs (whose bodies the original
// reads and ignores) are drained chunk by chunk and discarded.
//
// /debug/* (D-HTTP-DEBUG, X-PPROF). /debug/pprof/* answers as nsqlookupd's
// does (see ../common/pprof.ts: index, cmdline and heap with what this runtime
// has, 501 for the Go-only profiles). Besides:
//   PUT  /debug/setblockrate?rate=N  validates N as the original does; 200, no effect (no block profiler)
//   POST /debug/freememory         runs globalThis.gc() when the runtime exposes it
//                                  (node --expose-gc, bun, deno --v8-flags=--expose-gc); else 200, no-op
import { errorText } from "../common/errors.ts";
import { contentLength, readLimited } from "../common/http/body.ts";
import { HttpError } from "../common/http/error.ts";
import { QueryParams, readParams } from "../common/http/params.ts";
import { JSON_CONTENT_TYPE, NSQ_CONTENT_TYPE, plainText, v1Empty, v1Json, v1Text } from "../common/http/responses.ts";
import { createRouter, type Route, type RouteRequest } from "../common/http/router.ts";
import type { LogLevel, Logger } from "../common/log.ts";
import { logLevelNumber, parseLogLevel } from "../common/logger.ts";
import { pprofRoutes } from "../common/pprof.ts";
import { VERSION, versionString } from "../common/version.ts";
import { isValidChannelName, isValidTopicName } from "../protocol/names.ts";
import type { FetchHandler, Runtime } from "../runtime/types.ts";
import type { Committer } from "./commit.ts";
import { parseBinaryMpub, splitTextMpub } from "./http-mpub.ts";
import { NSQD_OPTIONS, tlsRequiredLevel, type NsqdOptions } from "./options.ts";
import { metricsResponse, type MetricsHost } from "./prometheus.ts";
import { collectStats, formatStatsText, memoryStats } from "./stats.ts";
import { nsqdStatsdPrefix, type StatsdPrefixHost } from "./statsd.ts";
import type { Topic } from "./topic.ts";

/** What the routes need from the daemon (Nsqd implements it). */
export interface NsqdHttpHost extends MetricsHost, StatsdPrefixHost {
  readonly options: Readonly<NsqdOptions>;
  readonly logger: Logger;
  readonly runtime: Pick<Runtime, "hostname" | "memoryUsage" | "freeMemory" | "version" | "argv0" | "args">;
  readonly tcpPort: number;
  readonly httpPort: number;
  /** "OK" or "NOK - <error>" (D-BEH-HEALTH). */
  readonly health: string;
  readonly committer: Pick<Committer, "endPublish">;
  /** The topic, created if missing (D-BEH-AUTOCREATE). */
  getTopic(name: string): Topic;
  getExistingTopic(name: string): Topic | undefined;
  deleteTopic(name: string): boolean;
  persistMetadata(): void;
  /** PUT /config/nsqlookupd_tcp_addresses (D-BEH-LOOKUP-RECONFIG). */
  setLookupdTcpAddresses(addresses: readonly string[]): void;
  /** PUT /config/log_level. */
  setLogLevel(level: LogLevel): void;
}

export interface HttpHandlerOptions {
  /** This handler serves the HTTPS listener (so --tls-required=true does not refuse it). */
  tls?: boolean;
  /** The HTTPS listener's actual port for the TLS_REQUIRED answer (0 when there is none). */
  httpsPort?: () => number;
}

const textDecoder = new TextDecoder();

// ---- /config (D-HTTP-CONFIG) -------------------------------------------------

/** tls_min_version as Go's crypto/tls constant. */
const TLS_VERSIONS: Readonly<Record<string, number>> = { "tls1.0": 0x0301, "tls1.1": 0x0302, "tls1.2": 0x0303, "tls1.3": 0x0304 };

/** --broadcast-*-port as the original completes it: the bound port when 0, unless that is a Unix socket (-1 here). */
function derivedBroadcastPort(flag: number, bound: number): number {
  return flag !== 0 ? flag : Math.max(bound, 0);
}

/** The answer of GET /config/:opt, or undefined for an unknown key. */
export function configValue(host: NsqdHttpHost, key: string): Response | undefined {
  const spec = NSQD_OPTIONS.find((s) => s.key === key);
  if (spec === undefined) return undefined;
  const o = host.options;
  const value = (o as unknown as Record<string, unknown>)[key];
  switch (key) {
    case "log_level":
      try {
        return v1Json(logLevelNumber(parseLogLevel(String(value))));
      } catch {
        return v1Json(0);
      }
    case "tls_required":
      return v1Json(tlsRequiredLevel(String(value)));
    case "tls_min_version":
      return v1Json(TLS_VERSIONS[String(value).toLowerCase()] ?? TLS_VERSIONS["tls1.0"]);
    case "broadcast_address":
      // The original's default is the OS hostname.
      return v1Text(o.broadcast_address !== "" ? o.broadcast_address : host.runtime.hostname());
    // The original fills these in at start-up, once the listeners are bound,
    // and then reports the values it uses (D-HTTP-CONFIG).
    case "broadcast_tcp_port":
      return v1Json(derivedBroadcastPort(o.broadcast_tcp_port, host.tcpPort));
    case "broadcast_http_port":
      return v1Json(derivedBroadcastPort(o.broadcast_http_port, host.httpPort));
    case "statsd_prefix":
      return v1Text(nsqdStatsdPrefix(host));
  }
  switch (spec.type) {
    case "string":
      return v1Text(String(value)); // Q: strings are sent raw, not as JSON
    case "duration":
      return v1Json(Math.round(Number(value) * 1e6));
    default:
      return v1Json(value);
  }
}

/** The error text of Go's strconv.Atoi for `s`, or null when it parses. */
function atoiError(s: string): string | null {
  const quoted = JSON.stringify(s);
  if (!/^[+-]?\d+$/.test(s)) return `strconv.Atoi: parsing ${quoted}: invalid syntax`;
  const n = BigInt(s);
  if (n > 9223372036854775807n || n < -9223372036854775808n) return `strconv.Atoi: parsing ${quoted}: value out of range`;
  return null;
}

// ---- the handler -------------------------------------------------------------

export function createHttpHandler(nsqd: NsqdHttpHost, handlerOptions: HttpHandlerOptions = {}): FetchHandler {
  const log = nsqd.logger;

  // -- helpers shared by routes --

  /** NewReqParams of the original: drain the body, parse the query; nsqd logs a failure. */
  const reqParams = (req: RouteRequest) => readParams(req, (why) => log.error(`failed to parse request params - ${why}`));

  /** getTopicFromQuery: query only (the body is not read); creates the topic (D-BEH-AUTOCREATE). */
  function topicFromQuery(req: RouteRequest): { params: QueryParams; topic: Topic } {
    const params = QueryParams.parse(req.rawQuery);
    if (params === null) {
      log.error("failed to parse request params - invalid query");
      throw new HttpError(400, "INVALID_REQUEST");
    }
    const name = params.get("topic");
    if (name === undefined) throw new HttpError(400, "MISSING_ARG_TOPIC");
    if (!isValidTopicName(name)) throw new HttpError(400, "INVALID_TOPIC");
    return { params, topic: nsqd.getTopic(name) };
  }

  /** getExistingTopicFromQuery: topic and channel arguments validated, topic must exist. */
  async function existingTopicAndChannel(req: RouteRequest): Promise<{ topic: Topic; channel: string }> {
    const params = await reqParams(req);
    const topicName = params.get("topic");
    if (topicName === undefined) throw new HttpError(400, "MISSING_ARG_TOPIC");
    if (!isValidTopicName(topicName)) throw new HttpError(400, "INVALID_ARG_TOPIC");
    const channel = params.get("channel");
    if (channel === undefined) throw new HttpError(400, "MISSING_ARG_CHANNEL");
    if (!isValidChannelName(channel)) throw new HttpError(400, "INVALID_ARG_CHANNEL");
    const topic = nsqd.getExistingTopic(topicName);
    if (topic === undefined) throw new HttpError(404, "TOPIC_NOT_FOUND");
    return { topic, channel };
  }

  function persist(): void {
    // The original ignores a failure here too (the change itself stands).
    try {
      nsqd.persistMetadata();
    } catch (e) {
      log.error(`failed to persist metadata - ${errorText(e)}`);
    }
  }

  /**
   * Runs a publish and waits until the disk writes it made are done (commit.ts).
   * A topic that is going away answers 503 EXITING, as the original; a disk
   * that refuses the write answers 500 INTERNAL_ERROR, and the messages count
   * as not published.
   */
  async function publishDurably(topic: { readonly exiting: boolean }, publish: () => void): Promise<void> {
    const committer = nsqd.committer;
    try {
      publish();
    } catch (e) {
      committer.endPublish();
      if (topic.exiting) throw new HttpError(503, "EXITING");
      log.error(`failed to publish - ${errorText(e)}`);
      throw new HttpError(500, "INTERNAL_ERROR");
    }
    const gen = committer.endPublish();
    if (gen === null) return;
    await gen.wait();
    if (gen.failed !== null) {
      log.error(`failed to publish - ${gen.failed}`);
      throw new HttpError(500, "INTERNAL_ERROR");
    }
  }

  function attempt(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      log.error(`failure in ${what} - ${errorText(e)}`);
      throw new HttpError(500, "INTERNAL_ERROR");
    }
  }

  const paused = (pause: boolean, target: { pause(): void; unpause(): void }) => (pause ? target.pause() : target.unpause());

  // -- routes --

  const info = (): Response => {
    const o = nsqd.options;
    let hostname: string;
    try {
      hostname = nsqd.runtime.hostname();
    } catch (e) {
      throw new HttpError(500, errorText(e));
    }
    return v1Json({
      version: VERSION,
      broadcast_address: o.broadcast_address !== "" ? o.broadcast_address : hostname,
      hostname,
      http_port: nsqd.httpPort,
      tcp_port: nsqd.tcpPort,
      start_time: nsqd.startTime,
      max_heartbeat_interval: Math.round(o.max_heartbeat_interval * 1e6),
      max_output_buffer_size: o.max_output_buffer_size,
      max_output_buffer_timeout: Math.round(o.max_output_buffer_timeout * 1e6),
      max_deflate_level: o.max_deflate_level,
      topology_zone: o.topology_zone,
      topology_region: o.topology_region,
    });
  };

  // D-HTTP-PUB-ORDER
  const pub = async (req: RouteRequest): Promise<Response> => {
    const o = nsqd.options;
    const max = o.max_msg_size;
    if (contentLength(req.request) > max) throw new HttpError(413, "MSG_TOO_BIG");
    const read = await readLimited(req.request.body, max + 1);
    if (read.failed) throw new HttpError(500, "INTERNAL_ERROR");
    if (read.bytes.length === max + 1) throw new HttpError(413, "MSG_TOO_BIG");
    if (read.bytes.length === 0) throw new HttpError(400, "MSG_EMPTY");
    const { params, topic } = topicFromQuery(req);
    let deferMs = 0;
    const d = params.get("defer");
    if (d !== undefined) {
      // strconv.ParseInt(d, 10, 64): optional sign, decimal digits only.
      if (!/^[+-]?\d+$/.test(d)) throw new HttpError(400, "INVALID_DEFER");
      deferMs = Number(d);
      if (deferMs < 0 || deferMs > o.max_req_timeout) throw new HttpError(400, "INVALID_DEFER");
    }
    await publishDurably(topic, () => topic.publish(read.bytes, deferMs));
    return v1Text("OK");
  };

  // D-HTTP-MPUB-ORDER
  const mpub = async (req: RouteRequest): Promise<Response> => {
    const o = nsqd.options;
    if (contentLength(req.request) > o.max_body_size) throw new HttpError(413, "BODY_TOO_BIG");
    // Q: the topic is created here even when the body turns out to be bad.
    const { params, topic } = topicFromQuery(req);
    let binary = false;
    const b = params.get("binary");
    if (b !== undefined) {
      if (b === "true" || b === "1") binary = true;
      else if (b === "false" || b === "0") binary = false;
      else {
        binary = true;
        log.warn(`deprecated value '${b}' used for /mpub binary param`);
      }
    }
    let bodies: Uint8Array[];
    if (binary) {
      const parsed = await parseBinaryMpub(req.request.body, o.max_msg_size, o.max_body_size);
      if (!Array.isArray(parsed)) throw new HttpError(413, parsed.code);
      bodies = parsed;
    } else {
      const split = splitTextMpub(await readLimited(req.request.body, o.max_body_size + 1), o.max_msg_size, o.max_body_size);
      if (split instanceof HttpError) throw split;
      bodies = split;
    }
    await publishDurably(topic, () => topic.publishMany(bodies));
    return v1Text("OK");
  };

  const stats = async (req: RouteRequest): Promise<Response> => {
    const params = await reqParams(req);
    const flag = (key: string): boolean => {
      const v = params.get(key) ?? "";
      return !(v === "false" || v === "0");
    };
    const includeClients = flag("include_clients");
    const includeMem = flag("include_mem");
    const topic = params.get("topic") ?? "";
    const channel = params.get("channel") ?? "";
    const data = collectStats(nsqd, { topic, channel, includeClients });
    const memory = includeMem ? memoryStats(nsqd.runtime.memoryUsage()) : null;
    if (params.get("format") !== "json") {
      const now = Date.now();
      return v1Text(
        formatStatsText({
          versionLine: versionString("nsqd", nsqd.runtime.version),
          startTime: nsqd.startTime,
          uptimeMs: now - nsqd.startTime * 1000,
          health: nsqd.health,
          memory,
          stats: data,
          nowMs: now,
        }),
      );
    }
    const body: Record<string, unknown> = {
      version: VERSION,
      health: nsqd.health,
      start_time: nsqd.startTime,
      topics: data.topics,
    };
    if (memory !== null) body["memory"] = memory;
    body["producers"] = data.producers;
    return v1Json(body);
  };

  const topicCreate = (req: RouteRequest): Response => {
    topicFromQuery(req);
    return v1Empty();
  };

  const topicDelete = async (req: RouteRequest): Promise<Response> => {
    const name = (await reqParams(req)).get("topic");
    if (name === undefined) throw new HttpError(400, "MISSING_ARG_TOPIC");
    // Not validated: an invalid name simply is not found. Nsqd persists the metadata.
    if (!nsqd.deleteTopic(name)) throw new HttpError(404, "TOPIC_NOT_FOUND");
    return v1Empty();
  };

  const topicEmpty = async (req: RouteRequest): Promise<Response> => {
    const name = (await reqParams(req)).get("topic");
    if (name === undefined) throw new HttpError(400, "MISSING_ARG_TOPIC");
    if (!isValidTopicName(name)) throw new HttpError(400, "INVALID_TOPIC");
    const topic = nsqd.getExistingTopic(name);
    if (topic === undefined) throw new HttpError(404, "TOPIC_NOT_FOUND");
    attempt(req.url.pathname, () => topic.empty());
    return v1Empty();
  };

  const topicPause =
    (pause: boolean) =>
    async (req: RouteRequest): Promise<Response> => {
      const name = (await reqParams(req)).get("topic");
      if (name === undefined) throw new HttpError(400, "MISSING_ARG_TOPIC");
      const topic = nsqd.getExistingTopic(name);
      if (topic === undefined) throw new HttpError(404, "TOPIC_NOT_FOUND");
      attempt(req.url.pathname, () => paused(pause, topic));
      // Persisted at once, so a crash cannot silently undo the (un)pause (D-BEH-PAUSE).
      persist();
      return v1Empty();
    };

  const channelCreate = async (req: RouteRequest): Promise<Response> => {
    const { topic, channel } = await existingTopicAndChannel(req);
    topic.getChannel(channel); // Nsqd persists the metadata and notifies lookupd.
    return v1Empty();
  };

  const channelDelete = async (req: RouteRequest): Promise<Response> => {
    const { topic, channel } = await existingTopicAndChannel(req);
    if (!topic.deleteChannel(channel)) throw new HttpError(404, "CHANNEL_NOT_FOUND");
    return v1Empty();
  };

  const channelEmpty = async (req: RouteRequest): Promise<Response> => {
    const { topic, channel } = await existingTopicAndChannel(req);
    const c = topic.channels.get(channel);
    if (c === undefined) throw new HttpError(404, "CHANNEL_NOT_FOUND");
    attempt(req.url.pathname, () => c.empty());
    return v1Empty();
  };

  const channelPause =
    (pause: boolean) =>
    async (req: RouteRequest): Promise<Response> => {
      const { topic, channel } = await existingTopicAndChannel(req);
      const c = topic.channels.get(channel);
      if (c === undefined) throw new HttpError(404, "CHANNEL_NOT_FOUND");
      attempt(req.url.pathname, () => paused(pause, c));
      persist();
      return v1Empty();
    };

  const config = async (req: RouteRequest): Promise<Response> => {
    const key = req.params["opt"] ?? "";
    if (req.request.method === "PUT") {
      const readMax = nsqd.options.max_msg_size + 1;
      const read = await readLimited(req.request.body, readMax);
      if (read.failed) throw new HttpError(500, "INTERNAL_ERROR");
      if (read.bytes.length === readMax || read.bytes.length === 0) throw new HttpError(413, "INVALID_VALUE");
      const text = textDecoder.decode(read.bytes);
      switch (key) {
        case "nsqlookupd_tcp_addresses": {
          let list: unknown;
          try {
            list = JSON.parse(text);
          } catch {
            throw new HttpError(400, "INVALID_VALUE");
          }
          // JSON null empties the list (the original would then report null; we report []).
          if (list === null) list = [];
          if (!Array.isArray(list) || !list.every((a) => typeof a === "string")) throw new HttpError(400, "INVALID_VALUE");
          nsqd.setLookupdTcpAddresses(list as string[]);
          break;
        }
        case "log_level": {
          let level: LogLevel;
          try {
            level = parseLogLevel(text);
          } catch {
            throw new HttpError(400, "INVALID_VALUE");
          }
          nsqd.setLogLevel(level);
          break;
        }
        default:
          throw new HttpError(400, "INVALID_OPTION");
      }
    }
    const value = configValue(nsqd, key);
    if (value === undefined) throw new HttpError(400, "INVALID_OPTION");
    return value;
  };

  // -- /debug --

  const setBlockRate = (req: RouteRequest): Response => {
    // req.FormValue("rate"): the first query value, "" when absent or unparseable.
    const rate = QueryParams.parse(req.rawQuery)?.get("rate") ?? "";
    const err = atoiError(rate);
    if (err !== null) return plainText(`invalid block rate : ${err}`, 400);
    return plainText(""); // no block profiler in this runtime
  };
  // D-HTTP-DEBUG-FREEMEM: the original calls Go's debug.FreeOSMemory.
  const freeMemory = (): Response => {
    nsqd.runtime.freeMemory();
    return plainText("");
  };

  // -- route table: the original logs every route but /pub, /mpub and pprof --

  const pprof = {
    program: "nsqd",
    runtimeVersion: nsqd.runtime.version,
    argv: () => [nsqd.runtime.argv0(), ...nsqd.runtime.args()],
    memoryUsage: () => nsqd.runtime.memoryUsage(),
  };
  const routes: Route[] = [
    { method: "GET", path: "/ping", handler: () => plainText(nsqd.health, nsqd.healthy ? 200 : 500) },
    { method: "GET", path: "/info", handler: info },
    { method: "POST", path: "/pub", handler: pub, log: false },
    { method: "POST", path: "/mpub", handler: mpub, log: false },
    { method: "GET", path: "/stats", handler: stats },
    { method: "POST", path: "/topic/create", handler: topicCreate },
    { method: "POST", path: "/topic/delete", handler: topicDelete },
    { method: "POST", path: "/topic/empty", handler: topicEmpty },
    { method: "POST", path: "/topic/pause", handler: topicPause(true) },
    { method: "POST", path: "/topic/unpause", handler: topicPause(false) },
    { method: "POST", path: "/channel/create", handler: channelCreate },
    { method: "POST", path: "/channel/delete", handler: channelDelete },
    { method: "POST", path: "/channel/empty", handler: channelEmpty },
    { method: "POST", path: "/channel/pause", handler: channelPause(true) },
    { method: "POST", path: "/channel/unpause", handler: channelPause(false) },
    { method: "GET", path: "/config/:opt", handler: config },
    { method: "PUT", path: "/config/:opt", handler: config },
    ...pprofRoutes(pprof, "/debug/pprof/").map((r) => ({ ...r, log: false })),
    { method: "PUT", path: "/debug/setblockrate", handler: setBlockRate },
    { method: "POST", path: "/debug/freememory", handler: freeMemory },
    // Prometheus text exposition (not in the original; see ./prometheus.ts).
    { method: "GET", path: "/metrics", handler: () => metricsResponse(nsqd), log: false },
  ];
  const router = createRouter(routes, log);

  return (req, info) => {
    // D-HTTP-TLS-REQUIRED: with --tls-required=true the plain listener refuses everything.
    if (!handlerOptions.tls && tlsRequiredLevel(nsqd.options.tls_required) === 2) {
      const port = handlerOptions.httpsPort?.() ?? 0;
      return new Response(`{"message": "TLS_REQUIRED", "https_port": ${port}}`, {
        status: 403,
        headers: { "Content-Type": JSON_CONTENT_TYPE, "X-NSQ-Content-Type": NSQ_CONTENT_TYPE },
      });
    }
    return router(req, info);
  };
}
