// The outbound HTTP client nsqadmin uses for nsqd, nsqlookupd and graphite:
// plain fetch with the V1 Accept header, a deadline per request, and the
// original's 403 → HTTPS retry (X-HTTP-CLIENT): an nsqd started with
// --tls-required answers plain HTTP with 403 and its https_port.
//
// A-FLAG-HTTP-CLIENT-CONNECT-TIMEOUT: fetch has no separate connect phase
// deadline on every runtime, so the whole request gets the request timeout,
// and the connect timeout only bounds it from below.
// A-BEH-UPSTREAM-TLS: fetch has no portable per-request CA / client
// certificate option (Bun has `tls`, Deno a custom client, Node's fetch needs
// an undici dispatcher), so the --http-client-tls-* flags are accepted and
// checked but HTTPS upstreams are verified against the runtime's default
// trust store. The Admin logs a warning when they are set.

/** The part of fetch the admin uses (tests substitute it). */
export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

export const V1_ACCEPT = "application/vnd.nsq; version=1.0";

export interface UpstreamOptions {
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  /** Replaceable for tests. */
  fetch?: FetchFunction;
}

/** One failed upstream call; the message follows Go's http client wording. */
export class UpstreamCallError extends Error {
  override readonly name = "UpstreamCallError";
  constructor(
    message: string,
    readonly status: number = 0,
  ) {
    super(message);
  }
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  413: "Request Entity Too Large",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

function causeText(e: unknown): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === "TimeoutError" || err?.name === "AbortError") return "context deadline exceeded (Client.Timeout exceeded while awaiting headers)";
  const code = err?.cause?.code;
  if (code === "ECONNREFUSED") return "connect: connection refused";
  if (code !== undefined) return `${code}${err.cause?.message ? ` ${err.cause.message}` : ""}`;
  const msg = err?.cause?.message ?? err?.message ?? String(e);
  if (/refused/i.test(msg)) return "connect: connection refused";
  return msg;
}

export class UpstreamClient {
  readonly #fetch: FetchFunction;
  #timeoutMs: number;

  constructor(options: UpstreamOptions) {
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#timeoutMs = Math.max(options.requestTimeoutMs, options.connectTimeoutMs, 1);
  }

  /** GET a V1 endpoint and parse its JSON body. */
  async getV1<T>(endpoint: string): Promise<T> {
    const body = await this.#call("GET", endpoint);
    try {
      return JSON.parse(body) as T;
    } catch (e) {
      throw new UpstreamCallError(`invalid JSON from ${endpoint} - ${(e as Error).message}`);
    }
  }

  /** POST to a V1 endpoint with no body; the response body is ignored. */
  async postV1(endpoint: string): Promise<void> {
    await this.#call("POST", endpoint);
  }

  async #call(method: "GET" | "POST", endpoint: string, retried = false): Promise<string> {
    let response: Response;
    let text: string;
    try {
      const { url, authorization } = splitCredentials(endpoint);
      const headers: Record<string, string> = { Accept: V1_ACCEPT };
      if (authorization !== null) headers["Authorization"] = authorization;
      response = await this.#fetch(url, { method, headers, signal: AbortSignal.timeout(this.#timeoutMs) });
      text = await response.text();
    } catch (e) {
      const verb = method === "GET" ? "Get" : "Post";
      throw new UpstreamCallError(`${verb} "${endpoint}": ${causeText(e)}`);
    }
    if (response.status === 200) return text;
    if (response.status === 403 && !retried && endpoint.startsWith("http:")) {
      const https = httpsEndpoint(endpoint, text);
      if (https !== null) return this.#call(method, https, true);
    }
    const statusText = response.statusText || STATUS_TEXT[response.status] || "";
    throw new UpstreamCallError(`got response ${response.status}${statusText ? ` ${statusText}` : ""} ${JSON.stringify(text)}`, response.status);
  }
}

/**
 * fetch refuses URLs with user:password; Go's client sends them as Basic
 * auth (graphite URLs use this), so move them into a header.
 */
export function splitCredentials(endpoint: string): { url: string; authorization: string | null } {
  if (!/^[a-z]+:\/\/[^/]*@/i.test(endpoint)) return { url: endpoint, authorization: null };
  const u = new URL(endpoint);
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  u.username = "";
  u.password = "";
  const bytes = new TextEncoder().encode(`${user}:${pass}`);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return { url: u.toString(), authorization: `Basic ${btoa(binary)}` };
}

/** X-HTTP-CLIENT: the HTTPS form of an endpoint from a 403 body `{"https_port":N}`. */
export function httpsEndpoint(endpoint: string, body: string): string | null {
  let port: unknown;
  try {
    port = (JSON.parse(body) as { https_port?: unknown }).https_port;
  } catch {
    return null;
  }
  if (typeof port !== "number" || !Number.isInteger(port) || port <= 0) return null;
  const u = new URL(endpoint);
  u.protocol = "https:";
  u.port = String(port);
  return u.toString();
}

/** net.JoinHostPort: brackets around IPv6 hosts. */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
