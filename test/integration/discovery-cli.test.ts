// Discovery with real processes on every runtime: `nsq lookupd` and one
// `nsq nsqd --lookupd-tcp-address=...` (D-BEH-LOOKUP-CONNECT,
// D-BEH-LOOKUP-NOTIFY, D-BEH-LOOKUP-RECONNECT, L-HTTP-LOOKUP, L-HTTP-NODES,
// L-HTTP-TOMBSTONE, L-BEH-TOMBSTONE). The in-process versions live in
// test/lookupd/integration.test.ts. The tests of one runtime share the two
// processes and run in order: each restart leaves the next test its state.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rmSync } from "node:fs";
import { RUNTIMES, type CliRuntime } from "../helpers/cli.ts";
import { ensureDist, startLookupdProcess, startNsqd, tempDir, waitFor, type LookupdProcess, type NsqdProcess } from "./harness.ts";

/** `nsq lookupd` on the given ports (0: any) with a 2 s tombstone lifetime. */
function startLookupd(rt: CliRuntime, tcpPort = 0, httpPort = 0): Promise<LookupdProcess> {
  return startLookupdProcess(rt, { tcpPort, httpPort, args: ["--broadcast-address=127.0.0.1", "--tombstone-lifetime=2s"] });
}

interface Peer {
  broadcast_address: string;
  tcp_port: number;
  http_port: number;
  version: string;
}
interface NodeEntry extends Peer {
  topics: string[];
  tombstones: boolean[];
}

describe.each(RUNTIMES)("lookupd discovery of an nsqd, both as processes on %s", (rt) => {
  let lookupd: LookupdProcess;
  let nsqd: NsqdProcess;
  let dataPath: string;
  let started = 0;

  const lookupdGet = async (path: string): Promise<{ status: number; body: any }> => {
    const res = await fetch(`http://127.0.0.1:${lookupd.httpPort}${path}`);
    return { status: res.status, body: await res.json() };
  };
  /** Producers of `topic` in /lookup ([] when the topic is unknown). */
  const producers = async (topic: string): Promise<Peer[]> => {
    const r = await lookupdGet(`/lookup?topic=${topic}`);
    return r.status === 200 ? (r.body.producers as Peer[]) : [];
  };
  const isThisNsqd = (p: Peer) => p.broadcast_address === "127.0.0.1" && p.tcp_port === nsqd.tcpPort && p.http_port === nsqd.httpPort;
  const nsqdPost = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${nsqd.httpPort}${path}`, { method: "POST" });
    expect(res.status, path).toBe(200);
  };
  const startOurNsqd = () => startNsqd(rt, { dataPath, args: ["--broadcast-address=127.0.0.1", `--lookupd-tcp-address=127.0.0.1:${lookupd.tcpPort}`] });

  beforeAll(async () => {
    await ensureDist([rt]);
    started = Date.now();
    dataPath = tempDir("nsq-discovery-");
    lookupd = await startLookupd(rt);
    nsqd = await startOurNsqd();
  }, 60_000);

  afterAll(async () => {
    await nsqd?.[Symbol.asyncDispose]();
    await lookupd?.cli[Symbol.asyncDispose]();
    if (dataPath !== undefined) rmSync(dataPath, { recursive: true, force: true });
    if (started > 0) console.log(`[timing] discovery on ${rt}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  it("D-BEH-LOOKUP-NOTIFY / L-HTTP-LOOKUP: a topic and channel created on nsqd appear in /lookup", async () => {
    await nsqdPost("/topic/create?topic=disc");
    await nsqdPost("/channel/create?topic=disc&channel=c1");
    await waitFor(async () => ((await lookupdGet("/lookup?topic=disc")).body.channels?.includes("c1") ? true : undefined), 10_000, "disc/c1 in /lookup");
    const r = await lookupdGet("/lookup?topic=disc");
    expect(r.body.channels).toEqual(["c1"]);
    expect(r.body.producers).toHaveLength(1);
    expect(isThisNsqd(r.body.producers[0])).toBe(true);
    expect(r.body.producers[0].version).toBe("1.3.0");
  });

  it("D-BEH-LOOKUP-CONNECT: after SIGTERM the producer is gone; restarted on the same data path, it re-registers its topics", async () => {
    expect(await nsqd.stop()).toBe(0);
    // The lookupd drops a producer whose connection closed.
    await waitFor(async () => ((await producers("disc")).length === 0 ? true : undefined), 10_000, "disc without producers");
    nsqd = await startOurNsqd();
    // Nothing was created after the restart: the topic comes from nsqd.dat.
    const back = await waitFor(
      async () => {
        const p = await producers("disc");
        return p.length > 0 ? p : undefined;
      },
      10_000,
      "disc producer after the nsqd restart",
    );
    expect(back).toHaveLength(1);
    expect(isThisNsqd(back[0]!)).toBe(true);
    expect((await lookupdGet("/lookup?topic=disc")).body.channels).toEqual(["c1"]);
  });

  it("D-BEH-LOOKUP-RECONNECT: after SIGKILL of lookupd and a restart on the same ports, nsqd registers again with all its topics", async () => {
    const { tcpPort, httpPort } = lookupd;
    lookupd.cli.kill("SIGKILL");
    expect((await lookupd.cli.exited).signal).toBe("SIGKILL");
    lookupd = await startLookupd(rt, tcpPort, httpPort);
    expect([lookupd.tcpPort, lookupd.httpPort]).toEqual([tcpPort, httpPort]);
    // The next command to the peer (here a REGISTER; otherwise the 15 s PING)
    // reconnects, re-IDENTIFYs and re-REGISTERs everything.
    await nsqdPost("/topic/create?topic=disc2");
    const node = await waitFor(
      async () => {
        const nodes = (await lookupdGet("/nodes")).body.producers as NodeEntry[];
        const n = nodes.find(isThisNsqd);
        return n?.topics.includes("disc") && n.topics.includes("disc2") ? n : undefined;
      },
      20_000,
      "nsqd with disc and disc2 in /nodes",
    );
    expect((await lookupdGet("/nodes")).body.producers).toHaveLength(1);
    expect([...node.topics].sort()).toEqual(["disc", "disc2"]);
    expect(node.tombstones).toEqual([false, false]);
    expect((await lookupdGet("/lookup?topic=disc")).body.channels).toEqual(["c1"]);
  });

  it("L-HTTP-TOMBSTONE / L-BEH-TOMBSTONE: a tombstoned producer is hidden from /lookup for --tombstone-lifetime=2s", async () => {
    const res = await fetch(`http://127.0.0.1:${lookupd.httpPort}/topic/tombstone?topic=disc&node=127.0.0.1:${nsqd.httpPort}`, { method: "POST" });
    expect(res.status).toBe(200);
    const at = Date.now();
    expect(await producers("disc")).toEqual([]);
    // Still listed in /nodes, flagged for that topic only.
    const node = ((await lookupdGet("/nodes")).body.producers as NodeEntry[]).find(isThisNsqd)!;
    expect(node.topics.map((t, i) => [t, node.tombstones[i]]).sort()).toEqual([
      ["disc", true],
      ["disc2", false],
    ]);
    expect((await producers("disc2")).some(isThisNsqd)).toBe(true);
    const back = await waitFor(
      async () => {
        const p = await producers("disc");
        return p.length > 0 ? p : undefined;
      },
      10_000,
      "disc producer after the tombstone lifetime",
    );
    // Not before the lifetime: allow for the poll interval only.
    expect(Date.now() - at).toBeGreaterThanOrEqual(1_900);
    expect(isThisNsqd(back[0]!)).toBe(true);
  });
});
