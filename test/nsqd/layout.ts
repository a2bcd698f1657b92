// An independent implementation of the disk queue's byte layout, written from
// the SPEC (D-BEH-DISKQUEUE) and not from DiskQueue: what the original nsqd
// reads and writes. Tests use it to prove the files are interchangeable.
import * as nodeFs from "node:fs";
import * as path from "node:path";

// ---- independent implementation of the SPEC byte layout ----------------------
// Segments `<name>.diskqueue.%06d.dat` of records [int32 big-endian len][len bytes];
// metadata `<name>.diskqueue.meta.dat` = "<depth>\n<rfn>,<rpos>\n<wfn>,<wpos>\n".

function segName(d: string, name: string, n: number): string {
  return path.join(d, `${name}.diskqueue.${n.toString().padStart(6, "0")}.dat`);
}

export function independentRead(d: string, name: string): { depth: number; records: Uint8Array[] } {
  const lines = nodeFs.readFileSync(path.join(d, `${name}.diskqueue.meta.dat`), "latin1").split("\n");
  const depth = parseInt(lines[0]!, 10);
  const [rfn, rpos] = lines[1]!.split(",").map((x) => parseInt(x, 10)) as [number, number];
  const [wfn, wpos] = lines[2]!.split(",").map((x) => parseInt(x, 10)) as [number, number];
  const records: Uint8Array[] = [];
  for (let n = rfn; n <= wfn; n++) {
    const p = segName(d, name, n);
    if (!nodeFs.existsSync(p)) continue;
    const bytes = nodeFs.readFileSync(p);
    let off = n === rfn ? rpos : 0;
    const end = n === wfn ? wpos : bytes.length;
    while (off < end) {
      const len = (bytes[off]! << 24) | (bytes[off + 1]! << 16) | (bytes[off + 2]! << 8) | bytes[off + 3]!;
      records.push(new Uint8Array(bytes.subarray(off + 4, off + 4 + len)));
      off += 4 + len;
    }
    if (off !== end) throw new Error(`segment ${p} does not end on a record boundary`);
  }
  return { depth, records };
}

/**
 * Writes segments and metadata as the original does: a new segment starts when
 * the next record would not fit in maxBytesPerFile; the first `consumed` records
 * count as read (the segments they emptied are deleted, as the original deletes them).
 */
export function independentWrite(d: string, name: string, records: Uint8Array[], maxBytesPerFile: number, consumed: number): void {
  let fileNum = 0;
  let pos = 0;
  let rfn = 0;
  let rpos = 0;
  let chunks: Uint8Array[] = [];
  const flush = () => {
    const all = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      all.set(c, at);
      at += c.length;
    }
    nodeFs.writeFileSync(segName(d, name, fileNum), all);
  };
  records.forEach((r, i) => {
    const total = 4 + r.length;
    if (pos > 0 && pos + total > maxBytesPerFile) {
      flush();
      chunks = [];
      fileNum++;
      pos = 0;
    }
    const head = new Uint8Array(4);
    head[0] = (r.length >>> 24) & 0xff;
    head[1] = (r.length >>> 16) & 0xff;
    head[2] = (r.length >>> 8) & 0xff;
    head[3] = r.length & 0xff;
    chunks.push(head, r);
    if (i < consumed) {
      rfn = fileNum;
      rpos = pos + total;
    }
    pos += total;
  });
  flush();
  // a reader that finished a complete segment has moved on to the next one and deleted it
  if (consumed > 0 && rfn < fileNum && rpos === nodeFs.statSync(segName(d, name, rfn)).size) {
    rfn++;
    rpos = 0;
  }
  for (let n = 0; n < rfn; n++) nodeFs.rmSync(segName(d, name, n));
  nodeFs.writeFileSync(path.join(d, `${name}.diskqueue.meta.dat`), `${records.length - consumed}\n${rfn},${rpos}\n${fileNum},${pos}\n`);
}
