// scripts/systemd: the units start the multi-call names with their config
// files, restart on failure, stop with SIGTERM and leave time for the graceful
// shutdown; `systemd-analyze verify` accepts them (Debian/Ubuntu package:
// systemd); the config files hold only keys the daemons know.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { programForArgv0 } from "../../cli/programs.ts";
import { parseConfigText, parseFlags, resolveOptions } from "../../src/common/flags.ts";
import { parseDuration } from "../../src/common/duration.ts";
import type { OptionTable } from "../../src/common/options.ts";
import { LOOKUPD_OPTIONS } from "../../src/lookupd/options.ts";
import { NSQD_OPTIONS } from "../../src/nsqd/options.ts";
import { ROOT } from "../helpers/build.ts";

const DIR = join(ROOT, "scripts", "systemd");
const UNITS = ["nsqd", "nsqlookupd", "nsqadmin"] as const;

/** `Key=value` lines of one section of a unit file. */
function section(text: string, name: string): Map<string, string> {
  const out = new Map<string, string>();
  let current = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const m = /^\[(.+)\]$/.exec(line);
    if (m) {
      current = m[1]!;
      continue;
    }
    if (current !== name) continue;
    const eq = line.indexOf("=");
    out.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return out;
}

function systemdAnalyze(): string | null {
  const r = spawnSync("systemd-analyze", ["--version"], { encoding: "utf8" });
  return r.error === undefined && r.status === 0 ? "systemd-analyze" : null;
}

describe("systemd units (scripts/systemd)", () => {
  for (const unit of UNITS) {
    test(`${unit}.service runs /usr/local/bin/${unit} with /etc/nsq/${unit}.cfg, Restart=on-failure, SIGTERM`, () => {
      const text = readFileSync(join(DIR, `${unit}.service`), "utf8");
      const service = section(text, "Service");
      const exec = service.get("ExecStart")!;
      const [binary, ...args] = exec.split(/\s+/);
      expect(binary).toBe(`/usr/local/bin/${unit}`);
      // The multi-call binary recognises the name it is started as.
      expect(programForArgv0(binary!)?.program).toBe(unit);
      expect(args).toEqual([`--config=/etc/nsq/${unit}.cfg`]);
      expect(readFileSync(join(DIR, `${unit}.cfg`), "utf8").length).toBeGreaterThan(0);
      expect(service.get("Restart")).toBe("on-failure");
      expect(service.get("KillSignal")).toBe("SIGTERM");
      const stop = parseDuration(service.get("TimeoutStopSec")!);
      // nsqd writes its queues to disk on SIGTERM (D-BEH-SHUTDOWN): leave it a while.
      expect(stop).toBeGreaterThanOrEqual(unit === "nsqd" ? 60_000 : 10_000);
      expect(section(text, "Install").get("WantedBy")).toBe("multi-user.target");
    });
  }

  const tool = systemdAnalyze();
  // CI installs it with `apt-get install -y systemd` (Debian/Ubuntu).
  test.skipIf(tool === null)("systemd-analyze verify accepts every unit (skipped: systemd-analyze not installed; apt-get install systemd)", () => {
    const dir = mkdtempSync(join(tmpdir(), "nsq-units-"));
    try {
      // verify insists that ExecStart exists: point it at stand-ins.
      mkdirSync(join(dir, "bin"));
      const files: string[] = [];
      for (const unit of UNITS) {
        const stub = join(dir, "bin", unit);
        writeFileSync(stub, "#!/bin/sh\nexit 0\n");
        chmodSync(stub, 0o755);
        const text = readFileSync(join(DIR, `${unit}.service`), "utf8").replaceAll("/usr/local/bin/", `${dir}/bin/`);
        const file = join(dir, `${unit}.service`);
        writeFileSync(file, text);
        files.push(file);
      }
      const r = spawnSync(tool!, ["verify", ...files], { encoding: "utf8" });
      // verify exits 0 even for directives it ignores; those are printed, so the
      // output mentioning our files must be empty.
      const ours = `${r.stdout}\n${r.stderr}`.split("\n").filter((l) => l.includes(dir) || /\.service/.test(l));
      expect(ours).toEqual([]);
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("config files (scripts/systemd/*.cfg)", () => {
  const tables: [string, OptionTable][] = [
    ["nsqd", NSQD_OPTIONS],
    ["nsqlookupd", LOOKUPD_OPTIONS],
  ];
  for (const [name, table] of tables) {
    test(`${name}.cfg uses only ${name} config keys and resolves (X-CFG-FILE)`, () => {
      const config = parseConfigText(readFileSync(join(DIR, `${name}.cfg`), "utf8"), `${name}.cfg`);
      const keys = new Set(table.map((s) => s.key).filter((k) => k !== null));
      for (const key of Object.keys(config)) expect(keys.has(key), `unknown key ${key}`).toBe(true);
      const options = resolveOptions(table, parseFlags(table, []), config);
      expect(options.log_level).toBe("info");
    });
  }
  test("nsqadmin.cfg is valid TOML naming the lookupd HTTP API", () => {
    const config = parseConfigText(readFileSync(join(DIR, "nsqadmin.cfg"), "utf8"), "nsqadmin.cfg");
    expect(config.nsqlookupd_http_addresses).toEqual(["127.0.0.1:4161"]);
  });
});
