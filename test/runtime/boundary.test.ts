// Only src/runtime/ may touch node: modules or the Bun / Deno globals
// (ARCHITECTURE "Layers"; STYLE "Runtime code in one place").
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const src = path.join(root, "src");

/** Source text with comments and the contents of string literals blanked out (template holes kept). */
function codeOnly(text: string): string {
  let out = "";
  let i = 0;
  const n = text.length;
  const templateDepth: number[] = [];
  let braces = 0;
  // Template text up to its closing backtick (the template ends) or to a `${`
  // hole (back to code until the hole's matching brace).
  const templateText = (): void => {
    while (i < n) {
      if (text[i] === "\\") {
        out += "  ";
        i += 2;
        continue;
      }
      if (text[i] === "`") {
        out += "`";
        i++;
        templateDepth.pop();
        return;
      }
      if (text[i] === "$" && text[i + 1] === "{") {
        out += "${";
        i += 2;
        braces++;
        return;
      }
      out += text[i] === "\n" ? "\n" : " ";
      i++;
    }
  };
  while (i < n) {
    const c = text[i]!;
    const d = text[i + 1];
    if (c === "/" && d === "/") {
      while (i < n && text[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && d === "*") {
      const end = text.indexOf("*/", i + 2);
      const stop = end < 0 ? n : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, " ");
      i = stop;
      continue;
    }
    if (c === '"' || c === "'") {
      // Import specifiers are code: keep the quote marks and the text, so
      // `from "node:fs"` stays visible; other strings are blanked below.
      let j = i + 1;
      while (j < n && text[j] !== c && text[j] !== "\n") j += text[j] === "\\" ? 2 : 1;
      const literal = text.slice(i, j + 1);
      const before = out.trimEnd();
      const isSpecifier = /(\bfrom|\bimport|\brequire\s*\(|\bimport\s*\()$/.test(before);
      out += isSpecifier ? literal : c + " ".repeat(Math.max(0, literal.length - 2)) + c;
      i = j + 1;
      continue;
    }
    if (c === "`") {
      out += "`";
      i++;
      templateDepth.push(braces);
      templateText();
      continue;
    }
    if (c === "{") braces++;
    if (c === "}") {
      braces--;
      if (templateDepth.length > 0 && braces === templateDepth[templateDepth.length - 1]) {
        // The end of a ${...} hole: the template text goes on.
        out += "}";
        i++;
        templateText();
        continue;
      }
    }
    out += c;
    i++;
  }
  return out;
}

const RULES: { what: string; re: RegExp }[] = [
  { what: 'import from "node:…"', re: /\bfrom\s*["']node:/ },
  { what: 'import("node:…")', re: /\bimport\s*\(\s*["']node:/ },
  { what: 'require("node:…")', re: /\brequire\s*\(\s*["']node:/ },
  { what: 'import "node:…" (side effect)', re: /(^|[;\n])\s*import\s*["']node:/ },
  { what: "Bun global", re: /(?<![\w$.])Bun\s*\./ },
  { what: "Deno global", re: /(?<![\w$.])Deno\s*\./ },
  { what: "globalThis.Bun / globalThis.Deno", re: /globalThis\s*(\.\s*|\[\s*["'])(Bun|Deno)\b/ },
  { what: "(globalThis as …).Bun / .Deno", re: /\)\s*\.\s*(Bun|Deno)\b/ },
];

/** Violations in one file's text, as "line: rule". */
function violations(text: string): string[] {
  const code = codeOnly(text);
  const found: string[] = [];
  const lines = code.split("\n");
  lines.forEach((line, idx) => {
    for (const r of RULES) if (r.re.test(line)) found.push(`${idx + 1}: ${r.what}`);
  });
  return found;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|mts|js|mjs)$/.test(e.name)) out.push(p);
  }
  return out;
}

describe("runtime boundary", () => {
  it("flags node: imports and Bun/Deno globals in code, not in comments or strings", () => {
    expect(violations('import * as fs from "node:fs";')).toEqual(['1: import from "node:…"']);
    expect(violations("import {x} from 'node:os'")).toHaveLength(1);
    expect(violations('const m = await import("node:zlib");')).toHaveLength(1);
    expect(violations('const m = require("node:net");')).toHaveLength(1);
    expect(violations('import "node:process";')).toHaveLength(1);
    expect(violations("const v = Bun.version;")).toHaveLength(1);
    expect(violations("Deno.exit(1);")).toHaveLength(1);
    expect(violations("const d = (globalThis as any).Deno;")).toHaveLength(1);
    expect(violations("const d = globalThis.Deno;")).toHaveLength(1);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: source text holding a template literal, on purpose
    expect(violations("const x = `${Bun.version}`;")).toHaveLength(1);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: source text holding a template literal, on purpose
    expect(violations("const x = `a ${`b ${Bun.version}`} Deno.c ${{ k: 1 }.k}`;")).toHaveLength(1);
    // The rule's own text in comments and strings is fine:
    expect(violations('// never `from "node:fs"` or Bun.serve or Deno.listen here')).toEqual([]);
    expect(violations('/* import("node:fs"), Deno.exit */ const a = 1;')).toEqual([]);
    expect(violations('const msg = "use Bun.serve or from \\"node:http\\"";')).toEqual([]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: source text holding a template literal, on purpose
    expect(violations("const msg = `Deno.listen is ${1} Bun.x`;")).toEqual([]);
    expect(violations("const myBun = { x: 1 }; myBun.x; obj.Deno.y;")).toEqual([]);
  });

  it("nothing in src/ outside src/runtime/ uses node: modules or the Bun/Deno globals", () => {
    const runtimeDir = path.join(src, "runtime") + path.sep;
    const bad: string[] = [];
    for (const f of sourceFiles(src)) {
      if (f.startsWith(runtimeDir)) continue;
      for (const v of violations(fs.readFileSync(f, "utf8"))) bad.push(`${path.relative(root, f)}:${v}`);
    }
    expect(bad).toEqual([]);
  });
});
