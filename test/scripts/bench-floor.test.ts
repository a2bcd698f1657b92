// The benchmark's floor server (scripts/bench-floor.ts) under the load of cases 1, 2
// and 4: it must answer every publish and hand the count back to a reader, or
// `bench.ts run --target=floor` measures a broken exchange. Figures are not checked.
import { afterEach, describe, expect, it } from "vitest";
import * as net from "node:net";
import { startFloor } from "../../scripts/bench-floor.ts";
import { runReader, runWriter } from "../../scripts/bench-client.ts";
import { rttClient, runRtt } from "../../scripts/bench-rtt.ts";
import { FrameReader, FrameType, MAGIC_V2, encodePub, encodeSub } from "../../src/protocol/frames.ts";

let floor: { port: number; close(): Promise<void> } | null = null;

afterEach(async () => {
  await floor?.close();
  floor = null;
});

const base = { connections: 1, pipeline: 4, runforMs: 10_000 };

describe("bench floor server", () => {
  it("answers MPUB and PUB, then hands out exactly what was published, as frames a reader parses", async () => {
    floor = await startFloor("127.0.0.1", 0);
    const target = { host: "127.0.0.1", port: floor.port };
    const w1 = await runWriter({ ...base, target, topic: "f", size: 100, batchSize: 200, count: 2000 });
    expect(w1.messages).toBe(2000);
    const w2 = await runWriter({ ...base, target, topic: "f", size: 100, batchSize: 1, pipeline: 1, count: 300 });
    expect(w2.messages).toBe(300);
    const r = await runReader({ target, topic: "f", channel: "ch", rdy: 250, connections: 1, count: 0, runforMs: 10_000, idleMs: 500 });
    expect(r.messages).toBe(2300);
    expect(r.bytes).toBe(2300 * 100);
    expect(r.stop).toBe("drained");
  });

  it("reads commands cut anywhere by the network, and answers an unknown one with E_INVALID and a close", async () => {
    floor = await startFloor("127.0.0.1", 0);
    const socket = net.connect(floor.port, "127.0.0.1");
    const frames: { type: number; text: string }[] = [];
    const reader = new FrameReader();
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.on("data", (chunk) => {
      for (const f of reader.push(new Uint8Array(chunk))) frames.push({ type: f.type, text: new TextDecoder().decode(f.data) });
    });
    socket.setNoDelay(true);
    const pub = encodePub("f", new TextEncoder().encode("abc"));
    const bytes = [
      MAGIC_V2.subarray(0, 2),
      MAGIC_V2.subarray(2),
      encodeSub("f", "ch"),
      pub.subarray(0, 3),
      pub.subarray(3, 8),
      pub.subarray(8, pub.length - 1),
      pub.subarray(pub.length - 1),
    ];
    // Each piece alone, so that the server gets them as separate chunks: a cut magic, line, size and body.
    for (const piece of bytes) {
      socket.write(piece);
      await new Promise((r) => setTimeout(r, 30));
    }
    // Another topic on the same connection: the reader of "f" must not get it.
    socket.write(encodePub("g", new TextEncoder().encode("def")));
    socket.write("RDY 5\n");
    await new Promise((r) => setTimeout(r, 50));
    socket.write("BOGUS 1\n");
    await closed;
    expect(frames.map((f) => f.type)).toEqual([FrameType.Response, FrameType.Response, FrameType.Response, FrameType.Message, FrameType.Error]);
    expect(frames[0]!.text).toBe("OK");
    expect(frames[1]!.text).toBe("OK");
    expect(frames[2]!.text).toBe("OK");
    expect(frames[4]!.text).toBe("E_INVALID invalid command BOGUS");
  });

  it("serves case 4's C client (skipped without a C compiler)", async (ctx) => {
    const c = rttClient();
    if (c.path === null) ctx.skip();
    floor = await startFloor("127.0.0.1", 0);
    const r = await runRtt(c.path!, { target: { host: "127.0.0.1", port: floor.port }, topic: "rtt", size: 100, count: 500, runforMs: 10_000 });
    expect(r.messages).toBe(500);
    expect(r.stop).toBe("count");
  });
});
