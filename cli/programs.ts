// The programs of the original and the subcommands that stand for them. The
// multi-call binary picks one by the name it was invoked as (argv[0]).

export interface Program {
  /** Subcommand name: `nsq <subcommand>`. */
  readonly subcommand: string;
  /** The original's executable name, recognised as argv[0]. */
  readonly program: string;
  readonly description: string;
}

export const PROGRAMS: readonly Program[] = [
  { subcommand: "nsqd", program: "nsqd", description: "the realtime message daemon" },
  { subcommand: "lookupd", program: "nsqlookupd", description: "the discovery daemon" },
  { subcommand: "admin", program: "nsqadmin", description: "the web UI" },
  { subcommand: "tail", program: "nsq_tail", description: "print messages of a topic to stdout" },
  { subcommand: "to-file", program: "nsq_to_file", description: "write messages of a topic to files" },
  { subcommand: "to-http", program: "nsq_to_http", description: "send messages of a topic to HTTP endpoints" },
  { subcommand: "to-nsq", program: "nsq_to_nsq", description: "copy messages of a topic to other nsqd" },
  { subcommand: "stat", program: "nsq_stat", description: "poll and print topic/channel stats" },
  { subcommand: "pub", program: "to_nsq", description: "publish lines of stdin to a topic" },
  { subcommand: "up", program: "", description: "a local development cluster in one process" },
];

/** The program for an invocation name such as "/usr/bin/nsqd" or "nsq_tail.exe", or null. */
export function programForArgv0(argv0: string): Program | null {
  const base = (argv0.split(/[\\/]/).pop() ?? "").replace(/\.(exe|mjs|cjs|js|ts)$/i, "");
  if (base === "") return null;
  return PROGRAMS.find((p) => p.program === base) ?? null;
}
