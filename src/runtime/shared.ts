// Small helpers shared by the adapters (no runtime APIs here).
import type { SocketHandler } from "./types.ts";

export function errorOf(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** True for an IPv4 or IPv6 literal (SNI must not carry one). */
export function isIpLiteral(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(":");
}

/** Handler in place until the owner attaches its own. */
export const noopHandler: SocketHandler = {
  data() {},
  close() {},
};

/** 16 random hex characters (temporary file names). */
export function randomHex(): string {
  const b = new Uint8Array(8);
  crypto.getRandomValues(b);
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

/** Message of the error thrown when a data directory is locked by someone else. */
export function lockedMessage(dir: string, detail: string): string {
  return `failed to lock data directory ${dir}: possibly in use by another instance of nsqd (${detail})`;
}
