// nsqd's client authorization (D-BEH-AUTH, D-BEH-AUTH-MATCH): querying the
// auth servers of --auth-http-address, validating their reply, and deciding
// whether a connection may publish to or subscribe on a topic/channel.
// Also the V1 HTTP client the queries use (X-HTTP-CLIENT).

/** What nsqd tells the auth server about a connection. */
export interface AuthParams {
  /** Client IP, "" for a Unix socket. */
  remoteIp: string;
  tls: boolean;
  secret: string;
  /** CN of the client certificate, "" if none. */
  commonName: string;
}

export interface AuthQueryOptions {
  /** "get" (default) or "post". */
  method: string;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
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
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%20/g, "+");
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
    throw new Error(`unable to compile ${what} ${JSON.stringify(pattern)} ${(e as Error).message}`);
  }
}

// ---- V1 HTTP client (X-HTTP-CLIENT) ------------------------------------------

const ACCEPT_V1 = "application/vnd.nsq; version=1.0";

export interface HttpClientOptions {
  connectTimeoutMs: number;
  requestTimeoutMs: number;
}

/** GET a V1 endpoint and decode its JSON reply. */
export function httpGetV1(url: string, options: HttpClientOptions): Promise<unknown> {
  return requestV1("GET", url, undefined, options);
}

/** POST `value` as JSON to a V1 endpoint and decode its JSON reply. */
export function httpPostV1(url: string, value: unknown, options: HttpClientOptions): Promise<unknown> {
  return requestV1("POST", url, JSON.stringify(value), options);
}

async function requestV1(method: string, url: string, body: string | undefined, options: HttpClientOptions): Promise<unknown> {
  // fetch has no separate connect timeout: the request timeout covers both,
  // so the longer of the two bounds the whole exchange.
  const timeout = Math.max(options.requestTimeoutMs, options.connectTimeoutMs);
  for (let attempt = 0; ; attempt++) {
    const headers: Record<string, string> = { Accept: ACCEPT_V1 };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(timeout) });
    const text = await response.text();
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
      throw new Error(`invalid JSON reply: ${(e as Error).message}`);
    }
  }
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
