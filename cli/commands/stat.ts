// `nsq stat`: thin wrapper; the tool lives in src/tools/stat.ts.
import { statMain } from "../../src/tools/stat.ts";
import type { CommandContext } from "../context.ts";

export function statCommand(ctx: CommandContext, args: readonly string[]): Promise<number> {
  return statMain(ctx, args);
}
