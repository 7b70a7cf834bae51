/**
 * The reporters through the real CLI (dist/, so build first): the live view under a pseudo-terminal
 * (util-linux `script`), plain lines when piped, and `--json` checked against `quanta datasets`.
 * The fixture pipeline (fixtures/copy) copies four files then joins them: 5 quanta, 5 output datasets.
 */
import { spawnSync } from "node:child_process";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeTempDir, QUANTA_BIN, runCli } from "../helpers/cli.js";
import { stripEscapes } from "../../src/ui/strip-escapes.js";
import { renderScreen } from "./render-screen.js";

const FIXTURE = join(import.meta.dirname, "fixtures", "copy");
const OUTPUT_TYPES = new Set(["copied", "joined"]);

let dir: string;
let cleanup: () => void;

beforeEach(() => {
  ({ dir, cleanup } = makeTempDir("quanta-ui-"));
  cpSync(FIXTURE, dir, { recursive: true });
});
afterEach(() => cleanup());

/** The environment of an interactive shell: no CI, no NO_COLOR. */
function interactiveEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: "xterm-256color" };
  for (const key of Object.keys(env)) {
    if (key === "CI" || key === "NO_COLOR" || key === "CONTINUOUS_INTEGRATION" || key.startsWith("CI_")) delete env[key];
  }
  return env;
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** Runs `quanta ARGS…` on an 80×40 pseudo-terminal; returns everything the terminal received. */
function runInTerminal(args: string[]): { code: number; output: string } {
  const command = [process.execPath, QUANTA_BIN, ...args].map(quote).join(" ");
  const result = spawnSync("script", ["-qfec", `stty cols 80 rows 40; ${command}`, "/dev/null"], {
    cwd: dir,
    env: interactiveEnv(),
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  return { code: result.status ?? -1, output: result.stdout };
}

const SUMMARY_HEADER = /^task +ran +up to date +failed +blocked +time$/;
const RUN_FINISHED = /^run finished in \S+: 5 ran, 0 up to date, 0 failed, 0 blocked \(collection copy\)$/;

describe("quanta run on a terminal", () => {
  it("draws the live view, then leaves the summary on screen", () => {
    const { code, output } = runInTerminal(["run", "copy.yaml", "--repo", "cache"]);
    expect(code, output).toBe(0);
    // The live rows were drawn (with escape codes) while the run went…
    expect(output).toMatch(/\u001b\[/);
    const drawn = stripEscapes(output);
    expect(drawn).toMatch(/copy → collection copy · \S+, \d+ workers? · /);
    expect(drawn).toMatch(/task +done +up +ran +fail +blk +eta/);
    // …and what stays on the screen is the summary.
    const screen = renderScreen(output);
    expect(screen.every((line) => line.length <= 80)).toBe(true);
    const header = screen.findIndex((l) => SUMMARY_HEADER.test(l));
    expect(header, screen.join("\n")).toBeGreaterThanOrEqual(0);
    expect(screen[header + 1]).toMatch(/^copy +4 +0 +0 +0 +\S+$/);
    expect(screen[header + 2]).toMatch(/^join +1 +0 +0 +0 +\S+$/);
    expect(screen[header + 3]).toMatch(/^total +5 +0 +0 +0 +\S+$/);
    expect(screen.at(-1)).toMatch(RUN_FINISHED);
    expect(screen.some((l) => /task +done +up +ran/.test(l))).toBe(false);
  });
});

describe("quanta run piped to a file", () => {
  for (const [name, env] of [
    ["in CI", {}],
    ["outside CI", { CI: "", NO_COLOR: "" }],
  ] as const) {
    it(`prints plain lines and no escape codes (${name})`, async () => {
      const result = await runCli(["run", "copy.yaml", "--repo", "cache"], { cwd: dir, env });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).not.toMatch(/\u001b/);
      const lines = result.stdout.trimEnd().split("\n");
      expect(lines).toContainEqual(expect.stringMatching(/^task copy: 4 ran, 0 up to date, 0 failed, 0 blocked in \S+$/));
      expect(lines).toContainEqual(expect.stringMatching(/^task join: 1 ran, 0 up to date, 0 failed, 0 blocked in \S+$/));
      expect(lines).toContainEqual(expect.stringMatching(SUMMARY_HEADER));
      expect(lines.at(-1)).toMatch(RUN_FINISHED);
    });
  }
});

describe("quanta run --json", () => {
  async function runJson(): Promise<Record<string, any>[]> {
    const result = await runCli(["run", "copy.yaml", "--repo", "cache", "--json"], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    return lines.map((line) => JSON.parse(line));
  }

  async function countOutputDatasets(): Promise<number> {
    const result = await runCli(["datasets", "--repo", "cache", "--collection", "copy", "--json"], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    const datasets = result.stdout.trimEnd().split("\n").filter(Boolean).map((line) => JSON.parse(line));
    for (const d of datasets) expect(d.collection).toBe("copy");
    return datasets.filter((d) => OUTPUT_TYPES.has(d.type)).length;
  }

  it("prints one event per line; the final counts match the repository's datasets", async () => {
    const events = await runJson();
    for (const e of events) {
      expect(e.v).toBe(1);
      expect(typeof e.event).toBe("string");
      expect(typeof e.time).toBe("number");
    }
    const last = events.at(-1)!;
    expect(last.event).toBe("run-finished");
    expect(last.counts).toMatchObject({ ran: 5, upToDate: 0, failed: 0, blocked: 0 });
    expect(await countOutputDatasets()).toBe(last.counts.ran + last.counts.upToDate);
    // Each task-finished event agrees with the summary.
    const finished = events.filter((e) => e.event === "task-finished").map((e) => e.counts);
    expect(finished).toEqual(last.tasks);
    expect(events.filter((e) => e.event === "quantum-finished")).toHaveLength(5);

    const again = (await runJson()).at(-1)!;
    expect(again.counts).toMatchObject({ ran: 0, upToDate: 5, failed: 0, blocked: 0 });
    expect(await countOutputDatasets()).toBe(again.counts.ran + again.counts.upToDate);
  });
});
