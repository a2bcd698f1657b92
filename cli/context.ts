import type { Runtime } from "../src/runtime/types.ts";
import type { Logger } from "../src/common/log.ts";
import type { NsqdOptions } from "../src/nsqd/options.ts";
import type { CliIo } from "./io.ts";

/** What a subcommand runs: Nsqd, and later Lookupd, Admin. */
export interface Component {
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Replaceable component constructors (in-process tests substitute fakes). */
export interface ComponentFactories {
  nsqd?(options: NsqdOptions, deps: { runtime: Runtime; logger: Logger }): Component;
}

/** What a subcommand gets: the runtime and where to print. */
export interface CommandContext {
  readonly runtime: Runtime;
  readonly io: CliIo;
  readonly components?: ComponentFactories;
}

/** A subcommand: takes the arguments after its name, resolves to an exit code. */
export type CommandRunner = (ctx: CommandContext, args: readonly string[]) => Promise<number>;
