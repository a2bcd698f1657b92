// Summarises a V8 .cpuprofile (written by `node --cpu-prof` or `bun --cpu-prof`)
// as the functions with the most self time and the most total time, so a
// benchmark run can point at hot spots without opening DevTools.
import { readFileSync } from "node:fs";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface HotSpot {
  key: string;
  selfMs: number;
  totalMs: number;
}

/** Pseudo-frames that are not code: left out of the tables but counted in the total. */
const PSEUDO = new Set(["(idle)", "(root)", "(program)", "(garbage collector)"]);

function frameKey(cf: CallFrame, root: string): string {
  let url = cf.url.replace(/^file:\/\//, "");
  if (root !== "" && url.startsWith(root)) url = url.slice(root.length).replace(/^\//, "");
  const name = cf.functionName || "(anonymous)";
  if (url === "") return name;
  // lineNumber is 0-based in the profile.
  return `${name} ${url}:${cf.lineNumber + 1}`;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  gcMs: number;
  spots: HotSpot[];
}

export function summarizeProfile(path: string, root = ""): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, "utf8")) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) byId.set(n.id, n);

  // Time per node: from the sample deltas when present, else hitCount x mean interval.
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  if (samples.length > 0 && deltas.length === samples.length) {
    // timeDeltas[i] is the gap before sample i; charge it to sample i's node.
    for (let i = 0; i < samples.length; i++) {
      const d = Math.max(0, deltas[i]!);
      selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + d);
    }
  } else {
    const hits = profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
    const per = hits > 0 ? (profile.endTime - profile.startTime) / hits : 0;
    for (const n of profile.nodes) selfUs.set(n.id, (n.hitCount ?? 0) * per);
  }

  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const rootNode = profile.nodes.find((n) => !parent.has(n.id));

  const spots = new Map<string, HotSpot>();
  const spot = (key: string) => {
    let s = spots.get(key);
    if (s === undefined) spots.set(key, (s = { key, selfMs: 0, totalMs: 0 }));
    return s;
  };
  let idleUs = 0;
  let gcUs = 0;
  let allUs = 0;
  // Depth-first with the keys already on the stack, so recursion is counted once in totals.
  const onStack = new Map<string, number>();
  const walk = (id: number): number => {
    const n = byId.get(id)!;
    const key = frameKey(n.callFrame, root);
    const own = selfUs.get(id) ?? 0;
    allUs += own;
    if (n.callFrame.functionName === "(idle)") idleUs += own;
    if (n.callFrame.functionName === "(garbage collector)") gcUs += own;
    onStack.set(key, (onStack.get(key) ?? 0) + 1);
    let total = own;
    for (const c of n.children ?? []) total += walk(c);
    const depth = onStack.get(key)! - 1;
    if (depth === 0) onStack.delete(key);
    else onStack.set(key, depth);
    if (!PSEUDO.has(n.callFrame.functionName)) {
      const s = spot(key);
      s.selfMs += own / 1000;
      if (depth === 0) s.totalMs += total / 1000;
    }
    return total;
  };
  if (rootNode) walk(rootNode.id);
  return {
    totalMs: allUs / 1000,
    idleMs: idleUs / 1000,
    gcMs: gcUs / 1000,
    spots: [...spots.values()],
  };
}

export function formatProfile(s: ProfileSummary, top: number, filter: string): string {
  const busy = s.totalMs - s.idleMs;
  const pct = (ms: number) => (busy > 0 ? ((ms / busy) * 100).toFixed(1) : "0.0");
  const pick = (sort: (a: HotSpot, b: HotSpot) => number) =>
    s.spots
      .filter((x) => filter === "" || x.key.includes(filter))
      .sort(sort)
      .slice(0, top);
  const lines = [
    `profile: ${(s.totalMs / 1000).toFixed(2)} s sampled, ${(busy / 1000).toFixed(2)} s busy, GC ${pct(s.gcMs)}% of busy`,
    `top ${top} by self time${filter ? ` (matching ${JSON.stringify(filter)})` : ""}, % of busy time:`,
    ...pick((a, b) => b.selfMs - a.selfMs).map((x) => `  ${pct(x.selfMs).padStart(5)}%  ${x.selfMs.toFixed(0).padStart(7)} ms  ${x.key}`),
    `top ${top} by total time${filter ? ` (matching ${JSON.stringify(filter)})` : ""}:`,
    ...pick((a, b) => b.totalMs - a.totalMs).map((x) => `  ${pct(x.totalMs).padStart(5)}%  ${x.totalMs.toFixed(0).padStart(7)} ms  ${x.key}`),
  ];
  return lines.join("\n") + "\n";
}
