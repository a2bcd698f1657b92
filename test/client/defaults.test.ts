// The client library used the short way: no runtime argument (the adapter of
// the runtime the code runs on is picked by itself), options as a plain object
// or a Config, and go-nsq's hostname / client_id defaults (U-CLI-DEFAULTS)
// taken from the host's name once the runtime is known.
import { hostname } from "node:os";
import { describe, expect, test } from "vitest";
import { startTestNsqd } from "../nsqd/helpers.ts";
import { collectStats } from "../../src/nsqd/stats.ts";
import { Config, Consumer, Producer, type Message } from "../../src/index.ts";
import { createNodeRuntime } from "../../src/runtime/node.ts";

const shortName = (h: string) => h.split(".")[0] ?? h;

function firstMessage(consumer: Consumer): Promise<Message> {
  return new Promise((resolve) => consumer.addHandler((m) => resolve(m)));
}

describe("Producer and Consumer without a runtime argument", () => {
  test("publish and consume through nsqd; IDENTIFY carries this host's name", async () => {
    await using n = await startTestNsqd();
    const address = `127.0.0.1:${n.tcpPort}`;
    const producer = new Producer(address);
    await producer.publish("defaults", "hello");
    const consumer = new Consumer("defaults", "ch", { max_in_flight: 10 });
    const received = firstMessage(consumer);
    await consumer.connectToNsqd(address);
    const message = await received;
    expect(new TextDecoder().decode(message.body)).toBe("hello");
    expect(consumer.config.max_in_flight).toBe(10);
    expect(consumer.config.hostname).toBe(hostname());
    expect(producer.config.client_id).toBe(shortName(hostname()));
    const clients = collectStats(n.nsqd, { includeClients: true }).topics?.[0]?.channels[0]?.clients ?? [];
    expect(clients.map((c) => [c.hostname, c.client_id])).toEqual([[hostname(), shortName(hostname())]]);
    await consumer.stop();
    await producer.stop();
  });

  test("a Config made without a host name gets it from the runtime; options set by name are kept", async () => {
    await using n = await startTestNsqd();
    const address = `127.0.0.1:${n.tcpPort}`;
    const named = new Config({ client_id: "worker-7" });
    const producer = new Producer(address, named);
    await producer.publish("defaults", "x");
    expect(producer.config.client_id).toBe("worker-7");
    expect(producer.config.hostname).toBe(hostname());
    // The caller's Config is copied, not changed.
    expect(named.values.hostname).toBe("localhost");
    await producer.stop();
  });

  test("a runtime passed in is used, and a host name given to Config wins over it", async () => {
    const runtime = { ...createNodeRuntime(), hostname: () => "given.example.com" };
    expect(new Producer("127.0.0.1:1", {}, { runtime }).config.client_id).toBe("given");
    const fixed = new Consumer("t", "c", new Config({}, "box.example.com"), { runtime });
    expect([fixed.config.hostname, fixed.config.client_id]).toEqual(["box.example.com", "box"]);
  });
});
