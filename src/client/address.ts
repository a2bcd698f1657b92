// `host:port` strings as the tools and go-nsq take them (IPv6 in brackets).
import { splitHostPort } from "../common/address.ts";

/** Splits `host:port` / `[v6]:port`. Throws TypeError with the value when malformed. */
export function parseHostPort(address: string): { host: string; port: number } {
  const hp = splitHostPort(address);
  if (hp === null || hp.host === "" || /\s/.test(hp.host) || !(hp.port > 0 && hp.port < 65536)) {
    throw new TypeError(`invalid address ${JSON.stringify(address)}: expected host:port`);
  }
  return hp;
}
