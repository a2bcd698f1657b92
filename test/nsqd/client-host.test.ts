// ClientV2 runs against any ClientHost, not only Nsqd: what a connection
// needs from its daemon is the small interface declared beside it, so the
// protocol state machine can be driven with a fake daemon and a fake socket.
import { describe, expect, test } from "vitest";
import { silentLogger } from "../../src/common/log.ts";
import { ClientV2, type ClientHost } from "../../src/nsqd/client-v2.ts";
import { FlushTicker } from "../../src/nsqd/flush-ticker.ts";
import { BusyPoll } from "../../src/nsqd/busy-poll.ts";
import type { Committer } from "../../src/nsqd/commit.ts";
import { FrameReader, FrameType, MAGIC_V2 } from "../../src/protocol/frames.ts";
import { compression } from "../../src/runtime/compression.ts";
import type { Socket } from "../../src/runtime/types.ts";
import { defaultNsqdOptions } from "./helpers.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);

function fakeSocket(written: Uint8Array[], onClose: () => void): Socket {
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    onClose();
  };
  return {
    write: (b: Uint8Array) => {
      written.push(b.slice());
      return true;
    },
    end: close,
    close,
    pause: () => {},
    resume: () => {},
    remoteAddress: "192.0.2.1",
    remotePort: 50000,
    localPort: 4150,
    upgradeTls: () => Promise.reject(new Error("no TLS here")),
    tls: null,
  };
}

describe("ClientV2 with a fake host", () => {
  test("SUB asks the host for the channel; the host's refusal is a fatal E_SUB_FAILED, and the host hears the close", () => {
    const asked: [string, string][] = [];
    const removed: ClientV2[] = [];
    const host: ClientHost = {
      options: defaultNsqdOptions(),
      logger: silentLogger,
      runtime: { compression },
      committer: {} as Committer, // no publish in this test
      flushTicker: new FlushTicker(),
      busyPoll: new BusyPoll(0),
      authEnabled: false,
      authHttpClient: null,
      tlsOptions: null,
      getTopic: () => {
        throw new Error("no topic is needed here");
      },
      subscribe: (_client, topic, channel) => {
        asked.push([topic, channel]);
        return "exiting";
      },
      removeClient: (c) => void removed.push(c),
    };
    const written: Uint8Array[] = [];
    let client: ClientV2 | null = null;
    const socket = fakeSocket(written, () => client?.close());
    client = new ClientV2(7, host, socket);
    client.data(new Uint8Array([...MAGIC_V2, ...utf8("SUB orders archive\n")]));
    expect(asked).toEqual([["orders", "archive"]]);
    const frames = new FrameReader().push(new Uint8Array(written.flatMap((b) => [...b])));
    expect(frames.map((f) => [f.type, new TextDecoder().decode(f.data)])).toEqual([[FrameType.Error, "E_SUB_FAILED SUB failed exiting"]]);
    expect(removed).toEqual([client]);
  });
});
