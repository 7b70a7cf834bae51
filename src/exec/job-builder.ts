/**
 * Turns a quantum the resolver says must run into the job an executor is handed: its inputs as blob
 * paths (with the extension of the file an ingested input came from, so a sandbox can keep it), as
 * bytes for the blobs kept in the registry, or as the raw file itself for one ingested by reference. Where a blob lives is the store's business; this is
 * the one place that asks it on the executors' behalf.
 */
import type { BlobDigest, QuantumKey } from "../core/digest.js";
import type { TaskNode } from "../core/pipeline.js";
import type { QuantumGraph } from "../core/quantum-graph.js";
import type { Repository } from "../store/repository.js";
import type { JobInputItem, QuantumJob } from "./quantum-job.js";

export class JobBuilder {
  /** Extensions of the files ingested input types come from (`raw` → `.npy`). */
  private readonly extensions = new Map<string, string>();
  private readonly tasks: ReadonlyMap<string, TaskNode>;
  /** Dataset types written by an `executable` output: their readers get them executable. */
  private readonly programs = new Set<string>();

  constructor(
    private readonly graph: QuantumGraph,
    private readonly repo: Repository,
  ) {
    this.tasks = new Map(graph.tasks.map((t) => [t.label, t]));
    for (const t of graph.tasks) for (const c of Object.values(t.outputs)) if (c.executable === true) this.programs.add(c.type);
    for (const input of graph.pipeline.inputs) {
      const ext = /\.[A-Za-z0-9_+-]{1,16}$/.exec(input.path)?.[0];
      if (input.kind === "files" && ext !== undefined) this.extensions.set(input.type, ext);
    }
  }

  /**
   * The job of quantum `quantumId`, reading per connection the datasets `reads` names. A dataset whose
   * digest is not known yet (`digestOf` gives undefined: made earlier in the same batch job) is an item
   * with an empty digest and no path, for the job to fill in.
   */
  build(quantumId: number, key: QuantumKey, reads: Record<string, number[]>, digestOf: (datasetId: number) => BlobDigest | undefined): QuantumJob {
    const task = this.tasks.get(this.graph.taskOf(quantumId))!;
    const blobs = this.repo.blobs;
    const inputs: QuantumJob["inputs"] = {};
    for (const name in task.inputs) {
      const conn = task.inputs[name]!;
      const items: JobInputItem[] = (reads[name] ?? []).map((id) => {
        const ds = { type: this.graph.typeOf(id), dataId: this.graph.datasetDataId(id), producer: this.graph.producerOf(id) };
        const digest = digestOf(id);
        const extension = ds.producer < 0 ? this.extensions.get(ds.type) : undefined;
        if (digest === undefined) return { dataId: ds.dataId, digest: "" as BlobDigest, ...(this.programs.has(ds.type) ? { executable: true } : {}) };
        const bytes = blobs.inlineBytes(digest);
        const program = this.programs.has(ds.type) ? { executable: true } : {};
        if (bytes !== undefined) return { dataId: ds.dataId, digest, bytes, extension, ...program };
        const raw = ds.producer < 0 ? blobs.referencedFile(digest) : undefined;
        if (raw !== undefined) {
          const { size, mtimeMs, ctimeMs, ino, dev } = raw.state;
          return { dataId: ds.dataId, digest, path: raw.path, extension, ...program, reference: { size, mtimeMs, ctimeMs, ino, dev } };
        }
        return { dataId: ds.dataId, digest, path: blobs.pathOf(digest), extension, ...program };
      });
      inputs[name] = { storage: conn.storage, multiple: conn.multiple, items };
    }
    return { quantum: quantumId, key, task, dataId: this.graph.quantumDataId(quantumId), inputs, repoRoot: this.repo.root, attempt: 1 };
  }
}
