/**
 * 16: an input folder (the root of a path template) deleted and made again, under the real CLI's
 * `quanta watch` with real chokidar: chokidar stops watching a folder it started from once the folder
 * goes, so the watch starts again from its parent, and the folder's files made later make a pass.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { QuantaEvent } from "../../src/core/events.js";
import { makeTempDir } from "../helpers/cli.js";
import { ran, Watch } from "../helpers/watch-process.js";

/** Two inputs, so that the pass after one folder is deleted still has a graph to run. */
const PIPELINE = `dimensions: { item: int }
inputs:
  a: { path: "a/{item}.txt", storage: file }
  b: { path: "b/{item}.txt", storage: file }
tasks:
  upA:
    command: "tr a-z A-Z < {inputs.src} > {outputs.out}"
    dimensions: [item]
    inputs: { src: { type: a, dimensions: [item], storage: file } }
    outputs: { out: { type: upA, dimensions: [item], storage: file } }
  upB:
    command: "tr a-z A-Z < {inputs.src} > {outputs.out}"
    dimensions: [item]
    inputs: { src: { type: b, dimensions: [item], storage: file } }
    outputs: { out: { type: upB, dimensions: [item], storage: file } }
`;

let dir: string;
let cleanup: () => void;
let watch: Watch | undefined;
beforeEach(() => {
  ({ dir, cleanup } = makeTempDir("quanta-watch-recreated-"));
  writeFileSync(join(dir, "two.yaml"), PIPELINE);
  for (const input of ["a", "b"]) {
    mkdirSync(join(dir, input));
    writeFileSync(join(dir, input, "1.txt"), `${input} one\n`);
  }
});
afterEach(() => {
  if (watch && watch.child.exitCode === null) watch.child.kill("SIGKILL");
  watch = undefined;
  cleanup();
});

/** The events of the passes up to the first after which `done` holds (a burst of changes may take two). */
async function passesUntil(w: Watch, done: (events: QuantaEvent[]) => boolean): Promise<QuantaEvent[]> {
  const events: QuantaEvent[] = [];
  while (!done(events)) events.push(...(await w.nextPass()));
  return events;
}

const runs = (...quanta: string[]) => (events: QuantaEvent[]) => quanta.every((q) => ran(events).includes(q));

describe("16 quanta watch: an input folder deleted and made again", () => {
  it("16 the files of the folder made again make a pass, and so do later edits in it", async () => {
    watch = new Watch(dir, ["-j", "2"], "two.yaml");
    expect(ran(await watch.nextPass())).toEqual(["upA@item=1", "upB@item=1"]);

    rmSync(join(dir, "b"), { recursive: true });
    let pass = await passesUntil(watch, (events) => events.some((e) => e.event === "watch-changed" && e.paths.includes(join(dir, "b"))));
    expect(pass.filter((e) => e.event === "watch-error")).toEqual([]);
    expect(ran(pass)).toEqual([]);

    mkdirSync(join(dir, "b"));
    writeFileSync(join(dir, "b", "1.txt"), "b again\n");
    writeFileSync(join(dir, "b", "2.txt"), "b two\n");
    pass = await passesUntil(watch, runs("upB@item=1", "upB@item=2"));
    expect(ran(pass)).toEqual(["upB@item=1", "upB@item=2"]);

    // Watched again for good: an edit in it is the next pass's.
    writeFileSync(join(dir, "b", "2.txt"), "b two, edited\n");
    pass = await passesUntil(watch, runs("upB@item=2"));
    expect(ran(pass)).toEqual(["upB@item=2"]);
  }, 180_000);
});
