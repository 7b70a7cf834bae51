/**
 * The one place that decides quanta. Over a read-only view of the repository, in the order of a walk
 * of the graph, it resolves each quantum: its input digests (from the collections its inputs come
 * from, or from the upstream quanta resolved before it), its key, and what must happen to it, with
 * the reasons. `quanta run` and `exec` (the engine) run what it says must run; `quanta status` and
 * `why` (dry-run.ts) only report it; the run stamp (app/stamps.ts) is a cache in front of it.
 *
 * Each dataset of the walk is in one of four states: unknown (its producer has not been resolved yet),
 * known (a digest), absent (its producer had no work, failed, or it is missing), or pending (its
 * producer will run, so its digest is not known: a dry run).
 */
import { canonicalJson } from "./canonical-json.js";
import type { BlobDigest, QuantumKey } from "./digest.js";
import { decideQuantum, type Decision, type QuantumMemory, type Reason } from "./explain.js";
import { discoveredConnections, discoveredIn, narrowKeyInputs, narrowManifest } from "./discovered-inputs.js";
import { sourceCollectionOf } from "./input-collection.js";
import type { TaskNode } from "./pipeline.js";
import type { GraphQuantum, QuantumGraph } from "./quantum-graph.js";
import { buildKeyManifest, computeQuantumKey, type KeyInput, type KeyManifest } from "./quantum-key.js";
import type { OutputDigests, RememberedQuantum, RepositoryView } from "./repository-view.js";

/** Marks a dataset whose producer will run in a dry run. */
const PENDING = "pending" as const;
type DatasetState = BlobDigest | null | typeof PENDING | undefined;

export type Resolution =
  /** Up to date: the outputs to bind, and the execution that first produced them. */
  | { kind: "skip"; decision: Extract<Decision, { action: "skip" }>; cached: CachedResult }
  /** Must run: its key's manifest, and per input connection the datasets it reads (see `digestOf`). */
  | { kind: "run"; decision: Extract<Decision, { action: "run" }>; manifest: KeyManifest; reads: Record<string, number[]> }
  /** An upstream quantum will run first (a dry run): this one runs unless that one reproduces its outputs. */
  | { kind: "maybe"; reasons: Reason[] }
  /** A required input is absent (upstream had no work) or too few gathered: nothing to do. */
  | { kind: "no-work"; reason: string }
  /** A required input that no quantum produces is not in the repository: the quantum fails. */
  | { kind: "missing-input"; error: string };

/** A quantum as a batch job decides it (see `draftInJob`). */
export interface DraftInJob {
  /** Its key manifest; the digests of the inputs at `holes` are placeholders until the job fills them. */
  manifest: KeyManifest;
  reads: Record<string, number[]>;
  /** Per input made in the job: its index in `manifest.inputs`, and the dataset. */
  holes: { index: number; dataset: number }[];
  previous?: { key: QuantumKey; outputs: OutputDigests };
}

/** The placeholder digest of an input a batch job fills in. */
const HOLE = "hole:";

export interface CachedResult {
  outputs: OutputDigests;
  noWork: boolean;
  executionId: string;
}

interface TaskInfo {
  task: TaskNode;
  config: string;
  /** Its discovered input connections (discovered-inputs.ts); usually none. */
  discovered: string[];
  /** Its temp output connections (temp-outputs.ts); usually none. */
  temp: string[];
}

export class QuantumResolver {
  private readonly state: DatasetState[];
  private readonly tasks = new Map<string, TaskInfo>();
  /** This collection's quantum records, read once per task on first use. */
  private readonly records = new Map<string, Map<string, RememberedQuantum>>();
  /** Dataset digests, read once per (collection, type) on first use. */
  private readonly digests = new Map<string, Map<string, BlobDigest>>();
  private readonly ingestedTypes: ReadonlySet<string>;

  constructor(
    private readonly graph: QuantumGraph,
    private readonly repo: RepositoryView,
    private readonly collection: string,
    /**
     * `forced`: the labels of tasks whose quanta run whatever the cache holds (`--force`), reason
     * "forced". `pointReads`: records and digests are read one at a time, for a walk that resolves few
     * of the graph's quanta (a watch's pass); otherwise all of a task's records, or a type's digests,
     * are read at its first use. `needed`: quanta (by id) that run whatever the cache holds because a
     * dropped temp output of theirs is needed (temp-outputs.ts), with the reason.
     */
    private readonly options: { forced?: ReadonlySet<string>; pointReads?: boolean; needed?: ReadonlyMap<number, Reason> } = {},
  ) {
    this.state = new Array(graph.datasetCount);
    for (const t of graph.tasks) this.tasks.set(t.label, { task: t, config: canonicalJson(t.config), discovered: discoveredConnections(t), temp: Object.values(t.outputs).filter((c) => c.temp === true).map((c) => c.name) });
    this.ingestedTypes = new Set(graph.pipeline.inputs.filter((i) => i.kind === "files").map((i) => i.type));
  }

  resolve(quantumId: number): Resolution {
    const q = this.graph.quantum(quantumId);
    const info = this.tasks.get(q.task);
    if (!info) throw new Error(`internal error: quantum ${quantumId} of unknown task ${q.task}`);
    const gathered = this.gatherInputs(q, info.task);
    const forcedBy: Reason | undefined = this.options.forced?.has(q.task) === true ? { kind: "forced" } : this.options.needed?.get(quantumId);
    // A forced quantum waiting on upstream quanta (a dry run) will run whatever they produce.
    if (gathered.kind === "maybe" && forcedBy) return { kind: "maybe", reasons: [forcedBy, ...gathered.reasons] };
    if (gathered.kind !== "ok") return gathered;
    const keyInputs = info.discovered.length === 0 ? gathered.keyInputs : narrowKeyInputs(gathered.keyInputs, info.discovered, this.discoveredLast(q, info.discovered));
    const manifest = buildKeyManifest({ task: q.task, dataId: q.key, codeDigest: info.task.codeDigest, config: info.config, inputs: keyInputs, depends: info.task.depends });
    const key = computeQuantumKey(manifest, this.repo.hasher);
    const { memory, cached } = this.recall(q, key);
    // A temp output's blob may have been dropped on purpose: up to date without it (temp-outputs.ts).
    const dropped = info.temp.length === 0 || cached === undefined ? undefined : new Set(info.temp.map((name) => cached.outputs[name]?.digest));
    const decision: Decision = forcedBy
      ? { action: "run", key, reasons: [forcedBy] }
      : decideQuantum({ key, manifest, memory, blobExists: (d) => dropped?.has(d) === true || this.repo.blobExists(d) });
    switch (decision.action) {
      case "maybe":
        return { kind: "maybe", reasons: decision.reasons };
      case "skip":
        // Settled for good: nothing asks for its record again, so the records read for its task need
        // not hold it to the end of the run (300,000 of them took about 100 MB).
        if (!this.options.pointReads) this.records.get(q.task)?.delete(q.key);
        return { kind: "skip", decision, cached: cached! };
      case "run":
        return { kind: "run", decision, manifest, reads: gathered.reads };
      default: {
        const never: never = decision;
        throw new Error(`internal error: ${JSON.stringify(never)}`);
      }
    }
  }

  /**
   * A quantum some of whose inputs are made by quanta that run before it in the same batch job (`inJob`
   * says which datasets): its key manifest with those inputs' digests left as holes for the job to fill
   * in, the datasets it reads, and its last successful result in this collection (the job reuses that
   * result when its key turns out to be that result's key, as this resolver would). Undefined when the
   * job could not decide it as this resolver does: a forced task or quantum (a dropped temp output of
   * its is needed), one with discovered inputs, or an
   * input that is neither known nor made in the job.
   */
  draftInJob(quantumId: number, inJob: (datasetId: number) => boolean): DraftInJob | undefined {
    const q = this.graph.quantum(quantumId);
    const info = this.tasks.get(q.task)!;
    if (this.options.forced?.has(q.task) === true || this.options.needed?.has(quantumId) === true || info.discovered.length > 0) return undefined;
    const keyInputs: KeyInput[] = [];
    const reads: Record<string, number[]> = {};
    for (const name in info.task.inputs) {
      const ids: number[] = [];
      for (const id of q.inputs[name] ?? []) {
        let digest: string;
        if (inJob(id)) digest = `${HOLE}${id}`;
        else {
          const st = this.graph.producerOf(id) < 0 ? this.datasetState(id) : this.state[id];
          if (typeof st !== "string" || st === PENDING) return undefined;
          digest = st;
        }
        keyInputs.push({ connection: name, type: this.graph.typeOf(id), dataId: this.graph.datasetKey(id), digest: digest as BlobDigest });
        ids.push(id);
      }
      reads[name] = ids;
    }
    const manifest = buildKeyManifest({ task: q.task, dataId: q.key, codeDigest: info.task.codeDigest, config: info.config, inputs: keyInputs, depends: info.task.depends });
    const holes: DraftInJob["holes"] = [];
    manifest.inputs.forEach((input, index) => {
      if (input.digest.startsWith(HOLE)) holes.push({ index, dataset: Number(input.digest.slice(HOLE.length)) });
    });
    const record = this.recordOf(q);
    const previous = record !== undefined && record.status === "succeeded" && record.outputs !== undefined ? { key: record.key, outputs: record.outputs } : undefined;
    return { manifest, reads, holes, ...(previous !== undefined ? { previous } : {}) };
  }

  /**
   * The datasets of its discovered connections that the quantum's latest successful run in this
   * collection named; undefined when it has none (it keys on them all).
   */
  private discoveredLast(q: GraphQuantum, discovered: readonly string[]): Set<string> | undefined {
    const record = this.recordsOf(q.task).get(q.key);
    if (record === undefined || record.status === "failed") return undefined;
    const manifest = this.repo.action(record.key)?.manifest;
    return manifest === undefined ? undefined : discoveredIn(manifest, discovered);
  }

  /**
   * The key and manifest of a quantum that ran, its discovered connections narrowed to the datasets its
   * command named (per connection, canonical data IDs): what is recorded, and what the next run keys on.
   */
  narrowDiscovered(manifest: KeyManifest, named: Readonly<Record<string, readonly string[]>>): { manifest: KeyManifest; key: QuantumKey } {
    return narrowManifest(manifest, named, (m) => computeQuantumKey(m, this.repo.hasher));
  }

  /** The digest of a dataset the walk knows (an input a `run` resolution reads). */
  digestOf(datasetId: number): BlobDigest {
    const st = this.state[datasetId];
    if (typeof st !== "string" || st === PENDING) throw new Error(`internal error: dataset ${datasetId} has no digest yet`);
    return st;
  }

  /** Records the outputs of a quantum that ran or was skipped. */
  setOutputs(quantumId: number, outputs: Record<string, { digest: BlobDigest }>): void {
    const t = this.graph.taskQuantaOf(quantumId);
    for (const [name, ids] of t.outputs) this.state[ids[quantumId - t.first]!] = outputs[name]?.digest ?? null;
  }

  /** A dataset's state in the walk: its digest, null when absent, undefined while unknown (or pending). */
  stateOf(datasetId: number): BlobDigest | null | undefined {
    const st = this.state[datasetId];
    return st === PENDING ? undefined : st;
  }

  /** Sets a quantum's outputs to what `states` (an earlier walk's `datasetStates`) holds for them. */
  restoreOutputs(quantumId: number, states: readonly (BlobDigest | null)[]): void {
    for (const d of this.graph.outputIds(quantumId)) this.state[d] = states[d] ?? null;
  }

  /** Every dataset's state after a walk that settled every quantum: a digest, or null (absent). */
  datasetStates(): (BlobDigest | null)[] {
    return Array.from(this.state, (st) => (typeof st === "string" && st !== PENDING ? st : null));
  }

  /** Marks every output of a quantum absent (no work, failed, blocked). */
  setAbsent(quantumId: number): void {
    for (const d of this.graph.outputIds(quantumId)) this.state[d] = null;
  }

  /** Marks every output of a quantum pending (a dry run: it would run). */
  setPending(quantumId: number): void {
    for (const d of this.graph.outputIds(quantumId)) this.state[d] = PENDING;
  }

  /** The distinct digests of the graph's outputs known so far that `select` picks; with `except`, only those of outputs whose digest differs from theirs there. */
  outputDigests(select: (digest: BlobDigest) => boolean, except?: readonly (BlobDigest | null)[]): BlobDigest[] {
    const distinct = new Set<BlobDigest>();
    for (let id = 0; id < this.graph.datasetCount; id++) {
      const st = this.state[id];
      if (this.graph.producerOf(id) >= 0 && typeof st === "string" && st !== PENDING && st !== except?.[id]) distinct.add(st);
    }
    return [...distinct].filter(select);
  }

  /**
   * What the repository remembers about the quantum. The common case of a no-op run, this collection's
   * record holding the current key and its outputs, needs no lookup beyond the records read at first.
   */
  private recall(q: GraphQuantum, key: QuantumKey): { memory: QuantumMemory; cached?: CachedResult } {
    const record = this.recordOf(q);
    const memory: QuantumMemory = {};
    if (record) memory.record = { key: record.key, status: record.status };
    if (record && record.key === key && record.status !== "failed" && record.outputs) {
      const cached = { outputs: record.outputs, noWork: record.status === "no-work", executionId: record.executionId };
      memory.cached = cached;
      return { memory, cached };
    }
    const action = this.repo.action(key);
    if (action) {
      memory.cached = { outputs: action.outputs, noWork: action.noWork };
      return { memory, cached: { outputs: action.outputs, noWork: action.noWork, executionId: action.executionId } };
    }
    if (record) {
      memory.previous = this.repo.action(record.key)?.manifest;
      if (record.status === "failed") {
        const exec = this.repo.execution(record.executionId);
        memory.previous ??= exec ? buildKeyManifest({ task: q.task, dataId: q.key, codeDigest: exec.codeDigest, config: canonicalJson(exec.config), inputs: exec.inputs }) : undefined;
        memory.previousError = exec?.error;
      }
    }
    return { memory };
  }

  private recordOf(q: GraphQuantum): RememberedQuantum | undefined {
    return this.options.pointReads && this.repo.quantumRecord ? this.repo.quantumRecord(this.collection, q.task, q.key) : this.recordsOf(q.task).get(q.key);
  }

  private recordsOf(task: string): Map<string, RememberedQuantum> {
    let map = this.records.get(task);
    if (!map) {
      map = new Map();
      for (const e of this.repo.quantumRecords(this.collection, task)) map.set(e.dataId, e.record);
      this.records.set(task, map);
    }
    return map;
  }

  private digestsOf(collection: string, type: string): Map<string, BlobDigest> {
    const id = `${collection}\0${type}`;
    let map = this.digests.get(id);
    if (!map) {
      map = new Map();
      for (const e of this.repo.datasetDigests(collection, type)) map.set(e.key, e.digest);
      this.digests.set(id, map);
    }
    return map;
  }

  /** The key's inputs, and per connection the datasets a job would read (those with a digest). */
  private gatherInputs(q: GraphQuantum, task: TaskNode) {
    const keyInputs: KeyInput[] = [];
    const reads: Record<string, number[]> = {};
    const pending: Reason[] = [];
    for (const name in task.inputs) {
      const conn = task.inputs[name]!;
      const ids: number[] = [];
      for (const id of q.inputs[name] ?? []) {
        const ds = { type: this.graph.typeOf(id), key: this.graph.datasetKey(id), producer: this.graph.producerOf(id) };
        const st = this.datasetState(id);
        if (st === PENDING) {
          pending.push({ kind: "upstream-pending", connection: name, type: ds.type, dataId: ds.key, producer: this.graph.quantumName(ds.producer) });
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
      reads[name] = ids;
    }
    if (pending.length > 0) return { kind: "maybe" as const, reasons: pending };
    return { kind: "ok" as const, keyInputs, reads };
  }

  /** A dataset's state; one no quantum of the plan produces is read from its source collection. */
  private datasetState(id: number): DatasetState {
    const st = this.state[id];
    if (st !== undefined) return st;
    const ds = { type: this.graph.typeOf(id), key: this.graph.datasetKey(id) };
    if (this.graph.producerOf(id) >= 0) throw new Error(`internal error: dataset ${ds.type}@${ds.key} read before its producer was resolved`);
    const collection = sourceCollectionOf(ds.type, {
      ingestedTypes: this.ingestedTypes,
      inputCollection: this.graph.inputCollection,
      outputCollection: this.collection,
      outputHas: (type) => this.digestsOf(this.collection, type).size > 0,
    });
    const resolved = (this.options.pointReads && this.repo.datasetDigest ? this.repo.datasetDigest(collection, ds.type, ds.key) : this.digestsOf(collection, ds.type).get(ds.key)) ?? null;
    this.state[id] = resolved;
    return resolved;
  }
}
