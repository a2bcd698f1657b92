// Topic and Channel in-process, with an in-memory backend and fake consumers:
// fan-out (D-BEH-FANOUT), distribution (D-BEH-CHANNEL-DIST, D-TCP-RDY-SEMANTICS),
// in flight / timeout / requeue / defer / touch through processTimers(now)
// (D-BEH-INFLIGHT, D-BEH-REQUEUE, D-BEH-DEFER, D-BEH-TOUCH), memory overflow
// (D-BEH-MEMQUEUE, D-BEH-EPHEMERAL), empty (D-BEH-EMPTY) and pause (D-BEH-PAUSE).
import { describe, expect, it } from "vitest";
import { Topic, type TopicHost } from "../../src/nsqd/topic.ts";
import type { Channel, Consumer } from "../../src/nsqd/channel.ts";
import { Committer } from "../../src/nsqd/commit.ts";
import { DiskQueue } from "../../src/nsqd/diskqueue.ts";
import { MessageStore } from "../../src/nsqd/message-store.ts";
import { createNodeFileSystem } from "../../src/runtime/node-fs.ts";
import { silentLogger } from "../../src/common/log.ts";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Message } from "../../src/nsqd/message.ts";
import { IdGenerator } from "../../src/nsqd/message.ts";
import type { NsqdOptions } from "../../src/nsqd/options.ts";
import { defaultNsqdOptions } from "./helpers.ts";

/**
 * A TopicHost with real message stores (memory + disk queue) in a temporary
 * directory. Disk writes happen at the end of the turn in nsqd; tests that
 * need records readable at once call commit().
 */
class Host implements TopicHost {
  readonly options: NsqdOptions;
  readonly committer = new Committer({ fsyncBeforeAck: false, syncTimeoutMs: 0, logger: silentLogger, onHealth() {} });
  readonly dir = mkdtempSync(join(tmpdir(), "nsq-queues-"));
  readonly stores = new Map<string, MessageStore>();
  readonly ids = new IdGenerator(9);
  readonly created: string[] = [];
  readonly ephemeralDeleted: string[] = [];
  constructor(overrides: Partial<NsqdOptions> = {}) {
    this.options = defaultNsqdOptions(overrides);
  }
  openStore(name: string, ephemeral: boolean): MessageStore {
    const o = this.options;
    const store = ephemeral
      ? new MessageStore(null, o.mem_queue_size, this.committer, silentLogger)
      : new MessageStore(
          {
            name,
            dataPath: this.dir,
            maxBytesPerFile: o.max_bytes_per_file,
            minMsgSize: 26,
            maxMsgSize: o.max_msg_size + 26,
            syncEvery: o.sync_every,
            fs: nodeFileSystem,
            logger: silentLogger,
          },
          o.mem_queue_size,
          this.committer,
          silentLogger,
        );
    this.stores.set(name, store);
    return store;
  }
  /** Writes what the stores buffered (nsqd does it at the end of the turn). */
  commit(): void {
    this.committer.commit();
  }
  /** Bodies stored on disk for queue `name` (after close), read by a fresh DiskQueue. */
  diskBodies(name: string): string[] {
    const q = new DiskQueue({
      name,
      dataPath: this.dir,
      maxBytesPerFile: 1 << 20,
      minMsgSize: 26,
      maxMsgSize: 1 << 20,
      syncEvery: 1000,
      fs: nodeFileSystem,
      logger: silentLogger,
    });
    const out: string[] = [];
    for (let r = q.readNext(); r !== null; r = q.readNext()) out.push(text(r.subarray(26)));
    q.close();
    return out;
  }
  files(): string[] {
    return readdirSync(this.dir);
  }
  newLatencyStream() {
    return null;
  }
  deleteEphemeralChannel(channel: Channel): void {
    this.ephemeralDeleted.push(channel.name);
  }
  channelCreated(topic: Topic, channel: Channel): void {
    this.created.push(`${topic.name}:${channel.name}`);
  }
  channelDeleted(): void {}
  nextMessageId(): Uint8Array {
    return this.ids.next();
  }
}

/** A consumer that behaves like ClientV2 for the channel: ready while in_flight < rdy. */
class FakeConsumer implements Consumer {
  static #next = 1;
  readonly id = FakeConsumer.#next++;
  readonly sampleRate: number;
  readonly msgTimeout: number;
  topologyZone = "";
  topologyRegion = "";
  rdy: number;
  inFlight = 0;
  gone = false;
  readonly received: { id: string; body: string; attempts: number; message: Message }[] = [];
  constructor(rdy = 1, msgTimeout = 60_000, sampleRate = 0) {
    this.rdy = rdy;
    this.msgTimeout = msgTimeout;
    this.sampleRate = sampleRate;
  }
  isReady(): boolean {
    return !this.gone && this.rdy > 0 && this.inFlight < this.rdy;
  }
  deliver(message: Message): void {
    this.inFlight++;
    this.received.push({ id: text(message.id), body: text(message.body), attempts: message.attempts, message });
  }
  inFlightRemoved(count: number): void {
    this.inFlight = Math.max(0, this.inFlight - count);
  }
  channelGone(): void {
    this.gone = true;
  }
  /** FIN through the channel, as ClientV2 does. */
  fin(channel: Channel, index: number): string | null {
    const m = this.received[index]!.message;
    const r = channel.finish(this.id, m.id);
    if (r === null) {
      this.inFlight--;
      channel.readyChanged(this);
    }
    return r;
  }
  req(channel: Channel, index: number, ms: number): string | null {
    const r = channel.requeue(this.id, this.received[index]!.message.id, ms);
    if (r === null) {
      this.inFlight--;
      channel.readyChanged(this);
    }
    return r;
  }
}

const nodeFileSystem = createNodeFileSystem();
const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string) => enc.encode(s);
const text = (b: Uint8Array) => dec.decode(b);

function subscribe(topic: Topic, channelName: string, consumer: FakeConsumer): Channel {
  const ch = topic.getChannel(channelName);
  expect(ch.addConsumer(consumer)).toBeNull();
  ch.dispatch();
  return ch;
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("Topic fan-out (D-BEH-FANOUT)", () => {
  it("gives every channel every message, with the same id and the same body bytes", () => {
    const host = new Host();
    const topic = new Topic("t", host);
    const a = new FakeConsumer(100);
    const b = new FakeConsumer(100);
    subscribe(topic, "a", a);
    subscribe(topic, "b", b);
    for (let i = 0; i < 20; i++) topic.publish(bytes(`m${i}`));
    expect(a.received.map((r) => r.body)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
    expect(b.received.map((r) => r.body)).toEqual(a.received.map((r) => r.body));
    expect(b.received.map((r) => r.id)).toEqual(a.received.map((r) => r.id));
    expect(new Set(a.received.map((r) => r.id)).size).toBe(20);
    // One copy of the body for all channels (ARCHITECTURE: never copied per channel).
    expect(b.received[0]!.message.body).toBe(a.received[0]!.message.body);
    expect(topic.messageCount).toBe(20);
  });

  // Every channel's copy is taken before any channel delivers and counts an attempt.
  it("the first delivery on every channel has attempts 1 (D-TCP-MSG)", () => {
    const host = new Host();
    const topic = new Topic("t", host);
    const a = new FakeConsumer(10);
    const b = new FakeConsumer(10);
    const c = new FakeConsumer(10);
    subscribe(topic, "a", a);
    subscribe(topic, "b", b);
    subscribe(topic, "c", c);
    topic.publish(bytes("x"));
    expect([a, b, c].map((k) => k.received[0]?.attempts)).toEqual([1, 1, 1]);
  });

  it("keeps messages while the topic has no channel; the first channel gets them all, a later one none (K-FIRSTCHANNEL)", async () => {
    const host = new Host({ mem_queue_size: 5 });
    const topic = new Topic("t", host);
    for (let i = 0; i < 12; i++) topic.publish(bytes(`m${i}`));
    expect(topic.depth()).toBe(12);
    expect(topic.memoryDepth()).toBe(5);
    expect(topic.backendDepth()).toBe(7);
    const first = new FakeConsumer(100);
    subscribe(topic, "first", first);
    await tick();
    expect(first.received.map((r) => r.body).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `m${i}`).sort());
    expect(topic.depth()).toBe(0);
    const later = new FakeConsumer(100);
    subscribe(topic, "later", later);
    await tick();
    expect(later.received).toEqual([]);
  });

  it("pause holds messages in the topic; unpause delivers them (D-BEH-PAUSE)", () => {
    const host = new Host();
    const topic = new Topic("t", host);
    const c = new FakeConsumer(100);
    const ch = subscribe(topic, "c", c);
    topic.pause();
    for (let i = 0; i < 3; i++) topic.publish(bytes(`p${i}`));
    expect(c.received).toEqual([]);
    expect(topic.depth()).toBe(3);
    expect(ch.depth()).toBe(0);
    topic.unpause();
    expect(c.received.map((r) => r.body)).toEqual(["p0", "p1", "p2"]);
  });

  it("empty drops the topic's own queue, not its channels' (D-BEH-EMPTY)", () => {
    const host = new Host();
    const topic = new Topic("t", host);
    const ch = topic.getChannel("c");
    topic.publish(bytes("in channel"));
    topic.pause();
    topic.publish(bytes("in topic"));
    topic.empty();
    expect(topic.depth()).toBe(0);
    expect(ch.depth()).toBe(1);
  });

  it("MPUB bodies that are views of one chunk are copied out of it, so the chunk can be reused", () => {
    const topic = new Topic("t", new Host());
    const c = new FakeConsumer(10);
    subscribe(topic, "c", c);
    const chunk = bytes("..aaa..bb..c");
    topic.publishMany([chunk.subarray(2, 5), chunk.subarray(7, 9), chunk.subarray(11, 12)]);
    chunk.fill(0x21);
    expect(c.received.map((r) => r.body)).toEqual(["aaa", "bb", "c"]);
    expect(c.received[0]!.message.body.buffer).not.toBe(chunk.buffer);
  });

  it("MPUB bodies of chunks the caller owns stay views where they fill a quarter of their chunk, and are copied where they do not", () => {
    const topic = new Topic("t", new Host());
    const c = new FakeConsumer(10);
    subscribe(topic, "c", c);
    // chunk 1: mostly other bytes, then the MPUB's first body; chunk 2: bodies filling it;
    // a body that spanned both, joined by the reader into a buffer of its own
    const chunk1 = bytes("..........aa");
    const joined = bytes("bbb");
    const chunk2 = bytes("cccc.dddd");
    topic.publishMany([chunk1.subarray(10, 12), joined, chunk2.subarray(0, 4), chunk2.subarray(5, 9)], true);
    const got = c.received.map((r) => r.message.body);
    expect(c.received.map((r) => r.body)).toEqual(["aa", "bbb", "cccc", "dddd"]);
    expect(got[0]!.buffer).not.toBe(chunk1.buffer);
    expect(got[1]!.buffer).toBe(joined.buffer);
    expect(got[2]!.buffer).toBe(chunk2.buffer);
    expect(got[3]!.buffer).toBe(chunk2.buffer);
    // the same bodies, not owned: all copied into one buffer
    const d = new FakeConsumer(10);
    const topic2 = new Topic("t2", new Host());
    subscribe(topic2, "c", d);
    topic2.publishMany([chunk1.subarray(10, 12), joined, chunk2.subarray(0, 4)], false);
    const copied = d.received.map((r) => r.message.body);
    expect(d.received.map((r) => r.body)).toEqual(["aa", "bbb", "cccc"]);
    expect(new Set(copied.map((b) => b.buffer)).size).toBe(1);
    expect([chunk1.buffer, joined.buffer, chunk2.buffer]).not.toContain(copied[0]!.buffer);
  });

  it("a chunk holding several MPUBs keeps the bodies of each that fills a quarter of it, and copies a smaller one", () => {
    const topic = new Topic("t", new Host());
    const c = new FakeConsumer(10);
    subscribe(topic, "c", c);
    const chunk = bytes("aaaa.bbbb.cccc.dd.......");
    topic.publishMany([chunk.subarray(0, 4), chunk.subarray(5, 9)], true); // 8 of 24 bytes
    topic.publishMany([chunk.subarray(10, 16)], true); // 6 of 24
    topic.publishMany([chunk.subarray(15, 17)], true); // 2 of 24
    expect(c.received.map((r) => r.body)).toEqual(["aaaa", "bbbb", "cccc.d", "dd"]);
    const buffers = c.received.map((r) => r.message.body.buffer);
    for (const b of buffers.slice(0, 3)) expect(b).toBe(chunk.buffer);
    expect(buffers[3]).not.toBe(chunk.buffer);
  });

  it("refuses publishes once exiting (D-BEH-DELETE)", () => {
    const topic = new Topic("t", new Host());
    topic.close(true);
    expect(() => topic.publish(bytes("x"))).toThrow("exiting");
    expect(() => topic.publishMany([bytes("x")])).toThrow("exiting");
  });
});

describe("Channel delivery (D-BEH-CHANNEL-DIST, D-TCP-RDY-SEMANTICS)", () => {
  it("finds a ready consumer without asking the others: isReady calls per delivery do not grow with the consumers", () => {
    const calls = (n: number): number => {
      const topic = new Topic("t", new Host());
      const ch = topic.getChannel("c");
      const consumers: FakeConsumer[] = [];
      let asked = 0;
      for (let i = 0; i < n; i++) {
        const c = new FakeConsumer(1);
        const ready = c.isReady.bind(c);
        c.isReady = () => {
          asked++;
          return ready();
        };
        expect(ch.addConsumer(c)).toBeNull();
        consumers.push(c);
      }
      // every consumer takes one message and stays busy (RDY 1)
      for (let i = 0; i < n; i++) topic.publish(bytes(`m${i}`));
      expect(consumers.every((c) => c.received.length === 1)).toBe(true);
      expect(ch.readyCount()).toBe(0);
      asked = 0;
      // from now on one consumer at a time finishes and gets the next message
      for (let i = 0; i < 200; i++) {
        topic.publish(bytes(`x${i}`));
        consumers[i % n]!.fin(ch, consumers[i % n]!.received.length - 1);
      }
      return asked / 200;
    };
    const few = calls(50);
    const many = calls(20_000);
    expect(many).toBeLessThanOrEqual(few + 1);
    expect(many).toBeLessThan(10);
  });

  it("rotates fairly between ready consumers; one that becomes ready joins last in the rotation", () => {
    const topic = new Topic("t", new Host());
    const ch = topic.getChannel("c");
    const [a, b, c] = [new FakeConsumer(100), new FakeConsumer(100), new FakeConsumer(0)];
    for (const k of [a, b, c]) ch.addConsumer(k);
    for (let i = 0; i < 4; i++) topic.publish(bytes(`m${i}`));
    c.rdy = 100;
    ch.readyChanged(c);
    for (let i = 4; i < 10; i++) topic.publish(bytes(`m${i}`));
    const who = (body: string) => [a, b, c].findIndex((k) => k.received.some((r) => r.body === body));
    expect(Array.from({ length: 10 }, (_, i) => who(`m${i}`))).toEqual([0, 1, 0, 1, 0, 1, 2, 0, 1, 2]);
  });

  it("shares messages fairly between ready consumers, each message once", () => {
    const topic = new Topic("t", new Host());
    const consumers = [new FakeConsumer(2500), new FakeConsumer(2500), new FakeConsumer(2500)];
    for (const c of consumers) subscribe(topic, "c", c);
    const bodies = Array.from({ length: 3000 }, (_, i) => bytes(`m${i}`));
    topic.publishMany(bodies);
    const counts = consumers.map((c) => c.received.length);
    expect(counts.reduce((a, b) => a + b)).toBe(3000);
    for (const n of counts) expect(n).toBeGreaterThanOrEqual(900);
    const all = consumers.flatMap((c) => c.received.map((r) => r.body));
    expect(new Set(all).size).toBe(3000);
  });

  it("RDY caps the messages in flight per consumer; FIN lets the next one through", () => {
    const topic = new Topic("t", new Host());
    const c = new FakeConsumer(2);
    const ch = subscribe(topic, "c", c);
    for (let i = 0; i < 5; i++) topic.publish(bytes(`m${i}`));
    expect(c.received.length).toBe(2);
    expect(ch.inFlightCount()).toBe(2);
    expect(ch.depth()).toBe(3);
    expect(c.fin(ch, 0)).toBeNull();
    expect(c.received.length).toBe(3);
    expect(c.fin(ch, 0)).toBe("ID not in flight");
  });

  it("RDY 0 delivers nothing", () => {
    const topic = new Topic("t", new Host());
    const c = new FakeConsumer(0);
    const ch = subscribe(topic, "c", c);
    topic.publish(bytes("x"));
    expect(c.received).toEqual([]);
    expect(ch.depth()).toBe(1);
  });

  it("only the owner may FIN, REQ or TOUCH a message (D-TCP-INFLIGHT-OWNER)", () => {
    const topic = new Topic("t", new Host());
    const owner = new FakeConsumer(1);
    const other = new FakeConsumer(0);
    const ch = subscribe(topic, "c", owner);
    ch.addConsumer(other);
    topic.publish(bytes("x"));
    const id = owner.received[0]!.message.id;
    expect(ch.finish(other.id, id)).toBe("client does not own message");
    expect(ch.requeue(other.id, id, 0)).toBe("client does not own message");
    expect(ch.touch(other.id, id, 60_000)).toBe("client does not own message");
    expect(ch.finish(owner.id, id)).toBeNull();
  });

  it("pause stops deliveries, in-flight messages stay; unpause resumes (D-BEH-PAUSE)", () => {
    const topic = new Topic("t", new Host());
    const c = new FakeConsumer(10);
    const ch = subscribe(topic, "c", c);
    topic.publish(bytes("before"));
    ch.pause();
    topic.publish(bytes("during"));
    expect(c.received.map((r) => r.body)).toEqual(["before"]);
    expect(ch.inFlightCount()).toBe(1);
    expect(ch.depth()).toBe(1);
    ch.unpause();
    expect(c.received.map((r) => r.body)).toEqual(["before", "during"]);
  });

  it("overflows the memory queue to the backend and reads both (D-BEH-MEMQUEUE)", () => {
    const host = new Host({ mem_queue_size: 3 });
    const topic = new Topic("t", host);
    const c = new FakeConsumer(0);
    const ch = subscribe(topic, "c", c);
    for (let i = 0; i < 10; i++) topic.publish(bytes(`m${i}`));
    expect(ch.memoryDepth()).toBe(3);
    expect(ch.backendDepth()).toBe(7);
    expect(ch.depth()).toBe(10);
    host.commit(); // the disk queue's records become readable once written
    c.rdy = 100;
    ch.readyChanged(c);
    expect(c.received.map((r) => r.body).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`).sort());
    expect(ch.depth()).toBe(0);
  });

  it("an ephemeral channel drops what does not fit in memory (D-BEH-EPHEMERAL)", () => {
    const host = new Host({ mem_queue_size: 3 });
    const topic = new Topic("t", host);
    const c = new FakeConsumer(0);
    const ch = subscribe(topic, "e#ephemeral", c);
    for (let i = 0; i < 10; i++) topic.publish(bytes(`m${i}`));
    expect(ch.depth()).toBe(3);
    expect(host.files().filter((f) => f.includes("ephemeral"))).toEqual([]);
  });

  it("an ephemeral channel asks to be deleted when its last consumer leaves", async () => {
    const host = new Host();
    const topic = new Topic("t", host);
    const c = new FakeConsumer(1);
    const ch = subscribe(topic, "e#ephemeral", c);
    ch.removeConsumer(c);
    await tick();
    expect(host.ephemeralDeleted).toEqual(["e#ephemeral"]);
  });

  it("sample_rate drops the messages it does not deliver (D-TCP-SAMPLE, K-SAMPLE-DROPS)", () => {
    const topic = new Topic("t", new Host());
    const c = new FakeConsumer(2500, 60_000, 10);
    const ch = subscribe(topic, "c", c);
    topic.publishMany(Array.from({ length: 2000 }, (_, i) => bytes(`m${i}`)));
    expect(ch.depth()).toBe(0);
    expect(c.received.length).toBeGreaterThan(100);
    expect(c.received.length).toBeLessThan(400);
  });
});

describe("Topology-aware consumption experiment (D-BEH-TOPO)", () => {
  const experiment = { enable_experiment: ["topology-aware-consumption"], topology_zone: "z1", topology_region: "r1" };
  const placed = (rdy: number, zone: string, region: string) => Object.assign(new FakeConsumer(rdy), { topologyZone: zone, topologyRegion: region });

  it("prefers a ready consumer in the same zone, then the same region, then any, and counts each kind", () => {
    const topic = new Topic("t", new Host(experiment));
    const far = placed(2500, "z9", "r9");
    const region = placed(1, "z2", "r1");
    const zone = placed(1, "z1", "r1");
    for (const c of [far, region, zone]) subscribe(topic, "c", c);
    topic.publishMany([bytes("a"), bytes("b"), bytes("c"), bytes("d")]);
    expect(zone.received.map((r) => r.body)).toEqual(["a"]);
    expect(region.received.map((r) => r.body)).toEqual(["b"]);
    expect(far.received.map((r) => r.body)).toEqual(["c", "d"]);
    const channel = topic.channels.get("c")!;
    expect([channel.zoneLocalMsgCount, channel.regionLocalMsgCount, channel.globalMsgCount]).toEqual([1, 1, 2]);
  });

  it("without the experiment rotates between consumers and counts every delivery from memory as global", () => {
    const topic = new Topic("t", new Host({ topology_zone: "z1", topology_region: "r1" }));
    const a = placed(2500, "z9", "r9");
    const b = placed(2500, "z1", "r1");
    for (const c of [a, b]) subscribe(topic, "c", c);
    topic.publishMany(Array.from({ length: 10 }, (_, i) => bytes(`m${i}`)));
    expect(a.received.length).toBe(5);
    expect(b.received.length).toBe(5);
    const channel = topic.channels.get("c")!;
    // The original counts global_msg_count for any consumer that is neither zone- nor region-local.
    expect([channel.zoneLocalMsgCount, channel.regionLocalMsgCount, channel.globalMsgCount]).toEqual([0, 0, 10]);
  });

  it("counts only deliveries from memory: a message read back from disk counts nowhere", () => {
    for (const overrides of [{}, experiment]) {
      const host = new Host({ ...overrides, mem_queue_size: 0 });
      const topic = new Topic("t", host);
      const c = placed(2500, "z1", "r1");
      subscribe(topic, "c", c);
      topic.publishMany([bytes("a"), bytes("b")]);
      host.commit(); // the disk queue's records become readable once written
      expect(c.received.length).toBe(2);
      const channel = topic.channels.get("c")!;
      expect(channel.zoneLocalMsgCount + channel.regionLocalMsgCount + channel.globalMsgCount).toBe(0);
    }
  });
});

describe("Channel timers: timeout, requeue, defer, touch (processTimers(now))", () => {
  it("times out an unanswered message after msg_timeout and redelivers it with attempts 2 (D-BEH-INFLIGHT)", () => {
    const topic = new Topic("t", new Host());
    const c = new FakeConsumer(1, 1000);
    const ch = subscribe(topic, "c", c);
    const t0 = Date.now();
    topic.publish(bytes("x"));
    expect(c.received[0]!.attempts).toBe(1);
    expect(ch.processTimers(t0 - 50 + 1000 - 50)).toBe(false);
    expect(c.received.length).toBe(1);
    expect(ch.processTimers(Date.now() + 1000)).toBe(true);
    expect(ch.timeoutCount).toBe(1);
    expect(c.received.length).toBe(2);
    expect(c.received[1]!.attempts).toBe(2);
    expect(c.received[1]!.id).toBe(c.received[0]!.id);
    expect(c.inFlight).toBe(1);
  });

  it("REQ 0 requeues at once; REQ with a delay waits in the deferred queue (D-BEH-REQUEUE)", () => {
    const topic = new Topic("t", new Host());
    const c = new FakeConsumer(1);
    const ch = subscribe(topic, "c", c);
    topic.publish(bytes("x"));
    expect(c.req(ch, 0, 0)).toBeNull();
    expect(c.received.map((r) => r.attempts)).toEqual([1, 2]);
    const t0 = Date.now();
    expect(c.req(ch, 1, 5000)).toBeNull();
    expect(ch.deferredCount()).toBe(1);
    expect(ch.inFlightCount()).toBe(0);
    expect(ch.processTimers(t0 + 4900)).toBe(false);
    expect(c.received.length).toBe(2);
    expect(ch.processTimers(Date.now() + 5000)).toBe(true);
    expect(c.received.map((r) => r.attempts)).toEqual([1, 2, 3]);
    expect(ch.requeueCount).toBe(2);
    expect(ch.deferredCount()).toBe(0);
  });

  it("a deferred publish is delivered only when due (D-TCP-DPUB, D-BEH-DEFER)", () => {
    const topic = new Topic("t", new Host());
    const c = new FakeConsumer(10);
    const ch = subscribe(topic, "c", c);
    const t0 = Date.now();
    topic.publish(bytes("later"), 2000);
    topic.publish(bytes("now"));
    expect(c.received.map((r) => r.body)).toEqual(["now"]);
    expect(ch.deferredCount()).toBe(1);
    expect(ch.messageCount).toBe(2);
    ch.processTimers(t0 + 1900);
    expect(c.received.length).toBe(1);
    ch.processTimers(Date.now() + 2000);
    expect(c.received.map((r) => [r.body, r.attempts])).toEqual([
      ["now", 1],
      ["later", 1],
    ]);
  });

  it("TOUCH moves the deadline, but never past delivery + --max-msg-timeout (D-BEH-TOUCH)", () => {
    const topic = new Topic("t", new Host({ max_msg_timeout: 3000 }));
    const c = new FakeConsumer(1, 2000);
    const ch = subscribe(topic, "c", c);
    topic.publish(bytes("x"));
    const m = c.received[0]!.message;
    const delivered = m.deliveredAt;
    expect(m.due).toBe(delivered + 2000);
    expect(ch.touch(c.id, m.id, 2000)).toBeNull();
    expect(m.due).toBeGreaterThanOrEqual(delivered + 2000);
    expect(ch.touch(c.id, m.id, 60_000)).toBeNull();
    expect(m.due).toBe(delivered + 3000);
    expect(ch.processTimers(delivered + 2999)).toBe(false);
    expect(ch.processTimers(delivered + 3000)).toBe(true);
    expect(c.received.length).toBe(2);
  });

  it("processes several due messages in one scan, earliest first", () => {
    const topic = new Topic("t", new Host());
    const c = new FakeConsumer(0);
    const ch = subscribe(topic, "c", c);
    topic.publish(bytes("c"), 3000);
    topic.publish(bytes("a"), 1000);
    topic.publish(bytes("b"), 2000);
    c.rdy = 10;
    ch.readyChanged(c);
    expect(ch.processTimers(Date.now() + 5000)).toBe(true);
    expect(c.received.map((r) => r.body)).toEqual(["a", "b", "c"]);
  });
});

describe("Channel empty and close (D-BEH-EMPTY, D-BEH-SHUTDOWN)", () => {
  it("empty drops queued, in-flight and deferred messages and resets the consumers' in-flight counts", () => {
    const host = new Host({ mem_queue_size: 2 });
    const topic = new Topic("t", host);
    const c = new FakeConsumer(2);
    const ch = subscribe(topic, "c", c);
    for (let i = 0; i < 6; i++) topic.publish(bytes(`m${i}`));
    topic.publish(bytes("d"), 10_000);
    expect([ch.inFlightCount(), ch.deferredCount(), ch.depth()]).toEqual([2, 1, 4]);
    ch.empty();
    expect([ch.inFlightCount(), ch.deferredCount(), ch.depth()]).toEqual([0, 0, 0]);
    expect(c.inFlight).toBe(0);
    expect(ch.finish(c.id, c.received[0]!.message.id)).toBe("ID not in flight");
    expect(ch.processTimers(Date.now() + 60_000)).toBe(false);
  });

  it("close writes memory, in-flight and deferred messages to the backend and closes consumers", () => {
    const host = new Host();
    const topic = new Topic("t", host);
    const c = new FakeConsumer(1);
    const ch = subscribe(topic, "c", c);
    topic.publish(bytes("in flight"));
    topic.publish(bytes("queued"));
    topic.publish(bytes("deferred"), 60_000);
    topic.close(false);
    expect(c.gone).toBe(true);
    expect(host.stores.get("t:c")!.closed).toBe(true);
    expect(host.diskBodies("t:c").sort()).toEqual(["deferred", "in flight", "queued"]);
    expect(ch.exiting).toBe(true);
  });

  it("delete (close with remove) drops everything and deletes the backends", () => {
    const host = new Host({ mem_queue_size: 0 });
    const topic = new Topic("t", host);
    topic.getChannel("c");
    topic.publish(bytes("x"));
    host.commit();
    expect(host.files().length).toBeGreaterThan(0);
    topic.close(true);
    expect(host.files()).toEqual([]);
    expect(topic.channels.size).toBe(0);
  });
});
