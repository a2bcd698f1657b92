// The commands of protocol V2 (SPEC §2.2) as the server-side parser yields
// them, and the ERROR a refused command becomes (D-TCP-ERR-FORMAT). The
// parser is ./command-reader.ts; the checks that need the connection's state
// are ./command-checks.ts.
import { concatBytes, decodeUtf8, utf8 } from "./text.ts";

export type CommandVerb = "IDENTIFY" | "AUTH" | "SUB" | "RDY" | "FIN" | "REQ" | "TOUCH" | "CLS" | "NOP" | "PUB" | "MPUB" | "DPUB";

export interface IdentifyCommand {
  readonly kind: "IDENTIFY";
  readonly body: Uint8Array;
}
/** `params` is always empty: AUTH with parameters is refused by the reader. */
export interface AuthCommand {
  readonly kind: "AUTH";
  readonly body: Uint8Array;
  readonly params: string[];
}
/**
 * `params`: tokens after the verb (literal split on single spaces), as sent
 * (views of the line; check them with {@link parseSubParams} / {@link parseRdyCount}).
 */
export interface SubCommand {
  readonly kind: "SUB";
  readonly params: Uint8Array[];
}
export interface RdyCommand {
  readonly kind: "RDY";
  readonly params: Uint8Array[];
}
/**
 * FIN/TOUCH: `id` is a view of the first token after the verb (empty when
 * absent, any length: check with {@link checkIdCommand}); `paramCount` counts
 * tokens after the verb.
 */
export interface FinCommand {
  readonly kind: "FIN";
  readonly id: Uint8Array;
  readonly paramCount: number;
}
export interface TouchCommand {
  readonly kind: "TOUCH";
  readonly id: Uint8Array;
  readonly paramCount: number;
}
/** REQ: `timeout` is a view of the second token (parse with parseDecimal). */
export interface ReqCommand {
  readonly kind: "REQ";
  readonly id: Uint8Array;
  readonly timeout: Uint8Array;
  readonly paramCount: number;
}
export interface ClsCommand {
  readonly kind: "CLS";
}
export interface NopCommand {
  readonly kind: "NOP";
}
export interface PubCommand {
  readonly kind: "PUB";
  readonly topic: string;
  readonly body: Uint8Array;
}
export interface MpubCommand {
  readonly kind: "MPUB";
  readonly topic: string;
  readonly bodies: Uint8Array[];
}
/**
 * DPUB after the range check: `deferMs` is the delay to apply (0..maxReqTimeout;
 * fractional only for absurd 64-bit-wrapping inputs), `deferRaw` the token as sent.
 */
export interface DpubCommand {
  readonly kind: "DPUB";
  readonly topic: string;
  readonly deferRaw: string;
  readonly deferMs: number;
  readonly body: Uint8Array;
}
/**
 * A protocol error (D-TCP-ERR-FORMAT). `text` is the description, `message`
 * the whole error-frame data (`code + " " + text`, or just the code when the
 * text is empty, as for E_BAD_PROTOCOL). Reader errors are all fatal.
 */
export interface ErrorCommand {
  readonly kind: "ERROR";
  readonly code: string;
  readonly text: string;
  readonly fatal: boolean;
  readonly message: string;
  /**
   * The error frame's data when the text echoes bytes as the client sent
   * them (see {@link protocolErrorEcho}); send this rather than `message`,
   * which shows bytes that are not valid UTF-8 as U+FFFD.
   */
  readonly data?: Uint8Array;
}
/** D-TCP-CMDLINE: line over 16 KiB: close the connection without an error frame. */
export interface DropCommand {
  readonly kind: "DROP";
}

export type Command =
  | IdentifyCommand
  | AuthCommand
  | SubCommand
  | RdyCommand
  | FinCommand
  | ReqCommand
  | TouchCommand
  | ClsCommand
  | NopCommand
  | PubCommand
  | MpubCommand
  | DpubCommand
  | ErrorCommand
  | DropCommand;

/** What a gate returns to refuse a command: a code and text, or a whole ERROR (used as it is). */
export interface GateRefusal {
  readonly code: string;
  readonly text: string;
}

export interface CommandGate {
  /**
   * Called once per command line after the verb is known and before the
   * reader's own checks. `verb` is null for an unknown verb; `verbBytes` is
   * the verb as sent (a view: use it before returning). Return a refusal to
   * end the stream with a fatal ERROR, or null to let the command proceed.
   */
  admit?(verb: CommandVerb | null, verbBytes: Uint8Array): GateRefusal | ErrorCommand | null;
  /**
   * MPUB's line passed its checks and its body comes next. The original
   * checks auth and creates the topic at this point (D-TCP-MPUB), so a topic
   * exists afterwards even when the body then turns out to be bad.
   */
  mpubTopic?(topic: string): void;
}

/** Builds an ERROR command. */
export function protocolError(code: string, text: string, fatal = true): ErrorCommand {
  return { kind: "ERROR", code, text, fatal, message: text === "" ? code : `${code} ${text}` };
}

/**
 * An ERROR whose text quotes what the client sent, byte for byte: the
 * original formats command tokens with `%s`, so `\xff` comes back as the byte
 * 0xff, not as U+FFFD (D-TCP-ERR-FORMAT). `parts` are literal text and echoed
 * bytes, in order; the bytes are copied.
 */
export function protocolErrorEcho(code: string, parts: readonly (string | Uint8Array)[], fatal = true): ErrorCommand {
  const bytes = parts.map((p) => (typeof p === "string" ? utf8(p) : p));
  const text = parts.map((p) => (typeof p === "string" ? p : decodeUtf8(p))).join("");
  return { ...protocolError(code, text, fatal), data: concatBytes([utf8(`${code} `), ...bytes]) };
}
