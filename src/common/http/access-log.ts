// The request line the original's Log decorator writes for each API request
// (X-LOG): `<status> <method> <uri> (<remote>) <elapsed>`, the URI as the
// client sent it, the remote address as Go prints it (IPv6 in brackets) and
// the elapsed time as a Go duration.
import { joinHostPort } from "../address.ts";
import { formatDurationNs } from "../duration.ts";
import type { RequestInfo } from "../../runtime/types.ts";

/** `uri` is the request target: the path as sent and the raw query. */
export function accessLogLine(status: number, method: string, uri: string, info: RequestInfo | undefined, elapsedMs: number): string {
  const remote = info === undefined || info.remoteAddress === "" ? "" : joinHostPort(info.remoteAddress, info.remotePort);
  const elapsed = formatDurationNs(BigInt(Math.max(0, Math.round(elapsedMs * 1e6))));
  return `${status} ${method} ${uri} (${remote}) ${elapsed}`;
}
