// The Consumer: subscribes one topic/channel on many nsqd, found directly or
// through lookupd, and feeds messages to a handler with go-nsq's conventions
// (U-CLI-*): RDY spread within max_in_flight and redistributed when there are
// more connections than RDY (U-CLI-RDY), backoff on handler failure
// (U-CLI-BACKOFF), max_attempts (U-CLI-ATTEMPTS), concurrent handlers, NOP on
// heartbeats (U-CLI-HEARTBEAT), CLS on stop (U-CLI-CLOSE) and reconnection
// (U-CLI-RECONNECT).
import type { Logger } from "../common/log.ts";
import { silentLogger } from "../common/log.ts";
import type { Runtime } from "../runtime/types.ts";
import { CLS_COMMAND, decodeMessagePayload, encodeFin, encodeRdy, encodeReq, encodeSub, encodeTouch, MESSAGE_HEADER_SIZE } from "../protocol/frames.ts";
import { isValidChannelName, isValidTopicName } from "../protocol/names.ts";
import { decodeUtf8 } from "../protocol/text.ts";
import { Config, type ConfigValues } from "./config.ts";
import { Connection, type NsqError, type ConnectionDelegate } from "./connection.ts";
import { lookupProducers } from "./lookupd.ts";
import { ClientRuntime } from "./runtime.ts";
import { Message, type MessageResponder } from "./message.ts";
import {
  BackoffState,
  exponentialBackoff,
  fullJitterBackoff,
  grantRdy,
  perConnMaxInFlight,
  requeueDelay,
  totalReserved,
  type BackoffSignal,
  type RdySlot,
} from "./rdy.ts";
import { errorText } from "../common/errors.ts";

/** A message handler: return (or resolve) to FIN, throw (or reject) to REQ with backoff. */
export type Handler = (message: Message) => void | Promise<void>;

export interface ClientDeps {
  /** The runtime adapter; by default the one of the runtime this code runs on (loadRuntime()). */
  runtime?: Runtime;
  logger?: Logger;
}

/** Thrown by connectToNsqd for an address that is already connected (go-nsq's ErrAlreadyConnected). */
export class AlreadyConnectedError extends Error {
  override readonly name = "AlreadyConnectedError";
}

/** go-nsq retries a RDY that did not fit after this long. */
const RDY_RETRY_MS = 5000;
/** How long a stopping consumer waits for CLOSE_WAIT and in-flight handlers. */
const STOP_TIMEOUT_MS = 30_000;

export interface ConsumerStats {
  messagesReceived: number;
  messagesFinished: number;
  messagesRequeued: number;
  connections: number;
}

/** What a connection reports to its consumer: the Consumer's private handlers. */
interface ConsumerEvents {
  message(c: ConsumerConn, data: Uint8Array): void;
  response(c: ConsumerConn, data: Uint8Array): void;
  error(c: ConsumerConn, error: NsqError): void;
  close(c: ConsumerConn, error?: Error): void;
  respond(c: ConsumerConn, message: Message, delayMs: number, backoff: boolean, success: boolean): void;
}

/** Per-connection state; it is the connection's delegate and the responder of its messages. */
class ConsumerConn implements RdySlot, ConnectionDelegate, MessageResponder {
  readonly conn: Connection;
  readonly #consumer: ConsumerEvents;
  rdy = 0;
  inFlight = 0;
  held = 0;
  maxRdy = 2500;
  lastMsgAt: number = Date.now();
  lastRdyAt: number = Date.now();
  subscribed = false;
  closeWait = false;
  heldTimer: ReturnType<typeof setTimeout> | null = null;
  retryTimer: ReturnType<typeof setTimeout> | null = null;
  subWaiter: ((error?: Error) => void) | null = null;

  constructor(consumer: ConsumerEvents, address: string, deps: { runtime: Runtime; logger: Logger; config: ConfigValues }) {
    this.#consumer = consumer;
    this.conn = new Connection(address, { ...deps, delegate: this });
  }

  onMessage(_conn: Connection, data: Uint8Array): void {
    this.#consumer.message(this, data);
  }

  onResponse(_conn: Connection, data: Uint8Array): void {
    this.#consumer.response(this, data);
  }

  onError(_conn: Connection, error: NsqError): void {
    this.#consumer.error(this, error);
  }

  onClose(_conn: Connection, error?: Error): void {
    this.#consumer.close(this, error);
  }

  finish(message: Message): void {
    this.#consumer.respond(this, message, 0, false, true);
  }

  requeue(message: Message, delayMs: number, backoff: boolean): void {
    this.#consumer.respond(this, message, delayMs, backoff, false);
  }

  touch(message: Message): void {
    this.conn.write(encodeTouch(message.id));
  }

  clearTimers(): void {
    if (this.heldTimer !== null) clearTimeout(this.heldTimer);
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.heldTimer = this.retryTimer = null;
  }
}

/** A handler slot; its callbacks are made once, so running a message allocates no closure. */
interface Lane {
  message: Message | null;
  ok: () => void;
  fail: (error: unknown) => void;
}

/**
 * Subscribes one topic/channel on many nsqd, found directly or through
 * nsqlookupd, and runs a handler per message with go-nsq's conventions:
 * returning FINishes the message, throwing REQueues it with backoff.
 *
 * @example
 * ```ts
 * import { Consumer } from "@nsq/nsq";
 *
 * const consumer = new Consumer("events", "archive", { max_in_flight: 10 });
 * consumer.addHandler(async (message) => {
 *   console.log(new TextDecoder().decode(message.body));
 * });
 * await consumer.connectToNsqLookupd("127.0.0.1:4161");
 * // later
 * await consumer.stop();
 * ```
 */
export class Consumer {
  readonly topic: string;
  readonly channel: string;
  readonly #config: ConfigValues;
  readonly #runtime: ClientRuntime;
  readonly #logger: Logger;
  readonly #prefix: string;
  readonly #conns = new Map<string, ConsumerConn>();
  readonly #pending = new Set<string>();
  readonly #nsqdAddrs: string[] = [];
  readonly #lookupdAddrs: string[] = [];
  #lookupdIndex = 0;
  #lookupTimer: ReturnType<typeof setTimeout> | null = null;
  #lookupInterval: ReturnType<typeof setInterval> | null = null;
  readonly #reconnectTimers = new Set<ReturnType<typeof setTimeout>>();
  #rdyTimer: ReturnType<typeof setInterval> | null = null;
  #backoffTimer: ReturnType<typeof setTimeout> | null = null;
  readonly #backoff: BackoffState;
  #handler: Handler | null = null;
  readonly #idle: Lane[] = [];
  #lanes = 0;
  #queue: Message[] = [];
  #queueHead = 0;
  #failedHandler: ((message: Message) => void) | null = null;
  #stopping = false;
  #stopTimer: ReturnType<typeof setTimeout> | null = null;
  #resolveStopped!: () => void;
  /** Resolves once stop() has completed (all connections closed, handlers done). */
  readonly stopped: Promise<void>;
  readonly #stats = { messagesReceived: 0, messagesFinished: 0, messagesRequeued: 0 };
  /** How the connections reach this consumer (kept off its public surface). */
  readonly #events: ConsumerEvents = {
    message: (c, data) => this.#onConnMessage(c, data),
    response: (c, data) => this.#onConnResponse(c, data),
    error: (c, error) => this.#onConnError(c, error),
    close: (c, error) => this.#onConnClose(c, error),
    respond: (c, message, delayMs, backoff, success) => this.#respond(c, message, delayMs, backoff, success),
  };

  /**
   * `new Consumer("events", "archive", { max_in_flight: 10 })`; options as a
   * Config or a plain object. Without `deps.runtime` it uses the adapter of
   * the runtime it runs on.
   */
  constructor(topic: string, channel: string, config?: Config | Partial<ConfigValues>, deps: ClientDeps = {}) {
    if (!isValidTopicName(topic)) throw new TypeError(`invalid topic name ${JSON.stringify(topic)}`);
    if (!isValidChannelName(channel)) throw new TypeError(`invalid channel name ${JSON.stringify(channel)}`);
    const cfg = config instanceof Config ? config.clone() : new Config(config ?? {});
    cfg.validate();
    this.topic = topic;
    this.channel = channel;
    this.#config = cfg.values;
    this.#runtime = new ClientRuntime(deps.runtime, cfg);
    this.#logger = deps.logger ?? silentLogger;
    this.#prefix = `[${topic}/${channel}] `;
    const strategy =
      this.#config.backoff_strategy === "full_jitter"
        ? fullJitterBackoff(this.#config.backoff_multiplier)
        : exponentialBackoff(this.#config.backoff_multiplier);
    this.#backoff = new BackoffState(strategy, this.#config.max_backoff_duration);
    this.stopped = new Promise((resolve) => (this.#resolveStopped = resolve));
  }

  /** The options in force, as a frozen copy (change max_in_flight with changeMaxInFlight). */
  get config(): Readonly<ConfigValues> {
    return Object.freeze({ ...this.#config });
  }

  /**
   * Sets the handler, run up to `concurrency` messages at a time (go-nsq's
   * AddConcurrentHandlers). Call before connecting.
   */
  addHandler(handler: Handler, options: { concurrency?: number } = {}): void {
    if (this.#conns.size > 0 || this.#pending.size > 0) throw new Error("already connected: add the handler before connecting");
    const n = Math.max(1, Math.trunc(options.concurrency ?? 1));
    this.#handler = handler;
    for (let i = 0; i < n; i++) {
      const lane: Lane = { message: null, ok: () => this.#laneDone(lane, undefined), fail: (e) => this.#laneDone(lane, e ?? new Error("handler failed")) };
      this.#idle.push(lane);
    }
    this.#lanes += n;
  }

  /** Called (instead of the handler) for a message over max_attempts, before it is FINed. */
  onFailedMessage(handler: (message: Message) => void): void {
    this.#failedHandler = handler;
  }

  stats(): ConsumerStats {
    return { ...this.#stats, connections: this.#conns.size };
  }

  /** Some connection has in-flight messages at 85 % or more of its RDY (U-CLI-RDY IsStarved). */
  isStarved(): boolean {
    for (const c of this.#conns.values()) {
      if (c.inFlight > 0 && c.inFlight >= Math.floor(c.rdy * 0.85)) return true;
    }
    return false;
  }

  /** Changes max_in_flight at run time and re-spreads RDY. */
  changeMaxInFlight(maxInFlight: number): void {
    if (this.#config.max_in_flight === maxInFlight) return;
    this.#config.max_in_flight = maxInFlight;
    if (this.#backoff.inBackoff || this.#backoff.waiting) return;
    for (const c of this.#conns.values()) this.#maybeUpdateRdy(c);
  }

  // ---- connecting -----------------------------------------------------------

  /** Connect to nsqd directly. Rejects when the address cannot be reached. */
  async connectToNsqd(address: string): Promise<void> {
    if (!this.#nsqdAddrs.includes(address)) this.#nsqdAddrs.push(address);
    await this.#connect(address);
  }

  async connectToNsqds(addresses: readonly string[]): Promise<void> {
    for (const a of addresses) await this.connectToNsqd(a);
  }

  /** Discover nsqd through lookupd (`host:port` or a full URL); polls every lookupd_poll_interval. */
  async connectToNsqLookupd(address: string): Promise<void> {
    if (this.#stopping) throw new Error("consumer stopped");
    if (this.#handler === null) throw new Error("no handlers");
    if (this.#lookupdAddrs.includes(address)) return;
    this.#lookupdAddrs.push(address);
    if (this.#lookupdAddrs.length === 1) {
      await this.#queryLookupd();
      this.#startLookupLoop();
    }
  }

  async connectToNsqLookupds(addresses: readonly string[]): Promise<void> {
    for (const a of addresses) await this.connectToNsqLookupd(a);
  }

  async #connect(address: string): Promise<void> {
    const runtime = await this.#runtime.get();
    if (this.#stopping) throw new Error("consumer stopped");
    if (this.#handler === null) throw new Error("no handlers");
    if (this.#conns.has(address) || this.#pending.has(address)) throw new AlreadyConnectedError(`already connected to ${address}`);
    this.#pending.add(address);
    const c = new ConsumerConn(this.#events, address, { runtime, logger: this.#logger, config: this.#config });
    this.#logger.info(`${this.#prefix}(${address}) connecting to nsqd`);
    try {
      const identity = await c.conn.connect();
      if (identity.max_rdy_count > 0) c.maxRdy = identity.max_rdy_count;
      const subscribed = new Promise<void>((resolve, reject) => {
        c.subWaiter = (e) => (e ? reject(e) : resolve());
      });
      c.conn.write(encodeSub(this.topic, this.channel));
      await subscribed;
    } catch (e) {
      this.#pending.delete(address);
      c.clearTimers();
      c.conn.close();
      if (this.#stopping) this.#finishStop();
      throw new Error(`failed to connect to nsqd ${address} - ${errorText(e)}`);
    }
    this.#pending.delete(address);
    if (this.#stopping || c.conn.closed) {
      c.conn.close();
      if (this.#stopping) this.#finishStop();
      return;
    }
    this.#conns.set(address, c);
    c.lastMsgAt = c.lastRdyAt = Date.now();
    // Re-spread RDY over all connections, the new one included.
    if (!this.#backoff.inBackoff && !this.#backoff.waiting) {
      for (const other of this.#conns.values()) if (other !== c) this.#maybeUpdateRdy(other);
      this.#maybeUpdateRdy(c);
    }
    if (this.#rdyTimer === null) {
      this.#rdyTimer = setInterval(() => this.#redistribute(), this.#config.rdy_redistribute_interval);
    }
  }

  #nextLookupd(): string {
    const addr = this.#lookupdAddrs[this.#lookupdIndex % this.#lookupdAddrs.length]!;
    this.#lookupdIndex = (this.#lookupdIndex + 1) % this.#lookupdAddrs.length;
    return addr;
  }

  /** U-CLI-LOOKUP: one poll, up to 3 tries over the lookupds; connects to new producers. */
  async #queryLookupd(): Promise<void> {
    if (this.#lookupdAddrs.length === 0) return;
    let producers: string[] | null = null;
    for (let attempt = 0; attempt < 3 && producers === null; attempt++) {
      const addr = this.#nextLookupd();
      try {
        producers = await lookupProducers(addr, this.topic, {
          timeoutMs: this.#config.lookupd_poll_timeout,
          authSecret: this.#config.auth_secret,
          userAgent: this.#config.user_agent,
        });
      } catch (e) {
        this.#logger.error(`${this.#prefix}error querying nsqlookupd (${addr}) - ${errorText(e)}`);
      }
    }
    if (producers === null || this.#stopping) return;
    await Promise.all(
      producers
        .filter((a) => !this.#conns.has(a) && !this.#pending.has(a))
        .map((a) =>
          this.#connect(a).catch((e) => {
            if (!(e instanceof AlreadyConnectedError)) this.#logger.error(`${this.#prefix}(${a}) error connecting to nsqd - ${errorText(e)}`);
          }),
        ),
    );
  }

  #startLookupLoop(): void {
    const interval = this.#config.lookupd_poll_interval;
    // Up to lookupd_poll_jitter of one interval first, so many consumers started together spread out.
    const jitter = Math.floor(Math.random() * this.#config.lookupd_poll_jitter * interval);
    this.#lookupTimer = setTimeout(() => {
      this.#lookupTimer = null;
      if (this.#stopping) return;
      this.#lookupInterval = setInterval(() => void this.#queryLookupd(), interval);
    }, jitter);
  }

  // ---- connection events ------------------------------------------------------

  #onConnMessage(c: ConsumerConn, data: Uint8Array): void {
    if (data.length < MESSAGE_HEADER_SIZE) {
      this.#logger.error(`${this.#prefix}(${c.conn.address}) message of ${data.length} bytes is too short`);
      c.conn.close();
      return;
    }
    c.inFlight++;
    c.lastMsgAt = Date.now();
    this.#stats.messagesReceived++;
    const m = decodeMessagePayload(data);
    const message = new Message(m.id, m.body, m.timestampNs, m.attempts, c.conn.address, c);
    const max = this.#config.max_attempts;
    if (max > 0 && message.attempts > max) {
      // U-CLI-ATTEMPTS
      this.#logger.warn(`${this.#prefix}msg ${message.idString} attempted ${message.attempts} times, giving up`);
      if (this.#failedHandler !== null) {
        try {
          this.#failedHandler(message);
        } catch (e) {
          this.#logger.error(`${this.#prefix}failed-message handler threw - ${errorText(e)}`);
        }
      }
      message.finish();
      return;
    }
    this.#queue.push(message);
    this.#pump();
  }

  #onConnResponse(c: ConsumerConn, data: Uint8Array): void {
    const text = decodeUtf8(data);
    if (!c.subscribed && text === "OK") {
      c.subscribed = true;
      const w = c.subWaiter;
      c.subWaiter = null;
      w?.();
      return;
    }
    if (text === "CLOSE_WAIT") {
      // U-CLI-CLOSE: nsqd set RDY 0; close once every in-flight message is answered.
      this.#logger.info(`${this.#prefix}(${c.conn.address}) received CLOSE_WAIT from nsqd`);
      c.closeWait = true;
      if (c.inFlight === 0) c.conn.close();
    }
  }

  #onConnError(c: ConsumerConn, error: NsqError): void {
    this.#logger.error(`${this.#prefix}(${c.conn.address}) protocol error - ${error.message}`);
    if (c.subWaiter !== null) {
      const w = c.subWaiter;
      c.subWaiter = null;
      w(error);
    }
    if (error.fatal) c.conn.close();
  }

  #onConnClose(c: ConsumerConn, error?: Error): void {
    c.clearTimers();
    if (c.subWaiter !== null) {
      const w = c.subWaiter;
      c.subWaiter = null;
      w(error ?? new Error("connection closed"));
    }
    const address = c.conn.address;
    if (this.#conns.get(address) !== c) return;
    this.#conns.delete(address);
    this.#logger.info(`${this.#prefix}(${address}) connection closed${error ? ` - ${error.message}` : ""}`);
    if (this.#stopping) {
      if (this.#conns.size === 0) this.#finishStop();
      return;
    }
    if (!this.#backoff.inBackoff && !this.#backoff.waiting) {
      for (const other of this.#conns.values()) this.#maybeUpdateRdy(other);
    }
    if (this.#lookupdAddrs.length > 0) {
      // U-CLI-RECONNECT: ask lookupd now; reconnect only if the nsqd is still listed.
      void this.#queryLookupd();
    } else if (this.#nsqdAddrs.includes(address)) {
      this.#scheduleReconnect(address);
    }
  }

  #scheduleReconnect(address: string): void {
    const timer = setTimeout(() => {
      this.#reconnectTimers.delete(timer);
      if (this.#stopping) return;
      this.#logger.info(`${this.#prefix}(${address}) trying to reconnect`);
      this.#connect(address).catch((e) => {
        if (e instanceof AlreadyConnectedError || this.#stopping) return;
        this.#logger.error(`${this.#prefix}(${address}) error connecting to nsqd - ${errorText(e)}`);
        this.#scheduleReconnect(address);
      });
    }, this.#config.lookupd_poll_interval);
    this.#reconnectTimers.add(timer);
  }

  // ---- handlers ---------------------------------------------------------------

  #pump(): void {
    const handler = this.#handler!;
    while (this.#idle.length > 0 && this.#queueHead < this.#queue.length) {
      const message = this.#queue[this.#queueHead]!;
      this.#queue[this.#queueHead++] = undefined as unknown as Message;
      if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#queueHead);
        this.#queueHead = 0;
      }
      const lane = this.#idle.pop()!;
      lane.message = message;
      let result: void | Promise<void>;
      try {
        result = handler(message);
      } catch (e) {
        this.#settle(lane, e ?? new Error("handler failed"));
        continue;
      }
      if (result !== undefined && typeof (result as Promise<void>).then === "function") {
        (result as Promise<void>).then(lane.ok, lane.fail);
      } else {
        this.#settle(lane, undefined);
      }
    }
  }

  #laneDone(lane: Lane, error: unknown): void {
    this.#settle(lane, error);
    this.#pump();
    if (this.#stopping && this.#conns.size === 0) this.#finishStop();
  }

  /** Auto-response: FIN on success, REQ with backoff on failure, unless the handler answered itself. */
  #settle(lane: Lane, error: unknown): void {
    const message = lane.message!;
    lane.message = null;
    this.#idle.push(lane);
    if (error !== undefined) {
      this.#logger.error(`${this.#prefix}Handler returned error (${errorText(error)}) for msg ${message.idString}`);
    }
    if (message.isAutoResponseDisabled) return;
    if (error === undefined) message.finish();
    else message.requeue(-1);
  }

  // ---- responses, RDY, backoff ------------------------------------------------

  #respond(c: ConsumerConn, message: Message, delayMs: number, backoff: boolean, success: boolean): void {
    if (c.inFlight > 0) c.inFlight--;
    let command: Uint8Array;
    let signal: BackoffSignal;
    if (success) {
      command = encodeFin(message.id);
      this.#stats.messagesFinished++;
      signal = "resume";
    } else {
      const delay = delayMs < 0 ? requeueDelay(this.#config.default_requeue_delay, this.#config.max_requeue_delay, message.attempts) : delayMs;
      command = encodeReq(message.id, delay);
      this.#stats.messagesRequeued++;
      signal = backoff ? "backoff" : "continue";
    }
    // As go-nsq does, RDY changes go out before the FIN/REQ: otherwise nsqd
    // could hand over the next message before it reads a RDY 0.
    if (!this.#stopping && !c.conn.closed && !c.closeWait) this.#applyBackoff(c, signal);
    c.conn.write(command);
    if (c.closeWait && c.inFlight === 0) c.conn.close();
  }

  #applyBackoff(c: ConsumerConn, signal: BackoffSignal): void {
    const action = this.#backoff.signal(signal);
    if (action.kind === "exit") {
      const count = perConnMaxInFlight(this.#config.max_in_flight, this.#conns.size);
      this.#logger.warn(`${this.#prefix}exiting backoff, returning all to RDY ${count}`);
      for (const other of this.#conns.values()) this.#updateRdy(other, count);
    } else if (action.kind === "backoff") {
      this.#logger.warn(
        `${this.#prefix}backing off for ${(action.durationMs / 1000).toFixed(4)} seconds (backoff level ${action.level}), setting all to RDY 0`,
      );
      for (const other of this.#conns.values()) this.#updateRdy(other, 0);
      this.#startBackoffTimer(action.durationMs);
    } else if (c.rdy > 0 && !this.#backoff.inBackoff && !this.#backoff.waiting) {
      // Adjust an active connection (a connection at RDY 0 waits for redistribution or its retry).
      this.#maybeUpdateRdy(c);
    }
  }

  #startBackoffTimer(ms: number): void {
    if (this.#backoffTimer !== null) clearTimeout(this.#backoffTimer);
    this.#backoffTimer = setTimeout(() => {
      this.#backoffTimer = null;
      this.#backoff.timerFired();
      if (this.#stopping) return;
      // U-CLI-BACKOFF: test the water with RDY 1 on one random connection.
      const conns = [...this.#conns.values()].filter((c) => !c.closeWait);
      const choice = conns[Math.floor(Math.random() * conns.length)];
      if (choice === undefined || !this.#updateRdy(choice, 1)) {
        // Nothing could take RDY 1 yet: wait another second, still in the window.
        this.#backoff.hold();
        this.#startBackoffTimer(1000);
        return;
      }
      this.#logger.warn(`${this.#prefix}(${choice.conn.address}) backoff timeout expired, sending RDY 1`);
      if (!this.#backoff.inBackoff) {
        // The level reached 0 while the timer ran (cannot happen with counted results, kept for safety).
        for (const other of this.#conns.values()) this.#maybeUpdateRdy(other);
      }
    }, ms);
  }

  #maybeUpdateRdy(c: ConsumerConn): void {
    if (this.#backoff.inBackoff || this.#backoff.waiting) return;
    const target = perConnMaxInFlight(this.#config.max_in_flight, this.#conns.size);
    if (c.rdy !== target) this.#updateRdy(c, target);
  }

  /** Sends RDY `want` (or what fits); returns false when nothing fit. */
  #updateRdy(c: ConsumerConn, want: number): boolean {
    if (c.conn.closed || c.closeWait || this.#stopping) return false;
    const count = grantRdy(this.#conns.values(), c, want, this.#config.max_in_flight);
    if (count === null) {
      if (c.rdy === 0 && c.retryTimer === null) {
        c.retryTimer = setTimeout(() => {
          c.retryTimer = null;
          this.#maybeUpdateRdy(c);
        }, RDY_RETRY_MS);
      }
      return false;
    }
    if (count === c.rdy) return true;
    if (count < c.rdy) {
      // nsqd may still send up to the old RDY until it reads the new one: keep
      // that much reserved for a moment (see rdy.ts).
      c.held = Math.max(c.held, c.rdy);
      if (c.heldTimer !== null) clearTimeout(c.heldTimer);
      c.heldTimer = setTimeout(() => {
        c.heldTimer = null;
        c.held = 0;
        if (this.#stopping || this.#backoff.inBackoff || this.#backoff.waiting) return;
        // With more connections than RDY, #redistribute hands out what was freed.
        if (this.#conns.size > this.#config.max_in_flight) return;
        for (const other of this.#conns.values()) if (other.rdy === 0) this.#maybeUpdateRdy(other);
      }, this.#config.output_buffer_timeout + 250);
    }
    c.rdy = count;
    c.lastRdyAt = Date.now();
    c.conn.write(encodeRdy(count));
    return true;
  }

  /** U-CLI-RDY: move RDY from idle connections to others when RDY is scarcer than connections. */
  #redistribute(): void {
    if (this.#stopping || this.#backoff.waiting) return;
    const conns = [...this.#conns.values()];
    const inBackoff = this.#backoff.inBackoff;
    if (conns.length === 0 || !(conns.length > this.#config.max_in_flight || inBackoff)) return;
    const now = Date.now();
    const possible: ConsumerConn[] = [];
    for (const c of conns) {
      if (c.rdy > 0 && (now - c.lastMsgAt > this.#config.low_rdy_idle_timeout || now - c.lastRdyAt > this.#config.low_rdy_timeout)) {
        this.#logger.debug(`${this.#prefix}(${c.conn.address}) idle connection, giving up RDY`);
        this.#updateRdy(c, 0);
      }
      possible.push(c);
    }
    let available = (inBackoff ? 1 : this.#config.max_in_flight) - totalReserved(conns);
    while (possible.length > 0 && available > 0) {
      const i = Math.floor(Math.random() * possible.length);
      const c = possible.splice(i, 1)[0]!;
      if (c.rdy > 0) continue;
      if (this.#updateRdy(c, 1)) available--;
    }
  }

  // ---- stopping ---------------------------------------------------------------

  /**
   * U-CLI-CLOSE: send CLS everywhere, let in-flight messages be answered,
   * then close. Resolves once stopped (at most about 30 s).
   */
  stop(): Promise<void> {
    if (this.#stopping) return this.stopped;
    this.#stopping = true;
    this.#logger.info(`${this.#prefix}stopping...`);
    if (this.#lookupTimer !== null) clearTimeout(this.#lookupTimer);
    if (this.#lookupInterval !== null) clearInterval(this.#lookupInterval);
    if (this.#rdyTimer !== null) clearInterval(this.#rdyTimer);
    if (this.#backoffTimer !== null) clearTimeout(this.#backoffTimer);
    this.#lookupTimer = this.#lookupInterval = this.#rdyTimer = this.#backoffTimer = null;
    for (const t of this.#reconnectTimers) clearTimeout(t);
    this.#reconnectTimers.clear();
    if (this.#conns.size === 0) {
      this.#finishStop();
      return this.stopped;
    }
    for (const c of this.#conns.values()) {
      c.clearTimers();
      if (!c.conn.write(CLS_COMMAND)) c.conn.close();
    }
    this.#stopTimer = setTimeout(() => {
      this.#stopTimer = null;
      this.#logger.warn(`${this.#prefix}stop timed out, closing connections`);
      for (const c of this.#conns.values()) c.conn.close();
      this.#queue = [];
      this.#queueHead = 0;
      this.#resolveStopped();
    }, STOP_TIMEOUT_MS);
    return this.stopped;
  }

  #finishStop(): void {
    if (this.#conns.size > 0 || this.#pending.size > 0) return;
    // Messages not yet handled belong to closed connections: nsqd requeues them on timeout.
    this.#queue = [];
    this.#queueHead = 0;
    if (this.#idle.length < this.#lanes) return;
    if (this.#stopTimer !== null) clearTimeout(this.#stopTimer);
    this.#stopTimer = null;
    this.#resolveStopped();
  }
}
