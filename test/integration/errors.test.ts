// Every error row of SPEC §2.2 (and D-TCP-MAGIC, D-TCP-CMDLINE), driven over
// a raw TCP connection against `nsq nsqd` as a process: the exact error-frame
// text (D-TCP-ERR-FORMAT), and whether the connection then closes (fatal) or
// keeps working (non-fatal, D-TCP-ERR-FATAL: a following NOP + PUB answers OK).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RUNTIMES } from "../helpers/cli.ts";
import { FrameType, decodeMessagePayload, encodeIdentify, encodePub, encodeRdy, encodeSub } from "../../src/protocol/frames.ts";
import { ensureDist, RawConnection, startNsqd, text, utf8, type NsqdProcess } from "./harness.ts";

/** A command line followed by a 4-byte size and then `body` (which may be shorter or absent). */
function sized(line: string, size: number, body: Uint8Array | string = new Uint8Array(0)): Uint8Array {
  const l = utf8(line);
  const b = typeof body === "string" ? utf8(body) : body;
  const out = new Uint8Array(l.length + 4 + b.length);
  out.set(l, 0);
  new DataView(out.buffer).setInt32(l.length, size);
  out.set(b, l.length + 4);
  return out;
}

function be32(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    view.setInt32(i * 4, v);
  });
  return out;
}

function join(...parts: (Uint8Array | string)[]): Uint8Array {
  const arrays = parts.map((p) => (typeof p === "string" ? utf8(p) : p));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

const MAX_MSG = 1048576;
const MAX_BODY = 5242880;
const MAX_REQ = 3600000;
const FAKE_ID = "0123456789abcdef";

interface Ctx {
  nsqd: NsqdProcess;
  /** Unique names for this row, so rows never share a channel. */
  topic: string;
  /** Values a prepare step found (e.g. a message id). */
  vars: Record<string, string>;
}

interface ErrorRow {
  spec: string;
  name: string;
  /** Runs on the connection before the failing command (state set-up). */
  prepare?: (c: RawConnection, ctx: Ctx) => Promise<void>;
  send: (ctx: Ctx) => Uint8Array | string;
  /** Half-close after sending: the command is cut short by EOF. */
  eof?: boolean;
  /** Whole error-frame text; null = closed without any frame. */
  expect: string | null | ((ctx: Ctx) => string);
  fatal: boolean;
}

async function subscribe(c: RawConnection, ctx: Ctx): Promise<void> {
  c.send(encodeSub(ctx.topic, "c"));
  await c.expectResponse("OK");
}

/**
 * Publishes one message and takes it in flight on another connection of the
 * same channel (kept open until the suite ends); `c` then joins the channel
 * without RDY, so the message stays owned by the other connection.
 */
async function otherClientsMessage(c: RawConnection, ctx: Ctx): Promise<void> {
  const owner = await RawConnection.open(ctx.nsqd.tcpPort);
  keepOpen.push(owner);
  owner.send(encodeSub(ctx.topic, "c"));
  await owner.expectResponse("OK");
  owner.send(encodePub(ctx.topic, utf8("owned")));
  await owner.expectResponse("OK");
  owner.send(encodeRdy(1));
  const f = await owner.next();
  expect(f?.type).toBe(FrameType.Message);
  ctx.vars.id = text(decodeMessagePayload(f!.data).id);
  await subscribe(c, ctx);
}

const rows: ErrorRow[] = [
  // ---- IDENTIFY ----
  {
    spec: "D-TCP-IDENTIFY",
    name: "IDENTIFY after SUB",
    prepare: subscribe,
    send: () => encodeIdentify({}),
    expect: "E_INVALID cannot IDENTIFY in current state",
    fatal: true,
  },
  {
    spec: "D-TCP-IDENTIFY",
    name: "IDENTIFY cut before its size",
    send: () => "IDENTIFY\n\0\0",
    eof: true,
    expect: "E_BAD_BODY IDENTIFY failed to read body size",
    fatal: true,
  },
  {
    spec: "D-TCP-IDENTIFY",
    name: "IDENTIFY body over --max-body-size",
    send: () => sized("IDENTIFY\n", MAX_BODY + 1),
    expect: `E_BAD_BODY IDENTIFY body too big ${MAX_BODY + 1} > ${MAX_BODY}`,
    fatal: true,
  },
  { spec: "D-TCP-IDENTIFY", name: "IDENTIFY body size 0", send: () => sized("IDENTIFY\n", 0), expect: "E_BAD_BODY IDENTIFY invalid body size 0", fatal: true },
  {
    spec: "D-TCP-IDENTIFY",
    name: "IDENTIFY negative body size",
    send: () => sized("IDENTIFY\n", -5),
    expect: "E_BAD_BODY IDENTIFY invalid body size -5",
    fatal: true,
  },
  {
    spec: "D-TCP-IDENTIFY",
    name: "IDENTIFY cut inside its body",
    send: () => sized("IDENTIFY\n", 20, "{}"),
    eof: true,
    expect: "E_BAD_BODY IDENTIFY failed to read body",
    fatal: true,
  },
  {
    spec: "D-TCP-IDENTIFY",
    name: "IDENTIFY with invalid JSON",
    send: () => sized("IDENTIFY\n", 5, "{nope"),
    expect: "E_BAD_BODY IDENTIFY failed to decode JSON body",
    fatal: true,
  },
  {
    spec: "D-TCP-IDENTIFY-FIELDS",
    name: "IDENTIFY heartbeat_interval 999",
    send: () => encodeIdentify({ heartbeat_interval: 999 }),
    expect: "E_BAD_BODY IDENTIFY heartbeat interval (999) is invalid",
    fatal: true,
  },
  {
    spec: "D-TCP-IDENTIFY-FIELDS",
    name: "IDENTIFY heartbeat_interval over the maximum",
    send: () => encodeIdentify({ heartbeat_interval: 60001 }),
    expect: "E_BAD_BODY IDENTIFY heartbeat interval (60001) is invalid",
    fatal: true,
  },
  {
    spec: "D-TCP-IDENTIFY-FIELDS",
    name: "IDENTIFY output_buffer_timeout 0 < x < minimum",
    send: () => encodeIdentify({ output_buffer_timeout: 1 }),
    expect: "E_BAD_BODY IDENTIFY output buffer timeout (1) is invalid",
    fatal: true,
  },
  {
    spec: "D-TCP-IDENTIFY-FIELDS",
    name: "IDENTIFY output_buffer_size 63",
    send: () => encodeIdentify({ output_buffer_size: 63 }),
    expect: "E_BAD_BODY IDENTIFY output buffer size (63) is invalid",
    fatal: true,
  },
  {
    spec: "D-TCP-IDENTIFY-FIELDS",
    name: "IDENTIFY sample_rate 100",
    send: () => encodeIdentify({ sample_rate: 100 }),
    expect: "E_BAD_BODY IDENTIFY sample rate (100) is invalid",
    fatal: true,
  },
  {
    spec: "D-TCP-IDENTIFY-FIELDS",
    name: "IDENTIFY msg_timeout 999",
    send: () => encodeIdentify({ msg_timeout: 999 }),
    expect: "E_BAD_BODY IDENTIFY msg timeout (999) is invalid",
    fatal: true,
  },
  {
    spec: "D-TCP-IDENTIFY",
    name: "IDENTIFY asking for deflate and snappy together (both enabled by default)",
    send: () => encodeIdentify({ feature_negotiation: true, deflate: true, snappy: true }),
    expect: "E_IDENTIFY_FAILED cannot enable both deflate and snappy compression",
    fatal: true,
  },

  // ---- AUTH (no --auth-http-address: E_AUTH_DISABLED) ----
  {
    spec: "D-TCP-AUTH",
    name: "AUTH after SUB",
    prepare: subscribe,
    send: () => sized("AUTH\n", 3, "abc"),
    expect: "E_INVALID cannot AUTH in current state",
    fatal: true,
  },
  {
    spec: "D-TCP-AUTH",
    name: "AUTH with a parameter",
    send: () => sized("AUTH x\n", 3, "abc"),
    expect: "E_INVALID AUTH invalid number of parameters",
    fatal: true,
  },
  { spec: "D-TCP-AUTH", name: "AUTH cut before its size", send: () => "AUTH\n\0", eof: true, expect: "E_BAD_BODY AUTH failed to read body size", fatal: true },
  {
    spec: "D-TCP-AUTH",
    name: "AUTH body over --max-body-size",
    send: () => sized("AUTH\n", MAX_BODY + 1),
    expect: `E_BAD_BODY AUTH body too big ${MAX_BODY + 1} > ${MAX_BODY}`,
    fatal: true,
  },
  { spec: "D-TCP-AUTH", name: "AUTH body size 0", send: () => sized("AUTH\n", 0), expect: "E_BAD_BODY AUTH invalid body size 0", fatal: true },
  {
    spec: "D-TCP-AUTH",
    name: "AUTH cut inside its body",
    send: () => sized("AUTH\n", 10, "ab"),
    eof: true,
    expect: "E_BAD_BODY AUTH failed to read body",
    fatal: true,
  },
  {
    spec: "D-TCP-AUTH",
    name: "AUTH when auth is not configured",
    send: () => sized("AUTH\n", 6, "secret"),
    expect: "E_AUTH_DISABLED AUTH disabled",
    fatal: true,
  },

  // ---- SUB ----
  {
    spec: "D-TCP-SUB",
    name: "second SUB",
    prepare: subscribe,
    send: (x) => encodeSub(x.topic, "d"),
    expect: "E_INVALID cannot SUB in current state",
    fatal: true,
  },
  {
    spec: "D-TCP-SUB",
    name: "SUB with heartbeats disabled",
    prepare: async (c) => {
      c.send(encodeIdentify({ heartbeat_interval: -1 }));
      await c.expectResponse("OK");
    },
    send: (x) => encodeSub(x.topic, "c"),
    expect: "E_INVALID cannot SUB with heartbeats disabled",
    fatal: true,
  },
  { spec: "D-TCP-SUB", name: "SUB without a channel", send: (x) => `SUB ${x.topic}\n`, expect: "E_INVALID SUB insufficient number of parameters", fatal: true },
  {
    spec: "D-TCP-SUB",
    name: "SUB to an invalid topic",
    send: () => "SUB bad!topic c\n",
    expect: 'E_BAD_TOPIC SUB topic name "bad!topic" is not valid',
    fatal: true,
  },
  {
    spec: "D-TCP-SUB",
    name: "SUB to an invalid channel",
    send: (x) => `SUB ${x.topic} bad*chan\n`,
    expect: 'E_BAD_CHANNEL SUB channel name "bad*chan" is not valid',
    fatal: true,
  },
  // ---- RDY ----
  { spec: "D-TCP-RDY", name: "RDY before SUB", send: () => "RDY 1\n", expect: "E_INVALID cannot RDY in current state", fatal: true },
  {
    spec: "D-TCP-RDY",
    name: "RDY with a non-number",
    prepare: subscribe,
    send: () => "RDY x1\n",
    expect: "E_INVALID RDY could not parse count x1",
    fatal: true,
  },
  { spec: "D-TCP-RDY", name: "RDY with a sign", prepare: subscribe, send: () => "RDY -1\n", expect: "E_INVALID RDY could not parse count -1", fatal: true },
  {
    spec: "D-TCP-RDY",
    name: "RDY over --max-rdy-count",
    prepare: subscribe,
    send: () => "RDY 2501\n",
    expect: "E_INVALID RDY count 2501 out of range 0-2500",
    fatal: true,
  },

  // ---- FIN ----
  { spec: "D-TCP-FIN", name: "FIN before SUB", send: () => `FIN ${FAKE_ID}\n`, expect: "E_INVALID cannot FIN in current state", fatal: true },
  { spec: "D-TCP-FIN", name: "FIN without an id", prepare: subscribe, send: () => "FIN\n", expect: "E_INVALID FIN insufficient number of params", fatal: true },
  { spec: "D-TCP-FIN", name: "FIN with a short id", prepare: subscribe, send: () => "FIN 0123\n", expect: "E_INVALID invalid message ID", fatal: true },
  {
    spec: "D-TCP-FIN",
    name: "FIN of an id not in flight",
    prepare: subscribe,
    send: () => `FIN ${FAKE_ID}\n`,
    expect: `E_FIN_FAILED FIN ${FAKE_ID} failed ID not in flight`,
    fatal: false,
  },
  {
    spec: "D-TCP-INFLIGHT-OWNER",
    name: "FIN of another client's message",
    prepare: otherClientsMessage,
    send: (x) => `FIN ${x.vars.id}\n`,
    expect: (x) => `E_FIN_FAILED FIN ${x.vars.id} failed client does not own message`,
    fatal: false,
  },

  // ---- REQ ----
  { spec: "D-TCP-REQ", name: "REQ before SUB", send: () => `REQ ${FAKE_ID} 0\n`, expect: "E_INVALID cannot REQ in current state", fatal: true },
  {
    spec: "D-TCP-REQ",
    name: "REQ without a timeout",
    prepare: subscribe,
    send: () => `REQ ${FAKE_ID}\n`,
    expect: "E_INVALID REQ insufficient number of params",
    fatal: true,
  },
  { spec: "D-TCP-REQ", name: "REQ with a short id", prepare: subscribe, send: () => "REQ 0123 0\n", expect: "E_INVALID invalid message ID", fatal: true },
  {
    spec: "D-TCP-REQ",
    name: "REQ with a non-number timeout",
    prepare: subscribe,
    send: () => `REQ ${FAKE_ID} 1s\n`,
    expect: "E_INVALID REQ could not parse timeout 1s",
    fatal: true,
  },
  {
    spec: "D-TCP-REQ",
    name: "REQ of an id not in flight",
    prepare: subscribe,
    send: () => `REQ ${FAKE_ID} 0\n`,
    expect: `E_REQ_FAILED REQ ${FAKE_ID} failed ID not in flight`,
    fatal: false,
  },
  {
    spec: "D-TCP-INFLIGHT-OWNER",
    name: "REQ of another client's message",
    prepare: otherClientsMessage,
    send: (x) => `REQ ${x.vars.id} 0\n`,
    expect: (x) => `E_REQ_FAILED REQ ${x.vars.id} failed client does not own message`,
    fatal: false,
  },

  // ---- TOUCH ----
  { spec: "D-TCP-TOUCH", name: "TOUCH before SUB", send: () => `TOUCH ${FAKE_ID}\n`, expect: "E_INVALID cannot TOUCH in current state", fatal: true },
  {
    spec: "D-TCP-TOUCH",
    name: "TOUCH without an id",
    prepare: subscribe,
    send: () => "TOUCH\n",
    expect: "E_INVALID TOUCH insufficient number of params",
    fatal: true,
  },
  {
    spec: "D-TCP-TOUCH",
    name: "TOUCH with a long id",
    prepare: subscribe,
    send: () => `TOUCH ${FAKE_ID}0\n`,
    expect: "E_INVALID invalid message ID",
    fatal: true,
  },
  {
    spec: "D-TCP-TOUCH",
    name: "TOUCH of an id not in flight",
    prepare: subscribe,
    send: () => `TOUCH ${FAKE_ID}\n`,
    expect: `E_TOUCH_FAILED TOUCH ${FAKE_ID} failed ID not in flight`,
    fatal: false,
  },
  {
    spec: "D-TCP-INFLIGHT-OWNER",
    name: "TOUCH of another client's message",
    prepare: otherClientsMessage,
    send: (x) => `TOUCH ${x.vars.id}\n`,
    expect: (x) => `E_TOUCH_FAILED TOUCH ${x.vars.id} failed client does not own message`,
    fatal: false,
  },

  // ---- CLS ----
  { spec: "D-TCP-CLS", name: "CLS before SUB", send: () => "CLS\n", expect: "E_INVALID cannot CLS in current state", fatal: true },
  {
    spec: "D-TCP-CLS",
    name: "CLS twice",
    prepare: async (c, x) => {
      await subscribe(c, x);
      c.send("CLS\n");
      await c.expectResponse("CLOSE_WAIT");
    },
    send: () => "CLS\n",
    expect: "E_INVALID cannot CLS in current state",
    fatal: true,
  },

  // ---- PUB ----
  {
    spec: "D-TCP-PUB",
    name: "PUB without a topic",
    send: () => sized("PUB\n", 1, "x"),
    expect: "E_INVALID PUB insufficient number of parameters",
    fatal: true,
  },
  {
    spec: "D-TCP-PUB",
    name: "PUB to an invalid topic",
    send: () => sized("PUB a/b\n", 1, "x"),
    expect: 'E_BAD_TOPIC PUB topic name "a/b" is not valid',
    fatal: true,
  },
  {
    spec: "D-TCP-PUB",
    name: "PUB cut before its size",
    send: (x) => `PUB ${x.topic}\n\0\0\0`,
    eof: true,
    expect: "E_BAD_MESSAGE PUB failed to read message body size",
    fatal: true,
  },
  {
    spec: "D-TCP-PUB",
    name: "PUB body size 0",
    send: (x) => sized(`PUB ${x.topic}\n`, 0),
    expect: "E_BAD_MESSAGE PUB invalid message body size 0",
    fatal: true,
  },
  {
    spec: "D-TCP-PUB",
    name: "PUB body over --max-msg-size",
    send: (x) => sized(`PUB ${x.topic}\n`, MAX_MSG + 1),
    expect: `E_BAD_MESSAGE PUB message too big ${MAX_MSG + 1} > ${MAX_MSG}`,
    fatal: true,
  },
  {
    spec: "D-TCP-PUB",
    name: "PUB cut inside its body",
    send: (x) => sized(`PUB ${x.topic}\n`, 10, "abc"),
    eof: true,
    expect: "E_BAD_MESSAGE PUB failed to read message body",
    fatal: true,
  },

  // ---- MPUB ----
  { spec: "D-TCP-MPUB", name: "MPUB without a topic", send: () => "MPUB\n", expect: "E_INVALID MPUB insufficient number of parameters", fatal: true },
  {
    spec: "D-TCP-MPUB",
    name: "MPUB to an invalid topic (code repeated, Q)",
    send: () => "MPUB a:b\n",
    expect: 'E_BAD_TOPIC E_BAD_TOPIC MPUB topic name "a:b" is not valid',
    fatal: true,
  },
  {
    spec: "D-TCP-MPUB",
    name: "MPUB cut before its body size",
    send: (x) => `MPUB ${x.topic}\n\0`,
    eof: true,
    expect: "E_BAD_BODY MPUB failed to read body size",
    fatal: true,
  },
  { spec: "D-TCP-MPUB", name: "MPUB body size 0", send: (x) => sized(`MPUB ${x.topic}\n`, 0), expect: "E_BAD_BODY MPUB invalid body size 0", fatal: true },
  {
    spec: "D-TCP-MPUB",
    name: "MPUB body over --max-body-size",
    send: (x) => sized(`MPUB ${x.topic}\n`, MAX_BODY + 1),
    expect: `E_BAD_BODY MPUB body too big ${MAX_BODY + 1} > ${MAX_BODY}`,
    fatal: true,
  },
  {
    spec: "D-TCP-MPUB",
    name: "MPUB cut before its message count",
    send: (x) => sized(`MPUB ${x.topic}\n`, 100, new Uint8Array(2)),
    eof: true,
    expect: "E_BAD_BODY MPUB failed to read message count",
    fatal: true,
  },
  {
    spec: "D-TCP-MPUB",
    name: "MPUB message count 0",
    send: (x) => sized(`MPUB ${x.topic}\n`, 100, be32(0)),
    expect: "E_BAD_BODY MPUB invalid message count 0",
    fatal: true,
  },
  {
    spec: "D-TCP-MPUB",
    name: "MPUB message count over (max-body-size - 4) / 5",
    send: (x) => sized(`MPUB ${x.topic}\n`, 100, be32(1048576)),
    expect: "E_BAD_BODY MPUB invalid message count 1048576",
    fatal: true,
  },
  {
    spec: "D-TCP-MPUB",
    name: "MPUB cut before a message size",
    send: (x) => sized(`MPUB ${x.topic}\n`, 100, join(be32(2, 1), "a", "\0")),
    eof: true,
    expect: "E_BAD_MESSAGE MPUB failed to read message(1) body size",
    fatal: true,
  },
  {
    spec: "D-TCP-MPUB",
    name: "MPUB message size 0",
    send: (x) => sized(`MPUB ${x.topic}\n`, 100, join(be32(2, 1), "a", be32(0))),
    expect: "E_BAD_MESSAGE MPUB invalid message(1) body size 0",
    fatal: true,
  },
  {
    spec: "D-TCP-MPUB",
    name: "MPUB message over --max-msg-size",
    send: (x) => sized(`MPUB ${x.topic}\n`, 100, be32(1, MAX_MSG + 1)),
    expect: `E_BAD_MESSAGE MPUB message too big ${MAX_MSG + 1} > ${MAX_MSG}`,
    fatal: true,
  },
  {
    spec: "D-TCP-MPUB",
    name: "MPUB cut inside a message",
    send: (x) => sized(`MPUB ${x.topic}\n`, 100, join(be32(1, 10), "abc")),
    eof: true,
    expect: "E_BAD_MESSAGE MPUB failed to read message body",
    fatal: true,
  },

  // ---- DPUB ----
  {
    spec: "D-TCP-DPUB",
    name: "DPUB without a timeout",
    send: (x) => sized(`DPUB ${x.topic}\n`, 1, "x"),
    expect: "E_INVALID DPUB insufficient number of parameters",
    fatal: true,
  },
  {
    spec: "D-TCP-DPUB",
    name: "DPUB to an invalid topic",
    send: () => sized("DPUB a%b 10\n", 1, "x"),
    expect: 'E_BAD_TOPIC DPUB topic name "a%b" is not valid',
    fatal: true,
  },
  {
    spec: "D-TCP-DPUB",
    name: "DPUB with a non-number timeout",
    send: (x) => sized(`DPUB ${x.topic} 10ms\n`, 1, "x"),
    expect: "E_INVALID DPUB could not parse timeout 10ms",
    fatal: true,
  },
  {
    spec: "D-TCP-DPUB",
    name: "DPUB timeout over --max-req-timeout",
    send: (x) => sized(`DPUB ${x.topic} ${MAX_REQ + 1}\n`, 1, "x"),
    expect: `E_INVALID DPUB timeout ${MAX_REQ + 1} out of range 0-${MAX_REQ}`,
    fatal: true,
  },
  {
    spec: "D-TCP-DPUB",
    name: "DPUB cut before its size",
    send: (x) => `DPUB ${x.topic} 10\n\0`,
    eof: true,
    expect: "E_BAD_MESSAGE DPUB failed to read message body size",
    fatal: true,
  },
  {
    spec: "D-TCP-DPUB",
    name: "DPUB body size 0",
    send: (x) => sized(`DPUB ${x.topic} 10\n`, 0),
    expect: "E_BAD_MESSAGE DPUB invalid message body size 0",
    fatal: true,
  },
  {
    spec: "D-TCP-DPUB",
    name: "DPUB body over --max-msg-size",
    send: (x) => sized(`DPUB ${x.topic} 10\n`, MAX_MSG + 1),
    expect: `E_BAD_MESSAGE DPUB message too big ${MAX_MSG + 1} > ${MAX_MSG}`,
    fatal: true,
  },
  {
    spec: "D-TCP-DPUB",
    name: "DPUB cut inside its body",
    send: (x) => sized(`DPUB ${x.topic} 10\n`, 10, "abc"),
    eof: true,
    expect: "E_BAD_MESSAGE DPUB failed to read message body",
    fatal: true,
  },

  // ---- framing ----
  { spec: "D-TCP-UNKNOWN", name: "unknown verb", send: () => "FOO bar\n", expect: "E_INVALID invalid command FOO", fatal: true },
  { spec: "D-TCP-UNKNOWN", name: "verbs are case-sensitive", send: (x) => `pub ${x.topic}\n`, expect: "E_INVALID invalid command pub", fatal: true },
  { spec: "D-TCP-CMDLINE", name: "a line over 16 KiB drops the connection without a frame (Q)", send: () => "X".repeat(17 * 1024), expect: null, fatal: true },
];

/** Rows that need the bad magic (sent instead of "  V2"). */
const magicRows = [
  { spec: "D-TCP-MAGIC", name: "bad protocol magic", magic: "  V1", expect: "E_BAD_PROTOCOL" },
  { spec: "D-TCP-MAGIC", name: "HTTP on the TCP port", magic: "GET / HTTP/1.1\r\n\r\n", expect: "E_BAD_PROTOCOL" },
];

/** Rows that belong to TLS or an auth server, which this server does not offer yet. */
// The TLS and AUTH rows (E_IDENTIFY_FAILED on a failed upgrade, the TLS policy,
// E_AUTH_*, E_UNAUTHORIZED) need a TLS or auth server set-up and are checked in
// test/nsqd/tls.test.ts and test/nsqd/auth.test.ts. These rows have no test yet:
const laterRows = [
  "D-TCP-SUB E_SUB_FAILED SUB failed to deleted topic/channel: needs the HTTP delete racing a SUB",
  "D-TCP-PUB/MPUB/DPUB E_*PUB_FAILED for a topic that is exiting: not reachable from a client (the disk-write error case is tested in test/durability/full-disk.test.ts)",
  "D-TCP-REQ E_REQ_FAILED ID already deferred / exiting: not reachable from a client",
];

const keepOpen: RawConnection[] = [];

describe.each(RUNTIMES)("nsqd error frames (SPEC §2.2) on %s", (rt) => {
  let nsqd: NsqdProcess;
  let started = 0;

  beforeAll(async () => {
    await ensureDist([rt]);
    started = Date.now();
    nsqd = await startNsqd(rt);
  });

  afterAll(async () => {
    for (const c of keepOpen.splice(0)) await c[Symbol.asyncDispose]();
    await nsqd?.[Symbol.asyncDispose]();
    if (started > 0) console.log(`[timing] errors suite on ${rt}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  rows.forEach((row, index) => {
    const title = `${row.spec}: ${row.name} -> ${typeof row.expect === "string" ? row.expect : row.expect === null ? "silent close" : "E_*"} (${row.fatal ? "fatal" : "non-fatal"})`;
    it(title, async () => {
      const ctx: Ctx = { nsqd, topic: `err_${rt}_${index}`, vars: {} };
      await using c = await RawConnection.open(nsqd.tcpPort);
      await row.prepare?.(c, ctx);
      c.send(row.send(ctx));
      if (row.eof) c.endWrite();
      const expected = typeof row.expect === "function" ? row.expect(ctx) : row.expect;
      const frame = await c.next(5_000);
      if (expected === null) {
        expect(frame).toBeNull();
        return;
      }
      expect(frame, "connection closed before an error frame").not.toBeNull();
      expect({ type: frame!.type, text: frame!.text }).toEqual({ type: FrameType.Error, text: expected });
      if (row.fatal) {
        expect(await c.closesWithin(3_000), "fatal error must close the connection").toBe(true);
        expect(await c.next(100)).toBeNull();
      } else {
        // Still usable: NOP has no answer, the PUB after it must be answered OK.
        c.send("NOP\n");
        c.send(encodePub(`${ctx.topic}_after`, utf8("still here")));
        await c.expectResponse("OK");
        expect(c.isClosed).toBe(false);
      }
    });
  });

  for (const row of magicRows) {
    it(`${row.spec}: ${row.name} -> ${row.expect} (fatal)`, async () => {
      await using c = await RawConnection.open(nsqd.tcpPort, { magic: false });
      c.send(row.magic);
      const frame = await c.next();
      expect({ type: frame?.type, text: frame?.text }).toEqual({ type: FrameType.Error, text: row.expect });
      expect(await c.closesWithin(3_000)).toBe(true);
    });
  }

  it("D-TCP-MAGIC: EOF before the 4 magic bytes closes silently", async () => {
    await using c = await RawConnection.open(nsqd.tcpPort, { magic: false });
    c.send("  V");
    c.endWrite();
    expect(await c.next()).toBeNull();
  });

  it("D-TCP-RDY / D-BEH-CLS: RDY after CLS is ignored and FIN still works", async () => {
    const topic = `err_${rt}_cls_rdy`;
    await using c = await RawConnection.open(nsqd.tcpPort);
    c.send(encodeSub(topic, "c"));
    await c.expectResponse("OK");
    c.send(encodePub(topic, utf8("m")));
    await c.expectResponse("OK");
    c.send(encodeRdy(1));
    const m = await c.next();
    expect(m?.type).toBe(FrameType.Message);
    c.send("CLS\n");
    await c.expectResponse("CLOSE_WAIT");
    c.send("RDY 5000\n"); // out of range, but ignored in the closing state
    c.send(`FIN ${text(decodeMessagePayload(m!.data).id)}\n`);
    c.send(encodePub(topic, utf8("n")));
    await c.expectResponse("OK");
    expect(c.isClosed).toBe(false);
  });

  it("D-BEH-MAX-CONSUMERS: SUB beyond --max-channel-consumers -> E_SUB_FAILED (fatal)", async () => {
    await using limited = await startNsqd(rt, { args: ["--max-channel-consumers=1"] });
    await using first = await RawConnection.open(limited.tcpPort);
    first.send(encodeSub("limited", "c"));
    await first.expectResponse("OK");
    await using second = await RawConnection.open(limited.tcpPort);
    second.send(encodeSub("limited", "c"));
    const f = await second.next();
    expect({ type: f?.type, text: f?.text }).toEqual({ type: FrameType.Error, text: "E_SUB_FAILED SUB failed consumers for limited:c exceeds limit of 1" });
    expect(await second.closesWithin(3_000)).toBe(true);
    // Another channel of the same topic is a separate count.
    await using third = await RawConnection.open(limited.tcpPort);
    third.send(encodeSub("limited", "d"));
    await third.expectResponse("OK");
  });

  for (const reason of laterRows) it.todo(reason);
});
