/**
 * 15.1: `quanta status` and `quanta run` decide through one resolver, so what status says will run is
 * what the run then runs. Through the real CLI, over more than twenty edited states of one pipeline
 * (inputs changed, touched, added, deleted; config, task code, command and pipeline edits; output
 * blobs deleted; failures and their fixes): before each run, `status --list` names the quanta that
 * will run and may run; the run's `quantum-started` events must include every will-run quantum, and
 * nothing that status called up to date or blocked. Where no quantum may run, the sets are equal.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir, runCli } from "../helpers/cli.js";

const temp = makeTempDir("quanta-status-run-");
afterAll(() => temp.cleanup());
const dir = temp.dir;

/**
 * `upper` (TypeScript) trims and upper-cases each item, failing on item `failOn`; `pad` (a command)
 * writes a 6 KiB blob file per item (large enough to be kept as a file, not in the registry); `total`
 * gathers every upper-cased item.
 */
function pipeline(padChar: string, extra = ""): string {
  return [
    "dimensions: { item: int }",
    'inputs: { raw: { path: "data/raw-{item}.txt", storage: text } }',
    "tasks:",
    "  upper: { task: ./upper.ts }",
    "  pad:",
    `    command: "cat {inputs.src} > {outputs.out}; head -c 6000 /dev/zero | tr '\\\\0' ${padChar} >> {outputs.out}"`,
    "    dimensions: [item]",
    "    inputs: { src: { type: upper, dimensions: [item], storage: text } }",
    "    outputs: { out: { type: padded, dimensions: [item], storage: text } }",
    "  total: { task: ./total.ts }",
    extra,
  ].join("\n") + "\n";
}

function upperTask(body: string): string {
  return `import { defineTask, z } from "quanta";

export default defineTask({
  name: "upper",
  dimensions: ["item"],
  config: z.object({ failOn: z.number().default(0), suffix: z.string().default("") }),
  inputs: { raw: { type: "raw", dimensions: ["item"], storage: "text" } },
  outputs: { upper: { type: "upper", dimensions: ["item"], storage: "text" } },
  run({ raw }, config, { dataId }) {
    if (dataId.item === config.failOn) throw new Error("told to fail");
    ${body}
  },
});
`;
}

const TOTAL = `import { defineTask } from "quanta";

export default defineTask({
  name: "total",
  dimensions: [],
  inputs: { all: { type: "upper", dimensions: ["item"], storage: "text", multiple: true } },
  outputs: { total: { type: "total", dimensions: [], storage: "text" } },
  run({ all }) {
    return { total: all.map((a) => a.value).join("") };
  },
});
`;

const raw = (item: number) => join(dir, "data", `raw-${item}.txt`);

function blobFiles(): string[] {
  const root = join(dir, "repo", "blobs");
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((shard) => (statSync(join(root, shard)).isDirectory() ? readdirSync(join(root, shard)).map((f) => join(root, shard, f)) : []));
}

interface Step {
  name: string;
  edit: () => void;
  args?: string[];
}

let flags: string[] = [];

const STEPS: Step[] = [
  { name: "cold", edit: () => undefined },
  { name: "nothing changed", edit: () => undefined },
  { name: "an input touched, same bytes", edit: () => utimesSync(raw(1), new Date(), new Date(Date.now() + 5000)) },
  { name: "an input edited", edit: () => writeFileSync(raw(1), "one changed\n") },
  { name: "an edit that upper-cases the same (early cutoff downstream)", edit: () => writeFileSync(raw(1), "ONE CHANGED\n") },
  { name: "a new input", edit: () => writeFileSync(raw(4), "four\n") },
  { name: "an input deleted", edit: () => rmSync(raw(2)) },
  { name: "the deleted input back (action cache)", edit: () => writeFileSync(raw(2), "two\n") },
  { name: "an input renamed to a new item", edit: () => renameSync(raw(3), raw(5)) },
  { name: "config changed", edit: () => (flags = ["--config", "upper.suffix=!"]) },
  { name: "config changed back (action cache)", edit: () => (flags = []) },
  { name: "task code edited", edit: () => writeFileSync(join(dir, "upper.ts"), upperTask('return { upper: raw.trim().toUpperCase() + config.suffix + "\\n" };')) },
  { name: "task code edited back", edit: () => writeFileSync(join(dir, "upper.ts"), upperTask('return { upper: raw.trim().toUpperCase() + config.suffix + "\\n" }; // as before')) },
  { name: "command edited", edit: () => writeFileSync(join(dir, "p.yaml"), pipeline("y")) },
  { name: "an output blob file deleted", edit: () => rmSync(blobFiles()[0]!) },
  { name: "every output blob file deleted", edit: () => blobFiles().forEach((f) => rmSync(f)) },
  { name: "a quantum fails", edit: () => (flags = ["--config", "upper.failOn=4"]) },
  { name: "the failure again, nothing changed", edit: () => undefined },
  { name: "the failure fixed", edit: () => (flags = []) },
  { name: "pipeline file edited: config default in it", edit: () => writeFileSync(join(dir, "p.yaml"), pipeline("y").replace("upper: { task: ./upper.ts }", 'upper: { task: ./upper.ts, config: { suffix: "?" } }')) },
  { name: "two inputs edited at once", edit: () => (writeFileSync(raw(1), "uno\n"), writeFileSync(raw(4), "cuatro\n")) },
  { name: "an input emptied", edit: () => writeFileSync(raw(5), "") },
  { name: "nothing changed at the end", edit: () => undefined },
];

function statusSets(stdout: string): { willRun: Set<string>; mayRun: Set<string> } {
  const willRun = new Set<string>();
  const mayRun = new Set<string>();
  for (const line of stdout.split("\n")) {
    const m = /^(will run|may run|blocked) {2}(\S+?):/.exec(line);
    if (m?.[1] === "will run") willRun.add(m[2]!);
    if (m?.[1] === "may run") mayRun.add(m[2]!);
  }
  return { willRun, mayRun };
}

function startedSet(stdout: string): Set<string> {
  const started = new Set<string>();
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    const e = JSON.parse(line) as { event: string; task?: string; dataId?: string };
    if (e.event === "quantum-started") started.add(e.dataId ? `${e.task}@${e.dataId}` : e.task!);
  }
  return started;
}

describe("15.1 status says what run runs", () => {
  it(`over ${STEPS.length} edited states`, async () => {
    mkdirSync(join(dir, "data"));
    writeFileSync(join(dir, "p.yaml"), pipeline("x"));
    writeFileSync(join(dir, "upper.ts"), upperTask('return { upper: raw.trim().toUpperCase() + config.suffix + "\\n" };'));
    writeFileSync(join(dir, "total.ts"), TOTAL);
    for (const [i, text] of ["one", "two", "three"].entries()) writeFileSync(raw(i + 1), `${text}\n`);
    const seen: string[] = [];
    for (const step of STEPS) {
      step.edit();
      const status = await runCli(["status", "p.yaml", "--repo", "repo", "--list", ...flags], { cwd: dir });
      expect(status.code, `${step.name}: ${status.stderr}`).toBe(0);
      const { willRun, mayRun } = statusSets(status.stdout);
      const run = await runCli(["run", "p.yaml", "--repo", "repo", "--json", "-j", "2", ...flags], { cwd: dir });
      expect([0, 1], `${step.name}: ${run.stderr}`).toContain(run.code);
      const ran = startedSet(run.stdout);
      const context = `${step.name}\nstatus:\n${status.stdout}\nran: ${[...ran].sort().join(" ")}`;
      for (const q of willRun) expect(ran.has(q), context).toBe(true);
      for (const q of ran) expect(willRun.has(q) || mayRun.has(q), context).toBe(true);
      if (mayRun.size === 0) expect([...ran].sort(), context).toEqual([...willRun].sort());
      seen.push(`${step.name}: ${willRun.size} will run, ${mayRun.size} may run, ${ran.size} ran`);
    }
    // The states are not trivial: most ran something, some ran nothing, some had quanta that may run.
    expect(seen.filter((s) => !s.endsWith(" 0 ran")).length, seen.join("\n")).toBeGreaterThanOrEqual(15);
    expect(seen.filter((s) => s.endsWith(" 0 ran")).length, seen.join("\n")).toBeGreaterThanOrEqual(3);
    expect(seen.filter((s) => !/ 0 may run/.test(s)).length, seen.join("\n")).toBeGreaterThanOrEqual(2);
  }, 180_000);
});
