import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  CLOSE_WAIT_FRAME,
  FrameReader,
  FrameType,
  HEARTBEAT_FRAME,
  MAGIC_V2,
  MESSAGE_HEADER_SIZE,
  OK_FRAME,
  decodeMessagePayload,
  encodeCommand,
  encodeDpub,
  encodeError,
  encodeFin,
  encodeIdentify,
  encodeMessagePayload,
  encodeMpub,
  encodeMpubBinary,
  encodePub,
  encodeRdy,
  encodeReq,
  encodeResponse,
  encodeSub,
  encodeTouch,
  messageFrameSize,
  readInt64,
  writeInt64,
  writeMessageFrame,
  type Frame,
} from "../../src/protocol/frames.ts";
import { allChunkings, be32, bytes, text } from "./chunking.ts";

const hex = (a: Uint8Array) => Array.from(a, (b) => b.toString(16).padStart(2, "0")).join(" ");
const ID = new TextEncoder().encode("0123456789abcdef");

function int64Bytes(v: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, v);
  return out;
}

describe("D-TCP-FRAME server frames", () => {
  it("OK frame is 00 00 00 06 00 00 00 00 4F 4B", () => {
    expect(hex(OK_FRAME)).toBe("00 00 00 06 00 00 00 00 4f 4b");
    expect(hex(encodeResponse("OK"))).toBe(hex(OK_FRAME));
  });

  it("heartbeat and CLOSE_WAIT frames have sizes 0x0F and 0x0E", () => {
    expect(hex(HEARTBEAT_FRAME.subarray(0, 8))).toBe("00 00 00 0f 00 00 00 00");
    expect(text(HEARTBEAT_FRAME.subarray(8))).toBe("_heartbeat_");
    expect(hex(CLOSE_WAIT_FRAME.subarray(0, 8))).toBe("00 00 00 0e 00 00 00 00");
    expect(text(CLOSE_WAIT_FRAME.subarray(8))).toBe("CLOSE_WAIT");
  });

  it("error frame is [4+len][1][text]", () => {
    const t = "E_INVALID invalid command FOO";
    const f = encodeError(t);
    expect(Array.from(f.subarray(0, 8))).toEqual([...be32(4 + t.length), 0, 0, 0, 1]);
    expect(text(f.subarray(8))).toBe(t);
  });

  it("response frame carries bytes unchanged", () => {
    const data = new Uint8Array([0, 255, 10, 13]);
    expect(Array.from(encodeResponse(data))).toEqual([...be32(8), 0, 0, 0, 0, 0, 255, 10, 13]);
  });
});

describe("D-TCP-MSG message layout", () => {
  it("message frame for body 'hi', attempts 1 matches the SPEC §11 vector", () => {
    const ts = 1_700_000_000_000_000_000;
    const target = new Uint8Array(64).fill(0xee);
    const n = writeMessageFrame(target, 3, ts, 1, ID, bytes("hi"));
    expect(n).toBe(36);
    expect(messageFrameSize(2)).toBe(36);
    expect(target[2]).toBe(0xee); // nothing written before the offset
    expect(target[3 + 36]).toBe(0xee); // nor after the frame
    const f = target.subarray(3, 3 + 36);
    expect(hex(f.subarray(0, 8))).toBe("00 00 00 20 00 00 00 02");
    expect(hex(f.subarray(8, 16))).toBe(hex(int64Bytes(BigInt(ts))));
    expect(hex(f.subarray(16, 18))).toBe("00 01");
    expect(text(f.subarray(18, 34))).toBe("0123456789abcdef");
    expect(text(f.subarray(34))).toBe("hi");
  });

  it("writeMessageFrame refuses a frame that does not fit and a bad id", () => {
    expect(() => writeMessageFrame(new Uint8Array(35), 0, 1, 1, ID, bytes("hi"))).toThrow(RangeError);
    expect(() => writeMessageFrame(new Uint8Array(64), 0, 1, 1, ID.subarray(0, 15), bytes("hi"))).toThrow(RangeError);
  });

  it("attempts are written as uint16 and wrap at 65536", () => {
    const p = encodeMessagePayload(0, 65535, ID, bytes("x"));
    expect(hex(p.subarray(8, 10))).toBe("ff ff");
    expect(decodeMessagePayload(encodeMessagePayload(0, 65536, ID, bytes("x"))).attempts).toBe(0);
  });

  it("payload encodes and decodes whole, with views for id and body", () => {
    // biome-ignore lint/correctness/noPrecisionLoss: the literal is the double nearest to itself, on purpose
    const ts = 1_712_345_678_901_234_432; // a double-exact ns timestamp
    const p = encodeMessagePayload(ts, 7, ID, bytes("body"));
    expect(p.length).toBe(MESSAGE_HEADER_SIZE + 4);
    const m = decodeMessagePayload(p);
    expect(m.timestampNs).toBe(ts);
    expect(m.attempts).toBe(7);
    expect(text(m.id)).toBe("0123456789abcdef");
    expect(text(m.body)).toBe("body");
    expect(m.body.buffer).toBe(p.buffer);
    expect(() => decodeMessagePayload(p.subarray(0, 25))).toThrow(SyntaxError);
    expect(decodeMessagePayload(p.subarray(0, 26)).body.length).toBe(0);
  });

  it("int64 write matches BigInt encoding for every integer a double holds", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (big) => {
        const v = Number(big); // rounded to a double, which is itself an exact integer
        const exact = BigInt(v);
        if (exact >= 2n ** 63n) return; // rounding up past the int64 range
        const out = new Uint8Array(8);
        writeInt64(out, 0, v);
        expect(hex(out)).toBe(hex(int64Bytes(exact)));
        expect(readInt64(out, 0)).toBe(v);
      }),
      { numRuns: 2000 },
    );
  });

  it("int64 read of arbitrary bytes rounds to the nearest double (sub-microsecond loss)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (big) => {
        const got = readInt64(int64Bytes(big), 0);
        const diff = BigInt(got) - big;
        const abs = big < 0n ? -big : big;
        // one ulp of a double near |big| is at most |big| / 2^52
        expect((diff < 0n ? -diff : diff) <= abs / 2n ** 52n + 1n).toBe(true);
      }),
      { numRuns: 2000 },
    );
    // biome-ignore lint/correctness/noPrecisionLoss: the double nearest to the int64 is what readInt64 returns
    expect(readInt64(int64Bytes(1_700_000_000_123_456_789n), 0)).toBe(1_700_000_000_123_456_768);
  });
});

describe("client command encoders", () => {
  it("MAGIC_V2 is 20 20 56 32", () => {
    expect(hex(MAGIC_V2)).toBe("20 20 56 32");
  });

  it("PUB matches the SPEC §11 vector", () => {
    expect(hex(encodePub("t", bytes("hello")))).toBe("50 55 42 20 74 0a 00 00 00 05 68 65 6c 6c 6f");
  });

  it("MPUB of a, bc matches the SPEC §11 vector", () => {
    expect(hex(encodeMpub("t", [bytes("a"), bytes("bc")]))).toBe("4d 50 55 42 20 74 0a 00 00 00 0f 00 00 00 02 00 00 00 01 61 00 00 00 02 62 63");
  });

  it("binary multi-message body has no total size (HTTP /mpub vector)", () => {
    expect(hex(encodeMpubBinary([bytes("a"), bytes("bc")]))).toBe("00 00 00 02 00 00 00 01 61 00 00 00 02 62 63");
  });

  it("line commands", () => {
    expect(text(encodeDpub("t", 1500, bytes("x")).subarray(0, 12))).toBe("DPUB t 1500\n");
    expect(text(encodeSub("t", "c"))).toBe("SUB t c\n");
    expect(text(encodeRdy(10))).toBe("RDY 10\n");
    expect(text(encodeFin(ID))).toBe("FIN 0123456789abcdef\n");
    expect(text(encodeReq(ID, 250))).toBe("REQ 0123456789abcdef 250\n");
    expect(text(encodeTouch(ID))).toBe("TOUCH 0123456789abcdef\n");
    expect(text(encodeCommand("NOP"))).toBe("NOP\n");
    expect(text(encodeCommand("X", ["a", "", "b"]))).toBe("X a  b\n");
  });

  it("IDENTIFY carries its JSON body with a size", () => {
    const c = encodeIdentify({ client_id: "c", feature_negotiation: true });
    const json = '{"client_id":"c","feature_negotiation":true}';
    expect(text(c.subarray(0, 9))).toBe("IDENTIFY\n");
    expect(Array.from(c.subarray(9, 13))).toEqual(be32(json.length));
    expect(text(c.subarray(13))).toBe(json);
  });
});

describe("FrameReader", () => {
  const payload = encodeMessagePayload(1_000_000, 2, ID, bytes("message body"));
  const big = new Uint8Array(300).map((_, i) => i & 255);
  const stream = bytes(
    OK_FRAME,
    encodeError("E_INVALID invalid command FOO"),
    [...be32(4 + payload.length), 0, 0, 0, 2],
    payload,
    [0, 0, 0, 4, 0, 0, 0, 0], // empty response
    HEARTBEAT_FRAME,
    encodeResponse(big),
  );
  const expected = [
    { type: 0, data: "OK" },
    { type: 1, data: "E_INVALID invalid command FOO" },
    { type: 2, data: hex(payload) },
    { type: 0, data: "" },
    { type: 0, data: "_heartbeat_" },
    { type: 0, data: hex(big) },
  ];
  const norm = (f: Frame) => ({ type: f.type, data: f.type === 2 || f.data.length > 100 ? hex(f.data) : text(f.data) });

  it.each(allChunkings(stream).map((c) => [c.name, c.chunks] as const))("decodes a mixed stream fed %s", (_name, chunks) => {
    const r = new FrameReader();
    const frames = chunks.flatMap((c) => r.push(c));
    expect(frames.map(norm)).toEqual(expected);
    expect(r.pending).toBe(0);
  });

  it("returns views of the chunk when a frame lies in one chunk", () => {
    const chunk = bytes(OK_FRAME);
    const [f] = new FrameReader().push(chunk);
    expect(f!.data.buffer).toBe(chunk.buffer);
  });

  it("throws on a size below 4, an unknown frame type and an oversized frame", () => {
    expect(() => new FrameReader().push(bytes([0, 0, 0, 3, 0, 0, 0, 0]))).toThrow(SyntaxError);
    expect(() => new FrameReader().push(bytes([0, 0, 0, 4, 0, 0, 0, 3]))).toThrow(SyntaxError);
    expect(() => new FrameReader({ maxFrameSize: 10 }).push(bytes([0, 0, 0, 15, 0, 0, 0, 0]))).toThrow(RangeError);
    expect(() => new FrameReader().push(bytes([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]))).toThrow(RangeError);
  });

  it("does not allocate for a declared size before its bytes arrive", () => {
    const r = new FrameReader();
    expect(r.push(bytes([0x70, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3]))).toEqual([]);
    expect(r.pending).toBe(3);
    expect(FrameType.Message).toBe(2);
  });
});
