/**
 * Item 3 of issue 15: a run session keeps the repository, the executor (worker threads, the
 * quanta-spawn helper, sandboxes) and the loaded task modules across runs in one process; each run
 * reruns exactly what an edit affects; nothing it started outlives its close.
 *
 * The session is imported from dist/ (build first): its worker threads start dist/exec/pool-worker.js.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { QuantaEvent } from "../../src/core/events.js";
import { openRepository } from "../../src/store/repository.js";
import { makeTempDir, PROJECT_ROOT } from "../helpers/cli.js";

type SessionModule = typeof import("../../src/app/run-session.js");
const { RunSession } = (await import(pathToFileURL(join(PROJECT_ROOT, "dist", "app", "run-session.js")).href)) as SessionModule;

const temp = makeTempDir("quanta-run-session-");
afterAll(() => temp.cleanup());
let counter = 0;

const SHOUT = (suffix: string) => `import { defineTask } from "quanta";

export default defineTask({
  name: "shout",
  dimensions: ["item"],
  inputs: { raw: { type: "raw", dimensions: ["item"], storage: "text" } },
  outputs: { loud: { type: "loud", dimensions: ["item"], storage: "text" } },
  run({ raw }) {
    return { loud: raw.trim().toUpperCase() + "${suffix}" };
  },
});
`;

/** Three items; `shout` (TypeScript) then `count` (a command) per item. */
function makeProject(): string {
  const dir = join(temp.dir, `p-${counter++}`);
  mkdirSync(join(dir, "tasks"), { recursive: true });
  mkdirSync(join(dir, "data"));
  for (const i of [1, 2, 3]) writeFileSync(join(dir, "data", `${i}.txt`), `item ${i}\n`);
  writeFileSync(join(dir, "tasks", "shout.ts"), SHOUT("!"));
  writeFileSync(
    join(dir, "p.yaml"),
    [
      "dimensions: { item: int }",
      'inputs: { raw: { path: "data/{item}.txt", storage: text } }',
      "tasks:",
      "  shout: { task: ./tasks/shout.ts }",
      "  count:",
      '    command: "wc -c < {inputs.src} > {outputs.out}"',
      "    dimensions: [item]",
      "    inputs: { src: { type: loud, dimensions: [item], storage: text } }",
      "    outputs: { out: { type: counted, dimensions: [item], storage: text } }",
    ].join("\n") + "\n",
  );
  return dir;
}

/** OS threads of this process (the test runs in a process of its own: vitest's `forks` pool). */
function threadCount(): number {
  return readdirSync("/proc/self/task").length;
}

/** Child processes of this process but esbuild's service (it serves every bundle of the process). */
function children(): { pid: number; comm: string }[] {
  const out: { pid: number; comm: string }[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(ppid) === process.pid && state !== "Z" && comm !== "esbuild") out.push({ pid: Number(name), comm });
  }
  return out;
}

function sandboxDirs(repo: string): string[] {
  const tmp = join(repo, "tmp");
  return existsSync(tmp) ? readdirSync(tmp).filter((n) => n.startsWith("sandboxes-")) : [];
}

/** What a run did: the quanta that ran, and how many were up to date (per quantum or per task). */
function summarize(events: readonly QuantaEvent[]): { ran: string[]; upToDate: number } {
  const ran: string[] = [];
  let upToDate = 0;
  for (const e of events) {
    if (e.event === "quantum-finished") ran.push(`${e.task}@${e.dataId}`);
    if (e.event === "quantum-up-to-date") upToDate++;
    if (e.event === "task-up-to-date") upToDate += e.quanta;
  }
  return { ran: ran.sort(), upToDate };
}

const every = (task: string) => [1, 2, 3].map((i) => `${task}@item=${i}`);

describe.each([
  { jobs: 1, changes: "every root walked" },
  { jobs: 2, changes: "only the changed paths ingested" },
])("15.3 a run session with -j $jobs ($changes)", ({ jobs }) => {
  it("15.3 three runs with edits between them rerun exactly what changed; close leaves no worker, helper or sandbox", async () => {
    const dir = makeProject();
    const repoRoot = join(dir, "repo");
    const request = { pipelineFile: join(dir, "p.yaml"), targets: [], flags: { bind: [], config: [] } };
    const threadsBefore = threadCount();
    let events: QuantaEvent[] = [];
    const session = await RunSession.open({
      repoRoot,
      exec: { jobs, retries: 0, failFast: false, executor: "local", fsync: false },
      emit: (e) => events.push(e),
    });
    const run = async (changed: string[]) => {
      events = [];
      const paths = jobs === 2 ? { changedPaths: changed.map((p) => join(dir, p)) } : {};
      const result = await session.run(request, paths);
      expect(result.exitCode, JSON.stringify(events.filter((e) => e.event === "quantum-failed"))).toBe(0);
      return { ...summarize(events), counts: result.counts };
    };

    const first = await run([]);
    expect(first.ran).toEqual([...every("count"), ...every("shout")].sort());
    expect(first.counts).toMatchObject({ ran: 6, upToDate: 0, failed: 0 });
    // Alive while the session is: its worker threads, the helper, its pool of sandboxes.
    expect(threadCount()).toBeGreaterThan(threadsBefore);
    const helper = children().filter((c) => c.comm === "quanta-spawn");
    expect(helper).toHaveLength(1);
    expect(sandboxDirs(repoRoot)).toHaveLength(1);

    // An input edited: its chain alone.
    writeFileSync(join(dir, "data", "2.txt"), "item 2, edited\n");
    const second = await run(["data/2.txt"]);
    expect(second.ran).toEqual(["count@item=2", "shout@item=2"]);
    expect(second.upToDate).toBe(4);

    // The TypeScript task's code edited: the new code runs (its outputs change, so every count reruns).
    writeFileSync(join(dir, "tasks", "shout.ts"), SHOUT("?!"));
    const third = await run(["tasks/shout.ts"]);
    expect(third.ran).toEqual([...every("count"), ...every("shout")].sort());

    // Nothing changed: the run stamp answers.
    const fourth = await run([]);
    expect(fourth.ran).toEqual([]);
    expect(fourth.upToDate).toBe(6);
    // The same helper served every run: the session kept its executor.
    expect(children().filter((c) => c.comm === "quanta-spawn")).toEqual(helper);

    await session.close();
    expect(threadCount()).toBe(threadsBefore);
    expect(children()).toEqual([]);
    expect(sandboxDirs(repoRoot)).toEqual([]);

    // What the edited code made, read back once the session let the repository go.
    const repo = await openRepository(repoRoot, { write: false, command: "test" });
    const loud = (item: number) => new TextDecoder().decode(repo.blobs.readSync(repo.registry.getDataset("p", "loud", `item=${item}`)!.digest));
    expect([1, 2, 3].map(loud)).toEqual(["ITEM 1?!", "ITEM 2, EDITED?!", "ITEM 3?!"]);
    await repo.close();
  });
});

describe("15.3 a session run that fails before its ingest", () => {
  it("15.3 keeps the changed paths it was told for the next run", async () => {
    const dir = makeProject();
    const pipelineFile = join(dir, "p.yaml");
    const good = readFileSync(pipelineFile, "utf8");
    const request = { pipelineFile, targets: [], flags: { bind: [], config: [] } };
    let events: QuantaEvent[] = [];
    const session = await RunSession.open({
      repoRoot: join(dir, "repo"),
      exec: { jobs: 2, retries: 0, failFast: false, executor: "local", fsync: false },
      emit: (e) => events.push(e),
    });
    try {
      expect((await session.run(request)).exitCode).toBe(0);
      writeFileSync(join(dir, "data", "3.txt"), "item 3, edited\n");
      writeFileSync(pipelineFile, good + "  broken: [\n");
      await expect(session.run(request, { changedPaths: [join(dir, "data", "3.txt"), pipelineFile] })).rejects.toThrow(/p\.yaml/);
      writeFileSync(pipelineFile, good);
      events = [];
      expect((await session.run(request, { changedPaths: [pipelineFile] })).exitCode).toBe(0);
      expect(summarize(events).ran).toEqual(["count@item=3", "shout@item=3"]);
    } finally {
      await session.close();
    }
  });
});
