// Command-line and config-file parsing against an OptionTable (X-CFG-FLAGS, X-CFG-FILE).
//
// The flag grammar follows Go's `flag` package, which every original program
// uses: one or two leading dashes are equivalent; a value is attached with `=`
// or taken from the next argument; a boolean never takes the next argument
// (`-snappy`, `-snappy=false`); parsing stops at the first non-flag argument or
// after `--`; `-h`/`-help` asks for usage. Values are checked as they are read,
// so a bad value is a usage error (exit 2) like in Go.
//
// Resolution follows mreiferson/go-options as the original uses it: a flag
// given on the command line wins, then the config-file key, then the default.
// Repeated list flags accumulate and are NOT split on commas (the original reads
// them through flag.Getter); a config-file string for a list IS split on commas.
import { parse as parseToml } from "smol-toml";
import type { OptionSpec, OptionTable } from "./options.ts";
import { formatDuration, parseDuration } from "./duration.ts";
import { parseGoBool, parseGoFloat, parseGoInt } from "./go-scalars.ts";
import { errorText } from "./errors.ts";

export { parseGoBool, parseGoFloat, parseGoInt };

/** A command-line error: one line for stderr, exit status 2 (Go's flag.ExitOnError). */
export class FlagError extends Error {
  override readonly name = "FlagError";
  readonly exitCode = 2;
}

/** A config-file or option-value error found at startup: fatal, exit status 1. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly exitCode = 1;
}

function choiceOf(spec: OptionSpec, text: string): string {
  const choices = spec.choices;
  if (spec.boolLike) {
    // Like the original's tls-required value: a Go boolean, or one of the named modes.
    const b = parseGoBool(text);
    if (b !== null) return String(b);
  }
  if (!choices) return text;
  const lower = text.toLowerCase();
  for (const c of choices) if (c.toLowerCase() === lower) return c;
  const shown = choices.filter((c) => c !== "").join(", ");
  throw new SyntaxError(`must be one of ${shown}`);
}

/** Convert one command-line text to the option's type (list types: one element or, for float-list, a comma list). */
function convertFlagText(spec: OptionSpec, text: string): unknown {
  switch (spec.type) {
    case "string":
      return choiceOf(spec, text);
    case "int":
      return parseGoInt(text);
    case "float":
      return parseGoFloat(text);
    case "duration":
      try {
        return parseDuration(text);
      } catch {
        // Go's flag package reports every duration syntax problem as "parse error".
        throw new SyntaxError("parse error");
      }
    case "list":
      return [text];
    case "float-list":
      return text.split(",").map((part) => parseGoFloat(part));
    case "bool": {
      const b = parseGoBool(text);
      if (b === null) throw new SyntaxError("parse error");
      return b;
    }
  }
}

function takesNoValue(spec: OptionSpec): boolean {
  return spec.type === "bool" || spec.boolLike === true;
}

// ---- argv ---------------------------------------------------------------------

export interface ParsedFlags {
  /** Flags present on the command line, keyed by flag name, converted; list types accumulated. */
  readonly given: ReadonlyMap<string, unknown>;
  /** Arguments left after flag parsing stopped (first non-flag argument, or after "--"). */
  readonly rest: readonly string[];
  /** `-h`, `-help`, `--h` or `--help` was given (and the table defines no such flag). */
  readonly help: boolean;
}

/** Parse argv with Go `flag` semantics. Throws FlagError for usage errors. */
export function parseFlags(table: OptionTable, argv: readonly string[]): ParsedFlags {
  const byName = new Map<string, OptionSpec>();
  for (const spec of table) byName.set(spec.flag, spec);
  const given = new Map<string, unknown>();
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i]!;
    if (arg.length < 2 || arg[0] !== "-") break;
    let dashes = 1;
    if (arg[1] === "-") {
      dashes = 2;
      if (arg.length === 2) {
        i++;
        break;
      }
    }
    let name = arg.slice(dashes);
    if (name.length === 0 || name[0] === "-" || name[0] === "=") {
      throw new FlagError(`bad flag syntax: ${arg}`);
    }
    i++;
    let value: string | null = null;
    const eq = name.indexOf("=");
    if (eq > 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const spec = byName.get(name);
    if (!spec) {
      if (name === "h" || name === "help") return { given, rest: argv.slice(i), help: true };
      throw new FlagError(`flag provided but not defined: -${name}`);
    }
    if (takesNoValue(spec)) {
      const text = value ?? "true";
      let converted: unknown;
      try {
        converted = convertFlagText(spec, text);
      } catch (e) {
        const reason = errorText(e);
        throw new FlagError(
          spec.type === "bool"
            ? `invalid boolean value ${JSON.stringify(text)} for -${name}: ${reason}`
            : `invalid value ${JSON.stringify(text)} for flag -${name}: ${reason}`,
        );
      }
      given.set(name, converted);
      continue;
    }
    if (value === null) {
      if (i >= argv.length) throw new FlagError(`flag needs an argument: -${name}`);
      value = argv[i]!;
      i++;
    }
    let converted: unknown;
    try {
      converted = convertFlagText(spec, value);
    } catch (e) {
      throw new FlagError(`invalid value ${JSON.stringify(value)} for flag -${name}: ${errorText(e)}`);
    }
    if (spec.type === "list" || spec.type === "float-list") {
      const prev = (given.get(name) as unknown[] | undefined) ?? [];
      given.set(name, [...prev, ...(converted as unknown[])]);
    } else {
      given.set(name, converted);
    }
  }
  return { given, rest: argv.slice(i), help: false };
}

// ---- config file --------------------------------------------------------------

/** Parse TOML config text into a plain table. Throws ConfigError with the file name. */
export function parseConfigText(text: string, source: string): Record<string, unknown> {
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (e) {
    const msg = errorText(e).split("\n")[0];
    throw new ConfigError(`failed to load config file ${source} - ${msg}`);
  }
}

function describe(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : Array.isArray(v) ? JSON.stringify(v) : String(v);
}

/** Convert a TOML value for one option. Throws ConfigError. */
export function convertConfigValue(spec: OptionSpec, key: string, v: unknown): unknown {
  const fail = (reason: string) => new ConfigError(`invalid value ${describe(v)} for config option ${key}: ${reason}`);
  const fromText = (text: string): unknown => {
    try {
      return convertFlagText(spec, text);
    } catch (e) {
      throw fail(errorText(e));
    }
  };
  switch (spec.type) {
    case "string":
      if (spec.boolLike && typeof v === "boolean") return String(v);
      if (typeof v === "string") return fromText(v);
      if (typeof v === "number" || typeof v === "boolean") return fromText(String(v));
      throw fail("expected a string");
    case "int":
      if (typeof v === "number" && Number.isSafeInteger(v)) return v;
      if (typeof v === "bigint") throw fail("value out of range");
      // go-options reads integer strings in base 10.
      if (typeof v === "string" && /^[+-]?\d+$/.test(v)) return fromText(v.replace(/^([+-]?)0+(?=\d)/, "$1"));
      throw fail("expected an integer");
    case "float":
      if (typeof v === "number") return v;
      if (typeof v === "string") return fromText(v);
      throw fail("expected a number");
    case "bool":
      if (typeof v === "boolean") return v;
      if (typeof v === "string") return fromText(v);
      // Deliberate difference: go-options maps integer n to (n == 0), which inverts
      // the intent; here 0 is false and any other integer is true.
      if (typeof v === "number" && Number.isInteger(v)) return v !== 0;
      throw fail("expected a boolean");
    case "duration":
      // Strings are Go durations; integers are milliseconds (X-CFG-FILE).
      if (typeof v === "number" && Number.isInteger(v)) return v;
      if (typeof v === "string") {
        try {
          return parseDuration(v);
        } catch (e) {
          throw fail(errorText(e));
        }
      }
      throw fail("expected a duration string or an integer of milliseconds");
    case "list":
      if (typeof v === "string") return v.split(",");
      if (Array.isArray(v) && v.every((x) => typeof x === "string")) return [...v];
      throw fail("expected an array of strings or a comma-separated string");
    case "float-list":
      if (typeof v === "string") {
        try {
          return v.split(",").map((s) => parseGoFloat(s.trim()));
        } catch (e) {
          throw fail(errorText(e));
        }
      }
      if (Array.isArray(v) && v.every((x) => typeof x === "number")) return [...v];
      throw fail("expected an array of numbers or a comma-separated string");
  }
}

// ---- resolution ---------------------------------------------------------------

function defaultOf(spec: OptionSpec): unknown {
  const d = typeof spec.default === "function" ? (spec.default as () => unknown)() : spec.default;
  return Array.isArray(d) ? [...d] : d;
}

/**
 * Build the options object keyed by config key: command-line flag > config file >
 * default. Options without a config key (deprecated flags, --config, --version)
 * are not part of the result; read them from `flags.given`.
 */
export function resolveOptions(table: OptionTable, flags: ParsedFlags, config: Record<string, unknown> | null): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const spec of table) {
    if (spec.key === null) continue;
    if (flags.given.has(spec.flag)) {
      const v = flags.given.get(spec.flag);
      out[spec.key] = Array.isArray(v) ? [...v] : v;
    } else if (config && Object.hasOwn(config, spec.key)) {
      out[spec.key] = convertConfigValue(spec, spec.key, config[spec.key]);
    } else {
      out[spec.key] = defaultOf(spec);
    }
  }
  return out;
}

// ---- usage --------------------------------------------------------------------

function typeLabel(spec: OptionSpec): string {
  if (spec.boolLike) return "";
  switch (spec.type) {
    case "bool":
      return "";
    case "duration":
      return "duration";
    case "int":
      return "int";
    case "float":
      return "float";
    case "string":
      return "string";
    case "list":
    case "float-list":
      return "value";
  }
}

function defaultLabel(spec: OptionSpec): string {
  if (typeof spec.default === "function") return "";
  const d = spec.default;
  if (spec.type === "duration") return d === 0 ? "" : formatDuration(d as number);
  if (spec.type === "string") {
    if (d === "" || (spec.boolLike && d === "false")) return "";
    return JSON.stringify(d);
  }
  if (Array.isArray(d)) return d.length ? d.join(",") : "";
  if (d === false || d === 0) return "";
  return String(d);
}

/** Usage text in the layout of Go's flag.PrintDefaults, flags sorted by name. */
export function formatUsage(program: string, table: OptionTable): string {
  const lines = [`Usage of ${program}:`];
  const specs = table.filter((s) => !s.hidden).sort((a, b) => (a.flag < b.flag ? -1 : a.flag > b.flag ? 1 : 0));
  for (const spec of specs) {
    const label = typeLabel(spec);
    lines.push(`  -${spec.flag}${label ? " " + label : ""}`);
    const def = defaultLabel(spec);
    lines.push(`    \t${spec.help}${def ? ` (default ${def})` : ""}`);
  }
  return lines.join("\n") + "\n";
}

// ---- everything at once -------------------------------------------------------

export type CommandLine<T> =
  | { readonly kind: "help"; readonly usage: string }
  /** `-version` was given (checked before the config file is read, as the original does). */
  | { readonly kind: "version"; readonly flags: ParsedFlags }
  | {
      readonly kind: "run";
      /** Options keyed by config key. */
      readonly options: T;
      readonly flags: ParsedFlags;
      /** The config file as read (null when no -config was given). */
      readonly config: Record<string, unknown> | null;
    };

export interface CommandLineDeps {
  /** Program name for the usage text ("nsqd"). */
  program: string;
  /** Reads the -config file (runtime.fs.readText). */
  readTextFile(path: string): string;
}

/** Read and parse a TOML config file. Throws ConfigError. */
export function readConfigFile(path: string, readTextFile: (path: string) => string): Record<string, unknown> {
  let text: string;
  try {
    text = readTextFile(path);
  } catch (e) {
    throw new ConfigError(`failed to load config file ${path} - ${errorText(e)}`);
  }
  return parseConfigText(text, path);
}

/**
 * Parse argv; answer help or version requests; else load the TOML file named by
 * `-config` (when the table has that flag) and resolve the options.
 * Throws FlagError (exit 2) or ConfigError (exit 1).
 */
export function parseCommandLine<T>(table: OptionTable, argv: readonly string[], deps: CommandLineDeps): CommandLine<T> {
  const flags = parseFlags(table, argv);
  if (flags.help) return { kind: "help", usage: formatUsage(deps.program, table) };
  if (flags.given.get("version") === true) return { kind: "version", flags };
  const configPath = (flags.given.get("config") as string | undefined) ?? "";
  const config = configPath === "" ? null : readConfigFile(configPath, deps.readTextFile);
  return { kind: "run", options: resolveOptions(table, flags, config) as T, flags, config };
}
