/**
 * The repository as the quantum resolver sees it (core/repository-view.ts): its registry's quantum
 * records, action cache, executions and datasets, and whether a blob is present, read-only.
 */
import type { RepositoryView } from "../core/repository-view.js";
import type { Repository } from "./repository.js";

export function viewOf(repo: Repository): RepositoryView {
  const { registry, blobs } = repo;
  return {
    hasher: repo.hasher,
    quantumRecords: (collection, task) => registry.listQuanta(collection, task),
    action: (key) => registry.getAction(key),
    execution: (id) => registry.getExecution(id),
    *datasetDigests(collection, type) {
      for (const e of registry.listDatasets({ collection, type })) yield { key: e.key, digest: e.record.digest };
    },
    blobExists: (digest) => blobs.exists(digest),
    quantumRecord: (collection, task, dataId) => registry.getQuantum(collection, task, dataId),
    datasetDigest: (collection, type, key) => registry.getDataset(collection, type, key)?.digest,
  };
}
