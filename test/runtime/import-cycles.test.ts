// No import cycle among the files of src/, type imports included: a part
// that needs something from the daemon that built it declares the small
// interface it needs next to itself (TopicHost, ClientHost, NsqdHttpHost...)
// instead of importing the daemon (ARCHITECTURE "Layers").
import * as fs from "node:fs";
import * as path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const src = path.join(root, "src");

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(p));
    else if (entry.name.endsWith(".ts")) out.push(p);
  }
  return out.sort();
}

/**
 * file -> the src/ files it imports: `import`, `import type`, `export ... from`
 * and `import()` alike, as TypeScript's own pre-processor reads them.
 */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const info = ts.preProcessFile(fs.readFileSync(file, "utf8"), true, true);
    const deps = new Set<string>();
    for (const ref of info.importedFiles) {
      if (!ref.fileName.startsWith(".")) continue;
      const target = path.resolve(path.dirname(file), ref.fileName);
      if (known.has(target)) deps.add(target);
    }
    graph.set(file, [...deps]);
  }
  return graph;
}

/** Every cycle's files in import order (one cycle per strongly connected component), via Tarjan's algorithm. */
function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (;;) {
      const w = stack.pop();
      if (w === undefined) break;
      onStack.delete(w);
      component.push(w);
      if (w === v) break;
    }
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(orderCycle(graph, new Set(component), v));
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

/** A path through the component from `start` back to it, for a readable report. */
function orderCycle(graph: ReadonlyMap<string, readonly string[]>, component: ReadonlySet<string>, start: string): string[] {
  const seen = new Map<string, string | null>([[start, null]]);
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift() ?? start;
    for (const w of graph.get(v) ?? []) {
      if (!component.has(w)) continue;
      if (w === start) {
        const cycle = [v];
        for (let p = seen.get(v); p !== null && p !== undefined; p = seen.get(p)) cycle.unshift(p);
        return [...cycle, start];
      }
      if (!seen.has(w)) {
        seen.set(w, v);
        queue.push(w);
      }
    }
  }
  return [...component];
}

describe("import cycles", () => {
  it("the finder reports a cycle, type-only and self imports included", () => {
    const g = new Map([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", ["a", "d"]],
      ["d", []],
      ["e", ["e"]],
    ]);
    expect(findCycles(g)).toEqual([
      ["a", "b", "c", "a"],
      ["e", "e"],
    ]);
    expect(
      findCycles(
        new Map([
          ["a", ["b"]],
          ["b", []],
        ]),
      ),
    ).toEqual([]);
  });

  it("reads type imports and re-exports as imports", () => {
    const info = ts.preProcessFile(
      'import type { A } from "./a.ts";\nexport * from "./b.ts";\nexport { c } from "./c.ts";\nconst d = import("./d.ts");',
      true,
      true,
    );
    expect(info.importedFiles.map((f) => f.fileName)).toEqual(["./a.ts", "./b.ts", "./c.ts", "./d.ts"]);
  });

  it("src/ has none", () => {
    const files = sourceFiles(src);
    expect(files.length).toBeGreaterThan(50);
    const cycles = findCycles(importGraph(files)).map((c) => c.map((f) => path.relative(root, f)).join(" -> "));
    expect(cycles).toEqual([]);
  });
});
