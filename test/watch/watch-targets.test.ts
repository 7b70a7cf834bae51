/** 16.1: what a pipeline makes watch mode watch. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadPipeline } from "../../src/app/load-pipeline.js";
import { watchTargets } from "../../src/watch/watch-targets.js";
import { makeChainFixture } from "../integration/chain-fixture.js";

let fx: ReturnType<typeof makeChainFixture>;
beforeEach(() => (fx = makeChainFixture(2)));
afterEach(() => fx.cleanup());

describe("16.1 watch targets", () => {
  it("16.1 the input templates' roots, relation files, the pipeline file, its imports and the task modules with their local imports", async () => {
    writeFileSync(
      join(fx.dir, "more.yaml"),
      `imports: [{ location: chain.yaml }]\ninputs:\n  groups: { path: "meta/groups.csv", relation: [item] }\n`,
    );
    const loaded = await loadPipeline(join(fx.dir, "more.yaml"));
    const targets = watchTargets(loaded);
    expect(targets.directories).toEqual([join(fx.dir, "data")]);
    expect(targets.files).toEqual(
      [join(fx.dir, "chain.yaml"), join(fx.dir, "more.yaml"), join(fx.dir, "meta", "groups.csv"), ...["double", "parity", "total", "parse-number"].map((t) => join(fx.dir, "tasks", `${t}.ts`))].sort(),
    );
  });
});
