/**
 * `quanta get TYPE@DATAID`: write one dataset's bytes to a file or stdout.
 *
 * The data ID is parsed against the dimensions the repository recorded and must name exactly the
 * dataset type's dimensions. Without `--collection`, every collection is searched: the dataset is
 * taken when all collections holding it agree on its bytes (typically it exists only in `raw`, or only
 * in one run's output); otherwise the user is asked to pick one. The bytes are checked against their
 * digest before they are written out.
 */
import type { DataIdValue } from "../core/data-id.js";
import { encodeDataId, parseDataIdRef } from "../core/data-id.js";
import type { DimensionType } from "../core/dimensions.js";
import { didYouMean, RepositoryError, UsageError } from "../core/errors.js";
import type { DatasetRecord } from "../store/registry.js";
import { openRepository, type Repository } from "../store/repository.js";
import { writeOutputFile } from "../store/write-output-file.js";
import { blobDigestSize, type BlobDigest } from "../core/digest.js";

export interface GetDatasetOptions {
  repoRoot: string;
  /** `TYPE@DATAID`, e.g. `raw@visit=1,detector=2,band=r`. */
  dataset: string;
  collection?: string;
  /** Output file; stdout when absent. */
  outputFile?: string;
  writeStdout: (bytes: Uint8Array) => void;
}

export async function getDataset(options: GetDatasetOptions): Promise<number> {
  const typeName = options.dataset.split("@", 1)[0]!;
  const repo = await openRepository(options.repoRoot, { write: false });
  try {
    const registry = repo.registry;
    const type = registry.getDatasetType(typeName);
    if (type === undefined) {
      const known = registry.listDatasetTypes().map((t) => t.name);
      throw new UsageError(`no dataset type '${typeName}' in ${options.repoRoot}`, didYouMean(typeName, known));
    }
    const all = registry.getDimensions();
    const universe: Record<string, DimensionType> = {};
    for (const d of type.dimensions) universe[d] = all[d] ?? "string";
    const parsed = parseDataIdRef(options.dataset, universe);
    if (!parsed.ok) throw new UsageError(`${options.dataset}: ${parsed.message} at column ${parsed.column}`);
    const missing = type.dimensions.filter((d) => !(d in parsed.dataId));
    if (missing.length > 0) {
      throw new UsageError(
        `${options.dataset}: ${typeName} has dimensions (${type.dimensions.join(", ")}); missing ${missing.join(", ")}`,
      );
    }
    const key = encodeDataId(parsed.dataId as Record<string, DataIdValue>);
    const { collection, record } = findDataset(options, registry.listCollections(), (c) => registry.getDataset(c, typeName, key), `${typeName}@${key}`);
    const bytes = await readChecked(repo, `${collection}/${typeName}@${key}`, record.digest, type.temp === true ? `${typeName}@${key}` : undefined);
    if (options.outputFile !== undefined) writeOutputFile(options.outputFile, bytes);
    else options.writeStdout(bytes);
    return 0;
  } finally {
    await repo.close();
  }
}

/**
 * The blob's bytes, checked against its digest (they are read whole anyway: the hash costs far less
 * than the read). Bad bytes are never written out: a corrupt or missing blob is a RepositoryError
 * naming the dataset. A reader does not repair (it holds no lock): the hint says what does. `temp`: the
 * dataset (`TYPE@DATAID`) is a temp output, whose missing blob was dropped on purpose
 * (drop-temp-outputs.ts): the hint says how to have it computed again.
 */
export async function readChecked(repo: Repository, name: string, digest: BlobDigest, temp?: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await repo.blobs.read(digest);
  } catch {
    if (temp !== undefined) {
      throw new RepositoryError(
        `${name} is a temp output: its bytes (blob ${digest}) were dropped once the quanta reading it had run`,
        `ask for it, and its producer runs again: quanta run PIPELINE ${temp} (the pipeline file that produced it)`,
      );
    }
    throw new RepositoryError(
      `the bytes of ${name} (blob ${digest}) are missing from ${repo.root}`,
      "run 'quanta verify --repair', then run the pipeline again: its producer reruns, or ingest copies its raw file in again",
    );
  }
  if (repo.blobs.isIntact(digest, bytes)) return bytes;
  const where = repo.blobs.inRegistry(digest) ? "kept in the registry" : repo.blobs.pathOf(digest);
  const what = bytes.length === blobDigestSize(digest) ? "other bytes of the same size" : `${bytes.length} bytes, not ${blobDigestSize(digest)}`;
  throw new RepositoryError(
    `the bytes of ${name} are corrupt: blob ${digest} (${where}) holds ${what}`,
    "run 'quanta verify --repair' to set it aside and drop the results computed from it, then run the pipeline again: its producer reruns, or ingest copies its raw file in again",
  );
}

function findDataset(
  options: GetDatasetOptions,
  collections: readonly string[],
  lookup: (collection: string) => DatasetRecord | undefined,
  name: string,
): { collection: string; record: DatasetRecord } {
  if (options.collection !== undefined) {
    const record = lookup(options.collection);
    if (record === undefined) {
      throw new UsageError(`no dataset ${name} in collection '${options.collection}'`, didYouMean(options.collection, collections));
    }
    return { collection: options.collection, record };
  }
  const found = collections.flatMap((c) => {
    const record = lookup(c);
    return record === undefined ? [] : [{ collection: c, record }];
  });
  if (found.length === 0) throw new UsageError(`no dataset ${name} in any collection of ${options.repoRoot}`);
  if (found.some((f) => f.record.digest !== found[0]!.record.digest)) {
    throw new UsageError(
      `${name} differs between collections ${found.map((f) => f.collection).join(", ")}`,
      "pick one with --collection",
    );
  }
  return found[0]!;
}
