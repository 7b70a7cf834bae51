/**
 * A raw input read by reference that changes while its quantum's command runs. Who wrote it cannot be
 * told (the command, or the user saving the file again): the result is not kept, the error does not
 * blame the command, and nothing is retried. A run fails the quantum, a run a watch serves too; a
 * watch's pass leaves it to the next pass (counted superseded), which follows at once.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { QuantaEvent } from "../../src/core/events.js";
import { makeTempDir, runCli } from "../helpers/cli.js";
import { ran, Watch } from "../helpers/watch-process.js";

// Once `arm` exists, `upper` appends to item 1's raw file the first time it runs (`touched` says it did).
const pipeline = (dir: string) => `
dimensions: { item: int }
inputs:
  src: { path: "data/src-{item}.txt", storage: file }
tasks:
  upper:
    command: "tr a-z A-Z < {inputs.src} > {outputs.out}; if grep -q one {inputs.src} && [ -e ${dir}/arm ] && [ ! -e ${dir}/touched ]; then touch ${dir}/touched; echo more >> ${dir}/data/src-1.txt; fi"
    dimensions: [item]
    inputs: { src: { type: src, dimensions: [item], storage: file } }
    outputs: { out: { type: upper, dimensions: [item], storage: file } }
  reverse:
    command: "rev < {inputs.text} > {outputs.out}"
    dimensions: [item]
    inputs: { text: { type: upper, dimensions: [item], storage: file } }
    outputs: { out: { type: reversed, dimensions: [item], storage: file } }
`;

let dir: string;
let cleanup: () => void;
let watch: Watch | undefined;
beforeEach(() => {
  ({ dir, cleanup } = makeTempDir("quanta-input-changed-"));
  writeFileSync(join(dir, "chain.yaml"), pipeline(dir));
  mkdirSync(join(dir, "data"));
  writeFileSync(join(dir, "data", "src-1.txt"), "one\n");
  writeFileSync(join(dir, "data", "src-2.txt"), "two\n");
});
const arm = () => writeFileSync(join(dir, "arm"), "");
const CHANGED = (file: string) => `the raw input ${file} changed while the command ran (by another process, or by the command, which must not write to its inputs); the result is not kept: the next run's ingest hashes the file again`;
afterEach(() => {
  if (watch && watch.child.exitCode === null) watch.child.kill("SIGKILL");
  watch = undefined;
  cleanup();
});

function events(stdout: string): QuantaEvent[] {
  return stdout.trim().split("\n").map((l) => JSON.parse(l) as QuantaEvent);
}

async function outputs(repo: string): Promise<string[]> {
  const r = await runCli(["datasets", "--repo", repo, "--collection", "chain", "--json"], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; dataId: Record<string, unknown>; digest: string }).map((d) => `${d.type}@${JSON.stringify(d.dataId)} ${d.digest}`).sort();
}

/** The outputs in `repo` are a clean run's (into a repository of its own). */
async function expectCleanRunOutputs(): Promise<void> {
  const clean = await runCli(["run", "chain.yaml", "--repo", "clean-repo", "--json"], { cwd: dir });
  expect(clean.code, clean.stderr).toBe(0);
  expect(await outputs("repo")).toEqual(await outputs("clean-repo"));
}

describe("a raw input changed while its command runs", () => {
  it("a one-shot run fails the quantum, naming the file, without blaming the command or retrying; the file is left as it is and the next run takes it", async () => {
    arm();
    const r = await runCli(["run", "chain.yaml", "--repo", "repo", "--json", "--retries", "2", "-j", "1"], { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    const all = events(r.stdout);
    const failed = all.filter((e) => e.event === "quantum-failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ task: "upper", dataId: "item=1" });
    const error = (failed[0] as Extract<QuantaEvent, { event: "quantum-failed" }>).error;
    expect(error).toBe(CHANGED(join(dir, "data", "src-1.txt")));
    expect(all.filter((e) => e.event === "quantum-retrying")).toEqual([]);
    expect(ran(all)).toEqual(["reverse@item=2", "upper@item=2"]);
    expect(readFileSync(join(dir, "data", "src-1.txt"), "utf8")).toBe("one\nmore\n");

    const again = await runCli(["run", "chain.yaml", "--repo", "repo", "--json"], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(ran(events(again.stdout))).toEqual(["reverse@item=1", "upper@item=1"]);
    await expectCleanRunOutputs();
  });

  it("a watch's pass leaves the quantum and its descendants to the next pass (superseded, exit 0, nothing failed), which the change starts", async () => {
    arm();
    watch = new Watch(dir, ["-j", "1"]);
    // The first pass ends with the change pending, so the next follows at once: the events are taken,
    // and cut into passes at each watch-changed, until a pass has run item 1's chain.
    const all: QuantaEvent[] = [];
    while (!ran(all).includes("upper@item=1")) all.push(...(await watch.nextPass()));
    const starts = [0, ...all.flatMap((e, i) => (e.event === "watch-changed" ? [i] : []))];
    const passes = starts.map((at, k) => all.slice(at, starts[k + 1]));
    expect(passes).toHaveLength(2);
    const [first, second] = passes as [QuantaEvent[], QuantaEvent[]];
    expect(all.filter((e) => e.event === "quantum-failed")).toEqual([]);
    expect(first.find((e) => e.event === "run-finished")).toMatchObject({ exitCode: 0, superseded: 2 });
    expect(ran(first)).toEqual(["reverse@item=2", "upper@item=2"]);
    expect(existsSync(join(dir, "touched"))).toBe(true);

    // The watcher reports the write, and the next pass redoes item 1's chain on the file's new content.
    expect(second.find((e) => e.event === "watch-changed")).toMatchObject({ paths: [join(dir, "data", "src-1.txt")] });
    expect(ran(second)).toEqual(["reverse@item=1", "upper@item=1"]);
    expect(second.find((e) => e.event === "run-finished")).toMatchObject({ exitCode: 0 });

    await expectCleanRunOutputs();
    watch.child.kill("SIGTERM");
    expect(await watch.exit()).toBe(0);
  }, 60_000);

  it("a run a watch serves (another terminal's `quanta run`) fails the quantum as it would standalone, and the watch's next pass redoes it", async () => {
    watch = new Watch(dir, ["-j", "1"]);
    expect(ran(await watch.nextPass())).toHaveLength(4);
    arm();
    const served = await runCli(["run", "chain.yaml", "--repo", "repo", "--json", "--force", "upper"], { cwd: dir });
    expect(served.code, served.stderr).toBe(1);
    const all = events(served.stdout);
    expect(all.filter((e) => e.event === "quantum-failed")).toMatchObject([{ task: "upper", dataId: "item=1", error: CHANGED(join(dir, "data", "src-1.txt")) }]);
    expect(all.find((e) => e.event === "run-finished")).not.toHaveProperty("superseded");

    // The watcher saw the write: its pass redoes item 1's chain on the new content.
    let pass: QuantaEvent[] = [];
    while (!ran(pass).includes("upper@item=1")) pass = await watch.nextPass();
    expect(ran(pass)).toEqual(["reverse@item=1", "upper@item=1"]);
    await expectCleanRunOutputs();
    watch.child.kill("SIGTERM");
    expect(await watch.exit()).toBe(0);
  }, 60_000);

  it("a TypeScript task's `file` input read where it is is checked after the task too: written meanwhile, the quantum fails as a command's does", async () => {
    mkdirSync(join(dir, "tasks"));
    writeFileSync(
      join(dir, "tasks", "scribble.ts"),
      `import { appendFileSync, readFileSync } from "node:fs";
import { defineTask } from "quanta";
export default defineTask({
  name: "scribble",
  dimensions: ["item"],
  inputs: { src: { type: "src", dimensions: ["item"], storage: "file" } },
  outputs: { out: { type: "scribbled", dimensions: ["item"], storage: "text" } },
  run({ src }) {
    appendFileSync(src, "more\\n");
    return { out: String(readFileSync(src).length) };
  },
});
`,
    );
    writeFileSync(join(dir, "module.yaml"), ['dimensions: { item: int }', 'inputs: { src: { path: "data/src-{item}.txt", storage: file } }', "tasks:", "  scribble: { task: ./tasks/scribble.ts }"].join("\n") + "\n");
    const r = await runCli(["run", "module.yaml", "--repo", "repo", "--json", "--retries", "1", "-j", "1"], { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    const all = events(r.stdout);
    const failed = all.filter((e): e is Extract<QuantaEvent, { event: "quantum-failed" }> => e.event === "quantum-failed");
    expect(failed.map((e) => e.error).sort()).toEqual([1, 2].map((i) => CHANGED(join(dir, "data", `src-${i}.txt`)).replace(/command/g, "task")));
    expect(all.filter((e) => e.event === "quantum-retrying")).toEqual([]);
    expect(readFileSync(join(dir, "data", "src-1.txt"), "utf8")).toBe("one\nmore\n");
  });
});
