/**
 * Resolves each quantum of a graph against the repository, in graph order: its input digests (from the
 * input collection, or from the upstream quanta of this walk), its key, and the decision (run, skip,
 * maybe) with reasons. Shared by `quanta run`/`exec` (which then run what must run) and by `quanta
 * status`/`why` (which only report).
 *
 * Each dataset of the walk is in one of four states: unknown (its producer has not been resolved yet),
 * known (a digest), absent (its producer had no work, or it is missing), or pending (its producer will
 * run, so its digest is not known in a dry run).
 */
import { canonicalJson } from "../core/canonical-json.js";
import type { BlobDigest, QuantumKey } from "../core/digest.js";
import { decideQuantum, type Decision, type QuantumMemory, type Reason } from "../core/explain.js";
import type { TaskNode } from "../core/pipeline.js";
import type { GraphQuantum, QuantumGraph } from "../core/quantum-graph.js";
import { buildKeyManifest, computeQuantumKey, type KeyInput, type KeyManifest } from "../core/quantum-key.js";
import type { QuantumRecord } from "../store/registry.js";
import type { Repository } from "../store/repository.js";
import type { JobInputItem, QuantumJob } from "./quantum-job.js";

/** Marks a dataset whose producer will run in a dry run. */
const PENDING = "pending" as const;
type DatasetState = BlobDigest | null | typeof PENDING | undefined;

export type Resolution =
  /** Up to date: the outputs to bind, and the execution that first produced them. */
  | { kind: "skip"; decision: Extract<Decision, { action: "skip" }>; cached: CachedResult }
  /** Must run: the job to hand an executor (built only here, never for a skip). */
  | { kind: "run"; decision: Extract<Decision, { action: "run" }>; manifest: KeyManifest; job: QuantumJob }
  | { kind: "maybe"; reasons: Reason[] }
  /** A required input is absent (upstream had no work) or too few gathered: nothing to do. */
  | { kind: "no-work"; reason: string }
  | { kind: "missing-input"; error: string };

export interface CachedResult {
  outputs: Record<string, { type: string; digest: BlobDigest; size: number }>;
  noWork: boolean;
  executionId: string;
}

interface TaskInfo {
  task: TaskNode;
  config: string;
}

export class QuantumDecider {
  private readonly state: DatasetState[];
  private readonly tasks = new Map<string, TaskInfo>();
  /** This collection's quantum records, read with one range scan per task on first use. */
  private readonly records = new Map<string, Map<string, QuantumRecord>>();
  /** Input datasets' digests, read with one range scan per (collection, type) on first use. */
  private readonly inputDigests = new Map<string, Map<string, BlobDigest>>();
  /** Extensions of the files ingested input types come from (`raw` → `.npy`). */
  private readonly extensions = new Map<string, string>();

  constructor(
    private readonly graph: QuantumGraph,
    private readonly repo: Repository,
    private readonly collection: string,
  ) {
    this.state = new Array(graph.datasets.length);
    for (const t of graph.tasks) this.tasks.set(t.label, { task: t, config: canonicalJson(t.config) });
    for (const input of graph.pipeline.inputs) {
      const ext = /\.[A-Za-z0-9_+-]{1,16}$/.exec(input.path)?.[0];
      if (input.kind === "files" && ext !== undefined) this.extensions.set(input.type, ext);
    }
  }

  resolve(quantumId: number): Resolution {
    const q = this.graph.quanta[quantumId]!;
    const info = this.tasks.get(q.task);
    if (!info) throw new Error(`internal error: quantum ${quantumId} of unknown task ${q.task}`);
    const gathered = this.gatherInputs(q, info.task);
    if (gathered.kind !== "ok") return gathered;
    const manifest = buildKeyManifest({ task: q.task, dataId: q.key, codeDigest: info.task.codeDigest, config: info.config, inputs: gathered.keyInputs });
    const key = computeQuantumKey(manifest, this.repo.hasher);
    const { memory, cached } = this.recall(q, key);
    const decision = decideQuantum({ key, manifest, memory, blobExists: (d) => this.repo.blobs.exists(d) });
    switch (decision.action) {
      case "maybe":
        return { kind: "maybe", reasons: decision.reasons };
      case "skip":
        return { kind: "skip", decision, cached: cached! };
      case "run":
        return { kind: "run", decision, manifest, job: this.buildJob(quantumId, q, info.task, gathered.kept) };
      default: {
        const never: never = decision;
        throw new Error(`internal error: ${JSON.stringify(never)}`);
      }
    }
  }

  /**
   * The job of a quantum that runs: its inputs as blob paths (with the extension of their source), or
   * as bytes for the blobs kept in the registry.
   */
  private buildJob(quantumId: number, q: GraphQuantum, task: TaskNode, kept: Record<string, number[]>): QuantumJob {
    const inputs: QuantumJob["inputs"] = {};
    const blobs = this.repo.blobs;
    for (const name in task.inputs) {
      const conn = task.inputs[name]!;
      const items: JobInputItem[] = (kept[name] ?? []).map((id) => {
        const ds = this.graph.datasets[id]!;
        const digest = this.state[id] as BlobDigest;
        const extension = ds.producer < 0 ? this.extensions.get(ds.type) : undefined;
        const bytes = blobs.inlineBytes(digest);
        if (bytes !== undefined) return { dataId: ds.dataId, digest, bytes, extension };
        return { dataId: ds.dataId, digest, path: blobs.pathOf(digest), extension };
      });
      inputs[name] = { storage: conn.storage, multiple: conn.multiple, items };
    }
    return { quantum: quantumId, task, dataId: q.dataId, inputs, repoRoot: this.repo.root, attempt: 1 };
  }

  /**
   * What the repository remembers about the quantum. The common case of a no-op run, this collection's
   * record holding the current key and its outputs, needs no lookup beyond the prefetched records.
   */
  private recall(q: GraphQuantum, key: QuantumKey): { memory: QuantumMemory; cached?: CachedResult } {
    const registry = this.repo.registry;
    const record = this.recordsOf(q.task).get(q.key);
    const memory: QuantumMemory = {};
    if (record) memory.record = { key: record.key, status: record.status };
    if (record && record.key === key && record.status !== "failed" && record.outputs) {
      const cached = { outputs: record.outputs, noWork: record.status === "no-work", executionId: record.executionId };
      memory.cached = cached;
      return { memory, cached };
    }
    const action = registry.getAction(key);
    if (action) {
      memory.cached = { outputs: action.outputs, noWork: action.noWork };
      return { memory, cached: { outputs: action.outputs, noWork: action.noWork, executionId: action.executionId } };
    }
    if (record) {
      memory.previous = registry.getAction(record.key)?.manifest;
      if (record.status === "failed") {
        const exec = registry.getExecution(record.executionId);
        memory.previous ??= exec ? buildKeyManifest({ task: q.task, dataId: q.key, codeDigest: exec.codeDigest, config: canonicalJson(exec.config), inputs: exec.inputs }) : undefined;
        memory.previousError = exec?.error;
      }
    }
    return { memory };
  }

  private recordsOf(task: string): Map<string, QuantumRecord> {
    let map = this.records.get(task);
    if (!map) {
      map = new Map();
      for (const e of this.repo.registry.listQuanta(this.collection, task)) map.set(e.dataId, e.record);
      this.records.set(task, map);
    }
    return map;
  }

  private digestsOf(collection: string, type: string): Map<string, BlobDigest> {
    const id = `${collection}\0${type}`;
    let map = this.inputDigests.get(id);
    if (!map) {
      map = new Map();
      for (const e of this.repo.registry.listDatasets({ collection, type })) map.set(e.key, e.record.digest);
      this.inputDigests.set(id, map);
    }
    return map;
  }

  /** The key's inputs, and per connection the datasets a job would read (those with a digest). */
  private gatherInputs(q: GraphQuantum, task: TaskNode) {
    const keyInputs: KeyInput[] = [];
    const kept: Record<string, number[]> = {};
    const pending: Reason[] = [];
    for (const name in task.inputs) {
      const conn = task.inputs[name]!;
      const ids: number[] = [];
      for (const id of q.inputs[name] ?? []) {
        const ds = this.graph.datasets[id]!;
        const st = this.datasetState(id);
        if (st === PENDING) {
          const producer = this.graph.quanta[ds.producer]!;
          pending.push({ kind: "upstream-pending", connection: name, type: ds.type, dataId: ds.key, producer: `${producer.task}@${producer.key}` });
          continue;
        }
        if (st === null) {
          if (ds.producer < 0 && !conn.multiple) return { kind: "missing-input" as const, error: `input ${name} (${ds.type}@${ds.key}) is not in the repository` };
          if (!conn.multiple) return { kind: "no-work" as const, reason: `input ${name} (${ds.type}@${ds.key}) was not produced` };
          continue;
        }
        keyInputs.push({ connection: name, type: ds.type, dataId: ds.key, digest: st! });
        ids.push(id);
      }
      if (pending.length === 0 && conn.multiple && ids.length < conn.minimum) {
        return { kind: "no-work" as const, reason: `input ${name} gathered ${ids.length} datasets, fewer than its minimum ${conn.minimum}` };
      }
      kept[name] = ids;
    }
    if (pending.length > 0) return { kind: "maybe" as const, reasons: pending };
    return { kind: "ok" as const, keyInputs, kept };
  }

  private datasetState(id: number): DatasetState {
    const st = this.state[id];
    if (st !== undefined) return st;
    const ds = this.graph.datasets[id]!;
    if (ds.producer >= 0) throw new Error(`internal error: dataset ${ds.type}@${ds.key} read before its producer was resolved`);
    const resolved = this.digestsOf(this.graph.inputCollection, ds.type).get(ds.key) ?? this.digestsOf(this.collection, ds.type).get(ds.key) ?? null;
    this.state[id] = resolved;
    return resolved;
  }

  /** Records the outputs of a quantum that ran or was skipped. */
  setOutputs(q: GraphQuantum, outputs: Record<string, { digest: BlobDigest }>): void {
    for (const name in q.outputs) this.state[q.outputs[name]!] = outputs[name]?.digest ?? null;
  }

  /** The distinct digests of the graph's outputs known so far that `select` picks. */
  outputDigests(select: (digest: BlobDigest) => boolean): BlobDigest[] {
    const distinct = new Set<BlobDigest>();
    const { datasets } = this.graph;
    for (let id = 0; id < datasets.length; id++) {
      const st = this.state[id];
      if (datasets[id]!.producer >= 0 && typeof st === "string" && st !== PENDING) distinct.add(st);
    }
    const out: BlobDigest[] = [];
    for (const digest of distinct) if (select(digest)) out.push(digest);
    return out;
  }

  /** Marks every output of a quantum absent (no work, failed, blocked). */
  setAbsent(q: GraphQuantum): void {
    for (const name in q.outputs) this.state[q.outputs[name]!] = null;
  }

  /** Marks every output of a quantum pending (a dry run: it would run). */
  setPending(q: GraphQuantum): void {
    for (const name in q.outputs) this.state[q.outputs[name]!] = PENDING;
  }
}
