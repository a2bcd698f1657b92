// `host:port` strings as the tools and go-nsq take them (IPv6 in brackets).

/** Splits `host:port` / `[v6]:port`. Throws TypeError with the value when malformed. */
export function parseHostPort(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(address);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || !(port > 0 && port < 65536)) {
    throw new TypeError(`invalid address ${JSON.stringify(address)}: expected host:port`);
  }
  return { host: m[1] ?? m[2]!, port };
}

/** Joins a host and port, bracketing IPv6 hosts. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
