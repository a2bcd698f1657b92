// The disk queue's write buffer (D-BEH-DISKQUEUE record framing): records
// survive growth, and the large buffers a burst needs are reused through a
// bounded pool instead of grown again from 16 KiB every turn.
import { describe, expect, it } from "vitest";
import { RecordBuffer, pooledBuffers } from "../../src/nsqd/record-buffer.ts";

/** The records of a framed byte run ([int32 len][bytes] ...). */
function records(bytes: Uint8Array): number[][] {
  const out: number[][] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at < bytes.length; ) {
    const len = view.getInt32(at);
    out.push(Array.from(bytes.subarray(at + 4, at + 4 + len)));
    at += 4 + len;
  }
  return out;
}

/** Records of `size` bytes, each filled with its own index. */
function fill(buf: RecordBuffer, count: number, size: number, from = 0): void {
  for (let i = 0; i < count; i++) buf.push(new Uint8Array(size).fill((from + i) & 0xff));
}

describe("RecordBuffer", () => {
  it("frames records and keeps them through growth", () => {
    const buf = new RecordBuffer();
    fill(buf, 300, 1000);
    expect(buf.records).toBe(300);
    expect(buf.length).toBe(300 * 1004);
    const got = records(buf.bytes());
    expect(got).toHaveLength(300);
    expect(got).toEqual(Array.from({ length: 300 }, (_, i) => new Array(1000).fill(i & 0xff)));
  });

  it("gives a large emptied buffer to the pool and the next growing buffer takes it, showing none of its old bytes", () => {
    const start = pooledBuffers();
    const a = new RecordBuffer();
    fill(a, 400, 1000, 7); // about 400 KB: past the pooled minimum
    a.clear();
    expect(pooledBuffers()).toBe(Math.min(start + 1, 4));
    const b = new RecordBuffer();
    fill(b, 20, 1000, 100); // 20 KB: past the initial 16 KiB, so it grows, from the pool
    expect(pooledBuffers()).toBe(Math.min(start + 1, 4) - 1);
    expect(b.records).toBe(20);
    expect(records(b.bytes())).toEqual(Array.from({ length: 20 }, (_, i) => new Array(1000).fill(100 + i)));
    b.clear();
  });

  it("keeps the pool bounded however many large buffers are emptied", () => {
    const bufs = Array.from({ length: 10 }, () => new RecordBuffer());
    for (const b of bufs) fill(b, 300, 1000);
    for (const b of bufs) b.clear();
    expect(pooledBuffers()).toBe(4);
  });

  it("consume drops written records and keeps the rest in order", () => {
    const buf = new RecordBuffer();
    fill(buf, 5, 10);
    buf.consume(2 * 14, 2);
    expect(buf.records).toBe(3);
    expect(records(buf.bytes()).map((r) => r[0])).toEqual([2, 3, 4]);
  });
});
