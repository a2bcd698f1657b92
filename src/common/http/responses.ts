// The response shapes of the original's HTTP APIs, shared by nsqd,
// nsqlookupd and nsqadmin:
//   X-HTTP-V1     200 with raw text, nothing, or JSON; errors as
//                 {"message":"<TEXT>"}; every one marked X-NSQ-Content-Type
//   X-HTTP-PLAIN  the text as it is, without the X-NSQ-Content-Type mark
import { goJson } from "./json.ts";

export const NSQ_CONTENT_TYPE = "nsq; version=1.0";
export const JSON_CONTENT_TYPE = "application/json; charset=utf-8";
/** What Go's server sniffs for our texts. */
export const TEXT_CONTENT_TYPE = "text/plain; charset=utf-8";

/** X-HTTP-V1 success: a value (object, array, number, boolean) as JSON. */
export function v1Json(value: unknown): Response {
  return v1JsonText(goJson(value));
}

/** X-HTTP-V1 success with JSON already encoded (exact 64-bit integers, literal layouts). */
export function v1JsonText(json: string): Response {
  return new Response(json, { status: 200, headers: { "Content-Type": JSON_CONTENT_TYPE, "X-NSQ-Content-Type": NSQ_CONTENT_TYPE } });
}

/** X-HTTP-V1 success with a string: sent raw, not as JSON (`OK`, text /stats, string /config values). */
export function v1Text(text: string): Response {
  if (text === "") return v1Empty();
  return new Response(text, { status: 200, headers: { "Content-Type": TEXT_CONTENT_TYPE, "X-NSQ-Content-Type": NSQ_CONTENT_TYPE } });
}

/** X-HTTP-V1 success with nothing to say: an empty body and no content type. */
export function v1Empty(): Response {
  return new Response(null, { status: 200, headers: { "X-NSQ-Content-Type": NSQ_CONTENT_TYPE } });
}

/** X-HTTP-V1 error: `{"message":"<TEXT>"}`. */
export function v1Error(status: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(goJson({ message }), {
    status,
    headers: { "Content-Type": JSON_CONTENT_TYPE, "X-NSQ-Content-Type": NSQ_CONTENT_TYPE, ...headers },
  });
}

/** X-HTTP-PLAIN: the text as it is (an empty text is an empty body without a content type). */
export function plainText(text: string, status = 200): Response {
  if (text === "") return new Response(null, { status });
  return new Response(text, { status, headers: { "Content-Type": TEXT_CONTENT_TYPE } });
}

const HTML_ESCAPES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;" };

/**
 * Go's http.Redirect as the router uses it: the Location, and for GET a
 * short HTML body naming the status (other methods get no body).
 */
export function redirect(method: string, status: 301 | 307, location: string): Response {
  const headers: Record<string, string> = { Location: location };
  if (method !== "GET") return new Response(null, { status, headers });
  headers["Content-Type"] = "text/html; charset=utf-8";
  const href = location.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
  const text = status === 301 ? "Moved Permanently" : "Temporary Redirect";
  return new Response(`<a href="${href}">${text}</a>.\n\n`, { status, headers });
}
