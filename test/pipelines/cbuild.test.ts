/**
 * The C build pipeline (pipelines/cbuild) through the real CLI: a cold build, a no-op rebuild, a code
 * edit (that compile, the link and the run rerun), and a comment edit (only that compile reruns: its
 * object comes out byte-identical, debug info included, so the link and the run stay up to date); a
 * second repository builds the very same bytes; a header edit recompiles exactly the files whose
 * depfile named it. Its commands use their inputs where they are (`name:`), the program as built.
 */
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT, makeTempDir, runCli } from "../helpers/cli.js";
import { describeWithCompiler } from "../helpers/c-compiler.js";

let dir: string;
let cleanup: () => void;
/** The stable sandbox paths of this file's runs, apart from those of other test files running the same quanta. */
let env: Record<string, string>;

beforeAll(() => {
  ({ dir, cleanup } = makeTempDir("quanta-cbuild-"));
  cpSync(join(PROJECT_ROOT, "pipelines", "cbuild"), join(dir, "cbuild"), { recursive: true });
  env = { QUANTA_SANDBOX_LINKS: join(dir, "links") };
});

afterAll(() => cleanup());

interface RunFinished {
  event: "run-finished";
  counts: { ran: number; upToDate: number; failed: number; blocked: number };
  tasks: { task: string; ran: number; upToDate: number }[];
  exitCode: number;
}

/** Runs the pipeline with `--json` and returns its last event, `run-finished`, and the quanta that ran. */
async function runBuildIn(project: string, repo: string): Promise<RunFinished & { finished: string[] }> {
  const result = await runCli(["run", "cbuild.yaml", "--repo", repo, "--json"], { cwd: project, env });
  const events = result.stdout.trim().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { event: string; task?: string; dataId?: string });
  const last = (events[events.length - 1] ?? {}) as RunFinished;
  expect(last.event, result.stderr + result.stdout).toBe("run-finished");
  expect(result.code, result.stderr).toBe(0);
  const finished = events.filter((e) => e.event === "quantum-finished").map((e) => (e.dataId === "" ? e.task! : `${e.task}@${e.dataId}`));
  return { ...last, finished: finished.sort() };
}

function runBuild(): Promise<RunFinished & { finished: string[] }> {
  return runBuildIn(join(dir, "cbuild"), join(dir, "repo"));
}

/** `type@dataId` → digest, of the datasets of a repository's cbuild collection. */
async function digestsOf(repo: string): Promise<Record<string, string>> {
  const result = await runCli(["datasets", "--collection", "cbuild", "--repo", repo, "--json"], { cwd: dir });
  expect(result.code, result.stderr).toBe(0);
  const rows = result.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; dataId: Record<string, unknown>; digest: string });
  return Object.fromEntries(rows.map((r) => [`${r.type}@${Object.values(r.dataId).join(",")}`, r.digest]));
}

/** Quanta that ran, per task, for the tasks where any ran. */
function summariseRan(finished: RunFinished): Record<string, number> {
  return Object.fromEntries(finished.tasks.filter((t) => t.ran > 0).map((t) => [t.task, t.ran]));
}

async function readReport(): Promise<string> {
  const result = await runCli(["get", "report@", "--repo", join(dir, "repo")], { cwd: join(dir, "cbuild"), env });
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
}

function editSource(name: string, edit: (text: string) => string, project = join(dir, "cbuild")): void {
  const path = join(project, "src", name);
  const before = readFileSync(path, "utf8");
  const after = edit(before);
  expect(after).not.toBe(before);
  writeFileSync(path, after);
}

describeWithCompiler("the C build pipeline", () => {
  // The cases build on each other, in order: each starts from the repository the previous one left.
  it("builds and runs the program from cold", async () => {
    const finished = await runBuild();
    expect(finished.counts).toMatchObject({ ran: 6, upToDate: 0, failed: 0, blocked: 0 });
    expect(summariseRan(finished)).toEqual({ compile: 4, link: 1, run: 1 });
    expect(await readReport()).toBe("n=8 mean=5.000 sd=2.000 median=4.500\n");
  });

  it("runs nothing when nothing changed", async () => {
    const finished = await runBuild();
    expect(finished.counts).toMatchObject({ ran: 0, upToDate: 6, failed: 0 });
  });

  it("recompiles the edited file, relinks and reruns after a code change", async () => {
    editSource("main.c", (text) => text.replace('" median=%.3f\\n"', '" median=%.2f\\n"'));
    const finished = await runBuild();
    expect(finished.counts).toMatchObject({ ran: 3, upToDate: 3, failed: 0 });
    expect(summariseRan(finished)).toEqual({ compile: 1, link: 1, run: 1 });
    expect(await readReport()).toBe("n=8 mean=5.000 sd=2.000 median=4.50\n");
  });

  it("17.8.b stops at the compile step when only a comment changed, with -g (early cutoff)", async () => {
    // The comment keeps its line: with -g, moving the lines below it would change the debug info.
    editSource("order.c", (text) => text.replace("/* order.c: order statistics. */", "/* order.c: the median, by sorting. */"));
    const finished = await runBuild();
    expect(finished.counts).toMatchObject({ ran: 1, upToDate: 5, failed: 0 });
    expect(finished.finished).toEqual(["compile@file=order"]);
    expect(await readReport()).toBe("n=8 mean=5.000 sd=2.000 median=4.50\n");
  });

  it("17.8.b builds byte-identical objects and program (debug info included) in a second repository", async () => {
    const other = join(dir, "elsewhere", "cbuild");
    cpSync(join(dir, "cbuild"), other, { recursive: true });
    const finished = await runBuildIn(other, join(dir, "elsewhere", "repo"));
    expect(finished.counts).toMatchObject({ ran: 6, failed: 0 });
    const here = await digestsOf(join(dir, "repo"));
    const there = await digestsOf(join(dir, "elsewhere", "repo"));
    expect(Object.keys(here)).toContain("program@");
    expect(there).toEqual(here);
  });

  it("17.8.c recompiles exactly the files that include an edited header (from their depfiles)", async () => {
    editSource("capacity.h", (text) => text.replace("MAX_VALUES 4096", "MAX_VALUES 2048"));
    const why = await runCli(["why", "compile@file=main", "--repo", join(dir, "repo")], { cwd: join(dir, "cbuild"), env });
    expect(why.stdout).toContain("input headers (header@header=capacity) changed");
    let finished = await runBuild();
    expect(finished.finished).toEqual(["compile@file=main", "link", "run"]);

    editSource("stats.h", (text) => text.replace("of a list of numbers. */", "of a list of values. */"));
    finished = await runBuild();
    expect(finished.finished).toEqual(["compile@file=main", "compile@file=mean", "compile@file=order", "compile@file=spread"]);
    expect(await readReport()).toBe("n=8 mean=5.000 sd=2.000 median=4.50\n");
  });
});
