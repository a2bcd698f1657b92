// `host:port` as the original reads and writes it (Go's net.SplitHostPort and
// net.JoinHostPort): an IPv6 host is written in brackets, any other host
// without a colon. One grammar for every listener flag, upstream address and
// log line; each caller adds only its own limits (port range, empty host).
import type { Address } from "../runtime/types.ts";

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

const DIGITS = /^\d+$/;

/**
 * Go's net.SplitHostPort with a decimal port: `[host]:port` (the brackets
 * may hold colons) or `host:port` (no colon, no bracket in the host). The
 * host may be empty. Null when the value does not have that shape. The port
 * is not range-checked: callers that need a real port check `port <= 65535`.
 */
export function splitHostPort(value: string): HostPort | null {
  let host: string;
  let rest: string;
  if (value.startsWith("[")) {
    const close = value.indexOf("]");
    if (close < 0) return null;
    host = value.slice(1, close);
    if (host.includes("[")) return null;
    rest = value.slice(close + 1);
    if (!rest.startsWith(":")) return null;
    rest = rest.slice(1);
  } else {
    const colon = value.lastIndexOf(":");
    if (colon < 0) return null;
    host = value.slice(0, colon);
    if (host.includes(":") || host.includes("[") || host.includes("]")) return null;
    rest = value.slice(colon + 1);
  }
  if (!DIGITS.test(rest)) return null;
  return { host, port: Number(rest) };
}

/** Go's net.JoinHostPort: brackets around a host that holds a colon (IPv6). */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A bound or configured address as the original logs it: `host:port` (IPv6 in brackets) or the socket path. */
export function formatAddress(address: Address): string {
  return "path" in address ? address.path : joinHostPort(address.host, address.port);
}

/**
 * A listener flag of nsqd (D-TCP-LISTEN): `host:port` is TCP, anything else a
 * Unix socket path (a value whose host part holds a `/` is a path too).
 */
export function parseListenAddress(value: string): Address {
  const hp = splitHostPort(value);
  if (hp !== null && !hp.host.includes("/")) return hp;
  return { path: value };
}
