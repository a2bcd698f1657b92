// A-BEH-NOTIFY: each admin action is POSTed as JSON to
// --notification-http-endpoint, off the request path and in order (one at a
// time, like the original's single notification goroutine).
import type { Logger } from "../common/log.ts";
import type { FetchFunction } from "./upstream.ts";
import type { RequestInfo } from "../runtime/types.ts";
import { joinHostPort } from "../common/address.ts";
import { errorText } from "../common/errors.ts";

export interface AdminAction {
  action: string;
  topic: string;
  channel?: string;
  node?: string;
  /** Unix seconds. */
  timestamp: number;
  user?: string;
  remote_ip: string;
  user_agent: string;
  url: string;
  via: string;
}

export interface NotifierDeps {
  /** Read per notification (the endpoint is an option). */
  endpoint: () => string;
  timeoutMs: () => number;
  hostname: () => string;
  logger: Logger;
  now?: () => number;
  fetch?: FetchFunction;
}

/** The user name of an `Authorization: Basic` header, "" otherwise. */
export function basicAuthUser(header: string | null): string {
  if (header === null) return "";
  const m = /^Basic (.+)$/.exec(header);
  if (m === null) return "";
  let decoded: string;
  try {
    decoded = atob(m[1]!);
  } catch {
    return "";
  }
  const colon = decoded.indexOf(":");
  return colon < 0 ? "" : decoded.slice(0, colon);
}

export class Notifier {
  readonly #deps: NotifierDeps;
  #queue: Promise<void> = Promise.resolve();

  constructor(deps: NotifierDeps) {
    this.#deps = deps;
  }

  /** Build the event for a request and queue it (no-op without an endpoint). */
  notify(action: string, topic: string, channel: string, node: string, req: Request, info: RequestInfo): void {
    const endpoint = this.#deps.endpoint();
    if (endpoint === "") return;
    const u = new URL(req.url);
    const host = req.headers.get("Host") ?? u.host;
    const scheme = u.protocol === "https:" || req.headers.get("X-Scheme") === "https" ? "https" : "http";
    const event: AdminAction = {
      action,
      topic,
      ...(channel !== "" ? { channel } : {}),
      ...(node !== "" ? { node } : {}),
      timestamp: Math.floor((this.#deps.now?.() ?? Date.now()) / 1000),
      ...(basicAuthUser(req.headers.get("Authorization")) !== "" ? { user: basicAuthUser(req.headers.get("Authorization")) } : {}),
      remote_ip: joinHostPort(info.remoteAddress, info.remotePort),
      user_agent: req.headers.get("User-Agent") ?? "",
      url: `${scheme}://${host}${u.pathname}${u.search}`,
      via: this.#deps.hostname(),
    };
    this.#queue = this.#queue.then(() => this.#send(endpoint, event));
  }

  /** Resolves when every queued notification was sent or failed (tests, shutdown). */
  idle(): Promise<void> {
    return this.#queue;
  }

  async #send(endpoint: string, event: AdminAction): Promise<void> {
    const { logger } = this.#deps;
    logger.info(`POSTing notification to ${endpoint}`);
    try {
      const doFetch: FetchFunction = this.#deps.fetch ?? ((input, init) => fetch(input, init));
      const r = await doFetch(endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(Math.max(this.#deps.timeoutMs(), 1)),
      });
      await r.arrayBuffer();
    } catch (e) {
      logger.error(`failed to POST notification - ${errorText(e)}`);
    }
  }
}
