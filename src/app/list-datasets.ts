/**
 * `quanta datasets`: the datasets of a repository, filtered by type, collection and `--where`, in
 * (collection, type, data ID key) order.
 */
import { encodeDataId } from "../core/data-id.js";
import { didYouMean, UsageError } from "../core/errors.js";
import { compileWhere, parseWhere, toUsageError } from "../core/query/query.js";
import { openRepository } from "../store/repository.js";
import type { EventBody } from "../core/events.js";
import { printJsonEvents } from "../ui/json-reporter.js";

export interface ListDatasetsOptions {
  repoRoot: string;
  type?: string;
  collection?: string;
  where?: string;
  bind?: Record<string, string>;
  json: boolean;
  out: (text: string) => void;
}

export interface DatasetLine {
  type: string;
  dataId: Record<string, number | string>;
  digest: string;
  size: number;
  collection: string;
}

/** Prints the datasets; returns the exit code. */
export async function listDatasets(options: ListDatasetsOptions): Promise<number> {
  const repo = await openRepository(options.repoRoot, { write: false });
  try {
    const registry = repo.registry;
    if (options.type !== undefined && registry.getDatasetType(options.type) === undefined) {
      const known = registry.listDatasetTypes().map((t) => t.name);
      throw new UsageError(
        `no dataset type '${options.type}' in ${options.repoRoot}`,
        didYouMean(options.type, known) ?? `known types: ${known.join(", ") || "none"}`,
      );
    }
    let keep: (dataId: Record<string, number | string>) => boolean = () => true;
    if (options.where !== undefined && options.where.trim() !== "") {
      const parsed = parseWhere(options.where, registry.getDimensions(), options.bind ?? {});
      if (!parsed.ok) throw toUsageError(options.where, parsed.error);
      keep = compileWhere(parsed.expr);
    }
    const lines: DatasetLine[] = [];
    for (const e of registry.listDatasets({ collection: options.collection, type: options.type })) {
      if (!keep(e.dataId)) continue;
      lines.push({ type: e.type, dataId: { ...e.dataId }, digest: e.record.digest, size: e.record.size, collection: e.collection });
    }
    if (options.json) {
      printJsonEvents(options.out, lines.map((line): EventBody => ({ event: "dataset", ...line })));
    } else {
      options.out(formatTable(lines));
    }
    return 0;
  } finally {
    await repo.close();
  }
}

function formatTable(lines: readonly DatasetLine[]): string {
  if (lines.length === 0) return "no datasets\n";
  const rows = [["COLLECTION", "DATASET", "SIZE", "DIGEST"]];
  for (const l of lines) rows.push([l.collection, `${l.type}@${encodeDataId(l.dataId)}`, String(l.size), l.digest]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const body = rows.map((r) => r.map((c, i) => (i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd());
  return body.join("\n") + `\n${lines.length} dataset${lines.length === 1 ? "" : "s"}\n`;
}
