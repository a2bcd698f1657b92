// Ways of cutting one byte stream into chunks, used to prove that every
// decoder gives the same result however the network splits its input.

export function bytes(...parts: (string | number[] | Uint8Array)[]): Uint8Array {
  const arrays = parts.map((p) => (typeof p === "string" ? new TextEncoder().encode(p) : p instanceof Uint8Array ? p : new Uint8Array(p)));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

export function be32(n: number): number[] {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}

/** Fresh copies, so no decoder can rely on chunks sharing one buffer. */
function copy(a: Uint8Array): Uint8Array {
  return new Uint8Array(a);
}

export function whole(stream: Uint8Array): Uint8Array[] {
  return [copy(stream)];
}

export function byteByByte(stream: Uint8Array): Uint8Array[] {
  return Array.from(stream, (b) => new Uint8Array([b]));
}

/** Two chunks cut at `at`. */
export function splitAt(stream: Uint8Array, at: number): Uint8Array[] {
  return [copy(stream.subarray(0, at)), copy(stream.subarray(at))];
}

/** Every chunking that matters: whole, byte by byte, and each two-way split. */
export function allChunkings(stream: Uint8Array): { name: string; chunks: Uint8Array[] }[] {
  const out = [
    { name: "whole", chunks: whole(stream) },
    { name: "byte by byte", chunks: byteByByte(stream) },
  ];
  for (let at = 1; at < stream.length; at++) out.push({ name: `split at ${at}`, chunks: splitAt(stream, at) });
  return out;
}

export function text(a: Uint8Array): string {
  return new TextDecoder().decode(a);
}
