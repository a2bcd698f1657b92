// CIDR matching for A-HTTP-CONFIG (--allow-config-from-cidr), with the rules of
// Go's net.ParseCIDR / IPNet.Contains: IPv4 and IPv6 prefixes, and an
// IPv4-mapped IPv6 address ("::ffff:127.0.0.1", as Node reports IPv4 peers on a
// dual-stack socket) matches an IPv4 network.

export interface Cidr {
  /** 4 or 16 bytes, already masked. */
  readonly network: Uint8Array;
  readonly bits: number;
}

/** Parse a dotted IPv4 address into 4 bytes, or null. */
function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    // Go rejects leading zeros ("01") and anything but decimal digits.
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    out[i] = v;
  }
  return out;
}

/** Parse an IPv6 address (with an optional trailing dotted IPv4 part) into 16 bytes, or null. */
function parseIpv6(text: string): Uint8Array | null {
  let s = text;
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  const groups: number[] = [];
  let tailV4: Uint8Array | null = null;
  const lastColon = s.lastIndexOf(":");
  if (lastColon >= 0 && s.slice(lastColon + 1).includes(".")) {
    tailV4 = parseIpv4(s.slice(lastColon + 1));
    if (tailV4 === null) return null;
    s = s.slice(0, lastColon + 1) + "0:0";
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const parseHalf = (h: string): number[] | null => {
    if (h === "") return [];
    const out: number[] = [];
    for (const g of h.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parseHalf(halves[0]!);
  const tail = halves.length === 2 ? parseHalf(halves[1]!) : [];
  if (head === null || tail === null) return null;
  if (halves.length === 1) {
    if (head.length !== 8) return null;
    groups.push(...head);
  } else {
    const fill = 8 - head.length - tail.length;
    if (fill < 1) return null;
    groups.push(...head, ...new Array<number>(fill).fill(0), ...tail);
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[i * 2] = groups[i]! >> 8;
    out[i * 2 + 1] = groups[i]! & 0xff;
  }
  if (tailV4 !== null) out.set(tailV4, 12);
  return out;
}

/** An IP address as 4 (IPv4) or 16 (IPv6) bytes, or null when unparseable. */
export function parseIp(text: string): Uint8Array | null {
  if (text.includes(":")) return parseIpv6(text);
  return parseIpv4(text);
}

/** The IPv4 bytes of an IPv4-mapped IPv6 address, else null. */
function unmapV4(ip: Uint8Array): Uint8Array | null {
  if (ip.length !== 16) return null;
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return null;
  if (ip[10] !== 0xff || ip[11] !== 0xff) return null;
  return ip.subarray(12);
}

/** `a.b.c.d/n` or `x::y/n`; null when invalid (as net.ParseCIDR would fail). */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf("/");
  if (slash < 0) return null;
  const ip = parseIp(text.slice(0, slash));
  const bitsText = text.slice(slash + 1);
  if (ip === null || !/^(0|[1-9]\d*)$/.test(bitsText)) return null;
  const bits = Number(bitsText);
  if (bits > ip.length * 8) return null;
  const network = new Uint8Array(ip);
  for (let i = 0; i < network.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    network[i]! &= (0xff << (8 - keep)) & 0xff;
  }
  return { network, bits };
}

/** IPNet.Contains: does the network hold this address? */
export function cidrContains(cidr: Cidr, ipText: string): boolean {
  let ip = parseIp(ipText);
  if (ip === null) return false;
  if (cidr.network.length === 4 && ip.length === 16) ip = unmapV4(ip);
  if (ip === null || ip.length !== cidr.network.length) return false;
  for (let i = 0; i < ip.length; i++) {
    const keep = Math.max(0, Math.min(8, cidr.bits - i * 8));
    const mask = (0xff << (8 - keep)) & 0xff;
    if ((ip[i]! & mask) !== cidr.network[i]) return false;
  }
  return true;
}
