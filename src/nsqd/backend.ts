// What topics and channels need from their daemon: options, message stores
// (memory + disk, see message-store.ts), latency streams, ephemeral clean-up.
import type { NsqdOptions } from "./options.ts";
import type { LatencyStream } from "./quantile.ts";
import type { Channel } from "./channel.ts";
import type { Committer } from "./commit.ts";
import type { MessageStore } from "./message-store.ts";

export interface QueueHost {
  readonly options: NsqdOptions;
  readonly committer: Committer;
  /** The store of queue `name` ("<topic>" or "<topic>:<channel>"); memory only when ephemeral. */
  openStore(name: string, ephemeral: boolean): MessageStore;
  newLatencyStream(): LatencyStream | null;
  deleteEphemeralChannel(channel: Channel): void;
}
