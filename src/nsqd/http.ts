// nsqd's HTTP API (SPEC §3) as a web-standard fetch handler: every route of
// D-HTTP-* with the original's status codes, error texts, validation order and
// response conventions (X-HTTP-V1, X-HTTP-PLAIN, X-HTTP-ERRORS).
//
// Response conventions. "V1" routes answer 200 with raw text (`OK`, text
// stats, /config strings), an empty body, or JSON; errors are
// `{"message":"<TEXT>"}`; all carry `X-NSQ-Content-Type: nsq; version=1.0`.
// "Plain" routes (/ping, /debug/setblockrate, /debug/freememory) write their
// text as-is without that header. Unknown paths answer 404 NOT_FOUND, a known
// path with another method 405 METHOD_NOT_ALLOWED (with `Allow`), OPTIONS the
// `Allow` list, and a path that differs from a route only by a trailing slash
// a redirect (301 for GET, 307 otherwise), as the original's router does.
//
// Request bodies are read from the stream with a bound and never buffered
// whole: /pub reads at most max_msg_size+1 bytes, text /mpub at most
// max_body_size+1, binary /mpub is parsed as it streams in, PUT /config at most
// max_msg_size+1; admin POSTs (whose bodies the original reads and ignores)
// are drained chunk by chunk and discarded.
//
// Deliberate difference (D-HTTP-MPUB-BINARY): the original bounds a binary
// /mpub only by its Content-Length header; a chunked binary body is read
// without limit. Here a binary body is also cut off after max_body_size bytes
// (413 BODY_TOO_BIG), so a chunked upload cannot exhaust memory.
//
// /debug/* (D-HTTP-DEBUG, X-PPROF). /debug/pprof/* answers as nsqlookupd's
// does (see ../common/pprof.ts: index, cmdline and heap with what this runtime
// has, 501 for the Go-only profiles). Besides:
//   PUT  /debug/setblockrate?rate=N  validates N as the original does; 200, no effect (no block profiler)
//   POST /debug/freememory         runs globalThis.gc() when the runtime exposes it
//                                  (node --expose-gc, bun, deno --v8-flags=--expose-gc); else 200, no-op
import { parseQuery, requestTarget } from "../common/query.ts";
import { pprofRoutes } from "../common/pprof.ts";
import type { FetchHandler, RequestInfo } from "../runtime/types.ts";
import type { LevelledLogger } from "../common/logger.ts";
import { parseLogLevel, logLevelNumber } from "../common/logger.ts";
import { formatDurationNs } from "../common/duration.ts";
import { parseGoBool } from "../common/flags.ts";
import { VERSION, versionString } from "../common/version.ts";
import { isValidChannelName, isValidTopicName } from "../protocol/names.ts";
import { NSQD_OPTIONS, type NsqdOptions } from "./options.ts";
import { collectStats, formatStatsText, memoryStats } from "./stats.ts";
import type { Nsqd } from "./nsqd.ts";
import type { Topic } from "./topic.ts";
import { metricsResponse } from "./prometheus.ts";
import { nsqdStatsdPrefix } from "./statsd.ts";
import { errorText } from "../common/errors.ts";

const NSQ_CONTENT_TYPE = "nsq; version=1.0";
const JSON_TYPE = "application/json; charset=utf-8";
const TEXT_TYPE = "text/plain; charset=utf-8";

const textDecoder = new TextDecoder();

// ---- responses -------------------------------------------------------------

/** A handler's failure: the status and the text of `{"message": ...}`. */
class HttpError extends Error {
  readonly status: number;
  constructor(status: number, text: string) {
    super(text);
    this.status = status;
  }
}

/** encoding/json escapes these; JSON.stringify does not. */
function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** What a V1 handler returns: text (raw body), null (empty body) or a value sent as JSON. */
type V1Result = string | null | { json: unknown };

function v1Response(result: V1Result): Response {
  const headers = new Headers({ "X-NSQ-Content-Type": NSQ_CONTENT_TYPE });
  if (result === null) return new Response(null, { status: 200, headers });
  if (typeof result === "string") {
    // Go sniffs the content type of a raw body; for our texts that is plain text.
    if (result !== "") headers.set("Content-Type", TEXT_TYPE);
    return new Response(result === "" ? null : result, { status: 200, headers });
  }
  headers.set("Content-Type", JSON_TYPE);
  return new Response(goJson(result.json), { status: 200, headers });
}

function v1Error(status: number, text: string, extra?: Record<string, string>): Response {
  const headers = new Headers({ "Content-Type": JSON_TYPE, "X-NSQ-Content-Type": NSQ_CONTENT_TYPE, ...extra });
  return new Response(goJson({ message: text }), { status, headers });
}

function plainResponse(status: number, text: string): Response {
  if (text === "") return new Response(null, { status });
  return new Response(text, { status, headers: { "Content-Type": TEXT_TYPE } });
}


function first(params: Map<string, string[]>, key: string): string | undefined {
  return params.get(key)?.[0];
}

// ---- request bodies --------------------------------------------------------

/** Content-Length as a number, or -1 when absent or unreadable (chunked). */
function contentLength(req: Request): number {
  const v = req.headers.get("content-length");
  if (v === null || !/^\d+$/.test(v.trim())) return -1;
  return Number(v.trim());
}

interface LimitedRead {
  bytes: Uint8Array;
  /** The stream failed before the limit or its end was reached. */
  failed: boolean;
}

/**
 * Read at most `limit` bytes of the body (io.LimitReader of the original):
 * stops pulling once `limit` bytes are in, so a body longer than that is never
 * held whole.
 */
async function readLimited(body: ReadableStream<Uint8Array> | null, limit: number): Promise<LimitedRead> {
  if (body === null) return { bytes: new Uint8Array(0), failed: false };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let failed = false;
  try {
    while (total < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      const take = Math.min(value.length, limit - total);
      chunks.push(take === value.length ? value : value.subarray(0, take));
      total += take;
    }
  } catch {
    failed = true;
  }
  if (total >= limit || failed) reader.cancel().catch(() => {});
  else reader.releaseLock();
  return { bytes: concat(chunks, total), failed };
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/** Read and discard a body the original reads and ignores. False when reading failed. */
async function drain(body: ReadableStream<Uint8Array> | null): Promise<boolean> {
  if (body === null) return true;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done } = await reader.read();
      if (done) return true;
    }
  } catch {
    return false;
  }
}

/**
 * Pulls bytes from a body stream for the binary /mpub parser, keeping only
 * what has not been consumed yet. A read error counts as the end of the body,
 * which the parser reports as the truncation error of the field it was reading.
 */
class BodySource {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array> | null;
  #chunks: Uint8Array[] = [];
  #head = 0;
  #buffered = 0;
  #ended = false;

  constructor(body: ReadableStream<Uint8Array> | null) {
    this.#reader = body === null ? null : body.getReader();
    if (this.#reader === null) this.#ended = true;
  }

  get buffered(): number {
    return this.#buffered;
  }

  /** Pull until `n` bytes are buffered; false when the body ends first. */
  async fill(n: number): Promise<boolean> {
    while (this.#buffered < n) {
      if (this.#ended) return false;
      try {
        const { done, value } = await this.#reader!.read();
        if (done) {
          this.#ended = true;
          return false;
        }
        if (value.length > 0) {
          this.#chunks.push(value);
          this.#buffered += value.length;
        }
      } catch {
        this.#ended = true;
        return false;
      }
    }
    return true;
  }

  /** Take `n` buffered bytes: a view when they sit in one chunk, one copy when they span chunks. */
  take(n: number): Uint8Array {
    const firstChunk = this.#chunks[0]!;
    if (firstChunk.length - this.#head >= n) {
      const out = firstChunk.subarray(this.#head, this.#head + n);
      this.#advance(n);
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const c = this.#chunks[0]!;
      const part = Math.min(c.length - this.#head, n - filled);
      out.set(c.subarray(this.#head, this.#head + part), filled);
      filled += part;
      this.#advance(part);
    }
    return out;
  }

  #advance(n: number): void {
    this.#head += n;
    this.#buffered -= n;
    if (this.#head === this.#chunks[0]!.length) {
      this.#chunks.shift();
      this.#head = 0;
    }
  }

  readInt32(): number {
    const b = this.take(4);
    return new DataView(b.buffer, b.byteOffset, 4).getInt32(0);
  }

  close(): void {
    if (!this.#ended) this.#reader?.cancel().catch(() => {});
    this.#ended = true;
  }
}

/** A failure of the binary /mpub parse: the TCP code without `E_` is the HTTP error text (D-HTTP-MPUB-BINARY). */
interface MpubParseError {
  code: "BAD_BODY" | "BAD_MESSAGE" | "BODY_TOO_BIG";
  /** The TCP protocol's text for the same failure (D-TCP-MPUB), for the log. */
  text: string;
}

/**
 * `[num int32]{[size int32][bytes]}×num`, validated like TCP MPUB (same
 * texts as src/protocol/command-reader.ts). Bytes after the last message are
 * not read. Awaits only when the buffered bytes run short.
 */
export async function parseBinaryMpub(
  body: ReadableStream<Uint8Array> | null,
  maxMsgSize: number,
  maxBodySize: number,
): Promise<Uint8Array[] | MpubParseError> {
  const src = new BodySource(body);
  let consumed = 0;
  const tooBig = (n: number): MpubParseError | null =>
    consumed + n > maxBodySize ? { code: "BODY_TOO_BIG", text: `MPUB body too big ${consumed + n} > ${maxBodySize}` } : null;
  try {
    if (src.buffered < 4 && !(await src.fill(4))) return { code: "BAD_BODY", text: "MPUB failed to read message count" };
    const count = src.readInt32();
    consumed += 4;
    if (count <= 0 || count > Math.trunc((maxBodySize - 4) / 5)) {
      return { code: "BAD_BODY", text: `MPUB invalid message count ${count}` };
    }
    const bodies: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const over = tooBig(4);
      if (over !== null) return over;
      if (src.buffered < 4 && !(await src.fill(4))) {
        return { code: "BAD_MESSAGE", text: `MPUB failed to read message(${i}) body size` };
      }
      const size = src.readInt32();
      consumed += 4;
      if (size <= 0) return { code: "BAD_MESSAGE", text: `MPUB invalid message(${i}) body size ${size}` };
      if (size > maxMsgSize) return { code: "BAD_MESSAGE", text: `MPUB message too big ${size} > ${maxMsgSize}` };
      const overBody = tooBig(size);
      if (overBody !== null) return overBody;
      if (src.buffered < size && !(await src.fill(size))) return { code: "BAD_MESSAGE", text: "MPUB failed to read message body" };
      bodies.push(src.take(size));
      consumed += size;
    }
    return bodies;
  } finally {
    src.close();
  }
}

/**
 * Text /mpub over the bytes read (at most max_body_size+1), exactly as the
 * original's line loop: each line counts toward the total with its newline;
 * reaching max_body_size+1 is BODY_TOO_BIG; the newline is cut (a `\r` stays);
 * empty lines are skipped; a line over max_msg_size is MSG_TOO_BIG. A read
 * error surfaces when the loop reaches the partial line it cut short.
 */
export function splitTextMpub(read: LimitedRead, maxMsgSize: number, maxBodySize: number): Uint8Array[] | HttpError {
  const bytes = read.bytes;
  const readMax = maxBodySize + 1;
  const bodies: Uint8Array[] = [];
  let total = 0;
  let start = 0;
  while (start < bytes.length || (start === bytes.length && read.failed)) {
    const nl = bytes.indexOf(0x0a, start);
    const end = nl < 0 ? bytes.length : nl + 1;
    if (nl < 0 && read.failed) return new HttpError(500, "INTERNAL_ERROR");
    total += end - start;
    if (total === readMax) return new HttpError(413, "BODY_TOO_BIG");
    const line = bytes.subarray(start, nl < 0 ? end : nl);
    start = end;
    if (line.length === 0) continue;
    if (line.length > maxMsgSize) return new HttpError(413, "MSG_TOO_BIG");
    bodies.push(line);
  }
  return bodies;
}

// ---- /config (D-HTTP-CONFIG) -------------------------------------------------

/** tls_min_version as Go's crypto/tls constant. */
const TLS_VERSIONS: Readonly<Record<string, number>> = { "tls1.0": 0x0301, "tls1.1": 0x0302, "tls1.2": 0x0303, "tls1.3": 0x0304 };

/** tls_required as the original's TLSNotRequired (0), TLSRequiredExceptHTTP (1), TLSRequired (2). */
function tlsRequiredLevel(value: string): number {
  if (value === "tcp-https") return 1;
  return parseGoBool(value) === true ? 2 : 0;
}

/** --broadcast-*-port as the original completes it: the bound port when 0, unless that is a Unix socket (-1 here). */
function derivedBroadcastPort(flag: number, bound: number): number {
  return flag !== 0 ? flag : Math.max(bound, 0);
}

/** The value GET /config/:opt reports, or undefined for an unknown key. */
export function configValue(nsqd: Nsqd, key: string): V1Result | undefined {
  const spec = NSQD_OPTIONS.find((s) => s.key === key);
  if (spec === undefined) return undefined;
  const o = nsqd.options;
  const value = (o as unknown as Record<string, unknown>)[key];
  switch (key) {
    case "log_level":
      try {
        return { json: logLevelNumber(parseLogLevel(String(value))) };
      } catch {
        return { json: 0 };
      }
    case "tls_required":
      return { json: tlsRequiredLevel(String(value)) };
    case "tls_min_version":
      return { json: TLS_VERSIONS[String(value).toLowerCase()] ?? TLS_VERSIONS["tls1.0"] };
    case "broadcast_address":
      // The original's default is the OS hostname.
      return o.broadcast_address !== "" ? o.broadcast_address : nsqd.runtime.hostname();
    // The original fills these in at start-up, once the listeners are bound,
    // and then reports the values it uses (D-HTTP-CONFIG).
    case "broadcast_tcp_port":
      return { json: derivedBroadcastPort(o.broadcast_tcp_port, nsqd.tcpPort) };
    case "broadcast_http_port":
      return { json: derivedBroadcastPort(o.broadcast_http_port, nsqd.httpPort) };
    case "statsd_prefix":
      return nsqdStatsdPrefix(nsqd);
  }
  switch (spec.type) {
    case "string":
      return String(value); // Q: strings are sent raw, not as JSON
    case "duration":
      return { json: Math.round(Number(value) * 1e6) };
    default:
      return { json: value };
  }
}

// ---- the handler -------------------------------------------------------------

interface Context {
  req: Request;
  url: URL;
  /** The raw query string (without `?`). */
  rawQuery: string;
  /** The `:opt` of /config/:opt. */
  param: string;
}

type V1Handler = (ctx: Context) => V1Result | Promise<V1Result>;
type PlainHandler = (ctx: Context) => { status: number; text: string } | Promise<{ status: number; text: string }>;

interface Route {
  kind: "v1" | "plain" | "raw";
  /** Log one INFO line per request, as the original's Log decorator does (not on /pub, /mpub). */
  log: boolean;
  run: V1Handler | PlainHandler | ((ctx: Context) => Response | Promise<Response>);
}

export interface HttpHandlerOptions {
  /** This handler serves the HTTPS listener (so --tls-required=true does not refuse it). */
  tls?: boolean;
  /** The HTTPS listener's actual port for the TLS_REQUIRED answer (0 when there is none). */
  httpsPort?: () => number;
}

export function createHttpHandler(nsqd: Nsqd, handlerOptions: HttpHandlerOptions = {}): FetchHandler {
  const o: NsqdOptions = nsqd.options;
  const log = nsqd.logger;

  // -- helpers shared by routes --

  /** NewReqParams of the original: drain the body, parse the query. */
  async function reqParams(ctx: Context): Promise<Map<string, string[]>> {
    const drained = await drain(ctx.req.body);
    const params = drained ? parseQuery(ctx.rawQuery) : null;
    if (params === null) {
      log.error(`failed to parse request params - ${drained ? "invalid query" : "failed to read body"}`);
      throw new HttpError(400, "INVALID_REQUEST");
    }
    return params;
  }

  /** getTopicFromQuery: query only (the body is not read); creates the topic (D-BEH-AUTOCREATE). */
  function topicFromQuery(ctx: Context): { params: Map<string, string[]>; topic: Topic } {
    const params = parseQuery(ctx.rawQuery);
    if (params === null) {
      log.error("failed to parse request params - invalid query");
      throw new HttpError(400, "INVALID_REQUEST");
    }
    const name = first(params, "topic");
    if (name === undefined) throw new HttpError(400, "MISSING_ARG_TOPIC");
    if (!isValidTopicName(name)) throw new HttpError(400, "INVALID_TOPIC");
    return { params, topic: nsqd.getTopic(name) };
  }

  /** getExistingTopicFromQuery: topic and channel arguments validated, topic must exist. */
  async function existingTopicAndChannel(ctx: Context): Promise<{ topic: Topic; channel: string }> {
    const params = await reqParams(ctx);
    const topicName = first(params, "topic");
    if (topicName === undefined) throw new HttpError(400, "MISSING_ARG_TOPIC");
    if (!isValidTopicName(topicName)) throw new HttpError(400, "INVALID_ARG_TOPIC");
    const channel = first(params, "channel");
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

  // -- routes --

  const ping: PlainHandler = () => (nsqd.healthy ? { status: 200, text: nsqd.health } : { status: 500, text: nsqd.health });

  const info: V1Handler = () => {
    let hostname: string;
    try {
      hostname = nsqd.runtime.hostname();
    } catch (e) {
      throw new HttpError(500, errorText(e));
    }
    return {
      json: {
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
      },
    };
  };

  // D-HTTP-PUB-ORDER
  const pub: V1Handler = async (ctx) => {
    const max = o.max_msg_size;
    if (contentLength(ctx.req) > max) throw new HttpError(413, "MSG_TOO_BIG");
    const read = await readLimited(ctx.req.body, max + 1);
    if (read.failed) throw new HttpError(500, "INTERNAL_ERROR");
    if (read.bytes.length === max + 1) throw new HttpError(413, "MSG_TOO_BIG");
    if (read.bytes.length === 0) throw new HttpError(400, "MSG_EMPTY");
    const { params, topic } = topicFromQuery(ctx);
    let deferMs = 0;
    const d = first(params, "defer");
    if (d !== undefined) {
      // strconv.ParseInt(d, 10, 64): optional sign, decimal digits only.
      if (!/^[+-]?\d+$/.test(d)) throw new HttpError(400, "INVALID_DEFER");
      deferMs = Number(d);
      if (deferMs < 0 || deferMs > o.max_req_timeout) throw new HttpError(400, "INVALID_DEFER");
    }
    await publishDurably(topic, () => topic.publish(read.bytes, deferMs));
    return "OK";
  };

  // D-HTTP-MPUB-ORDER
  const mpub: V1Handler = async (ctx) => {
    if (contentLength(ctx.req) > o.max_body_size) throw new HttpError(413, "BODY_TOO_BIG");
    // Q: the topic is created here even when the body turns out to be bad.
    const { params, topic } = topicFromQuery(ctx);
    let binary = false;
    const b = first(params, "binary");
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
      const parsed = await parseBinaryMpub(ctx.req.body, o.max_msg_size, o.max_body_size);
      if (!Array.isArray(parsed)) throw new HttpError(413, parsed.code);
      bodies = parsed;
    } else {
      const split = splitTextMpub(await readLimited(ctx.req.body, o.max_body_size + 1), o.max_msg_size, o.max_body_size);
      if (split instanceof HttpError) throw split;
      bodies = split;
    }
    await publishDurably(topic, () => topic.publishMany(bodies));
    return "OK";
  };

  const stats: V1Handler = async (ctx) => {
    const params = await reqParams(ctx);
    const flag = (key: string): boolean => {
      const v = first(params, key) ?? "";
      return v === "false" || v === "0" ? false : true;
    };
    const includeClients = flag("include_clients");
    const includeMem = flag("include_mem");
    const topic = first(params, "topic") ?? "";
    const channel = first(params, "channel") ?? "";
    const data = collectStats(nsqd, { topic, channel, includeClients });
    const memory = includeMem ? memoryStats(nsqd.runtime.memoryUsage()) : null;
    if (first(params, "format") !== "json") {
      const now = Date.now();
      return formatStatsText({
        versionLine: versionString("nsqd", nsqd.runtime.version),
        startTime: nsqd.startTime,
        uptimeMs: now - nsqd.startTime * 1000,
        health: nsqd.health,
        memory,
        stats: data,
        nowMs: now,
      });
    }
    const body: Record<string, unknown> = {
      version: VERSION,
      health: nsqd.health,
      start_time: nsqd.startTime,
      topics: data.topics,
    };
    if (memory !== null) body["memory"] = memory;
    body["producers"] = data.producers;
    return { json: body };
  };

  const topicCreate: V1Handler = (ctx) => {
    topicFromQuery(ctx);
    return null;
  };

  const topicDelete: V1Handler = async (ctx) => {
    const params = await reqParams(ctx);
    const name = first(params, "topic");
    if (name === undefined) throw new HttpError(400, "MISSING_ARG_TOPIC");
    // Not validated: an invalid name simply is not found. Nsqd persists the metadata.
    if (!nsqd.deleteTopic(name)) throw new HttpError(404, "TOPIC_NOT_FOUND");
    return null;
  };

  const topicEmpty: V1Handler = async (ctx) => {
    const params = await reqParams(ctx);
    const name = first(params, "topic");
    if (name === undefined) throw new HttpError(400, "MISSING_ARG_TOPIC");
    if (!isValidTopicName(name)) throw new HttpError(400, "INVALID_TOPIC");
    const topic = nsqd.getExistingTopic(name);
    if (topic === undefined) throw new HttpError(404, "TOPIC_NOT_FOUND");
    attempt(ctx.url.pathname, () => topic.empty());
    return null;
  };

  const topicPause = (pause: boolean): V1Handler => async (ctx) => {
    const params = await reqParams(ctx);
    const name = first(params, "topic");
    if (name === undefined) throw new HttpError(400, "MISSING_ARG_TOPIC");
    const topic = nsqd.getExistingTopic(name);
    if (topic === undefined) throw new HttpError(404, "TOPIC_NOT_FOUND");
    attempt(ctx.url.pathname, () => (pause ? topic.pause() : topic.unpause()));
    // Persisted at once, so a crash cannot silently undo the (un)pause (D-BEH-PAUSE).
    persist();
    return null;
  };

  const channelCreate: V1Handler = async (ctx) => {
    const { topic, channel } = await existingTopicAndChannel(ctx);
    topic.getChannel(channel); // Nsqd persists the metadata and notifies lookupd.
    return null;
  };

  const channelDelete: V1Handler = async (ctx) => {
    const { topic, channel } = await existingTopicAndChannel(ctx);
    if (!topic.deleteChannel(channel)) throw new HttpError(404, "CHANNEL_NOT_FOUND");
    return null;
  };

  const channelEmpty: V1Handler = async (ctx) => {
    const { topic, channel } = await existingTopicAndChannel(ctx);
    const c = topic.channels.get(channel);
    if (c === undefined) throw new HttpError(404, "CHANNEL_NOT_FOUND");
    attempt(ctx.url.pathname, () => c.empty());
    return null;
  };

  const channelPause = (pause: boolean): V1Handler => async (ctx) => {
    const { topic, channel } = await existingTopicAndChannel(ctx);
    const c = topic.channels.get(channel);
    if (c === undefined) throw new HttpError(404, "CHANNEL_NOT_FOUND");
    attempt(ctx.url.pathname, () => (pause ? c.pause() : c.unpause()));
    persist();
    return null;
  };

  const config: V1Handler = async (ctx) => {
    const key = ctx.param;
    if (ctx.req.method === "PUT") {
      const readMax = o.max_msg_size + 1;
      const read = await readLimited(ctx.req.body, readMax);
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
          o.nsqlookupd_tcp_addresses = list as string[];
          // D-BEH-LOOKUP-RECONFIG: removed peers are closed, new ones connected.
          nsqd.lookupPeers?.setAddresses(o.nsqlookupd_tcp_addresses);
          break;
        }
        case "log_level": {
          let level;
          try {
            level = parseLogLevel(text);
          } catch {
            throw new HttpError(400, "INVALID_VALUE");
          }
          o.log_level = level;
          // The CLI's logger can change its level at run time; others keep theirs.
          const l = log as Partial<LevelledLogger>;
          if (typeof l.setLevel === "function") l.setLevel(level);
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

  const setBlockRate: PlainHandler = (ctx) => {
    // req.FormValue("rate"): the first query value, "" when absent or unparseable.
    const rate = first(parseQuery(ctx.rawQuery) ?? new Map(), "rate") ?? "";
    const err = atoiError(rate);
    if (err !== null) return { status: 400, text: `invalid block rate : ${err}` };
    return { status: 200, text: "" }; // no block profiler in this runtime
  };
  const freeMemory: PlainHandler = () => {
    const gc = (globalThis as { gc?: unknown }).gc;
    if (typeof gc === "function") (gc as () => void)();
    return { status: 200, text: "" };
  };

  // -- route table --

  const routes = new Map<string, Map<string, Route>>();
  const add = (method: string, path: string, kind: Route["kind"], run: Route["run"], logged = true): void => {
    let byMethod = routes.get(path);
    if (byMethod === undefined) routes.set(path, (byMethod = new Map()));
    byMethod.set(method, { kind, log: logged, run });
  };
  add("GET", "/ping", "plain", ping);
  add("GET", "/info", "v1", info);
  add("POST", "/pub", "v1", pub, false);
  add("POST", "/mpub", "v1", mpub, false);
  add("GET", "/stats", "v1", stats);
  add("POST", "/topic/create", "v1", topicCreate);
  add("POST", "/topic/delete", "v1", topicDelete);
  add("POST", "/topic/empty", "v1", topicEmpty);
  add("POST", "/topic/pause", "v1", topicPause(true));
  add("POST", "/topic/unpause", "v1", topicPause(false));
  add("POST", "/channel/create", "v1", channelCreate);
  add("POST", "/channel/delete", "v1", channelDelete);
  add("POST", "/channel/empty", "v1", channelEmpty);
  add("POST", "/channel/pause", "v1", channelPause(true));
  add("POST", "/channel/unpause", "v1", channelPause(false));
  add("GET", "/config/:opt", "v1", config);
  add("PUT", "/config/:opt", "v1", config);
  const pprof = { program: "nsqd", runtimeVersion: nsqd.runtime.version, argv: () => [nsqd.runtime.argv0(), ...nsqd.runtime.args()], memoryUsage: () => nsqd.runtime.memoryUsage() };
  for (const r of pprofRoutes(pprof, "/debug/pprof/")) add(r.method, r.path, "raw", r.handler, false);
  add("PUT", "/debug/setblockrate", "plain", setBlockRate);
  add("POST", "/debug/freememory", "plain", freeMemory);
  // Prometheus text exposition (not in the original; see ./prometheus.ts).
  add("GET", "/metrics", "raw", () => metricsResponse(nsqd), false);

  /** The routes registered for a path: exact, or /config/:opt with a one-segment value. */
  function lookup(path: string): { byMethod: Map<string, Route>; param: string } | undefined {
    const exact = routes.get(path);
    if (exact !== undefined) return { byMethod: exact, param: "" };
    if (path.startsWith("/config/")) {
      const opt = path.slice("/config/".length);
      if (opt !== "" && !opt.includes("/")) return { byMethod: routes.get("/config/:opt")!, param: opt };
    }
    return undefined;
  }

  function allowHeader(byMethod: Map<string, Route>): string {
    return [...byMethod.keys(), "OPTIONS"].sort().join(", ");
  }

  /** `uri`: the request target as the original logs it (path and raw query). */
  function logRequest(status: number, req: Request, uri: string, info: RequestInfo | undefined, started: number): void {
    const remote = info === undefined || info.remoteAddress === "" ? "" : `${info.remoteAddress}:${info.remotePort}`;
    const elapsed = formatDurationNs(BigInt(Math.max(0, Math.round((performance.now() - started) * 1e6))));
    log.info(`${status} ${req.method} ${uri} (${remote}) ${elapsed}`);
  }

  async function run(route: Route, ctx: Context): Promise<Response> {
    if (route.kind === "raw") return (route.run as (c: Context) => Response | Promise<Response>)(ctx);
    if (route.kind === "plain") {
      const r = await (route.run as PlainHandler)(ctx);
      return plainResponse(r.status, r.text);
    }
    try {
      return v1Response(await (route.run as V1Handler)(ctx));
    } catch (e) {
      if (e instanceof HttpError) return v1Error(e.status, e.message);
      throw e;
    }
  }

  return async (req: Request, info?: RequestInfo): Promise<Response> => {
    const started = performance.now();
    const url = new URL(req.url);
    // D-HTTP-TLS-REQUIRED: with --tls-required=true the plain listener refuses everything.
    if (!handlerOptions.tls && tlsRequiredLevel(o.tls_required) === 2) {
      const port = handlerOptions.httpsPort?.() ?? 0;
      return new Response(`{"message": "TLS_REQUIRED", "https_port": ${port}}`, {
        status: 403,
        headers: { "Content-Type": JSON_TYPE, "X-NSQ-Content-Type": NSQ_CONTENT_TYPE },
      });
    }
    // X-HTTP-PARAMS: a `#` in the target belongs to the query (or path), as in Go.
    const target = requestTarget(url);
    let path = target.path;
    try {
      path = decodeURIComponent(path);
    } catch {
      // keep the encoded form; it will not match a route
    }
    const rawQuery = target.rawQuery;
    const uri = rawQuery === "" ? target.path : `${target.path}?${rawQuery}`;
    const method = req.method.toUpperCase();
    const found = lookup(path);
    const route = found?.byMethod.get(method);
    if (route !== undefined) {
      const ctx: Context = { req, url, rawQuery, param: found!.param };
      let response: Response;
      try {
        response = await run(route, ctx);
      } catch (e) {
        // The original's panic handler (X-HTTP-ERRORS).
        log.error(`panic in HTTP handler - ${errorText(e)}`);
        response = v1Error(500, "INTERNAL_ERROR");
      }
      if (route.log) logRequest(response.status, req, uri, info, started);
      return response;
    }
    // Trailing-slash redirect when the other spelling has this method (X-HTTP-ERRORS, Q).
    if (method !== "CONNECT" && path !== "/") {
      const other = path.endsWith("/") ? path.slice(0, -1) : `${path}/`;
      if (lookup(other)?.byMethod.has(method)) {
        const location = rawQuery === "" ? other : `${other}?${rawQuery}`;
        return new Response(null, { status: method === "GET" ? 301 : 307, headers: { Location: location } });
      }
    }
    if (found !== undefined) {
      const allow = allowHeader(found.byMethod);
      if (method === "OPTIONS") return new Response(null, { status: 200, headers: { Allow: allow } });
      const response = v1Error(405, "METHOD_NOT_ALLOWED", { Allow: allow });
      logRequest(405, req, uri, info, started);
      return response;
    }
    const response = v1Error(404, "NOT_FOUND");
    logRequest(404, req, uri, info, started);
    return response;
  };
}

/** The error text of Go's strconv.Atoi for `s`, or null when it parses. */
function atoiError(s: string): string | null {
  const quoted = JSON.stringify(s);
  if (!/^[+-]?\d+$/.test(s)) return `strconv.Atoi: parsing ${quoted}: invalid syntax`;
  const n = BigInt(s);
  if (n > 9223372036854775807n || n < -9223372036854775808n) return `strconv.Atoi: parsing ${quoted}: value out of range`;
  return null;
}
