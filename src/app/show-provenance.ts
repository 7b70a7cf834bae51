/**
 * `quanta provenance DATASET`: the lineage of a dataset as a tree. Each produced dataset shows the
 * quantum that made it (task, data ID, quantum key, code digest, config, when and where it ran) and,
 * below it, its inputs, recursively; ingested inputs show the file they came from. A subtree already
 * printed is not repeated.
 */
import { basename, extname } from "node:path";
import { UsageError } from "../core/errors.js";
import { inputCollectionOf, LEGACY_INPUT_COLLECTION } from "../core/input-collection.js";
import type { DatasetRecord, Registry } from "../store/registry.js";
import { openRepository } from "../store/repository.js";
import { readLastRun } from "./last-run.js";
import { parseQuantumRef } from "./parse-quantum-ref.js";

interface Node {
  dataset: string;
  digest: string;
  source?: string;
  quantum?: { task: string; dataId: string; key: string; codeDigest: string; config: unknown; host?: string; startedAt?: number; durationMs?: number };
  inputs?: Node[];
  seen?: boolean;
}

export async function showProvenance(opts: { repoRoot: string; dataset: string; collection?: string; json: boolean; out: (text: string) => void }): Promise<number> {
  const repo = await openRepository(opts.repoRoot, { write: false });
  try {
    const last = readLastRun(opts.repoRoot);
    if (!last) throw new UsageError(`no run recorded in ${opts.repoRoot}`, "run a pipeline first with 'quanta run PIPELINE'");
    const collection = opts.collection ?? last.collection;
    const ref = parseQuantumRef(opts.dataset, last.dimensions, "dataset");
    // Ingested inputs: the last pipeline's input collection, then the shared `raw` of older repositories.
    const collections = [collection, inputCollectionOf(basename(last.pipeline, extname(last.pipeline))), LEGACY_INPUT_COLLECTION];
    const find: FindDataset = (type, key) => {
      for (const c of collections) {
        const rec = repo.registry.getDataset(c, type, key);
        if (rec !== undefined) return rec;
      }
      return undefined;
    };
    const rec = find(ref.name, ref.key);
    if (!rec) throw new UsageError(`dataset ${ref.name}@${ref.key} is not in collection ${collection}`, "list datasets with 'quanta datasets'");
    const tree = trace(repo.registry, find, ref.name, ref.key, new Set());
    opts.out(opts.json ? JSON.stringify(tree) + "\n" : renderTree(tree));
    return 0;
  } finally {
    await repo.close();
  }
}

/** A dataset's record in the output collection or an input collection. */
type FindDataset = (type: string, key: string) => DatasetRecord | undefined;

function trace(registry: Registry, find: FindDataset, type: string, key: string, seen: Set<string>): Node {
  const name = key === "" ? type : `${type}@${key}`;
  const rec = find(type, key);
  if (!rec) return { dataset: name, digest: "(missing)" };
  const node: Node = { dataset: name, digest: rec.digest };
  if (rec.producer === null) {
    node.source = rec.sourcePath ?? "(ingested)";
    return node;
  }
  if (seen.has(name)) return { ...node, seen: true };
  seen.add(name);
  const action = registry.getAction(rec.producer);
  if (!action) return node;
  const exec = registry.getExecution(action.executionId);
  const m = action.manifest;
  node.quantum = {
    task: m.task,
    dataId: key,
    key: rec.producer,
    codeDigest: m.codeDigest,
    config: JSON.parse(m.config),
    host: exec?.host,
    startedAt: exec?.startedAt,
    durationMs: exec?.durationMs,
  };
  node.inputs = m.inputs.map((i) => trace(registry, find, i.type, i.dataId, seen));
  return node;
}

function renderTree(root: Node): string {
  const lines: string[] = [];
  const walk = (node: Node, prefix: string, last: boolean, top: boolean) => {
    const branch = top ? "" : last ? "└─ " : "├─ ";
    const more = top ? "" : last ? "   " : "│  ";
    let head = `${node.dataset}  ${node.digest}`;
    if (node.source) head += `  from ${node.source}`;
    if (node.seen) head += "  (lineage shown above)";
    lines.push(prefix + branch + head);
    const q = node.quantum;
    if (q && !node.seen) {
      const when = q.startedAt ? ` on ${q.host} at ${new Date(q.startedAt).toISOString()} (${q.durationMs} ms)` : " (reused from the action cache)";
      lines.push(`${prefix}${more}  made by ${q.task}${q.dataId ? "@" + q.dataId : ""}  key ${q.key}  code ${q.codeDigest}${when}`);
      lines.push(`${prefix}${more}  config ${JSON.stringify(q.config)}`);
    }
    const kids = node.inputs ?? [];
    kids.forEach((k, i) => walk(k, prefix + more, i === kids.length - 1, false));
  };
  walk(root, "", true, true);
  return lines.join("\n") + "\n";
}
