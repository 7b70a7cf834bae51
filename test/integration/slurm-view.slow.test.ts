/**
 * 18.7 on a real one-host Slurm: the `--json` quantum events name the Slurm job (array element) each
 * quantum ran in, one of the array jobs `slurm-submitted` announced; the live view, in a real terminal
 * (tmux), shows per task the quanta queued in Slurm, running and done, with the array job's id.
 *
 * The pipeline: `paint` copies an item's file after sleeping (and fails on a file that says `fail`),
 * `frame` copies what `paint` made. Under `--cluster-by item`, each item's `frame` follows its `paint`
 * in the same array element, so it is queued in Slurm while `paint` runs.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { QuantaEvent } from "../../src/core/events.js";
import { makeTempDir, QUANTA_BIN, runCli } from "../helpers/cli.js";
import { parseEventLines } from "../helpers/event-schema.js";
import { SLURM_SCRATCH, useSlurm } from "../helpers/slurm.js";
import { screenOf, showsOn, tmux } from "../helpers/tmux-terminal.js";

useSlurm();

function writePipeline(dir: string, items: number, sleep: number, failing?: number): void {
  mkdirSync(join(dir, "data"), { recursive: true });
  for (let i = 1; i <= items; i++) writeFileSync(join(dir, "data", `item${i}.txt`), i === failing ? "fail\n" : `${i}\n`);
  writeFileSync(
    join(dir, "view.yaml"),
    `description: Paint each item (slowly), then frame it.
dimensions: { item: int }
inputs:
  text: { path: "data/item{item}.txt", storage: file }
tasks:
  paint:
    command: "sleep ${sleep}; if grep -q fail {inputs.src}; then exit 3; fi; cp {inputs.src} {outputs.out}"
    dimensions: [item]
    inputs:  { src: { type: text, dimensions: [item], storage: file } }
    outputs: { out: { type: painted, dimensions: [item], storage: file } }
  frame:
    command: "cp {inputs.src} {outputs.out}"
    dimensions: [item]
    inputs:  { src: { type: painted, dimensions: [item], storage: file } }
    outputs: { out: { type: framed, dimensions: [item], storage: file } }
`,
  );
}

type Of<N extends QuantaEvent["event"]> = Extract<QuantaEvent, { event: N }>;

describe("18.7 --json quantum events carry the Slurm job id", () => {
  const fx = makeTempDir("quanta-slurm-json-");
  afterAll(() => fx.cleanup());

  it("18.7 each quantum's started, finished and failed events name an element of an array job slurm-submitted announced as holding it", async () => {
    writePipeline(fx.dir, 6, 0, 3);
    const r = await runCli(["run", "view.yaml", "--repo", "repo", "--json", "--executor", "slurm", "--cluster-by", "item"], { cwd: fx.dir });
    expect(r.code, r.stderr).toBe(1);
    // Every line is an event of the union, with no field it does not declare.
    const events = parseEventLines(r.stdout);
    const submitted = new Map(events.filter((e): e is Of<"slurm-submitted"> => e.event === "slurm-submitted").map((e) => [e.jobId, e]));
    expect(submitted.size).toBeGreaterThan(0);
    for (const s of submitted.values()) {
      expect(Object.fromEntries(Object.entries(s.quantumIds).map(([task, ids]) => [task, ids.length]))).toEqual(s.tasks);
      expect(Object.values(s.tasks).reduce((a, b) => a + b, 0)).toBe(s.quanta);
    }
    // Each item's frame follows its paint in one element: the array job holds both tasks.
    expect([...submitted.values()].map((s) => s.tasks)).toEqual([{ paint: 6, frame: 6 }]);

    const finished = events.filter((e): e is Of<"quantum-finished"> => e.event === "quantum-finished");
    const failed = events.filter((e): e is Of<"quantum-failed"> => e.event === "quantum-failed");
    const started = events.filter((e): e is Of<"quantum-started"> => e.event === "quantum-started");
    expect(finished.map((e) => `${e.task}@${e.dataId}`).sort()).toEqual([1, 2, 4, 5, 6].flatMap((i) => [`frame@item=${i}`, `paint@item=${i}`]).sort());
    expect(failed.map((e) => `${e.task}@${e.dataId}`)).toEqual(["paint@item=3"]);
    for (const e of [...finished, ...failed, ...started]) {
      const [array, element] = (e.jobId ?? "").split("_");
      const s = submitted.get(array!);
      expect(s, JSON.stringify(e)).toBeDefined();
      expect(Number(element)).toBeLessThan(s!.jobs);
      expect(s!.quantumIds[e.task], JSON.stringify(e)).toContain(e.quantum);
    }
    // A quantum's events name the same job; paint and frame of an item, the same element.
    const jobOf = new Map(started.map((e) => [e.quantum, e.jobId]));
    for (const e of [...finished, ...failed]) expect(e.jobId).toBe(jobOf.get(e.quantum));
    const elementOf = (task: string, i: number) => finished.find((e) => e.task === task && e.dataId === `item=${i}`)!.jobId;
    for (const i of [1, 2, 4, 5, 6]) expect(elementOf("frame", i)).toBe(elementOf("paint", i));
    expect(new Set([1, 2, 4, 5, 6].map((i) => elementOf("paint", i))).size).toBe(5);
  }, 180_000);
});

describe("18.7 the live view of a Slurm run, in a real terminal", () => {
  const fx = makeTempDir("quanta-slurm-view-");
  const session = `quanta-slurm-view-${process.pid}-${Date.now()}`;
  afterAll(() => {
    try {
      execFileSync("tmux", ["kill-session", "-t", session], { stdio: "ignore" });
    } catch {
      // already gone
    }
    fx.cleanup();
  });
  const COLUMNS = 100;

  /** Waits (60 s at most) until the screen passes `test`; the screen then. */
  async function screenWhere(test: (text: string) => boolean): Promise<string> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const shown = screenOf(session);
      if (test(shown)) return shown;
      if (Date.now() > deadline) throw new Error(`the terminal never showed what was awaited:\n${shown}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it("18.7 each task row shows queued, running and done counts and the array job's id while the jobs run", async () => {
    writePipeline(fx.dir, 4, 6);
    const env = `env -u CI -u NO_COLOR TERM=xterm-256color SLURM_CONF=${join(SLURM_SCRATCH, "slurm.conf")}`;
    const command = `cd ${fx.dir} && ${env} ${process.execPath} ${QUANTA_BIN} run view.yaml --repo repo --executor slurm --cluster-by item; echo "exited with $?"; sleep 60`;
    tmux("new-session", "-d", "-s", session, "-x", String(COLUMNS), "-y", "40", command);

    // While paint runs in Slurm (its 4 elements started), each item's frame waits in its element: queued.
    const row = (task: string) => new RegExp(`^${task} +[█░]+ +(\\d)/4 +(\\d+) +(\\d+) .* (\\d+) *$`, "m");
    const live = await screenWhere((text) => Number(row("paint").exec(text)?.[3] ?? 0) > 0 && row("frame").exec(text)?.[2] === "4");
    const lines = live.split("\n");
    const header = lines.find((l) => /^task .* done queue +run +up/.test(l));
    expect(header, live).toBeDefined();
    const [, paintDone, paintQueued, paintRunning, paintJob] = row("paint").exec(live)!;
    const [, frameDone, frameQueued, frameRunning, frameJob] = row("frame").exec(live)!;
    // Slurm may hold some of paint's elements back (other jobs share the host): queued or running, all 4.
    expect([paintDone, Number(paintQueued) + Number(paintRunning)], live).toEqual(["0", 4]);
    expect([frameDone, frameQueued, frameRunning], live).toEqual(["0", "4", "0"]);
    // One array job holds both tasks' quanta: the one Slurm lists under paint's name.
    expect(frameJob).toBe(paintJob);
    const queue = execFileSync("squeue", ["--noheader", "--format=%i|%j", "--name=quanta-paint"], { encoding: "utf8", env: { ...process.env, SLURM_CONF: join(SLURM_SCRATCH, "slurm.conf") } });
    expect(queue.split("\n").map((l) => l.split("_")[0])).toContain(paintJob);
    const total = new RegExp(`^all tasks +[█░]+ +0/8 +${4 + Number(paintQueued)} +${paintRunning} .* ${paintJob} *$`);
    expect(lines.find((l) => l.startsWith("all tasks ")), live).toMatch(total);
    // The rows fit the terminal (tmux drops the padding at their ends).
    for (const line of lines.filter((l) => /[█░]/.test(l))) expect(line.length, line).toBeLessThanOrEqual(COLUMNS);

    const end = await showsOn(session, "exited with");
    expect(end, screenOf(session)).toContain("exited with 0");
  }, 240_000);
});
