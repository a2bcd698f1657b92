// One TCP connection speaking protocol V2 (SPEC §2): parses commands with
// CommandReader, executes them against the daemon, and writes frames through
// an output buffer flushed on size, on output_buffer_timeout, or when the
// client stops being ready (D-TCP-OUTBUF). Responses and errors flush at once.
import type { ByteTransform, Socket, SocketHandler, TlsInfo } from "../runtime/types.ts";
import {
  CommandReader,
  checkIdCommand,
  parseRdyCount,
  parseSubParams,
  protocolError,
  protocolErrorEcho,
  reqTimeoutMs,
  stateError,
  tlsRequiredError,
  type Command,
  type CommandGate,
  type ErrorCommand,
} from "../protocol/command-reader.ts";
import { CLOSE_WAIT_FRAME, HEARTBEAT_FRAME, OK_FRAME, encodeError, encodeResponse, messageFrameSize } from "../protocol/frames.ts";
import { concatBytes, decodeUtf8, goQuote } from "../protocol/text.ts";
import type { Channel, Consumer } from "./channel.ts";
import { writeFrameOf, type Message } from "./message.ts";
import type { Logger } from "../common/log.ts";
import type { HttpClient, Runtime, TlsServerOptions } from "../runtime/types.ts";
import type { Committer } from "./commit.ts";
import type { FlushTicker } from "./flush-ticker.ts";
import type { BusyPoll } from "./busy-poll.ts";
import type { NsqdOptions } from "./options.ts";
import type { Topic } from "./topic.ts";
import { VERSION } from "../common/version.ts";
import { queryAnyAuthd, type AuthState } from "./auth.ts";
import { deflateTransport, snappyTransport, type CompressedTransport } from "./compress.ts";
import type { AckListener, Generation } from "./commit.ts";
import type { Flushable } from "./flush-ticker.ts";

/**
 * Answers held back until the disk writes of their publishes settle
 * (commit.ts): `count` OKs of `verb` belong at byte `at` of the output buffer.
 */
interface HeldAck {
  gen: Generation;
  at: number;
  count: number;
  verb: "PUB" | "MPUB" | "DPUB";
}

/** Past this many held answers the connection stops reading until they settle. */
const MAX_HELD_ACKS = 4096;

/** D-TCP-STATE. */
export const ClientState = { Init: 0, Subscribed: 3, Closing: 4 } as const;

const DEFAULT_OUTPUT_BUFFER_SIZE = 16 * 1024;
/** The original's client timeout; the default heartbeat is half of it (D-FLAG-INTERNAL). */
const CLIENT_TIMEOUT = 60_000;
/** D-TCP-NEGOTIATE: the TLS handshake must finish within this. */
const TLS_HANDSHAKE_TIMEOUT = 5_000;

/** What a connection needs from its daemon (Nsqd implements it; a test can pass a fake). */
export interface ClientHost {
  readonly options: Readonly<NsqdOptions>;
  readonly logger: Logger;
  readonly runtime: Pick<Runtime, "compression">;
  readonly committer: Committer;
  /** Flushes output buffers every output_buffer_timeout (flush-ticker.ts). */
  readonly flushTicker: FlushTicker;
  /** Keeps the event loop polling for a moment after network activity (busy-poll.ts). */
  readonly busyPoll: BusyPoll;
  /** D-TCP-AUTH: any --auth-http-address turns authorization on. */
  readonly authEnabled: boolean;
  readonly authHttpClient: HttpClient | null;
  readonly tlsOptions: TlsServerOptions | null;
  /** The topic, created if missing (D-BEH-AUTOCREATE). */
  getTopic(name: string): Topic;
  /** SUB: the channel joined, or the failure text. */
  subscribe(client: ClientV2, topic: string, channel: string): Channel | string;
  removeClient(client: ClientV2): void;
}

export class ClientV2 implements SocketHandler, Consumer, AckListener, Flushable {
  readonly id: number;
  readonly #nsqd: ClientHost;
  readonly #socket: Socket;
  readonly #reader: CommandReader;

  state: number = ClientState.Init;
  clientId: string;
  hostname: string;
  userAgent = "";
  topologyRegion = "";
  topologyZone = "";
  readonly connectTs = Math.floor(Date.now() / 1000);
  readonly remoteAddress: string;

  heartbeatInterval = CLIENT_TIMEOUT / 2;
  msgTimeout: number;
  sampleRate = 0;
  outputBufferSize = DEFAULT_OUTPUT_BUFFER_SIZE;
  outputBufferTimeout: number;
  deflate = false;
  snappy = false;
  deflateLevel = 0;

  /** D-TCP-AUTH: the last valid auth reply (null before AUTH). */
  authState: AuthState | null = null;

  readyCount = 0;
  inFlightCount = 0;
  messageCount = 0;
  finishCount = 0;
  requeueCount = 0;
  readonly pubCounts = new Map<string, number>();
  channel: Channel | null = null;

  #identified = false;
  #batching = false;
  #pendingResponse = false;
  #closed = false;
  #writable = true;
  #lastRead = Date.now();
  #heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  /** Waiting for the next tick of the shared output-buffer ticker (flush-ticker.ts). */
  #tickQueued = false;
  #out: Uint8Array = new Uint8Array(0);
  #outLength = 0;
  /** Commands wait while an auth query or the TLS handshake is under way (the original blocks its read loop). */
  #suspended = false;
  /** TLS handshake under way: nothing may be written. */
  #negotiating = false;
  /** Compression of what is written / read, once negotiated (D-TCP-NEGOTIATE). */
  #encoder: ByteTransform | null = null;
  #decoder: ByteTransform | null = null;
  #authSecret = "";
  /** Publish answers waiting for their disk writes, in order; output from the first one on is held. */
  readonly #held: HeldAck[] = [];
  #heldCount = 0;
  /** Reading stopped until the held answers settle (too many, or a fatal error is queued behind them). */
  #heldPaused = false;
  /** A fatal error was queued behind held answers: close once they are written. */
  #endAfterHeld = false;

  constructor(id: number, nsqd: ClientHost, socket: Socket) {
    this.id = id;
    this.#nsqd = nsqd;
    this.#socket = socket;
    const o = nsqd.options;
    this.#reader = new CommandReader({
      maxMsgSize: o.max_msg_size,
      maxBodySize: o.max_body_size,
      maxReqTimeout: o.max_req_timeout,
      reuseFin: true,
      // D-TCP-TLS-POLICY runs before a command's body is read, as in the original.
      gate: { admit: o.tls_required !== "false" ? this.#tlsGate.admit : undefined, mpubTopic: (topic) => this.#mpubTopic(topic) },
    });
    this.remoteAddress = socket.remotePort === 0 && socket.remoteAddress === "" ? "" : `${socket.remoteAddress}:${socket.remotePort}`;
    this.clientId = socket.remoteAddress;
    this.hostname = socket.remoteAddress;
    this.msgTimeout = o.msg_timeout;
    this.outputBufferTimeout = o.output_buffer_timeout;
    this.#startHeartbeat();
  }

  // ---- socket events -------------------------------------------------------

  data(chunk: Uint8Array): void {
    if (this.#closed) return;
    this.#lastRead = Date.now();
    this.#nsqd.busyPoll.activity();
    if (this.#decoder !== null) {
      try {
        chunk = this.#decoder.push(chunk, true);
      } catch (e) {
        this.#nsqd.logger.error(`[${this.remoteAddress || "unix"}] - failed to decompress - ${(e as Error).message}`);
        this.#socket.close();
        this.close();
        return;
      }
      if (chunk.length === 0) return;
    }
    this.#reader.push(chunk);
    if (!this.#suspended) this.#run(null);
  }

  /**
   * Execute `first` (if any), then the commands waiting in the reader, until
   * none is complete or one suspends the connection. Responses to the commands
   * of one chunk leave in one write: a pipelining publisher gets its OKs
   * together, in order, as soon as the chunk is done.
   */
  #run(first: (() => void) | null): void {
    this.#batching = true;
    try {
      if (first !== null) {
        first();
        if (this.#closed) return;
      }
      while (!this.#suspended) {
        const cmd = this.#reader.next();
        if (cmd === null) break;
        this.#execute(cmd);
        if (this.#closed) return;
        if (this.#heldCount >= MAX_HELD_ACKS && !this.#heldPaused) {
          // A publisher that does not wait for answers: stop reading until the disk caught up.
          this.#heldPaused = true;
          this.#suspend();
        }
      }
    } finally {
      this.#batching = false;
    }
    if (this.#pendingResponse) {
      this.#pendingResponse = false;
      this.#flush();
    }
  }

  /** Stop executing commands until #resume (bytes keep collecting in the reader). */
  #suspend(): void {
    this.#suspended = true;
    this.#socket.pause();
  }

  #resume(first: (() => void) | null): void {
    if (this.#closed) return;
    this.#suspended = false;
    if (this.#writable) this.#socket.resume();
    this.#run(first);
  }

  /**
   * EOF from the client. A command cut short gets the original's "failed to
   * read ..." error before the connection closes (D-TCP-ERR-FATAL).
   */
  end(): void {
    if (this.#closed || this.#suspended) return;
    const error = this.#reader.end();
    if (error !== null) this.#fail(error);
  }

  drain(): void {
    if (this.#closed) return;
    this.#writable = true;
    if (!this.#suspended) this.#socket.resume();
    this.channel?.readyChanged(this);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopTimers();
    // D-TCP-DISCONNECT: in-flight messages stay in flight until they time out.
    this.channel?.removeConsumer(this);
    this.#nsqd.removeClient(this);
  }

  /** Server-initiated close (shutdown, channel deleted). */
  shutdown(): void {
    if (this.#closed) return;
    this.#flush();
    this.#socket.end();
    this.close();
  }

  // ---- Consumer ------------------------------------------------------------

  isReady(): boolean {
    return this.state === ClientState.Subscribed && this.#writable && this.readyCount > 0 && this.inFlightCount < this.readyCount;
  }

  deliver(message: Message): void {
    this.inFlightCount++;
    this.messageCount++;
    const size = messageFrameSize(message.body.length);
    this.#reserve(size);
    this.#outLength += writeFrameOf(this.#out, this.#outLength, message);
    if (this.#outLength >= this.outputBufferSize) {
      this.#flush();
    } else if (!this.isReady() || this.outputBufferTimeout <= 0) {
      // Not ready any more: flush now, or, while this connection's own commands
      // are being handled (FINs freeing RDY slots), once the whole chunk is
      // done, so a burst of FINs gets its replacement messages in one write.
      if (this.#batching) this.#pendingResponse = true;
      else this.#flush();
    } else if (!this.#tickQueued) {
      // Buffered: out at the next tick of this timeout's ticker at the latest.
      this.#tickQueued = true;
      this.#nsqd.flushTicker.add(this, this.outputBufferTimeout);
    }
  }

  /** The output-buffer ticker (D-TCP-OUTBUF). */
  tick(): void {
    this.#tickQueued = false;
    this.#flush();
  }

  inFlightRemoved(count: number): void {
    this.inFlightCount = Math.max(0, this.inFlightCount - count);
  }

  channelGone(): void {
    this.shutdown();
  }

  // ---- output --------------------------------------------------------------

  #reserve(size: number): void {
    if (this.#out.length - this.#outLength >= size) return;
    if (this.#outLength > 0) this.#flush();
    if (this.#out.length - this.#outLength >= size) return;
    // Held bytes (behind an answer waiting for the disk) stay: grow around them.
    const next = new Uint8Array(Math.max(this.#outLength + size, this.#out.length * 2, this.outputBufferSize, 4096));
    next.set(this.#out.subarray(0, this.#outLength));
    this.#out = next;
  }

  /** Write out buffered frames: one socket write per flush. */
  #flush(): void {
    if (this.#outLength === 0 || this.#closed) return;
    if (this.#held.length > 0) {
      // Only what precedes the first held answer may go.
      this.#writeUpTo(this.#held[0]!.at, null);
      return;
    }
    if (this.#encoder !== null) {
      // The encoder consumes the bytes before returning: the buffer is free again.
      const bytes = this.#encoder.push(this.#out.subarray(0, this.#outLength), true);
      this.#outLength = 0;
      this.#write(bytes);
      return;
    }
    const out = this.#out;
    const n = this.#outLength;
    this.#outLength = 0;
    this.#write(out.subarray(0, n));
    // Bytes the socket still holds must stay as they are: go on after them, or in
    // a fresh buffer. Bytes that already reached the kernel free the buffer.
    if (this.#out === out && !(this.#socket.writeDone?.() ?? false)) {
      this.#out = out.length - n >= 4096 ? out.subarray(n) : new Uint8Array(Math.max(this.outputBufferSize, 4096));
    }
  }

  #write(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (!this.#socket.write(bytes)) {
      // Backed up: stop delivering and stop reading until the socket drains.
      this.#writable = false;
      this.#socket.pause();
      this.channel?.readyChanged(this);
    }
  }

  /**
   * Writes `extra` (answers being released) after the first `limit` buffered
   * bytes, in one socket write, and keeps the rest of the buffer at its start;
   * held answers' offsets move with it.
   */
  #writeUpTo(limit: number, extra: Uint8Array[] | null): void {
    const head = this.#out.subarray(0, limit);
    let bytes: Uint8Array;
    if (extra === null || extra.length === 0) bytes = head.slice();
    else bytes = concatBytes([head, ...extra]);
    const rest = this.#outLength - limit;
    if (rest > 0) this.#out.copyWithin(0, limit, this.#outLength);
    this.#outLength = rest;
    for (const h of this.#held) h.at -= limit;
    if (bytes.length > 0) this.#write(this.#encoder === null ? bytes : this.#encoder.push(bytes, true));
  }

  /**
   * A publish whose records went to disk: its OK waits for `gen` (commit.ts).
   * Output after it is held too, so answers keep their order.
   */
  #holdAck(gen: Generation, verb: HeldAck["verb"]): void {
    const held = this.#held;
    const last = held.length > 0 ? held[held.length - 1]! : null;
    this.#heldCount++;
    if (last !== null && last.gen === gen && last.at === this.#outLength && last.verb === verb) {
      last.count++;
      return;
    }
    held.push({ gen, at: this.#outLength, count: 1, verb });
    if (last === null || last.gen !== gen) gen.listen(this);
  }

  /** Writes the answers whose generation settled (OK, or the fatal E_*_FAILED), with the output between them. */
  ackSettled(_gen: Generation): void {
    if (this.#closed) return;
    const held = this.#held;
    const parts: Uint8Array[] = [];
    let from = 0;
    while (held.length > 0 && held[0]!.gen.settled) {
      const h = held.shift()!;
      this.#heldCount -= h.count;
      if (h.at > from) parts.push(this.#out.subarray(from, h.at));
      from = h.at;
      if (h.gen.failed !== null) {
        const error = protocolError(`E_${h.verb}_FAILED`, `${h.verb} failed ${h.gen.failed}`);
        this.#nsqd.logger.error(`[${this.remoteAddress || "unix"}] - ${error.message}`);
        parts.push(encodeError(error.message));
        const bytes = concatBytes(parts);
        this.#held.length = 0;
        this.#outLength = 0;
        this.#write(this.#encoder === null ? bytes : this.#encoder.push(bytes, true));
        this.#socket.end();
        this.close();
        return;
      }
      for (let i = 0; i < h.count; i++) parts.push(OK_FRAME);
    }
    // Shift the released part out: the first `from` bytes go with the answers.
    // The parts are views of the buffer: joined (one copy) before it moves.
    const tail = held.length > 0 ? held[0]!.at : this.#outLength;
    if (tail > from) parts.push(this.#out.subarray(from, tail));
    const bytes = parts.length > 0 ? concatBytes(parts) : null;
    const rest = this.#outLength - tail;
    if (rest > 0) this.#out.copyWithin(0, tail, this.#outLength);
    this.#outLength = rest;
    for (const h of held) h.at -= tail;
    if (bytes !== null) this.#write(this.#encoder === null ? bytes : this.#encoder.push(bytes, true));
    if (held.length === 0) {
      if (this.#endAfterHeld) {
        this.#flush();
        this.#socket.end();
        this.close();
        return;
      }
      if (this.#heldPaused) {
        this.#heldPaused = false;
        this.#resume(null);
      }
    }
  }

  #respond(frame: Uint8Array): void {
    if (this.#batching || this.#held.length > 0) {
      this.#reserve(frame.length);
      this.#out.set(frame, this.#outLength);
      this.#outLength += frame.length;
      this.#pendingResponse = true;
      return;
    }
    this.#flush();
    this.#write(this.#encoder === null ? frame : this.#encoder.push(frame, true));
  }

  #fail(error: ErrorCommand): void {
    this.#nsqd.logger.error(`[${this.remoteAddress || "unix"}] - ${error.message}`);
    this.#respond(encodeError(error.data ?? error.message));
    if (error.fatal) {
      if (this.#held.length > 0) {
        // The answers before it go first: close once they are settled.
        this.#endAfterHeld = true;
        this.#suspend();
        return;
      }
      this.#flush();
      this.#socket.end();
      this.close();
    }
  }

  // ---- heartbeats (D-TCP-HEARTBEAT) ---------------------------------------

  #startHeartbeat(): void {
    if (this.#heartbeatTimer !== null) clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = null;
    if (this.heartbeatInterval <= 0) return;
    this.#heartbeatTimer = setInterval(this.#onHeartbeat, this.heartbeatInterval);
  }

  readonly #onHeartbeat = (): void => {
    if (this.#closed || this.#negotiating) return;
    // The read deadline: nothing from the client for two intervals closes it.
    if (Date.now() - this.#lastRead >= 2 * this.heartbeatInterval) {
      this.#nsqd.logger.info(`PROTOCOL(V2): [${this.remoteAddress}] read timeout, closing`);
      this.#socket.close();
      this.close();
      return;
    }
    this.#respond(HEARTBEAT_FRAME);
  };

  #stopTimers(): void {
    if (this.#heartbeatTimer !== null) clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = null;
    if (this.#tickQueued) {
      this.#tickQueued = false;
      this.#nsqd.flushTicker.remove(this, this.outputBufferTimeout);
    }
  }

  // ---- commands ------------------------------------------------------------

  #execute(cmd: Command): void {
    switch (cmd.kind) {
      case "FIN": {
        if (this.state !== ClientState.Subscribed && this.state !== ClientState.Closing) return this.#fail(stateError("FIN"));
        const bad = checkIdCommand(cmd);
        if (bad) return this.#fail(bad);
        const reason = this.channel!.finish(this.id, cmd.id);
        if (reason !== null) return this.#fail(protocolErrorEcho("E_FIN_FAILED", ["FIN ", cmd.id, ` failed ${reason}`], false));
        this.finishCount++;
        this.inFlightCount--;
        this.channel!.readyChanged(this);
        return;
      }
      case "PUB": {
        if (!this.#checkAuth(cmd, "PUB", cmd.topic, "")) return;
        const topic = this.#nsqd.getTopic(cmd.topic);
        const committer = this.#nsqd.committer;
        try {
          topic.publish(cmd.body, 0, this.#decoder === null);
        } catch (e) {
          committer.endPublish();
          return this.#fail(protocolError("E_PUB_FAILED", `PUB failed ${(e as Error).message}`));
        }
        this.#countPub(cmd.topic, 1);
        const gen = committer.endPublish();
        if (gen !== null) return this.#holdAck(gen, "PUB");
        this.#respond(OK_FRAME);
        return;
      }
      case "RDY": {
        if (this.state === ClientState.Closing) return; // ignored silently
        if (this.state !== ClientState.Subscribed) return this.#fail(stateError("RDY"));
        const count = parseRdyCount(cmd.params, this.#nsqd.options.max_rdy_count);
        if (typeof count !== "number") return this.#fail(count);
        this.readyCount = count;
        this.channel!.readyChanged(this);
        if (!this.isReady()) this.#flush();
        return;
      }
      case "MPUB": {
        if (!this.#checkAuth(cmd, "MPUB", cmd.topic, "")) return;
        const topic = this.#nsqd.getTopic(cmd.topic);
        const committer = this.#nsqd.committer;
        try {
          topic.publishMany(cmd.bodies, this.#decoder === null);
        } catch (e) {
          committer.endPublish();
          return this.#fail(protocolError("E_MPUB_FAILED", `MPUB failed ${(e as Error).message}`));
        }
        this.#countPub(cmd.topic, cmd.bodies.length);
        const gen = committer.endPublish();
        if (gen !== null) return this.#holdAck(gen, "MPUB");
        this.#respond(OK_FRAME);
        return;
      }
      case "REQ": {
        if (this.state !== ClientState.Subscribed && this.state !== ClientState.Closing) return this.#fail(stateError("REQ"));
        const bad = checkIdCommand(cmd);
        if (bad) return this.#fail(bad);
        const timeout = reqTimeoutMs(cmd, this.#nsqd.options.max_req_timeout);
        const reason = this.channel!.requeue(this.id, cmd.id, timeout);
        if (reason !== null) return this.#fail(protocolErrorEcho("E_REQ_FAILED", ["REQ ", cmd.id, ` failed ${reason}`], false));
        this.requeueCount++;
        this.inFlightCount--;
        this.channel!.readyChanged(this);
        return;
      }
      case "TOUCH": {
        if (this.state !== ClientState.Subscribed && this.state !== ClientState.Closing) return this.#fail(stateError("TOUCH"));
        const bad = checkIdCommand(cmd);
        if (bad) return this.#fail(bad);
        const reason = this.channel!.touch(this.id, cmd.id, this.msgTimeout);
        if (reason !== null) return this.#fail(protocolErrorEcho("E_TOUCH_FAILED", ["TOUCH ", cmd.id, ` failed ${reason}`], false));
        return;
      }
      case "NOP":
        return;
      case "DPUB": {
        if (!this.#checkAuth(cmd, "DPUB", cmd.topic, "")) return;
        const topic = this.#nsqd.getTopic(cmd.topic);
        const committer = this.#nsqd.committer;
        try {
          topic.publish(cmd.body, cmd.deferMs, this.#decoder === null);
        } catch (e) {
          committer.endPublish();
          return this.#fail(protocolError("E_DPUB_FAILED", `DPUB failed ${(e as Error).message}`));
        }
        this.#countPub(cmd.topic, 1);
        const gen = committer.endPublish();
        if (gen !== null) return this.#holdAck(gen, "DPUB");
        this.#respond(OK_FRAME);
        return;
      }
      case "SUB":
        return this.#sub(cmd);
      case "CLS":
        if (this.state !== ClientState.Subscribed) return this.#fail(stateError("CLS"));
        this.readyCount = 0;
        this.state = ClientState.Closing;
        this.channel?.readyChanged(this);
        this.#respond(CLOSE_WAIT_FRAME);
        return;
      case "IDENTIFY":
        return this.#identify(cmd.body);
      case "AUTH":
        return this.#auth(cmd.body);
      case "ERROR":
        return this.#fail(cmd);
      case "DROP":
        this.#socket.close();
        this.close();
        return;
    }
  }

  #countPub(topic: string, n: number): void {
    this.pubCounts.set(topic, (this.pubCounts.get(topic) ?? 0) + n);
  }

  #sub(cmd: Command & { kind: "SUB" }): void {
    if (this.state !== ClientState.Init) return this.#fail(stateError("SUB"));
    if (this.heartbeatInterval <= 0) return this.#fail(protocolError("E_INVALID", "cannot SUB with heartbeats disabled"));
    const names = parseSubParams(cmd.params);
    if ("kind" in names) return this.#fail(names);
    if (!this.#checkAuth(cmd, "SUB", names.topic, names.channel)) return;
    const result = this.#nsqd.subscribe(this, names.topic, names.channel);
    if (typeof result === "string") return this.#fail(protocolError("E_SUB_FAILED", `SUB failed ${result}`));
    this.channel = result;
    this.state = ClientState.Subscribed;
    this.#respond(OK_FRAME);
  }

  // ---- TLS policy (D-TCP-TLS-POLICY) ----------------------------------------

  /** The TLS details once the connection was upgraded, else null (read by /stats). */
  get tls(): TlsInfo | null {
    return this.#socket.tls;
  }

  readonly #tlsGate: CommandGate = {
    admit: (verb, verbBytes) => {
      if (verb === "IDENTIFY" || this.#socket.tls !== null) return null;
      return tlsRequiredError(verbBytes);
    },
  };

  /**
   * D-TCP-MPUB: the original creates MPUB's topic before it reads the body, so
   * the topic stays even when the body is bad. Where auth decides, only a
   * client the current authorizations allow creates it here; the full check,
   * with its error, runs once the body is in.
   */
  #mpubTopic(topic: string): void {
    if (this.#nsqd.authEnabled) {
      const state = this.authState;
      if (state === null || state.isExpired() || !state.isAllowed(topic, "")) return;
    }
    this.#nsqd.getTopic(topic);
  }

  // ---- AUTH (D-TCP-AUTH, D-TCP-AUTH-CHECK, D-BEH-AUTH) ---------------------

  /** An AUTH reply was received (stats: `authed`). */
  get authed(): boolean {
    return this.authState !== null;
  }

  get authIdentity(): string {
    return this.authState?.identity ?? "";
  }

  get authIdentityUrl(): string {
    return this.authState?.identityUrl ?? "";
  }

  #auth(body: Uint8Array): void {
    if (this.state !== ClientState.Init) return this.#fail(stateError("AUTH"));
    // The body is read (by the reader) before these checks, as in the original.
    if (this.authState !== null && this.authState.authorizations.length > 0) return this.#fail(protocolError("E_INVALID", "AUTH already set"));
    if (!this.#nsqd.authEnabled) return this.#fail(protocolError("E_AUTH_DISABLED", "AUTH disabled"));
    this.#authSecret = decodeUtf8(body);
    this.#queryAuth(() => {
      const state = this.authState!;
      if (state.authorizations.length === 0) return this.#fail(protocolError("E_UNAUTHORIZED", "AUTH no authorizations found"));
      const reply = { identity: state.identity, identity_url: state.identityUrl, permission_count: state.authorizations.length };
      this.#respond(encodeResponse(JSON.stringify(reply)));
    });
  }

  /**
   * Ask the auth servers about this connection, with command execution
   * suspended; then run `next` (and the commands that queued meanwhile).
   * Errors are logged, never shown to the client (D-TCP-AUTH).
   */
  #queryAuth(next: () => void): void {
    const o = this.#nsqd.options;
    this.#suspend();
    const tls = this.#socket.tls;
    queryAnyAuthd(
      o.auth_http_addresses,
      { remoteIp: this.#socket.remoteAddress, tls: tls !== null, secret: this.#authSecret, commonName: tls?.peerCommonName ?? "" },
      {
        method: o.auth_http_request_method,
        connectTimeoutMs: o.http_client_connect_timeout,
        requestTimeoutMs: o.http_client_request_timeout,
        ...(this.#nsqd.authHttpClient !== null ? { fetch: this.#nsqd.authHttpClient } : {}),
      },
    ).then(
      (state) => {
        if (this.#closed) return;
        this.authState = state;
        this.#resume(next);
      },
      (e: unknown) => {
        if (this.#closed) return;
        this.#nsqd.logger.warn(`PROTOCOL(V2): [${this.remoteAddress || "unix"}] AUTH failed - ${(e as Error).message}`);
        this.#resume(() => this.#fail(protocolError("E_AUTH_FAILED", "AUTH failed")));
      },
    );
  }

  /**
   * D-TCP-AUTH-CHECK for SUB/PUB/MPUB/DPUB. False when the command must not
   * run now: refused (the error is sent), or the cached authorization expired
   * and is being re-queried (the command runs again once the reply is in).
   */
  #checkAuth(cmd: Command, verb: string, topic: string, channel: string): boolean {
    if (!this.#nsqd.authEnabled) return true;
    const state = this.authState;
    if (state === null || state.authorizations.length === 0) {
      this.#fail(protocolError("E_AUTH_FIRST", `AUTH required before ${verb}`));
      return false;
    }
    if (state.isExpired()) {
      this.#queryAuth(() => this.#execute(cmd));
      return false;
    }
    if (!state.isAllowed(topic, channel)) {
      this.#fail(protocolError("E_UNAUTHORIZED", `AUTH failed for ${verb} on ${goQuote(topic)} ${goQuote(channel)}`));
      return false;
    }
    return true;
  }

  // ---- IDENTIFY (D-TCP-IDENTIFY, D-TCP-IDENTIFY-FIELDS, D-TCP-IDENTIFY-RESP) -

  #identify(body: Uint8Array): void {
    if (this.state !== ClientState.Init) return this.#fail(stateError("IDENTIFY"));
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(decodeUtf8(body)) as Record<string, unknown>;
      if (typeof data !== "object" || data === null || Array.isArray(data)) throw new TypeError("not an object");
      checkIdentifyTypes(data);
    } catch {
      return this.#fail(protocolError("E_BAD_BODY", "IDENTIFY failed to decode JSON body"));
    }
    const o = this.#nsqd.options;
    const str = (k: string) => (typeof data[k] === "string" ? (data[k] as string) : "");
    const int = (k: string) => (typeof data[k] === "number" ? (data[k] as number) : 0);
    if (str("client_id") !== "") this.clientId = str("client_id");
    if (str("hostname") !== "") this.hostname = str("hostname");
    this.userAgent = str("user_agent");
    this.topologyRegion = str("topology_region");
    this.topologyZone = str("topology_zone");

    const bad = (text: string) => this.#fail(protocolError("E_BAD_BODY", `IDENTIFY ${text}`));
    // Fields are applied in the original's order; a failure leaves earlier ones applied.
    const hb = int("heartbeat_interval");
    if (hb === -1) this.heartbeatInterval = -1;
    else if (hb !== 0) {
      if (hb < 1000 || hb > o.max_heartbeat_interval) return bad(`heartbeat interval (${hb}) is invalid`);
      this.heartbeatInterval = hb;
    }
    const obt = int("output_buffer_timeout");
    const obs = int("output_buffer_size");
    if (obt === -1) this.outputBufferTimeout = 0;
    else if (obt !== 0) {
      if (obt < o.min_output_buffer_timeout || obt > o.max_output_buffer_timeout) return bad(`output buffer timeout (${obt}) is invalid`);
      this.outputBufferTimeout = obt;
    }
    if (obs === -1) {
      this.outputBufferSize = 1;
      this.outputBufferTimeout = 0;
    } else if (obs !== 0) {
      if (obs < 64 || obs > o.max_output_buffer_size) return bad(`output buffer size (${obs}) is invalid`);
      this.outputBufferSize = obs;
    }
    const sr = int("sample_rate");
    if (sr < 0 || sr > 99) return bad(`sample rate (${sr}) is invalid`);
    this.sampleRate = sr;
    const mt = int("msg_timeout");
    if (mt !== 0) {
      if (mt < 1000 || mt > o.max_msg_timeout) return bad(`msg timeout (${mt}) is invalid`);
      this.msgTimeout = mt;
    }
    if (!this.#identified) this.#startHeartbeat();
    this.#identified = true;

    if (data["feature_negotiation"] !== true) {
      this.#respond(OK_FRAME);
      return;
    }
    // D-TCP-NEGOTIATE: each feature only when asked for and offered; never
    // twice on one connection (D-TCP-IDENTIFY-ONCE).
    const upgraded = this.#encoder !== null;
    const tlsV1 = data["tls_v1"] === true && this.#nsqd.tlsOptions !== null && this.#socket.tls === null;
    const deflate = data["deflate"] === true && o.deflate && !upgraded;
    const snappy = data["snappy"] === true && o.snappy && !upgraded;
    if (deflate && snappy) return this.#fail(protocolError("E_IDENTIFY_FAILED", "cannot enable both deflate and snappy compression"));
    let level = int("deflate_level");
    if (level <= 0) level = 6;
    level = Math.min(level, o.max_deflate_level);
    this.deflateLevel = level;
    const response = {
      max_rdy_count: o.max_rdy_count,
      version: VERSION,
      max_msg_timeout: o.max_msg_timeout,
      msg_timeout: this.msgTimeout,
      tls_v1: tlsV1,
      deflate,
      deflate_level: level,
      max_deflate_level: o.max_deflate_level,
      snappy,
      sample_rate: this.sampleRate,
      auth_required: o.auth_http_addresses.length > 0,
      output_buffer_size: this.outputBufferSize,
      output_buffer_timeout: this.outputBufferTimeout,
      topology_region: o.topology_region,
      topology_zone: o.topology_zone,
    };
    this.#respond(encodeResponse(JSON.stringify(response)));
    if (!tlsV1 && !deflate && !snappy) return;
    // The response leaves in plain form before any upgrade starts.
    this.#flush();
    const compress = snappy ? "snappy" : deflate ? "deflate" : null;
    if (tlsV1) this.#upgradeTls(compress);
    else this.#startCompression(compress);
  }

  /** TLS server handshake on the open socket, then `OK` over TLS, then compression. */
  #upgradeTls(compress: "snappy" | "deflate" | null): void {
    const options = this.#nsqd.options;
    const who = this.remoteAddress || "unix";
    // Suspended without pausing: from here on the bytes belong to the TLS layer.
    this.#suspended = true;
    this.#negotiating = true;
    const fail = (text: string): void => {
      if (this.#closed) return;
      this.#nsqd.logger.error(`[${who}] - E_IDENTIFY_FAILED IDENTIFY failed ${text}`);
      this.#socket.close();
      this.close();
    };
    const timer = setTimeout(() => fail("TLS handshake timed out"), TLS_HANDSHAKE_TIMEOUT);
    this.#socket.upgradeTls({ server: this.#nsqd.tlsOptions! }).then(
      (info) => {
        clearTimeout(timer);
        if (this.#closed) return;
        this.#negotiating = false;
        // --tls-client-auth-policy=require: any certificate, but one is needed.
        if (options.tls_client_auth_policy === "require" && !info.peerCertificate) return fail("client did not provide a certificate");
        this.#nsqd.logger.info(`PROTOCOL(V2): [${who}] upgraded to TLS (${info.version})`);
        this.#write(OK_FRAME);
        this.#startCompression(compress);
        this.#resume(null);
      },
      (e: unknown) => {
        clearTimeout(timer);
        fail((e as Error).message);
      },
    );
  }

  /** Wrap the stream in snappy or deflate, then send `OK` through it. */
  #startCompression(compress: "snappy" | "deflate" | null): void {
    if (compress === null) return;
    const compression = this.#nsqd.runtime.compression;
    let transport: CompressedTransport;
    if (compress === "snappy") {
      transport = snappyTransport(compression);
      this.snappy = true;
    } else {
      transport = deflateTransport(compression, this.deflateLevel);
      this.deflate = true;
    }
    this.#encoder = transport.encoder;
    this.#decoder = transport.decoder;
    this.#nsqd.logger.info(`PROTOCOL(V2): [${this.remoteAddress || "unix"}] upgraded to ${compress}`);
    this.#respond(OK_FRAME);
  }
}

const STRING_FIELDS = ["client_id", "hostname", "user_agent", "topology_region", "topology_zone"];
const INT_FIELDS = ["heartbeat_interval", "output_buffer_size", "output_buffer_timeout", "sample_rate", "msg_timeout", "deflate_level"];
const BOOL_FIELDS = ["feature_negotiation", "tls_v1", "snappy", "deflate"];

/** The original decodes IDENTIFY into a typed struct: a value of the wrong JSON type fails the decode. */
function checkIdentifyTypes(data: Record<string, unknown>): void {
  for (const k of STRING_FIELDS) if (k in data && data[k] !== null && typeof data[k] !== "string") throw new TypeError(k);
  for (const k of INT_FIELDS) if (k in data && data[k] !== null && !Number.isInteger(data[k])) throw new TypeError(k);
  for (const k of BOOL_FIELDS) if (k in data && data[k] !== null && typeof data[k] !== "boolean") throw new TypeError(k);
}
