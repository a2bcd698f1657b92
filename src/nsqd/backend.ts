// What topics and channels need from their daemon: options, disk queues with
// health accounting (D-BEH-HEALTH), latency streams, ephemeral clean-up.
import type { NsqdOptions } from "./options.ts";
import type { LatencyStream } from "./quantile.ts";
import type { Channel } from "./channel.ts";

/** The disk queue as topics and channels use it (src/nsqd/diskqueue.ts). */
export interface Backend {
  put(record: Uint8Array): void;
  readNext(): Uint8Array | null;
  depth(): number;
  empty(): void;
  close(): void;
  delete(): void;
}

export interface QueueHost {
  readonly options: NsqdOptions;
  openBackend(name: string): Backend;
  /** Write one record, recording the outcome as the daemon's health. */
  writeBackend(backend: Backend, record: Uint8Array): void;
  readBackend(backend: Backend): Uint8Array | null;
  newLatencyStream(): LatencyStream | null;
  deleteEphemeralChannel(channel: Channel): void;
}
