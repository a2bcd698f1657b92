// The nsqd daemon: owns the topics, the listeners, the metadata file, the
// queue scanner and the data-directory lock (SPEC §2-§5).
import type { Address, DirectoryLock, HttpClient, HttpServer, Runtime, TcpListener, TlsServerOptions } from "../runtime/types.ts";
import { createAuthHttpClient } from "./auth.ts";
import type { LogLevel, Logger } from "../common/log.ts";
import type { LevelledLogger } from "../common/logger.ts";
import { normaliseNsqdOptions, type NsqdOptions } from "./options.ts";
import { Topic, type TopicHost } from "./topic.ts";
import type { EphemeralChannel } from "./backend.ts";
import type { Channel } from "./channel.ts";
import { ClientV2, type ClientHost } from "./client-v2.ts";
import { Committer } from "./commit.ts";
import { FlushTicker } from "./flush-ticker.ts";
import { BusyPoll } from "./busy-poll.ts";
import { MessageStore } from "./message-store.ts";
import { IdGenerator } from "./message.ts";
import { LatencyStream } from "./quantile.ts";
import { readMetadata, writeMetadata, type Metadata } from "./metadata.ts";
import { isValidTopicName, isValidChannelName } from "../protocol/names.ts";
import { MESSAGE_HEADER_SIZE } from "../protocol/frames.ts";
import { VERSION } from "../common/version.ts";
import { createHttpHandler, type NsqdHttpHost } from "./http.ts";
import { buildTlsOptions } from "./tls-config.ts";
import { StatsdPusher, type StatsdHost } from "./statsd.ts";
import { LookupPeers } from "./lookup-peer.ts";
import { formatAddress, parseListenAddress } from "../common/address.ts";
import { errorText } from "../common/errors.ts";

export interface NsqdDeps {
  runtime: Runtime;
  logger: Logger;
}

const QUEUE_SCAN_INTERVAL = 100;

export class Nsqd implements TopicHost, ClientHost, NsqdHttpHost, StatsdHost {
  readonly #options: NsqdOptions;
  readonly runtime: Runtime;
  readonly logger: Logger;
  readonly topics = new Map<string, Topic>();
  readonly clients = new Set<ClientV2>();
  readonly startTime = Math.floor(Date.now() / 1000);
  /** Makes the ids of published messages (D-TCP-MSGID). */
  readonly ids: IdGenerator;
  #nextClientId = 0;
  #tcp: TcpListener | null = null;
  #http: HttpServer | null = null;
  #https: HttpServer | null = null;
  #statsd: StatsdPusher | null = null;
  /** D-BEH-TLS: the server side of TLS (TCP upgrade and HTTPS), null when no cert/key is set. */
  readonly tlsOptions: TlsServerOptions | null;
  /** D-BEH-AUTH: the client for auth servers (--tls-root-ca-file for HTTPS), null when auth is off. */
  readonly authHttpClient: HttpClient | null;
  #lock: DirectoryLock | null = null;
  #scanTimer: ReturnType<typeof setInterval> | null = null;
  #healthError: string | null = null;
  #loading = false;
  #closing = false;
  #dataPath: string;
  #lookup: LookupPeers | null = null;
  /** When disk writes happen and publishes may be answered (commit.ts). */
  readonly committer: Committer;
  /** Flushes the connections' output buffers every --output-buffer-timeout (flush-ticker.ts). */
  readonly flushTicker = new FlushTicker();
  /** Polls the sockets for a moment after activity instead of sleeping at once (busy-poll.ts). */
  readonly busyPoll: BusyPoll;

  /**
   * Checks and completes the options as the original's nsqd.New does
   * (./options.ts) and reads the TLS files; throws what it refuses, before
   * anything is opened.
   */
  constructor(options: NsqdOptions, deps: NsqdDeps) {
    options = normaliseNsqdOptions(options);
    this.#options = options;
    this.runtime = deps.runtime;
    this.logger = deps.logger;
    this.tlsOptions = buildTlsOptions(options, deps.runtime.fs);
    this.authHttpClient = options.auth_http_addresses.length > 0 ? createAuthHttpClient(deps.runtime, options) : null;
    this.ids = new IdGenerator(options.id);
    this.busyPoll = new BusyPoll(deps.runtime.immediatePollsIo ? undefined : 0);
    this.#dataPath = options.data_path === "" ? deps.runtime.cwd() : options.data_path;
    this.committer = new Committer({
      fsyncBeforeAck: options.sync_every === 1 || options.sync_every === 0,
      syncTimeoutMs: options.sync_timeout,
      logger: deps.logger,
      onHealth: (error) => {
        this.#healthError = error;
      },
      // While unhealthy with nothing to retry, a metadata write tells whether the disk takes writes again.
      probe: () => {
        try {
          this.persistMetadata();
          return null;
        } catch (e) {
          return e as Error;
        }
      },
    });
  }

  /** The options in force; PUT /config changes them through the setters below. */
  get options(): Readonly<NsqdOptions> {
    return this.#options;
  }

  /** PUT /config/nsqlookupd_tcp_addresses: removed peers are closed, new ones connected (D-BEH-LOOKUP-RECONFIG). */
  setLookupdTcpAddresses(addresses: readonly string[]): void {
    this.#options.nsqlookupd_tcp_addresses = [...addresses];
    this.#lookup?.setAddresses(this.#options.nsqlookupd_tcp_addresses);
  }

  /** PUT /config/log_level: the option, and the logger's level when it can change at run time (the CLI's can). */
  setLogLevel(level: LogLevel): void {
    this.#options.log_level = level;
    const l = this.logger as Partial<LevelledLogger>;
    if (typeof l.setLevel === "function") l.setLevel(level);
  }

  get dataPath(): string {
    return this.#dataPath;
  }

  /** Bound TCP address once started. */
  get tcpAddress(): Address | null {
    return this.#tcp?.address ?? null;
  }

  /** Bound HTTP address once started (null when disabled). */
  get httpAddress(): Address | null {
    return this.#http?.address ?? null;
  }

  /** Actual TCP port (-1 on a Unix socket), for /info. */
  get tcpPort(): number {
    const a = this.tcpAddress;
    return a !== null && "port" in a ? a.port : -1;
  }

  get httpPort(): number {
    const a = this.httpAddress;
    return a !== null && "port" in a ? a.port : -1;
  }

  /** Bound HTTPS address once started (null when TLS or HTTPS is off). */
  get httpsAddress(): Address | null {
    return this.#https?.address ?? null;
  }

  /** Actual HTTPS port, 0 when there is no HTTPS listener (D-HTTP-TLS-REQUIRED). */
  get httpsPort(): number {
    const a = this.httpsAddress;
    return a !== null && "port" in a ? a.port : 0;
  }

  /** D-TCP-AUTH: any --auth-http-address turns authorization on. */
  get authEnabled(): boolean {
    return this.options.auth_http_addresses.length > 0;
  }

  get broadcastTcpPort(): number {
    return this.options.broadcast_tcp_port || this.tcpPort;
  }

  get broadcastHttpPort(): number {
    return this.options.broadcast_http_port || this.httpPort;
  }

  // ---- lifecycle (D-BEH-STARTUP, D-BEH-SHUTDOWN) ---------------------------

  async start(): Promise<void> {
    const o = this.options;
    const fs = this.runtime.fs;
    fs.mkdir(this.#dataPath);
    try {
      this.#lock = fs.lockDirectory(this.#dataPath);
    } catch (e) {
      throw new Error(`failed to lock data-path: ${errorText(e)}`);
    }
    try {
      this.#tcp = await this.runtime.listen(
        parseListenAddress(o.tcp_address),
        (socket) => {
          const client = new ClientV2(++this.#nextClientId, this, socket);
          this.clients.add(client);
          return client;
        },
        { allowTlsUpgrade: o.tls_cert !== "" && o.tls_key !== "" },
      );
      this.logger.info(`TCP: listening on ${formatAddress(this.#tcp.address)}`);
      if (o.http_address !== "") {
        this.#http = await this.runtime.serveHttp(parseListenAddress(o.http_address), createHttpHandler(this, { httpsPort: () => this.httpsPort }));
        this.logger.info(`HTTP: listening on ${formatAddress(this.#http.address)}`);
      }
      if (this.tlsOptions !== null && o.https_address !== "") {
        this.#https = await this.runtime.serveHttp(
          parseListenAddress(o.https_address),
          createHttpHandler(this, { tls: true, httpsPort: () => this.httpsPort }),
          { tls: this.tlsOptions },
        );
        this.logger.info(`HTTPS: listening on ${formatAddress(this.#https.address)}`);
      }
      this.#loadMetadata();
      this.persistMetadata();
    } catch (e) {
      await this.#releaseListeners();
      this.#lock?.release();
      this.#lock = null;
      throw e;
    }
    this.#scanTimer = setInterval(this.#scan, QUEUE_SCAN_INTERVAL);
    this.committer.start();
    this.#startLookup();
    if (o.statsd_address !== "") {
      this.#statsd = new StatsdPusher(this);
      this.#statsd.start();
    }
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.logger.info("NSQ: closing");
    await this.#tcp?.close();
    this.#tcp = null;
    // Publishes whose disk writes are under way get their answers first.
    await this.committer.drain();
    for (const client of [...this.clients]) client.shutdown();
    await this.#http?.close();
    this.#http = null;
    await this.#https?.close();
    this.#https = null;
    this.#statsd?.stop();
    this.#statsd = null;
    try {
      this.persistMetadata();
    } catch (e) {
      this.logger.error(`failed to persist metadata - ${errorText(e)}`);
    }
    // Whatever the last turn buffered is written before the queues close.
    this.committer.close();
    let lost = 0;
    for (const topic of this.topics.values()) {
      try {
        lost += topic.close(false);
      } catch (e) {
        this.logger.error(`failed to close topic ${topic.name} - ${errorText(e)}`);
      }
    }
    if (lost > 0) this.logger.error(`${lost} messages could not be written to disk at shutdown and are lost`);
    if (this.#scanTimer !== null) clearInterval(this.#scanTimer);
    this.#scanTimer = null;
    this.flushTicker.stop();
    this.busyPoll.stop();
    await this.#lookup?.close();
    this.#lookup = null;
    this.#lock?.release();
    this.#lock = null;
    this.authHttpClient?.close();
  }

  async #releaseListeners(): Promise<void> {
    await this.#tcp?.close().catch(() => {});
    await this.#http?.close().catch(() => {});
    await this.#https?.close().catch(() => {});
    this.#tcp = null;
    this.#http = null;
    this.#https = null;
  }

  get isExiting(): boolean {
    return this.#closing;
  }

  // ---- metadata (D-BEH-METADATA) ------------------------------------------

  #loadMetadata(): void {
    const metadata = readMetadata(this.runtime.fs, this.#dataPath) ?? { topics: [], version: VERSION };
    this.#loading = true;
    try {
      for (const t of [...metadata.topics, ...this.#unlistedQueues(metadata)]) {
        if (!isValidTopicName(t.name)) {
          this.logger.warn(`skipping creation of invalid topic ${t.name}`);
          continue;
        }
        const topic = this.getTopic(t.name);
        if (t.paused) topic.pause();
        for (const c of t.channels) {
          if (!isValidChannelName(c.name)) {
            this.logger.warn(`skipping creation of invalid channel ${c.name}`);
            continue;
          }
          topic.loadChannel(c.name, c.paused);
        }
      }
    } finally {
      this.#loading = false;
    }
    for (const topic of this.topics.values()) topic.pump();
  }

  /**
   * Topics and channels whose queue files are in the data directory but that
   * nsqd.dat does not list: their creation could not be saved (a full disk)
   * before the process ended. Their messages were acknowledged, so they are
   * loaded too (the original would leave them unread). Deleting a topic or
   * channel removes its files, so nothing deleted comes back.
   */
  #unlistedQueues(metadata: Metadata): Metadata["topics"] {
    let names: string[];
    try {
      names = this.runtime.fs.list(this.#dataPath);
    } catch {
      return [];
    }
    const listed = new Map<string, Set<string>>();
    for (const t of metadata.topics) listed.set(t.name, new Set(t.channels.map((c) => c.name)));
    const found = new Map<string, Set<string>>();
    for (const n of names) {
      const m = /^([^:]+?)(?::(.+?))?\.diskqueue\.(?:\d{6}|meta|deferred)\.dat$/.exec(n);
      if (m === null) continue;
      const topic = m[1]!;
      const channel = m[2];
      if (!isValidTopicName(topic) || (channel !== undefined && !isValidChannelName(channel))) continue;
      if (!found.has(topic)) found.set(topic, new Set());
      if (channel !== undefined) found.get(topic)!.add(channel);
    }
    const out: Metadata["topics"] = [];
    for (const [topic, channels] of found) {
      const known = listed.get(topic);
      const missing = [...channels].filter((c) => !known?.has(c));
      if (known !== undefined && missing.length === 0) continue;
      if (known === undefined) this.logger.warn(`TOPIC(${topic}): queue files found but not in the metadata, loading it`);
      for (const c of missing) this.logger.warn(`TOPIC(${topic}): channel(${c}) queue files found but not in the metadata, loading it`);
      out.push({ name: topic, paused: false, channels: missing.map((name) => ({ name, paused: false })) });
    }
    return out;
  }

  persistMetadata(): void {
    const metadata: Metadata = { topics: [], version: VERSION };
    for (const topic of this.topics.values()) {
      if (topic.ephemeral) continue;
      metadata.topics.push({
        name: topic.name,
        paused: topic.paused,
        channels: [...topic.channels.values()].filter((c) => !c.ephemeral).map((c) => ({ name: c.name, paused: c.paused })),
      });
    }
    writeMetadata(this.runtime.fs, this.#dataPath, metadata);
  }

  // ---- topics --------------------------------------------------------------

  /** The topic, created if missing (D-BEH-AUTOCREATE). */
  getTopic(name: string): Topic {
    let topic = this.topics.get(name);
    if (topic !== undefined) return topic;
    topic = new Topic(name, this);
    this.topics.set(name, topic);
    this.logger.info(`TOPIC(${name}): created`);
    if (!this.#loading && !topic.ephemeral) this.#persistQuietly();
    this.#lookup?.register(name);
    if (!this.#loading && this.#lookup !== null && this.#lookup.peers.length > 0) {
      topic.hold();
      void this.#precreateChannels(topic).finally(() => topic.release());
    }
    return topic;
  }

  getExistingTopic(name: string): Topic | undefined {
    return this.topics.get(name);
  }

  /** D-BEH-DELETE; false when there is no such topic. */
  deleteTopic(name: string): boolean {
    const topic = this.topics.get(name);
    if (topic === undefined) return false;
    topic.exiting = true;
    this.topics.delete(name);
    this.logger.info(`TOPIC(${name}): deleting`);
    this.#lookup?.unregister(name);
    topic.close(true);
    this.#persistQuietly();
    return true;
  }

  /** SUB: join a channel, creating topic and channel as needed. Returns the channel or the failure text. */
  subscribe(client: ClientV2, topicName: string, channelName: string): Channel | string {
    if (this.#closing) return "exiting";
    const topic = this.getTopic(topicName);
    if (topic.exiting) return "to deleted topic/channel";
    const channel = topic.getChannel(channelName);
    if (channel.exiting) return "to deleted topic/channel";
    const error = channel.addConsumer(client);
    return error ?? channel;
  }

  removeClient(client: ClientV2): void {
    this.clients.delete(client);
  }

  #persistQuietly(): void {
    try {
      this.persistMetadata();
    } catch (e) {
      this.logger.error(`failed to persist metadata - ${errorText(e)}`);
    }
  }

  // ---- TopicHost -----------------------------------------------------------

  openStore(name: string, ephemeral: boolean): MessageStore {
    const o = this.options;
    if (ephemeral) return new MessageStore(null, o.mem_queue_size, this.committer, this.logger);
    return new MessageStore(
      {
        name,
        dataPath: this.#dataPath,
        maxBytesPerFile: o.max_bytes_per_file,
        minMsgSize: MESSAGE_HEADER_SIZE,
        maxMsgSize: o.max_msg_size + MESSAGE_HEADER_SIZE,
        syncEvery: o.sync_every,
        fs: this.runtime.fs,
        logger: this.logger,
      },
      o.mem_queue_size,
      this.committer,
      this.logger,
    );
  }

  newLatencyStream(): LatencyStream | null {
    const p = this.options.e2e_processing_latency_percentiles;
    if (p.length === 0) return null;
    return new LatencyStream(p, this.options.e2e_processing_latency_window_time);
  }

  channelCreated(topic: Topic, channel: Channel): void {
    this.logger.info(`TOPIC(${topic.name}): new channel(${channel.name})`);
    if (!this.#loading && !channel.ephemeral) this.#persistQuietly();
    this.#lookup?.register(topic.name, channel.name);
  }

  channelDeleted(topic: Topic, channel: Channel): void {
    this.logger.info(`TOPIC(${topic.name}): deleted channel(${channel.name})`);
    if (!channel.ephemeral && !topic.exiting) this.#persistQuietly();
    this.#lookup?.unregister(topic.name, channel.name);
  }

  deleteEphemeralChannel(channel: EphemeralChannel): void {
    const topic = this.topics.get(channel.topicName);
    if (topic === undefined || topic.channels.get(channel.name) !== channel) return;
    topic.deleteChannel(channel.name);
    // D-BEH-EPHEMERAL: an ephemeral topic goes with its last channel.
    if (topic.ephemeral && topic.channels.size === 0) this.deleteTopic(topic.name);
  }

  // ---- lookupd peers (D-BEH-LOOKUP-*, D-BEH-PRECREATE; see ./lookup-peer.ts) ----

  /** The lookupd peers once started (PUT /config/nsqlookupd_tcp_addresses calls setAddresses). */
  get lookupPeers(): LookupPeers | null {
    return this.#lookup;
  }

  #startLookup(): void {
    const o = this.options;
    this.#lookup = new LookupPeers(o.nsqlookupd_tcp_addresses, {
      runtime: this.runtime,
      logger: this.logger,
      info: () => ({
        version: VERSION,
        tcp_port: this.broadcastTcpPort,
        http_port: this.broadcastHttpPort,
        hostname: this.runtime.hostname(),
        broadcast_address: o.broadcast_address || this.runtime.hostname(),
        topology_zone: o.topology_zone,
        topology_region: o.topology_region,
      }),
      registrations: () => {
        const out: Array<[string, string | null]> = [];
        for (const t of this.topics.values()) {
          if (t.channels.size === 0) out.push([t.name, null]);
          else for (const c of t.channels.keys()) out.push([t.name, c]);
        }
        return out;
      },
      maxBodySize: o.max_body_size,
      httpRequestTimeoutMs: o.http_client_request_timeout,
    });
    this.#lookup.start();
  }

  /**
   * D-BEH-PRECREATE for a topic created at run time: create the channels the
   * lookupds know before the topic delivers anything. The topic is held
   * meanwhile (the caller releases it), so messages published and channels
   * subscribed in the meantime wait, and every channel gets the first messages.
   */
  async #precreateChannels(topic: Topic): Promise<void> {
    const names = await this.#lookup!.channelsFor(topic.name);
    if (topic.exiting || this.topics.get(topic.name) !== topic) return;
    for (const name of names) if (!topic.channels.has(name)) this.channelCreated(topic, topic.loadChannel(name, false));
  }

  // ---- health (D-BEH-HEALTH) -----------------------------------------------

  get healthy(): boolean {
    return this.#healthError === null;
  }

  /** "OK" or "NOK - <error>". */
  get health(): string {
    return this.#healthError === null ? "OK" : `NOK - ${this.#healthError}`;
  }

  // ---- queue scan (D-BEH-QUEUESCAN) ----------------------------------------

  readonly #scan = (): void => {
    const now = Date.now();
    for (const topic of this.topics.values()) {
      for (const channel of topic.channels.values()) channel.processTimers(now);
    }
  };
}
