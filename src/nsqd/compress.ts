// The compressed transports a V2 connection can negotiate (D-TCP-NEGOTIATE):
// an encoder for what nsqd writes and a decoder for what it reads, both
// synchronous, so the connection's write path stays a plain function call.
import type { ByteTransform, Compression } from "../runtime/types.ts";
import { SnappyFrameDecoder, SnappyFrameEncoder } from "../protocol/snappy-frame.ts";

export interface CompressedTransport {
  /** Applied to each flushed output buffer, with flush = true. */
  readonly encoder: ByteTransform;
  /** Applied to each chunk read from the socket; throws on a corrupt stream. */
  readonly decoder: ByteTransform;
}

/**
 * Raw DEFLATE at `level`; every write ends with a sync flush, as the
 * original's flush does, so each batch of frames is decodable on arrival.
 */
export function deflateTransport(compression: Compression, level: number): CompressedTransport {
  return { encoder: compression.deflateRaw(level), decoder: compression.inflateRaw() };
}

/** The Snappy framing format over snappy blocks. */
export function snappyTransport(compression: Compression): CompressedTransport {
  const framer = new SnappyFrameEncoder(compression.snappyEncode);
  const unframer = new SnappyFrameDecoder(compression.snappyDecode);
  return {
    encoder: { push: (bytes) => framer.encode(bytes) },
    decoder: { push: (bytes) => unframer.push(bytes) },
  };
}
