// A small stand-in for graphite's render API (A-UI-GRAPHS tests): answers
// GET /render?format=json with one series per `target` that it has data for,
// as graphite does (a target matching nothing gives no series), honours
// alias(<target>,"<name>") and the `jsonp` callback parameter, and records
// every request so tests can check the targets nsqadmin asked for.
import * as http from "node:http";
import type * as net from "node:net";

export type Datapoints = Array<[number | null, number]>;

export interface FakeGraphite extends AsyncDisposable {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Every request's URL (path and query), oldest first. */
  requests: URL[];
  /** The targets asked for, with any alias() taken off. */
  targets(): string[];
  close(): Promise<void>;
}

/** alias(<inner>,"<name>") → [inner, name]; anything else → [target, target]. */
export function unalias(target: string): [string, string] {
  const m = /^alias\((.*),"([^"]*)"\)$/.exec(target);
  return m === null ? [target, target] : [m[1]!, m[2]!];
}

/** `data` maps a target (as nsqadmin sends it, without alias) to its datapoints. */
export async function startFakeGraphite(data: (target: string, query: URLSearchParams) => Datapoints | undefined): Promise<FakeGraphite> {
  const requests: URL[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://graphite");
    requests.push(url);
    if (url.pathname !== "/render") {
      res.writeHead(404).end();
      return;
    }
    const out = [];
    for (const t of url.searchParams.getAll("target")) {
      const [inner, name] = unalias(t);
      const points = data(inner, url.searchParams);
      if (points !== undefined) out.push({ target: name, datapoints: points });
    }
    const body = JSON.stringify(out);
    const callback = url.searchParams.get("jsonp");
    res.writeHead(200, { "Content-Type": callback ? "text/javascript" : "application/json" });
    res.end(callback ? `${callback}(${body})` : body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    targets: () => requests.flatMap((u) => u.searchParams.getAll("target").map((t) => unalias(t)[0])),
    close,
    [Symbol.asyncDispose]: close,
  };
}
