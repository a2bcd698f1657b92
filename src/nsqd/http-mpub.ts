// The bodies of nsqd's HTTP /mpub (D-HTTP-MPUB-BINARY, D-HTTP-MPUB-TEXT),
// read from the request stream with a bound.
//
// Deliberate difference (D-HTTP-MPUB-BINARY): the original bounds a binary
// /mpub only by its Content-Length header; a chunked binary body is read
// without limit. Here a binary body is also cut off after max_body_size bytes
// (413 BODY_TOO_BIG), so a chunked upload cannot exhaust memory.
import { BodySource, type LimitedRead } from "../common/http/body.ts";
import { HttpError } from "../common/http/error.ts";
import { MPUB_COUNT_CUT, MPUB_MESSAGE_CUT, checkMpubCount, checkMpubMessageSize, mpubBodyTooBig, mpubSizeCut, type MpubFailure } from "../protocol/mpub.ts";

/** A failure of the binary /mpub parse: the HTTP error text, and the TCP protocol's text for the same failure (for the log). */
export interface MpubParseError {
  code: "BAD_BODY" | "BAD_MESSAGE" | "BODY_TOO_BIG";
  text: string;
}

/** The TCP code without `E_` is the HTTP error text. */
function httpFailure(f: MpubFailure): MpubParseError {
  return { code: f.code === "E_BAD_BODY" ? "BAD_BODY" : "BAD_MESSAGE", text: f.text };
}

/**
 * `[num int32]{[size int32][bytes]}×num`, validated like TCP MPUB (the same
 * limits and texts, ../protocol/mpub.ts). Bytes after the last message are
 * not read. Awaits only when the buffered bytes run short.
 */
export async function parseBinaryMpub(
  body: ReadableStream<Uint8Array> | null,
  maxMsgSize: number,
  maxBodySize: number,
): Promise<Uint8Array[] | MpubParseError> {
  const src = new BodySource(body);
  let consumed = 0;
  const tooBig = (n: number): MpubParseError | null =>
    consumed + n > maxBodySize ? { code: "BODY_TOO_BIG", text: mpubBodyTooBig(consumed + n, maxBodySize).text } : null;
  try {
    if (src.buffered < 4 && !(await src.fill(4))) return httpFailure(MPUB_COUNT_CUT);
    const count = src.readInt32();
    consumed += 4;
    const badCount = checkMpubCount(count, maxBodySize);
    if (badCount !== null) return httpFailure(badCount);
    const bodies: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const over = tooBig(4);
      if (over !== null) return over;
      if (src.buffered < 4 && !(await src.fill(4))) return httpFailure(mpubSizeCut(i));
      const size = src.readInt32();
      consumed += 4;
      const badSize = checkMpubMessageSize(i, size, maxMsgSize);
      if (badSize !== null) return httpFailure(badSize);
      const overBody = tooBig(size);
      if (overBody !== null) return overBody;
      if (src.buffered < size && !(await src.fill(size))) return httpFailure(MPUB_MESSAGE_CUT);
      bodies.push(src.take(size));
      consumed += size;
    }
    return bodies;
  } finally {
    src.close();
  }
}

/**
 * Text /mpub over the bytes read (at most max_body_size+1), exactly as the
 * original's line loop: each line counts toward the total with its newline;
 * reaching max_body_size+1 is BODY_TOO_BIG; the newline is cut (a `\r` stays);
 * empty lines are skipped; a line over max_msg_size is MSG_TOO_BIG. A read
 * error surfaces when the loop reaches the partial line it cut short.
 */
export function splitTextMpub(read: LimitedRead, maxMsgSize: number, maxBodySize: number): Uint8Array[] | HttpError {
  const bytes = read.bytes;
  const readMax = maxBodySize + 1;
  const bodies: Uint8Array[] = [];
  let total = 0;
  let start = 0;
  while (start < bytes.length || (start === bytes.length && read.failed)) {
    const nl = bytes.indexOf(0x0a, start);
    const end = nl < 0 ? bytes.length : nl + 1;
    if (nl < 0 && read.failed) return new HttpError(500, "INTERNAL_ERROR");
    total += end - start;
    if (total === readMax) return new HttpError(413, "BODY_TOO_BIG");
    const line = bytes.subarray(start, nl < 0 ? end : nl);
    start = end;
    if (line.length === 0) continue;
    if (line.length > maxMsgSize) return new HttpError(413, "MSG_TOO_BIG");
    bodies.push(line);
  }
  return bodies;
}
