// The CLI without process globals: argv0 and the arguments come in, an exit code
// goes out, so it runs in-process in tests. cli/main.ts wires it to a runtime.
//
// Flags follow Go's `flag` syntax (`-http-address=...`), which cac's own parser
// would read as `-h ttp-address`. So cac only sees the subcommand name: it
// dispatches and renders the top-level help, and each subcommand parses its own
// arguments with src/common/flags.ts.
import { cac } from "cac";
import { versionString } from "../src/common/version.ts";
import type { CommandContext, CommandRunner } from "./context.ts";
import { PROGRAMS, programForArgv0 } from "./programs.ts";

// Loaded on demand: `nsq --version` should not pay for evaluating the daemon.
const RUNNERS: Readonly<Record<string, CommandRunner>> = {
  nsqd: async (ctx, args) => (await import("./commands/nsqd.ts")).nsqdCommand(ctx, args),
  admin: async (ctx, args) => (await import("./commands/admin.ts")).adminCommand(ctx, args),
  lookupd: async (ctx, args) => (await import("./commands/lookupd.ts")).lookupdCommand(ctx, args),
  up: async (ctx, args) => (await import("./commands/up.ts")).upCommand(ctx, args),
  tail: async (ctx, args) => (await import("./commands/tail.ts")).tailCommand(ctx, args),
  "to-file": async (ctx, args) => (await import("./commands/to-file.ts")).toFileCommand(ctx, args),
  "to-http": async (ctx, args) => (await import("./commands/to-http.ts")).toHttpCommand(ctx, args),
  "to-nsq": async (ctx, args) => (await import("./commands/to-nsq.ts")).toNsqCommand(ctx, args),
  stat: async (ctx, args) => (await import("./commands/stat.ts")).statCommand(ctx, args),
  pub: async (ctx, args) => (await import("./commands/pub.ts")).pubCommand(ctx, args),
};

export interface Invocation {
  /** The name the program was invoked as (Runtime.argv0()). */
  readonly argv0: string;
  /** The arguments after the program (Runtime.args()). */
  readonly args: readonly string[];
}

/** Render cac's help sections to text (cac itself prints with console.info). */
function helpText(runtimeVersion: string): string {
  const cli = cac("nsq");
  for (const p of PROGRAMS) {
    cli.command(p.subcommand, `${p.description} (also runs as \`${p.program}\`)`).allowUnknownOptions();
  }
  cli.option("--version", "Print the version and exit");
  let text = "";
  cli.help((sections) => {
    sections[0] = { body: versionString("nsq", runtimeVersion) };
    sections.splice(1, 0, {
      title: "About",
      body:
        "  NSQ, the realtime distributed messaging platform, as one program.\n" +
        "  Flags use Go syntax as in the original: -flag=value, -flag value, --flag=value.",
    });
    text =
      sections
        .map((s) => (s.title ? `${s.title}:\n${s.body}` : s.body))
        .join("\n\n")
        .replace(/[ \t]+$/gm, "") + "\n";
    // Printing is ours (so tests and ordered output work); hand cac nothing to print.
    sections.length = 0;
    return sections;
  });
  const info = console.info;
  console.info = () => {};
  try {
    cli.outputHelp();
  } finally {
    console.info = info;
  }
  return text;
}

export async function runCli(ctx: CommandContext, invocation: Invocation): Promise<number> {
  const { io, runtime } = ctx;
  const args = invocation.args;

  // Multi-call: invoked as "nsqd", "nsq_tail", ... behaves as that program.
  const asProgram = programForArgv0(invocation.argv0);
  if (asProgram) {
    return RUNNERS[asProgram.subcommand]!(ctx, args);
  }

  const first = args[0];
  if (first === undefined || ["-h", "-help", "--help", "help"].includes(first)) {
    io.out(helpText(runtime.version));
    return 0;
  }
  if (first === "-version" || first === "--version" || first === "-v") {
    io.out(versionString("nsq", runtime.version) + "\n");
    return 0;
  }
  if (first.startsWith("-")) {
    io.err(`flag provided but not defined: -${first.replace(/^--?/, "").split("=")[0]}\n`);
    return 2;
  }

  // Dispatch through cac on the subcommand name alone.
  const cli = cac("nsq");
  let chosen: CommandRunner | null = null;
  for (const p of PROGRAMS) {
    const runner = RUNNERS[p.subcommand];
    if (runner) cli.command(p.subcommand, p.description).action(() => (chosen = runner));
  }
  cli.parse(["nsq", "nsq", first], { run: false });
  if (cli.matchedCommand) {
    cli.runMatchedCommand();
    if (chosen) return (chosen as CommandRunner)(ctx, args.slice(1));
  }
  io.err(`nsq: unknown command "${first}" (see "nsq --help")\n`);
  return 2;
}
