// `<data-path>/nsqd.dat`: the topics and channels (and their paused flags) that
// nsqd recreates at startup (D-BEH-METADATA). The JSON is produced the way the
// original's encoding/json does for its structs, so either program can read the
// other's file:
//   {"topics":[{"name":"t","paused":false,"channels":[{"name":"c","paused":false}]}],"version":"1.3.0"}
// Keys come in struct field order (not sorted), an empty list is written as
// `null` (a nil Go slice), there is no trailing newline, and <, >, & and
// U+2028/U+2029 are escaped as Go escapes them.
// Ephemeral topics and channels never get here: leaving them out is the caller's job.

import type { FileSystem } from "../runtime/types.ts";
import { goJson } from "../common/http/json.ts";

export interface ChannelMetadata {
  name: string;
  paused: boolean;
}

export interface TopicMetadata {
  name: string;
  paused: boolean;
  channels: ChannelMetadata[];
}

export interface Metadata {
  topics: TopicMetadata[];
  version: string;
}

export const METADATA_FILE = "nsqd.dat";

export function metadataPath(dataPath: string): string {
  if (dataPath === "") return METADATA_FILE;
  return dataPath.endsWith("/") ? dataPath + METADATA_FILE : `${dataPath}/${METADATA_FILE}`;
}

/** The file's bytes as the original writes them. */
export function encodeMetadata(metadata: Metadata): string {
  const topics =
    metadata.topics.length === 0
      ? null
      : metadata.topics.map((t) => ({
          name: t.name,
          paused: t.paused,
          channels: t.channels.length === 0 ? null : t.channels.map((c) => ({ name: c.name, paused: c.paused })),
        }));
  return goJson({ topics, version: metadata.version });
}

/**
 * Reads the file's JSON. `null` lists become empty ones; keys match without
 * regard to case and unknown keys are ignored, as with encoding/json.
 * Throws SyntaxError when the text is not JSON of that shape.
 */
export function decodeMetadata(text: string): Metadata {
  const root: unknown = JSON.parse(text);
  if (!isObject(root)) throw new SyntaxError("nsqd metadata: expected a JSON object");
  const topicsValue = field(root, "topics");
  const version = field(root, "version");
  if (version !== undefined && version !== null && typeof version !== "string") {
    throw new SyntaxError('nsqd metadata: "version" must be a string');
  }
  const topics: TopicMetadata[] = [];
  for (const t of list(topicsValue, "topics")) {
    if (!isObject(t)) throw new SyntaxError("nsqd metadata: a topic must be an object");
    const channels: ChannelMetadata[] = [];
    for (const c of list(field(t, "channels"), "channels")) {
      if (!isObject(c)) throw new SyntaxError("nsqd metadata: a channel must be an object");
      channels.push({ name: str(field(c, "name"), "channel name"), paused: bool(field(c, "paused")) });
    }
    topics.push({ name: str(field(t, "name"), "topic name"), paused: bool(field(t, "paused")), channels });
  }
  return { topics, version: typeof version === "string" ? version : "" };
}

/** `<dataPath>/nsqd.dat`, or null when there is none. Throws when it cannot be parsed. */
export function readMetadata(fs: FileSystem, dataPath: string): Metadata | null {
  const path = metadataPath(dataPath);
  if (!fs.exists(path)) return null;
  const text = fs.readText(path);
  try {
    return decodeMetadata(text);
  } catch (err) {
    throw new SyntaxError(`failed to parse metadata in ${path} - ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Writes `<dataPath>/nsqd.dat` atomically (temp file, fsync, rename), mode 0600. */
export function writeMetadata(fs: FileSystem, dataPath: string, metadata: Metadata): void {
  fs.writeAtomic(metadataPath(dataPath), encodeMetadata(metadata), 0o600);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function field(obj: Record<string, unknown>, key: string): unknown {
  if (Object.hasOwn(obj, key)) return obj[key];
  for (const k of Object.keys(obj)) if (k.toLowerCase() === key) return obj[k];
  return undefined;
}

function list(v: unknown, what: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new SyntaxError(`nsqd metadata: "${what}" must be a list`);
  return v;
}

function str(v: unknown, what: string): string {
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") throw new SyntaxError(`nsqd metadata: ${what} must be a string`);
  return v;
}

function bool(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== "boolean") throw new SyntaxError('nsqd metadata: "paused" must be true or false');
  return v;
}
