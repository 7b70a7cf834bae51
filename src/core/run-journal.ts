/**
 * The journal of one run: what `quanta report` shows of it, folded from the run's own events (the ones
 * the reporters get), so a journal says exactly what the terminal said. Pure: the caller stamps each
 * event with its time and stores the record (app/run-records.ts).
 *
 * A record keeps every quantum that ran or failed in the run (task, data ID, start, duration, error
 * and log tail; `executionId` is filled in from the registry when the run is over), the counts per
 * task, the ingest's counts and the plan's task graph (tasks with the dataset types they read and
 * write). Up-to-date and blocked quanta are only counted: they did not run.
 */
import type { EventBody, IngestCounts, RunCounts, TaskCounts } from "./events.js";
import type { TaskNode } from "./pipeline.js";

/** A quantum that ran (or failed) in the run. */
export interface JournalQuantum {
  task: string;
  dataId: string;
  status: "succeeded" | "no-work" | "failed";
  /** ms since the epoch; absent for a quantum that failed before it could start. */
  startedAt?: number;
  durationMs: number;
  attempt: number;
  error?: string;
  logTail?: string[];
  /** The registry's execution record of this run's attempt (its full log and why it ran). */
  executionId?: string;
}

/** A task of the plan: the dataset types it reads and writes. */
export interface PlanTask {
  task: string;
  inputs: string[];
  outputs: string[];
}

export interface RunRecord {
  format: 1;
  id: string;
  pipeline: string;
  collection: string;
  executor: string;
  workers: number;
  startedAt: number;
  finishedAt?: number;
  durationMs?: number;
  exitCode?: number;
  counts?: RunCounts;
  /** Per task in pipeline order: the counts of `run-finished` (or those so far, for a run that never finished). */
  tasks: TaskCounts[];
  ingest?: IngestCounts & { errors: number };
  graph?: { quanta: number; datasets: number };
  plan: PlanTask[];
  quanta: JournalQuantum[];
  interrupted?: { signal: string; stopped: number; notStarted: number };
  warnings: string[];
}

/** The plan's task graph, as a record keeps it. */
export function describePlan(tasks: readonly Pick<TaskNode, "label" | "inputs" | "outputs">[]): PlanTask[] {
  const types = (connections: TaskNode["inputs"]) => [...new Set(Object.values(connections).map((c) => c.type))].sort();
  return tasks.map((t) => ({ task: t.label, inputs: types(t.inputs), outputs: types(t.outputs) }));
}

const STATUSES = ["succeeded", "no-work", "failed"] as const;

/**
 * The quanta of a journal, a column per field rather than an object per quantum: a cold build of
 * 100,000 chains keeps 300,000 of them until the run ends (about 40 bytes each instead of 110).
 * A failed quantum's attempt, error and log tail are kept aside (failures are few).
 */
class JournalQuanta {
  private readonly tasks: string[] = [];
  private readonly dataIds: string[] = [];
  private readonly statuses: number[] = [];
  /** NaN: the quantum failed before it could start. */
  private readonly startedAt: number[] = [];
  private readonly durations: number[] = [];
  private readonly failures = new Map<number, { attempt: number; error?: string; logTail?: string[] }>();

  get length(): number {
    return this.tasks.length;
  }

  push(q: JournalQuantum): void {
    const at = this.tasks.push(q.task) - 1;
    this.dataIds.push(q.dataId);
    this.statuses.push(STATUSES.indexOf(q.status));
    this.startedAt.push(q.startedAt ?? Number.NaN);
    this.durations.push(q.durationMs);
    if (q.status === "failed" || q.attempt !== 1) {
      this.failures.set(at, { attempt: q.attempt, ...(q.error === undefined ? {} : { error: q.error }), ...(q.logTail === undefined ? {} : { logTail: q.logTail }) });
    }
  }

  /** The quantum at `i`, as a record holds it. */
  at(i: number): JournalQuantum {
    const failure = this.failures.get(i);
    const startedAt = this.startedAt[i]!;
    return {
      task: this.tasks[i]!,
      dataId: this.dataIds[i]!,
      status: STATUSES[this.statuses[i]!]!,
      ...(Number.isNaN(startedAt) ? {} : { startedAt }),
      durationMs: this.durations[i]!,
      attempt: failure?.attempt ?? 1,
      ...(failure?.error === undefined ? {} : { error: failure.error }),
      ...(failure?.logTail === undefined ? {} : { logTail: failure.logTail }),
    };
  }

  *[Symbol.iterator](): IterableIterator<JournalQuantum> {
    for (let i = 0; i < this.tasks.length; i++) yield this.at(i);
  }
}

/** Folds the events of one run into a `RunRecord`. */
export class RunJournal {
  private record: Omit<RunRecord, "quanta"> | undefined;
  private readonly quanta = new JournalQuanta();
  private plan: PlanTask[] = [];
  private ingest: RunRecord["ingest"];
  private graph: RunRecord["graph"];
  private readonly warnings: string[] = [];

  constructor(private readonly id: string) {}

  /** The task graph of the plan the run executes (tasks not in the run are left out when it starts). */
  notePlan(plan: PlanTask[]): void {
    this.plan = plan;
  }

  /** Adds one event of the run, emitted at `time` (ms since the epoch). */
  add(event: EventBody, time: number): void {
    const r = this.record;
    switch (event.event) {
      case "ingest-finished":
        this.ingest = { added: event.added, changed: event.changed, unchanged: event.unchanged, removed: event.removed, errors: event.errors };
        return;
      case "graph-built":
        this.graph = { quanta: event.quanta, datasets: event.datasets };
        return;
      case "plan-warning":
        this.warnings.push(event.message);
        return;
      case "run-started":
        this.start(event, time);
        return;
      case "quantum-finished":
        if (r !== undefined) this.quanta.push({ task: event.task, dataId: event.dataId, status: event.noWork ? "no-work" : "succeeded", startedAt: event.startedAt, durationMs: event.durationMs, attempt: 1 });
        return;
      case "quantum-failed":
        if (r !== undefined) this.quanta.push({ task: event.task, dataId: event.dataId, status: "failed", startedAt: event.startedAt, durationMs: event.durationMs, attempt: event.attempt, error: event.error, logTail: event.logTail });
        return;
      case "run-finished":
        if (r === undefined) return;
        Object.assign(r, { finishedAt: time, durationMs: event.durationMs, exitCode: event.exitCode, counts: event.counts, tasks: event.tasks });
        if (event.interrupted) r.interrupted = { signal: event.interrupted.signal, stopped: event.interrupted.stopped.length, notStarted: event.interrupted.notStarted };
        return;
      default:
        return;
    }
  }

  /** The record so far; undefined when the run never started (it stopped in planning). */
  toRecord(): RunRecord | undefined {
    const head = this.toRecordHead();
    return head && { ...head.record, quanta: [...head.quanta] };
  }

  /**
   * The record so far without its quanta, and its quanta to be read one by one (app/run-records.ts
   * writes them in chunks, never the whole record as one string); undefined as for `toRecord`.
   */
  toRecordHead(): { record: Omit<RunRecord, "quanta">; quanta: Iterable<JournalQuantum> } | undefined {
    return this.record && { record: { ...this.record, warnings: [...this.warnings] }, quanta: this.quanta };
  }

  private start(event: Extract<EventBody, { event: "run-started" }>, time: number): void {
    const inRun = new Set(event.tasks.map((t) => t.task));
    this.record = {
      format: 1,
      id: this.id,
      pipeline: event.pipeline,
      collection: event.collection,
      executor: event.executor,
      workers: event.workers,
      startedAt: time,
      tasks: event.tasks.map((t) => ({ task: t.task, total: t.total, ran: 0, upToDate: 0, failed: 0, blocked: 0, noWork: 0, durationMs: 0 })),
      ...(this.ingest && { ingest: this.ingest }),
      ...(this.graph && { graph: this.graph }),
      plan: this.plan.filter((t) => inRun.has(t.task)),
      warnings: [],
    };
  }
}

/**
 * A run's id: its start time in UTC, `YYYYMMDD-HHMMSS-mmm`, which sorts as the runs were made and
 * reads as a date.
 */
export function makeRunId(startedAt: number): string {
  const iso = new Date(startedAt).toISOString(); // 2026-12-06T02:15:50.123Z
  return `${iso.slice(0, 10).replaceAll("-", "")}-${iso.slice(11, 19).replaceAll(":", "")}-${iso.slice(20, 23)}`;
}
