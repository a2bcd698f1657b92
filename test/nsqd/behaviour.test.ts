// Protocol behaviours of an in-process nsqd over real TCP (SPEC §2.5, §4.1):
// heartbeats and the read deadline, output buffering, sampling, consumer
// limits, ephemeral clean-up, touch, disconnect, fan-out, pause, CLS, Unix
// sockets and the data-directory lock.
import { describe, expect, it } from "vitest";
import net from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RawConnection, waitFor, text } from "../integration/harness.ts";
import { startTestNsqd, defaultNsqdOptions } from "./helpers.ts";
import { Nsqd } from "../../src/nsqd/nsqd.ts";
import { createNodeRuntime } from "../../src/runtime/node.ts";
import { silentLogger } from "../../src/common/log.ts";
import {
  FrameType,
  decodeMessagePayload,
  encodeCommand,
  encodeFin,
  encodeIdentify,
  encodeMpub,
  encodePub,
  encodeRdy,
  encodeSub,
  encodeTouch,
  MAGIC_V2,
  FrameReader,
} from "../../src/protocol/frames.ts";

const body = (s: string) => new TextEncoder().encode(s);

async function consumer(port: number, topic: string, channel: string, identify: object = {}, rdy = 10): Promise<RawConnection> {
  const c = await RawConnection.open(port);
  c.send(encodeIdentify({ feature_negotiation: false, ...identify }));
  await c.expectResponse("OK");
  c.send(encodeSub(topic, channel));
  await c.expectResponse("OK");
  if (rdy > 0) c.send(encodeRdy(rdy));
  return c;
}

async function publish(port: number, topic: string, bodies: string[]): Promise<void> {
  await using p = await RawConnection.open(port);
  for (const b of bodies) {
    p.send(encodePub(topic, body(b)));
    await p.expectResponse("OK");
  }
}

async function nextMessage(c: RawConnection, timeoutMs = 5000) {
  const f = await c.next(timeoutMs);
  if (f === null) throw new Error("connection closed");
  if (f.type !== FrameType.Message) throw new Error(`expected a message, got ${f.text}`);
  const m = decodeMessagePayload(f.data);
  return { id: m.id.slice(), attempts: m.attempts, body: text(m.body) };
}

describe("nsqd protocol behaviours", () => {
  it("MPUB creates its topic before reading the body; PUB and DPUB only once theirs is in (D-TCP-MPUB)", async () => {
    await using d = await startTestNsqd();
    const be32 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
    const sized = (line: string, ...words: number[]) => new Uint8Array([...body(line), ...words.flatMap(be32)]);
    const cases: [string, Uint8Array, boolean, boolean][] = [
      // topic, bytes, end with EOF, topic afterwards
      ["m_count", sized("MPUB m_count\n", 8, 0, 0), false, true],
      ["m_size", sized("MPUB m_size\n", 2_000_000_000), false, true],
      ["m_cut", sized("MPUB m_cut\n", 100, 2), true, true],
      ["p_size", sized("PUB p_size\n", 0), false, false],
      ["p_cut", sized("PUB p_cut\n", 10), true, false],
      ["d_cut", sized("DPUB d_cut 10\n", 10), true, false],
    ];
    for (const [topic, bytes, eof, created] of cases) {
      await using c = await RawConnection.open(d.tcpPort);
      c.send(bytes);
      if (eof) c.endWrite();
      expect((await c.next())?.type, topic).toBe(FrameType.Error);
      expect(await c.closesWithin(3000)).toBe(true);
      expect(d.nsqd.getExistingTopic(topic)?.messageCount, topic).toBe(created ? 0 : undefined);
    }
  });

  it("sends heartbeats at the negotiated interval and closes a silent client after two (D-TCP-HEARTBEAT)", async () => {
    await using d = await startTestNsqd();
    await using c = await RawConnection.open(d.tcpPort);
    c.send(encodeIdentify({ heartbeat_interval: 1000 }));
    await c.expectResponse("OK");
    const t0 = Date.now();
    const hb = await c.next(3000, { heartbeats: true });
    expect(hb?.text).toBe("_heartbeat_");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(800);
    expect(await c.closesWithin(4000)).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
  });

  it("keeps a client that answers heartbeats with NOP", async () => {
    await using d = await startTestNsqd();
    await using c = await RawConnection.open(d.tcpPort);
    c.send(encodeIdentify({ heartbeat_interval: 1000 }));
    await c.expectResponse("OK");
    for (let i = 0; i < 3; i++) {
      const hb = await c.next(3000, { heartbeats: true });
      expect(hb?.text).toBe("_heartbeat_");
      c.send(encodeCommand("NOP"));
    }
    expect(c.isClosed).toBe(false);
  });

  it("answers feature negotiation with the JSON of D-TCP-IDENTIFY-RESP in the original's key order", async () => {
    await using d = await startTestNsqd({ max_rdy_count: 321 });
    await using c = await RawConnection.open(d.tcpPort);
    c.send(encodeIdentify({ feature_negotiation: true, msg_timeout: 5000, deflate_level: 9, output_buffer_size: 2048, output_buffer_timeout: 100 }));
    const f = await c.next();
    const json = JSON.parse(f!.text);
    expect(Object.keys(json)).toEqual([
      "max_rdy_count",
      "version",
      "max_msg_timeout",
      "msg_timeout",
      "tls_v1",
      "deflate",
      "deflate_level",
      "max_deflate_level",
      "snappy",
      "sample_rate",
      "auth_required",
      "output_buffer_size",
      "output_buffer_timeout",
      "topology_region",
      "topology_zone",
    ]);
    expect(json).toMatchObject({
      max_rdy_count: 321,
      version: "1.3.0",
      max_msg_timeout: 900000,
      msg_timeout: 5000,
      deflate_level: 6,
      output_buffer_size: 2048,
      output_buffer_timeout: 100,
      auth_required: false,
    });
  });

  it("a backed-up channel's memory queue gives back every message whole and in order (D-BEH-MEMQUEUE)", async () => {
    // 2,500 queued: most of them are kept as bytes (message-queue.ts), a few bodies too large for that.
    await using d = await startTestNsqd({ mem_queue_size: 3000 });
    await using c = await consumer(d.tcpPort, "backlog", "c", {}, 0);
    await waitFor(() => d.nsqd.getExistingTopic("backlog")?.channels.get("c")?.consumers.length === 1 || undefined, 2000, "subscription");
    const bodies = Array.from({ length: 2500 }, (_, i) => `${i}:`.padEnd(i % 97 === 0 ? 20_000 : 1 + (i % 300), String.fromCharCode(97 + (i % 26))));
    await using p = await RawConnection.open(d.tcpPort);
    for (let i = 0; i < bodies.length; i += 500) {
      p.send(encodeMpub("backlog", bodies.slice(i, i + 500).map(body)));
      await p.expectResponse("OK");
    }
    await waitFor(() => d.nsqd.getExistingTopic("backlog")?.channels.get("c")?.depth() === 2500 || undefined, 3000, "depth 2500");
    c.send(encodeRdy(2500));
    const ids = new Set<string>();
    for (let i = 0; i < bodies.length; i++) {
      const m = await nextMessage(c);
      expect(m.body).toBe(bodies[i]);
      expect(m.attempts).toBe(1);
      ids.add(text(m.id));
      c.send(encodeFin(m.id));
    }
    expect(ids.size).toBe(bodies.length);
  });

  it("holds message frames until output_buffer_timeout while the client stays ready (D-TCP-OUTBUF)", async () => {
    await using d = await startTestNsqd();
    await using c = await consumer(d.tcpPort, "ob", "c", { output_buffer_timeout: 600 }, 10);
    await waitFor(() => d.nsqd.getExistingTopic("ob")?.channels.get("c")?.consumers.length === 1 || undefined, 2000, "subscription");
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await publish(d.tcpPort, "ob", ["late"]);
    const m = await nextMessage(c, 3000);
    expect(m.body).toBe("late");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
  });

  it("flushes at once when the client stops being ready or disables buffering", async () => {
    await using d = await startTestNsqd();
    await using c1 = await consumer(d.tcpPort, "ob2", "c", { output_buffer_timeout: 5000 }, 1);
    await using c2 = await consumer(d.tcpPort, "ob2", "d", { output_buffer_size: -1 }, 10);
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await publish(d.tcpPort, "ob2", ["now"]);
    expect((await nextMessage(c1, 2000)).body).toBe("now");
    expect((await nextMessage(c2, 2000)).body).toBe("now");
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it("drops the messages sampling skips for the whole channel (D-TCP-SAMPLE)", async () => {
    await using d = await startTestNsqd();
    await using c = await consumer(d.tcpPort, "sample", "c", { sample_rate: 30 }, 2500);
    await new Promise((r) => setTimeout(r, 50));
    const n = 400;
    const p = await RawConnection.open(d.tcpPort);
    p.send(
      encodeMpub(
        "sample",
        Array.from({ length: n }, (_, i) => body(`s${i}`)),
      ),
    );
    await p.expectResponse("OK");
    await p[Symbol.asyncDispose]();
    const channel = d.nsqd.getExistingTopic("sample")!.channels.get("c")!;
    await waitFor(() => (channel.depth() === 0 ? true : undefined), 3000, "channel drained");
    const delivered = channel.inFlightCount();
    expect(delivered).toBeGreaterThan(n * 0.15);
    expect(delivered).toBeLessThan(n * 0.5);
    expect(channel.depth()).toBe(0);
    void c;
  });

  it("refuses a SUB beyond --max-channel-consumers (D-BEH-MAX-CONSUMERS)", async () => {
    await using d = await startTestNsqd({ max_channel_consumers: 1 });
    await using a = await consumer(d.tcpPort, "lim", "c");
    await using b = await RawConnection.open(d.tcpPort);
    b.send(encodeSub("lim", "c"));
    const f = await b.next();
    expect(f?.type).toBe(FrameType.Error);
    expect(f?.text).toBe("E_SUB_FAILED SUB failed consumers for lim:c exceeds limit of 1");
    expect(await b.closesWithin(2000)).toBe(true);
    void a;
  });

  it("deletes an ephemeral channel with its last consumer, and an ephemeral topic with its last channel (D-BEH-EPHEMERAL)", async () => {
    await using d = await startTestNsqd();
    const c = await consumer(d.tcpPort, "e#ephemeral", "c#ephemeral");
    expect(d.nsqd.getExistingTopic("e#ephemeral")?.channels.has("c#ephemeral")).toBe(true);
    await c[Symbol.asyncDispose]();
    await waitFor(() => (d.nsqd.getExistingTopic("e#ephemeral") === undefined ? true : undefined), 3000, "ephemeral topic gone");
  });

  it("redelivers a timed-out message with attempts 2, and TOUCH postpones the timeout (D-BEH-INFLIGHT, D-BEH-TOUCH)", async () => {
    await using d = await startTestNsqd();
    await using c = await consumer(d.tcpPort, "to", "c", { msg_timeout: 1000 }, 1);
    await new Promise((r) => setTimeout(r, 50));
    await publish(d.tcpPort, "to", ["x"]);
    const first = await nextMessage(c);
    expect(first.attempts).toBe(1);
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 600));
    c.send(encodeTouch(first.id));
    const second = await nextMessage(c, 4000);
    expect(second.attempts).toBe(2);
    expect(text(second.id)).toBe(text(first.id));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
    expect(d.nsqd.getExistingTopic("to")!.channels.get("c")!.timeoutCount).toBe(1);
    c.send(encodeFin(second.id));
  });

  it("keeps a disconnected consumer's message in flight until msg_timeout (D-TCP-DISCONNECT)", async () => {
    await using d = await startTestNsqd();
    const a = await consumer(d.tcpPort, "dc", "c", { msg_timeout: 1000 }, 1);
    await new Promise((r) => setTimeout(r, 50));
    await publish(d.tcpPort, "dc", ["y"]);
    await nextMessage(a);
    await a[Symbol.asyncDispose]();
    const t0 = Date.now();
    await using b = await consumer(d.tcpPort, "dc", "c", {}, 1);
    const m = await nextMessage(b, 4000);
    expect(m.body).toBe("y");
    expect(m.attempts).toBe(2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(700);
  });

  it("keeps messages in a topic without channels and gives them to the first channel only (D-BEH-FANOUT, K-FIRSTCHANNEL)", async () => {
    await using d = await startTestNsqd();
    await publish(d.tcpPort, "fan", ["1", "2", "3"]);
    expect(d.nsqd.getExistingTopic("fan")!.depth()).toBe(3);
    await using a = await consumer(d.tcpPort, "fan", "first");
    const got = [await nextMessage(a), await nextMessage(a), await nextMessage(a)].map((m) => m.body).sort();
    expect(got).toEqual(["1", "2", "3"]);
    await using b = await consumer(d.tcpPort, "fan", "second");
    await publish(d.tcpPort, "fan", ["4"]);
    expect((await nextMessage(a)).body).toBe("4");
    expect((await nextMessage(b)).body).toBe("4");
    expect(d.nsqd.getExistingTopic("fan")!.channels.get("second")!.messageCount).toBe(1);
  });

  it("stops delivering from a paused channel and resumes on unpause (D-BEH-PAUSE)", async () => {
    await using d = await startTestNsqd();
    await using c = await consumer(d.tcpPort, "pz", "c");
    const channel = d.nsqd.getExistingTopic("pz")!.channels.get("c")!;
    channel.pause();
    await publish(d.tcpPort, "pz", ["p"]);
    await expect(c.next(400)).rejects.toThrow(/no frame/);
    expect(channel.depth()).toBe(1);
    channel.unpause();
    expect((await nextMessage(c)).body).toBe("p");
  });

  it("answers CLS with CLOSE_WAIT, ignores RDY afterwards and still accepts FIN (D-BEH-CLS)", async () => {
    await using d = await startTestNsqd();
    await using c = await consumer(d.tcpPort, "cls", "c", {}, 1);
    await new Promise((r) => setTimeout(r, 50));
    await publish(d.tcpPort, "cls", ["a", "b"]);
    const m = await nextMessage(c);
    c.send(encodeCommand("CLS"));
    await c.expectResponse("CLOSE_WAIT");
    c.send(encodeRdy(5));
    c.send(encodeFin(m.id));
    await expect(c.next(400)).rejects.toThrow(/no frame/);
    expect(c.isClosed).toBe(false);
    expect(d.nsqd.getExistingTopic("cls")!.channels.get("c")!.inFlightCount()).toBe(0);
  });

  it("listens on a Unix socket when --tcp-address is a path (D-TCP-LISTEN)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nsqd-unix-"));
    try {
      const path = join(dir, "nsqd.sock");
      await using d = await startTestNsqd({ tcp_address: path, http_address: "" });
      expect(d.nsqd.tcpPort).toBe(-1);
      const socket = net.connect(path);
      const reader = new FrameReader();
      const frames: string[] = [];
      socket.on("data", (chunk: Buffer) => {
        for (const f of reader.push(new Uint8Array(chunk))) frames.push(text(f.data));
      });
      await new Promise((r) => socket.once("connect", r));
      socket.write(MAGIC_V2);
      socket.write(encodePub("unix", body("u")));
      await waitFor(() => (frames.length > 0 ? true : undefined), 3000, "PUB response");
      expect(frames[0]).toBe("OK");
      socket.destroy();
      expect(d.nsqd.getExistingTopic("unix")!.depth()).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses to start a second daemon on the same data path (D-BEH-DATALOCK)", async () => {
    await using d = await startTestNsqd();
    const second = new Nsqd(defaultNsqdOptions({ data_path: d.dataPath }), { runtime: createNodeRuntime(), logger: silentLogger });
    await expect(second.start()).rejects.toThrow(/possibly in use/);
  });

  it("feeds FIN'd messages into the e2e latency percentiles (D-BEH-E2E)", async () => {
    await using d = await startTestNsqd({ e2e_processing_latency_percentiles: [0.99, 0.5] });
    await using c = await consumer(d.tcpPort, "e2e", "c", {}, 10);
    await new Promise((r) => setTimeout(r, 50));
    await publish(d.tcpPort, "e2e", ["1", "2", "3"]);
    for (let i = 0; i < 3; i++) c.send(encodeFin((await nextMessage(c)).id));
    const channel = d.nsqd.getExistingTopic("e2e")!.channels.get("c")!;
    await waitFor(() => (channel.inFlightCount() === 0 ? true : undefined), 2000, "FINs");
    const { LatencyStream } = await import("../../src/nsqd/quantile.ts");
    const r = LatencyStream.result([channel.e2e!], [0.99, 0.5]);
    expect(r.count).toBe(3);
    expect(r.percentiles!.map((p) => p.quantile)).toEqual([0.99, 0.5]);
    for (const p of r.percentiles!) expect(p.value).toBeGreaterThanOrEqual(0);
  });
});
