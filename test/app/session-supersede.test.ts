/**
 * A watch's pass told that a file changed (RunSession.supersede, as the watch driver calls it): a file
 * whose stat is the one the pass's ingest recorded did not change (the watcher reported one write
 * twice), and supersedes nothing; a file written again does. A run that is not a pass (a run the watch
 * serves) is never superseded.
 *
 * The session is imported from dist/ (build first), as in run-session.test.ts.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { QuantaEvent } from "../../src/core/events.js";
import { makeTempDir, PROJECT_ROOT } from "../helpers/cli.js";

type SessionModule = typeof import("../../src/app/run-session.js");
const { RunSession } = (await import(pathToFileURL(join(PROJECT_ROOT, "dist", "app", "run-session.js")).href)) as SessionModule;

const temp = makeTempDir("quanta-session-supersede-");
afterAll(() => temp.cleanup());

const PIPELINE = `
dimensions: { item: int }
inputs:
  src: { path: "data/{item}.txt", storage: file }
tasks:
  slow:
    command: "sleep 1; cat {inputs.src} > {outputs.out}"
    dimensions: [item]
    inputs: { src: { type: src, dimensions: [item], storage: file } }
    outputs: { out: { type: copied, dimensions: [item], storage: file } }
`;

describe("RunSession.supersede", () => {
  it("supersedes the quanta of a file written again during a pass, not of a file as the pass ingested it, and nothing of a run that is not a pass", async () => {
    const dir = temp.dir;
    mkdirSync(join(dir, "data"));
    const file = join(dir, "data", "1.txt");
    writeFileSync(file, "one\n");
    writeFileSync(join(dir, "p.yaml"), PIPELINE);
    const request = { pipelineFile: join(dir, "p.yaml"), targets: [], flags: { bind: [], config: [] } };
    let events: QuantaEvent[] = [];
    // Once the command runs: `touch` (maybe) writes the file, then the session is told it changed.
    let onStart: (() => void) | undefined;
    const session = await RunSession.open({
      repoRoot: join(dir, "repo"),
      exec: { jobs: 1, retries: 0, failFast: false, executor: "local", fsync: false },
      emit: (e) => {
        events.push(e);
        if (e.event === "quantum-started") setTimeout(() => onStart?.(), 100);
      },
    });
    const pass = { pass: { changedBefore: new Set<string>() } };
    const finished = () => events.find((e) => e.event === "run-finished") as Extract<QuantaEvent, { event: "run-finished" }>;
    try {
      // Reported again, unchanged since the pass's ingest: the command finishes and is recorded.
      onStart = () => session.supersede([file]);
      expect((await session.run(request, pass)).exitCode).toBe(0);
      expect(finished()).toMatchObject({ counts: { ran: 1 } });
      expect(finished()).not.toHaveProperty("superseded");

      // Written again while the command runs: superseded (the command stopped, nothing recorded).
      writeFileSync(file, "two\n");
      events = [];
      onStart = () => {
        writeFileSync(file, "three\n");
        session.supersede([file]);
      };
      expect((await session.run(request, { ...pass, changedPaths: [file] })).exitCode).toBe(0);
      expect(finished()).toMatchObject({ counts: { ran: 0 }, superseded: 1 });

      // A run that is not a pass: the report changes nothing; its check after the command fails it.
      events = [];
      onStart = () => {
        writeFileSync(file, "four\n");
        session.supersede([file]);
      };
      expect((await session.run(request, { changedPaths: [file] })).exitCode).toBe(1);
      expect(finished()).not.toHaveProperty("superseded");
      expect(events.find((e) => e.event === "quantum-failed")).toMatchObject({ task: "slow", error: expect.stringContaining("changed while the command ran") });
    } finally {
      await session.close();
    }
  }, 60_000);
});
