/**
 * `quanta verify`: re-hash every blob and check every reference.
 * A blob is corrupt when its bytes no longer hash to its name; missing when the registry references it
 * and it is not there. Each problem names the datasets that point at the blob.
 */
import type { BlobDigest } from "../core/digest.js";
import { encodeDataId } from "../core/data-id.js";
import type { Repository } from "../store/repository.js";

export interface VerifyProblem {
  digest: BlobDigest;
  status: "missing" | "corrupt";
  /** The blob's path, or `registry` for a blob kept in the registry (4 KiB or less). */
  path: string;
  /** `collection/type@dataId` of every dataset whose bytes are this blob. */
  referencedBy: string[];
}

export interface VerifyReport {
  blobsChecked: number;
  bytesChecked: number;
  problems: VerifyProblem[];
}

export async function verifyRepository(repo: Repository, options: { concurrency?: number } = {}): Promise<VerifyReport> {
  const present = repo.blobs.list();
  const bad = new Map<BlobDigest, "missing" | "corrupt">();
  const before = repo.hasher.stats.bytes;
  let next = 0;
  const worker = async () => {
    while (next < present.length) {
      const digest = present[next++]!;
      const status = await repo.blobs.check(digest);
      if (status !== "ok") bad.set(digest, status);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 8, present.length) }, worker));
  const onDisk = new Set(present);
  for (const digest of repo.registry.referencedDigests()) {
    if (!onDisk.has(digest)) bad.set(digest, "missing");
  }
  const referencedBy = new Map<BlobDigest, string[]>();
  if (bad.size > 0) {
    for (const e of repo.registry.listDatasets()) {
      if (!bad.has(e.record.digest)) continue;
      const list = referencedBy.get(e.record.digest) ?? [];
      list.push(`${e.collection}/${e.type}@${encodeDataId(e.dataId)}`);
      referencedBy.set(e.record.digest, list);
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

/** `quanta verify`: prints each problem and a summary; exit 3 when anything is missing or corrupt. */
export async function runVerify(options: {
  repoRoot: string;
  json: boolean;
  out: (text: string) => void;
  err: (text: string) => void;
}): Promise<number> {
  const { openRepository } = await import("../store/repository.js");
  const repo = await openRepository(options.repoRoot, { write: false });
  let report: VerifyReport;
  try {
    report = await verifyRepository(repo);
  } finally {
    await repo.close();
  }
  const missing = report.problems.filter((p) => p.status === "missing").length;
  const corrupt = report.problems.length - missing;
  if (options.json) {
    for (const p of report.problems) options.out(JSON.stringify({ event: "blob-problem", ...p }) + "\n");
    options.out(JSON.stringify({ event: "verify-finished", blobs: report.blobsChecked, bytes: report.bytesChecked, missing, corrupt }) + "\n");
  } else {
    for (const p of report.problems) {
      const refs = p.referencedBy.length === 0 ? "not referenced by any dataset" : `referenced by ${p.referencedBy.join(", ")}`;
      options.err(`${p.status}: blob ${p.digest} (${p.path}), ${refs}\n`);
    }
    options.out(`verified ${report.blobsChecked} blobs (${report.bytesChecked} bytes): ${missing} missing, ${corrupt} corrupt\n`);
  }
  if (report.problems.length === 0) return 0;
  if (!options.json) {
    options.err(`error: repository ${options.repoRoot} has ${report.problems.length} missing or corrupt blob${report.problems.length === 1 ? "" : "s"}\n`);
    options.err("hint: re-ingest the inputs ('quanta ingest PIPELINE') and rerun the pipeline to rewrite them\n");
  }
  return 3;
}
