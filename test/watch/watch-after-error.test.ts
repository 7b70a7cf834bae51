/**
 * 16: after a pass that fails, `quanta watch` (the real CLI, real chokidar) watches every file that can
 * fix it, so that the fix runs a pass: the pipeline file moved away and put back, a new task module
 * that does not compile and is then fixed, a relation file written after the pass that needed it.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { QuantaEvent } from "../../src/core/events.js";
import { ran, Watch } from "../helpers/watch-process.js";
import { makeChainFixture } from "../integration/chain-fixture.js";

let fx: ReturnType<typeof makeChainFixture>;
let watch: Watch | undefined;
beforeEach(() => (fx = makeChainFixture(2)));
afterEach(() => {
  if (watch && watch.child.exitCode === null) watch.child.kill("SIGKILL");
  watch = undefined;
  fx.cleanup();
});

const ALL = ["double@item=1", "double@item=2", "parity@item=1", "parity@item=2", "total"];

/** The events of the passes up to the first after which `done` holds (a burst of changes may take two). */
async function passesUntil(w: Watch, done: (events: QuantaEvent[]) => boolean): Promise<QuantaEvent[]> {
  const events: QuantaEvent[] = [];
  while (!done(events)) events.push(...(await w.nextPass()));
  return events;
}

const failed = (events: QuantaEvent[]) => events.some((e) => e.event === "watch-error");
const finished = (events: QuantaEvent[]) => events.some((e) => e.event === "run-finished");
const errorsOf = (events: QuantaEvent[]) => events.flatMap((e) => (e.event === "watch-error" ? [e.message] : []));

describe("16 quanta watch after a pass that failed", () => {
  it("16 the pipeline file moved away and put back: the pass runs", async () => {
    const pipeline = join(fx.dir, "chain.yaml");
    const text = readFileSync(pipeline, "utf8");
    watch = new Watch(fx.dir, ["-j", "2"]);
    expect(ran(await watch.nextPass())).toEqual(ALL);

    renameSync(pipeline, join(fx.dir, "moved.yaml"));
    let pass = await passesUntil(watch, failed);
    expect(errorsOf(pass)).toEqual([expect.stringContaining("cannot read pipeline file chain.yaml")]);

    writeFileSync(pipeline, text.replace("factor: 2", "factor: 3"));
    rmSync(join(fx.dir, "moved.yaml"));
    pass = await passesUntil(watch, finished);
    expect(errorsOf(pass)).toEqual([]);
    expect(ran(pass)).toEqual(ALL);
  }, 180_000);

  it("16 a new task module that does not compile, then fixed: the pass runs it", async () => {
    const parity = readFileSync(join(fx.dir, "tasks", "parity.ts"), "utf8");
    const parity2 = parity.replace('name: "parity"', 'name: "parity2"').replace('type: "parity"', 'type: "parity2"');
    expect(parity2).not.toEqual(parity);
    watch = new Watch(fx.dir, ["-j", "2"]);
    expect(ran(await watch.nextPass())).toEqual(ALL);

    writeFileSync(join(fx.dir, "tasks", "parity2.ts"), parity2.replace("run({ doubled })", "run({ doubled )"));
    writeFileSync(join(fx.dir, "chain.yaml"), readFileSync(join(fx.dir, "chain.yaml"), "utf8") + "  parity2: { task: ./tasks/parity2.ts }\n");
    let pass = await passesUntil(watch, failed);
    expect(errorsOf(pass)).toEqual([expect.stringMatching(/parity2\.ts:\d+:\d+/)]);

    writeFileSync(join(fx.dir, "tasks", "parity2.ts"), parity2);
    pass = await passesUntil(watch, finished);
    expect(errorsOf(pass)).toEqual([]);
    expect(ran(pass)).toEqual(["parity2@item=1", "parity2@item=2"]);
  }, 180_000);

  it("16 a relation file the pipeline gained, written after the pass that needed it failed: the pass runs", async () => {
    const pipeline = join(fx.dir, "chain.yaml");
    watch = new Watch(fx.dir, ["-j", "2"]);
    expect(ran(await watch.nextPass())).toEqual(ALL);

    writeFileSync(pipeline, readFileSync(pipeline, "utf8").replace("inputs:\n", 'inputs:\n  groups: { path: "meta/groups.csv", relation: [item] }\n'));
    let pass = await passesUntil(watch, failed);
    expect(errorsOf(pass)).toEqual([expect.stringContaining("relation groups has 0 rows")]);

    mkdirSync(join(fx.dir, "meta"));
    writeFileSync(join(fx.dir, "meta", "groups.csv"), "item\n1\n");
    pass = await passesUntil(watch, finished);
    expect(errorsOf(pass)).toEqual([]);
    // Only item 1 is left: the total of one parity.
    expect(ran(pass)).toEqual(["total"]);
  }, 180_000);
});
