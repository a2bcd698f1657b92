// The router of the original's three daemons (julienschmidt/httprouter as
// they configure it), shared by nsqd, nsqlookupd and nsqadmin (X-HTTP-ERRORS):
//
//   - a route is a method and a path of literal segments and `:name`
//     segments (one non-empty segment each), matched against the decoded path
//   - no route for the method, but the path with a trailing slash added or
//     removed has one: redirect there, 301 for GET and 307 otherwise
//   - else the path cleaned (`//`, `.`, `..`) and matched without regard to
//     case has one: redirect there alike (GET /PING -> /ping)
//   - else a route for another method: OPTIONS answers 200 with `Allow`,
//     any other method 405 METHOD_NOT_ALLOWED with `Allow`
//   - else 404 NOT_FOUND
//
// HEAD is a method like any other (no route answers it). A handler that
// throws HttpError answers with its status and text; anything else thrown
// is logged as a panic and answered 500 INTERNAL_ERROR. Each routed request
// is logged in the original's shape (./access-log.ts) unless its route says
// otherwise; 404, 405 and 500 answers are always logged, redirects and
// OPTIONS answers never, as the original does.
import { errorText } from "../errors.ts";
import type { Logger } from "../log.ts";
import { requestTarget } from "../query.ts";
import type { FetchHandler, RequestInfo } from "../../runtime/types.ts";
import { accessLogLine } from "./access-log.ts";
import { HttpError } from "./error.ts";
import { redirect, v1Error } from "./responses.ts";

/** What a handler gets besides the Request. */
export interface RouteRequest {
  readonly request: Request;
  readonly url: URL;
  /** The raw query string without `?`; a `#` in it belongs to it (X-HTTP-PARAMS). */
  readonly rawQuery: string;
  /** The `:name` segments of the route, decoded. */
  readonly params: Readonly<Record<string, string>>;
  readonly info: RequestInfo;
}

export type RouteHandler = (req: RouteRequest) => Response | Promise<Response>;

export interface Route {
  readonly method: string;
  /** Literal segments and `:name` segments, e.g. `/config/:opt`. */
  readonly path: string;
  readonly handler: RouteHandler;
  /** Log a line per request, as the original's Log decorator does (default true). */
  readonly log?: boolean;
}

interface Compiled {
  readonly method: string;
  readonly segments: readonly string[];
  /** Segment index -> parameter name. */
  readonly names: ReadonlyMap<number, string>;
  readonly handler: RouteHandler;
  readonly log: boolean;
}

const NO_INFO: RequestInfo = { remoteAddress: "", remotePort: 0 };

function compile(route: Route): Compiled {
  const segments = route.path.split("/");
  const names = new Map<number, string>();
  segments.forEach((s, i) => {
    if (s.startsWith(":")) names.set(i, s.slice(1));
  });
  return { method: route.method, segments, names, handler: route.handler, log: route.log ?? true };
}

/** The route's parameters when `segments` match it, else null. */
function match(route: Compiled, segments: readonly string[], ignoreCase: boolean): Record<string, string> | null {
  if (route.segments.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const want = route.segments[i] ?? "";
    const got = segments[i] ?? "";
    const name = route.names.get(i);
    if (name !== undefined) {
      if (got === "") return null;
      params[name] = got;
    } else if (want !== got && !(ignoreCase && want.toLowerCase() === got.toLowerCase())) {
      return null;
    }
  }
  return params;
}

/** The path a matched route spells: its literal segments, the request's parameter segments. */
function spell(route: Compiled, segments: readonly string[]): string {
  return route.segments.map((s, i) => (route.names.has(i) ? (segments[i] ?? "") : s)).join("/");
}

/**
 * httprouter's CleanPath: one leading slash, no empty, `.` or `..`
 * segments; a trailing slash (or a final `.` or `..`) is kept as one.
 */
export function cleanPath(path: string): string {
  const parts = path.split("/");
  const last = parts[parts.length - 1];
  const trailing = parts.length > 1 && (last === "" || last === "." || last === "..");
  const out: string[] = [];
  for (const p of parts) {
    if (p === "" || p === ".") continue;
    if (p === "..") out.pop();
    else out.push(p);
  }
  const cleaned = `/${out.join("/")}`;
  return trailing && cleaned !== "/" ? `${cleaned}/` : cleaned;
}

/** Go's URL.EscapedPath for a path without a raw form: `%XX` for all but unreserved and `$&+,/:;=@`. */
export function escapePath(path: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(path)) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~$&+,/:;=@]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** A fetch handler serving `routes`, logging through `logger`. */
export function createRouter(routes: readonly Route[], logger: Logger): FetchHandler {
  const compiled = routes.map(compile);

  const find = (method: string, segments: readonly string[], ignoreCase = false) => {
    for (const route of compiled) {
      if (route.method !== method) continue;
      const params = match(route, segments, ignoreCase);
      if (params !== null) return { route, params };
    }
    return null;
  };
  const methodsFor = (segments: readonly string[]): string[] => {
    const methods = new Set<string>();
    for (const route of compiled) if (match(route, segments, false) !== null) methods.add(route.method);
    return [...methods];
  };
  const hasMethod = (method: string) => compiled.some((r) => r.method === method);

  /** Where a request with no route for its method is sent instead (trailing slash, then cleaned and case-folded path). */
  const fixedPath = (method: string, path: string): string | null => {
    if (method === "CONNECT" || path === "/" || !hasMethod(method)) return null;
    const toggled = path.endsWith("/") ? path.slice(0, -1) : `${path}/`;
    if (find(method, toggled.split("/")) !== null) return toggled;
    const cleaned = cleanPath(path);
    for (const candidate of [cleaned, cleaned.endsWith("/") ? cleaned.slice(0, -1) : `${cleaned}/`]) {
      const segments = candidate.split("/");
      const found = find(method, segments, true);
      if (found !== null) return spell(found.route, segments);
    }
    return null;
  };

  return async (request: Request, info?: RequestInfo): Promise<Response> => {
    const started = performance.now();
    const url = new URL(request.url);
    const target = requestTarget(url);
    const uri = target.rawQuery === "" ? target.path : `${target.path}?${target.rawQuery}`;
    const method = request.method;
    const log = (status: number) => logger.info(accessLogLine(status, method, uri, info, performance.now() - started));
    let path = target.path;
    try {
      path = decodeURIComponent(path);
    } catch {
      // keep the encoded form; it matches no route
    }
    const segments = path.split("/");

    const found = find(method, segments);
    if (found !== null) {
      let response: Response;
      try {
        response = await found.route.handler({ request, url, rawQuery: target.rawQuery, params: found.params, info: info ?? NO_INFO });
      } catch (e) {
        if (!(e instanceof HttpError)) {
          logger.error(`panic in HTTP handler - ${errorText(e)}`);
          log(500);
          return v1Error(500, "INTERNAL_ERROR");
        }
        response = v1Error(e.status, e.message);
      }
      if (found.route.log) log(response.status);
      return response;
    }

    const fixed = fixedPath(method, path);
    if (fixed !== null) {
      const location = target.rawQuery === "" ? escapePath(fixed) : `${escapePath(fixed)}?${target.rawQuery}`;
      return redirect(method, method === "GET" ? 301 : 307, location);
    }

    const methods = methodsFor(segments);
    if (methods.length > 0) {
      const allow = [...methods, "OPTIONS"].sort().join(", ");
      if (method === "OPTIONS") return new Response(null, { status: 200, headers: { Allow: allow } });
      log(405);
      return v1Error(405, "METHOD_NOT_ALLOWED", { Allow: allow });
    }
    log(404);
    return v1Error(404, "NOT_FOUND");
  };
}
