// Client-to-server command encoders of the V2 protocol (D-TCP-CMDLINE): a line
// `VERB[ param]*\n`, followed for some commands by `[size int32][body]`.
// Used by our client library, the tools and the tests.

import { utf8 } from "./text.ts";

/** D-TCP-MAGIC: the 4 bytes a V2 client sends first, `"  V2"`. */
export const MAGIC_V2: Uint8Array = new Uint8Array([0x20, 0x20, 0x56, 0x32]);

/** `NOP\n` (the conventional answer to a heartbeat). Shared: never mutate. */
export const NOP_COMMAND: Uint8Array = utf8("NOP\n");
/** `CLS\n`. Shared: never mutate. */
export const CLS_COMMAND: Uint8Array = utf8("CLS\n");

function putUint32(target: Uint8Array, offset: number, value: number): void {
  target[offset] = value >>> 24;
  target[offset + 1] = value >>> 16;
  target[offset + 2] = value >>> 8;
  target[offset + 3] = value;
}

/**
 * A command line `name params...\n`, followed by `[size][body]` when a body is
 * given. Params are joined with single spaces exactly as given.
 */
export function encodeCommand(name: string, params: readonly string[] = [], body?: Uint8Array): Uint8Array {
  const line = utf8(params.length > 0 ? `${name} ${params.join(" ")}\n` : `${name}\n`);
  if (body === undefined) return line;
  const out = new Uint8Array(line.length + 4 + body.length);
  out.set(line, 0);
  putUint32(out, line.length, body.length);
  out.set(body, line.length + 4);
  return out;
}

/** D-TCP-PUB: `PUB <topic>\n[size][body]`. */
export function encodePub(topic: string, body: Uint8Array): Uint8Array {
  return encodeCommand("PUB", [topic], body);
}

/** D-TCP-DPUB: `DPUB <topic> <defer_ms>\n[size][body]`. */
export function encodeDpub(topic: string, deferMs: number, body: Uint8Array): Uint8Array {
  return encodeCommand("DPUB", [topic, String(Math.trunc(deferMs))], body);
}

/** The binary multi-message body `[num]{[size][msg]}*` (also HTTP `/mpub?binary=true`, D-HTTP-MPUB). */
export function encodeMpubBinary(bodies: readonly Uint8Array[]): Uint8Array {
  let size = 4;
  for (const b of bodies) size += 4 + b.length;
  const out = new Uint8Array(size);
  putUint32(out, 0, bodies.length);
  let at = 4;
  for (const b of bodies) {
    putUint32(out, at, b.length);
    out.set(b, at + 4);
    at += 4 + b.length;
  }
  return out;
}

/** D-TCP-MPUB: `MPUB <topic>\n[body_size][num]{[size][msg]}*`. */
export function encodeMpub(topic: string, bodies: readonly Uint8Array[]): Uint8Array {
  return encodeCommand("MPUB", [topic], encodeMpubBinary(bodies));
}

/** D-TCP-IDENTIFY: `IDENTIFY\n[size][JSON]`. */
export function encodeIdentify(data: object): Uint8Array {
  return encodeCommand("IDENTIFY", [], utf8(JSON.stringify(data)));
}

/** D-TCP-AUTH: `AUTH\n[size][secret]`. */
export function encodeAuth(secret: string | Uint8Array): Uint8Array {
  return encodeCommand("AUTH", [], typeof secret === "string" ? utf8(secret) : secret);
}

/** D-TCP-SUB: `SUB <topic> <channel>\n`. */
export function encodeSub(topic: string, channel: string): Uint8Array {
  return encodeCommand("SUB", [topic, channel]);
}

/** D-TCP-RDY: `RDY <count>\n`. */
export function encodeRdy(count: number): Uint8Array {
  return encodeCommand("RDY", [String(Math.trunc(count))]);
}

function idCommand(verb: string, id: Uint8Array, tail?: string): Uint8Array {
  const tailBytes = tail === undefined ? 0 : 1 + tail.length;
  const out = new Uint8Array(verb.length + 1 + id.length + tailBytes + 1);
  let at = 0;
  for (let i = 0; i < verb.length; i++) out[at++] = verb.charCodeAt(i);
  out[at++] = 0x20;
  out.set(id, at);
  at += id.length;
  if (tail !== undefined) {
    out[at++] = 0x20;
    for (let i = 0; i < tail.length; i++) out[at++] = tail.charCodeAt(i);
  }
  out[at] = 0x0a;
  return out;
}

/** D-TCP-FIN: `FIN <id>\n` (id: the 16 bytes received in the message). */
export function encodeFin(id: Uint8Array): Uint8Array {
  return idCommand("FIN", id);
}

/** D-TCP-REQ: `REQ <id> <timeout_ms>\n`. */
export function encodeReq(id: Uint8Array, timeoutMs: number): Uint8Array {
  return idCommand("REQ", id, String(Math.max(0, Math.trunc(timeoutMs))));
}

/** D-TCP-TOUCH: `TOUCH <id>\n`. */
export function encodeTouch(id: Uint8Array): Uint8Array {
  return idCommand("TOUCH", id);
}
