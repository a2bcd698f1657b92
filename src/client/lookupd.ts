// HTTP queries to nsqlookupd (U-CLI-LOOKUP) and nsqd, with the original's
// client conventions (X-HTTP-CLIENT): the `Accept: application/vnd.nsq;
// version=1.0` header, unwrapped JSON when the answer carries
// `X-NSQ-Content-Type: nsq; version=1.0` and the legacy `{"data": ...}`
// envelope otherwise, and `got response <status> <body>` on a non-200.
import { joinHostPort } from "../common/address.ts";

export const NSQ_ACCEPT = "application/vnd.nsq; version=1.0";

export interface HttpGetOptions {
  /** Whole-request timeout in ms (0 = none). */
  timeoutMs?: number;
  /** `Authorization: Bearer <secret>` when non-empty. */
  authSecret?: string;
  userAgent?: string;
}

/**
 * `addr` as the tools take it: `host:port`, or a full `http(s)://` URL whose
 * path is kept. Returns the URL for `path` with `query` added.
 */
export function endpointUrl(addr: string, path: string, query: Record<string, string> = {}): string {
  let url: URL;
  if (/^https?:\/\//i.test(addr)) {
    url = new URL(addr);
    if (url.pathname === "/" || url.pathname === "") url.pathname = path;
  } else {
    url = new URL(`http://${addr}${path}`);
  }
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return url.toString();
}

/** GET a v1 API endpoint and decode its JSON (unwrapping the legacy envelope). */
export async function getJsonV1(url: string, options: HttpGetOptions = {}): Promise<unknown> {
  const headers: Record<string, string> = { Accept: NSQ_ACCEPT };
  if (options.authSecret) headers.Authorization = `Bearer ${options.authSecret}`;
  if (options.userAgent) headers["User-Agent"] = options.userAgent;
  const signal = options.timeoutMs && options.timeoutMs > 0 ? AbortSignal.timeout(options.timeoutMs) : undefined;
  let res: Response;
  try {
    res = await fetch(url, { headers, signal });
  } catch (e) {
    const err = e as Error;
    const reason = err.name === "TimeoutError" ? `timed out after ${options.timeoutMs} ms` : ((err.cause as Error | undefined)?.message ?? err.message);
    throw new Error(`GET ${url} failed - ${reason}`);
  }
  const text = await res.text();
  if (res.status !== 200) throw new Error(`got response ${res.status} ${res.statusText} ${JSON.stringify(text)}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`GET ${url} returned invalid JSON`);
  }
  if (res.headers.get("X-NSQ-Content-Type") === "nsq; version=1.0") return body;
  const data = (body as { data?: unknown } | null)?.data;
  return data ?? body;
}

interface ProducerJson {
  broadcast_address?: string;
  address?: string;
  tcp_port?: number;
}

/** The `broadcast_address:tcp_port` of every producer in a /lookup answer (deduplicated). */
export function producerAddresses(answer: unknown): string[] {
  const producers = (answer as { producers?: ProducerJson[] } | null)?.producers;
  if (!Array.isArray(producers)) return [];
  const out = new Set<string>();
  for (const p of producers) {
    const host = p.broadcast_address ?? p.address;
    if (typeof host !== "string" || typeof p.tcp_port !== "number") continue;
    out.add(joinHostPort(host, p.tcp_port));
  }
  return [...out];
}

/** lookupd `/topics`: the topic names. */
export async function lookupTopics(addr: string, options: HttpGetOptions = {}): Promise<string[]> {
  const answer = (await getJsonV1(endpointUrl(addr, "/topics"), options)) as { topics?: string[] } | null;
  return Array.isArray(answer?.topics) ? answer.topics : [];
}

/** lookupd `/lookup?topic=`: producer addresses for a topic. */
export async function lookupProducers(addr: string, topic: string, options: HttpGetOptions = {}): Promise<string[]> {
  return producerAddresses(await getJsonV1(endpointUrl(addr, "/lookup", { topic }), options));
}
