// nsqd's client authorization (D-BEH-AUTH, D-BEH-AUTH-MATCH): querying the
// auth servers of --auth-http-address, validating their reply, and deciding
// whether a connection may publish to or subscribe on a topic/channel.
// Also the V1 HTTP client the queries use (X-HTTP-CLIENT): HTTPS auth
// servers are verified with --tls-root-ca-file and --tls-min-version, through
// Runtime.httpClient (createAuthHttpClient).
import type { HttpClient, HttpClientOptions, Runtime } from "../runtime/types.ts";
import type { NsqdOptions } from "./options.ts";
import { errorText } from "../common/errors.ts";

/** What nsqd tells the auth server about a connection. */
export interface AuthParams {
  /** Client IP, "" for a Unix socket. */
  remoteIp: string;
  tls: boolean;
  secret: string;
  /** CN of the client certificate, "" if none. */
  commonName: string;
}

export interface AuthQueryOptions extends V1ClientOptions {
  /** "get" (default) or "post". */
  method: string;
  /** Where the rotation over the servers starts (default: random). */
  start?: number;
}

export interface Authorization {
  readonly topic: RegExp;
  readonly channels: readonly RegExp[];
  readonly permissions: readonly string[];
}

/** A validated auth reply, cached until `expiresAt` (epoch ms). */
export class AuthState {
  readonly identity: string;
  readonly identityUrl: string;
  readonly ttl: number;
  readonly expiresAt: number;
  readonly authorizations: readonly Authorization[];

  constructor(identity: string, identityUrl: string, ttl: number, authorizations: readonly Authorization[], now = Date.now()) {
    this.identity = identity;
    this.identityUrl = identityUrl;
    this.ttl = ttl;
    this.authorizations = authorizations;
    this.expiresAt = now + ttl * 1000;
  }

  isExpired(now = Date.now()): boolean {
    return now >= this.expiresAt;
  }

  /**
   * D-BEH-AUTH-MATCH: a non-empty channel needs `subscribe`, an empty one
   * (publishing) needs `publish`; the topic regex must match and at least one
   * channel regex must match the channel. Regexes are unanchored, as Go's
   * MatchString is.
   */
  isAllowed(topic: string, channel: string): boolean {
    const needed = channel !== "" ? "subscribe" : "publish";
    for (const a of this.authorizations) {
      if (!a.permissions.includes(needed)) continue;
      if (!a.topic.test(topic)) continue;
      if (a.channels.some((c) => c.test(channel))) return true;
    }
    return false;
  }
}

/** `host:port` -> `http://host:port/auth`; a value containing `://` is the whole URL. */
export function authEndpoint(address: string): string {
  return address.includes("://") ? address : `http://${address}/auth`;
}

/** The original encodes the parameters with Go's url.Values: keys sorted. */
function paramPairs(p: AuthParams): [string, string][] {
  return [
    ["common_name", p.commonName],
    ["remote_ip", p.remoteIp],
    ["secret", p.secret],
    ["tls", p.tls ? "true" : "false"],
  ];
}

/**
 * Ask the servers in turn, starting at a random one, until one gives a valid
 * reply (D-BEH-AUTH). Rejects with the last error when none does.
 */
export async function queryAnyAuthd(addresses: readonly string[], params: AuthParams, options: AuthQueryOptions): Promise<AuthState> {
  if (addresses.length === 0) throw new Error("no auth server configured");
  const start = options.start ?? Math.floor(Math.random() * addresses.length);
  let last: Error = new Error("no auth server answered");
  for (let i = 0; i < addresses.length; i++) {
    const address = addresses[(start + i) % addresses.length]!;
    try {
      return await queryAuthd(address, params, options);
    } catch (e) {
      last = e instanceof Error ? e : new Error(String(e));
      last = new Error(`failed auth against ${address} ${last.message}`);
    }
  }
  throw last;
}

export async function queryAuthd(address: string, params: AuthParams, options: AuthQueryOptions): Promise<AuthState> {
  const endpoint = authEndpoint(address);
  const pairs = paramPairs(params);
  let body: unknown;
  if (options.method === "post") {
    // url.Values as JSON: every value a one-element array.
    const values: Record<string, string[]> = {};
    for (const [k, v] of pairs) values[k] = [v];
    body = await httpPostV1(endpoint, values, options);
  } else {
    const query = pairs.map(([k, v]) => `${encodeQuery(k)}=${encodeQuery(v)}`).join("&");
    body = await httpGetV1(`${endpoint}?${query}`, options);
  }
  return parseAuthReply(body);
}

/** Go's url.QueryEscape: spaces as "+", everything but unreserved characters escaped. */
function encodeQuery(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+");
}

/** Validate an auth server's JSON reply (D-BEH-AUTH). */
export function parseAuthReply(body: unknown, now = Date.now()): AuthState {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new Error("auth reply is not a JSON object");
  const o = body as Record<string, unknown>;
  const ttl = o["ttl"] ?? 0;
  if (typeof ttl !== "number" || !Number.isInteger(ttl)) throw new Error(`invalid TTL ${JSON.stringify(ttl)}`);
  const identity = typeof o["identity"] === "string" ? o["identity"] : "";
  const identityUrl = typeof o["identity_url"] === "string" ? o["identity_url"] : "";
  const list = o["authorizations"] ?? [];
  if (!Array.isArray(list)) throw new Error("authorizations is not a list");
  const authorizations: Authorization[] = [];
  for (const raw of list as unknown[]) {
    if (typeof raw !== "object" || raw === null) throw new Error("authorization is not an object");
    const a = raw as Record<string, unknown>;
    const permissions = stringList(a["permissions"], "permissions");
    for (const p of permissions) {
      if (p !== "subscribe" && p !== "publish") throw new Error(`unknown permission ${p}`);
    }
    const topicText = typeof a["topic"] === "string" ? a["topic"] : "";
    const topic = compile(topicText, "topic");
    const channels = stringList(a["channels"], "channels").map((c) => compile(c, "channel"));
    authorizations.push({ topic, channels, permissions });
  }
  if (ttl <= 0) throw new Error(`invalid TTL ${ttl} (must be >0)`);
  return new AuthState(identity, identityUrl, ttl, authorizations, now);
}

function stringList(value: unknown, what: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) throw new Error(`${what} is not a list of strings`);
  return value as string[];
}

function compile(pattern: string, what: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch (e) {
    throw new Error(`unable to compile ${what} ${JSON.stringify(pattern)} ${errorText(e)}`);
  }
}

// ---- V1 HTTP client (X-HTTP-CLIENT) ------------------------------------------

const ACCEPT_V1 = "application/vnd.nsq; version=1.0";

export interface V1ClientOptions {
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  /**
   * The fetch to send with (Runtime.httpClient from createAuthHttpClient);
   * the global fetch when absent (no custom TLS, no connect deadline).
   */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
}

const MIN_VERSIONS: Readonly<Record<string, HttpClientOptions["minVersion"]>> = {
  "": "TLSv1",
  "tls1.0": "TLSv1",
  "tls1.1": "TLSv1.1",
  "tls1.2": "TLSv1.2",
  "tls1.3": "TLSv1.3",
};

/**
 * The HTTP(S) client of nsqd's outbound calls to auth servers (D-BEH-AUTH):
 * HTTPS servers are verified with --tls-root-ca-file (system roots when
 * empty) and must offer at least --tls-min-version; deadlines from
 * --http-client-connect-timeout / --http-client-request-timeout. Throws
 * `failed to build client TLS config - ...` for an unusable CA file.
 */
export function createAuthHttpClient(
  runtime: Runtime,
  o: Pick<NsqdOptions, "tls_root_ca_file" | "tls_min_version" | "http_client_connect_timeout" | "http_client_request_timeout">,
): HttpClient {
  const settings: HttpClientOptions = {
    connectTimeoutMs: o.http_client_connect_timeout,
    requestTimeoutMs: o.http_client_request_timeout,
  };
  try {
    const minVersion = MIN_VERSIONS[o.tls_min_version.toLowerCase()];
    if (minVersion === undefined) throw new Error(`unknown --tls-min-version ${o.tls_min_version}`);
    settings.minVersion = minVersion;
    if (o.tls_root_ca_file !== "") {
      const ca = runtime.fs.readText(o.tls_root_ca_file);
      if (!ca.includes("-----BEGIN CERTIFICATE-----")) throw new Error(`failed to append certificates from ${o.tls_root_ca_file}`);
      settings.ca = ca;
    }
  } catch (e) {
    throw new Error(`failed to build client TLS config - ${errorText(e)}`);
  }
  return runtime.httpClient(settings);
}

/** GET a V1 endpoint and decode its JSON reply. */
export function httpGetV1(url: string, options: V1ClientOptions): Promise<unknown> {
  return requestV1("GET", url, undefined, options);
}

/** POST `value` as JSON to a V1 endpoint and decode its JSON reply. */
export function httpPostV1(url: string, value: unknown, options: V1ClientOptions): Promise<unknown> {
  return requestV1("POST", url, JSON.stringify(value), options);
}

async function requestV1(method: string, url: string, body: string | undefined, options: V1ClientOptions): Promise<unknown> {
  // Go's http.Client.Timeout: the request deadline bounds the whole exchange;
  // the connect deadline (dialling only) is the http client's.
  const timeout = Math.max(options.requestTimeoutMs, 1);
  const send = options.fetch ?? ((input: string, init: RequestInit) => fetch(input, init));
  for (let attempt = 0; ; attempt++) {
    const headers: Record<string, string> = { Accept: ACCEPT_V1 };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response: Response;
    let text: string;
    try {
      response = await send(url, { method, headers, body, signal: AbortSignal.timeout(timeout) });
      text = await response.text();
    } catch (e) {
      throw new Error(`${method} ${url} - ${failureText(e)}`);
    }
    if (response.status !== 200) {
      // An nsqd in --tls-required mode answers 403 with its HTTPS port: retry there once.
      if (response.status === 403 && url.startsWith("http:") && attempt === 0) {
        const next = httpsEndpoint(url, text);
        if (next !== null) {
          url = next;
          continue;
        }
      }
      throw new Error(`got response ${response.status} ${response.statusText} ${JSON.stringify(text)}`);
    }
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new Error(`invalid JSON reply: ${errorText(e)}`);
    }
  }
}

/** A fetch rejection as one line: the network cause when there is one. */
function failureText(e: unknown): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === "TimeoutError") return "request timed out";
  const cause = err?.cause;
  if (cause?.message) return cause.code && !cause.message.includes(cause.code) ? `${cause.code} ${cause.message}` : cause.message;
  return err?.message ?? String(e);
}

/** The https:// form of `url` on the port a TLS_REQUIRED reply names, or null. */
function httpsEndpoint(url: string, body: string): string | null {
  try {
    const port = (JSON.parse(body) as { https_port?: unknown }).https_port;
    if (typeof port !== "number" || !Number.isInteger(port) || port <= 0) return null;
    const u = new URL(url);
    u.protocol = "https:";
    u.port = String(port);
    return u.toString();
  } catch {
    return null;
  }
}
