// The limits and texts of a binary MPUB body, `[count int32]{[size int32][bytes]}×count`,
// shared by the TCP command (D-TCP-MPUB) and HTTP /mpub?binary=true
// (D-HTTP-MPUB-BINARY). TCP sends `<code> <text>`; HTTP answers the code
// without its `E_` and logs the text.

/** A failed check: the TCP error code and the text. */
export interface MpubFailure {
  readonly code: "E_BAD_BODY" | "E_BAD_MESSAGE";
  readonly text: string;
}

/** The most messages a body of `maxBodySize` can hold: 4 bytes of count, then at least 5 bytes (size + 1) each. */
export function maxMpubCount(maxBodySize: number): number {
  return Math.trunc((maxBodySize - 4) / 5);
}

/** The declared size of the whole body (TCP only: HTTP has its Content-Length). */
export function checkMpubBodySize(size: number, maxBodySize: number): MpubFailure | null {
  if (size <= 0) return { code: "E_BAD_BODY", text: `MPUB invalid body size ${size}` };
  if (size > maxBodySize) return mpubBodyTooBig(size, maxBodySize);
  return null;
}

/** The body is (or would become) longer than --max-body-size. */
export function mpubBodyTooBig(size: number, maxBodySize: number): MpubFailure {
  return { code: "E_BAD_BODY", text: `MPUB body too big ${size} > ${maxBodySize}` };
}

export function checkMpubCount(count: number, maxBodySize: number): MpubFailure | null {
  if (count <= 0 || count > maxMpubCount(maxBodySize)) return { code: "E_BAD_BODY", text: `MPUB invalid message count ${count}` };
  return null;
}

/** The size of message `index` (from 0). */
export function checkMpubMessageSize(index: number, size: number, maxMsgSize: number): MpubFailure | null {
  if (size <= 0) return { code: "E_BAD_MESSAGE", text: `MPUB invalid message(${index}) body size ${size}` };
  if (size > maxMsgSize) return { code: "E_BAD_MESSAGE", text: `MPUB message too big ${size} > ${maxMsgSize}` };
  return null;
}

/** The body ended before its count. */
export const MPUB_COUNT_CUT: MpubFailure = { code: "E_BAD_BODY", text: "MPUB failed to read message count" };

/** The body ended before the size of message `index`. */
export function mpubSizeCut(index: number): MpubFailure {
  return { code: "E_BAD_MESSAGE", text: `MPUB failed to read message(${index}) body size` };
}

/** The body ended inside a message. */
export const MPUB_MESSAGE_CUT: MpubFailure = { code: "E_BAD_MESSAGE", text: "MPUB failed to read message body" };
