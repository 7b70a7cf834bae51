/**
 * Clusters on a real one-host Slurm: `--cluster-by` and a `clusters:` section run a data ID's chain of
 * tasks depth first in one job, many clusters as one job array; early cutoff and the action cache act
 * inside a job as they do locally; a head killed mid-run re-attaches to clustered jobs and runs nothing
 * twice; a task whose time limit is too short fails with Slurm's TIMEOUT.
 */
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir, PROJECT_ROOT, QUANTA_BIN, runCli } from "../helpers/cli.js";
// @ts-expect-error: a JavaScript module without types
import { generateSkyData } from "../../pipelines/sky/generate.mjs";
// @ts-expect-error: a JavaScript module of the benchmarks, without types
import { writeInputs, writeQuantaPipeline } from "../../bench/lib/chain-workload.js";
import { useSlurm } from "../helpers/slurm.js";

useSlurm();

type Event = { event: string; [k: string]: unknown };

async function run(dir: string, pipeline: string, flags: string[]): Promise<{ code: number; stderr: string; events: Event[] }> {
  const r = await runCli(["run", pipeline, "--repo", "repo", "--json", ...flags], { cwd: dir });
  const events = r.stdout.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as Event);
  return { code: r.code, stderr: r.stderr + JSON.stringify(events.filter((e) => e.event === "quantum-failed").slice(0, 3)), events };
}

function ranOf(events: Event[]): string[] {
  return events.filter((e) => e.event === "quantum-finished").map((e) => `${e.task}@${e.dataId}`).sort();
}

async function datasetSet(dir: string, collection: string): Promise<string[]> {
  const r = await runCli(["datasets", "--repo", "repo", "--collection", collection, "--json"], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as { type: string; dataId: unknown; digest: string }).map((d) => `${d.type} ${JSON.stringify(d.dataId)} ${d.digest}`).sort();
}

type Step = { job: { task: { label: string }; dataId: Record<string, unknown> } };

/** The result records of the Slurm batch `jobId`, and the quanta each of its elements runs, in order. */
function batchOf(repo: string, jobId: string): { steps: string[][]; records: { quantum: number }[] } {
  const root = join(repo, "slurm");
  for (const runDir of readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory())) {
    for (const name of readdirSync(join(root, runDir.name))) {
      const dir = join(root, runDir.name, name);
      const files = readdirSync(dir);
      const records = files.filter((f) => /^r\d+-\d+\.json$/.test(f)).map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")) as { jobId: string; quantum: number });
      if (!records.some((r) => r.jobId.startsWith(`${jobId}_`))) continue;
      const elements = files.filter((f) => /^e\d+\.json$/.test(f)).sort((a, b) => Number(a.slice(1, -5)) - Number(b.slice(1, -5)));
      const steps = elements.map((f) => {
        const element = JSON.parse(readFileSync(join(dir, f), "utf8")) as { steps: ({ job: Step["job"] } | { followOn: Step })[] };
        return element.steps.map((s) => {
          const job = "job" in s ? s.job : s.followOn.job;
          return `${job.task.label}@item=${String(job.dataId.item)}`;
        });
      });
      return { steps, records };
    }
  }
  throw new Error(`no batch of Slurm job ${jobId} under ${root}`);
}

describe("18.3 --cluster-by: each chain depth first in one job, the clusters as one job array", () => {
  const slurm = makeTempDir("quanta-slurm-by-");
  const local = makeTempDir("quanta-local-by-");
  afterAll(() => {
    slurm.cleanup();
    local.cleanup();
  });
  const CHAINS = 40;

  it("one sbatch per task and wave, one job per chain, the datasets of a local -j 2 run", async () => {
    for (const dir of [slurm.dir, local.dir]) {
      writeInputs(dir, CHAINS);
      writeQuantaPipeline(dir);
    }
    const l = await run(local.dir, "chains.yaml", ["-j", "2"]);
    expect(l.code, l.stderr).toBe(0);
    const s = await run(slurm.dir, "chains.yaml", ["--executor", "slurm", "--cluster-by", "item"]);
    expect(s.code, s.stderr).toBe(0);
    expect(ranOf(s.events)).toHaveLength(3 * CHAINS + 1);
    const submitted = s.events.filter((e) => e.event === "slurm-submitted");
    // Wave 1: every chain's step1, with step2 and step3 following it in the same element; wave 2: the gather.
    expect(submitted.map((e) => [e.task, e.jobs, e.quanta, e.sbatchCalls])).toEqual([
      ["step1", CHAINS, 3 * CHAINS, 1],
      ["gather", 1, 1, 1],
    ]);
    const finished = s.events.find((e) => e.event === "run-finished") as { slurm: { sbatchCalls: number; jobs: number } };
    expect(finished.slurm).toEqual({ sbatchCalls: 2, jobs: CHAINS + 1 });
    // Depth first: each element runs one item's step1, step2, step3, in that order.
    const { steps } = batchOf(join(slurm.dir, "repo"), String(submitted[0]!.jobId));
    expect(steps).toHaveLength(CHAINS);
    for (const element of steps) {
      const item = element[0]!.split("@")[1];
      expect(element).toEqual([`step1@${item}`, `step2@${item}`, `step3@${item}`]);
    }
    expect(await datasetSet(slurm.dir, "chains")).toEqual(await datasetSet(local.dir, "chains"));
  }, 240_000);

  it("a second run submits nothing; one input edited runs its chain only, in one job", async () => {
    const again = await run(slurm.dir, "chains.yaml", ["--executor", "slurm", "--cluster-by", "item"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.events.filter((e) => e.event === "slurm-submitted")).toEqual([]);
    expect(ranOf(again.events)).toEqual([]);
    writeFileSync(join(slurm.dir, "in", "7.txt"), "chain 7: edited\n");
    const edited = await run(slurm.dir, "chains.yaml", ["--executor", "slurm", "--cluster-by", "item"]);
    expect(edited.code, edited.stderr).toBe(0);
    expect(ranOf(edited.events)).toEqual(["gather@", "step1@item=7", "step2@item=7", "step3@item=7"]);
    expect(edited.events.filter((e) => e.event === "slurm-submitted").map((e) => [e.task, e.jobs, e.quanta])).toEqual([
      ["step1", 1, 3],
      ["gather", 1, 1],
    ]);
  }, 120_000);

  it("early cutoff inside a job: an edit step1 maps to the same output runs step1 only, and the job runs nothing after it", async () => {
    // step1 upper-cases its input: a change of case alone gives step1 the same output.
    writeFileSync(join(slurm.dir, "in", "7.txt"), "CHAIN 7: EDITED\n");
    const r = await run(slurm.dir, "chains.yaml", ["--executor", "slurm", "--cluster-by", "item"]);
    expect(r.code, r.stderr).toBe(0);
    expect(ranOf(r.events)).toEqual(["step1@item=7"]);
    const submitted = r.events.filter((e) => e.event === "slurm-submitted");
    expect(submitted.map((e) => [e.task, e.jobs, e.quanta])).toEqual([["step1", 1, 3]]);
    // The job wrote a record for step1 only: it found step2's key to be the one of its last result.
    const { steps, records } = batchOf(join(slurm.dir, "repo"), String(submitted[0]!.jobId));
    expect(steps).toEqual([["step1@item=7", "step2@item=7", "step3@item=7"]]);
    expect(records).toHaveLength(1);
  }, 120_000);
});

describe("18.3 a clusters: section", () => {
  const fx = makeTempDir("quanta-slurm-section-");
  afterAll(() => fx.cleanup());

  it("runs step1 and step2 of an item in one job, step3 on its own, with the resources of the cluster's quanta", async () => {
    writeInputs(fx.dir, 6);
    writeQuantaPipeline(fx.dir);
    const yaml = join(fx.dir, "chains.yaml");
    let text = readFileSync(yaml, "utf8");
    text = text.replace("  step1:\n", "  step1:\n    resources: { time: 7 }\n").replace("  step2:\n", "  step2:\n    resources: { time: 9, memory: 100M }\n");
    text += "clusters:\n  front: { tasks: [step1, step2], by: [item], size: 2 }\n";
    writeFileSync(yaml, text);
    const r = await run(fx.dir, "chains.yaml", ["--executor", "slurm"]);
    expect(r.code, r.stderr).toBe(0);
    expect(ranOf(r.events)).toHaveLength(19);
    const submitted = r.events.filter((e) => e.event === "slurm-submitted");
    // Per task, jobs and quanta: step3's six may go in more than one sbatch when their clusters end
    // further apart than the head's submit window.
    const byTask = new Map<string, [number, number]>();
    for (const e of submitted) {
      const [jobs, quanta] = byTask.get(e.task as string) ?? [0, 0];
      byTask.set(e.task as string, [jobs + (e.jobs as number), quanta + (e.quanta as number)]);
    }
    expect([...byTask]).toEqual([
      ["step1", [6, 12]],
      ["step3", [6, 6]],
      ["gather", [1, 1]],
    ]);
    const { steps } = batchOf(join(fx.dir, "repo"), String(submitted[0]!.jobId));
    for (const element of steps) expect(element.map((s) => s.split("@")[0])).toEqual(["step1", "step2"]);
    // The job of a cluster takes the largest memory of its tasks, and the sum of its quanta's times.
    const shown = execFileSync("scontrol", ["show", "job", `${String(submitted[0]!.jobId)}_0`], { encoding: "utf8" });
    expect(shown).toContain("TimeLimit=00:16:00");
    expect(shown).toMatch(/MinMemoryNode=100M/);
  }, 180_000);
});

describe("18.5 re-attaching to clustered jobs after kill -9 of the head", () => {
  it("the follow-on quanta of a killed head's jobs are waited for, not submitted again: nothing runs twice", async () => {
    const { dir, cleanup } = makeTempDir("quanta-slurm-kill-cluster-");
    try {
      mkdirSync(join(dir, "data"));
      for (let i = 1; i <= 3; i++) writeFileSync(join(dir, "data", `src-${i}.txt`), `line ${i}\n`);
      const runs = join(dir, "runs.txt");
      writeFileSync(
        join(dir, "slow.yaml"),
        [
          "dimensions: { item: int }",
          'inputs: { src: { path: "data/src-{item}.txt", storage: file } }',
          "tasks:",
          "  slow:",
          `    command: "echo slow{dataId.item} >> ${runs}; sleep 3; tr a-z A-Z < {inputs.src} > {outputs.out}"`,
          "    dimensions: [item]",
          "    inputs: { src: { type: src, dimensions: [item], storage: file } }",
          "    outputs: { out: { type: upper, dimensions: [item], storage: file } }",
          "  rev:",
          `    command: "echo rev{dataId.item} >> ${runs}; sleep 2; rev < {inputs.text} > {outputs.out}"`,
          "    dimensions: [item]",
          "    inputs: { text: { type: upper, dimensions: [item], storage: file } }",
          "    outputs: { out: { type: reversed, dimensions: [item], storage: file } }",
          "  count:",
          `    command: "echo count{dataId.item} >> ${runs}; wc -c < {inputs.text} > {outputs.out}"`,
          "    dimensions: [item]",
          "    inputs: { text: { type: reversed, dimensions: [item], storage: file } }",
          "    outputs: { out: { type: counted, dimensions: [item], storage: file } }",
          "",
        ].join("\n"),
      );
      const flags = ["run", "slow.yaml", "--repo", "repo", "--json", "--executor", "slurm", "--cluster-by", "item"];
      const killed = await new Promise<NodeJS.Signals | null>((resolve, reject) => {
        const child = spawn(process.execPath, [QUANTA_BIN, ...flags], { cwd: dir, env: { ...process.env, CI: "true" }, stdio: ["ignore", "pipe", "pipe"] });
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
          if (chunk.includes('"slurm-submitted"')) child.kill("SIGKILL");
        });
        child.on("error", reject);
        child.on("close", (_code, signal) => resolve(signal));
      });
      expect(killed).toBe("SIGKILL");
      const again = await runCli(flags.slice(), { cwd: dir });
      expect(again.code, again.stderr).toBe(0);
      const events = again.stdout.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as Event);
      expect(events.filter((e) => e.event === "slurm-submitted")).toEqual([]);
      expect(ranOf(events)).toEqual(["count@item=1", "count@item=2", "count@item=3", "rev@item=1", "rev@item=2", "rev@item=3", "slow@item=1", "slow@item=2", "slow@item=3"]);
      expect(readFileSync(runs, "utf8").trim().split("\n").sort()).toEqual(["count1", "count2", "count3", "rev1", "rev2", "rev3", "slow1", "slow2", "slow3"]);
      const verify = await runCli(["verify", "--repo", "repo"], { cwd: dir });
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      expect((await runCli(["gc", "--repo", "repo"], { cwd: dir })).code).toBe(0);
    } finally {
      cleanup();
    }
  }, 120_000);
});

describe("18.4 a time limit too short", () => {
  it("fails the task's quanta with Slurm's TIMEOUT; the rest of the run finishes", async () => {
    const { dir, cleanup } = makeTempDir("quanta-slurm-timeout-");
    try {
      mkdirSync(join(dir, "data"));
      for (let i = 1; i <= 2; i++) writeFileSync(join(dir, "data", `src-${i}.txt`), `line ${i}\n`);
      writeFileSync(
        join(dir, "slow.yaml"),
        [
          "dimensions: { item: int }",
          'inputs: { src: { path: "data/src-{item}.txt", storage: file } }',
          "tasks:",
          "  slow:",
          '    command: "sleep 300; cp {inputs.src} {outputs.out}"',
          "    dimensions: [item]",
          "    resources: { time: 1 }",
          "    inputs: { src: { type: src, dimensions: [item], storage: file } }",
          "    outputs: { out: { type: copied, dimensions: [item], storage: file } }",
          "  quick:",
          '    command: "rev < {inputs.src} > {outputs.out}"',
          "    dimensions: [item]",
          "    inputs: { src: { type: src, dimensions: [item], storage: file } }",
          "    outputs: { out: { type: reversed, dimensions: [item], storage: file } }",
          "",
        ].join("\n"),
      );
      const r = await run(dir, "slow.yaml", ["--executor", "slurm"]);
      expect(r.code).toBe(1);
      expect(ranOf(r.events)).toEqual(["quick@item=1", "quick@item=2"]);
      const failed = r.events.filter((e) => e.event === "quantum-failed");
      expect(failed.map((e) => `${e.task}@${e.dataId}`).sort()).toEqual(["slow@item=1", "slow@item=2"]);
      for (const f of failed) expect(String(f.error)).toMatch(/ended TIMEOUT/);
    } finally {
      cleanup();
    }
  }, 240_000);
});

describe("18.2 the sky demo on Slurm", () => {
  it("--cluster-by visit gives the datasets of a local -j 2 run, its TypeScript chains in one process per visit", async () => {
    const dirs = [makeTempDir("quanta-slurm-sky-"), makeTempDir("quanta-local-sky-")];
    try {
      const sky = join(PROJECT_ROOT, "pipelines", "sky");
      for (const { dir } of dirs) {
        for (const entry of readdirSync(sky).filter((e) => e !== "data" && e !== "out")) cpSync(join(sky, entry), join(dir, entry), { recursive: true });
        generateSkyData(join(dir, "data"));
      }
      const [s, l] = await Promise.all([run(dirs[0]!.dir, "sky.yaml", ["--executor", "slurm", "--cluster-by", "visit"]), run(dirs[1]!.dir, "sky.yaml", ["-j", "2"])]);
      expect(s.code, s.stderr).toBe(0);
      expect(l.code, l.stderr).toBe(0);
      expect(ranOf(s.events)).toEqual(ranOf(l.events));
      expect(await datasetSet(dirs[0]!.dir, "sky")).toEqual(await datasetSet(dirs[1]!.dir, "sky"));
      // The first array job holds one element per visit: its isr and calibrate quanta (and what follows them).
      const first = s.events.find((e) => e.event === "slurm-submitted")!;
      expect(first.task).toBe("isr");
      expect(Number(first.quanta)).toBeGreaterThan(Number(first.jobs) * 2);
      const again = await run(dirs[0]!.dir, "sky.yaml", ["--executor", "slurm", "--cluster-by", "visit"]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.events.filter((e) => e.event === "slurm-submitted")).toEqual([]);
    } finally {
      for (const d of dirs) d.cleanup();
    }
  }, 240_000);
});

describe("18.4 an element Slurm ends in the middle of a chain", () => {
  it("what ended before is recorded at once, and the rest is submitted again on its own", async () => {
    const { dir, cleanup } = makeTempDir("quanta-slurm-midchain-");
    try {
      mkdirSync(join(dir, "data"));
      writeFileSync(join(dir, "data", "src-1.txt"), "line 1\n");
      const runs = join(dir, "runs.txt");
      writeFileSync(
        join(dir, "mid.yaml"),
        [
          "dimensions: { item: int }",
          'inputs: { src: { path: "data/src-{item}.txt", storage: file } }',
          "tasks:",
          "  quick:",
          `    command: "echo quick >> ${runs}; tr a-z A-Z < {inputs.src} > {outputs.out}"`,
          "    dimensions: [item]",
          "    inputs: { src: { type: src, dimensions: [item], storage: file } }",
          "    outputs: { out: { type: upper, dimensions: [item], storage: file } }",
          "  slow:",
          // It ignores SIGTERM, as a long computation that Slurm must kill may: it ends with the element.
          `    command: "trap '' TERM; echo slow >> ${runs}; sleep 15; rev < {inputs.text} > {outputs.out}"`,
          "    dimensions: [item]",
          "    inputs: { text: { type: upper, dimensions: [item], storage: file } }",
          "    outputs: { out: { type: reversed, dimensions: [item], storage: file } }",
          "",
        ].join("\n"),
      );
      const events: Event[] = [];
      const code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(process.execPath, [QUANTA_BIN, "run", "mid.yaml", "--repo", "repo", "--json", "--executor", "slurm", "--cluster-by", "item"], { cwd: dir, env: { ...process.env, CI: "true" }, stdio: ["ignore", "pipe", "pipe"] });
        let buffer = "";
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
          buffer += chunk;
          for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
            const e = JSON.parse(buffer.slice(0, nl)) as Event;
            buffer = buffer.slice(nl + 1);
            events.push(e);
            // The first quantum's result came while the second runs: Slurm ends the element now.
            if (e.event === "quantum-finished" && e.task === "quick") {
              const first = events.find((x) => x.event === "slurm-submitted")!;
              execFileSync("scancel", [`${String(first.jobId)}_0`]);
            }
          }
        });
        child.on("error", reject);
        child.on("close", (c) => resolve(c));
      });
      expect(code, JSON.stringify(events.filter((e) => e.event === "quantum-failed"))).toBe(0);
      expect(ranOf(events)).toEqual(["quick@item=1", "slow@item=1"]);
      expect(events.filter((e) => e.event === "slurm-submitted").map((e) => [e.task, e.quanta])).toEqual([
        ["quick", 2],
        ["slow", 1],
      ]);
      // quick ran once; slow started in the cancelled element, then ran on its own.
      expect(readFileSync(runs, "utf8").trim().split("\n")).toEqual(["quick", "slow", "slow"]);
    } finally {
      cleanup();
    }
  }, 120_000);
});
