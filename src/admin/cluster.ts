// What nsqadmin knows about the cluster: the queries it makes to nsqlookupd
// (lookupd mode) or straight to nsqd (direct mode), run in parallel, and the
// admin actions fanned out to every node of a topic.
//
// Failure model (SPEC §7.1 "UPSTREAM"): a query over N upstreams that all fail
// throws AllFailedError; when only some fail the answer carries their errors
// (`errors`), which the HTTP layer turns into a "WARNING: ..." message.
import type { Logger } from "../common/log.ts";
import {
  type NsqdTopic,
  type Producer,
  type TopicStats,
  type ChannelStats,
  compareSemver,
  nodeTopic,
  aggregateChannel,
  producerHttpAddress,
  producerTcpAddress,
} from "./stats.ts";
import type { UpstreamClient } from "./upstream.ts";
import { splitHostPort } from "../common/address.ts";
import { errorText } from "../common/errors.ts";

/** Every upstream of a query failed: the handler answers 502 UPSTREAM_ERROR. */
export class AllFailedError extends Error {
  override readonly name = "AllFailedError";
}

/** A value plus the errors of the upstreams that did not answer. */
export interface Partial<T> {
  value: T;
  errors: string[];
}

export interface ClusterSources {
  lookupd: readonly string[];
  nsqd: readonly string[];
}

interface LookupdProducer {
  remote_address?: string;
  hostname?: string;
  broadcast_address?: string;
  tcp_port?: number;
  http_port?: number;
  version?: string;
  topics?: string[];
  tombstones?: boolean[];
  topology_zone?: string;
  topology_region?: string;
}

interface NsqdInfo {
  version?: string;
  broadcast_address?: string;
  hostname?: string;
  http_port?: number;
  tcp_port?: number;
  topology_zone?: string;
  topology_region?: string;
}

interface NsqdStatsAnswer {
  topics?: NsqdTopic[] | null;
}

const q = encodeURIComponent;

function producerFromLookupd(p: LookupdProducer): Producer {
  const topics = (p.topics ?? []).map((topic, i) => ({ topic, tombstoned: p.tombstones?.[i] === true }));
  const out: Producer = {
    remote_addresses: [],
    remote_address: p.remote_address ?? "",
    hostname: p.hostname ?? "",
    broadcast_address: p.broadcast_address ?? "",
    tcp_port: p.tcp_port ?? 0,
    http_port: p.http_port ?? 0,
    version: p.version ?? "",
    topics,
    out_of_date: false,
  };
  return withTopologyFields(out, p.topology_zone ?? "", p.topology_region ?? "");
}

/** topology_zone / topology_region are omitted when empty, after `version`. */
function withTopologyFields(p: Producer, zone: string, region: string): Producer {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) {
    if (k === "topology_zone" || k === "topology_region") continue;
    out[k] = v;
    if (k === "version") {
      if (zone !== "") out["topology_zone"] = zone;
      if (region !== "") out["topology_region"] = region;
    }
  }
  return out as unknown as Producer;
}

/**
 * Run `task` for every item in parallel; collect values and error texts.
 * Throws AllFailedError("failed to query any <what>: ...") when every item failed.
 */
async function fanOut<I, R>(items: readonly I[], what: string, task: (item: I) => Promise<R>): Promise<{ values: R[]; errors: string[] }> {
  const settled = await Promise.allSettled(items.map(task));
  const values: R[] = [];
  const errors: string[] = [];
  for (const s of settled) {
    if (s.status === "fulfilled") values.push(s.value);
    else errors.push(errorText(s.reason));
  }
  if (errors.length === items.length) throw new AllFailedError(`failed to query any ${what}: ${errors.join("\n")}`);
  return { values, errors };
}

function uniqSorted(list: Iterable<string>): string[] {
  return [...new Set(list)].sort();
}

export class ClusterInfo {
  readonly #client: UpstreamClient;
  readonly #logger: Logger;
  readonly #now: () => number;

  constructor(client: UpstreamClient, logger: Logger, now: () => number = () => Date.now()) {
    this.#client = client;
    this.#logger = logger;
    this.#now = now;
  }

  #get<T>(kind: "nsqlookupd" | "nsqd", endpoint: string): Promise<T> {
    this.#logger.debug(`CI: querying ${kind} ${endpoint}`);
    return this.#client.getV1<T>(endpoint);
  }

  #post(kind: "nsqlookupd" | "nsqd", endpoint: string): Promise<void> {
    this.#logger.debug(`CI: querying ${kind} ${endpoint}`);
    return this.#client.postV1(endpoint);
  }

  // ---- lookupd queries --------------------------------------------------------

  async lookupdTopics(lookupd: readonly string[]): Promise<Partial<string[]>> {
    const r = await fanOut(lookupd, "nsqlookupd", (a) => this.#get<{ topics?: string[] }>("nsqlookupd", `http://${a}/topics`));
    return { value: uniqSorted(r.values.flatMap((v) => v.topics ?? [])), errors: r.errors };
  }

  async lookupdTopicChannels(topic: string, lookupd: readonly string[]): Promise<Partial<string[]>> {
    const r = await fanOut(lookupd, "nsqlookupd", (a) => this.#get<{ channels?: string[] }>("nsqlookupd", `http://${a}/channels?topic=${q(topic)}`));
    return { value: uniqSorted(r.values.flatMap((v) => v.channels ?? [])), errors: r.errors };
  }

  /** Every nsqd any lookupd knows, keyed by broadcast address and TCP port. */
  async lookupdProducers(lookupd: readonly string[]): Promise<Partial<Producer[]>> {
    const r = await fanOut(lookupd, "nsqlookupd", async (a) => ({
      lookupd: a,
      answer: await this.#get<{ producers?: LookupdProducer[] }>("nsqlookupd", `http://${a}/nodes`),
    }));
    const byAddress = new Map<string, Producer>();
    let maxVersion = "0.0.0";
    for (const { lookupd: a, answer } of r.values) {
      for (const raw of answer.producers ?? []) {
        const p = producerFromLookupd(raw);
        const key = producerTcpAddress(p);
        let known = byAddress.get(key);
        if (known === undefined) {
          known = p;
          known.topics.sort((x, y) => (x.topic < y.topic ? -1 : x.topic > y.topic ? 1 : 0));
          byAddress.set(key, known);
          if (compareSemver(maxVersion, p.version) < 0) maxVersion = p.version;
        }
        known.remote_addresses.push(`${a}/${p.remote_address === "" ? "N/A" : p.remote_address}`);
      }
    }
    const producers = [...byAddress.values()];
    for (const p of producers) p.out_of_date = compareSemver(p.version, maxVersion) < 0;
    producers.sort((x, y) => (x.hostname < y.hostname ? -1 : x.hostname > y.hostname ? 1 : 0));
    return { value: producers, errors: r.errors };
  }

  async lookupdTopicProducers(topic: string, lookupd: readonly string[]): Promise<Partial<Producer[]>> {
    const r = await fanOut(lookupd, "nsqlookupd", (a) => this.#get<{ producers?: LookupdProducer[] }>("nsqlookupd", `http://${a}/lookup?topic=${q(topic)}`));
    const seen = new Map<string, Producer>();
    for (const answer of r.values) {
      for (const raw of answer.producers ?? []) {
        const p = producerFromLookupd(raw);
        const key = producerHttpAddress(p);
        if (!seen.has(key)) seen.set(key, p);
      }
    }
    return { value: [...seen.values()], errors: r.errors };
  }

  // ---- direct nsqd queries -------------------------------------------------------

  async nsqdTopics(nsqd: readonly string[]): Promise<Partial<string[]>> {
    const r = await fanOut(nsqd, "nsqd", (a) => this.#get<NsqdStatsAnswer>("nsqd", `http://${a}/stats?format=json`));
    return { value: uniqSorted(r.values.flatMap((v) => (v.topics ?? []).map((t) => t.topic_name))), errors: r.errors };
  }

  #producerFromInfo(addr: string, info: NsqdInfo, topics: string[]): Producer {
    let broadcast = info.broadcast_address ?? "";
    let httpPort = info.http_port ?? 0;
    let hostname = info.hostname ?? "";
    // Older nsqd omit these: fall back to the address we were given.
    const hp = splitHostPort(addr);
    if (broadcast === "" && hp !== null) {
      broadcast = hp.host;
      httpPort = hp.port;
    }
    if (hostname === "" && hp !== null) hostname = hp.host;
    const p: Producer = {
      remote_addresses: [],
      remote_address: "",
      hostname,
      broadcast_address: broadcast,
      tcp_port: info.tcp_port ?? 0,
      http_port: httpPort,
      version: info.version ?? "",
      topics: topics.map((topic) => ({ topic, tombstoned: false })),
      out_of_date: false,
    };
    return withTopologyFields(p, info.topology_zone ?? "", info.topology_region ?? "");
  }

  async nsqdProducers(nsqd: readonly string[]): Promise<Partial<Producer[]>> {
    const r = await fanOut(nsqd, "nsqd", async (a) => {
      const info = await this.#get<NsqdInfo>("nsqd", `http://${a}/info`);
      const stats = await this.#get<NsqdStatsAnswer>("nsqd", `http://${a}/stats?format=json&include_clients=false`);
      return this.#producerFromInfo(
        a,
        info,
        (stats.topics ?? []).map((t) => t.topic_name),
      );
    });
    return { value: r.values, errors: r.errors };
  }

  async nsqdTopicProducers(topic: string, nsqd: readonly string[]): Promise<Partial<Producer[]>> {
    const r = await fanOut(nsqd, "nsqd", async (a) => {
      const stats = await this.#get<NsqdStatsAnswer>("nsqd", `http://${a}/stats?format=json&topic=${q(topic)}&include_clients=false`);
      const names = (stats.topics ?? []).map((t) => t.topic_name);
      if (!names.includes(topic)) return null;
      const info = await this.#get<NsqdInfo>("nsqd", `http://${a}/info`);
      return this.#producerFromInfo(a, info, names);
    });
    return { value: r.values.filter((p): p is Producer => p !== null), errors: r.errors };
  }

  // ---- either mode -----------------------------------------------------------------

  producers(src: ClusterSources): Promise<Partial<Producer[]>> {
    return src.lookupd.length > 0 ? this.lookupdProducers(src.lookupd) : this.nsqdProducers(src.nsqd);
  }

  topicProducers(topic: string, src: ClusterSources): Promise<Partial<Producer[]>> {
    return src.lookupd.length > 0 ? this.lookupdTopicProducers(topic, src.lookupd) : this.nsqdTopicProducers(topic, src.nsqd);
  }

  topics(src: ClusterSources): Promise<Partial<string[]>> {
    return src.lookupd.length > 0 ? this.lookupdTopics(src.lookupd) : this.nsqdTopics(src.nsqd);
  }

  /**
   * Per-node topic stats of `producers` (sorted by hostname), and the channels
   * summed over nodes keyed by channel name (`topic:channel` when no topic is
   * selected).
   */
  async nsqdStats(
    producers: readonly Producer[],
    selectedTopic: string,
    selectedChannel: string,
    includeClients: boolean,
  ): Promise<Partial<{ topics: TopicStats[]; channels: Map<string, ChannelStats> }>> {
    const now = this.#now();
    const r = await fanOut(producers, "nsqd", async (p) => {
      let endpoint = `http://${producerHttpAddress(p)}/stats?format=json`;
      if (selectedTopic !== "") {
        endpoint += `&topic=${q(selectedTopic)}`;
        if (selectedChannel !== "") endpoint += `&channel=${q(selectedChannel)}`;
      }
      if (!includeClients) endpoint += "&include_clients=false";
      const answer = await this.#get<NsqdStatsAnswer>("nsqd", endpoint);
      return (answer.topics ?? []).filter((t) => selectedTopic === "" || t.topic_name === selectedTopic).map((t) => nodeTopic(t, p, includeClients, now));
    });
    const topics = r.values.flat();
    topics.sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
    const perChannel = new Map<string, ChannelStats[]>();
    for (const t of topics) {
      for (const c of t.channels ?? []) {
        const key = selectedTopic === "" ? `${t.topic_name}:${c.channel_name}` : c.channel_name;
        const list = perChannel.get(key);
        if (list === undefined) perChannel.set(key, [c]);
        else list.push(c);
      }
    }
    const channels = new Map<string, ChannelStats>();
    for (const [key, list] of perChannel) {
      channels.set(key, aggregateChannel(list[0]!.topic_name, list[0]!.channel_name, list, includeClients));
    }
    return { value: { topics, channels }, errors: r.errors };
  }

  // ---- actions --------------------------------------------------------------------

  /** POST to every lookupd in turn; errors are collected, never fatal (as the original). */
  async #lookupdPost(lookupd: readonly string[], path: string, query: string): Promise<string[]> {
    const errors: string[] = [];
    for (const a of lookupd) {
      try {
        await this.#post("nsqlookupd", `http://${a}/${path}?${query}`);
      } catch (e) {
        errors.push(errorText(e));
      }
    }
    return errors;
  }

  async #producersPost(producers: readonly Producer[], path: string, query: string): Promise<string[]> {
    const settled = await Promise.allSettled(producers.map((p) => this.#post("nsqd", `http://${producerHttpAddress(p)}/${path}?${query}`)));
    return settled.flatMap((s) => (s.status === "rejected" ? [errorText(s.reason)] : []));
  }

  /**
   * A step whose partial errors join the action's; when it fails completely
   * the AllFailedError propagates (the original answers 502 then).
   */
  async #step<T>(step: Promise<Partial<T>>, errors: string[]): Promise<T> {
    const r = await step;
    errors.push(...r.errors);
    return r.value;
  }

  /** A-API-CREATE: topic (and channel) on every lookupd, channel also on the topic's nsqd. */
  async createTopicChannel(topic: string, channel: string, lookupd: readonly string[]): Promise<string[]> {
    const errors = await this.#lookupdPost(lookupd, "topic/create", `topic=${q(topic)}`);
    if (channel !== "") {
      const query = `topic=${q(topic)}&channel=${q(channel)}`;
      errors.push(...(await this.#lookupdPost(lookupd, "channel/create", query)));
      const producers = await this.#step(this.lookupdTopicProducers(topic, lookupd), errors);
      errors.push(...(await this.#producersPost(producers, "channel/create", query)));
    }
    return errors;
  }

  /** A-API-TOPIC-DELETE: producers first, then every lookupd, then those nsqd. */
  async deleteTopic(topic: string, src: ClusterSources): Promise<string[]> {
    const errors: string[] = [];
    const producers = await this.#step(this.topicProducers(topic, src), errors);
    const query = `topic=${q(topic)}`;
    errors.push(...(await this.#lookupdPost(src.lookupd, "topic/delete", query)));
    errors.push(...(await this.#producersPost(producers, "topic/delete", query)));
    return errors;
  }

  /** A-API-CHANNEL-DELETE */
  async deleteChannel(topic: string, channel: string, src: ClusterSources): Promise<string[]> {
    const errors: string[] = [];
    const producers = await this.#step(this.topicProducers(topic, src), errors);
    const query = `topic=${q(topic)}&channel=${q(channel)}`;
    errors.push(...(await this.#lookupdPost(src.lookupd, "channel/delete", query)));
    errors.push(...(await this.#producersPost(producers, "channel/delete", query)));
    return errors;
  }

  /** A-API-TOPIC-ACTION / A-API-CHANNEL-ACTION: pause, unpause, empty on every producer. */
  async topicChannelAction(topic: string, channel: string, action: "pause" | "unpause" | "empty", src: ClusterSources): Promise<string[]> {
    const errors: string[] = [];
    const producers = await this.#step(this.topicProducers(topic, src), errors);
    const path = channel === "" ? `topic/${action}` : `channel/${action}`;
    const query = channel === "" ? `topic=${q(topic)}` : `topic=${q(topic)}&channel=${q(channel)}`;
    errors.push(...(await this.#producersPost(producers, path, query)));
    return errors;
  }

  /** A-API-TOMBSTONE: tombstone on every lookupd, then delete the topic on that node. */
  async tombstoneNodeForTopic(topic: string, node: string, lookupd: readonly string[]): Promise<string[]> {
    const errors = await this.#lookupdPost(lookupd, "topic/tombstone", `topic=${q(topic)}&node=${q(node)}`);
    const producers = await this.#step(this.nsqdProducers([node]), errors);
    errors.push(...(await this.#producersPost(producers, "topic/delete", `topic=${q(topic)}`)));
    return errors;
  }
}
