// Server side of the V2 TCP protocol (SPEC §2): an incremental, allocation-lean
// parser of the client's byte stream into commands.
//
// Usage (pull style, so the connection decides when to read on):
//
//   reader.push(chunk);                       // takes ownership of chunk
//   for (let cmd; (cmd = reader.next()); ) {  // null = need more bytes
//     ...execute cmd; after ERROR (always fatal) or DROP nothing more comes
//   }
//   // on EOF or read deadline:  const err = reader.end();  (error frame to send, or null)
//
// The reader owns every check of §2.2 that concerns framing, in the original's
// order and with its exact texts: protocol magic, the 16 KiB line limit,
// verb recognition, PUB/DPUB/MPUB parameter counts and topic names, the DPUB
// timeout, AUTH's parameter count, and all body-size, message-count and
// message-size limits. Sizes are checked before any byte of a body is stored,
// so a declared 2 GB body costs nothing.
//
// Checks that need connection state (TLS policy, "cannot X in current state",
// auth, RDY range, message-id length, SUB names) belong to the connection
// (./command-checks.ts); the command types are ./commands.ts. In
// the original some of them run *before* a body is read (e.g. IDENTIFY's
// state check, the TLS policy for PUB). To keep that order exactly, pass a
// `gate`: it is called once per command line, right after the verb is
// recognised and before the reader checks anything else; a refusal becomes a
// fatal ERROR. Without a gate the connection runs those checks when the
// command is yielded, which differs only when a command is wrong in two ways.
//
// MPUB: the original checks auth and creates the topic before reading the
// body. The gate's mpubTopic hook marks that point (the connection creates the
// topic there). Deliberate difference: the auth check itself may need the auth
// server, which a synchronous gate cannot wait for, so the connection checks
// auth once the whole MPUB is parsed.
//
// Memory: a command whose line and body lie in one pushed chunk is returned
// as views of that chunk (no copy). A line or body spanning chunks is joined
// once when complete; partial data is kept as views, never re-concatenated.

import { isValidNameBytes } from "./names.ts";
import { MPUB_COUNT_CUT, MPUB_MESSAGE_CUT, checkMpubBodySize, checkMpubCount, checkMpubMessageSize, mpubSizeCut } from "./mpub.ts";
import {
  protocolError,
  protocolErrorEcho,
  type ClsCommand,
  type Command,
  type CommandGate,
  type CommandVerb,
  type DropCommand,
  type ErrorCommand,
  type NopCommand,
} from "./commands.ts";
import { concatBytes, decodeAscii, goQuote, parseDecimal, parseDecimalU64 } from "./text.ts";

// The connection (nsqd/client-v2.ts) takes the commands and the checks from here too.
export * from "./commands.ts";
export { checkIdCommand, parseRdyCount, parseSubParams, reqTimeoutMs, stateError, tlsRequiredError } from "./command-checks.ts";

/** D-TCP-CMDLINE: the original reads lines through a 16 KiB buffer; a longer line drops the connection. */
export const MAX_LINE_SIZE = 16 * 1024;

export interface CommandReaderOptions {
  /** --max-msg-size: largest PUB/DPUB body and MPUB message. */
  maxMsgSize: number;
  /** --max-body-size: largest IDENTIFY/AUTH body and MPUB body. */
  maxBodySize: number;
  /** --max-req-timeout in ms: DPUB accepts 0..maxReqTimeout inclusive (DISC-04). Default 1 hour. */
  maxReqTimeout?: number;
  /** Expect the 4-byte magic first (default true). */
  magic?: boolean;
  gate?: CommandGate;
  /**
   * Hand out a well-formed `FIN <16-byte id>` in one reused command whose id
   * is a reused 16-byte array, without views of the line: valid until the
   * next call to next(). For a caller that executes each command before
   * asking for the next (the nsqd connection); a consumer sends one FIN per
   * message, so this removes three allocations per message.
   */
  reuseFin?: boolean;
}

const NOP: NopCommand = Object.freeze({ kind: "NOP" });
const CLS: ClsCommand = Object.freeze({ kind: "CLS" });
const DROP: DropCommand = Object.freeze({ kind: "DROP" });
const EMPTY = new Uint8Array(0);

const MAGIC_WORD = 0x20205632; // "  V2"

// Parser states.
const S_MAGIC = 0;
const S_LINE = 1;
const S_SIZE = 2;
const S_BODY = 3;
const S_MPUB_COUNT = 4;
const S_MPUB_SIZE = 5;
const S_MPUB_BODY = 6;
const S_DEAD = 7;

// Verbs, as small integers.
const V_UNKNOWN = 0;
const V_IDENTIFY = 1;
const V_AUTH = 2;
const V_SUB = 3;
const V_RDY = 4;
const V_FIN = 5;
const V_REQ = 6;
const V_TOUCH = 7;
const V_CLS = 8;
const V_NOP = 9;
const V_PUB = 10;
const V_MPUB = 11;
const V_DPUB = 12;

const VERB_NAMES: readonly (CommandVerb | null)[] = [null, "IDENTIFY", "AUTH", "SUB", "RDY", "FIN", "REQ", "TOUCH", "CLS", "NOP", "PUB", "MPUB", "DPUB"];

function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** Verbs grouped by length, so recognition compares at most a few bytes. */
const VERBS_BY_LENGTH: readonly (readonly [Uint8Array, number][])[] = (() => {
  const table: [Uint8Array, number][][] = [];
  // Order within a length: the hottest first.
  const verbs: [string, number][] = [
    ["PUB", V_PUB],
    ["FIN", V_FIN],
    ["RDY", V_RDY],
    ["REQ", V_REQ],
    ["NOP", V_NOP],
    ["MPUB", V_MPUB],
    ["DPUB", V_DPUB],
    ["TOUCH", V_TOUCH],
    ["SUB", V_SUB],
    ["CLS", V_CLS],
    ["AUTH", V_AUTH],
    ["IDENTIFY", V_IDENTIFY],
  ];
  for (const [name, code] of verbs) (table[name.length] ??= []).push([ascii(name), code]);
  for (let i = 0; i < table.length; i++) table[i] ??= [];
  return table;
})();

function recogniseVerb(line: Uint8Array, length: number): number {
  const candidates = VERBS_BY_LENGTH[length];
  if (candidates === undefined) return V_UNKNOWN;
  outer: for (let k = 0; k < candidates.length; k++) {
    const bytes = candidates[k]![0];
    for (let i = 0; i < length; i++) if (line[i] !== bytes[i]) continue outer;
    return candidates[k]![1];
  }
  return V_UNKNOWN;
}

/** Index of the next space in line[from, end), or end. */
function tokenEnd(line: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end; i++) if (line[i] === 0x20) return i;
  return end;
}

function countSpaces(line: Uint8Array, from: number, end: number): number {
  let n = 0;
  for (let i = from; i < end; i++) if (line[i] === 0x20) n++;
  return n;
}

/** Tokens of line[from, end) split on single spaces (from = first byte after the verb's space), as views. */
function splitTokens(line: Uint8Array, from: number, end: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = from;
  for (let i = from; i <= end; i++) {
    if (i === end || line[i] === 0x20) {
      out.push(line.subarray(start, i));
      start = i + 1;
    }
  }
  return out;
}

// Body-carrying commands, for size checks and end-of-stream texts.
const B_IDENTIFY = 1;
const B_AUTH = 2;
const B_PUB = 3;
const B_DPUB = 4;
const B_MPUB = 5;
const BODY_VERB = ["", "IDENTIFY", "AUTH", "PUB", "DPUB", "MPUB"] as const;

export class CommandReader {
  readonly #maxMsgSize: number;
  readonly #maxBodySize: number;
  readonly #maxReqTimeout: number;
  readonly #gate: CommandGate | null;
  /** The reused FIN (options.reuseFin), null when FIN commands are allocated. */
  readonly #fin: { kind: "FIN"; id: Uint8Array; paramCount: number } | null;

  #state: number;
  /** Current chunk and read position; further chunks wait in #queue. */
  #buf: Uint8Array = EMPTY;
  #pos = 0;
  #queue: Uint8Array[] = [];
  /** A 4-byte word split across chunks. */
  readonly #word = new Uint8Array(4);
  #wordLen = 0;
  /** Pieces of a line or body split across chunks (views), joined once. */
  #parts: Uint8Array[] = [];
  #partsLen = 0;

  // The command being read.
  #bodyKind = 0;
  #bodyLen = 0;
  #topic = "";
  #deferRaw = "";
  #deferMs = 0;
  #mpubCount = 0;
  #bodies: Uint8Array[] = [];

  // Publishers mostly repeat one topic: remember the last valid one so that
  // PUB neither re-validates nor re-decodes it.
  readonly #lastTopicBytes = new Uint8Array(64);
  #lastTopicLen = 0;
  #lastTopic = "";

  constructor(options: CommandReaderOptions) {
    this.#maxMsgSize = options.maxMsgSize;
    this.#maxBodySize = options.maxBodySize;
    this.#maxReqTimeout = Math.trunc(options.maxReqTimeout ?? 3_600_000);
    this.#gate = options.gate ?? null;
    this.#fin = options.reuseFin === true && options.gate?.admit === undefined ? { kind: "FIN", id: new Uint8Array(16), paramCount: 1 } : null;
    this.#state = options.magic === false ? S_LINE : S_MAGIC;
  }

  /** True once a fatal ERROR, a DROP or end() has been returned. */
  get done(): boolean {
    return this.#state === S_DEAD;
  }

  /** Adds received bytes. The reader keeps views of `chunk`: its memory must not be reused. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0 || this.#state === S_DEAD) return;
    if (this.#pos >= this.#buf.length && this.#queue.length === 0) {
      this.#buf = chunk;
      this.#pos = 0;
    } else {
      this.#queue.push(chunk);
    }
  }

  /** The next complete command, or null when more bytes are needed (or after the end). */
  next(): Command | null {
    for (;;) {
      switch (this.#state) {
        case S_LINE: {
          if (this.#fin !== null && this.#partsLen === 0 && this.#readFin()) return this.#fin;
          const line = this.#readLine();
          if (line === null) return null;
          if (line === DROP_LINE) return this.#die(DROP);
          const cmd = this.#parseLine(line);
          if (cmd !== null) return cmd;
          break; // a body follows
        }
        case S_SIZE: {
          if (!this.#readWord()) return null;
          const err = this.#checkBodySize(readWordValue(this.#word));
          if (err !== null) return err;
          break;
        }
        case S_BODY: {
          const body = this.#readBytes(this.#bodyLen);
          if (body === null) return null;
          this.#state = S_LINE;
          return this.#bodyCommand(body);
        }
        case S_MPUB_COUNT: {
          if (!this.#readWord()) return null;
          const n = readWordValue(this.#word);
          const bad = checkMpubCount(n, this.#maxBodySize);
          if (bad !== null) return this.#fail(bad.code, bad.text);
          this.#mpubCount = n;
          this.#bodies = [];
          this.#state = S_MPUB_SIZE;
          break;
        }
        case S_MPUB_SIZE: {
          if (!this.#readWord()) return null;
          const size = readWordValue(this.#word);
          const bad = checkMpubMessageSize(this.#bodies.length, size, this.#maxMsgSize);
          if (bad !== null) return this.#fail(bad.code, bad.text);
          this.#bodyLen = size;
          this.#state = S_MPUB_BODY;
          break;
        }
        case S_MPUB_BODY: {
          const body = this.#readBytes(this.#bodyLen);
          if (body === null) return null;
          this.#bodies.push(body);
          if (this.#bodies.length < this.#mpubCount) {
            this.#state = S_MPUB_SIZE;
            break;
          }
          const bodies = this.#bodies;
          this.#bodies = [];
          this.#state = S_LINE;
          return { kind: "MPUB", topic: this.#topic, bodies };
        }
        case S_MAGIC: {
          if (!this.#readWord()) return null;
          if (readWordValue(this.#word) !== MAGIC_WORD) return this.#fail("E_BAD_PROTOCOL", "");
          this.#state = S_LINE;
          break;
        }
        default:
          return null;
      }
    }
  }

  /**
   * The stream has ended (EOF, or the connection's read deadline passed).
   * Call after next() returned null. Returns the error the original sends
   * when a command is cut short inside its body (e.g. `E_BAD_MESSAGE PUB
   * failed to read message body`), or null when the stream ended between
   * commands, inside a command line, or before the magic (close silently).
   */
  end(): ErrorCommand | null {
    const state = this.#state;
    const verb = BODY_VERB[this.#bodyKind];
    let err: ErrorCommand | null = null;
    if (state === S_SIZE) {
      if (this.#bodyKind === B_PUB || this.#bodyKind === B_DPUB) {
        err = protocolError("E_BAD_MESSAGE", `${verb} failed to read message body size`);
      } else {
        err = protocolError("E_BAD_BODY", `${verb} failed to read body size`);
      }
    } else if (state === S_BODY) {
      if (this.#bodyKind === B_PUB || this.#bodyKind === B_DPUB) {
        err = protocolError("E_BAD_MESSAGE", `${verb} failed to read message body`);
      } else {
        err = protocolError("E_BAD_BODY", `${verb} failed to read body`);
      }
    } else if (state === S_MPUB_COUNT) {
      err = protocolError(MPUB_COUNT_CUT.code, MPUB_COUNT_CUT.text);
    } else if (state === S_MPUB_SIZE) {
      const cut = mpubSizeCut(this.#bodies.length);
      err = protocolError(cut.code, cut.text);
    } else if (state === S_MPUB_BODY) {
      err = protocolError(MPUB_MESSAGE_CUT.code, MPUB_MESSAGE_CUT.text);
    }
    this.#die(null);
    return err;
  }

  /**
   * Removes and returns every byte not yet parsed. For a connection that
   * switches the transport after IDENTIFY (TLS, snappy, deflate: D-TCP-NEGOTIATE):
   * bytes that followed IDENTIFY belong to the new layer and must be fed
   * through it, then back into push(). Call it between commands.
   */
  takeRemaining(): Uint8Array {
    const pieces: Uint8Array[] = [];
    if (this.#state === S_LINE) pieces.push(...this.#parts);
    if (this.#pos < this.#buf.length) pieces.push(this.#buf.subarray(this.#pos));
    pieces.push(...this.#queue);
    if (this.#state === S_LINE) {
      this.#parts = [];
      this.#partsLen = 0;
    }
    this.#buf = EMPTY;
    this.#pos = 0;
    this.#queue = [];
    return pieces.length === 1 ? pieces[0]! : concatBytes(pieces);
  }

  // ---- byte access -------------------------------------------------------

  /** Moves to the next queued chunk; false when none is left. */
  #advance(): boolean {
    const next = this.#queue.shift();
    if (next === undefined) {
      this.#buf = EMPTY;
      this.#pos = 0;
      return false;
    }
    this.#buf = next;
    this.#pos = 0;
    return true;
  }

  /** Reads 4 bytes into #word; false when they have not all arrived yet. */
  #readWord(): boolean {
    const word = this.#word;
    if (this.#wordLen === 0 && this.#buf.length - this.#pos >= 4) {
      const buf = this.#buf;
      const p = this.#pos;
      word[0] = buf[p]!;
      word[1] = buf[p + 1]!;
      word[2] = buf[p + 2]!;
      word[3] = buf[p + 3]!;
      this.#pos = p + 4;
      return true;
    }
    while (this.#wordLen < 4) {
      if (this.#pos >= this.#buf.length && !this.#advance()) return false;
      word[this.#wordLen++] = this.#buf[this.#pos++]!;
    }
    this.#wordLen = 0;
    return true;
  }

  /** Reads n bytes: a view when they lie in one chunk, else one joined copy. */
  #readBytes(n: number): Uint8Array | null {
    if (this.#partsLen === 0 && this.#buf.length - this.#pos >= n) {
      const view = this.#buf.subarray(this.#pos, this.#pos + n);
      this.#pos += n;
      return view;
    }
    for (;;) {
      if (this.#pos >= this.#buf.length && !this.#advance()) return null;
      const take = Math.min(n - this.#partsLen, this.#buf.length - this.#pos);
      this.#parts.push(this.#buf.subarray(this.#pos, this.#pos + take));
      this.#partsLen += take;
      this.#pos += take;
      if (this.#partsLen === n) {
        const out = concatBytes(this.#parts, n);
        this.#parts = [];
        this.#partsLen = 0;
        return out;
      }
    }
  }

  /**
   * Reads `FIN <id>\n` (or `\r\n`) with an id of 16 bytes other than space,
   * CR and LF from the current chunk into the reused command; false (nothing
   * read) when the chunk holds anything else there, which the general path
   * then parses (a CR before the LF is not part of the line).
   */
  #readFin(): boolean {
    const buf = this.#buf;
    const pos = this.#pos;
    let end = pos + 20;
    if (end >= buf.length || buf[pos] !== 0x46 || buf[pos + 1] !== 0x49 || buf[pos + 2] !== 0x4e || buf[pos + 3] !== 0x20) return false;
    if (buf[end] === 0x0d) end++;
    if (end >= buf.length || buf[end] !== 0x0a) return false;
    const id = this.#fin!.id;
    for (let i = 0; i < 16; i++) {
      const b = buf[pos + 4 + i]!;
      if (b === 0x20 || b === 0x0a || b === 0x0d) return false;
      id[i] = b;
    }
    this.#pos = end + 1;
    return true;
  }

  /** The next line without its '\n'; null when incomplete; DROP_LINE when over the limit. */
  #readLine(): Uint8Array | null {
    for (;;) {
      if (this.#pos >= this.#buf.length && !this.#advance()) return null;
      const buf = this.#buf;
      const pos = this.#pos;
      const nl = buf.indexOf(0x0a, pos);
      if (nl >= 0) {
        const size = this.#partsLen + (nl - pos);
        if (size + 1 > MAX_LINE_SIZE) return DROP_LINE;
        this.#pos = nl + 1;
        if (this.#partsLen === 0) return buf.subarray(pos, nl);
        this.#parts.push(buf.subarray(pos, nl));
        const line = concatBytes(this.#parts, size);
        this.#parts = [];
        this.#partsLen = 0;
        return line;
      }
      // No newline yet: the original's 16 KiB buffer fills up -> drop.
      const rest = buf.length - pos;
      if (this.#partsLen + rest >= MAX_LINE_SIZE) return DROP_LINE;
      this.#parts.push(pos === 0 ? buf : buf.subarray(pos));
      this.#partsLen += rest;
      this.#pos = buf.length;
    }
  }

  // ---- commands ----------------------------------------------------------

  #fail(code: string, text: string): ErrorCommand {
    return this.#die(protocolError(code, text));
  }

  #die<T>(result: T): T {
    this.#state = S_DEAD;
    this.#buf = EMPTY;
    this.#pos = 0;
    this.#queue = [];
    this.#parts = [];
    this.#partsLen = 0;
    this.#bodies = [];
    return result;
  }

  /** Parses a command line. Returns a command, or null when a body must be read next. */
  #parseLine(line: Uint8Array): Command | null {
    let end = line.length;
    if (end > 0 && line[end - 1] === 0x0d) end--;
    const space = tokenEnd(line, 0, end);
    const verb = recogniseVerb(line, space);

    if (this.#gate?.admit !== undefined) {
      const refusal = this.#gate.admit(VERB_NAMES[verb]!, line.subarray(0, space));
      if (refusal !== null) return this.#die("kind" in refusal ? refusal : protocolError(refusal.code, refusal.text));
    }

    const hasParams = space < end;
    const first = space + 1; // start of the first parameter when hasParams
    switch (verb) {
      case V_PUB:
      case V_MPUB:
      case V_DPUB:
        return this.#parsePublish(verb, line, first, end, hasParams);
      case V_FIN:
      case V_TOUCH: {
        const id = hasParams ? line.subarray(first, tokenEnd(line, first, end)) : EMPTY;
        const paramCount = hasParams ? countSpaces(line, space, end) : 0;
        return verb === V_FIN ? { kind: "FIN", id, paramCount } : { kind: "TOUCH", id, paramCount };
      }
      case V_REQ: {
        if (!hasParams) return { kind: "REQ", id: EMPTY, timeout: EMPTY, paramCount: 0 };
        const idEnd = tokenEnd(line, first, end);
        const timeout = idEnd < end ? line.subarray(idEnd + 1, tokenEnd(line, idEnd + 1, end)) : EMPTY;
        return { kind: "REQ", id: line.subarray(first, idEnd), timeout, paramCount: countSpaces(line, space, end) };
      }
      case V_RDY:
        return { kind: "RDY", params: hasParams ? splitTokens(line, first, end) : [] };
      case V_NOP:
        return NOP;
      case V_SUB:
        return { kind: "SUB", params: hasParams ? splitTokens(line, first, end) : [] };
      case V_CLS:
        return CLS;
      case V_IDENTIFY:
        this.#bodyKind = B_IDENTIFY;
        this.#state = S_SIZE;
        return null;
      case V_AUTH:
        // The original requires exactly the verb: `AUTH x` and `AUTH ` are refused.
        if (hasParams) return this.#fail("E_INVALID", "AUTH invalid number of parameters");
        this.#bodyKind = B_AUTH;
        this.#state = S_SIZE;
        return null;
      default:
        return this.#die(protocolErrorEcho("E_INVALID", ["invalid command ", line.subarray(0, space)]));
    }
  }

  #parsePublish(verb: number, line: Uint8Array, first: number, end: number, hasParams: boolean): Command | null {
    const name = verb === V_PUB ? "PUB" : verb === V_MPUB ? "MPUB" : "DPUB";
    if (!hasParams) return this.#fail("E_INVALID", `${name} insufficient number of parameters`);
    const topicEnd = tokenEnd(line, first, end);
    if (verb === V_DPUB && topicEnd === end) {
      return this.#fail("E_INVALID", "DPUB insufficient number of parameters");
    }
    const topic = this.#topicName(line, first, topicEnd);
    if (topic === null) {
      const quoted = goQuote(line.subarray(first, topicEnd));
      // Q: the original repeats the code inside MPUB's text.
      const text = verb === V_MPUB ? `E_BAD_TOPIC MPUB topic name ${quoted} is not valid` : `${name} topic name ${quoted} is not valid`;
      return this.#fail("E_BAD_TOPIC", text);
    }
    this.#topic = topic;
    if (verb === V_DPUB) {
      const raw = line.subarray(topicEnd + 1, tokenEnd(line, topicEnd + 1, end));
      const err = this.#parseDefer(raw);
      if (err !== null) return err;
      this.#bodyKind = B_DPUB;
    } else if (verb === V_PUB) {
      this.#bodyKind = B_PUB;
    } else {
      this.#bodyKind = B_MPUB;
      this.#gate?.mpubTopic?.(topic);
    }
    this.#state = S_SIZE;
    return null;
  }

  /** D-TCP-DPUB: 0 <= defer <= --max-req-timeout, computed as the original does (uint64 ms -> int64 ns). */
  #parseDefer(raw: Uint8Array): ErrorCommand | null {
    const ms = parseDecimal(raw);
    if (ms === null) return this.#die(protocolErrorEcho("E_INVALID", ["DPUB could not parse timeout ", raw]));
    const max = this.#maxReqTimeout;
    if (raw.length <= 12) {
      // Below 10^12 ms the nanosecond product cannot overflow int64.
      if (ms > max) return this.#fail("E_INVALID", `DPUB timeout ${ms} out of range 0-${max}`);
      this.#deferMs = ms;
    } else {
      // Long tokens: reproduce the uint64 wrap and the int64 product exactly.
      const u = parseDecimalU64(raw)!;
      const ns = BigInt.asIntN(64, u * 1_000_000n);
      if (ns < 0n || ns > BigInt(max) * 1_000_000n) {
        return this.#fail("E_INVALID", `DPUB timeout ${u} out of range 0-${max}`);
      }
      this.#deferMs = Number(ns) / 1e6;
    }
    this.#deferRaw = decodeAscii(raw);
    return null;
  }

  /** The topic token as a string when it is a valid name, else null. */
  #topicName(line: Uint8Array, start: number, end: number): string | null {
    const len = end - start;
    const last = this.#lastTopicBytes;
    if (len === this.#lastTopicLen && len > 0) {
      let same = true;
      for (let i = 0; i < len; i++) {
        if (line[start + i] !== last[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.#lastTopic;
    }
    if (!isValidNameBytes(line, start, end)) return null;
    const topic = decodeAscii(line, start, end);
    for (let i = 0; i < len; i++) last[i] = line[start + i]!;
    this.#lastTopicLen = len;
    this.#lastTopic = topic;
    return topic;
  }

  /** Size checks of §2.2, in the original's order for each command. */
  #checkBodySize(size: number): ErrorCommand | null {
    const kind = this.#bodyKind;
    const verb = BODY_VERB[kind];
    if (kind === B_PUB || kind === B_DPUB) {
      if (size <= 0) return this.#fail("E_BAD_MESSAGE", `${verb} invalid message body size ${size}`);
      if (size > this.#maxMsgSize) return this.#fail("E_BAD_MESSAGE", `${verb} message too big ${size} > ${this.#maxMsgSize}`);
      this.#bodyLen = size;
      this.#state = S_BODY;
    } else if (kind === B_MPUB) {
      const bad = checkMpubBodySize(size, this.#maxBodySize);
      if (bad !== null) return this.#fail(bad.code, bad.text);
      // The declared size is only range-checked; exactly `count` messages are read.
      this.#state = S_MPUB_COUNT;
    } else {
      // IDENTIFY and AUTH check the upper bound first.
      if (size > this.#maxBodySize) return this.#fail("E_BAD_BODY", `${verb} body too big ${size} > ${this.#maxBodySize}`);
      if (size <= 0) return this.#fail("E_BAD_BODY", `${verb} invalid body size ${size}`);
      this.#bodyLen = size;
      this.#state = S_BODY;
    }
    return null;
  }

  #bodyCommand(body: Uint8Array): Command {
    switch (this.#bodyKind) {
      case B_PUB:
        return { kind: "PUB", topic: this.#topic, body };
      case B_DPUB:
        return { kind: "DPUB", topic: this.#topic, deferRaw: this.#deferRaw, deferMs: this.#deferMs, body };
      case B_AUTH:
        return { kind: "AUTH", body, params: [] };
      default:
        return { kind: "IDENTIFY", body };
    }
  }
}

/** Marker returned by #readLine for an over-long line. */
const DROP_LINE = new Uint8Array(0);

function readWordValue(word: Uint8Array): number {
  return (word[0]! << 24) | (word[1]! << 16) | (word[2]! << 8) | word[3]!;
}
