// Query strings as the original's HTTP APIs read them (X-HTTP-PARAMS): Go's
// url.ParseQuery rules, shared by nsqd and nsqlookupd.

const HEX = /^[0-9a-fA-F]{2}$/;
const textDecoder = new TextDecoder();

/** Go's url.QueryUnescape: `+` is a space, `%XX` must be two hex digits. Null when malformed. */
function queryUnescape(s: string): string | null {
  if (!s.includes("%") && !s.includes("+")) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch === 0x25) {
      const hex = s.slice(i + 1, i + 3);
      if (!HEX.test(hex)) return null;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (ch === 0x2b) {
      bytes.push(0x20);
    } else if (ch < 0x80) {
      bytes.push(ch);
    } else {
      // Request URLs are percent-encoded by the URL parser; keep any other character as UTF-8.
      for (const b of new TextEncoder().encode(String.fromCodePoint(s.codePointAt(i)!))) bytes.push(b);
      if (ch >= 0xd800 && ch <= 0xdbff) i++;
    }
  }
  return textDecoder.decode(new Uint8Array(bytes));
}

/**
 * Go's url.ParseQuery: `&`-separated pairs, a `;` makes the query invalid, a
 * malformed escape makes it invalid; the first value of a key wins (callers
 * read `get`). Returns null when the query is unparseable (400 INVALID_REQUEST).
 */
export function parseQuery(raw: string): Map<string, string[]> | null {
  const params = new Map<string, string[]>();
  let ok = true;
  for (const part of raw.split("&")) {
    if (part.includes(";")) {
      ok = false;
      continue;
    }
    if (part === "") continue;
    const eq = part.indexOf("=");
    const key = queryUnescape(eq < 0 ? part : part.slice(0, eq));
    const value = queryUnescape(eq < 0 ? "" : part.slice(eq + 1));
    if (key === null || value === null) {
      ok = false;
      continue;
    }
    const list = params.get(key);
    if (list === undefined) params.set(key, [value]);
    else list.push(value);
  }
  return ok ? params : null;
}

/**
 * The path and raw query of a request as Go's HTTP server reads the request
 * target: there `#` starts no fragment (a client never sends one), so a target
 * sent as `/topic/create?topic=e#ephemeral` has the query `topic=e#ephemeral`,
 * where WHATWG URL parsing would cut it into the query `topic=e` and a
 * fragment (X-HTTP-PARAMS). Every runtime keeps that fragment in Request.url;
 * this puts it back. The path stays percent-encoded, the query unparsed.
 */
export function requestTarget(url: URL): { path: string; rawQuery: string } {
  // The hash getter reads "" for an empty fragment too: look at the href for a trailing '#'.
  const hash = url.hash !== "" ? url.hash : url.href.endsWith("#") ? "#" : "";
  const search = url.search;
  if (hash === "") return { path: url.pathname, rawQuery: search.slice(1) };
  // `?` ... `#` ...: the fragment is the rest of the query.
  if (search !== "" || url.href.slice(0, url.href.length - hash.length).endsWith("?")) {
    return { path: url.pathname, rawQuery: search.slice(1) + hash };
  }
  // `#` before any `?`: the fragment holds the rest of the path, then the query.
  const q = hash.indexOf("?");
  if (q < 0) return { path: url.pathname + hash, rawQuery: "" };
  return { path: url.pathname + hash.slice(0, q), rawQuery: hash.slice(q + 1) };
}
