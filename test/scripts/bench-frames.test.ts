// The benchmark reader's in-place frame scanner (scripts/bench-frames.ts) must
// agree with the protocol's FrameReader on any chunking of the stream.
import { describe, expect, it } from "vitest";
import { FrameScanner, type FrameSink } from "../../scripts/bench-frames.ts";
import { FrameType, HEARTBEAT_FRAME, OK_FRAME, encodeError, writeMessageFrame, messageFrameSize } from "../../src/protocol/frames.ts";

interface Seen {
  type: number;
  data: number[];
}

class Collector implements FrameSink {
  readonly seen: Seen[] = [];
  frame(type: number, buf: Uint8Array, start: number, end: number): void {
    this.seen.push({ type, data: Array.from(buf.subarray(start, end)) });
  }
}

function messageFrame(body: Uint8Array, idChar: number): Uint8Array {
  const out = new Uint8Array(messageFrameSize(body.length));
  writeMessageFrame(out, 0, 1_700_000_000_000_000_000, 1, new Uint8Array(16).fill(idChar), body);
  return out;
}

function stream(): { bytes: Uint8Array; expected: Seen[] } {
  const frames = [
    OK_FRAME,
    messageFrame(new Uint8Array([1, 2, 3]), 0x61),
    HEARTBEAT_FRAME,
    messageFrame(new Uint8Array(0), 0x62),
    encodeError("E_FIN_FAILED FIN 0123456789abcdef failed ID not in flight"),
    messageFrame(
      new Uint8Array(300).map((_, i) => i & 0xff),
      0x63,
    ),
  ];
  const total = frames.reduce((n, f) => n + f.length, 0);
  const bytes = new Uint8Array(total);
  let at = 0;
  const expected: Seen[] = [];
  for (const f of frames) {
    bytes.set(f, at);
    at += f.length;
    const view = new DataView(f.buffer, f.byteOffset, f.byteLength);
    expected.push({ type: view.getInt32(4), data: Array.from(f.subarray(8)) });
  }
  return { bytes, expected };
}

function feed(chunks: Uint8Array[]): Seen[] {
  const sink = new Collector();
  const scanner = new FrameScanner(sink);
  for (const c of chunks) scanner.push(c);
  return sink.seen;
}

describe("bench FrameScanner (D-TCP-FRAME)", () => {
  it("yields every frame of a stream pushed in one chunk", () => {
    const { bytes, expected } = stream();
    const seen = feed([bytes]);
    expect(seen).toEqual(expected);
    expect(seen.map((s) => s.type)).toEqual([FrameType.Response, FrameType.Message, FrameType.Response, FrameType.Message, FrameType.Error, FrameType.Message]);
  });

  it("yields the same frames when the stream is pushed byte by byte", () => {
    const { bytes, expected } = stream();
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i++) chunks.push(bytes.slice(i, i + 1));
    expect(feed(chunks)).toEqual(expected);
  });

  it("yields the same frames when the stream is split at every offset, twice", () => {
    const { bytes, expected } = stream();
    for (let a = 1; a < bytes.length; a++) {
      expect(feed([bytes.slice(0, a), bytes.slice(a)])).toEqual(expected);
      // A second split a little further exercises a carried frame followed by more carries.
      const b = Math.min(bytes.length, a + 7);
      expect(feed([bytes.slice(0, a), bytes.slice(a, b), bytes.slice(b)])).toEqual(expected);
    }
  });

  it("rejects a frame size below 4 and an unknown frame type", () => {
    expect(() => feed([new Uint8Array([0, 0, 0, 3, 0, 0, 0, 0])])).toThrow(SyntaxError);
    expect(() => feed([new Uint8Array([0, 0, 0, 3]), new Uint8Array([0, 0, 0, 0])])).toThrow(SyntaxError);
    expect(() => feed([new Uint8Array([0, 0, 0, 4, 0, 0, 0, 9])])).toThrow(SyntaxError);
    expect(() => feed([new Uint8Array([0, 0, 0, 4, 0, 0]), new Uint8Array([0, 9])])).toThrow(SyntaxError);
  });
});
