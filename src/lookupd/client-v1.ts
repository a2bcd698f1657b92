// One nsqd connection to nsqlookupd: the TCP protocol "V1" (SPEC §6.2) over
// the pure codec of src/protocol/lookup.ts. Every error is fatal: the reply
// goes out in the V1 format and the connection closes (L-TCP-FRAME). When the
// connection goes, its producer leaves every key it was registered under
// (L-TCP-DISCONNECT).
import type { Logger } from "../common/log.ts";
import { joinHostPort } from "../common/address.ts";
import { VERSION } from "../common/version.ts";
import { protocolError, type ErrorCommand } from "../protocol/commands.ts";
import { V1CommandReader, encodeV1Response, parseTopicChannel } from "../protocol/lookup.ts";
import { isEphemeral } from "../protocol/names.ts";
import { decodeUtf8, utf8 } from "../protocol/text.ts";
import type { Socket, SocketHandler } from "../runtime/types.ts";
import type { PeerInfo, RegistrationDB } from "./registration-db.ts";
import { goJson } from "../common/http/json.ts";

/** What a connection needs from the daemon. */
export interface LookupConnectionHost {
  readonly db: RegistrationDB;
  readonly logger: Logger;
  /** Epoch ms. */
  now(): number;
  /** The IDENTIFY reply (L-TCP-IDENTIFY): actual ports, broadcast address, OS hostname. */
  identifyReply(): { tcp_port: number; http_port: number; broadcast_address: string; hostname: string };
  /** Largest IDENTIFY body accepted. */
  readonly maxBodySize: number;
  connectionClosed(connection: LookupConnection): void;
}

const OK = encodeV1Response("OK");

const STRING_FIELDS = ["hostname", "broadcast_address", "version", "topology_zone", "topology_region", "remote_address"] as const;
const INT_FIELDS = ["tcp_port", "http_port"] as const;

/**
 * Decode an IDENTIFY body as Go's encoding/json fills the original's PeerInfo:
 * unknown keys ignored, keys matched case-insensitively, `null` leaves a
 * field empty, a wrong type is an error. Returns null when it does not decode.
 */
export function decodePeerInfo(body: Uint8Array, id: string, now: number): PeerInfo | null {
  let value: unknown;
  try {
    value = JSON.parse(decodeUtf8(body));
  } catch {
    return null;
  }
  const info: PeerInfo = {
    id,
    remote_address: id,
    hostname: "",
    broadcast_address: "",
    tcp_port: 0,
    http_port: 0,
    version: "",
    topology_zone: "",
    topology_region: "",
    lastUpdate: now,
  };
  if (value === null) return info;
  if (typeof value !== "object" || Array.isArray(value)) return null;
  const fields = info as unknown as Record<string, unknown>;
  for (const [rawKey, v] of Object.entries(value as Record<string, unknown>)) {
    const key = rawKey.toLowerCase();
    if ((STRING_FIELDS as readonly string[]).includes(key)) {
      if (v === null) continue;
      if (typeof v !== "string") return null;
      fields[key] = v;
    } else if ((INT_FIELDS as readonly string[]).includes(key)) {
      if (v === null) continue;
      if (typeof v !== "number" || !Number.isInteger(v) || Math.abs(v) > 2 ** 63) return null;
      fields[key] = v;
    }
  }
  // L-BEH-PEERINFO: the connection's real address wins over anything sent.
  info.remote_address = id;
  return info;
}

export class LookupConnection implements SocketHandler {
  readonly #host: LookupConnectionHost;
  readonly #socket: Socket;
  readonly #reader: V1CommandReader;
  /** The remote ip:port: the producer identity. */
  readonly id: string;
  #peer: PeerInfo | null = null;
  /** A fatal error was sent: ignore the rest of the input. */
  #failed = false;
  #closed = false;

  constructor(host: LookupConnectionHost, socket: Socket) {
    this.#host = host;
    this.#socket = socket;
    this.id = joinHostPort(socket.remoteAddress, socket.remotePort);
    this.#reader = new V1CommandReader({
      maxBodySize: host.maxBodySize,
      // L-TCP-IDENTIFY: a second IDENTIFY is refused before its body is read.
      identifyGate: () => (this.#peer !== null ? protocolError("E_INVALID", "cannot IDENTIFY again") : null),
    });
    host.logger.info(`TCP: new client(${this.id})`);
  }

  get peer(): PeerInfo | null {
    return this.#peer;
  }

  data(chunk: Uint8Array): void {
    if (this.#failed || this.#closed) return;
    this.#reader.push(chunk);
    for (let cmd = this.#reader.next(); cmd !== null && !this.#failed; cmd = this.#reader.next()) {
      switch (cmd.kind) {
        case "PING":
          this.#ping();
          break;
        case "IDENTIFY":
          this.#identify(cmd.body);
          break;
        case "REGISTER":
          this.#register(cmd.params);
          break;
        case "UNREGISTER":
          this.#unregister(cmd.params);
          break;
        case "ERROR":
          this.#fail(cmd);
          break;
        case "DROP":
          this.#host.logger.error(`[${this.id}] - command line too long`);
          this.#failed = true;
          this.#socket.close();
          break;
      }
    }
  }

  /**
   * EOF from nsqd. An IDENTIFY cut short gets the original's `E_BAD_BODY
   * IDENTIFY failed to read body[ size]` before the connection closes.
   */
  end(): void {
    if (this.#failed || this.#closed) return;
    const error = this.#reader.end();
    if (error !== null) this.#fail(error);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#host.logger.info(`PROTOCOL(V1): [${this.id}] exiting ioloop`);
    const peer = this.#peer;
    if (peer !== null) {
      const { db, logger } = this.#host;
      for (const r of db.lookupRegistrations(peer.id)) {
        if (db.removeProducer(r, peer.id).removed) {
          logger.info(`DB: client(${this.id}) UNREGISTER category:${r.category} key:${r.key} subkey:${r.subkey}`);
        }
      }
    }
    this.#host.connectionClosed(this);
  }

  /** Close from the server side (shutdown). */
  shutdown(): void {
    this.#socket.close();
  }

  #fail(error: ErrorCommand): void {
    this.#host.logger.error(`[${this.id}] - ${error.message}`);
    this.#socket.write(encodeV1Response(error.data ?? error.message));
    // All lookupd errors are fatal (L-TCP-FRAME): flush the reply, then close.
    // close() runs later from the adapter's callback and does the cleanup.
    this.#failed = true;
    this.#reader.end();
    this.#socket.end();
  }

  #ping(): void {
    const peer = this.#peer;
    if (peer !== null) {
      // A PING may come before IDENTIFY; only an identified peer is refreshed.
      const now = this.#host.now();
      this.#host.logger.info(`CLIENT(${peer.id}): pinged (last ping ${formatSince(now - peer.lastUpdate)})`);
      peer.lastUpdate = now;
    }
    this.#socket.write(OK);
  }

  #identify(body: Uint8Array): void {
    const peer = decodePeerInfo(body, this.id, this.#host.now());
    if (peer === null) return this.#fail(protocolError("E_BAD_BODY", "IDENTIFY failed to decode JSON body"));
    if (peer.broadcast_address === "" || peer.tcp_port === 0 || peer.http_port === 0 || peer.version === "") {
      return this.#fail(protocolError("E_BAD_BODY", "IDENTIFY missing fields"));
    }
    const { db, logger } = this.#host;
    logger.info(`CLIENT(${this.id}): IDENTIFY Address:${peer.broadcast_address} TCP:${peer.tcp_port} HTTP:${peer.http_port} Version:${peer.version}`);
    this.#peer = peer;
    if (db.addProducer({ category: "client", key: "", subkey: "" }, peer)) {
      logger.info(`DB: client(${this.id}) REGISTER category:client key: subkey:`);
    }
    const r = this.#host.identifyReply();
    // Go marshals the reply map with sorted keys.
    const reply = goJson({ broadcast_address: r.broadcast_address, hostname: r.hostname, http_port: r.http_port, tcp_port: r.tcp_port, version: VERSION });
    this.#socket.write(encodeV1Response(utf8(reply)));
  }

  #register(params: Uint8Array[]): void {
    const peer = this.#peer;
    if (peer === null) return this.#fail(protocolError("E_INVALID", "client must IDENTIFY"));
    const parsed = parseTopicChannel("REGISTER", params);
    if ("kind" in parsed) return this.#fail(parsed);
    const { topic, channel } = parsed;
    const { db, logger } = this.#host;
    if (channel !== "" && db.addProducer({ category: "channel", key: topic, subkey: channel }, peer)) {
      logger.info(`DB: client(${this.id}) REGISTER category:channel key:${topic} subkey:${channel}`);
    }
    if (db.addProducer({ category: "topic", key: topic, subkey: "" }, peer)) {
      logger.info(`DB: client(${this.id}) REGISTER category:topic key:${topic} subkey:`);
    }
    this.#socket.write(OK);
  }

  #unregister(params: Uint8Array[]): void {
    const peer = this.#peer;
    if (peer === null) return this.#fail(protocolError("E_INVALID", "client must IDENTIFY"));
    const parsed = parseTopicChannel("UNREGISTER", params);
    if ("kind" in parsed) return this.#fail(parsed);
    const { topic, channel } = parsed;
    const { db, logger } = this.#host;
    if (channel !== "") {
      const key = { category: "channel", key: topic, subkey: channel } as const;
      const { removed, left } = db.removeProducer(key, peer.id);
      if (removed) logger.info(`DB: client(${this.id}) UNREGISTER category:channel key:${topic} subkey:${channel}`);
      // An ephemeral channel key goes with its last producer.
      if (left === 0 && isEphemeral(channel)) db.removeRegistration(key);
    } else {
      // A topic UNREGISTER also drops the peer from the topic's channels;
      // nsqd normally unregisters those first, hence the warning.
      for (const r of db.findRegistrations("channel", topic, "*")) {
        if (db.removeProducer(r, peer.id).removed) {
          logger.warn(`client(${this.id}) unexpected UNREGISTER category:channel key:${topic} subkey:${r.subkey}`);
        }
      }
      const key = { category: "topic", key: topic, subkey: "" } as const;
      const { removed, left } = db.removeProducer(key, peer.id);
      if (removed) logger.info(`DB: client(${this.id}) UNREGISTER category:topic key:${topic} subkey:`);
      if (left === 0 && isEphemeral(topic)) db.removeRegistration(key);
    }
    this.#socket.write(OK);
  }
}

function formatSince(ms: number): string {
  return `${(ms / 1000).toFixed(3)}s`;
}
