/**
 * `quanta gc`: delete the blobs that no dataset, relation, action or execution references, and what
 * interrupted runs left in `<repo>/tmp/`: temporary files, and the sandbox directories of a process
 * that was killed. Runs under the writer lock, so no writer of this repository is running and all of
 * it is stale.
 */
import { lstatSync, rmSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { blobDigestSize } from "../core/digest.js";
import { RepositoryError } from "../core/errors.js";
import { unfinishedSlurmBatches } from "../exec/slurm/submission-journal.js";
import type { Repository } from "../store/repository.js";

export interface GcReport {
  blobsDeleted: number;
  blobsKept: number;
  /** Temporary files and leftover sandbox directories. */
  tempFilesDeleted: number;
  /** Bytes of deleted blobs and temporary files (not counted for sandbox directories). */
  bytesFreed: number;
}

export async function collectGarbage(repo: Repository): Promise<GcReport> {
  if (!repo.writable) throw new Error("internal error: gc needs the writer lock");
  // Jobs of a head that died may still write blobs and temporary files the registry does not know yet.
  const pending = unfinishedSlurmBatches(join(repo.root, "slurm"));
  if (pending > 0) {
    throw new RepositoryError(
      `gc: ${pending} Slurm submission${pending === 1 ? "" : "s"} of an earlier run ${pending === 1 ? "is" : "are"} not ingested yet (${join(repo.root, "slurm", "journal.jsonl")}): their jobs may still write to this repository`,
      "run the same quanta run command again: it re-attaches to those jobs and ingests their results; then run gc",
    );
  }
  const referenced = repo.registry.referencedDigests();
  const report: GcReport = { blobsDeleted: 0, blobsKept: 0, tempFilesDeleted: 0, bytesFreed: 0 };
  // One transaction: blobs kept in the registry are deleted there.
  await repo.registry.commit(() => {
    for (const digest of repo.blobs.list()) {
      if (referenced.has(digest)) {
        report.blobsKept++;
        continue;
      }
      if (repo.blobs.delete(digest)) {
        report.blobsDeleted++;
        report.bytesFreed += blobDigestSize(digest);
      }
    }
  });
  for (const path of repo.blobs.listTemp()) {
    const stat = lstatSync(path, { throwIfNoEntry: false });
    if (stat === undefined) continue; // gone meanwhile
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

/** `quanta gc`: takes the writer lock, collects, prints what was freed. */
export async function runGc(options: { repoRoot: string; json: boolean; out: (text: string) => void }): Promise<number> {
  const { openRepository } = await import("../store/repository.js");
  const repo = await openRepository(options.repoRoot, { write: true, create: false, command: "quanta gc" });
  let report: GcReport;
  try {
    report = await collectGarbage(repo);
  } finally {
    await repo.close();
  }
  if (options.json) {
    const { printJsonEvents } = await import("../ui/json-reporter.js");
    printJsonEvents(options.out, [{ event: "gc-finished", ...report }]);
  }
  else {
    options.out(
      `deleted ${report.blobsDeleted} unreferenced blob${report.blobsDeleted === 1 ? "" : "s"} and ` +
        `${report.tempFilesDeleted} temporary file${report.tempFilesDeleted === 1 ? "" : "s"}, ` +
        `freed ${report.bytesFreed} bytes; kept ${report.blobsKept} blobs\n`,
    );
  }
  return 0;
}
