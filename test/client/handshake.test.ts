// U-CLI-HANDSHAKE / D-TCP-NEGOTIATE: the client's handshake over a scripted
// socket. nsqd may send its IDENTIFY response and the first compressed bytes
// (the `OK` of the upgrade, a heartbeat) in one TCP segment or in any number
// of pieces; the handshake must take the response as plain bytes and hand
// the rest to the decompressor, wherever the stream is cut.
import { describe, expect, test } from "vitest";
import { Connection, type ConnectionDelegate } from "../../src/client/connection.ts";
import { Config, type ConfigValues } from "../../src/client/config.ts";
import { silentLogger } from "../../src/common/log.ts";
import { compression } from "../../src/runtime/compression.ts";
import { SnappyFrameDecoder, SnappyFrameEncoder } from "../../src/protocol/snappy-frame.ts";
import { HEARTBEAT_FRAME, MAGIC_V2, OK_FRAME, encodeError, encodeResponse } from "../../src/protocol/frames.ts";
import type { Runtime, Socket, SocketHandler } from "../../src/runtime/types.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A runtime whose one socket records writes and lets the test play the server. */
function scriptedRuntime(): { runtime: Runtime; written: Uint8Array[]; feed(bytes: Uint8Array): void; socket: () => Socket } {
  const written: Uint8Array[] = [];
  let handler: SocketHandler | null = null;
  let sock: Socket | null = null;
  const runtime = {
    compression,
    connect: async (_address: unknown, make: (s: Socket) => SocketHandler) => {
      let closed = false;
      sock = {
        write: (b: Uint8Array) => {
          written.push(b.slice());
          return true;
        },
        end: () => {},
        close: () => {
          if (closed) return;
          closed = true;
          handler!.close();
        },
        pause: () => {},
        resume: () => {},
        remoteAddress: "127.0.0.1",
        remotePort: 4150,
        localPort: 50000,
        upgradeTls: () => Promise.reject(new Error("no TLS here")),
        tls: null,
      } as unknown as Socket;
      handler = make(sock);
      return sock;
    },
  } as unknown as Runtime;
  return { runtime, written, feed: (b) => handler!.data(b), socket: () => sock! };
}

const noDelegate: ConnectionDelegate = { onMessage() {}, onResponse() {}, onError() {}, onClose() {} };

function identifyResponse(fields: Record<string, unknown>): Uint8Array {
  return encodeResponse(
    JSON.stringify({
      max_rdy_count: 2500,
      version: "1.3.0",
      max_msg_timeout: 900000,
      msg_timeout: 60000,
      tls_v1: false,
      deflate: false,
      snappy: false,
      auth_required: false,
      ...fields,
    }),
  );
}

/** The server's bytes for a compression upgrade: the plain response, then OK and a heartbeat through the compressor. */
function serverStream(kind: "snappy" | "deflate"): Uint8Array {
  const plain = identifyResponse({ [kind]: true });
  const after = concat(OK_FRAME, HEARTBEAT_FRAME);
  if (kind === "snappy") return concat(plain, new SnappyFrameEncoder(compression.snappyEncode).encode(after));
  const d = compression.deflateRaw(6);
  // Two sync-flushed blocks, as nsqd writes OK and the heartbeat separately.
  return concat(plain, d.push(OK_FRAME, true), d.push(HEARTBEAT_FRAME, true));
}

/** What the client wrote after IDENTIFY, decompressed. */
function clientAfterIdentify(kind: "snappy" | "deflate", written: Uint8Array[]): string {
  // written[0] is the magic, written[1] the plain IDENTIFY.
  const rest = concat(...written.slice(2));
  const plain = kind === "snappy" ? new SnappyFrameDecoder(compression.snappyDecode).push(rest) : compression.inflateRaw().push(rest, true);
  return text(plain);
}

async function handshake(kind: "snappy" | "deflate", cuts: number[]): Promise<{ conn: Connection; written: Uint8Array[] }> {
  const s = scriptedRuntime();
  const config: ConfigValues = new Config({ [kind]: true }).values;
  const conn = new Connection("127.0.0.1:4150", { runtime: s.runtime, logger: silentLogger, config, delegate: noDelegate });
  const done = conn.connect();
  await Promise.resolve();
  await Promise.resolve();
  const stream = serverStream(kind);
  let from = 0;
  for (const cut of [...cuts, stream.length]) {
    s.feed(stream.slice(from, cut));
    from = cut;
  }
  await done;
  // Let the compressed writes of this turn go out.
  await new Promise((r) => setTimeout(r, 0));
  return { conn, written: s.written };
}

describe("handshake framing across the compression switch", () => {
  for (const kind of ["snappy", "deflate"] as const) {
    test(`${kind}: response and compressed OK in one chunk, byte by byte, and split at every offset`, async () => {
      const length = serverStream(kind).length;
      const plans: number[][] = [[], Array.from({ length: length - 1 }, (_, i) => i + 1)];
      for (let i = 1; i < length; i++) plans.push([i]);
      for (const cuts of plans) {
        const { conn, written } = await handshake(kind, cuts);
        const where = `cuts ${cuts.length > 3 ? "every byte" : JSON.stringify(cuts)}`;
        expect(conn.identity?.[kind], where).toBe(true);
        expect(conn[kind], where).toBe(true);
        expect(text(written[0]!), where).toBe(text(MAGIC_V2));
        expect(text(written[1]!).startsWith("IDENTIFY\n"), where).toBe(true);
        // The heartbeat that followed OK was answered through the compressor.
        expect(clientAfterIdentify(kind, written), where).toBe("NOP\n");
        conn.close();
        expect(conn.closed).toBe(true);
      }
    });
  }

  test("an error frame instead of the upgrade's OK fails connect() with the nsqd error", async () => {
    const s = scriptedRuntime();
    const conn = new Connection("127.0.0.1:4150", {
      runtime: s.runtime,
      logger: silentLogger,
      config: new Config({ snappy: true }).values,
      delegate: noDelegate,
    });
    const done = conn.connect();
    await Promise.resolve();
    await Promise.resolve();
    s.feed(concat(identifyResponse({ snappy: true }), new SnappyFrameEncoder(compression.snappyEncode).encode(encodeError("E_IDENTIFY_FAILED nope"))));
    await expect(done).rejects.toThrow("E_IDENTIFY_FAILED nope");
    expect(conn.closed).toBe(true);
  });

  test("an upgrade nsqd grants without being asked is refused", async () => {
    const s = scriptedRuntime();
    const conn = new Connection("127.0.0.1:4150", { runtime: s.runtime, logger: silentLogger, config: new Config({}).values, delegate: noDelegate });
    const done = conn.connect();
    await Promise.resolve();
    await Promise.resolve();
    s.feed(identifyResponse({ deflate: true }));
    await expect(done).rejects.toThrow(/not requested/);
  });

  test("corrupt compressed bytes after the response fail connect() instead of hanging", async () => {
    const s = scriptedRuntime();
    const conn = new Connection("127.0.0.1:4150", {
      runtime: s.runtime,
      logger: silentLogger,
      config: new Config({ snappy: true, read_timeout: 2000 }).values,
      delegate: noDelegate,
    });
    const done = conn.connect();
    await Promise.resolve();
    await Promise.resolve();
    s.feed(concat(identifyResponse({ snappy: true }), utf8("not a snappy stream at all")));
    await expect(done).rejects.toThrow();
    expect(conn.closed).toBe(true);
  });
});

describe("writes after the handshake", () => {
  async function connected(fields: Record<string, unknown>, config: Partial<ConfigValues>) {
    const s = scriptedRuntime();
    const conn = new Connection("127.0.0.1:4150", { runtime: s.runtime, logger: silentLogger, config: new Config(config).values, delegate: noDelegate });
    const done = conn.connect();
    await Promise.resolve();
    await Promise.resolve();
    const plain = identifyResponse(fields);
    s.feed(fields["snappy"] === true ? concat(plain, new SnappyFrameEncoder(compression.snappyEncode).encode(OK_FRAME)) : plain);
    await done;
    await new Promise((r) => setTimeout(r, 0));
    return { conn, written: s.written };
  }

  test("a plain connection sends the commands of one turn in one socket write, as a compressed one does", async () => {
    for (const [fields, config] of [
      [{}, {}],
      [{ snappy: true }, { snappy: true }],
    ] as const) {
      const { conn, written } = await connected(fields, config);
      const before = written.length;
      conn.write(utf8("FIN 0123456789abcdef\n"));
      conn.write(utf8("RDY 5\n"));
      conn.write(utf8("TOUCH 0123456789abcdef\n"));
      expect(written.length, JSON.stringify(config)).toBe(before); // nothing until the turn ends
      await Promise.resolve();
      expect(written.length, JSON.stringify(config)).toBe(before + 1);
      const sent = written[before]!;
      const plain = config.snappy === true ? new SnappyFrameDecoder(compression.snappyDecode).push(sent) : sent;
      expect(text(plain)).toBe("FIN 0123456789abcdef\nRDY 5\nTOUCH 0123456789abcdef\n");
      conn.close();
    }
  });

  test("close() sends what was written in the same turn first", async () => {
    const { conn, written } = await connected({}, {});
    const before = written.length;
    conn.write(utf8("CLS\n"));
    conn.close();
    expect(written.slice(before).map(text)).toEqual(["CLS\n"]);
    expect(conn.write(utf8("NOP\n"))).toBe(false);
  });
});
