// `nsq to-http`: thin wrapper; the tool lives in src/tools/to-http.ts.
import { toHttpMain } from "../../src/tools/to-http.ts";
import type { CommandContext } from "../context.ts";

export function toHttpCommand(ctx: CommandContext, args: readonly string[]): Promise<number> {
  return toHttpMain(ctx, args);
}
