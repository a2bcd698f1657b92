// Outbound HTTP(S) with custom TLS settings (X-HTTP-CLIENT): a fetch-shaped
// function per HttpClientOptions, one implementation per runtime.
//
// - Node (and the node: compat adapter on Bun and Deno): node:http/node:https
//   with a keep-alive Agent carrying ca/cert/key/rejectUnauthorized/minVersion.
//   Node's own fetch would need an undici dispatcher, which is not importable
//   without the undici package. This is the only implementation with a real
//   connect deadline (TCP connect + TLS handshake).
// - Bun: the global fetch with Bun's `tls` extension.
// - Deno: the global fetch with a Deno.createHttpClient({ caCerts, cert, key })
//   client. Deno's client has no per-client "skip verification" nor minimum
//   TLS version, so those settings fall back to the node:https implementation
//   (which Deno's compat layer honours). Deno only speaks TLS 1.2 and 1.3, so
//   any minimum up to TLSv1.2 holds by itself. Quirk: Deno adds `caCerts` to
//   its trust store instead of replacing it, so servers with publicly trusted
//   certificates still verify when a CA file is given.
//
// Responses are buffered whole on the node: path (NSQ's JSON replies are
// small); the request deadline then covers reading the body, as Go's
// http.Client.Timeout does.
import * as http from "node:http";
import * as https from "node:https";
import type { HttpClient, HttpClientOptions } from "./types.ts";

type FetchInput = string | URL | Request;

/** The AbortSignal a call honours: the caller's and the request deadline. */
function callSignal(callerSignal: AbortSignal | null | undefined, timeoutMs: number | undefined): AbortSignal | undefined {
  const signals: AbortSignal[] = [];
  if (callerSignal) signals.push(callerSignal);
  if (timeoutMs !== undefined && timeoutMs > 0) signals.push(AbortSignal.timeout(timeoutMs));
  if (signals.length <= 1) return signals[0];
  return AbortSignal.any(signals);
}

function asClient(call: (input: FetchInput, init?: RequestInit) => Promise<Response>, close: () => void): HttpClient {
  const client = call as HttpClient;
  client.close = close;
  return client;
}

// ---- Bun ---------------------------------------------------------------------

// OpenSSL SSL_OP_NO_TLSv1* bits: Bun's TLS options take secureOptions, not minVersion.
const NO_TLS1 = 0x04000000;
const NO_TLS1_1 = 0x10000000;
const NO_TLS1_2 = 0x08000000;

function secureOptionsFor(min: HttpClientOptions["minVersion"]): number | undefined {
  if (min === "TLSv1.1") return NO_TLS1;
  if (min === "TLSv1.2") return NO_TLS1 | NO_TLS1_1;
  if (min === "TLSv1.3") return NO_TLS1 | NO_TLS1_1 | NO_TLS1_2;
  return undefined;
}

/** Bun: fetch with its `tls` request option; connect deadline = request deadline. */
export function bunHttpClient(options: HttpClientOptions = {}): HttpClient {
  const tls: Record<string, unknown> = { rejectUnauthorized: options.insecureSkipVerify !== true };
  if (options.ca !== undefined) tls.ca = options.ca;
  if (options.cert !== undefined) tls.cert = options.cert;
  if (options.key !== undefined) tls.key = options.key;
  const secureOptions = secureOptionsFor(options.minVersion);
  if (secureOptions !== undefined) tls.secureOptions = secureOptions;
  return asClient(
    (input, init) => {
      const signal = callSignal(init?.signal ?? (input instanceof Request ? input.signal : undefined), options.requestTimeoutMs);
      return fetch(input, { ...init, signal, tls } as RequestInit);
    },
    () => {},
  );
}

// ---- Deno --------------------------------------------------------------------

interface DenoHttpClientApi {
  createHttpClient(options: { caCerts?: string[]; cert?: string; key?: string }): { close(): void };
}

/**
 * Deno: fetch with a Deno.createHttpClient client, or the node:https
 * implementation for what that client cannot express (see the top of the file).
 */
export function denoHttpClient(options: HttpClientOptions = {}): HttpClient {
  if (options.insecureSkipVerify === true || options.minVersion === "TLSv1.3") return nodeHttpClient(options);
  const deno = (globalThis as unknown as { Deno: DenoHttpClientApi }).Deno;
  const settings: { caCerts?: string[]; cert?: string; key?: string } = {};
  if (options.ca !== undefined) settings.caCerts = [options.ca];
  if (options.cert !== undefined && options.key !== undefined) {
    settings.cert = options.cert;
    settings.key = options.key;
  }
  const native = deno.createHttpClient(settings);
  return asClient(
    (input, init) => {
      const signal = callSignal(init?.signal ?? (input instanceof Request ? input.signal : undefined), options.requestTimeoutMs);
      return fetch(input, { ...init, signal, client: native } as RequestInit);
    },
    () => native.close(),
  );
}

// ---- node:http / node:https ----------------------------------------------------

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 20;

/** What one exchange sends, normalised from fetch's (input, init). */
interface Outgoing {
  url: URL;
  method: string;
  headers: Headers;
  body: Uint8Array | null;
  redirect: RequestRedirect;
}

async function outgoing(input: FetchInput, init: RequestInit | undefined): Promise<{ out: Outgoing; signal: AbortSignal | null }> {
  if (input instanceof Request) {
    const req = init !== undefined ? new Request(input, init) : input;
    const body = req.body === null ? null : new Uint8Array(await req.arrayBuffer());
    return { out: { url: new URL(req.url), method: req.method, headers: new Headers(req.headers), body, redirect: req.redirect }, signal: req.signal };
  }
  const method = (init?.method ?? "GET").toUpperCase();
  const headers = new Headers(init?.headers);
  let body: Uint8Array | null = null;
  if (init?.body !== undefined && init.body !== null) {
    if (method === "GET" || method === "HEAD") throw new TypeError("Request with GET/HEAD method cannot have body.");
    // Response normalises every BodyInit kind and knows fetch's default content type.
    const wrapped = new Response(init.body);
    body = new Uint8Array(await wrapped.arrayBuffer());
    const type = wrapped.headers.get("content-type");
    if (type !== null && !headers.has("content-type")) headers.set("content-type", type);
  }
  return { out: { url: new URL(input), method, headers, body, redirect: init?.redirect ?? "follow" }, signal: init?.signal ?? null };
}

function connectTimeoutError(url: URL, ms: number): Error {
  const err = new Error(`dial tcp ${url.host}: i/o timeout (no connection within ${ms} ms)`) as Error & { code: string };
  err.code = "ETIMEDOUT";
  return err;
}

/**
 * node:http(s): one keep-alive Agent per scheme. Usable on Bun and Deno
 * through their node: compatibility layers.
 */
export function nodeHttpClient(options: HttpClientOptions = {}): HttpClient {
  const httpAgent = new http.Agent({ keepAlive: true });
  const tls: https.AgentOptions = { keepAlive: true, rejectUnauthorized: options.insecureSkipVerify !== true };
  if (options.ca !== undefined) tls.ca = options.ca;
  if (options.cert !== undefined) tls.cert = options.cert;
  if (options.key !== undefined) tls.key = options.key;
  if (options.minVersion !== undefined) tls.minVersion = options.minVersion;
  const httpsAgent = new https.Agent(tls);
  const connectMs = options.connectTimeoutMs ?? 0;

  function exchange(out: Outgoing, signal: AbortSignal | undefined): Promise<Response> {
    return new Promise<Response>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const secure = out.url.protocol === "https:";
      if (!secure && out.url.protocol !== "http:") return reject(new TypeError(`fetch failed`, { cause: new Error(`unsupported scheme ${out.url.protocol}`) }));
      const headers: Record<string, string> = {};
      out.headers.forEach((value, name) => {
        headers[name] = value;
      });
      if (out.body !== null) headers["content-length"] = String(out.body.byteLength);
      else if (out.method === "POST" || out.method === "PUT") headers["content-length"] = "0";
      let connectTimer: ReturnType<typeof setTimeout> | undefined;
      let settled = false;
      const finish = (): void => {
        settled = true;
        clearTimeout(connectTimer);
        signal?.removeEventListener("abort", onAbort);
      };
      const fail = (err: unknown): void => {
        if (settled) return;
        finish();
        // An abort rejects with the signal's reason, anything else as fetch does.
        reject(signal?.aborted ? signal.reason : new TypeError("fetch failed", { cause: err }));
      };
      const onAbort = (): void => {
        req.destroy();
        fail(signal!.reason);
      };
      const module = secure ? https : http;
      const req = module.request(out.url, { method: out.method, headers, agent: secure ? httpsAgent : httpAgent }, (res) => {
        const chunks: Uint8Array[] = [];
        res.on("data", (c: Uint8Array) => chunks.push(c));
        res.on("error", fail);
        res.on("aborted", () => fail(new Error("response aborted")));
        res.on("end", () => {
          if (settled) return;
          finish();
          const status = res.statusCode ?? 0;
          const responseHeaders = new Headers();
          const raw = res.rawHeaders;
          for (let i = 0; i + 1 < raw.length; i += 2) responseHeaders.append(raw[i]!, raw[i + 1]!);
          const nullBody = NULL_BODY_STATUS.has(status) || out.method === "HEAD";
          let bytes: Uint8Array<ArrayBuffer> | null = null;
          if (!nullBody) {
            let size = 0;
            for (const c of chunks) size += c.byteLength;
            bytes = new Uint8Array(size);
            let at = 0;
            for (const c of chunks) {
              bytes.set(c, at);
              at += c.byteLength;
            }
          }
          try {
            const response = new Response(bytes, { status, statusText: res.statusMessage ?? "", headers: responseHeaders });
            Object.defineProperty(response, "url", { value: out.url.toString() });
            resolve(response);
          } catch (e) {
            reject(new TypeError("fetch failed", { cause: e }));
          }
        });
      });
      req.on("error", fail);
      if (connectMs > 0) {
        req.on("socket", (sock) => {
          // A reused keep-alive socket is already connected.
          if (!(sock as { connecting?: boolean }).connecting) return;
          connectTimer = setTimeout(() => {
            const err = connectTimeoutError(out.url, connectMs);
            req.destroy(err);
            fail(err);
          }, connectMs);
          sock.once(secure ? "secureConnect" : "connect", () => clearTimeout(connectTimer));
        });
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      req.end(out.body ?? undefined);
    });
  }

  async function call(input: FetchInput, init?: RequestInit): Promise<Response> {
    const { out, signal: callerSignal } = await outgoing(input, init);
    const signal = callSignal(callerSignal, options.requestTimeoutMs);
    for (let hops = 0; ; hops++) {
      const response = await exchange(out, signal);
      const location = response.headers.get("location");
      if (!REDIRECT_STATUS.has(response.status) || location === null || out.redirect === "manual") return response;
      if (out.redirect === "error") throw new TypeError("fetch failed", { cause: new Error(`redirect to ${location} refused (redirect: "error")`) });
      if (hops >= MAX_REDIRECTS) throw new TypeError("fetch failed", { cause: new Error("redirect count exceeded") });
      const next = new URL(location, out.url);
      if (response.status === 303 ? out.method !== "HEAD" : (response.status === 301 || response.status === 302) && out.method === "POST") {
        out.method = "GET";
        out.body = null;
        for (const h of ["content-type", "content-length", "content-encoding", "content-language", "content-location"]) out.headers.delete(h);
      }
      if (next.origin !== out.url.origin) out.headers.delete("authorization");
      out.url = next;
    }
  }

  return asClient(call, () => {
    httpAgent.destroy();
    httpsAgent.destroy();
  });
}
