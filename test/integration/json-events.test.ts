/**
 * 15.5: every line every command prints under `--json` is a member of the one event union
 * (src/core/events.ts), checked with the schema of test/helpers/event-schema.ts; run streams keep the
 * order the union's comment states and their counts add up (test/helpers/check-event-stream.ts).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { QuantaEvent } from "../../src/core/events.js";
import { runCli } from "../helpers/cli.js";
import { checkRunStream, checkStatusStream } from "../helpers/check-event-stream.js";
import { parseEventLines, quantaEventSchema } from "../helpers/event-schema.js";
import { makeChainFixture } from "./chain-fixture.js";

const N = 4;
/** chain.yaml's quanta: double and parity per item, one total. */
const QUANTA = 2 * N + 1;

const PICK_TASK = `import { defineTask, noWork } from "quanta";
export default defineTask({
  name: "pick",
  dimensions: ["group", "sample"],
  inputs: { raw: { type: "sample", dimensions: ["group", "sample"], storage: "text" } },
  outputs: { picked: { type: "picked", dimensions: ["group", "sample"], storage: "text" } },
  run({ raw }) {
    return raw.trim() === "b" ? noWork() : { picked: raw };
  },
});
`;

const GATHER_PIPELINE = `dimensions: { group: string, sample: string }
inputs:
  sample: { path: "data/{group}/{sample}.txt", storage: text }
tasks:
  pick: { task: ./tasks/pick.ts }
  keep:
    command: "cp {inputs.picked} {outputs.kept}"
    dimensions: [group, sample]
    inputs: { picked: { type: picked, dimensions: [group, sample], storage: text } }
    outputs: { kept: { type: kept, dimensions: [group, sample], storage: text } }
  merge:
    command: "cat {inputs.parts} > {outputs.out}"
    dimensions: [group]
    inputs: { parts: { type: sample, dimensions: [group, sample], storage: text, multiple: true, minimum: 2 } }
    outputs: { out: { type: merged, dimensions: [group], storage: text } }
`;

let fx: ReturnType<typeof makeChainFixture>;
/** Every event printed in the test, to check that each member of the union was printed by some command. */
let seen: Set<string>;
beforeEach(() => {
  fx = makeChainFixture(N);
  seen = new Set();
});
afterEach(() => fx.cleanup());

/** Runs `quanta ARGS… --repo repo --json`, expects `code`, and parses every stdout line through the union. */
async function json(args: string[], code = 0): Promise<QuantaEvent[]> {
  const result = await runCli([...args, "--repo", "repo", "--json"], { cwd: fx.dir });
  expect(result.code, `quanta ${args.join(" ")}: ${result.stderr}`).toBe(code);
  const events = parseEventLines(result.stdout);
  for (const e of events) seen.add(e.event);
  return events;
}

const names = (events: QuantaEvent[]) => events.map((e) => e.event);
const kinds = (events: QuantaEvent[], kind: QuantaEvent["event"]) => events.filter((e) => e.event === kind).length;

describe("15.5 one event union for every --json line", () => {
  it("15.5 every --json line of every command parses through the union, and run streams keep their order and sums", async () => {
    // A second file for item 1: ingest skips it, a problem.
    writeFileSync(join(fx.dir, "data", "raw-01.txt"), "1\n");
    const ingest = await json(["ingest", "chain.yaml"]);
    expect(names(ingest)).toEqual(["ingest-problem", "ingest-finished"]);
    expect(ingest[1]).toMatchObject({ added: N, errors: 1, collection: "raw/chain" });

    const cold = checkRunStream(await json(["run", "chain.yaml", "-j", "2"]));
    expect(cold.counts).toEqual({ ran: QUANTA, upToDate: 0, failed: 0, blocked: 0, noWork: 0 });

    // Nothing changed: the run stamp answers, a task at a time.
    const stamped = await json(["run", "chain.yaml"]);
    expect(checkRunStream(stamped).counts).toMatchObject({ ran: 0, upToDate: QUANTA });
    expect(kinds(stamped, "task-up-to-date")).toBe(3);
    expect(stamped.some((e) => e.event.startsWith("quantum-"))).toBe(false);

    const status = checkStatusStream(await json(["status", "chain.yaml", "--config", "double.factor=3"]));
    expect(status.counts).toEqual({ willRun: N, mayRun: N + 1, upToDate: 0, blocked: 0 });
    const why = await json(["why", "parity@item=2", "--config", "double.factor=3"]);
    expect(why).toMatchObject([{ event: "why", quantum: "parity@item=2", status: "may-run", upstream: [{ quantum: "double@item=2", status: "will-run" }] }]);
    expect(names(await json(["graph", "chain.yaml", "-o", "plan.qg"]))).toEqual(["graph-built"]);

    // Doubled values change, parities do not: total is up to date (early cutoff), reported per quantum.
    const changed = checkRunStream(await json(["run", "chain.yaml", "--config", "double.factor=4"]));
    expect(changed.counts).toMatchObject({ ran: 2 * N, upToDate: 1 });

    // A failure blocks its descendants; the other branches go on.
    const failing = await json(["run", "chain.yaml", "-j", "1", "--config", "double.failOn=[2]"], 1);
    expect(checkRunStream(failing).counts).toMatchObject({ failed: 1, blocked: 2 });
    expect(kinds(failing, "quantum-blocked")).toBe(2);

    // --fail-fast blocks everything left after the first failure.
    const fast = await json(["run", "chain.yaml", "-j", "1", "--fail-fast", "--config", "double.failOn=[1]"], 1);
    expect(checkRunStream(fast).counts).toMatchObject({ ran: 0, failed: 1, blocked: QUANTA - 1 });

    // Retries: the first attempt fails once, the second succeeds.
    const retried = await json(["run", "chain.yaml", "-j", "2", "--retries", "1", "--config", `double.flakyMarker=${join(fx.dir, "flaky")}`]);
    expect(checkRunStream(retried).counts.failed).toBe(0);
    expect(kinds(retried, "quantum-retrying")).toBe(1);

    // The saved plan (of the original config) runs again as it was.
    const exec = checkRunStream(await json(["exec", "plan.qg", "-j", "2"]));
    expect(exec.counts.ran + exec.counts.upToDate).toBe(QUANTA);

    // The readers, at once.
    const [datasets, log, provenance, config, pipeline] = await Promise.all([
      json(["datasets", "--type", "parity"]),
      json(["log", "double@item=1"]),
      json(["provenance", "report@"]),
      json(["show", "config", "chain.yaml", "double"]),
      json(["show", "pipeline", "chain.yaml"]),
    ]);
    expect(kinds(datasets, "dataset")).toBe(N);
    expect(log).toMatchObject([{ event: "execution", task: "double", dataId: "item=1", status: "succeeded" }]);
    expect(provenance).toMatchObject([{ event: "provenance", dataset: "report", quantum: { task: "total" } }]);
    expect(config).toMatchObject([{ event: "show", what: "config", task: "double" }]);
    expect(pipeline).toMatchObject([{ event: "show", what: "pipeline" }]);
    expect(names(await json(["gc"]))).toEqual(["gc-finished"]);

    // A damaged blob file: verify reports it (exit 3), --repair sets it aside.
    checkRunStream(await json(["run", "chain.yaml", "--config", "double.pad=5000"]));
    const [padded] = (await json(["datasets", "--type", "doubled", "--collection", "chain"])) as Extract<QuantaEvent, { event: "dataset" }>[];
    writeFileSync(join(fx.repo, "blobs", padded!.digest.slice(0, 2), padded!.digest.slice(2)), "damaged\n");
    expect(names(await json(["verify"], 3))).toEqual(["blob-problem", "verify-finished"]);
    expect(names(await json(["verify", "--repair"]))).toEqual(["blob-problem", "verify-finished", "verify-repaired"]);

    // With the next test's plan-warning, each member of the union is printed by some command (the
    // watch-* events by quanta watch, in test/integration/watch.test.ts).
    const members = quantaEventSchema.options.map((o) => o.shape.event.value as string);
    // slurm-submitted needs a Slurm: the Slurm tests (*.slow.test.ts) see it.
    expect(members.filter((m) => !seen.has(m) && !m.startsWith("watch-") && !m.startsWith("slurm-"))).toEqual(["plan-warning"]);
  }, 240_000);

  it("15.5 plan warnings, quanta with no work and a stamped run with dropped quanta keep the order and sums", async () => {
    // pick returns noWork() for sample b, so keep@…,sample=b has nothing to do; merge needs two samples per group (g2 has one).
    for (const [group, sample] of [["g1", "a"], ["g1", "b"], ["g2", "c"]]) {
      mkdirSync(join(fx.dir, "data", group!), { recursive: true });
      writeFileSync(join(fx.dir, "data", group!, `${sample}.txt`), `${sample}\n`);
    }
    writeFileSync(join(fx.dir, "tasks", "pick.ts"), PICK_TASK);
    writeFileSync(join(fx.dir, "p.yaml"), GATHER_PIPELINE);
    for (const attempt of ["cold", "stamped"]) {
      const events = await json(["run", "p.yaml", "-j", "1"]);
      const finished = checkRunStream(events);
      expect(kinds(events, "plan-warning"), attempt).toBe(1);
      expect(finished.dropped).toBe(1);
      if (attempt === "stamped") {
        expect(finished.counts).toMatchObject({ ran: 0, upToDate: 7 });
        continue;
      }
      expect(finished.counts).toMatchObject({ ran: 7, noWork: 2, upToDate: 0 });
      const unstarted = events.filter((e) => e.event === "quantum-finished" && !events.some((s) => s.event === "quantum-started" && s.quantum === e.quantum));
      expect(unstarted).toMatchObject([{ task: "keep", dataId: "group=g1,sample=b", noWork: true, durationMs: 0 }]);
    }
  }, 120_000);
});
