// The Producer: publishes to one nsqd over one connection, like go-nsq's.
// It connects lazily on the first publish and again after the connection is
// lost (for example when the nsqd restarted), so a failed publish is
// reported and the next one reconnects. Responses come back in command order
// (D-TCP-CMDLINE), so pending publishes are a FIFO of transactions.
import type { Logger } from "../common/log.ts";
import { silentLogger } from "../common/log.ts";
import { encodeDpub, encodeMpub, encodePub } from "../protocol/frames.ts";
import { isValidTopicName } from "../protocol/names.ts";
import { decodeUtf8, utf8 } from "../protocol/text.ts";
import { Config, type ConfigValues } from "./config.ts";
import { Connection, type NsqError, type ConnectionDelegate } from "./connection.ts";
import type { ClientDeps } from "./consumer.ts";
import { ClientRuntime } from "./runtime.ts";

export type Body = Uint8Array | string;

interface Transaction {
  resolve(): void;
  reject(error: Error): void;
}

function bytesOf(body: Body): Uint8Array {
  return typeof body === "string" ? utf8(body) : body;
}

/**
 * Publishes to one nsqd over one connection, as go-nsq's Producer does; it
 * connects on the first publish and again after the connection is lost.
 * Each publish resolves once nsqd has answered OK.
 *
 * @example
 * ```ts
 * import { Producer } from "@nsq/nsq";
 *
 * const producer = new Producer("127.0.0.1:4150");
 * await producer.publish("events", "hello");
 * await producer.multiPublish("events", ["a", "b", "c"]);
 * await producer.deferredPublish("events", 5000, "in five seconds");
 * await producer.stop();
 * ```
 */
export class Producer {
  readonly address: string;
  readonly #config: ConfigValues;
  readonly #runtime: ClientRuntime;
  readonly #logger: Logger;
  #conn: Connection | null = null;
  #connecting: Promise<Connection> | null = null;
  #transactions: Transaction[] = [];
  #head = 0;
  #stopped = false;
  /** How the connection reaches this producer (kept off its public surface). */
  readonly #delegate: ConnectionDelegate = {
    onMessage: (conn) => this.#onMessage(conn),
    onResponse: (conn, data) => this.#onResponse(conn, data),
    onError: (conn, error) => this.#onError(conn, error),
    onClose: (conn, error) => this.#onClose(conn, error),
  };

  /**
   * `new Producer("127.0.0.1:4150")`; options as a Config or a plain object
   * (`{ snappy: true }`). Without `deps.runtime` it uses the adapter of the
   * runtime it runs on.
   */
  constructor(address: string, config?: Config | Partial<ConfigValues>, deps: ClientDeps = {}) {
    const cfg = config instanceof Config ? config.clone() : new Config(config ?? {});
    cfg.validate();
    this.address = address;
    this.#config = cfg.values;
    this.#runtime = new ClientRuntime(deps.runtime, cfg);
    this.#logger = deps.logger ?? silentLogger;
  }

  /** The options in force, as a frozen copy. */
  get config(): Readonly<ConfigValues> {
    return Object.freeze({ ...this.#config });
  }

  /** Connects now (publishing connects on demand anyway). */
  async connect(): Promise<void> {
    await this.#ensureConnected();
  }

  /** Connects if needed; a way to check the nsqd is reachable (go-nsq's Ping). */
  ping(): Promise<void> {
    return this.connect();
  }

  /** D-TCP-PUB; resolves on `OK`, rejects with NsqError or a connection error. */
  publish(topic: string, body: Body): Promise<void> {
    this.#checkTopic(topic);
    return this.#send(encodePub(topic, bytesOf(body)));
  }

  /** D-TCP-MPUB: all bodies in one command. */
  multiPublish(topic: string, bodies: readonly Body[]): Promise<void> {
    this.#checkTopic(topic);
    if (bodies.length === 0) return Promise.reject(new RangeError("multiPublish needs at least one body"));
    return this.#send(encodeMpub(topic, bodies.map(bytesOf)));
  }

  /** D-TCP-DPUB: delivered after `delayMs`. */
  deferredPublish(topic: string, delayMs: number, body: Body): Promise<void> {
    this.#checkTopic(topic);
    return this.#send(encodeDpub(topic, delayMs, bytesOf(body)));
  }

  /** Closes the connection; pending publishes fail. Further publishes are refused. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const conn = this.#conn ?? (await this.#connecting?.catch(() => null)) ?? null;
    conn?.close();
    this.#failAll(new Error("producer stopped"));
  }

  #checkTopic(topic: string): void {
    if (!isValidTopicName(topic)) throw new TypeError(`invalid topic name ${JSON.stringify(topic)}`);
  }

  async #send(command: Uint8Array): Promise<void> {
    if (this.#stopped) throw new Error("producer stopped");
    const conn = await this.#ensureConnected();
    return new Promise<void>((resolve, reject) => {
      this.#transactions.push({ resolve, reject });
      if (!conn.write(command)) {
        this.#transactions.pop();
        reject(new Error(`not connected to nsqd ${this.address}`));
      }
    });
  }

  #ensureConnected(): Promise<Connection> {
    if (this.#conn !== null && !this.#conn.closed) return Promise.resolve(this.#conn);
    if (this.#connecting !== null) return this.#connecting;
    this.#logger.info(`(${this.address}) connecting to nsqd`);
    this.#connecting = this.#open().then(
      (conn) => {
        this.#connecting = null;
        this.#conn = conn;
        return conn;
      },
      (e: Error) => {
        this.#connecting = null;
        throw new Error(`failed to connect to nsqd ${this.address} - ${e.message}`);
      },
    );
    return this.#connecting;
  }

  async #open(): Promise<Connection> {
    const runtime = await this.#runtime.get();
    const conn = new Connection(this.address, { runtime, logger: this.#logger, config: this.#config, delegate: this.#delegate });
    await conn.connect();
    return conn;
  }

  #shift(): Transaction | undefined {
    if (this.#head >= this.#transactions.length) return undefined;
    const t = this.#transactions[this.#head];
    this.#transactions[this.#head++] = undefined as unknown as Transaction;
    if (this.#head === this.#transactions.length) {
      this.#transactions = [];
      this.#head = 0;
    }
    return t;
  }

  #failAll(error: Error): void {
    for (let t = this.#shift(); t !== undefined; t = this.#shift()) t.reject(error);
  }

  // ConnectionDelegate

  #onMessage(conn: Connection): void {
    this.#logger.error(`(${conn.address}) unexpected message frame on a producer connection`);
  }

  #onResponse(_conn: Connection, data: Uint8Array): void {
    const t = this.#shift();
    if (t === undefined) {
      this.#logger.warn(`(${this.address}) unexpected response ${JSON.stringify(decodeUtf8(data))}`);
      return;
    }
    t.resolve();
  }

  #onError(conn: Connection, error: NsqError): void {
    this.#logger.error(`(${this.address}) protocol error - ${error.message}`);
    this.#shift()?.reject(error);
    if (error.fatal) conn.close();
  }

  #onClose(conn: Connection, error?: Error): void {
    if (this.#conn === conn) this.#conn = null;
    if (!this.#stopped) this.#logger.info(`(${this.address}) connection closed${error ? ` - ${error.message}` : ""}`);
    this.#failAll(new Error(`connection to nsqd ${this.address} closed${error ? ` - ${error.message}` : ""}`));
  }
}
