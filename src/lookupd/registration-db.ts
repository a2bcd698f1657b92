// nsqlookupd's registration database (L-BEH-DB): registration keys
// (category, key, subkey) each holding a set of producers.
//
//   ("client", "", "")        every identified nsqd connection
//   ("topic", <t>, "")        nsqd connections that have topic t
//   ("channel", <t>, <c>)     nsqd connections that have channel c of t
//
// A producer is one TCP connection's peer info (identity: the connection's
// remote ip:port) plus its own tombstone state, so a tombstone set on the
// topic key does not touch the same peer's other keys (L-BEH-TOMBSTONE).
// Keys outlive their producers (Q, K-LOOKUPD-STATE): only the HTTP delete
// routes and UNREGISTER of #ephemeral names remove them.
//
// Storage is indexed category -> key -> subkey -> producers, so the queries
// the HTTP API makes ("every topic", "the channels of t") do not scan
// unrelated keys. Iteration order is insertion order; the original's is
// random (L-BEH-ORDER), so nothing may rely on it.

export type Category = "client" | "topic" | "channel";

/** L-BEH-PEERINFO. Shared by every producer entry of one connection. */
export interface PeerInfo {
  /** The connection's remote `ip:port`: identity of the producer. */
  readonly id: string;
  remote_address: string;
  hostname: string;
  broadcast_address: string;
  tcp_port: number;
  http_port: number;
  version: string;
  topology_zone: string;
  topology_region: string;
  /** Epoch ms (fractional) of IDENTIFY or the last PING. */
  lastUpdate: number;
}

export class Producer {
  readonly peer: PeerInfo;
  tombstoned = false;
  /** Epoch ms of the tombstone; 0 when never tombstoned. */
  tombstonedAt = 0;

  constructor(peer: PeerInfo) {
    this.peer = peer;
  }

  tombstone(now: number): void {
    this.tombstoned = true;
    this.tombstonedAt = now;
  }

  isTombstoned(lifetimeMs: number, now: number): boolean {
    return this.tombstoned && now - this.tombstonedAt < lifetimeMs;
  }
}

export interface Registration {
  readonly category: Category;
  readonly key: string;
  readonly subkey: string;
}

/** "*" as key or subkey matches any value, as in the original's queries. */
export const ANY = "*";

type ProducerMap = Map<string, Producer>;
type SubkeyMap = Map<string, ProducerMap>;

export class RegistrationDB {
  readonly #categories = new Map<Category, Map<string, SubkeyMap>>([
    ["client", new Map()],
    ["topic", new Map()],
    ["channel", new Map()],
  ]);

  /** Create the key if missing (HTTP /topic/create, /channel/create). */
  addRegistration(r: Registration): void {
    this.#producersOf(r, true);
  }

  /** Add the peer under the key (creating the key); false when it was already there. */
  addProducer(r: Registration, peer: PeerInfo): boolean {
    const producers = this.#producersOf(r, true)!;
    if (producers.has(peer.id)) return false;
    producers.set(peer.id, new Producer(peer));
    return true;
  }

  /** Remove one producer; the key stays even when left empty. */
  removeProducer(r: Registration, id: string): { removed: boolean; left: number } {
    const producers = this.#producersOf(r, false);
    if (producers === null) return { removed: false, left: 0 };
    const removed = producers.delete(id);
    return { removed, left: producers.size };
  }

  /** Remove a key and all its producers. */
  removeRegistration(r: Registration): void {
    const keys = this.#categories.get(r.category)!;
    const subkeys = keys.get(r.key);
    if (subkeys === undefined) return;
    subkeys.delete(r.subkey);
    if (subkeys.size === 0) keys.delete(r.key);
  }

  /** Keys matching the pattern ("*" wildcards). */
  findRegistrations(category: Category, key: string, subkey: string): Registration[] {
    const out: Registration[] = [];
    this.#each(category, key, subkey, (k, s) => out.push({ category, key: k, subkey: s }));
    return out;
  }

  /** Producers under the matching keys, each connection at most once. */
  findProducers(category: Category, key: string, subkey: string): Producer[] {
    const seen = new Set<string>();
    const out: Producer[] = [];
    this.#each(category, key, subkey, (_k, _s, producers) => {
      for (const p of producers.values()) {
        if (seen.has(p.peer.id)) continue;
        seen.add(p.peer.id);
        out.push(p);
      }
    });
    return out;
  }

  /** The producer entry of one connection under one key, if any. */
  producer(r: Registration, id: string): Producer | undefined {
    return this.#producersOf(r, false)?.get(id);
  }

  /** Every key the connection is registered under. */
  lookupRegistrations(id: string): Registration[] {
    const out: Registration[] = [];
    for (const [category, keys] of this.#categories) {
      for (const [key, subkeys] of keys) {
        for (const [subkey, producers] of subkeys) {
          if (producers.has(id)) out.push({ category, key, subkey });
        }
      }
    }
    return out;
  }

  /** Every key with its producers (GET /debug). */
  *entries(): IterableIterator<[Registration, readonly Producer[]]> {
    for (const [category, keys] of this.#categories) {
      for (const [key, subkeys] of keys) {
        for (const [subkey, producers] of subkeys) yield [{ category, key, subkey }, [...producers.values()]];
      }
    }
  }

  #producersOf(r: Registration, create: boolean): ProducerMap | null {
    const keys = this.#categories.get(r.category)!;
    let subkeys = keys.get(r.key);
    if (subkeys === undefined) {
      if (!create) return null;
      subkeys = new Map();
      keys.set(r.key, subkeys);
    }
    let producers = subkeys.get(r.subkey);
    if (producers === undefined) {
      if (!create) return null;
      producers = new Map();
      subkeys.set(r.subkey, producers);
    }
    return producers;
  }

  #each(category: Category, key: string, subkey: string, visit: (key: string, subkey: string, producers: ProducerMap) => void): void {
    const keys = this.#categories.get(category)!;
    const visitSubkeys = (k: string, subkeys: SubkeyMap) => {
      if (subkey === ANY) {
        for (const [s, producers] of subkeys) visit(k, s, producers);
      } else {
        const producers = subkeys.get(subkey);
        if (producers !== undefined) visit(k, subkey, producers);
      }
    };
    if (key === ANY) {
      for (const [k, subkeys] of keys) visitSubkeys(k, subkeys);
    } else {
      const subkeys = keys.get(key);
      if (subkeys !== undefined) visitSubkeys(key, subkeys);
    }
  }
}

/**
 * L-BEH-INACTIVE / L-BEH-TOMBSTONE: producers whose peer pinged within
 * `inactiveMs` and that are not tombstoned (a lifetime of 0 keeps tombstoned
 * ones, as /nodes wants).
 */
export function filterActive(producers: readonly Producer[], inactiveMs: number, tombstoneLifetimeMs: number, now: number): Producer[] {
  return producers.filter((p) => !(now - p.peer.lastUpdate > inactiveMs || p.isTombstoned(tombstoneLifetimeMs, now)));
}
