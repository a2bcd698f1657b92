// The nsqd -> nsqlookupd TCP protocol "V1" (SPEC §6.2): magic `"  V1"`, text
// command lines (trimmed, split on single spaces), IDENTIFY with a
// `[size int32][JSON]` body, and replies framed as `[size int32][data]` with
// no frame-type field (L-TCP-FRAME).
//
// V1CommandReader is the server side (lookupd), V1ResponseReader the client
// side (nsqd's lookupd peer). Same conventions as the V2 CommandReader:
// push(chunk) then next() until null; views when a command lies in one chunk.

import { isValidNameBytes } from "./names.ts";
import { concatBytes, decodeAscii, trimSpace, utf8 } from "./text.ts";
import { protocolError, protocolErrorEcho, type DropCommand, type ErrorCommand } from "./commands.ts";

/** L-TCP-MAGIC: `"  V1"`. */
export const MAGIC_V1: Uint8Array = new Uint8Array([0x20, 0x20, 0x56, 0x31]);

/** L-TCP-FRAME: `[size int32][data]`. */
export function encodeV1Response(data: Uint8Array | string): Uint8Array {
  const bytes = typeof data === "string" ? utf8(data) : data;
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

/** A client-side V1 command: `VERB params...\n`, plus `[size][body]` for IDENTIFY. */
export function encodeV1Command(verb: string, params: readonly string[] = [], body?: Uint8Array): Uint8Array {
  const line = utf8(params.length > 0 ? `${verb} ${params.join(" ")}\n` : `${verb}\n`);
  if (body === undefined) return line;
  const out = new Uint8Array(line.length + 4 + body.length);
  out.set(line, 0);
  new DataView(out.buffer).setUint32(line.length, body.length);
  out.set(body, line.length + 4);
  return out;
}

/** `params`: tokens after the verb, as sent (check them with {@link parseTopicChannel}). */
export type V1Command =
  | { readonly kind: "PING"; readonly params: Uint8Array[] }
  | { readonly kind: "IDENTIFY"; readonly body: Uint8Array }
  | { readonly kind: "REGISTER"; readonly params: Uint8Array[] }
  | { readonly kind: "UNREGISTER"; readonly params: Uint8Array[] }
  | ErrorCommand
  | DropCommand;

export interface V1CommandReaderOptions {
  /**
   * Largest IDENTIFY body. The original has no limit (and crashes on a
   * negative size); we refuse both with `E_BAD_BODY IDENTIFY failed to read body`.
   * Default 1 MiB.
   */
  maxBodySize?: number;
  /** Longest command line before the connection is dropped (the original has none). Default 16 KiB. */
  maxLineSize?: number;
  /** Expect the magic first (default true). */
  magic?: boolean;
  /**
   * Called when an IDENTIFY line is read, before its body: an error returned
   * ends the stream with it. The original refuses a second IDENTIFY here,
   * without reading the body (L-TCP-IDENTIFY).
   */
  identifyGate?: () => ErrorCommand | null;
}

const S_MAGIC = 0;
const S_LINE = 1;
const S_SIZE = 2;
const S_BODY = 3;
const S_DEAD = 4;

const DROP: DropCommand = Object.freeze({ kind: "DROP" });

export class V1CommandReader {
  readonly #maxBodySize: number;
  readonly #maxLineSize: number;
  readonly #identifyGate: (() => ErrorCommand | null) | null;
  #state: number;
  #pending: Uint8Array[] = [];
  #pendingLen = 0;
  #bodyLen = 0;
  #scanned = 0;

  constructor(options: V1CommandReaderOptions = {}) {
    this.#maxBodySize = options.maxBodySize ?? 1024 * 1024;
    this.#maxLineSize = options.maxLineSize ?? 16 * 1024;
    this.#identifyGate = options.identifyGate ?? null;
    this.#state = options.magic === false ? S_LINE : S_MAGIC;
  }

  get done(): boolean {
    return this.#state === S_DEAD;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0 || this.#state === S_DEAD) return;
    this.#pending.push(chunk);
    this.#pendingLen += chunk.length;
  }

  next(): V1Command | null {
    for (;;) {
      switch (this.#state) {
        case S_MAGIC: {
          const magic = this.#take(4);
          if (magic === null) return null;
          for (let i = 0; i < 4; i++) {
            if (magic[i] !== MAGIC_V1[i]) return this.#die(protocolError("E_BAD_PROTOCOL", ""));
          }
          this.#state = S_LINE;
          break;
        }
        case S_LINE: {
          const line = this.#takeLine();
          if (line === null) return null;
          if (line === OVERLONG) return this.#die(DROP);
          const cmd = this.#parseLine(trimSpace(line));
          if (cmd !== null) return cmd;
          break;
        }
        case S_SIZE: {
          const word = this.#take(4);
          if (word === null) return null;
          const size = new DataView(word.buffer, word.byteOffset, 4).getInt32(0);
          if (size < 0 || size > this.#maxBodySize) {
            return this.#die(protocolError("E_BAD_BODY", "IDENTIFY failed to read body"));
          }
          this.#bodyLen = size;
          this.#state = S_BODY;
          break;
        }
        case S_BODY: {
          const body = this.#take(this.#bodyLen);
          if (body === null) return null;
          this.#state = S_LINE;
          return { kind: "IDENTIFY", body };
        }
        default:
          return null;
      }
    }
  }

  /** The stream ended; returns the error the original sends when IDENTIFY is cut short, else null. */
  end(): ErrorCommand | null {
    const state = this.#state;
    this.#die(null);
    if (state === S_SIZE) return protocolError("E_BAD_BODY", "IDENTIFY failed to read body size");
    if (state === S_BODY) return protocolError("E_BAD_BODY", "IDENTIFY failed to read body");
    return null;
  }

  /**
   * A trimmed line, split on single spaces like the original's
   * strings.Split; tokens stay bytes, so error texts can quote them as sent.
   */
  #parseLine(line: Uint8Array): V1Command | null {
    const parts: Uint8Array[] = [];
    let start = 0;
    for (let i = 0; i <= line.length; i++) {
      if (i === line.length || line[i] === 0x20) {
        parts.push(line.subarray(start, i));
        start = i + 1;
      }
    }
    const verb = parts[0]!;
    // Verbs are ASCII, so a byte-for-byte comparison through Latin-1 is exact.
    switch (decodeAscii(verb)) {
      case "PING":
        return { kind: "PING", params: parts.slice(1) };
      case "IDENTIFY": {
        const refusal = this.#identifyGate?.() ?? null;
        if (refusal !== null) return this.#die(refusal);
        this.#state = S_SIZE;
        return null;
      }
      case "REGISTER":
        return { kind: "REGISTER", params: parts.slice(1) };
      case "UNREGISTER":
        return { kind: "UNREGISTER", params: parts.slice(1) };
      default:
        return this.#die(protocolErrorEcho("E_INVALID", ["invalid command ", verb]));
    }
  }

  #die<T>(result: T): T {
    this.#state = S_DEAD;
    this.#pending = [];
    this.#pendingLen = 0;
    return result;
  }

  /** Removes n bytes from the front: a view when they lie in the first chunk. */
  #take(n: number): Uint8Array | null {
    if (this.#pendingLen < n) return null;
    const first = this.#pending[0];
    if (n === 0) return new Uint8Array(0);
    if (first!.length >= n) {
      const out = first!.subarray(0, n);
      this.#consume(n);
      return out;
    }
    const out = new Uint8Array(n);
    let at = 0;
    for (const chunk of this.#pending) {
      const take = Math.min(chunk.length, n - at);
      out.set(chunk.subarray(0, take), at);
      at += take;
      if (at === n) break;
    }
    this.#consume(n);
    return out;
  }

  #consume(n: number): void {
    this.#scanned = 0;
    this.#pendingLen -= n;
    while (n > 0) {
      const first = this.#pending[0]!;
      if (first.length <= n) {
        this.#pending.shift();
        n -= first.length;
      } else {
        this.#pending[0] = first.subarray(n);
        n = 0;
      }
    }
  }

  /** The next line with its '\n' removed; null when incomplete; OVERLONG past the limit. */
  #takeLine(): Uint8Array | null {
    // Chunks before #scanned (a count of whole chunks) are known to hold no '\n'.
    let offset = 0;
    for (let i = 0; i < this.#pending.length; i++) {
      const chunk = this.#pending[i]!;
      if (i >= this.#scanned) {
        const nl = chunk.indexOf(0x0a);
        if (nl >= 0) {
          if (offset + nl + 1 > this.#maxLineSize) return OVERLONG;
          const line = this.#take(offset + nl + 1)!;
          return line.subarray(0, line.length - 1);
        }
        this.#scanned = i + 1;
      }
      offset += chunk.length;
    }
    return this.#pendingLen >= this.#maxLineSize ? OVERLONG : null;
  }
}

const OVERLONG = new Uint8Array(0);

/**
 * L-TCP-REGISTER / L-TCP-UNREGISTER parameter checks (after the IDENTIFY
 * check): `<topic> [<channel>]`. Note the single quotes, unlike nsqd's %q:
 * the name is echoed as sent, byte for byte.
 */
export function parseTopicChannel(verb: string, params: readonly (Uint8Array | string)[]): { topic: string; channel: string } | ErrorCommand {
  if (params.length === 0) return protocolError("E_INVALID", `${verb} insufficient number of params`);
  const asBytes = (p: Uint8Array | string) => (typeof p === "string" ? utf8(p) : p);
  const topic = asBytes(params[0]!);
  const channel = params.length >= 2 ? asBytes(params[1]!) : new Uint8Array(0);
  if (!isValidNameBytes(topic)) return protocolErrorEcho("E_BAD_TOPIC", [`${verb} topic name '`, topic, "' is not valid"]);
  if (channel.length > 0 && !isValidNameBytes(channel)) {
    return protocolErrorEcho("E_BAD_CHANNEL", [`${verb} channel name '`, channel, "' is not valid"]);
  }
  // Valid names are ASCII.
  return { topic: decodeAscii(topic), channel: decodeAscii(channel) };
}

/**
 * Client side: splits lookupd's replies (`[size int32][data]`) into their
 * data. Views when a reply lies in one chunk, one copy otherwise. A negative
 * or oversized size throws RangeError.
 */
export class V1ResponseReader {
  readonly #maxSize: number;
  readonly #head = new Uint8Array(4);
  #headLen = 0;
  #need = -1;
  #parts: Uint8Array[] = [];
  #partsLen = 0;

  constructor(options: { maxSize?: number } = {}) {
    this.#maxSize = options.maxSize ?? 16 * 1024 * 1024;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.#need < 0) {
        const take = Math.min(4 - this.#headLen, chunk.length - pos);
        this.#head.set(chunk.subarray(pos, pos + take), this.#headLen);
        this.#headLen += take;
        pos += take;
        if (this.#headLen < 4) break;
        this.#headLen = 0;
        const size = new DataView(this.#head.buffer).getInt32(0);
        if (size < 0 || size > this.#maxSize) throw new RangeError(`lookupd response size ${size} out of range 0-${this.#maxSize}`);
        if (size === 0) {
          out.push(new Uint8Array(0));
          continue;
        }
        this.#need = size;
      }
      const avail = chunk.length - pos;
      if (this.#partsLen === 0 && avail >= this.#need) {
        out.push(chunk.subarray(pos, pos + this.#need));
        pos += this.#need;
        this.#need = -1;
        continue;
      }
      const take = Math.min(this.#need - this.#partsLen, avail);
      this.#parts.push(chunk.subarray(pos, pos + take));
      this.#partsLen += take;
      pos += take;
      if (this.#partsLen === this.#need) {
        out.push(concatBytes(this.#parts, this.#partsLen));
        this.#parts = [];
        this.#partsLen = 0;
        this.#need = -1;
      }
    }
    return out;
  }
}
