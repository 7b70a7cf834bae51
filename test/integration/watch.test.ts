/**
 * 16: `quanta watch` as a user runs it: the real CLI in a child process with `--json`, real files, real
 * chokidar. Each pass is checked for the exact set of quanta that ran.
 */
import { readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { childrenOf, commandOf, isGone, ran, until, Watch } from "../helpers/watch-process.js";
import { makeChainFixture } from "./chain-fixture.js";

let fx: ReturnType<typeof makeChainFixture>;
let watch: Watch | undefined;
beforeEach(() => (fx = makeChainFixture(4)));
afterEach(async () => {
  if (watch && watch.child.exitCode === null) watch.child.kill("SIGKILL");
  watch = undefined;
  fx.cleanup();
});

const ALL = ["double@item=1", "double@item=2", "double@item=3", "double@item=4", "parity@item=1", "parity@item=2", "parity@item=3", "parity@item=4", "total"];

describe("16 quanta watch", () => {
  it("16 reruns exactly what each edit makes stale; a broken pipeline is reported and the watch goes on; SIGINT exits 0 leaving nothing behind", async () => {
    watch = new Watch(fx.dir, ["-j", "2"]);
    const first = await watch.nextPass();
    expect(ran(first)).toEqual(ALL);

    // One input edited: its chain; parity stays even, so the total is cut off.
    writeFileSync(join(fx.dir, "data", "raw-2.txt"), "7\n");
    let pass = await watch.nextPass();
    expect(pass.find((e) => e.event === "watch-changed")).toMatchObject({ paths: [join(fx.dir, "data", "raw-2.txt")], changes: [{ path: join(fx.dir, "data", "raw-2.txt"), kind: "changed" }] });
    expect(ran(pass)).toEqual(["double@item=2", "parity@item=2"]);
    // 16.5: between passes, the last change and why the pass ran what it ran.
    expect(pass.at(-1)).toMatchObject({ event: "watch-waiting", lastChange: { paths: [join(fx.dir, "data", "raw-2.txt")], more: 0 } });
    expect((pass.at(-1) as { why: string[] }).why.map((w) => w.split(":")[0])).toEqual(["double@item=2", "parity@item=2"]);

    // Touched without a change of content: nothing runs.
    const later = new Date(Date.now() + 5_000);
    utimesSync(join(fx.dir, "data", "raw-3.txt"), later, later);
    pass = await watch.nextPass();
    expect(ran(pass)).toEqual([]);

    // A new input: its quanta and the gather.
    writeFileSync(join(fx.dir, "data", "raw-5.txt"), "5\n");
    pass = await watch.nextPass();
    expect(pass.find((e) => e.event === "watch-changed")).toMatchObject({ changes: [{ path: join(fx.dir, "data", "raw-5.txt"), kind: "added" }] });
    expect(ran(pass)).toEqual(["double@item=5", "parity@item=5", "total"]);

    // Deleted: the gather is back to the inputs it had, whose result the action cache holds; the
    // deleted chain's outputs leave the collection (read while the watch holds the repository).
    rmSync(join(fx.dir, "data", "raw-5.txt"));
    pass = await watch.nextPass();
    expect(pass.find((e) => e.event === "watch-changed")).toMatchObject({ changes: [{ path: join(fx.dir, "data", "raw-5.txt"), kind: "removed" }] });
    expect(ran(pass)).toEqual([]);
    expect(pass.filter((e) => e.event === "quantum-up-to-date").map((e) => (e as { task: string }).task)).toContain("total");
    const listed = await runCli(["datasets", "--repo", "repo", "--collection", "chain", "--type", "doubled", "--json"], { cwd: fx.dir });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout.trim().split("\n").map((l) => JSON.parse(l).dataId.item).sort()).toEqual([1, 2, 3, 4]);

    // A config value changed in the pipeline file: that task's quanta and their parities, whose inputs
    // changed; the parities are the same, so the total is cut off.
    const pipeline = readFileSync(join(fx.dir, "chain.yaml"), "utf8");
    writeFileSync(join(fx.dir, "chain.yaml"), pipeline.replace("factor: 2", "factor: 4"));
    pass = await watch.nextPass();
    expect(ran(pass)).toEqual(ALL.filter((q) => q !== "total"));

    // Broken YAML: a located error, and the watch goes on; fixed: the pass runs.
    writeFileSync(join(fx.dir, "chain.yaml"), pipeline.replace("factor: 2", "factor: [2"));
    pass = await watch.nextPass();
    const error = pass.find((e) => e.event === "watch-error");
    expect(error).toMatchObject({ message: expect.stringMatching(/chain\.yaml:\d+:\d+/) });
    writeFileSync(join(fx.dir, "chain.yaml"), pipeline.replace("factor: 2", "factor: 6"));
    pass = await watch.nextPass();
    expect(ran(pass)).toEqual(ALL.filter((q) => q !== "total"));

    const helpers = childrenOf(watch.child.pid!);
    const stopping = Date.now();
    watch.child.kill("SIGINT");
    expect(await watch.exit()).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(2_000);
    // What the watch started (the quanta-spawn helper, esbuild's service) has ended with it.
    expect(helpers.length).toBeGreaterThan(0);
    for (const pid of helpers) expect(isGone(pid), `process ${pid}: ${commandOf(pid)}`).toBe(true);
    // The lock is gone: a run starts at once, and finds everything up to date.
    const after = await runCli(["run", "chain.yaml", "--repo", "repo", "--json"], { cwd: fx.dir });
    expect(after.code, after.stderr).toBe(0);
  }, 180_000);

  it("16 task code and the local modules it imports; a burst of writes makes one pass; an edit during a slow pass ends as a clean run would; kill -9 leaves a repository the next run uses", async () => {
    const double = join(fx.dir, "tasks", "double.ts");
    const source = readFileSync(double, "utf8");
    watch = new Watch(fx.dir, ["-j", "2"]);
    expect(ran(await watch.nextPass())).toEqual(ALL);

    // The task's code: its quanta run; their outputs are the same, so nothing after them does.
    writeFileSync(double, source.replace("value: n * config.factor }", "value: config.factor * n }"));
    let pass = await watch.nextPass();
    expect(ran(pass)).toEqual(["double@item=1", "double@item=2", "double@item=3", "double@item=4"]);
    // A local module it imports.
    const parse = join(fx.dir, "tasks", "parse-number.ts");
    writeFileSync(parse, readFileSync(parse, "utf8") + "// parses base 10\n");
    pass = await watch.nextPass();
    expect(ran(pass)).toEqual(["double@item=1", "double@item=2", "double@item=3", "double@item=4"]);

    // Twenty writes inside the debounce window: one pass, which reads the last.
    for (let i = 0; i < 20; i++) writeFileSync(join(fx.dir, "data", "raw-1.txt"), `${10 + i}\n`);
    pass = await watch.nextPass();
    expect(pass.filter((e) => e.event === "watch-changed")).toHaveLength(1);
    expect(ran(pass)).toEqual(["double@item=1", "parity@item=1"]);

    // A slow quantum (item 3 takes 1 s), and an edit of another input while it runs.
    writeFileSync(double, source.replace("const n = parseNumber(raw);", "const n = parseNumber(raw);\n    if (n === 33) { const until = Date.now() + 1000; while (Date.now() < until); }"));
    pass = await watch.nextPass();
    writeFileSync(join(fx.dir, "data", "raw-3.txt"), "33\n");
    await until(() => watch!.events.some((e) => e.event === "quantum-started" && e.task === "double" && e.dataId === "item=3"));
    writeFileSync(join(fx.dir, "data", "raw-4.txt"), "44\n");
    pass = await watch.nextPass();
    if (!pass.some((e) => e.event === "watch-changed" && e.paths.some((p) => p.endsWith("raw-4.txt")))) pass = await watch.nextPass();
    const outputs = await datasets(fx.dir);

    // The outputs equal those of a one-shot run of the same files in a fresh repository.
    const clean = await runCli(["run", "chain.yaml", "--repo", "clean-repo", "--json"], { cwd: fx.dir });
    expect(clean.code, clean.stderr).toBe(0);
    expect(outputs).toEqual(await datasets(fx.dir, "clean-repo"));

    // Killed hard: the next run takes over the lock and finds everything up to date.
    watch.child.kill("SIGKILL");
    await watch.exit();
    const after = await runCli(["run", "chain.yaml", "--repo", "repo", "--json"], { cwd: fx.dir });
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toContain('"ran":0');
  }, 180_000);
});

/** `type@dataId digest` of every output in the collection `chain` of `repo`. */
async function datasets(dir: string, repo = "repo"): Promise<string[]> {
  const r = await runCli(["datasets", "--repo", repo, "--collection", "chain", "--json"], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { type: string; dataId: Record<string, unknown>; digest: string })
    .map((d) => `${d.type}@${JSON.stringify(d.dataId)} ${d.digest}`)
    .sort();
}

