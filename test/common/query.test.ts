// X-HTTP-PARAMS: the request target as Go's server reads it (path and raw
// query; `#` is not a fragment there), and Go's url.ParseQuery rules.
import { describe, expect, it } from "vitest";
import { parseQuery, requestTarget } from "../../src/common/query.ts";

describe("requestTarget", () => {
  const target = (t: string) => requestTarget(new URL(t, "http://h"));
  it.each([
    ["/topic/create?topic=e#ephemeral", "/topic/create", "topic=e#ephemeral"],
    ["/channel/create?topic=t&channel=c#ephemeral&x=1", "/channel/create", "topic=t&channel=c#ephemeral&x=1"],
    ["/a?topic=e#", "/a", "topic=e#"],
    ["/a?#x", "/a", "#x"],
    ["/a?", "/a", ""],
    ["/a?x=1", "/a", "x=1"],
    ["/a", "/a", ""],
    // a `#` before any `?` belongs to the path (which then matches no route)
    ["/a#b?topic=e", "/a#b", "topic=e"],
    ["/a#", "/a#", ""],
    ["/a#b#c?x=1#2", "/a#b#c", "x=1#2"],
  ])("%s -> path %s, query %s", (t, path, rawQuery) => {
    expect(target(t)).toEqual({ path, rawQuery });
  });

  it("a query cut at # by the URL parser still parses to Go's values", () => {
    const { rawQuery } = target("/pub?topic=e#ephemeral&defer=`5`");
    expect(parseQuery(rawQuery)?.get("topic")).toEqual(["e#ephemeral"]);
    // the URL parser percent-encodes ` in a fragment; unescaping gives it back
    expect(parseQuery(rawQuery)?.get("defer")).toEqual(["`5`"]);
  });
});
