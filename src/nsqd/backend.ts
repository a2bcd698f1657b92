// What topics and channels need from their daemon: options, message stores
// (memory + disk, see message-store.ts), latency streams, ephemeral clean-up.
import type { NsqdOptions } from "./options.ts";
import type { LatencyStream } from "./quantile.ts";
import type { Committer } from "./commit.ts";
import type { MessageStore } from "./message-store.ts";

/** What deleteEphemeralChannel needs to find the channel (Channel has it). */
export interface EphemeralChannel {
  readonly topicName: string;
  readonly name: string;
}

export interface QueueHost {
  readonly options: NsqdOptions;
  readonly committer: Committer;
  /** The store of queue `name` ("<topic>" or "<topic>:<channel>"); memory only when ephemeral. */
  openStore(name: string, ephemeral: boolean): MessageStore;
  newLatencyStream(): LatencyStream | null;
  /** The last consumer of an ephemeral channel left (D-BEH-EPHEMERAL); named by topic and name, so this file needs no Channel. */
  deleteEphemeralChannel(channel: EphemeralChannel): void;
}
