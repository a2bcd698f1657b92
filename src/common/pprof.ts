// The /debug/pprof paths of nsqd and nsqlookupd (D-HTTP-DEBUG,
// L-HTTP-DEBUG-PPROF, X-PPROF). Both originals mount Go's net/http/pprof on the
// same paths (the index at /debug/pprof/ on nsqd, /debug/pprof on nsqlookupd)
// and answer 200 with Go profiles. Node, Bun and Deno have no such profiles to
// give, so both daemons here answer alike:
//   index     200 plain text: what this process offers instead
//   cmdline   200 the program and its arguments, NUL-separated (as Go's)
//   heap      200 JSON of the runtime's memory usage (not Go's pprof format)
//   profile, goroutine, block, threadcreate, symbol (GET and POST)
//             501 Not Implemented, one plain-text line naming the runtime:
//             the path exists, this server cannot produce what it stands for.
// Paths outside this list stay 404 NOT_FOUND, as in the original.
import type { MemoryUsage } from "../runtime/types.ts";

/** What the answers need from the daemon's process. */
export interface PprofProcess {
  /** "nsqd" or "nsqlookupd". */
  readonly program: string;
  /** The runtime's name and version, e.g. "node v20.20.2". */
  readonly runtimeVersion: string;
  /** argv[0] then the arguments. */
  argv(): string[];
  memoryUsage(): MemoryUsage;
}

export interface PprofRoute {
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly handler: () => Response;
}

const TEXT = "text/plain; charset=utf-8";
const GO_ONLY = ["profile", "goroutine", "block", "threadcreate", "symbol"] as const;

/** The routes, with the index at `indexPath` (the original's spelling for this daemon). */
export function pprofRoutes(p: PprofProcess, indexPath: "/debug/pprof/" | "/debug/pprof"): PprofRoute[] {
  const text = (status: number, body: string) => new Response(body, { status, headers: { "Content-Type": TEXT, "X-Content-Type-Options": "nosniff" } });
  const index = () =>
    text(
      200,
      `${p.program} on ${p.runtimeVersion}: Go's pprof profiles do not exist in this runtime.\n` +
        "Available here:\n" +
        "  /debug/pprof/cmdline   the program and its arguments\n" +
        "  /debug/pprof/heap      memory usage of this process (JSON)\n" +
        `Not available (501): ${GO_ONLY.map((n) => `/debug/pprof/${n}`).join(", ")}\n`,
    );
  const cmdline = () => text(200, p.argv().join("\0"));
  const heap = () => {
    const m = p.memoryUsage();
    return new Response(JSON.stringify({ rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external }), {
      status: 200,
      headers: { "Content-Type": "application/json; charset=utf-8" },
    });
  };
  const missing = (name: string) => () =>
    text(501, `${name} is a Go runtime profile; ${p.program} on ${p.runtimeVersion} cannot produce it (see ${indexPath})\n`);
  return [
    { method: "GET", path: indexPath, handler: index },
    { method: "GET", path: "/debug/pprof/cmdline", handler: cmdline },
    { method: "GET", path: "/debug/pprof/heap", handler: heap },
    ...GO_ONLY.map((name): PprofRoute => ({ method: "GET", path: `/debug/pprof/${name}`, handler: missing(name) })),
    { method: "POST", path: "/debug/pprof/symbol", handler: missing("symbol") },
  ];
}
