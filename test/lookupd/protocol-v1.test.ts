// L-TCP-*: the lookupd side of protocol V1, driven byte for byte through a
// fake socket: replies, errors (all fatal), registrations and their removal
// on disconnect. Every session is fed whole, byte by byte and split at every
// offset, and must give the same replies and the same registry.
import { describe, expect, test } from "vitest";
import { LookupConnection, decodePeerInfo, type LookupConnectionHost } from "../../src/lookupd/client-v1.ts";
import { ANY, RegistrationDB } from "../../src/lookupd/registration-db.ts";
import { MAGIC_V1 } from "../../src/protocol/lookup.ts";
import type { Socket } from "../../src/runtime/types.ts";
import { silentLogger } from "../../src/common/log.ts";
import { allChunkings, be32, bytes, text } from "../protocol/chunking.ts";

class FakeSocket implements Socket {
  written: Uint8Array[] = [];
  ended = false;
  closed = false;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort = 4160;
  readonly tls = null;
  constructor(ip = "10.0.0.5", port = 40000) {
    this.remoteAddress = ip;
    this.remotePort = port;
  }
  write(b: Uint8Array): boolean {
    this.written.push(new Uint8Array(b));
    return true;
  }
  end(): void {
    this.ended = true;
  }
  close(): void {
    this.closed = true;
  }
  pause(): void {}
  resume(): void {}
  upgradeTls(): never {
    throw new Error("no TLS on lookupd");
  }
  /** Replies as [size][data] frames, decoded independently of the codec under test. */
  replies(): string[] {
    const all = bytes(...this.written);
    const out: string[] = [];
    let at = 0;
    while (at < all.length) {
      const size = new DataView(all.buffer, all.byteOffset + at, 4).getUint32(0);
      out.push(text(all.subarray(at + 4, at + 4 + size)));
      at += 4 + size;
    }
    expect(at).toBe(all.length);
    return out;
  }
  /** Replies as Latin-1 strings (one char per byte), for texts that echo bytes that are not UTF-8. */
  rawReplies(): string[] {
    const all = bytes(...this.written);
    const out: string[] = [];
    for (let at = 0; at < all.length; ) {
      const size = new DataView(all.buffer, all.byteOffset + at, 4).getUint32(0);
      out.push(String.fromCharCode(...all.subarray(at + 4, at + 4 + size)));
      at += 4 + size;
    }
    return out;
  }
}

function host(db = new RegistrationDB(), now = () => 1_000_000): LookupConnectionHost & { closedCount: number } {
  return {
    db,
    logger: silentLogger,
    now,
    maxBodySize: 1024,
    identifyReply: () => ({ tcp_port: 4160, http_port: 4161, broadcast_address: "lookupd.example", hostname: "lk-host" }),
    closedCount: 0,
    connectionClosed() {
      this.closedCount++;
    },
  };
}

const IDENTITY = JSON.stringify({
  broadcast_address: "nsqd.example",
  tcp_port: 4150,
  http_port: 4151,
  version: "1.3.0",
  hostname: "n1",
  topology_zone: "z",
  remote_address: "spoofed:1",
});
const IDENTIFY_REPLY = '{"broadcast_address":"lookupd.example","hostname":"lk-host","http_port":4161,"tcp_port":4160,"version":"1.3.0"}';

function session(chunks: Uint8Array[], h = host()) {
  const socket = new FakeSocket();
  const conn = new LookupConnection(h, socket);
  for (const c of chunks) conn.data(c);
  return { socket, conn, db: h.db, host: h };
}

describe("LookupConnection (L-TCP-*)", () => {
  const stream = bytes(
    MAGIC_V1,
    "PING\n",
    "IDENTIFY\n",
    be32(IDENTITY.length),
    IDENTITY,
    "REGISTER t\n",
    " REGISTER t c \n",
    "REGISTER t e#ephemeral\n",
    "UNREGISTER t e#ephemeral\n",
    "REGISTER u\n",
    "UNREGISTER u\n",
    "PING\n",
  );

  for (const { name, chunks } of allChunkings(stream)) {
    test(`a full registration session gives the same replies and registry (${name})`, () => {
      const { socket, db } = session(chunks);
      expect(socket.replies()).toEqual(["OK", IDENTIFY_REPLY, "OK", "OK", "OK", "OK", "OK", "OK", "OK"]);
      expect(socket.ended || socket.closed).toBe(false);
      expect(db.findRegistrations("topic", ANY, "").map((r) => r.key)).toEqual(["t", "u"]);
      expect(db.findRegistrations("channel", "t", ANY).map((r) => r.subkey)).toEqual(["c"]);
      expect(db.findProducers("topic", "u", "")).toEqual([]);
      const [client] = db.findProducers("client", "", "");
      expect(client!.peer).toMatchObject({
        id: "10.0.0.5:40000",
        remote_address: "10.0.0.5:40000",
        broadcast_address: "nsqd.example",
        hostname: "n1",
        topology_zone: "z",
        topology_region: "",
      });
    });
  }

  test("L-TCP-FRAME: the OK reply is 00 00 00 02 4F 4B", () => {
    const { socket } = session([bytes(MAGIC_V1, "PING\n")]);
    expect(Array.from(socket.written[0]!)).toEqual([0, 0, 0, 2, 0x4f, 0x4b]);
  });

  test("L-TCP-DISCONNECT removes the producer from every key; keys stay, except none are dropped", () => {
    const { conn, db, host: h } = session([bytes(MAGIC_V1, "IDENTIFY\n", be32(IDENTITY.length), IDENTITY, "REGISTER t c\n", "REGISTER t#ephemeral\n")]);
    expect(db.lookupRegistrations("10.0.0.5:40000")).toHaveLength(4);
    conn.close();
    expect(db.lookupRegistrations("10.0.0.5:40000")).toEqual([]);
    // A disconnect alone keeps even #ephemeral keys (L-BEH-DB).
    expect(db.findRegistrations("topic", ANY, "").map((r) => r.key)).toEqual(["t", "t#ephemeral"]);
    expect(h.closedCount).toBe(1);
    conn.close();
    expect(h.closedCount).toBe(1);
  });

  test("L-TCP-UNREGISTER without a channel removes the peer from the topic's channels too", () => {
    const other = new FakeSocket("10.0.0.6", 1);
    const h = host();
    const second = new LookupConnection(h, other);
    second.data(bytes(MAGIC_V1, "IDENTIFY\n", be32(IDENTITY.length), IDENTITY, "REGISTER t c\n"));
    const { socket, db } = session(
      [
        bytes(
          MAGIC_V1,
          "IDENTIFY\n",
          be32(IDENTITY.length),
          IDENTITY,
          "REGISTER t c\n",
          "REGISTER t#ephemeral\n",
          "UNREGISTER t\n",
          "UNREGISTER t#ephemeral\n",
        ),
      ],
      h,
    );
    expect(socket.replies().slice(2)).toEqual(["OK", "OK", "OK"]);
    expect(db.findProducers("channel", "t", "c").map((p) => p.peer.id)).toEqual(["10.0.0.6:1"]);
    expect(db.findProducers("topic", "t", "").map((p) => p.peer.id)).toEqual(["10.0.0.6:1"]);
    // The ephemeral topic key went with its last producer.
    expect(db.findRegistrations("topic", "t#ephemeral", "")).toEqual([]);
  });

  const errors: [string, Uint8Array, string][] = [
    ["L-TCP-MAGIC wrong magic", bytes("  V2PING\n"), "E_BAD_PROTOCOL"],
    ["L-TCP-UNKNOWN verb", bytes(MAGIC_V1, "FOO bar\n"), "E_INVALID invalid command FOO"],
    ["empty line", bytes(MAGIC_V1, "\n"), "E_INVALID invalid command "],
    ["REGISTER before IDENTIFY", bytes(MAGIC_V1, "REGISTER t\n"), "E_INVALID client must IDENTIFY"],
    ["UNREGISTER before IDENTIFY", bytes(MAGIC_V1, "UNREGISTER t\n"), "E_INVALID client must IDENTIFY"],
    ["IDENTIFY body not JSON", bytes(MAGIC_V1, "IDENTIFY\n", be32(3), "{x}"), "E_BAD_BODY IDENTIFY failed to decode JSON body"],
    ["IDENTIFY field of the wrong type", bytes(MAGIC_V1, "IDENTIFY\n", be32(16), '{"tcp_port":"1"}'), "E_BAD_BODY IDENTIFY failed to decode JSON body"],
    ["IDENTIFY missing fields", bytes(MAGIC_V1, "IDENTIFY\n", be32(2), "{}"), "E_BAD_BODY IDENTIFY missing fields"],
    ["IDENTIFY body over the limit", bytes(MAGIC_V1, "IDENTIFY\n", be32(5000)), "E_BAD_BODY IDENTIFY failed to read body"],
  ];
  for (const [name, input, expected] of errors) {
    test(`${name}: ${expected}, then the connection closes`, () => {
      const { socket, db } = session([input]);
      expect(socket.replies()).toEqual([expected]);
      expect(socket.ended).toBe(true);
      expect(db.findProducers("client", "", "")).toEqual([]);
    });
  }

  test("IDENTIFY twice: E_INVALID cannot IDENTIFY again, and nothing after it runs", () => {
    const body = bytes("IDENTIFY\n", be32(IDENTITY.length), IDENTITY);
    const { socket, db } = session([bytes(MAGIC_V1, body, body, "REGISTER t\n")]);
    expect(socket.replies()).toEqual([IDENTIFY_REPLY, "E_INVALID cannot IDENTIFY again"]);
    expect(db.findRegistrations("topic", ANY, "")).toEqual([]);
  });

  // The original reads IDENTIFY's size and body with io.ReadFull and answers a
  // short read with E_BAD_BODY before it closes; EOF elsewhere closes silently.
  const cutShort: [string, Uint8Array, string | null][] = [
    ["EOF inside IDENTIFY's body", bytes(MAGIC_V1, "IDENTIFY\n", be32(IDENTITY.length), IDENTITY.slice(0, 10)), "E_BAD_BODY IDENTIFY failed to read body"],
    ["EOF inside IDENTIFY's size", bytes(MAGIC_V1, "IDENTIFY\n", [0, 0]), "E_BAD_BODY IDENTIFY failed to read body size"],
    ["EOF right after the IDENTIFY line", bytes(MAGIC_V1, "IDENTIFY\n"), "E_BAD_BODY IDENTIFY failed to read body size"],
    ["EOF inside a command line", bytes(MAGIC_V1, "PING\n", "REGIS"), null],
    ["EOF between commands", bytes(MAGIC_V1, "PING\n"), null],
  ];
  for (const [name, input, expected] of cutShort) {
    for (const { name: how, chunks } of [
      { name: "whole", chunks: [input] },
      { name: "byte by byte", chunks: Array.from(input, (b) => new Uint8Array([b])) },
    ]) {
      test(`L-TCP-IDENTIFY ${name} (${how}): ${expected ?? "no reply"}`, () => {
        const { socket, conn } = session(chunks);
        const before = socket.replies().length;
        conn.end();
        const after = socket.replies().slice(before);
        expect(after).toEqual(expected === null ? [] : [expected]);
        expect(socket.ended).toBe(expected !== null);
      });
    }
  }

  test("L-TCP-IDENTIFY: a second IDENTIFY is refused before its body, even one cut short", () => {
    const { socket, conn } = session([bytes(MAGIC_V1, "IDENTIFY\n", be32(IDENTITY.length), IDENTITY, "IDENTIFY\n", be32(100), "{")]);
    conn.end();
    expect(socket.replies()).toEqual([IDENTIFY_REPLY, "E_INVALID cannot IDENTIFY again"]);
  });

  test("errors echo the command's bytes as sent, not as U+FFFD (L-TCP-UNKNOWN, L-TCP-REGISTER)", () => {
    const id = bytes(MAGIC_V1, "IDENTIFY\n", be32(IDENTITY.length), IDENTITY);
    expect(session([bytes(MAGIC_V1, [0xff, 0xfe], "X\n")]).socket.rawReplies()).toEqual(["E_INVALID invalid command \xff\xfeX"]);
    expect(session([bytes(id, "REGISTER t", [0xe9], "\n")]).socket.rawReplies()[1]).toBe("E_BAD_TOPIC REGISTER topic name 't\xe9' is not valid");
    expect(session([bytes(id, "UNREGISTER t c", [0xc3, 0xa9], "\n")]).socket.rawReplies()[1]).toBe(
      "E_BAD_CHANNEL UNREGISTER channel name 'c\xc3\xa9' is not valid",
    );
  });

  test("L-TCP-REGISTER parameter errors", () => {
    const id = bytes(MAGIC_V1, "IDENTIFY\n", be32(IDENTITY.length), IDENTITY);
    expect(session([bytes(id, "REGISTER\n")]).socket.replies()[1]).toBe("E_INVALID REGISTER insufficient number of params");
    expect(session([bytes(id, "REGISTER bad!topic\n")]).socket.replies()[1]).toBe("E_BAD_TOPIC REGISTER topic name 'bad!topic' is not valid");
    expect(session([bytes(id, "UNREGISTER t bad!ch\n")]).socket.replies()[1]).toBe("E_BAD_CHANNEL UNREGISTER channel name 'bad!ch' is not valid");
  });

  test("L-TCP-PING refreshes last_update of an identified peer only", () => {
    let now = 1000;
    const h = host(new RegistrationDB(), () => now);
    const socket = new FakeSocket();
    const conn = new LookupConnection(h, socket);
    conn.data(bytes(MAGIC_V1, "PING\n", "IDENTIFY\n", be32(IDENTITY.length), IDENTITY));
    expect(conn.peer!.lastUpdate).toBe(1000);
    now = 7000;
    conn.data(bytes("PING\n"));
    expect(conn.peer!.lastUpdate).toBe(7000);
  });
});

describe("decodePeerInfo", () => {
  test("matches keys case-insensitively, ignores unknown keys, treats null as empty", () => {
    const info = decodePeerInfo(bytes('{"Broadcast_Address":"b","TCP_PORT":1,"http_port":null,"extra":[1]}'), "ip:1", 5);
    expect(info).toMatchObject({ broadcast_address: "b", tcp_port: 1, http_port: 0, lastUpdate: 5, remote_address: "ip:1" });
  });
  test("refuses non-objects and non-integer ports", () => {
    expect(decodePeerInfo(bytes("[1]"), "i", 0)).toBeNull();
    expect(decodePeerInfo(bytes('{"tcp_port":1.5}'), "i", 0)).toBeNull();
    expect(decodePeerInfo(bytes("null"), "i", 0)).not.toBeNull();
  });
});
