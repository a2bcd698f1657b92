// L-BEH-DB, L-BEH-INACTIVE, L-BEH-TOMBSTONE: the registration database on its own.
import { describe, expect, test } from "vitest";
import { ANY, Producer, RegistrationDB, filterActive, type PeerInfo } from "../../src/lookupd/registration-db.ts";

function peer(id: string, lastUpdate = 1000, extra: Partial<PeerInfo> = {}): PeerInfo {
  return {
    id,
    remote_address: id,
    hostname: "h",
    broadcast_address: "b",
    tcp_port: 4150,
    http_port: 4151,
    version: "1.3.0",
    topology_zone: "",
    topology_region: "",
    lastUpdate,
    ...extra,
  };
}

const topic = (t: string) => ({ category: "topic", key: t, subkey: "" }) as const;
const channel = (t: string, c: string) => ({ category: "channel", key: t, subkey: c }) as const;

describe("RegistrationDB", () => {
  test("L-BEH-DB addProducer adds once per connection id and creates the key", () => {
    const db = new RegistrationDB();
    const a = peer("1.1.1.1:1");
    expect(db.addProducer(topic("t"), a)).toBe(true);
    expect(db.addProducer(topic("t"), a)).toBe(false);
    expect(db.addProducer(topic("t"), peer("1.1.1.1:2"))).toBe(true);
    expect(db.findProducers("topic", "t", "").map((p) => p.peer.id)).toEqual(["1.1.1.1:1", "1.1.1.1:2"]);
    expect(db.findRegistrations("topic", "t", "")).toEqual([topic("t")]);
    expect(db.findRegistrations("topic", "other", "")).toEqual([]);
  });

  test("L-BEH-DB keys remain with no producers after removeProducer (Q)", () => {
    const db = new RegistrationDB();
    db.addProducer(topic("t"), peer("a:1"));
    expect(db.removeProducer(topic("t"), "a:1")).toEqual({ removed: true, left: 0 });
    expect(db.removeProducer(topic("t"), "a:1")).toEqual({ removed: false, left: 0 });
    expect(db.findRegistrations("topic", ANY, "").map((r) => r.key)).toEqual(["t"]);
    expect(db.findProducers("topic", "t", "")).toEqual([]);
    expect(db.removeProducer(topic("missing"), "a:1")).toEqual({ removed: false, left: 0 });
  });

  test("wildcards: channels of one topic, every topic, producers deduplicated across keys", () => {
    const db = new RegistrationDB();
    const a = peer("a:1");
    const b = peer("b:1");
    db.addProducer(channel("t", "c1"), a);
    db.addProducer(channel("t", "c2"), a);
    db.addProducer(channel("t", "c2"), b);
    db.addProducer(channel("u", "c1"), b);
    db.addRegistration(topic("t"));
    db.addRegistration(topic("u"));
    expect(db.findRegistrations("channel", "t", ANY).map((r) => r.subkey)).toEqual(["c1", "c2"]);
    expect(db.findRegistrations("channel", ANY, "c1").map((r) => r.key)).toEqual(["t", "u"]);
    expect(db.findRegistrations("topic", ANY, "").map((r) => r.key)).toEqual(["t", "u"]);
    expect(db.findProducers("channel", "t", ANY).map((p) => p.peer.id)).toEqual(["a:1", "b:1"]);
    expect(db.findProducers("channel", ANY, ANY).map((p) => p.peer.id)).toEqual(["a:1", "b:1"]);
  });

  test("lookupRegistrations lists every key of one connection; removeRegistration drops a key", () => {
    const db = new RegistrationDB();
    const a = peer("a:1");
    db.addProducer({ category: "client", key: "", subkey: "" }, a);
    db.addProducer(topic("t"), a);
    db.addProducer(channel("t", "c"), a);
    db.addProducer(topic("u"), peer("b:1"));
    expect(db.lookupRegistrations("a:1")).toEqual([{ category: "client", key: "", subkey: "" }, topic("t"), channel("t", "c")]);
    db.removeRegistration(channel("t", "c"));
    db.removeRegistration(channel("t", "never"));
    expect(db.lookupRegistrations("a:1")).toEqual([{ category: "client", key: "", subkey: "" }, topic("t")]);
    expect([...db.entries()].map(([r, ps]) => [r.key, ps.length])).toEqual([
      ["", 1],
      ["t", 1],
      ["u", 1],
    ]);
  });

  test("L-BEH-TOMBSTONE is per key: the same peer's other producer entries are untouched", () => {
    const db = new RegistrationDB();
    const a = peer("a:1");
    db.addProducer(topic("t"), a);
    db.addProducer(topic("u"), a);
    db.producer(topic("t"), "a:1")!.tombstone(5000);
    expect(db.producer(topic("t"), "a:1")!.isTombstoned(45_000, 5001)).toBe(true);
    expect(db.producer(topic("u"), "a:1")!.isTombstoned(45_000, 5001)).toBe(false);
  });
});

describe("Producer and filterActive", () => {
  test("L-BEH-TOMBSTONE lasts exactly the lifetime", () => {
    const p = new Producer(peer("a:1"));
    expect(p.isTombstoned(100, 0)).toBe(false);
    p.tombstone(1000);
    expect(p.isTombstoned(100, 1099)).toBe(true);
    expect(p.isTombstoned(100, 1100)).toBe(false);
  });

  test("L-BEH-INACTIVE hides producers whose last update is older than the timeout", () => {
    const fresh = new Producer(peer("a:1", 10_000));
    const stale = new Producer(peer("b:1", 1_000));
    const now = 10_000 + 1;
    expect(filterActive([fresh, stale], 5_000, 0, now)).toEqual([fresh]);
    expect(filterActive([fresh, stale], 9_001, 0, now)).toEqual([fresh, stale]);
  });

  test("filterActive drops tombstoned producers only with a non-zero lifetime", () => {
    const p = new Producer(peer("a:1", 1000));
    p.tombstone(1000);
    expect(filterActive([p], 60_000, 45_000, 2000)).toEqual([]);
    expect(filterActive([p], 60_000, 0, 2000)).toEqual([p]);
  });
});
