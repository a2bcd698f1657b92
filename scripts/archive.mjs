// Minimal archive writers for the release: .tar.gz (POSIX ustar) and .zip
// (deflate), for a handful of regular files. Entries carry a fixed time and
// owner, so the same inputs give the same bytes on any build machine.
import { deflateRawSync, gzipSync } from "node:zlib";

/** @typedef {{ name: string, data: Uint8Array, mode: number }} Entry */

/** 2000-01-01T00:00:00Z: the time every entry is stamped with. */
const FIXED_TIME = 946684800;

function octal(n, width) {
  return n.toString(8).padStart(width - 1, "0") + "\0";
}

function tarHeader(name, size, mode, type) {
  if (Buffer.byteLength(name) > 100) throw new Error(`archive: name longer than 100 bytes: ${name}`);
  const h = Buffer.alloc(512);
  h.write(name, 0, "utf8");
  h.write(octal(mode, 8), 100);
  h.write(octal(0, 8), 108); // uid
  h.write(octal(0, 8), 116); // gid
  h.write(octal(size, 12), 124);
  h.write(octal(FIXED_TIME, 12), 136);
  h.write("        ", 148); // checksum field counts as spaces while summing
  h.write(type, 156);
  h.write("ustar\0", 257);
  h.write("00", 263);
  h.write("root", 265);
  h.write("root", 297);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + " ", 148);
  return h;
}

/** A gzip-compressed ustar archive holding `dir/` and the entries inside it. */
export function tarGz(dir, entries) {
  const parts = [tarHeader(`${dir}/`, 0, 0o755, "5")];
  for (const e of entries) {
    parts.push(tarHeader(`${dir}/${e.name}`, e.data.byteLength, e.mode, "0"), e.data);
    const pad = (512 - (e.data.byteLength % 512)) % 512;
    if (pad > 0) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(1024)); // two zero blocks end the archive
  return gzipSync(Buffer.concat(parts), { level: 9 });
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(data) {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** MS-DOS date and time fields of FIXED_TIME (1980-based). */
const DOS_TIME = 0;
const DOS_DATE = ((2000 - 1980) << 9) | (1 << 5) | 1;

/** A zip archive (deflate) holding `dir/` and the entries inside it. */
export function zip(dir, entries) {
  const local = [];
  const central = [];
  let offset = 0;
  const all = [{ name: `${dir}/`, data: new Uint8Array(0), mode: 0o755, isDir: true }, ...entries.map((e) => ({ ...e, name: `${dir}/${e.name}` }))];
  for (const e of all) {
    const name = Buffer.from(e.name, "utf8");
    const compressed = e.isDir ? Buffer.alloc(0) : deflateRawSync(e.data, { level: 9 });
    const method = e.isDir ? 0 : 8;
    const crc = e.isDir ? 0 : crc32(e.data);
    // Local and central headers share the fields from "version needed" to the name length.
    const common = (h, at) => {
      h.writeUInt16LE(20, at); // version needed
      h.writeUInt16LE(0x0800, at + 2); // UTF-8 names
      h.writeUInt16LE(method, at + 4);
      h.writeUInt16LE(DOS_TIME, at + 6);
      h.writeUInt16LE(DOS_DATE, at + 8);
      h.writeUInt32LE(crc, at + 10);
      h.writeUInt32LE(compressed.length, at + 14);
      h.writeUInt32LE(e.data.byteLength, at + 18);
      h.writeUInt16LE(name.length, at + 22);
    };
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    common(lh, 4);
    local.push(lh, name, compressed);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, so the mode below is read
    common(ch, 6);
    ch.writeUInt32LE(((((e.isDir ? 0o040000 : 0o100000) | e.mode) << 16) | (e.isDir ? 0x10 : 0)) >>> 0, 38);
    ch.writeUInt32LE(offset, 42);
    central.push(ch, name);
    offset += lh.length + name.length + compressed.length;
  }
  const centralSize = central.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(all.length, 8);
  end.writeUInt16LE(all.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...local, ...central, end]);
}
