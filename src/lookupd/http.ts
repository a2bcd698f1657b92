// nsqlookupd's HTTP API (SPEC §6.3): the routes, served by the router and
// response shapes nsqd and nsqadmin use too (../common/http/). JSON key
// order follows what the original writes (Go sorts map keys; structs keep
// field order), though clients must not depend on it.
import type { Logger } from "../common/log.ts";
import { HttpError } from "../common/http/error.ts";
import { goJson } from "../common/http/json.ts";
import { readParams, type QueryParams } from "../common/http/params.ts";
import { plainText, v1Empty, v1Json, v1JsonText } from "../common/http/responses.ts";
import { createRouter, type Route } from "../common/http/router.ts";
import { pprofRoutes } from "../common/pprof.ts";
import { VERSION } from "../common/version.ts";
import { isValidChannelName, isValidTopicName } from "../protocol/names.ts";
import type { FetchHandler, Runtime } from "../runtime/types.ts";
import { ANY, filterActive, type PeerInfo, type Producer, type RegistrationDB } from "./registration-db.ts";

/** What the routes need from the daemon. */
export interface LookupdHttpHost {
  readonly db: RegistrationDB;
  readonly logger: Logger;
  /** Epoch ms. */
  now(): number;
  readonly inactiveProducerTimeout: number;
  readonly tombstoneLifetime: number;
  /** For /debug/pprof: the runtime's version, the process's arguments and memory. */
  readonly runtime: Pick<Runtime, "version" | "argv0" | "args" | "memoryUsage">;
}

/** The peer fields of /lookup (L-HTTP-LOOKUP), in the original's order. */
export function peerJson(p: PeerInfo): Record<string, unknown> {
  return {
    remote_address: p.remote_address,
    hostname: p.hostname,
    broadcast_address: p.broadcast_address,
    tcp_port: p.tcp_port,
    http_port: p.http_port,
    version: p.version,
    topology_zone: p.topology_zone,
    topology_region: p.topology_region,
  };
}

/**
 * Go's time.Time{}.UnixNano(): the zero time is out of int64 range and the
 * multiplication wraps to this value; /debug shows it for never-tombstoned
 * producers (L-HTTP-DEBUG).
 */
export const GO_ZERO_TIME_UNIX_NANO = "-6795364578871345152";

/** Epoch ms (fractional) as exact integer nanoseconds text. */
function unixNanoText(ms: number): string {
  return (BigInt(Math.floor(ms)) * 1_000_000n + BigInt(Math.round((ms % 1) * 1e6))).toString();
}

function requireTopic(params: QueryParams): string {
  const topic = params.get("topic");
  if (topic === undefined) throw new HttpError(400, "MISSING_ARG_TOPIC");
  return topic;
}

/** http_api.GetTopicChannelArgs. */
function topicChannelArgs(params: QueryParams): { topic: string; channel: string } {
  const topic = params.get("topic");
  if (topic === undefined) throw new HttpError(400, "MISSING_ARG_TOPIC");
  if (!isValidTopicName(topic)) throw new HttpError(400, "INVALID_ARG_TOPIC");
  const channel = params.get("channel");
  if (channel === undefined) throw new HttpError(400, "MISSING_ARG_CHANNEL");
  if (!isValidChannelName(channel)) throw new HttpError(400, "INVALID_ARG_CHANNEL");
  return { topic, channel };
}

export function lookupdRoutes(host: LookupdHttpHost): Route[] {
  const { db, logger } = host;
  const channelsOf = (topic: string) => db.findRegistrations("channel", topic, ANY).map((r) => r.subkey);

  return [
    // L-HTTP-PING
    { method: "GET", path: "/ping", handler: () => plainText("OK") },
    // L-HTTP-INFO
    { method: "GET", path: "/info", handler: () => v1Json({ version: VERSION }) },
    // L-HTTP-DEBUG
    {
      method: "GET",
      path: "/debug",
      handler: () => {
        const groups = new Map<string, Producer[]>();
        for (const [r, producers] of db.entries()) {
          if (producers.length === 0) continue;
          groups.set(`${r.category}:${r.key}:${r.subkey}`, [...producers]);
        }
        // Go marshals a map with sorted keys; last_update and tombstoned_at are
        // int64 nanoseconds, written exactly (beyond 2^53).
        const parts: string[] = [];
        for (const key of [...groups.keys()].sort()) {
          const items = groups.get(key)!.map((p) => {
            const i = p.peer;
            return (
              `{"broadcast_address":${goJson(i.broadcast_address)},"hostname":${goJson(i.hostname)},` +
              `"http_port":${i.http_port},"id":${goJson(i.id)},"last_update":${unixNanoText(i.lastUpdate)},` +
              `"tcp_port":${i.tcp_port},"tombstoned":${p.tombstoned},` +
              `"tombstoned_at":${p.tombstonedAt === 0 ? GO_ZERO_TIME_UNIX_NANO : unixNanoText(p.tombstonedAt)},` +
              `"topology_region":${goJson(i.topology_region)},"topology_zone":${goJson(i.topology_zone)},` +
              `"version":${goJson(i.version)}}`
            );
          });
          parts.push(`${goJson(key)}:[${items.join(",")}]`);
        }
        return v1JsonText(`{${parts.join(",")}}`);
      },
    },
    // L-HTTP-LOOKUP: the name is not validated; unknown topic is 404.
    {
      method: "GET",
      path: "/lookup",
      handler: async (request) => {
        const topic = requireTopic(await readParams(request));
        if (db.findRegistrations("topic", topic, "").length === 0) throw new HttpError(404, "TOPIC_NOT_FOUND");
        const producers = filterActive(db.findProducers("topic", topic, ""), host.inactiveProducerTimeout, host.tombstoneLifetime, host.now());
        return v1Json({ channels: channelsOf(topic), producers: producers.map((p) => peerJson(p.peer)) });
      },
    },
    // L-HTTP-TOPICS
    {
      method: "GET",
      path: "/topics",
      handler: () => v1Json({ topics: db.findRegistrations("topic", ANY, "").map((r) => r.key) }),
    },
    // L-HTTP-CHANNELS
    {
      method: "GET",
      path: "/channels",
      handler: async (request) => {
        const topic = requireTopic(await readParams(request));
        return v1Json({ channels: channelsOf(topic) });
      },
    },
    // L-HTTP-NODES: active producers, tombstoned ones included and flagged per topic.
    {
      method: "GET",
      path: "/nodes",
      handler: () => {
        const now = host.now();
        const clients = filterActive(db.findProducers("client", "", ""), host.inactiveProducerTimeout, 0, now);
        const nodes = clients.map((client) => {
          const topics = db
            .lookupRegistrations(client.peer.id)
            .filter((r) => r.category === "topic")
            .map((r) => r.key);
          const tombstones = topics.map(
            (t) => db.producer({ category: "topic", key: t, subkey: "" }, client.peer.id)?.isTombstoned(host.tombstoneLifetime, now) ?? false,
          );
          return { ...peerJson(client.peer), tombstones, topics };
        });
        return v1Json({ producers: nodes });
      },
    },
    // L-HTTP-TOPIC-CREATE
    {
      method: "POST",
      path: "/topic/create",
      handler: async (request) => {
        const topic = requireTopic(await readParams(request));
        if (!isValidTopicName(topic)) throw new HttpError(400, "INVALID_ARG_TOPIC");
        logger.info(`DB: adding topic(${topic})`);
        db.addRegistration({ category: "topic", key: topic, subkey: "" });
        return v1Empty();
      },
    },
    // L-HTTP-TOPIC-DELETE: lookupd's own registry only; nsqd is not contacted.
    {
      method: "POST",
      path: "/topic/delete",
      handler: async (request) => {
        const topic = requireTopic(await readParams(request));
        for (const r of db.findRegistrations("channel", topic, ANY)) {
          logger.info(`DB: removing channel(${r.subkey}) from topic(${topic})`);
          db.removeRegistration(r);
        }
        for (const r of db.findRegistrations("topic", topic, "")) {
          logger.info(`DB: removing topic(${topic})`);
          db.removeRegistration(r);
        }
        return v1Empty();
      },
    },
    // L-HTTP-CHANNEL-CREATE
    {
      method: "POST",
      path: "/channel/create",
      handler: async (request) => {
        const { topic, channel } = topicChannelArgs(await readParams(request));
        logger.info(`DB: adding channel(${channel}) in topic(${topic})`);
        db.addRegistration({ category: "channel", key: topic, subkey: channel });
        logger.info(`DB: adding topic(${topic})`);
        db.addRegistration({ category: "topic", key: topic, subkey: "" });
        return v1Empty();
      },
    },
    // L-HTTP-CHANNEL-DELETE
    {
      method: "POST",
      path: "/channel/delete",
      handler: async (request) => {
        const { topic, channel } = topicChannelArgs(await readParams(request));
        const found = db.findRegistrations("channel", topic, channel);
        if (found.length === 0) throw new HttpError(404, "CHANNEL_NOT_FOUND");
        logger.info(`DB: removing channel(${channel}) from topic(${topic})`);
        for (const r of found) db.removeRegistration(r);
        return v1Empty();
      },
    },
    // L-HTTP-TOMBSTONE
    {
      method: "POST",
      path: "/topic/tombstone",
      handler: async (request) => {
        const params = await readParams(request);
        const topic = requireTopic(params);
        const node = params.get("node");
        if (node === undefined) throw new HttpError(400, "MISSING_ARG_NODE");
        logger.info(`DB: setting tombstone for producer@${node} of topic(${topic})`);
        const now = host.now();
        for (const p of db.findProducers("topic", topic, "")) {
          if (`${p.peer.broadcast_address}:${p.peer.http_port}` === node) p.tombstone(now);
        }
        return v1Empty();
      },
    },
    // L-HTTP-DEBUG-PPROF / X-PPROF: the same answers as nsqd's (../common/pprof.ts).
    ...pprofRoutes(
      {
        program: "nsqlookupd",
        runtimeVersion: host.runtime.version,
        argv: () => [host.runtime.argv0(), ...host.runtime.args()],
        memoryUsage: () => host.runtime.memoryUsage(),
      },
      "/debug/pprof",
    ).map((r) => ({ ...r, log: false })),
  ];
}

/** The fetch handler; each API request is logged as the original does (pprof is not). */
export function createLookupdHttpHandler(host: LookupdHttpHost): FetchHandler {
  return createRouter(lookupdRoutes(host), host.logger);
}
