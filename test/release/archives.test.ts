// `npm run release`: one archive per platform and SHA256SUMS. The linux-x64
// executable runs here; linux-arm64 runs under qemu-user (Debian's qemu-user
// with the arm64 C library, installed by .ci/run); the macOS, Windows and
// musl executables cannot run here and are checked for their format.
import { readFileSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ROOT, sh, startNsqdFrom, tempDir, which } from "./helpers.ts";

const VERSION = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;
const RELEASE = join(ROOT, "release");
const ARCHIVES = ["linux-x64.tar.gz", "linux-arm64.tar.gz", "linux-x64-musl.tar.gz", "darwin-x64.tar.gz", "darwin-arm64.tar.gz", "windows-x64.zip"].map(
  (suffix) => `nsq-${VERSION}-${suffix}`,
);
const NPM_PACKAGE = `nsq-${VERSION}.tgz`;
const VERSION_LINE = new RegExp(`^nsq v${VERSION.replaceAll(".", "\\.")} \\(built w/bun v[\\d.]+\\)\\n$`);

let work = "";
beforeAll(() => {
  sh("npm", ["run", "--silent", "release"], { timeoutMs: 600_000 });
  work = tempDir("nsq-release-");
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Unpacks a .tar.gz archive into the work folder; returns the folder it made. */
function untar(archive: string): string {
  sh("tar", ["-xzf", join(RELEASE, archive), "-C", work]);
  return join(work, archive.replace(/\.tar\.gz$/, ""));
}

/** The names inside an archive, as tar / unzip list them. */
function listing(archive: string): string[] {
  if (archive.endsWith(".zip")) {
    const out = sh("unzip", ["-Z1", join(RELEASE, archive)]).stdout;
    return out.split("\n").filter(Boolean).sort();
  }
  return sh("tar", ["-tzf", join(RELEASE, archive)])
    .stdout.split("\n")
    .filter(Boolean)
    .sort();
}

/** Whether a Mach-O 64-bit executable carries a code signature (LC_CODE_SIGNATURE): macOS on Apple silicon runs nothing without one. */
function machOSigned(path: string): boolean {
  const b = readFileSync(path).subarray(0, 1 << 16);
  if (b.readUInt32LE(0) !== 0xfeedfacf) throw new Error(`${path}: not a 64-bit Mach-O file`);
  const ncmds = b.readUInt32LE(16);
  let off = 32;
  for (let i = 0; i < ncmds; i++) {
    if (b.readUInt32LE(off) === 0x1d) return true;
    off += b.readUInt32LE(off + 4);
  }
  return false;
}

/** Publishes two lines with `nsq pub` and reads them back with `nsq tail` (both the x64 executable). */
function publishAndTail(nsq: string, tcpAddress: string, topic: string): string {
  sh(nsq, ["pub", `--nsqd-tcp-address=${tcpAddress}`, `--topic=${topic}`], { input: "first\nsecond\n" });
  return sh(nsq, ["tail", `--nsqd-tcp-address=${tcpAddress}`, `--topic=${topic}`, "-n", "2"], { timeoutMs: 60_000 }).stdout;
}

describe("npm run release", () => {
  test("writes one archive per platform, the npm package, and SHA256SUMS that sha256sum -c accepts", () => {
    const files = readdirSync(RELEASE).sort();
    expect(files).toEqual([...ARCHIVES, NPM_PACKAGE, "SHA256SUMS"].sort());
    const sums = readFileSync(join(RELEASE, "SHA256SUMS"), "utf8");
    expect(
      sums
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split("  ")[1])
        .sort(),
    ).toEqual([...ARCHIVES, NPM_PACKAGE].sort());
    const check = sh("sha256sum", ["-c", "SHA256SUMS"], { cwd: RELEASE });
    expect(check.stdout.trim().split("\n").sort()).toEqual([...ARCHIVES, NPM_PACKAGE].map((f) => `${f}: OK`).sort());
  });

  test("each archive holds nsq-<version>-<platform>/ with the executable and LICENSE, nothing else", () => {
    for (const archive of ARCHIVES) {
      const dir = archive.replace(/\.(tar\.gz|zip)$/, "");
      const exe = archive.endsWith(".zip") ? "nsq.exe" : "nsq";
      expect(listing(archive), archive).toEqual([`${dir}/`, `${dir}/LICENSE`, `${dir}/${exe}`].sort());
    }
  });

  test("linux-x64: unpacks and runs; nsq --version, a program-name link, nsqd publishes and consumes", async () => {
    const dir = untar(`nsq-${VERSION}-linux-x64.tar.gz`);
    const nsq = join(dir, "nsq");
    expect(sh("file", ["-b", nsq]).stdout).toMatch(/^ELF 64-bit LSB (pie )?executable, x86-64/);
    expect(sh(nsq, ["--version"]).stdout).toMatch(VERSION_LINE);
    symlinkSync("nsq", join(dir, "nsqd"));
    expect(sh(join(dir, "nsqd"), ["--version"]).stdout).toMatch(new RegExp(`^nsqd v${VERSION.replaceAll(".", "\\.")} `));
    await using nsqd = await startNsqdFrom(nsq);
    expect(publishAndTail(nsq, nsqd.tcpAddress, "release_x64")).toBe("first\nsecond\n");
  });

  test("linux-arm64 under qemu-user: nsq --version, and nsqd serves the x64 tools", async () => {
    const qemu = which("qemu-aarch64") ?? which("qemu-aarch64-static");
    if (qemu === null) throw new Error("qemu-aarch64 not found: install Debian's qemu-user (and libc6:arm64), as .ci/run does");
    const x64 = join(untar(`nsq-${VERSION}-linux-x64.tar.gz`), "nsq");
    const arm = join(untar(`nsq-${VERSION}-linux-arm64.tar.gz`), "nsq");
    expect(sh("file", ["-b", arm]).stdout).toMatch(/^ELF 64-bit LSB (pie )?executable, ARM aarch64/);
    expect(sh(qemu, [arm, "--version"]).stdout).toMatch(VERSION_LINE);
    await using nsqd = await startNsqdFrom(qemu, [arm]);
    expect(publishAndTail(x64, nsqd.tcpAddress, "release_arm64")).toBe("first\nsecond\n");
    // The arm64 nsqd's own account over HTTP (D-HTTP-STATS).
    const stats = (await (await fetch(`http://${nsqd.httpAddress}/stats?format=json&topic=release_arm64`)).json()) as {
      topics: { topic_name: string; message_count: number }[];
    };
    expect(stats.topics.map((t) => [t.topic_name, t.message_count])).toEqual([["release_arm64", 2]]);
  });

  test("linux-x64-musl (Alpine): an x86-64 executable for the musl loader", () => {
    const nsq = join(untar(`nsq-${VERSION}-linux-x64-musl.tar.gz`), "nsq");
    expect(sh("file", ["-b", nsq]).stdout).toMatch(/^ELF 64-bit LSB (pie )?executable, x86-64.*interpreter \/lib\/ld-musl-x86_64\.so\.1/);
  });

  test.each([
    ["darwin-x64", /^Mach-O 64-bit x86_64 executable/],
    ["darwin-arm64", /^Mach-O 64-bit arm64 executable/],
  ])("%s: a signed Mach-O executable", (platform, format) => {
    const nsq = join(untar(`nsq-${VERSION}-${platform}.tar.gz`), "nsq");
    expect(sh("file", ["-b", nsq]).stdout).toMatch(format);
    expect(machOSigned(nsq)).toBe(true);
  });

  test("windows-x64: a console PE32+ executable for x86-64 in a zip", () => {
    sh("unzip", ["-q", join(RELEASE, `nsq-${VERSION}-windows-x64.zip`), "-d", work]);
    const exe = join(work, `nsq-${VERSION}-windows-x64`, "nsq.exe");
    expect(sh("file", ["-b", exe]).stdout).toMatch(/^PE32\+ executable \(console\) x86-64/);
  });
});
