/**
 * A worker thread's blob store keeps its own shard listings across the runs of a session. A blob file
 * the main thread sets aside (a corrupt one moved to quarantine/) would still be listed there, and the
 * quantum that made it, rerun on that worker, would take the file as present and not write it again:
 * a session ends its executor after a run that set blobs aside.
 *
 * Imports the session from dist/ (build first), as test/app/run-session.test.ts does.
 */
import { existsSync, mkdirSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { QuantaEvent } from "../../src/core/events.js";
import { makeTempDir, PROJECT_ROOT } from "../helpers/cli.js";

type SessionModule = typeof import("../../src/app/run-session.js");
const { RunSession } = (await import(pathToFileURL(join(PROJECT_ROOT, "dist", "app", "run-session.js")).href)) as SessionModule;

const temp = makeTempDir("quanta-review-listing-");
afterAll(() => temp.cleanup());

const SHOUT = `import { defineTask } from "quanta";

export default defineTask({
  name: "shout",
  dimensions: ["item"],
  inputs: { raw: { type: "raw", dimensions: ["item"], storage: "text" } },
  outputs: { loud: { type: "loud", dimensions: ["item"], storage: "text" } },
  run({ raw }) {
    return { loud: raw.toUpperCase() };
  },
});
`;

describe("16 a blob file set aside during a session, made again by a worker thread", () => {
  it("16 the rerun of its producer writes it again (the worker's listing is not stale)", async () => {
    const dir = temp.dir;
    mkdirSync(join(dir, "tasks"), { recursive: true });
    mkdirSync(join(dir, "data"));
    // Bigger than the registry keeps inline: the output is a blob file.
    writeFileSync(join(dir, "data", "1.txt"), "x".repeat(6000) + "\n");
    writeFileSync(join(dir, "tasks", "shout.ts"), SHOUT);
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
        "    config: { n: 0 }",
        "    inputs: { src: { type: loud, dimensions: [item], storage: text } }",
        "    outputs: { out: { type: counted, dimensions: [item], storage: text } }",
      ].join("\n") + "\n",
    );
    const events: QuantaEvent[] = [];
    const session = await RunSession.open({
      repoRoot: join(dir, "repo"),
      exec: { jobs: 2, retries: 0, failFast: false, executor: "local", fsync: false },
      emit: (e) => events.push(e),
    });
    const request = (n: number) => ({ pipelineFile: join(dir, "p.yaml"), targets: [], flags: { bind: [], config: [`count.n=${n}`] } });
    try {
      expect((await session.run(request(1))).exitCode).toBe(0);
      const made = events.find((e) => e.event === "quantum-finished" && e.task === "shout");
      expect(made).toBeDefined();
      // The blob of loud@item=1, damaged on disk; count's config edited so that count reads it again.
      const { openRepository } = await import("../../src/store/repository.js");
      const digest = await (async () => {
        // Read the record without the lock: a reader beside the session.
        const reader = await openRepository(join(dir, "repo"), { write: false, command: "test" });
        const d = reader.registry.getDataset("p", "loud", "item=1")!.digest;
        const path = reader.blobs.pathOf(d);
        await reader.close();
        return { d, path };
      })();
      truncateSync(digest.path, 10);
      expect((await session.run(request(2))).exitCode).toBe(1); // count finds it corrupt; it is set aside
      expect(existsSync(digest.path)).toBe(false);

      events.length = 0;
      const third = await session.run(request(2));
      const failed = events.filter((e) => e.event === "quantum-failed");
      expect(third.exitCode, JSON.stringify(failed)).toBe(0);
      expect(existsSync(digest.path)).toBe(true);
    } finally {
      await session.close();
    }
  });
});
