/**
 * `quanta verify`: re-hash every blob and check every reference.
 * A blob is corrupt when its bytes no longer hash to its name; missing when the registry references it
 * and it is not there. Each problem names the datasets that point at the blob.
 *
 * Verify reads while a run may write: it takes its snapshot of the registry's references first, and
 * lists the blobs only then. A run writes each blob before the commit that references it, so every blob
 * the snapshot references is listed; a blob committed after the snapshot is checked but not expected.
 *
 * `--repair` takes the writer lock, drops the cached results computed from each corrupt blob
 * (drop-cached-results.ts) and then sets the blob aside in `<repo>/quarantine/` (quarantine-blobs.ts):
 * the next run recomputes what was lost.
 */
import type { BlobDigest } from "../core/digest.js";
import { encodeDataId } from "../core/data-id.js";
import { quarantineBlobs, type QuarantineReport } from "../store/quarantine-blobs.js";
import type { Repository } from "../store/repository.js";
import type { EventBody } from "../core/events.js";
import { printJsonEvents } from "../ui/json-reporter.js";

export interface VerifyProblem {
  digest: BlobDigest;
  status: "missing" | "corrupt";
  /** The blob's path, or `registry` for a blob kept in the registry (4 KiB or less). */
  path: string;
  /** `collection/type@dataId` of every dataset whose bytes are this blob, `relation NAME` of every relation read from it. */
  referencedBy: string[];
}

export interface VerifyReport {
  blobsChecked: number;
  bytesChecked: number;
  problems: VerifyProblem[];
}

export async function verifyRepository(repo: Repository, options: { concurrency?: number } = {}): Promise<VerifyReport> {
  // The snapshot first, the listing after (see the module comment).
  const referenced = repo.registry.referencedDigests();
  const present = repo.blobs.list();
  const bad = new Map<BlobDigest, "missing" | "corrupt">();
  const before = repo.hasher.stats.bytes;
  let next = 0;
  const worker = async () => {
    while (next < present.length) {
      const digest = present[next++]!;
      const status = await repo.blobs.check(digest);
      // A listed blob gone since (collected, or set aside by a run) matters only if it is referenced.
      if (status === "corrupt" || (status === "missing" && referenced.has(digest))) bad.set(digest, status);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 8, present.length) }, worker));
  const onDisk = new Set(present);
  for (const digest of referenced) {
    if (!onDisk.has(digest)) bad.set(digest, "missing");
  }
  forgiveDroppedTemp(repo, bad);
  const referencedBy = new Map<BlobDigest, string[]>();
  if (bad.size > 0) {
    for (const e of repo.registry.listDatasets()) {
      if (!bad.has(e.record.digest)) continue;
      const list = referencedBy.get(e.record.digest) ?? [];
      list.push(`${e.collection}/${e.type}@${encodeDataId(e.dataId)}`);
      referencedBy.set(e.record.digest, list);
    }
    for (const r of repo.registry.listRelations()) {
      if (bad.has(r.digest)) referencedBy.set(r.digest, [...(referencedBy.get(r.digest) ?? []), `relation ${r.name}`]);
    }
  }
  const problems = [...bad]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([digest, status]) => ({
      digest,
      status,
      path: repo.blobs.inRegistry(digest) ? "registry" : repo.blobs.pathOf(digest),
      referencedBy: referencedBy.get(digest) ?? [],
    }));
  return { blobsChecked: present.length, bytesChecked: repo.hasher.stats.bytes - before, problems };
}

export type RepairReport = QuarantineReport;

/**
 * Drops the cached results computed from the corrupt blobs of `report`, then sets the blobs aside
 * (quarantine-blobs.ts: in that order, so that a crash between the two leaves nothing cached on a
 * blob that is gone). Missing blobs need nothing: their producers rerun (an output is missing) and
 * ingest copies a raw or relation file in again when its blob is gone.
 */
export async function repairRepository(repo: Repository, report: VerifyReport): Promise<RepairReport> {
  const corrupt = new Set(report.problems.filter((p) => p.status === "corrupt").map((p) => p.digest));
  return quarantineBlobs(repo, corrupt);
}

/** `quanta verify [--repair]`: prints each problem and a summary; exit 3 when anything is missing or corrupt (and not repaired). */
export async function runVerify(options: {
  repoRoot: string;
  json: boolean;
  repair?: boolean;
  out: (text: string) => void;
  err: (text: string) => void;
}): Promise<number> {
  const { openRepository } = await import("../store/repository.js");
  const repair = options.repair === true;
  const repo = await openRepository(options.repoRoot, repair ? { write: true, create: false, command: "quanta verify --repair", onNote: (n) => options.err(n + "\n") } : { write: false });
  let report: VerifyReport;
  let repaired: RepairReport | undefined;
  try {
    report = await verifyRepository(repo);
    if (repair) repaired = await repairRepository(repo, report);
  } finally {
    await repo.close();
  }
  printReport(options, report);
  if (repaired !== undefined) {
    printRepair(options, repaired);
    return 0;
  }
  if (report.problems.length === 0) return 0;
  if (!options.json) {
    options.err(`error: repository ${options.repoRoot} has ${report.problems.length} missing or corrupt blob${report.problems.length === 1 ? "" : "s"}\n`);
    options.err("hint: run 'quanta verify --repair' to set corrupt blobs aside and drop the results computed from them, then run the pipeline again: producers rerun and ingest copies raw files in again\n");
  }
  return 3;
}

function printReport(options: { json: boolean; out: (text: string) => void; err: (text: string) => void }, report: VerifyReport): void {
  const missing = report.problems.filter((p) => p.status === "missing").length;
  const corrupt = report.problems.length - missing;
  if (options.json) {
    const problems = report.problems.map((p): EventBody => ({ event: "blob-problem", ...p }));
    printJsonEvents(options.out, [...problems, { event: "verify-finished", blobs: report.blobsChecked, bytes: report.bytesChecked, missing, corrupt }]);
    return;
  }
  for (const p of report.problems) {
    options.err(`${p.status}: blob ${p.digest} (${p.path}), ${describeReferences(p)}\n`);
  }
  options.out(`verified ${report.blobsChecked} blobs (${report.bytesChecked} bytes): ${missing} missing, ${corrupt} corrupt\n`);
}

/** What points at a problem blob. A missing one is always referenced: if by no dataset or relation, by cached results or provenance. */
function describeReferences(p: VerifyProblem): string {
  if (p.referencedBy.length > 0) return `referenced by ${p.referencedBy.join(", ")}`;
  return p.status === "missing" ? "referenced by no dataset or relation, only by cached results or the provenance of past runs" : "not referenced by any dataset or relation";
}

function printRepair(options: { json: boolean; repoRoot: string; out: (text: string) => void }, r: RepairReport): void {
  if (options.json) {
    printJsonEvents(options.out, [{ event: "verify-repaired", quarantined: r.quarantined, actionsDropped: r.actions, quantaDropped: r.quanta }]);
    return;
  }
  options.out(
    `repaired: ${r.quarantined} corrupt blob${r.quarantined === 1 ? "" : "s"} set aside in ${options.repoRoot}/quarantine/, ` +
      `${r.actions} cached result${r.actions === 1 ? "" : "s"} computed from them dropped; run the pipeline again to recompute what is missing\n`,
  );
}

/**
 * Takes out of `bad` the missing blobs that only temp outputs reference: dropped on purpose once their
 * readers had run (drop-temp-outputs.ts), and computed again when needed. Reads every record, only
 * when a blob is missing and the repository has temp outputs.
 */
function forgiveDroppedTemp(repo: Repository, bad: Map<BlobDigest, "missing" | "corrupt">): void {
  if (![...bad.values()].includes("missing")) return;
  const registry = repo.registry;
  const temp = new Set(registry.listDatasetTypes().filter((t) => t.temp === true).map((t) => t.name));
  if (temp.size === 0) return;
  const needed = new Set<BlobDigest>();
  for (const e of registry.listDatasets()) if (!temp.has(e.type)) needed.add(e.record.digest);
  for (const r of registry.listRelations()) needed.add(r.digest);
  for (const a of registry.listActions()) for (const o of Object.values(a.outputs)) if (!temp.has(o.type)) needed.add(o.digest);
  for (const x of registry.listExecutions()) {
    for (const i of x.inputs) if (!temp.has(i.type)) needed.add(i.digest);
    for (const o of x.outputs) if (!temp.has(o.type)) needed.add(o.digest);
  }
  for (const [digest, status] of bad) if (status === "missing" && !needed.has(digest)) bad.delete(digest);
}
