// The Node adapter (Node >= 20), also usable on Bun and Deno through their
// node: compatibility layers (NSQ_RUNTIME_ADAPTER=node, see ./index.ts).
import process from "node:process";
import type { Runtime } from "./types.ts";
import { nodeConnect, nodeListen, nodeServeHttp, nodeUdpSocket } from "./node-net.ts";
import { compression } from "./compression.ts";
import { nodeHttpClient } from "./http-client.ts";
import { createNodeFileSystem } from "./node-fs.ts";
import { nodeByteWriter, nodeExit, nodeHostname, nodeFreeMemory, nodeMemoryUsage, nodeOnSignal, nodeStdin } from "./node-process.ts";

/** "node v20.20.2"; on Bun or Deno the real runtime, marked as compat (its process.version mimics Node's). */
function versionString(): string {
  const v = process.versions as Record<string, string | undefined>;
  if (v.bun !== undefined) return `bun v${v.bun} (node compat)`;
  if (v.deno !== undefined) return `deno v${v.deno} (node compat)`;
  return `node ${process.version}`;
}

export function createNodeRuntime(): Runtime {
  return {
    name: "node",
    version: versionString(),
    listen: nodeListen,
    connect: nodeConnect,
    serveHttp: nodeServeHttp,
    httpClient: nodeHttpClient,
    udpSocket: nodeUdpSocket,
    compression,
    // The node adapter also runs on Bun and Deno (NSQ_RUNTIME_ADAPTER=node).
    immediatePollsIo: process.versions.deno === undefined,
    fs: createNodeFileSystem(),
    onSignal: nodeOnSignal,
    exit: nodeExit,
    hostname: nodeHostname,
    pid: process.pid,
    env: (name) => process.env[name],
    args: () => process.argv.slice(2),
    // argv[1] is the script as invoked (Node does not resolve symlinks here),
    // so `dist/nsqd -> nsq.mjs` reads as "dist/nsqd".
    argv0: () => process.argv[1] ?? process.argv0,
    cwd: () => process.cwd(),
    memoryUsage: nodeMemoryUsage,
    freeMemory: nodeFreeMemory,
    stdin: nodeStdin,
    stdout: nodeByteWriter(process.stdout),
    stderr: nodeByteWriter(process.stderr),
  };
}
