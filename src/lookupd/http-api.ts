// The original's HTTP API conventions (X-HTTP-V1, X-HTTP-ERRORS,
// X-HTTP-PARAMS, X-HTTP-PLAIN) as web-standard Request -> Response pieces: a
// small method-aware router with the original's fallbacks (query strings:
// src/common/query.ts), and the V1 response shapes. Nothing here is lookupd specific;
// it lives beside the lookupd routes until another daemon needs it.

export const NSQ_CONTENT_TYPE = "nsq; version=1.0";
import { parseQuery, requestTarget } from "../common/query.ts";

const JSON_TYPE = "application/json; charset=utf-8";

/** An API error: HTTP status plus the `message` text of the JSON body. */
export class HttpApiError extends Error {
  override readonly name = "HttpApiError";
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/**
 * JSON as Go's encoding/json writes it: `<`, `>`, `&`, U+2028 and U+2029
 * escaped, so bodies match the original byte for byte where key order does.
 */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** X-HTTP-V1 success with a JSON body (object, array, number, boolean). */
export function v1Json(data: unknown): Response {
  return v1JsonText(goJson(data));
}

/** X-HTTP-V1 success with JSON text already encoded (for exact 64-bit integers). */
export function v1JsonText(json: string): Response {
  return new Response(json, { status: 200, headers: { "content-type": JSON_TYPE, "x-nsq-content-type": NSQ_CONTENT_TYPE } });
}

/** X-HTTP-V1 success with nothing to say: empty body, no JSON content type. */
export function v1Empty(): Response {
  return new Response(null, { status: 200, headers: { "x-nsq-content-type": NSQ_CONTENT_TYPE } });
}

/** X-HTTP-V1 error: `{"message":"<TEXT>"}`. */
export function v1Error(status: number, message: string): Response {
  return new Response(goJson({ message }), { status, headers: { "content-type": JSON_TYPE, "x-nsq-content-type": NSQ_CONTENT_TYPE } });
}

/** X-HTTP-PLAIN: body as-is, no X-NSQ-Content-Type. */
export function plainText(text: string, status = 200): Response {
  return new Response(text, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

/** The raw query string of a request URL, without the `?`; a `#` in it is part of it, as in Go. */
export function rawQueryOf(url: URL): string {
  return requestTarget(url).rawQuery;
}

/** Query parameters of a request (X-HTTP-PARAMS); the body is read and ignored. */
export class ReqParams {
  readonly #values: Map<string, string[]>;
  private constructor(values: Map<string, string[]>) {
    this.#values = values;
  }

  /** Throws HttpApiError(400, "INVALID_REQUEST") like the original when the query does not parse. */
  static async of(request: Request): Promise<ReqParams> {
    const values = parseQuery(rawQueryOf(new URL(request.url)));
    if (values === null) throw new HttpApiError(400, "INVALID_REQUEST");
    if (request.body !== null) {
      try {
        await request.arrayBuffer();
      } catch {
        throw new HttpApiError(400, "INVALID_REQUEST");
      }
    }
    return new ReqParams(values);
  }

  /** The first value, "" when given empty, undefined when absent. */
  get(key: string): string | undefined {
    return this.#values.get(key)?.[0];
  }
}

export type RouteHandler = (request: Request, url: URL) => Response | Promise<Response>;

export interface Route {
  readonly method: string;
  readonly path: string;
  readonly handler: RouteHandler;
}

/**
 * httprouter's behaviour as the original configures it: exact paths; a
 * known path with another method is 405 METHOD_NOT_ALLOWED; OPTIONS answers
 * with an Allow header; a path that differs only by a trailing slash
 * redirects (301 for GET, 308 otherwise); anything else is 404 NOT_FOUND.
 * Handler exceptions become 500 INTERNAL_ERROR (HttpApiError keeps its status).
 */
export function createRouter(routes: readonly Route[], onError?: (error: unknown) => void): (request: Request) => Promise<Response> {
  const byPath = new Map<string, Map<string, RouteHandler>>();
  for (const r of routes) {
    let methods = byPath.get(r.path);
    if (methods === undefined) byPath.set(r.path, (methods = new Map()));
    methods.set(r.method, r.handler);
  }
  return async (request) => {
    const url = new URL(request.url);
    const { path, rawQuery } = requestTarget(url);
    const methods = byPath.get(path);
    if (methods === undefined) {
      const other = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : `${path}/`;
      if (request.method !== "CONNECT" && byPath.has(other)) {
        const status = request.method === "GET" ? 301 : 308;
        return new Response(null, { status, headers: { location: rawQuery === "" ? other : `${other}?${rawQuery}` } });
      }
      return v1Error(404, "NOT_FOUND");
    }
    const handler = methods.get(request.method);
    if (handler === undefined) {
      const allow = [...methods.keys(), "OPTIONS"].sort().join(", ");
      if (request.method === "OPTIONS") return new Response(null, { status: 200, headers: { allow } });
      const res = v1Error(405, "METHOD_NOT_ALLOWED");
      res.headers.set("allow", allow);
      return res;
    }
    try {
      return await handler(request, url);
    } catch (e) {
      if (e instanceof HttpApiError) return v1Error(e.status, e.message);
      onError?.(e);
      return v1Error(500, "INTERNAL_ERROR");
    }
  };
}
