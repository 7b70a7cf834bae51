import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRunRecord, saveRunRecord } from "../../src/app/run-records.js";
import { RunJournal } from "../../src/core/run-journal.js";
import { openRepository } from "../../src/store/repository.js";

const root = mkdtempSync(join(tmpdir(), "quanta-run-records-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("19.5 a run's journal, kept in columns and written in pieces", () => {
  it("19.5 reads back as the record the journal folds, for more quanta than one write holds", async () => {
    const journal = new RunJournal("20261206-050000-000");
    journal.add({ event: "run-started", pipeline: "p", collection: "c", executor: "pool", workers: 2, tasks: [{ task: "a", total: 5001 }] }, 1000);
    for (let i = 0; i < 5000; i++) {
      journal.add({ event: "quantum-finished", quantum: i, task: "a", dataId: `x=${i}`, durationMs: i % 7, noWork: i % 1000 === 0, startedAt: 1000 + i }, 1001 + i);
    }
    journal.add({ event: "quantum-failed", quantum: 5000, task: "a", dataId: "x=5000", attempt: 2, error: "boom", logTail: ["a line"], durationMs: 3 }, 7000);
    const whole = journal.toRecord()!;
    expect(whole.quanta).toHaveLength(5001);
    expect(whole.quanta[5000]).toEqual({ task: "a", dataId: "x=5000", status: "failed", durationMs: 3, attempt: 2, error: "boom", logTail: ["a line"] });
    expect(whole.quanta[1000]).toEqual({ task: "a", dataId: "x=1000", status: "no-work", startedAt: 2000, durationMs: 6, attempt: 1 });

    const repoRoot = join(root, "repo");
    const repo = await openRepository(repoRoot, { write: true });
    try {
      const head = journal.toRecordHead()!;
      saveRunRecord(repoRoot, repo.registry, head.record, head.quanta);
    } finally {
      await repo.close();
    }
    const text = readFileSync(join(repoRoot, "runs", "20261206-050000-000.json"), "utf8");
    expect(text.endsWith("]}\n")).toBe(true);
    expect(loadRunRecord(repoRoot)).toEqual(whole);
  });
});
