// `nsq tail`: thin wrapper; the tool lives in src/tools/tail.ts.
import { tailMain } from "../../src/tools/tail.ts";
import type { CommandContext } from "../context.ts";

export function tailCommand(ctx: CommandContext, args: readonly string[]): Promise<number> {
  return tailMain(ctx, args);
}
