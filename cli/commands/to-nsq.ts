// `nsq to-nsq`: thin wrapper; the tool lives in src/tools/to-nsq.ts.
import { toNsqMain } from "../../src/tools/to-nsq.ts";
import type { CommandContext } from "../context.ts";

export function toNsqCommand(ctx: CommandContext, args: readonly string[]): Promise<number> {
  return toNsqMain(ctx, args);
}
