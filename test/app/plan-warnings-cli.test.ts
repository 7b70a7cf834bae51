/**
 * Nothing is dropped without a word, through the real CLI: what planning drops (a gather short of its
 * minimum, a task whose join keeps nothing) is reported by `run`, `status` and `graph`, as lines or as
 * `plan-warning` events, and counted in the run's summary; input paths that cannot be read as their
 * template's files (not UTF-8 text, dangling symlinks, directories, FIFOs) are named by ingest.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir, runCli } from "../helpers/cli.js";

const temp = makeTempDir("quanta-plan-warnings-");
afterAll(() => temp.cleanup());
let counter = 0;

/** Groups g1 (two samples) and g2 (one): `merge` needs two per group; `final` also reads `extra`, which has no files. */
function makeGatherWorkspace(): string {
  const dir = join(temp.dir, `gather-${counter++}`);
  for (const [group, sample] of [["g1", "a"], ["g1", "b"], ["g2", "c"]] as const) {
    mkdirSync(join(dir, "data", group), { recursive: true });
    writeFileSync(join(dir, "data", group, `${sample}.txt`), `${sample}\n`);
  }
  mkdirSync(join(dir, "extra"), { recursive: true });
  writeFileSync(
    join(dir, "p.yaml"),
    [
      "dimensions: { group: string, sample: string }",
      "inputs:",
      '  raw: { path: "data/{group}/{sample}.txt", storage: text }',
      '  extra: { path: "extra/{group}.txt", storage: text }',
      "tasks:",
      "  merge:",
      '    command: "cat {inputs.parts} > {outputs.out}"',
      "    dimensions: [group]",
      "    inputs: { parts: { type: raw, dimensions: [group, sample], storage: text, multiple: true, minimum: 2 } }",
      "    outputs: { out: { type: merged, dimensions: [group], storage: text } }",
      "  final:",
      '    command: "cat {inputs.merged} {inputs.extra} > {outputs.out}"',
      "    dimensions: [group]",
      "    inputs:",
      "      merged: { type: merged, dimensions: [group], storage: text }",
      "      extra: { type: extra, dimensions: [group], storage: text }",
      "    outputs: { out: { type: final, dimensions: [group], storage: text } }",
    ].join("\n") + "\n",
  );
  return dir;
}

const MINIMUM = "warning: task merge: 1 quantum dropped: input parts has fewer than 2 datasets there (e.g. merge@group=g2)";
const EMPTY = "warning: task final: 0 quanta: extra (group) has 0 datasets";

function events(stdout: string): Record<string, unknown>[] {
  return stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("14.10 what planning drops is reported by every command that plans", () => {
  it("run prints the warnings and counts the dropped quanta in its summary", async () => {
    const dir = makeGatherWorkspace();
    const r = await runCli(["run", "p.yaml", "--repo", "repo", "-j", "1"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(MINIMUM);
    expect(r.stdout).toContain(EMPTY);
    expect(r.stdout).toMatch(/run finished in .*: 1 ran, 0 up to date, 0 failed, 0 blocked, 1 dropped in planning/);
    // A second run, answered by the run stamp, says the same.
    const again = await runCli(["run", "p.yaml", "--repo", "repo", "-j", "1"], { cwd: dir });
    expect(again.stdout).toContain(MINIMUM);
    expect(again.stdout).toContain("1 dropped in planning");
  });

  it("run --json emits plan-warning events and run-finished counts the dropped quanta", async () => {
    const dir = makeGatherWorkspace();
    const r = await runCli(["run", "p.yaml", "--repo", "repo", "-j", "1", "--json"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const all = events(r.stdout);
    const warnings = all.filter((e) => e.event === "plan-warning").map((e) => e.warning);
    expect(warnings).toEqual([
      { kind: "below-minimum", task: "merge", connection: "parts", minimum: 2, dropped: 1, example: "merge@group=g2" },
      { kind: "empty-task", task: "final", reason: "task final: 0 quanta: extra (group) has 0 datasets" },
    ]);
    expect(all.at(-1)).toMatchObject({ event: "run-finished", dropped: 1 });
  });

  it("status and graph print the same warnings", async () => {
    const dir = makeGatherWorkspace();
    const status = await runCli(["status", "p.yaml", "--repo", "repo"], { cwd: dir });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stderr).toContain(MINIMUM);
    expect(status.stderr).toContain(EMPTY);
    const graph = await runCli(["graph", "p.yaml", "--repo", "repo"], { cwd: dir });
    expect(graph.code, graph.stderr).toBe(0);
    expect(graph.stderr).toContain(MINIMUM);
    expect(graph.stderr).toContain(EMPTY);
  });
});

describe("14.10 ingest names the paths a template matches but cannot read as files", () => {
  it("reports non-UTF-8 text, a dangling symlink, a directory and a FIFO (without opening it), and ingests the rest", async () => {
    const dir = join(temp.dir, `odd-${counter++}`);
    mkdirSync(join(dir, "data", "D.txt"), { recursive: true });
    writeFileSync(join(dir, "data", "A.txt"), "fine\n");
    writeFileSync(join(dir, "data", "B.txt"), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a])); // "café" in Latin-1
    symlinkSync(join(dir, "nowhere.txt"), join(dir, "data", "C.txt"));
    execFileSync("mkfifo", [join(dir, "data", "E.txt")]);
    writeFileSync(
      join(dir, "p.yaml"),
      [
        "dimensions: { sample: string }",
        'inputs: { raw: { path: "data/{sample}.txt", storage: text } }',
        "tasks:",
        "  copy:",
        '    command: "cp {inputs.src} {outputs.out}"',
        "    dimensions: [sample]",
        "    inputs: { src: { type: raw, dimensions: [sample], storage: text } }",
        "    outputs: { out: { type: copied, dimensions: [sample], storage: text } }",
      ].join("\n") + "\n",
    );
    const expected = [
      `warning: ${join(dir, "data", "B.txt")}: is not UTF-8 text, but input 'raw' has storage text; skipped`,
      `warning: ${join(dir, "data", "C.txt")}: is a dangling symbolic link (its target does not exist); input 'raw' skips it`,
      `warning: ${join(dir, "data", "D.txt")}: is a directory, not a file; input 'raw' skips it`,
      `warning: ${join(dir, "data", "E.txt")}: is a FIFO (named pipe), not a regular file; not read; input 'raw' skips it`,
    ];
    const ingest = await runCli(["ingest", "p.yaml", "--repo", "repo"], { cwd: dir });
    expect(ingest.code, ingest.stderr).toBe(0);
    for (const line of expected) expect(ingest.stderr).toContain(line);
    const run = await runCli(["run", "p.yaml", "--repo", "repo", "-j", "1"], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    for (const line of expected) expect(run.stderr).toContain(line);
    const datasets = await runCli(["datasets", "--repo", "repo", "--json"], { cwd: dir });
    const raws = events(datasets.stdout).filter((d) => d.type === "raw");
    expect(raws.map((d) => d.dataId)).toEqual([{ sample: "A" }]);
  });
});
