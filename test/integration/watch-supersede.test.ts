/**
 * 16.3: a file changed again while a pass runs. The quanta that read it (and their descendants) are
 * cancelled, a running command killed and its outputs discarded; the others finish; the next pass
 * follows at once, and the outputs end as a clean one-shot run's.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { QuantaEvent } from "../../src/core/events.js";
import { makeTempDir, runCli } from "../helpers/cli.js";
import { ran, until, Watch } from "../helpers/watch-process.js";

// Three command steps per item and a gather; `upper` sleeps a minute on a file that says "slow".
const PIPELINE = `
dimensions: { item: int }
inputs:
  src: { path: "data/src-{item}.txt", storage: file }
tasks:
  upper:
    command: "if grep -q slow {inputs.src}; then sleep 60; fi; tr a-z A-Z < {inputs.src} > {outputs.out}"
    dimensions: [item]
    inputs: { src: { type: src, dimensions: [item], storage: file } }
    outputs: { out: { type: upper, dimensions: [item], storage: file } }
  reverse:
    command: "rev < {inputs.text} > {outputs.out}"
    dimensions: [item]
    inputs: { text: { type: upper, dimensions: [item], storage: file } }
    outputs: { out: { type: reversed, dimensions: [item], storage: file } }
  count:
    command: "wc -c < {inputs.text} > {outputs.out}"
    dimensions: [item]
    inputs: { text: { type: reversed, dimensions: [item], storage: file } }
    outputs: { out: { type: counted, dimensions: [item], storage: file } }
  gather:
    command: "cat {inputs.all} > {outputs.out}"
    dimensions: []
    inputs: { all: { type: reversed, dimensions: [item], storage: file, multiple: true } }
    outputs: { out: { type: book, dimensions: [], storage: file } }
`;

let dir: string;
let cleanup: () => void;
let watch: Watch | undefined;
beforeEach(() => {
  ({ dir, cleanup } = makeTempDir("quanta-supersede-"));
  writeFileSync(join(dir, "chain.yaml"), PIPELINE);
  mkdirSync(join(dir, "data"));
  for (const [i, text] of [[1, "one"], [2, "two"], [3, "three"]]) writeFileSync(join(dir, "data", `src-${i}.txt`), `${text}\n`);
});
afterEach(() => {
  if (watch && watch.child.exitCode === null) watch.child.kill("SIGKILL");
  watch = undefined;
  cleanup();
});


async function outputs(repo: string): Promise<string[]> {
  const r = await runCli(["datasets", "--repo", repo, "--collection", "chain", "--json"], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; dataId: Record<string, unknown>; digest: string }).map((d) => `${d.type}@${JSON.stringify(d.dataId)} ${d.digest}`).sort();
}

describe("16.3 changes during a pass", () => {
  it("16.3 a file changed again while its command runs: that chain is cancelled and redone at once, the rest of the pass finishes, the outputs equal a clean run's", async () => {
    watch = new Watch(dir, ["-j", "2"]);
    expect(ran(await watch.nextPass())).toHaveLength(10);

    // Item 2 turns slow, item 1 changes too; once item 2's command is running, item 2 changes again.
    const from = watch.events.length;
    writeFileSync(join(dir, "data", "src-1.txt"), "uno\n");
    writeFileSync(join(dir, "data", "src-2.txt"), "slow two\n");
    await until(() => watch!.events.slice(from).some((e) => e.event === "quantum-started" && e.task === "upper" && e.dataId === "item=2"));
    const changedAgain = Date.now();
    writeFileSync(join(dir, "data", "src-2.txt"), "dos\n");

    // The pass ends with changes pending, so the next follows at once. Under load the watcher may
    // report the first two writes apart (item 1's pass, then item 2's), or a write twice: the passes
    // are taken, each from its watch-changed on, until one has run item 2's chain (only its last
    // content can: "slow" sleeps a minute).
    const passes: QuantaEvent[][] = [];
    while (!passes.some((p) => ran(p).includes("upper@item=2"))) {
      const events = await watch.nextPass();
      const starts = events.flatMap((e, i) => (e.event === "watch-changed" ? [i] : []));
      starts.forEach((at, k) => passes.push(events.slice(at, starts[k + 1])));
    }
    const startedUpper2 = (p: QuantaEvent[]) => p.some((e) => e.event === "quantum-started" && e.task === "upper" && e.dataId === "item=2");
    // The pass whose sleeping command was killed, not waited for: it started upper@item=2 and did not finish it.
    const stopped = passes.findIndex((p) => startedUpper2(p) && !ran(p).includes("upper@item=2"));
    expect(stopped).toBeGreaterThanOrEqual(0);
    const finished = passes[stopped]!.find((e) => e.event === "run-finished") as Extract<QuantaEvent, { event: "run-finished" }>;
    expect(finished.exitCode).toBe(0);
    // Item 1's chain finished, once, and nothing of item 2 before its last content.
    const before = passes.slice(0, stopped + 1).flatMap(ran);
    expect(before.filter((q) => q.endsWith("item=1")).sort()).toEqual(["count@item=1", "reverse@item=1", "upper@item=1"]);
    expect(before.filter((q) => q.endsWith("item=2"))).toEqual([]);
    // Both first writes in one pass (as the watcher reports them when the machine is not loaded):
    // item 2's chain and the gather that reads it are left to the next pass, counted superseded.
    if (ran(passes[stopped]!).includes("upper@item=1")) {
      expect(finished.superseded).toBe(4);
      expect(ran(passes[stopped]!)).toEqual(["count@item=1", "reverse@item=1", "upper@item=1"]);
    }
    expect(Date.now() - changedAgain).toBeLessThan(20_000);

    // The pass with item 2's last content.
    const second = passes.find((p) => ran(p).includes("upper@item=2"))!;
    expect(second.find((e) => e.event === "watch-changed")).toMatchObject({ paths: [join(dir, "data", "src-2.txt")] });
    expect(ran(second)).toEqual(["count@item=2", "gather", "reverse@item=2", "upper@item=2"]);

    const watched = await outputs("repo");
    const clean = await runCli(["run", "chain.yaml", "--repo", "clean-repo", "--json"], { cwd: dir });
    expect(clean.code, clean.stderr).toBe(0);
    expect(watched).toEqual(await outputs("clean-repo"));
    watch.child.kill("SIGTERM");
    expect(await watch.exit()).toBe(0);
  }, 120_000);
});
