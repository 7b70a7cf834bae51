/**
 * The C build pipeline (pipelines/cbuild) through the real CLI: a cold build, a no-op rebuild, a code
 * edit (that compile, the link and the run rerun), and a comment edit (only that compile reruns: its
 * object comes out byte-identical, so the link and the run stay up to date).
 */
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT, makeTempDir, runCli } from "../helpers/cli.js";
import { describeWithCompiler } from "../helpers/c-compiler.js";

let dir: string;
let cleanup: () => void;

beforeAll(() => {
  ({ dir, cleanup } = makeTempDir("quanta-cbuild-"));
  cpSync(join(PROJECT_ROOT, "pipelines", "cbuild"), join(dir, "cbuild"), { recursive: true });
});

afterAll(() => cleanup());

interface RunFinished {
  event: "run-finished";
  counts: { ran: number; upToDate: number; failed: number; blocked: number };
  tasks: { task: string; ran: number; upToDate: number }[];
  exitCode: number;
}

/** Runs the pipeline with `--json` and returns its last event, `run-finished`. */
async function runBuild(): Promise<RunFinished> {
  const result = await runCli(["run", "cbuild.yaml", "--repo", join(dir, "repo"), "--json"], { cwd: join(dir, "cbuild") });
  const lines = result.stdout.trim().split("\n").filter((l) => l.startsWith("{"));
  const last = JSON.parse(lines[lines.length - 1] ?? "{}") as RunFinished;
  expect(last.event, result.stderr + result.stdout).toBe("run-finished");
  expect(result.code, result.stderr).toBe(0);
  return last;
}

/** Quanta that ran, per task, for the tasks where any ran. */
function summariseRan(finished: RunFinished): Record<string, number> {
  return Object.fromEntries(finished.tasks.filter((t) => t.ran > 0).map((t) => [t.task, t.ran]));
}

async function readReport(): Promise<string> {
  const result = await runCli(["get", "report@", "--repo", join(dir, "repo")], { cwd: join(dir, "cbuild") });
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
}

function editSource(name: string, edit: (text: string) => string): void {
  const path = join(dir, "cbuild", "src", name);
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

  it("stops at the compile step when only a comment changed (early cutoff)", async () => {
    editSource("order.c", (text) => text.replace("/* order.c: order statistics. */", "/* order.c: order statistics:\n   the median, by sorting. */"));
    const finished = await runBuild();
    expect(finished.counts).toMatchObject({ ran: 1, upToDate: 5, failed: 0 });
    expect(summariseRan(finished)).toEqual({ compile: 1 });
    expect(await readReport()).toBe("n=8 mean=5.000 sd=2.000 median=4.50\n");
  });
});
