// The programs of the original and the subcommands that stand for them. The
// multi-call binary picks one by the name it was invoked as (argv[0]).

export interface Program {
  /** Subcommand name: `nsq <subcommand>`. */
  readonly subcommand: string;
  /** The original's executable name, recognised as argv[0]. */
  readonly program: string;
  readonly description: string;
  /** Implemented in this build. Planned ones are refused with one line, exit 1. */
  readonly available: boolean;
}

export const PROGRAMS: readonly Program[] = [
  { subcommand: "nsqd", program: "nsqd", description: "the realtime message daemon", available: true },
  { subcommand: "lookupd", program: "nsqlookupd", description: "the discovery daemon", available: true },
  { subcommand: "admin", program: "nsqadmin", description: "the web UI", available: true },
  { subcommand: "tail", program: "nsq_tail", description: "print messages of a topic to stdout", available: true },
  { subcommand: "to-file", program: "nsq_to_file", description: "write messages of a topic to files", available: true },
  { subcommand: "to-http", program: "nsq_to_http", description: "send messages of a topic to HTTP endpoints", available: true },
  { subcommand: "to-nsq", program: "nsq_to_nsq", description: "copy messages of a topic to other nsqd", available: true },
  { subcommand: "stat", program: "nsq_stat", description: "poll and print topic/channel stats", available: true },
  { subcommand: "pub", program: "to_nsq", description: "publish lines of stdin to a topic", available: true },
  { subcommand: "up", program: "", description: "a local development cluster in one process", available: true },
];

/** The program for an invocation name such as "/usr/bin/nsqd" or "nsq_tail.exe", or null. */
export function programForArgv0(argv0: string): Program | null {
  const base = (argv0.split(/[\\/]/).pop() ?? "").replace(/\.(exe|mjs|cjs|js|ts)$/i, "");
  if (base === "") return null;
  return PROGRAMS.find((p) => p.program === base) ?? null;
}

export function programForSubcommand(name: string): Program | null {
  return PROGRAMS.find((p) => p.subcommand === name) ?? null;
}
