// The option model shared by every program: one table row per flag, with the
// original's flag name, its config-file key and its default. The CLI parses argv
// and the TOML config file against these tables (cli/ and ./flags.ts); the
// components receive a plain object keyed by config key (snake_case), which also
// makes nsqd's GET /config/:opt a simple lookup (D-HTTP-CONFIG).

export type OptionType =
  | "string"
  | "int"
  | "float"
  | "bool"
  /** Stored in milliseconds; written as a Go duration ("2s", "1m0s") or an integer of ms in TOML. */
  | "duration"
  /** Repeatable string flag; TOML array or comma-separated string. */
  | "list"
  /** Repeatable float flag that also accepts comma lists. */
  | "float-list";

export interface OptionSpec {
  /** Flag name without dashes, e.g. "mem-queue-size". */
  readonly flag: string;
  /** Config-file key and property name, e.g. "mem_queue_size"; null when the flag has none. */
  readonly key: string | null;
  readonly type: OptionType;
  /** Default value (durations in ms). A function is evaluated at parse time. */
  readonly default: unknown | (() => unknown);
  readonly help: string;
  /** For "string": the accepted values, checked at parse time. */
  readonly choices?: readonly string[];
  /** Shown as a boolean-style flag (bare `--flag` means true) though the type is a string (tls-required). */
  readonly boolLike?: boolean;
  /** Deprecated flag kept so old command lines still parse; it has no effect. */
  readonly deprecated?: boolean;
  /** Accepted but left out of the usage text (testing aids such as --print-options). */
  readonly hidden?: boolean;
}

export type OptionTable = readonly OptionSpec[];
