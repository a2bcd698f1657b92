// The outbound HTTP client nsqadmin uses for nsqd and nsqlookupd: the V1
// Accept header, the connect/request deadlines of
// --http-client-connect-timeout / --http-client-request-timeout, and the
// original's 403 → HTTPS retry (X-HTTP-CLIENT): an nsqd started with
// --tls-required answers plain HTTP with 403 and its https_port.
//
// A-BEH-UPSTREAM-TLS: requests go through Runtime.httpClient, which applies
// --http-client-tls-root-ca-file, --http-client-tls-cert/--http-client-tls-key
// and --http-client-tls-insecure-skip-verify (plain fetch has no portable way
// to). readUpstreamTls() loads those files with the original's messages.
import type { FileSystem, HttpClient, HttpClientOptions, Runtime } from "../runtime/types.ts";
import { errorText } from "../common/errors.ts";

/** The part of fetch the admin uses (tests substitute it). */
export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

export const V1_ACCEPT = "application/vnd.nsq; version=1.0";

export interface UpstreamOptions {
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  /** Replaceable for tests; when given, `runtime` and `tls` are not used. */
  fetch?: FetchFunction;
  /** Builds the HTTP(S) client; without it (and without `fetch`) the global fetch is used. */
  runtime?: Runtime;
  /** TLS settings of HTTPS upstreams (A-BEH-UPSTREAM-TLS). */
  tls?: UpstreamTls;
}

/** The TLS part of HttpClientOptions that --http-client-tls-* set. */
export type UpstreamTls = Pick<HttpClientOptions, "ca" | "cert" | "key" | "insecureSkipVerify">;

/**
 * Load the --http-client-tls-* files, failing as the original's nsqadmin does
 * when one cannot be read or holds no PEM data.
 */
export function readUpstreamTls(
  fs: FileSystem,
  o: { http_client_tls_insecure_skip_verify: boolean; http_client_tls_root_ca_file: string; http_client_tls_cert: string; http_client_tls_key: string },
): UpstreamTls {
  const tls: UpstreamTls = {};
  if (o.http_client_tls_insecure_skip_verify) tls.insecureSkipVerify = true;
  if (o.http_client_tls_cert !== "" && o.http_client_tls_key !== "") {
    const pair = `${o.http_client_tls_cert}, ${o.http_client_tls_key}`;
    let cert: string;
    let key: string;
    try {
      cert = fs.readText(o.http_client_tls_cert);
      key = fs.readText(o.http_client_tls_key);
    } catch (e) {
      throw new Error(`failed to LoadX509KeyPair ${pair} - ${errorText(e)}`);
    }
    if (!cert.includes("-----BEGIN CERTIFICATE-----"))
      throw new Error(`failed to LoadX509KeyPair ${pair} - tls: failed to find any PEM data in certificate input`);
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) throw new Error(`failed to LoadX509KeyPair ${pair} - tls: failed to find any PEM data in key input`);
    tls.cert = cert;
    tls.key = key;
  }
  if (o.http_client_tls_root_ca_file !== "") {
    let ca: string;
    try {
      ca = fs.readText(o.http_client_tls_root_ca_file);
    } catch (e) {
      throw new Error(`failed to read TLS root CA file ${o.http_client_tls_root_ca_file} - ${errorText(e)}`);
    }
    if (!ca.includes("-----BEGIN CERTIFICATE-----")) throw new Error(`failed to AppendCertsFromPEM ${o.http_client_tls_root_ca_file}`);
    tls.ca = ca;
  }
  return tls;
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
  // The runtime client's connect deadline already words it as Go does.
  if (code === "ETIMEDOUT" && err.cause?.message) return err.cause.message;
  if (code !== undefined) return `${code}${err.cause?.message ? ` ${err.cause.message}` : ""}`;
  const msg = err?.cause?.message ?? err?.message ?? String(e);
  if (/refused/i.test(msg)) return "connect: connection refused";
  return msg;
}

export class UpstreamClient {
  #fetch: FetchFunction;
  /** The runtime client this object created (and closes), if any. */
  #owned: HttpClient | null = null;
  readonly #options: UpstreamOptions;
  readonly #timeoutMs: number;

  constructor(options: UpstreamOptions) {
    this.#options = options;
    // Go's http.Client.Timeout: the request deadline bounds the whole call,
    // the connect deadline only the dialling (enforced by the runtime client).
    this.#timeoutMs = Math.max(options.requestTimeoutMs, 1);
    this.#fetch = options.fetch ?? this.#build(options.tls ?? {});
  }

  #build(tls: UpstreamTls): FetchFunction {
    const runtime = this.#options.runtime;
    if (runtime === undefined) return (input, init) => fetch(input, init);
    this.#owned = runtime.httpClient({
      ...tls,
      connectTimeoutMs: this.#options.connectTimeoutMs,
      requestTimeoutMs: this.#timeoutMs,
    });
    return this.#owned;
  }

  /** Replace the TLS settings (a client substituted through `fetch` is kept). */
  configureTls(tls: UpstreamTls): void {
    if (this.#options.fetch !== undefined) return;
    this.#owned?.close();
    this.#owned = null;
    this.#fetch = this.#build(tls);
  }

  /** Release idle keep-alive connections. */
  close(): void {
    this.#owned?.close();
  }

  /** GET a V1 endpoint and parse its JSON body. */
  async getV1<T>(endpoint: string): Promise<T> {
    const body = await this.#call("GET", endpoint);
    try {
      return JSON.parse(body) as T;
    } catch (e) {
      throw new UpstreamCallError(`invalid JSON from ${endpoint} - ${errorText(e)}`);
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
