/**
 * `quanta export TYPE… --to DIR`: writes many datasets to a folder at once, each checked against its
 * digest. A TYPE takes every dataset of that type, a TYPE@DATAID one; without `--collection`, the
 * collections holding a dataset must agree on its bytes (as for `quanta get`).
 *
 * Layout: a type without dimensions is `DIR/<type><ext>`, any other `DIR/<type>/<data ID><ext>`, the data
 * ID written as in a sandbox (`file=mean`, every character outside `[A-Za-z0-9._,=+-]` as `_`). The
 * extension is the storage class's (`.json`, `.txt`, `.npy`), or for `file` and `bytes` the one of the
 * file an ingested dataset came from. A dataset of a type written by an `executable` output (a program)
 * is written with mode 0755. Files already there are replaced.
 */
import { mkdirSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import type { DataIdValue } from "../core/data-id.js";
import { encodeDataId, parseDataIdRef, type DataId } from "../core/data-id.js";
import type { BlobDigest } from "../core/digest.js";
import type { DimensionType } from "../core/dimensions.js";
import { didYouMean, UsageError } from "../core/errors.js";
import type { StorageClass } from "../core/storage-class.js";
import type { DatasetTypeRecord, Registry } from "../store/registry.js";
import { openRepository } from "../store/repository.js";
import { writeOutputFile } from "../store/write-output-file.js";
import { readChecked } from "./get-dataset.js";

export interface ExportDatasetsOptions {
  repoRoot: string;
  /** `TYPE` or `TYPE@DATAID`, one or more. */
  datasets: readonly string[];
  /** The folder written to (made if missing). */
  to: string;
  collection?: string;
  out: (text: string) => void;
}

/** One dataset to write: where (relative to the folder), from which blob, and whether it is a program. */
interface ExportItem {
  name: string;
  file: string;
  digest: BlobDigest;
  executable: boolean;
}

export async function exportDatasets(options: ExportDatasetsOptions): Promise<number> {
  const repo = await openRepository(options.repoRoot, { write: false });
  try {
    const items = new Map<string, ExportItem>();
    for (const ref of options.datasets) for (const item of selectDatasets(repo.registry, ref, options)) items.set(item.file, item);
    makeFolder(options.to);
    for (const item of items.values()) {
      const bytes = await readChecked(repo, item.name, item.digest);
      const path = join(options.to, item.file);
      makeFolder(dirname(path));
      writeOutputFile(path, bytes, { executable: item.executable });
    }
    options.out(`exported ${items.size} dataset${items.size === 1 ? "" : "s"} to ${options.to}\n`);
    return 0;
  } finally {
    await repo.close();
  }
}

/** The datasets `ref` names (a whole type, or one data ID of it), each agreed on by its collections. */
function selectDatasets(registry: Registry, ref: string, options: ExportDatasetsOptions): ExportItem[] {
  const at = ref.indexOf("@");
  const typeName = at < 0 ? ref : ref.slice(0, at);
  const type = registry.getDatasetType(typeName);
  if (type === undefined) {
    throw new UsageError(`no dataset type '${typeName}' in ${options.repoRoot}`, didYouMean(typeName, registry.listDatasetTypes().map((t) => t.name)));
  }
  const only = at < 0 ? undefined : parseKey(registry, type, ref);
  const byKey = new Map<string, { dataId: DataId; digest: BlobDigest; collections: string[]; sourcePath?: string }>();
  for (const e of registry.listDatasets({ type: typeName, collection: options.collection })) {
    if (only !== undefined && e.key !== only) continue;
    const seen = byKey.get(e.key);
    if (seen === undefined) byKey.set(e.key, { dataId: e.dataId, digest: e.record.digest, collections: [e.collection], sourcePath: e.record.sourcePath });
    else if (seen.digest === e.record.digest) seen.collections.push(e.collection);
    else throw new UsageError(`${typeName}@${e.key} differs between collections ${[...seen.collections, e.collection].join(", ")}`, "pick one with --collection");
  }
  if (byKey.size === 0) {
    const where = options.collection === undefined ? `any collection of ${options.repoRoot}` : `collection '${options.collection}'`;
    throw new UsageError(`no dataset ${only === undefined ? `of type '${typeName}'` : `${typeName}@${only}`} in ${where}`);
  }
  return [...byKey].map(([key, d]) => ({
    name: `${typeName}@${key}`,
    file: fileOf(type, d.dataId, d.sourcePath),
    digest: d.digest,
    executable: type.executable === true,
  }));
}

/** The canonical data ID of `TYPE@DATAID`, which must name exactly the type's dimensions. */
function parseKey(registry: Registry, type: DatasetTypeRecord, ref: string): string {
  const all = registry.getDimensions();
  const universe: Record<string, DimensionType> = {};
  for (const d of type.dimensions) universe[d] = all[d] ?? "string";
  const parsed = parseDataIdRef(ref, universe);
  if (!parsed.ok) throw new UsageError(`${ref}: ${parsed.message} at column ${parsed.column}`);
  const missing = type.dimensions.filter((d) => !(d in parsed.dataId));
  if (missing.length > 0) throw new UsageError(`${ref}: ${type.name} has dimensions (${type.dimensions.join(", ")}); missing ${missing.join(", ")}`);
  return encodeDataId(parsed.dataId as Record<string, DataIdValue>);
}

const STORAGE_EXTENSIONS: Record<StorageClass, string> = { json: ".json", text: ".txt", ndarray: ".npy", bytes: "", file: "" };

function fileOf(type: DatasetTypeRecord, dataId: DataId, sourcePath: string | undefined): string {
  const own = sourcePath === undefined ? "" : extname(sourcePath);
  const ext = STORAGE_EXTENSIONS[type.storage] || (/^\.[A-Za-z0-9_+-]{1,16}$/.test(own) ? own : "");
  if (type.dimensions.length === 0) return `${type.name}${ext}`;
  return join(type.name, `${encodeDataId(dataId).replace(/[^A-Za-z0-9._,=+-]/g, "_")}${ext}`);
}

function makeFolder(path: string): void {
  try {
    mkdirSync(path, { recursive: true });
  } catch (err) {
    throw new UsageError(`cannot make the folder ${path}: ${(err as Error).message}`, "give --to a folder you can write");
  }
}
