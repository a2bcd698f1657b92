// `nsq pub`: thin wrapper; the tool lives in src/tools/pub.ts.
import { pubMain } from "../../src/tools/pub.ts";
import type { CommandContext } from "../context.ts";

export function pubCommand(ctx: CommandContext, args: readonly string[]): Promise<number> {
  return pubMain(ctx, args);
}
