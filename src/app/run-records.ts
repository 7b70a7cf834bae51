/**
 * The journals of the latest runs (core/run-journal.ts), one JSON file per run under `<repo>/runs/`:
 * `<repo>/runs/<run id>.json`, format 1 (`{"format":1,"id",...}`, the `RunRecord` type). `quanta report`
 * reads them. The newest `RUNS_KEPT` are kept; writing a record removes older ones. A file of another
 * format, or one that does not parse, is skipped when listing and named when asked for by id.
 *
 * Written at the end of each run (and each watch pass) by the writer that made it, after the run's
 * registry commits, so every execution id a record names is in the registry.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { RepositoryError, UsageError } from "../core/errors.js";
import type { JournalQuantum, RunRecord } from "../core/run-journal.js";
import type { Registry } from "../store/registry.js";
import { writingSync } from "../store/write-failure.js";

export const RUNS_KEPT = 50;
const RUN_FILE = /^(\d{8}-\d{6}-\d{3}(?:-\d+)?)\.json$/;

function runsDir(repoRoot: string): string {
  return join(repoRoot, "runs");
}

/** Quanta per write: the record of a run of 300,000 quanta is written in pieces, never held whole as one string. */
const QUANTA_PER_WRITE = 2000;

/**
 * Fills in each quantum's execution id from the registry (its quantum record, when the record is of
 * this run: written at or after the run's start), then writes the record and prunes old ones.
 * `quanta`: the record's quanta when they are not in it (RunJournal.toRecordHead), read one by one.
 */
export function saveRunRecord(repoRoot: string, registry: Registry, record: RunRecord | Omit<RunRecord, "quanta">, quanta?: Iterable<JournalQuantum>): void {
  const { quanta: own, ...head } = record as RunRecord;
  const dir = runsDir(repoRoot);
  const path = join(dir, `${record.id}.json`);
  writingSync(path, () => {
    mkdirSync(dir, { recursive: true });
    try {
      const fd = openSync(path + ".tmp", "w");
      try {
        // The head, then "quanta" as its last field, a chunk of quanta at a time.
        const text = JSON.stringify(head);
        const write = (s: string) => writeSync(fd, s);
        write(`${text.slice(0, -1)}${text.length > 2 ? "," : ""}"quanta":[`);
        let chunk: string[] = [];
        let first = true;
        for (const q of quanta ?? own ?? []) {
          const latest = registry.getQuantum(record.collection, q.task, q.dataId);
          if (latest !== undefined && latest.time >= record.startedAt) q.executionId = latest.executionId;
          chunk.push(JSON.stringify(q));
          if (chunk.length === QUANTA_PER_WRITE) {
            write((first ? "" : ",") + chunk.join(","));
            first = false;
            chunk = [];
          }
        }
        if (chunk.length > 0) write((first ? "" : ",") + chunk.join(","));
        write("]}\n");
      } finally {
        closeSync(fd);
      }
      renameSync(path + ".tmp", path);
    } catch (err) {
      rmSync(path + ".tmp", { force: true });
      throw err;
    }
    for (const old of listRunIds(repoRoot).slice(0, -RUNS_KEPT)) rmSync(join(dir, `${old}.json`), { force: true });
  });
}

/** The ids of the recorded runs, oldest first. */
export function listRunIds(repoRoot: string): string[] {
  let names: string[];
  try {
    names = readdirSync(runsDir(repoRoot));
  } catch {
    return [];
  }
  return names.flatMap((n) => RUN_FILE.exec(n)?.[1] ?? []).sort();
}

/** A run's record: the one with `id`, or the latest. Usage errors say which runs there are. */
export function loadRunRecord(repoRoot: string, id?: string): RunRecord {
  const ids = listRunIds(repoRoot);
  if (ids.length === 0) throw new UsageError(`no run recorded in ${repoRoot}`, "run a pipeline first with 'quanta run PIPELINE'");
  const wanted = id ?? ids.at(-1)!;
  if (!ids.includes(wanted)) {
    const recent = ids.slice(-5).reverse().join(", ");
    throw new UsageError(`no run with id "${wanted}" in ${repoRoot}`, `the latest runs are: ${recent} (leave out --run for the latest)`);
  }
  const path = join(runsDir(repoRoot), `${wanted}.json`);
  let parsed: RunRecord;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8")) as RunRecord;
  } catch (err) {
    throw new RepositoryError(`the record of run ${wanted} cannot be read (${path}): ${(err as Error).message}`, "delete the file; the other runs' reports still work");
  }
  if (parsed.format !== 1) {
    throw new RepositoryError(`the record of run ${wanted} has format ${String(parsed.format)}, 1 expected (${path})`, "make its report with the quanta version that ran it, or delete the file");
  }
  return parsed;
}

/** An id for a run starting now that no recorded run has (two runs in one millisecond get `-1`, `-2`…). */
export function allocateRunId(repoRoot: string, base: string): string {
  const taken = new Set(listRunIds(repoRoot));
  let id = base;
  for (let n = 1; taken.has(id); n++) id = `${base}-${n}`;
  return id;
}
