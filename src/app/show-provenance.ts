/**
 * `quanta provenance DATASET`: the lineage of a dataset as a tree. Each produced dataset shows the
 * quantum that made it (task, data ID, quantum key, code digest, config, when and where it ran) and,
 * below it, its inputs, recursively; ingested inputs show the file they came from. A subtree already
 * printed is not repeated.
 *
 * The inputs shown are those the quantum read: the (type, data ID, digest) of its key manifest, not
 * whatever the collection holds under that name now. When a dataset was replaced since (an upstream
 * quantum reran, an input file changed), the version read is shown with its digest and, if the action
 * cache still knows the quantum that produced that digest, that quantum's lineage; the node says what
 * the collection holds now.
 */
import { basename, extname } from "node:path";
import { UsageError } from "../core/errors.js";
import { inputCollectionOf, LEGACY_INPUT_COLLECTION } from "../core/input-collection.js";
import type { ActionRecord, DatasetRecord, Registry } from "../store/registry.js";
import { openRepository } from "../store/repository.js";
import type { LineageNode } from "../core/events.js";
import { printJsonEvents } from "../ui/json-reporter.js";
import { dimensionsOf, readCollectionRun, readLastRun } from "./last-run.js";
import { parseQuantumRef } from "./parse-quantum-ref.js";

type Node = LineageNode;

export async function showProvenance(opts: { repoRoot: string; dataset: string; collection?: string; json: boolean; out: (text: string) => void }): Promise<number> {
  const repo = await openRepository(opts.repoRoot, { write: false });
  try {
    const last = readLastRun(opts.repoRoot);
    if (!last) throw new UsageError(`no run recorded in ${opts.repoRoot}`, "run a pipeline first with 'quanta run PIPELINE'");
    const collection = opts.collection ?? last.collection;
    const run = readCollectionRun(opts.repoRoot, collection);
    const ref = parseQuantumRef(opts.dataset, dimensionsOf(repo.registry, run), "dataset");
    // Ingested inputs: the input collection of the pipeline that wrote the collection (of the latest
    // run when not recorded), then the shared `raw` of older repositories.
    const pipeline = (run ?? last).pipeline;
    const collections = [collection, inputCollectionOf(basename(pipeline, extname(pipeline))), LEGACY_INPUT_COLLECTION];
    const find: FindDataset = (type, key) => {
      for (const c of collections) {
        const rec = repo.registry.getDataset(c, type, key);
        if (rec !== undefined) return rec;
      }
      return undefined;
    };
    const rec = find(ref.name, ref.key);
    if (!rec) throw new UsageError(`dataset ${ref.name}@${ref.key} is not in collection ${collection}`, "list datasets with 'quanta datasets'");
    const tree = new LineageTracer(repo.registry, find).trace(ref.name, ref.key, undefined);
    if (opts.json) printJsonEvents(opts.out, [{ event: "provenance", ...tree }]);
    else opts.out(renderTree(tree));
    return 0;
  } finally {
    await repo.close();
  }
}

/** A dataset's record in the output collection or an input collection. */
type FindDataset = (type: string, key: string) => DatasetRecord | undefined;

class LineageTracer {
  private readonly seen = new Set<string>();
  /** `type \0 digest` → the actions that produced it; built on the first dataset replaced since. */
  private producers: Map<string, ActionRecord[]> | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly find: FindDataset,
  ) {}

  /** The lineage of `type@key`: of the version with digest `read`, or of the current one when undefined. */
  trace(type: string, key: string, read: string | undefined): Node {
    const name = key === "" ? type : `${type}@${key}`;
    const rec = this.find(type, key);
    if (read !== undefined && rec?.digest !== read) return this.traceReplaced(name, type, key, read, rec?.digest);
    if (!rec) return { dataset: name, digest: "(missing)" };
    const node: Node = { dataset: name, digest: rec.digest };
    if (rec.producer === null) {
      node.source = rec.sourcePath ?? "(ingested)";
      return node;
    }
    const action = this.registry.getAction(rec.producer);
    return action === undefined ? node : this.withProducer(node, action, key);
  }

  /** A version read that the collection no longer holds: found by its digest in the action cache. */
  private traceReplaced(name: string, type: string, key: string, read: string, now: string | undefined): Node {
    const node: Node = { dataset: name, digest: read, replacedBy: now ?? "(removed)" };
    const candidates = this.producersOf(type, read);
    const action = candidates.find((a) => a.manifest.dataId === key) ?? candidates[0];
    if (action === undefined) {
      node.source = "(ingested, or made by a quantum no longer recorded)";
      return node;
    }
    return this.withProducer(node, action, key);
  }

  private withProducer(node: Node, action: ActionRecord, key: string): Node {
    const id = `${node.dataset}\0${node.digest}`;
    if (this.seen.has(id)) return { ...node, seen: true };
    this.seen.add(id);
    const exec = this.registry.getExecution(action.executionId);
    const m = action.manifest;
    node.quantum = {
      task: m.task,
      dataId: key,
      key: action.key,
      codeDigest: m.codeDigest,
      config: JSON.parse(m.config),
      host: exec?.host,
      startedAt: exec?.startedAt,
      durationMs: exec?.durationMs,
    };
    node.inputs = m.inputs.map((i) => this.trace(i.type, i.dataId, i.digest));
    return node;
  }

  private producersOf(type: string, digest: string): ActionRecord[] {
    if (this.producers === undefined) {
      this.producers = new Map();
      for (const action of this.registry.listActions()) {
        for (const output of Object.values(action.outputs)) {
          const id = `${output.type}\0${output.digest}`;
          const list = this.producers.get(id);
          if (list === undefined) this.producers.set(id, [action]);
          else list.push(action);
        }
      }
    }
    return this.producers.get(`${type}\0${digest}`) ?? [];
  }
}

function renderTree(root: Node): string {
  const lines: string[] = [];
  const walk = (node: Node, prefix: string, last: boolean, top: boolean) => {
    const branch = top ? "" : last ? "└─ " : "├─ ";
    const more = top ? "" : last ? "   " : "│  ";
    let head = `${node.dataset}  ${node.digest}`;
    if (node.source) head += `  from ${node.source}`;
    if (node.replacedBy) head += `  (the version read; the collection now holds ${node.replacedBy})`;
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
