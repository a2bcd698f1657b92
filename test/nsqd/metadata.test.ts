// D-BEH-METADATA: <data-path>/nsqd.dat in the original's JSON shape.
import * as nodeFs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { decodeMetadata, encodeMetadata, metadataPath, readMetadata, writeMetadata, type Metadata } from "../../src/nsqd/metadata.ts";
import { createNodeFileSystem } from "../../src/runtime/node-fs.ts";

let dir: string;
beforeEach(() => {
  dir = nodeFs.mkdtempSync(path.join(os.tmpdir(), "nsq-meta-"));
});
afterEach(() => {
  nodeFs.rmSync(dir, { recursive: true, force: true });
});

const sample: Metadata = {
  topics: [
    {
      name: "t",
      paused: false,
      channels: [
        { name: "c", paused: false },
        { name: "d", paused: true },
      ],
    },
    { name: "lonely", paused: true, channels: [] },
  ],
  version: "1.3.0",
};

// What encoding/json produces for nsqd v1.3.0's Metadata structs (field order,
// nil slices as null, no trailing newline).
const sampleJson =
  '{"topics":[{"name":"t","paused":false,"channels":[{"name":"c","paused":false},{"name":"d","paused":true}]},' +
  '{"name":"lonely","paused":true,"channels":null}],"version":"1.3.0"}';

describe("nsqd.dat encoding (D-BEH-METADATA)", () => {
  test("keys in the original's struct order, an empty channel list as null", () => {
    expect(encodeMetadata(sample)).toBe(sampleJson);
  });

  test('no topics is written as "topics":null', () => {
    expect(encodeMetadata({ topics: [], version: "1.3.0" })).toBe('{"topics":null,"version":"1.3.0"}');
  });

  test("characters encoding/json escapes are escaped the same way", () => {
    const text = encodeMetadata({ topics: [{ name: "a<b>&c\u2028", paused: false, channels: [] }], version: "x" });
    expect(text).toBe('{"topics":[{"name":"a\\u003cb\\u003e\\u0026c\\u2028","paused":false,"channels":null}],"version":"x"}');
    expect(decodeMetadata(text).topics[0]!.name).toBe("a<b>&c\u2028");
  });
});

describe("nsqd.dat decoding", () => {
  test("reads the original's file, null lists become empty lists", () => {
    expect(decodeMetadata(sampleJson)).toEqual(sample);
    expect(decodeMetadata('{"topics":null,"version":"1.2.1"}')).toEqual({ topics: [], version: "1.2.1" });
  });

  test("keys match regardless of case and unknown keys are ignored, as with encoding/json", () => {
    const m = decodeMetadata('{"Topics":[{"NAME":"t","Paused":true,"extra":1,"channels":[{"name":"c"}]}],"version":"1.3.0","x":[]}');
    expect(m).toEqual({ topics: [{ name: "t", paused: true, channels: [{ name: "c", paused: false }] }], version: "1.3.0" });
  });

  test("unparseable or wrongly shaped text throws SyntaxError", () => {
    for (const bad of ["", "{", "[]", '{"topics":{}}', '{"topics":[1]}', '{"topics":[{"name":5}]}', '{"topics":[{"name":"t","paused":"yes"}]}']) {
      expect(() => decodeMetadata(bad), bad).toThrow(SyntaxError);
    }
  });
});

describe("nsqd.dat file", () => {
  const fs = createNodeFileSystem();

  test("readMetadata returns null when the file is missing", () => {
    expect(readMetadata(fs, dir)).toBeNull();
  });

  test("writeMetadata writes the exact bytes atomically with mode 0600 and readMetadata reads them back", () => {
    writeMetadata(fs, dir, sample);
    const file = path.join(dir, "nsqd.dat");
    expect(nodeFs.readFileSync(file, "utf8")).toBe(sampleJson);
    expect(nodeFs.statSync(file).mode & 0o777).toBe(0o600);
    expect(nodeFs.readdirSync(dir)).toEqual(["nsqd.dat"]); // no temp file left behind
    expect(readMetadata(fs, dir)).toEqual(sample);
    writeMetadata(fs, dir, { topics: [], version: "1.3.0" });
    expect(readMetadata(fs, dir)).toEqual({ topics: [], version: "1.3.0" });
  });

  test("readMetadata throws naming the file when it cannot be parsed", () => {
    nodeFs.writeFileSync(path.join(dir, "nsqd.dat"), "{not json");
    expect(() => readMetadata(fs, dir)).toThrow(/nsqd\.dat/);
  });

  test("metadataPath joins the data path", () => {
    expect(metadataPath("/var/lib/nsq")).toBe("/var/lib/nsq/nsqd.dat");
    expect(metadataPath("/var/lib/nsq/")).toBe("/var/lib/nsq/nsqd.dat");
    expect(metadataPath("")).toBe("nsqd.dat");
  });
});

describe("queues on disk that nsqd.dat does not list (D-BEH-METADATA, D-BEH-DISKQUEUE)", () => {
  test("a topic and a channel whose creation was never saved (a full disk) are loaded from their queue files, with their messages", async () => {
    const { DiskQueue } = await import("../../src/nsqd/diskqueue.ts");
    const { startTestNsqd } = await import("./helpers.ts");
    const { silentLogger } = await import("../../src/common/log.ts");
    const fs = createNodeFileSystem();
    writeMetadata(fs, dir, { topics: [{ name: "t", paused: false, channels: [] }], version: "1.3.0" });
    for (const name of ["t:lost", "orphan", "orphan:c"]) {
      const q = new DiskQueue({ name, dataPath: dir, maxBytesPerFile: 1 << 20, minMsgSize: 26, maxMsgSize: 1 << 20, syncEvery: 100, fs, logger: silentLogger });
      for (let i = 0; i < 3; i++) q.put(new Uint8Array(30).fill(i + 1), true);
      q.flush();
      // no close: as after a crash
    }
    nodeFs.writeFileSync(path.join(dir, "bad name!.diskqueue.meta.dat"), "0\n0,0\n0,0\n");
    await using d = await startTestNsqd({ data_path: dir, mem_queue_size: 0 });
    const t = d.nsqd.getExistingTopic("t")!;
    expect([...t.channels.keys()]).toEqual(["lost"]);
    expect(t.channels.get("lost")!.depth()).toBe(3);
    const orphan = d.nsqd.getExistingTopic("orphan")!;
    // the topic's own 3 messages went on to its channel, which had 3 already
    expect(orphan.depth()).toBe(0);
    expect(orphan.channels.get("c")!.depth()).toBe(6);
    expect(d.nsqd.topics.size).toBe(2);
    // and they are saved now
    expect(
      readMetadata(fs, dir)!
        .topics.map((x) => `${x.name}:${x.channels.map((c) => c.name).join(",")}`)
        .sort(),
    ).toEqual(["orphan:c", "t:lost"]);
  });
});
