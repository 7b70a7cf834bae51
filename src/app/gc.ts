/**
 * `quanta gc`: delete the blobs that no dataset, relation, action or execution references, and what
 * interrupted runs left in `<repo>/tmp/`: temporary files, and the sandbox directories of a process
 * that was killed. Runs under the writer lock, so no writer of this repository is running and all of
 * it is stale.
 */
import { lstatSync, rmSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { blobDigestSize, type BlobDigest, type QuantumKey } from "../core/digest.js";
import { chooseCachedResults, limitsCache, type CacheCandidate, type GcPolicy } from "../core/gc-policy.js";
import { RepositoryError } from "../core/errors.js";
import { unfinishedSlurmBatches } from "../exec/slurm/submission-journal.js";
import type { ExecutionRecord, Registry } from "../store/registry.js";
import type { Repository } from "../store/repository.js";

export interface GcReport {
  /** With `--dry-run`: what would be deleted; nothing is. */
  dryRun: boolean;
  blobsDeleted: number;
  blobsKept: number;
  /** Temporary files and leftover sandbox directories. */
  tempFilesDeleted: number;
  /** Bytes of deleted blobs and temporary files (not counted for sandbox directories). */
  bytesFreed: number;
  /** Bytes of the blobs kept. */
  bytesKept: number;
  /** Cached results (action cache entries) dropped by `--keep-age`/`--max-size`, and kept. */
  cacheEntriesDeleted: number;
  cacheEntriesKept: number;
  /** Execution records that no kept cached result or quantum record names any more. */
  executionsDeleted: number;
}

export async function collectGarbage(repo: Repository, policy: GcPolicy = {}, options: { dryRun?: boolean; now?: number } = {}): Promise<GcReport> {
  if (!repo.writable) throw new Error("internal error: gc needs the writer lock");
  const dryRun = options.dryRun === true;
  // Jobs of a head that died may still write blobs and temporary files the registry does not know yet.
  const pending = unfinishedSlurmBatches(join(repo.root, "slurm"));
  if (pending > 0) {
    throw new RepositoryError(
      `gc: ${pending} Slurm submission${pending === 1 ? "" : "s"} of an earlier run ${pending === 1 ? "is" : "are"} not ingested yet (${join(repo.root, "slurm", "journal.jsonl")}): their jobs may still write to this repository`,
      "run the same quanta run command again: it re-attaches to those jobs and ingests their results; then run gc",
    );
  }
  const report: GcReport = { dryRun, blobsDeleted: 0, blobsKept: 0, tempFilesDeleted: 0, bytesFreed: 0, bytesKept: 0, cacheEntriesDeleted: 0, cacheEntriesKept: 0, executionsDeleted: 0 };
  let referenced: Set<BlobDigest>;
  if (limitsCache(policy)) {
    const pruned = pruneCache(repo.registry, policy, options.now ?? Date.now());
    report.cacheEntriesDeleted = pruned.actions.length;
    report.cacheEntriesKept = pruned.actionsKept;
    report.executionsDeleted = pruned.executions.length;
    referenced = pruned.referenced;
    // The records first, the blobs after: a crash in between leaves blobs nothing references (the next
    // gc deletes them), never a record naming a blob that is gone.
    if (!dryRun) {
      await repo.registry.commit(() => {
        for (const key of pruned.actions) repo.registry.deleteAction(key);
        for (const key of pruned.strayUses) repo.registry.deleteLastUse(key);
        for (const id of pruned.executions) repo.registry.deleteExecution(id);
      });
    }
  } else {
    referenced = repo.registry.referencedDigests();
    for (const _ of repo.registry.listActions()) report.cacheEntriesKept++;
  }
  const doomed: BlobDigest[] = [];
  for (const digest of repo.blobs.list()) {
    if (referenced.has(digest)) {
      report.blobsKept++;
      report.bytesKept += blobDigestSize(digest);
    } else doomed.push(digest);
  }
  if (dryRun) {
    report.blobsDeleted = doomed.length;
    for (const digest of doomed) report.bytesFreed += blobDigestSize(digest);
  } else {
    // One transaction: blobs kept in the registry are deleted there.
    await repo.registry.commit(() => {
      for (const digest of doomed) {
        if (repo.blobs.delete(digest)) {
          report.blobsDeleted++;
          report.bytesFreed += blobDigestSize(digest);
        }
      }
    });
  }
  for (const path of repo.blobs.listTemp()) {
    const stat = lstatSync(path, { throwIfNoEntry: false });
    if (stat === undefined) continue; // gone meanwhile
    if (dryRun) {
      report.tempFilesDeleted++;
      if (!stat.isDirectory()) report.bytesFreed += stat.size;
      continue;
    }
    try {
      // A sandbox pool: its files are mostly links to blobs, and a link a command made is removed,
      // never followed.
      if (stat.isDirectory()) rmSync(path, { recursive: true, force: true });
      else {
        unlinkSync(path);
        report.bytesFreed += stat.size;
      }
      report.tempFilesDeleted++;
    } catch {
      // gone meanwhile, or not ours to remove (a directory a command made read-only): left alone
    }
  }
  return report;
}

interface PrunedCache {
  /** Cached results to drop, execution records to drop, times of keys that have no cached result. */
  actions: QuantumKey[];
  actionsKept: number;
  executions: string[];
  strayUses: QuantumKey[];
  /** The blobs what stays references. */
  referenced: Set<BlobDigest>;
}

/**
 * What stays under `policy`: every dataset and relation of every collection, the cached result and
 * execution each quantum record names, and the other cached results the policy keeps
 * (core/gc-policy.ts), with their executions. Execution records of dropped results go too: they only
 * described them (run reports show no log for them any more).
 */
function pruneCache(registry: Registry, policy: GcPolicy, now: number): PrunedCache {
  const kept = new Map<string, number>();
  const keep = (digest: BlobDigest) => kept.set(digest, blobDigestSize(digest));
  for (const e of registry.listDatasets()) keep(e.record.digest);
  for (const r of registry.listRelations()) keep(r.digest);
  const currentKeys = new Set<QuantumKey>();
  const keptExecutions = new Set<string>();
  for (const { record } of registry.listAllQuanta()) {
    currentKeys.add(record.key);
    keptExecutions.add(record.executionId);
  }
  const executionOf = new Map<string, ExecutionRecord>();
  for (const exec of registry.listExecutions()) executionOf.set(exec.id, exec);
  const blobsOfExecution = (id: string) => {
    const exec = executionOf.get(id);
    return exec === undefined ? [] : [...exec.inputs.map((i) => i.digest), ...exec.outputs.map((o) => o.digest)];
  };
  const uses = registry.lastUses();
  const candidates: CacheCandidate<QuantumKey>[] = [];
  const allKeys = new Set<QuantumKey>();
  for (const action of registry.listActions()) {
    allKeys.add(action.key);
    const digests = [...Object.values(action.outputs).map((o) => o.digest), ...blobsOfExecution(action.executionId)];
    if (currentKeys.has(action.key)) {
      keptExecutions.add(action.executionId);
      digests.forEach(keep);
      continue;
    }
    const lastUsed = uses.get(action.key) ?? executionOf.get(action.executionId)?.finishedAt ?? 0;
    candidates.push({ key: action.key, lastUsed, blobs: digests.map((digest) => ({ digest, size: blobDigestSize(digest) })) });
  }
  // Executions of the current results, before the candidates are weighed against what is kept.
  for (const id of keptExecutions) blobsOfExecution(id).forEach(keep);
  const chosen = new Set(chooseCachedResults(candidates, policy, kept, now));
  const actions: QuantumKey[] = [];
  for (const action of registry.listActions()) {
    if (currentKeys.has(action.key)) continue;
    if (chosen.has(action.key)) keptExecutions.add(action.executionId);
    else actions.push(action.key);
  }
  const executions = [...executionOf.keys()].filter((id) => !keptExecutions.has(id));
  const strayUses = [...uses.keys()].filter((key) => !allKeys.has(key));
  return { actions, actionsKept: allKeys.size - actions.length, executions, strayUses, referenced: new Set(kept.keys() as Iterable<BlobDigest>) };
}

/** `quanta gc`: takes the writer lock, collects, prints what was freed. */
export async function runGc(options: { repoRoot: string; json: boolean; keepAge?: string; maxSize?: string; dryRun?: boolean; out: (text: string) => void }): Promise<number> {
  const { parseGcPolicy } = await import("../core/gc-policy.js");
  // Bad flags before the repository is opened (exit 2).
  const policy = parseGcPolicy({ keepAge: options.keepAge, maxSize: options.maxSize });
  const { openRepository } = await import("../store/repository.js");
  const repo = await openRepository(options.repoRoot, { write: true, create: false, command: "quanta gc" });
  let report: GcReport;
  try {
    report = await collectGarbage(repo, policy, { dryRun: options.dryRun });
  } finally {
    await repo.close();
  }
  if (options.json) {
    const { printJsonEvents } = await import("../ui/json-reporter.js");
    printJsonEvents(options.out, [{ event: "gc-finished", ...report }]);
  } else options.out(describeReport(report, limitsCache(policy)));
  return 0;
}

function describeReport(r: GcReport, policy: boolean): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (!policy && !r.dryRun) {
    return `deleted ${plural(r.blobsDeleted, "unreferenced blob")} and ${plural(r.tempFilesDeleted, "temporary file")}, freed ${r.bytesFreed} bytes; kept ${r.blobsKept} blobs\n`;
  }
  const verb = r.dryRun ? "would delete" : "deleted";
  const cache = policy ? `, ${plural(r.cacheEntriesDeleted, "cached result")} and ${plural(r.executionsDeleted, "execution record")}` : "";
  return (
    `${verb} ${plural(r.blobsDeleted, "blob")}${cache} and ${plural(r.tempFilesDeleted, "temporary file")}, ` +
    `${r.dryRun ? "freeing" : "freed"} ${r.bytesFreed} bytes; kept ${plural(r.blobsKept, "blob")} (${r.bytesKept} bytes) and ${plural(r.cacheEntriesKept, "cached result")}\n`
  );
}
