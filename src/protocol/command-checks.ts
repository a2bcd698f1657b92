// The checks of protocol V2 that belong to the connection rather than to the
// parser (SPEC §2.2): they need its state (subscribed or not, TLS, RDY limit)
// or run after a state check, in the original's order and with its texts.
import { protocolError, protocolErrorEcho, type ErrorCommand, type FinCommand, type ReqCommand, type TouchCommand } from "./commands.ts";
import { isValidNameBytes } from "./names.ts";
import { decodeAscii, goQuote, parseDecimal, parseDecimalU64, utf8 } from "./text.ts";

/**
 * D-TCP-FIN / D-TCP-REQ / D-TCP-TOUCH parameter checks, after the state check:
 * parameter count, then the 16-byte id, then (REQ) the timeout parse.
 */
export function checkIdCommand(cmd: FinCommand | ReqCommand | TouchCommand): ErrorCommand | null {
  if (cmd.paramCount < (cmd.kind === "REQ" ? 2 : 1)) {
    return protocolError("E_INVALID", `${cmd.kind} insufficient number of params`);
  }
  if (cmd.id.length !== 16) return protocolError("E_INVALID", "invalid message ID");
  if (cmd.kind === "REQ" && parseDecimal(cmd.timeout) === null) {
    return protocolErrorEcho("E_INVALID", ["REQ could not parse timeout ", cmd.timeout]);
  }
  return null;
}

/**
 * D-TCP-RDY count: missing -> 1, digits only (empty -> 0), 0..maxRdyCount.
 * Returns the count or the fatal error (after the state check, which the
 * connection does; RDY in the closing state is ignored before this).
 */
export function parseRdyCount(params: readonly (Uint8Array | string)[], maxRdyCount: number): number | ErrorCommand {
  if (params.length === 0) return 1;
  const token = params[0]!;
  const parsed = parseDecimal(token);
  if (parsed === null) return protocolErrorEcho("E_INVALID", ["RDY could not parse count ", token]);
  // The original parses into a uint64 and reinterprets it as int64; up to 15
  // digits a double holds the value exactly and no wrap can occur.
  const count = token.length <= 15 ? parsed : BigInt.asIntN(64, parseDecimalU64(token)!);
  if (count < 0 || count > maxRdyCount) {
    return protocolError("E_INVALID", `RDY count ${count} out of range 0-${maxRdyCount}`);
  }
  return Number(count);
}

/**
 * D-TCP-REQ timeout in ms, clamped to 0..maxReqTimeout (the original clamps
 * and logs rather than refusing, DISC-05). Call after checkIdCommand passed.
 */
export function reqTimeoutMs(cmd: ReqCommand, maxReqTimeout: number): number {
  const ms = parseDecimal(cmd.timeout) ?? 0;
  if (cmd.timeout.length > 12) {
    const ns = BigInt.asIntN(64, parseDecimalU64(cmd.timeout)! * 1_000_000n);
    if (ns < 0n) return 0;
    return Math.min(Number(ns) / 1e6, maxReqTimeout);
  }
  return Math.min(ms, maxReqTimeout);
}

/**
 * D-TCP-SUB parameter checks (after the state and heartbeat checks): count,
 * topic name, channel name. Returns the names or the fatal error.
 */
export function parseSubParams(params: readonly (Uint8Array | string)[]): { topic: string; channel: string } | ErrorCommand {
  if (params.length < 2) return protocolError("E_INVALID", "SUB insufficient number of parameters");
  const topic = typeof params[0] === "string" ? utf8(params[0]) : params[0]!;
  const channel = typeof params[1] === "string" ? utf8(params[1]) : params[1]!;
  // %q of the bytes as sent: invalid UTF-8 shows as \xNN, as in the original.
  if (!isValidNameBytes(topic)) return protocolError("E_BAD_TOPIC", `SUB topic name ${goQuote(topic)} is not valid`);
  if (!isValidNameBytes(channel)) return protocolError("E_BAD_CHANNEL", `SUB channel name ${goQuote(channel)} is not valid`);
  // Valid names are ASCII.
  return { topic: decodeAscii(topic), channel: decodeAscii(channel) };
}

/** `cannot <VERB> in current state` (E_INVALID, fatal): the state checks of §2.2. */
export function stateError(verb: string): ErrorCommand {
  return protocolError("E_INVALID", `cannot ${verb} in current state`);
}

/** D-TCP-TLS-POLICY: `cannot <VERB> in current state (TLS required)`, the verb echoed as sent. */
export function tlsRequiredError(verb: string | Uint8Array): ErrorCommand {
  return protocolErrorEcho("E_INVALID", ["cannot ", verb, " in current state (TLS required)"]);
}
