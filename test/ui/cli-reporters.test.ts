/**
 * The reporters through the real CLI (dist/, so build first): the live view under a pseudo-terminal
 * (util-linux `script`), plain lines when piped, and `--json` checked against `quanta datasets`.
 * The fixture pipeline (fixtures/copy) copies four files then joins them: 5 quanta, 5 output datasets.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeTempDir, QUANTA_BIN, runCli } from "../helpers/cli.js";
import type { QuantaEvent } from "../../src/core/events.js";
import { createRunState, reduceRunState, sumTasks } from "../../src/ui/run-state.js";
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
    expect(screen[header + 3]).toMatch(/^all tasks +5 +0 +0 +0 +\S+$/);
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

describe("14.17 ten thousand failures stay readable: the real CLI", () => {
  const FAILING = 150;
  const TAIL = ["line one of stderr", "line two", "line three"];

  /**
   * A command task that fails, with three lines on stderr, for each of FAILING data IDs; a gather after
   * it. `sleep` seconds per quantum make the run last a few of the live view's frames.
   */
  function writeFailingPipeline(sleep = 0): void {
    mkdirSync(join(dir, "failing"));
    for (let i = 1; i <= FAILING; i++) writeFileSync(join(dir, "failing", `in-${i}.txt`), `${i}\n`);
    const echo = TAIL.map((l) => `echo '${l}' >&2`).join("; ");
    writeFileSync(
      join(dir, "fail.yaml"),
      [
        "dimensions: { item: int }",
        'inputs: { src: { path: "failing/in-{item}.txt", storage: file } }',
        "tasks:",
        "  broken:",
        `    command: "${sleep > 0 ? `sleep ${sleep}; ` : ""}${echo}; exit 1"`,
        "    dimensions: [item]",
        "    inputs: { src: { type: src, dimensions: [item], storage: file } }",
        "    outputs: { out: { type: out, dimensions: [item], storage: file } }",
        "  gather:",
        '    command: "cat {inputs.all} > {outputs.out}"',
        "    dimensions: []",
        "    inputs: { all: { type: out, dimensions: [item], storage: file, multiple: true } }",
        "    outputs: { out: { type: book, dimensions: [], storage: file } }",
        "",
      ].join("\n"),
    );
  }

  it("plain lines: each log tail once, the first 20 failures, then a count", async () => {
    writeFailingPipeline();
    const result = await runCli(["run", "fail.yaml", "--repo", "cache"], { cwd: dir });
    expect(result.code, result.stderr).toBe(1);
    const lines = result.stdout.trimEnd().split("\n");
    const failed = lines.filter((l) => l.startsWith("FAILED "));
    expect(failed).toHaveLength(20);
    for (const line of failed) expect(line).toMatch(/^FAILED broken@item=\d+ \(after \S+\): command exited with code 1$/);
    for (const tailLine of TAIL) expect(lines.filter((l) => l === `    ${tailLine}`)).toHaveLength(20);
    expect(lines).toContainEqual(expect.stringMatching(/^… and 130 more failures, not shown \(`quanta log broken@item=\d+` prints one; --json lists all\)$/));
    expect(lines.at(-1)).toMatch(/^run failed in \S+: 0 ran, 0 up to date, 150 failed, 1 blocked \(collection fail\)$/);
  });

  it("--json: every quantum is reported before its task's task-finished, and counted once", async () => {
    writeFailingPipeline();
    const result = await runCli(["run", "fail.yaml", "--repo", "cache", "--json"], { cwd: dir });
    expect(result.code, result.stderr).toBe(1);
    const events = result.stdout.trimEnd().split("\n").map((l) => JSON.parse(l) as QuantaEvent);
    const finishedTasks = new Set<string>();
    let state = createRunState();
    for (const e of events) {
      if ("task" in e && e.event !== "quantum-started" && finishedTasks.has(e.task)) throw new Error(`${e.event} for ${e.task} after its task-finished`);
      if (e.event === "task-finished") finishedTasks.add(e.counts.task);
      state = reduceRunState(state, e);
      const t = sumTasks(state);
      if (state.phase !== "idle" && (t.total !== FAILING + 1 || t.done > t.total)) throw new Error(`progress ${t.done}/${t.total} after ${e.event}`);
    }
    expect(sumTasks(state)).toMatchObject({ total: 151, done: 151, failed: 150, blocked: 1 });
    const failures = events.filter((e) => e.event === "quantum-failed");
    expect(failures).toHaveLength(150);
    for (const f of failures) expect(f).toMatchObject({ error: "command exited with code 1", logTail: TAIL });
  });

  it("live view in a terminal: counts never above the graph, 20 failures drawn, then a count", () => {
    writeFailingPipeline(0.03);
    const { code, output } = runInTerminal(["run", "fail.yaml", "--repo", "cache"]);
    expect(code, output).toBe(1);
    const drawn = stripEscapes(output).split(/\r?\n|\r/);
    const rows = drawn.map((l) => /^(broken|gather|all tasks)\s+[█░]+\s+(\d+)\/(\d+)\s/.exec(l)).filter((m) => m !== null);
    expect(rows.length).toBeGreaterThan(3);
    const totals: Record<string, number> = { broken: 150, gather: 1, "all tasks": 151 };
    for (const [line, task, done, total] of rows) {
      expect(Number(total), line).toBe(totals[task]);
      expect(Number(done), line).toBeLessThanOrEqual(totals[task]);
    }
    expect(drawn.filter((l) => /^✗ broken@item=\d+ failed after \S+: command exited with code 1$/.test(l))).toHaveLength(20);
    expect(drawn.filter((l) => l === "    line two")).toHaveLength(20);
    // The closing line wraps at 80 columns.
    const end = drawn.slice(drawn.findIndex((l) => l.startsWith("… and "))).join(" ");
    expect(end).toMatch(/^… and 130 more failures, not shown \(`quanta log broken@item=\d+` prints one; --json lists all\) task +ran/);
    expect(end).toMatch(/run failed in \S+: 0 ran, 0 up to date, 150 failed, 1 blocked/);
  });
});
