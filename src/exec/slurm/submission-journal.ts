/**
 * The Slurm executor's journal of submissions, `<repo>/slurm/journal.jsonl`: what a head that died
 * (`kill -9`, a lost login session) left running, so that the same command run again re-attaches to
 * its jobs instead of submitting their quanta twice. One JSON object per line, each appended and
 * fsynced before the head relies on it:
 *
 *     {"format":1,"op":"intend","dir":D,"quanta":[{"quantum":Q,"key":K,"attempt":A,"element":E},…]}   before sbatch
 *     {"format":1,"op":"submitted","dir":D,"jobId":J,"elements":N}                                       after sbatch answered
 *     {"format":1,"op":"ingested","dir":D}                                                                every outcome handed over
 *
 * A quantum that follows others in its element (a cluster's chain) is journaled with an empty key and
 * its task and data ID (`follows`): the job computes its key, and a later run that wants that quantum
 * waits for the element's record and uses it if the key is the one it wants.
 *
 * A batch submitted and not ingested is unfinished work: its quanta's keys are `unfinished()`, and a
 * run adopts the quanta it still wants (their records are read from D when their jobs end). An intent
 * without its `submitted` line is a head that died inside `sbatch`: taken as not submitted. Lines of
 * another format, or torn by a crash, are skipped. Once nothing is unfinished, the journal and the
 * directories of earlier runs are removed (the last run's stay, for their output files).
 */
import { appendFileSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { QuantumKey } from "../../core/digest.js";

const FORMAT = 1;

export interface JournalQuantum {
  quantum: number;
  /** Empty for a quantum that follows others in its element: the job computes its key. */
  key: QuantumKey;
  attempt: number;
  element: number;
  /** A follow-on quantum's task and data ID (`followerName`): how a later run finds it. */
  follows?: string;
}

/** Earlier work of one key, as `take` hands it to an adopting run. */
export interface EarlierWork extends JournalQuantum {
  dir: string;
  jobId: string;
  elements: number;
}

interface Entry {
  quanta: JournalQuantum[];
  jobId?: string;
  elements?: number;
  ingested: boolean;
}

/** How many batches the journal under `root` lists as submitted and not ingested (0 without a journal). */
export function unfinishedSlurmBatches(root: string): number {
  if (!existsSync(join(root, "journal.jsonl"))) return 0;
  const journal = new SubmissionJournal(root, "");
  return journal.unfinishedBatches();
}

export class SubmissionJournal {
  /** This run's directory for its batches. */
  readonly runDir: string;
  private readonly path: string;
  private readonly entries = new Map<string, Entry>();
  /** Earlier work not yet adopted, by key. */
  private readonly earlier = new Map<QuantumKey, EarlierWork>();
  /** Follow-on quanta of earlier work not yet taken, by `followerName`. */
  private readonly earlierFollowers = new Map<string, EarlierWork>();

  constructor(
    private readonly root: string,
    runTag: string,
  ) {
    this.path = join(root, "journal.jsonl");
    this.runDir = join(root, runTag);
    mkdirSync(root, { recursive: true });
    this.read();
  }

  private read(): void {
    let text = "";
    try {
      text = readFileSync(this.path, "utf8");
    } catch {
      return;
    }
    for (const line of text.split("\n")) {
      let op: { format?: number; op?: string; dir?: string; quanta?: JournalQuantum[]; jobId?: string; elements?: number };
      try {
        op = JSON.parse(line);
      } catch {
        continue;
      }
      if (op.format !== FORMAT || typeof op.dir !== "string") continue;
      if (op.op === "intend") this.entries.set(op.dir, { quanta: op.quanta ?? [], ingested: false });
      const entry = this.entries.get(op.dir);
      if (entry === undefined) continue;
      if (op.op === "submitted") Object.assign(entry, { jobId: op.jobId, elements: op.elements });
      if (op.op === "ingested") entry.ingested = true;
    }
    for (const [dir, entry] of this.entries) {
      if (entry.ingested || entry.jobId === undefined) continue;
      for (const q of entry.quanta) {
        const work = { ...q, dir, jobId: entry.jobId, elements: entry.elements ?? 1 };
        if (q.follows !== undefined) this.earlierFollowers.set(q.follows, work);
        else this.earlier.set(q.key, work);
      }
    }
  }

  unfinishedBatches(): number {
    return [...this.entries.values()].filter((e) => !e.ingested && e.jobId !== undefined).length;
  }

  unfinishedKeys(): ReadonlySet<QuantumKey> {
    return new Set(this.earlier.keys());
  }

  /** The earlier work of `key`, now this run's to wait for. */
  take(key: QuantumKey): EarlierWork | undefined {
    const work = this.earlier.get(key);
    this.earlier.delete(key);
    return work;
  }

  /** The earlier work of a follow-on quantum, now this run's to wait for (its record is used if its key is the one wanted). */
  takeFollower(name: string): EarlierWork | undefined {
    const work = this.earlierFollowers.get(name);
    this.earlierFollowers.delete(name);
    return work;
  }

  hasFollower(name: string): boolean {
    return this.earlierFollowers.has(name);
  }

  /** Whether follow-on quanta of earlier work in batch `dir` wait to be taken. */
  hasFollowersIn(dir: string): boolean {
    for (const work of this.earlierFollowers.values()) if (work.dir === dir) return true;
    return false;
  }

  /** Follow-on quanta of earlier work that no quantum took: their array elements (`JOB_E`) and batch directories. */
  untakenFollowers(): { element: string; dir: string }[] {
    const out = [...this.earlierFollowers.values()].map((w) => ({ element: `${w.jobId}_${w.element}`, dir: w.dir }));
    this.earlierFollowers.clear();
    return out;
  }

  /** Earlier work no quantum wanted: the array elements (`JOB_E`) none of whose quanta were adopted, to cancel. */
  abandon(keys: Iterable<QuantumKey>): string[] {
    const abandoned = new Set(keys);
    const wanted = new Set<string>();
    const candidates = new Set<string>();
    for (const [key, work] of this.earlier) {
      const element = `${work.jobId}_${work.element}`;
      if (abandoned.has(key)) candidates.add(element);
    }
    for (const [dir, entry] of this.entries) {
      if (entry.ingested || entry.jobId === undefined) continue;
      const heads = entry.quanta.filter((q) => q.follows === undefined);
      for (const q of heads) if (!abandoned.has(q.key) && !this.earlier.has(q.key)) wanted.add(`${entry.jobId}_${q.element}`);
      if (heads.every((q) => abandoned.has(q.key))) this.ingested(dir);
    }
    for (const key of abandoned) this.earlier.delete(key);
    return [...candidates].filter((e) => !wanted.has(e));
  }

  intend(dir: string, quanta: JournalQuantum[]): void {
    this.entries.set(dir, { quanta, ingested: false });
    this.append({ op: "intend", dir, quanta });
  }

  submitted(dir: string, jobId: string, elements: number): void {
    const entry = this.entries.get(dir);
    if (entry !== undefined) Object.assign(entry, { jobId, elements });
    this.append({ op: "submitted", dir, jobId, elements });
  }

  ingested(dir: string): void {
    const entry = this.entries.get(dir);
    if (entry === undefined || entry.ingested) return;
    entry.ingested = true;
    this.append({ op: "ingested", dir });
  }

  /** When nothing is unfinished: removes the journal and every run directory but this one. */
  tidy(): void {
    if (this.earlier.size > 0 || this.earlierFollowers.size > 0) return;
    for (const entry of this.entries.values()) if (!entry.ingested && entry.jobId !== undefined) return;
    rmSync(this.path, { force: true });
    this.entries.clear();
    for (const name of readdirSync(this.root)) {
      const dir = join(this.root, name);
      if (dir !== this.runDir) rmSync(dir, { recursive: true, force: true });
    }
  }

  private append(op: Record<string, unknown>): void {
    appendFileSync(this.path, `${JSON.stringify({ format: FORMAT, ...op })}\n`);
    const fd = openSync(this.path, "r+");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

/** How a follow-on quantum is named in the journal: its task and canonical data ID. */
export function followerName(task: string, dataId: string): string {
  return `${task}@${dataId}`;
}
