// `nsq to-file`: thin wrapper; the tool lives in src/tools/to-file.ts.
import { toFileMain } from "../../src/tools/to-file.ts";
import type { CommandContext } from "../context.ts";

export function toFileCommand(ctx: CommandContext, args: readonly string[]): Promise<number> {
  return toFileMain(ctx, args);
}
