/**
 * Packs the quanta of one cluster key that are ready together into batch jobs (at most the cluster's
 * size each), and adds to each job the quanta that can follow in it: downstream quanta of the same
 * cluster key whose inputs are either known now or made earlier in the same job (a data ID's chain of
 * tasks, depth first). A quantum follows in one job at most over the whole run.
 */
import type { BlobDigest } from "../core/digest.js";
import type { ClusterPlan } from "../core/cluster-plan.js";
import type { QuantumGraph } from "../core/quantum-graph.js";
import type { QuantumResolver } from "../core/quantum-resolver.js";
import type { JobBuilder } from "./job-builder.js";
import type { FollowOnJob, QuantumJob } from "./quantum-job.js";

export interface PackedJob {
  heads: QuantumJob[];
  /** In the order the job runs them: each after the quanta it reads from. */
  followOns: FollowOnJob[];
}

interface Pack extends PackedJob {
  /** Datasets made in the job: by the quantum and its output connection. */
  made: Map<number, { quantum: number; output: string }>;
}

export class ClusterPacker {
  /** Quanta already handed over to follow in some job. */
  private readonly claimed = new Set<number>();

  constructor(
    private readonly graph: QuantumGraph,
    private readonly resolver: QuantumResolver,
    private readonly jobs: JobBuilder,
    private readonly plan: ClusterPlan,
    /** Whether the quantum (task, canonical data ID) already follows others in a job of the executor. */
    private readonly isFollowing: (task: string, dataId: string) => boolean = () => false,
  ) {}

  /**
   * Hands over the quanta the scheduler decided to run in one turn: those of a cluster in jobs of their
   * cluster key with what can follow them; the others (and one handed over earlier to follow in a job,
   * which the executor finds there) each on its own.
   */
  handOver(jobs: readonly QuantumJob[], submit: (heads: QuantumJob[], followOns: FollowOnJob[]) => void): void {
    const groups = new Map<string, { size: number; heads: QuantumJob[] }>();
    for (const job of jobs) {
      const q = this.graph.quantum(job.quantum);
      const slot = this.plan.slotOf(q.task, q.dataId);
      if (slot === undefined || this.claimed.has(job.quantum) || this.isFollowing(q.task, q.key)) {
        submit([job], []);
        continue;
      }
      let group = groups.get(slot.key);
      if (group === undefined) groups.set(slot.key, (group = { size: slot.size, heads: [] }));
      group.heads.push(job);
    }
    for (const [key, { size, heads }] of groups) for (const packed of this.pack(heads, key, size)) submit(packed.heads, packed.followOns);
  }

  /** The jobs of `heads`, quanta of one cluster key, at most `size` quanta each. */
  private pack(heads: readonly QuantumJob[], key: string, size: number): PackedJob[] {
    const packs: Pack[] = [];
    let pack: Pack | undefined;
    for (const head of heads) {
      if (pack === undefined || count(pack) >= size) packs.push((pack = { heads: [], followOns: [], made: new Map() }));
      pack.heads.push(head);
      this.noteMade(pack, head.quantum);
      this.follow(pack, head.quantum, key, size);
    }
    return packs.map(({ heads, followOns }) => ({ heads, followOns }));
  }

  /** Adds the quanta that can follow `from` in the job, depth first. */
  private follow(pack: Pack, from: number, key: string, size: number): void {
    for (const output of this.graph.outputIds(from)) {
      for (const next of this.graph.consumersOf(output)) {
        if (count(pack) >= size) return;
        if (this.claimed.has(next)) continue;
        const nq = this.graph.quantum(next);
        if (this.isFollowing(nq.task, nq.key)) continue;
        if (this.plan.slotOf(nq.task, nq.dataId)?.key !== key) continue;
        const draft = this.resolver.draftInJob(next, (d) => pack.made.has(d));
        if (draft === undefined) continue;
        const job = this.jobs.build(next, "" as QuantumJob["key"], draft.reads, (d) => (pack.made.has(d) ? undefined : this.resolver.digestOf(d)));
        const holes: FollowOnJob["holes"] = [];
        for (const connection in draft.reads) {
          draft.reads[connection]!.forEach((dataset, item) => {
            const maker = pack.made.get(dataset);
            if (maker === undefined) return;
            const manifestIndex = draft.holes.find((h) => h.dataset === dataset)!.index;
            holes.push({ connection, item, manifestIndex, quantum: maker.quantum, output: maker.output });
          });
        }
        const previous = draft.previous && { key: draft.previous.key, outputs: Object.fromEntries(Object.entries(draft.previous.outputs).map(([n, o]) => [n, { digest: o.digest as BlobDigest, size: o.size }])) };
        pack.followOns.push({ job, manifest: draft.manifest, holes, afterHeads: pack.heads.length, ...(previous !== undefined ? { previous } : {}) });
        this.claimed.add(next);
        this.noteMade(pack, next);
        this.follow(pack, next, key, size);
      }
    }
  }

  private noteMade(pack: Pack, quantum: number): void {
    const t = this.graph.taskQuantaOf(quantum);
    for (const [output, ids] of t.outputs) pack.made.set(ids[quantum - t.first]!, { quantum, output });
  }
}

function count(pack: PackedJob): number {
  return pack.heads.length + pack.followOns.length;
}
