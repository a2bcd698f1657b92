// The container image (Dockerfile), built and run with podman. No image
// registry is reachable from here, so the two images the Dockerfile starts
// from are made locally and passed as build arguments:
//   BASE_IMAGE   Debian bookworm from `debootstrap --variant=minbase` (stands
//                for debian:bookworm-slim)
//   BUILD_IMAGE  the same plus this machine's node 20, npm and CA bundle
//                (stands for node:20-bookworm-slim)
// Both are kept in podman's store and made again only when missing.
//
// podman runs with runc and explicit ulimits: crun refuses this machine's
// hybrid cgroup layout, and podman's default limits exceed its hard limits.
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Consumer, Producer, type Message } from "../../src/index.ts";
import { createNodeRuntime } from "../../src/runtime/node.ts";
import { ROOT, sh, tempDir, which } from "./helpers.ts";

const PROGRAMS = ["nsqd", "nsqlookupd", "nsqadmin", "nsq_tail", "nsq_to_file", "nsq_to_http", "nsq_to_nsq", "nsq_stat", "to_nsq"];
const BASE_IMAGE = "localhost/nsq-test/debian:bookworm";
const BUILD_IMAGE = "localhost/nsq-test/node:20-bookworm";
const IMAGE = "localhost/nsq-test/nsq:latest";
const MIRROR = process.env.NSQ_TEST_DEBIAN_MIRROR ?? "http://deb.debian.org/debian";
const runtime = createNodeRuntime();

const hardNofile = (() => {
  const n = sh("sh", ["-c", "ulimit -Hn"]).stdout.trim();
  return n === "unlimited" ? 1048576 : Math.min(Number(n), 1048576);
})();
const ULIMITS = ["--ulimit", `nofile=${hardNofile}:${hardNofile}`, "--ulimit", "nproc=4096:4096"];

function podman(args: readonly string[], opts: { allowFail?: boolean; timeoutMs?: number } = {}) {
  return sh("podman", ["--runtime", "runc", ...args], { timeoutMs: 600_000, ...opts });
}

const imageExists = (name: string) => podman(["image", "exists", name], { allowFail: true }).status === 0;

/** Imports a folder as an image (`tar | podman import`), with Dockerfile-style `changes`. */
function importRootfs(dir: string, name: string, changes: readonly string[] = []) {
  sh("sh", ["-c", `tar -C "$1" -c . | podman import ${changes.map((c) => `--change '${c}'`).join(" ")} - "$2"`, "import", dir, name]);
}

/** The two stand-in images, made once per machine (about 45 s). */
function ensureBaseImages() {
  if (imageExists(BASE_IMAGE) && imageExists(BUILD_IMAGE)) return;
  if (which("debootstrap") === null) throw new Error("debootstrap not found: install Debian's debootstrap, as .ci/run does");
  const work = tempDir("nsq-rootfs-");
  try {
    const rootfs = join(work, "rootfs");
    sh("debootstrap", ["--variant=minbase", "bookworm", rootfs, MIRROR], { timeoutMs: 600_000 });
    rmSync(join(rootfs, "var", "cache", "apt", "archives"), { recursive: true, force: true });
    rmSync(join(rootfs, "var", "lib", "apt", "lists"), { recursive: true, force: true });
    importRootfs(rootfs, BASE_IMAGE);
    // node and npm as installed here, and the CA bundle this machine trusts (the npm registry is reached through it).
    const node = process.execPath;
    const npm = join(node, "..", "..", "lib", "node_modules", "npm");
    if (!existsSync(npm)) throw new Error(`npm not found beside ${node} (looked in ${npm})`);
    mkdirSync(join(rootfs, "usr", "local", "lib", "node_modules"), { recursive: true });
    sh("cp", [node, join(rootfs, "usr", "local", "bin", "node")]);
    sh("cp", ["-a", npm, join(rootfs, "usr", "local", "lib", "node_modules", "npm")]);
    sh("ln", ["-s", "../lib/node_modules/npm/bin/npm-cli.js", join(rootfs, "usr", "local", "bin", "npm")]);
    mkdirSync(join(rootfs, "etc", "ssl", "certs"), { recursive: true });
    sh("cp", ["/etc/ssl/certs/ca-certificates.crt", join(rootfs, "etc", "ssl", "certs", "ca-certificates.crt")]);
    importRootfs(rootfs, BUILD_IMAGE, [
      "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt",
    ]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const volume = `nsq-test-data-${process.pid}`;
const containers: string[] = [];

beforeAll(() => {
  if (which("podman") === null) throw new Error("podman not found: install Debian's podman and runc, as .ci/run does");
  ensureBaseImages();
  // This machine's npm cache serves `npm ci` in the build stage.
  const npmCache = join(homedir(), ".npm");
  podman([
    "build",
    ...ULIMITS,
    "--build-arg",
    `BUILD_IMAGE=${BUILD_IMAGE}`,
    "--build-arg",
    `BASE_IMAGE=${BASE_IMAGE}`,
    ...(existsSync(npmCache) ? ["--volume", `${npmCache}:/root/.npm`] : []),
    "--tag",
    IMAGE,
    ROOT,
  ]);
  podman(["volume", "create", volume]);
});

afterAll(() => {
  for (const c of containers) podman(["rm", "--force", c], { allowFail: true });
  podman(["volume", "rm", "--force", volume], { allowFail: true });
  // Untagged build-stage images would pile up, one per change of the sources.
  podman(["image", "prune", "--force"], { allowFail: true });
});

/** Starts /nsqd in the container on the data volume; returns its published TCP and HTTP addresses. */
async function runNsqd(): Promise<{ id: string; tcp: string; http: string }> {
  const id = podman([
    "run",
    "--detach",
    ...ULIMITS,
    "--publish",
    "127.0.0.1::4150",
    "--publish",
    "127.0.0.1::4151",
    "--volume",
    `${volume}:/data`,
    IMAGE,
    "/nsqd",
  ]).stdout.trim();
  containers.push(id);
  const port = (p: string) => podman(["port", id, p]).stdout.trim().split("\n")[0]!;
  const tcp = port("4150/tcp");
  const http = port("4151/tcp");
  // Ready when /ping answers (D-HTTP-PING); bounded by a count, not a clock.
  for (let i = 0; ; i++) {
    try {
      const r = await fetch(`http://${http}/ping`);
      if (r.ok) break;
    } catch (e) {
      if (i >= 300) throw new Error(`nsqd in ${id} did not answer /ping: ${(e as Error).message}\n${podman(["logs", id]).stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { id, tcp, http };
}

describe("container image", () => {
  test("exposes the original's ports, keeps /data in a volume, answers to every program name in / and on PATH", () => {
    const config = JSON.parse(podman(["image", "inspect", IMAGE]).stdout)[0].Config as {
      ExposedPorts: Record<string, unknown>;
      Volumes: Record<string, unknown>;
      WorkingDir: string;
    };
    expect(Object.keys(config.ExposedPorts).sort()).toEqual(["4150/tcp", "4151/tcp", "4160/tcp", "4161/tcp", "4170/tcp", "4171/tcp"]);
    expect(Object.keys(config.Volumes)).toEqual(["/data"]);
    expect(config.WorkingDir).toBe("/data");
    const script = PROGRAMS.map((p) => `/${p} --version && ${p} --version`).join(" && ");
    const out = podman(["run", "--rm", ...ULIMITS, IMAGE, "sh", "-c", script]).stdout;
    const lines = out.trim().split("\n");
    expect(lines.map((l) => l.split(" ")[0])).toEqual(PROGRAMS.flatMap((p) => [p, p]));
    for (const l of lines) expect(l).toMatch(/^\S+ v\d+\.\d+\.\d+/);
  });

  test("/nsqd takes publishes over TCP and HTTP, stops cleanly on SIGTERM, and finds them again on the volume", async () => {
    const first = await runNsqd();
    const producer = new Producer(first.tcp, {}, { runtime });
    await producer.multiPublish("box", ["one", "two"]);
    await producer.stop();
    const pub = await fetch(`http://${first.http}/pub?topic=box`, { method: "POST", body: "three" });
    expect(await pub.text()).toBe("OK");
    // D-BEH-SHUTDOWN: SIGTERM (podman stop) writes the in-memory messages to the data path.
    podman(["stop", "--time", "30", first.id]);
    expect(podman(["inspect", first.id, "--format", "{{.State.ExitCode}}"]).stdout.trim()).toBe("0");

    const second = await runNsqd();
    const consumer = new Consumer("box", "ch", { max_in_flight: 10 }, { runtime });
    const bodies: string[] = [];
    const all = new Promise<void>((resolve) =>
      consumer.addHandler((m: Message) => {
        bodies.push(new TextDecoder().decode(m.body));
        if (bodies.length === 3) resolve();
      }),
    );
    await consumer.connectToNsqd(second.tcp);
    await all;
    await consumer.stop();
    expect(bodies.sort()).toEqual(["one", "three", "two"]);
    podman(["stop", "--time", "30", second.id]);
  });
});
