/**
 * Checks the order and the sums of an event stream against the rules in src/core/events.ts, counting
 * on its own (not with core/run-tally.ts, which it checks). Throws an error naming the first rule
 * broken and the event that broke it.
 */
import type { QuantaEvent, RunCounts, TaskCounts } from "../../src/core/events.js";

type Of<N extends QuantaEvent["event"]> = Extract<QuantaEvent, { event: N }>;
type QuantumEvent = Of<"quantum-started" | "quantum-finished" | "quantum-up-to-date" | "quantum-failed" | "quantum-retrying" | "quantum-blocked">;

const QUANTUM_EVENTS = new Set(["quantum-started", "quantum-finished", "quantum-up-to-date", "quantum-failed", "quantum-retrying", "quantum-blocked"]);
const RUN_EVENTS = new Set([...QUANTUM_EVENTS, "task-up-to-date", "task-finished"]);

function fail(rule: string, event?: QuantaEvent): never {
  throw new Error(`${rule}${event === undefined ? "" : `: ${JSON.stringify(event)}`}`);
}

function expectEqual(what: string, actual: unknown, expected: unknown): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) fail(`${what}: ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
}

/** The beginning shared by runs and `status`: ingest problems and their count, plan warnings, graph-built. */
function checkPreamble(events: QuantaEvent[], from: number): { next: number; graph?: Of<"graph-built"> } {
  let i = from;
  let problems = 0;
  while (events[i]?.event === "ingest-problem") (i++, problems++);
  if (events[i]?.event === "ingest-finished") {
    const ingest = events[i++] as Of<"ingest-finished">;
    expectEqual("ingest-finished.errors (one ingest-problem each, before it)", ingest.errors, problems);
  } else if (problems > 0) fail("ingest-problem without ingest-finished after it", events[i]);
  while (events[i]?.event === "plan-warning") i++;
  const graph = events[i]?.event === "graph-built" ? (events[i++] as Of<"graph-built">) : undefined;
  return { next: i, graph };
}

/** Checks times never go back (every event is stamped when emitted). */
function checkTimes(events: QuantaEvent[]): void {
  for (let i = 1; i < events.length; i++) if (events[i]!.time < events[i - 1]!.time) fail("time went back", events[i]);
}

/**
 * A run's stream (`run`, `exec`): `graph-built` (required when `graphBuilt`) before `run-started`;
 * per quantum, started → finished / failed / retrying (→ started again); one settling event per quantum;
 * `task-finished` after its task's last quantum event, with the counts of those events; `run-finished`
 * last, its per-task counts those of the events and its totals their sums.
 */
export function checkRunStream(events: QuantaEvent[], options: { graphBuilt?: boolean } = {}): Of<"run-finished"> {
  checkTimes(events);
  const { next, graph } = checkPreamble(events, 0);
  if (options.graphBuilt !== false && graph === undefined) fail("no graph-built before run-started", events[next]);
  const started = events[next];
  if (started?.event !== "run-started") fail("run-started expected after the preamble", started);
  const finished = events.at(-1);
  if (finished?.event !== "run-finished") fail("run-finished is not the last event", finished);
  const total = started.tasks.reduce((sum, t) => sum + t.total, 0);
  if (graph !== undefined) {
    expectEqual("graph-built tasks", graph.tasks.map((t) => [t.task, t.quanta]), started.tasks.map((t) => [t.task, t.total]));
    expectEqual("graph-built quanta", graph.quanta, total);
  }
  const counts = new Map(started.tasks.map((t) => [t.task, { task: t.task, total: t.total, ran: 0, upToDate: 0, failed: 0, blocked: 0, noWork: 0, durationMs: 0 } as TaskCounts]));
  const settledOf = (c: TaskCounts) => c.ran + c.upToDate + c.failed + c.blocked;
  const taskFinished = new Set<string>();
  const quanta = new QuantumStates();
  for (const e of events.slice(next + 1, -1)) {
    if (!RUN_EVENTS.has(e.event)) fail("an event that does not belong inside a run", e);
    const task = e.event === "task-finished" ? e.counts.task : (e as { task: string }).task;
    const c = counts.get(task) ?? fail("an event of a task run-started did not announce", e);
    if (taskFinished.has(task)) fail("an event of a task after its task-finished", e);
    if (e.event === "task-finished") {
      if (settledOf(c) !== c.total) fail(`task-finished before all of its quanta settled (${settledOf(c)} of ${c.total})`, e);
      expectEqual(`task-finished counts of ${task} (the counts of its quantum events)`, e.counts, c);
      taskFinished.add(task);
      continue;
    }
    if (e.event === "task-up-to-date") {
      if (settledOf(c) !== 0) fail("task-up-to-date after quantum events of its task", e);
      c.upToDate += e.quanta;
      continue;
    }
    quanta.apply(e as QuantumEvent, c);
    if (settledOf(c) > c.total) fail(`more quanta settled than task ${task} has`, e);
  }
  for (const c of counts.values()) {
    if (settledOf(c) === c.total && !taskFinished.has(c.task)) fail(`task ${c.task} settled without task-finished`);
  }
  checkRunFinished(finished, [...counts.values()], quanta, total);
  return finished;
}

function checkRunFinished(finished: Of<"run-finished">, tasks: TaskCounts[], quanta: QuantumStates, total: number): void {
  expectEqual("run-finished tasks (the counts of the quantum events)", finished.tasks, tasks);
  const sum: RunCounts = { ran: 0, upToDate: 0, failed: 0, blocked: 0, noWork: 0 };
  for (const t of tasks) for (const k of Object.keys(sum) as (keyof RunCounts)[]) sum[k] += t[k];
  expectEqual("run-finished counts (the sums of its tasks)", finished.counts, sum);
  const settled = sum.ran + sum.upToDate + sum.failed + sum.blocked;
  const running = quanta.unsettled();
  if (finished.interrupted === undefined) {
    if (running.length > 0) fail(`quanta started and never settled: ${running.join(", ")}`);
    expectEqual("settled quanta", settled, total);
    expectEqual("exit code", finished.exitCode, sum.failed + sum.blocked > 0 ? 1 : 0);
    return;
  }
  expectEqual("interrupted.stopped (started, never settled)", finished.interrupted.stopped.map((q) => q.quantum).sort(), running.sort());
  expectEqual("interrupted.notStarted", finished.interrupted.notStarted, total - settled - running.length);
  expectEqual("exit code of an interrupted run", finished.exitCode, 130);
}

/**
 * A task's span: the first `startedAt` and the last `startedAt + durationMs` of its quanta that ran or
 * failed. A quantum that started ends no later than its event.
 */
function widenSpan(c: TaskCounts, e: Of<"quantum-finished" | "quantum-failed">): void {
  if (e.startedAt === undefined) {
    if (e.durationMs > 0) fail(`${e.event} of a quantum that ran, without startedAt`, e);
    return;
  }
  if (e.startedAt + e.durationMs > e.time) fail("a quantum's end (startedAt + durationMs) after its event", e);
  c.startedAt = Math.min(c.startedAt ?? e.startedAt, e.startedAt);
  c.finishedAt = Math.max(c.finishedAt ?? 0, e.startedAt + e.durationMs);
}

/** Each quantum's state: not seen, running (attempt n), retrying (attempt n next), settled. */
class QuantumStates {
  private readonly state = new Map<number, { ref: string; running: boolean; next: number; settled: boolean }>();

  apply(e: QuantumEvent, c: TaskCounts): void {
    const ref = `${e.task}@${e.dataId}`;
    let s = this.state.get(e.quantum);
    if (s === undefined) this.state.set(e.quantum, (s = { ref, running: false, next: 1, settled: false }));
    if (s.ref !== ref) fail(`quantum ${e.quantum} was ${s.ref}`, e);
    if (s.settled) fail("an event of a quantum already settled", e);
    switch (e.event) {
      case "quantum-started":
        if (s.running || e.attempt !== s.next) fail(`quantum-started out of turn (attempt ${s.next} expected${s.running ? ", already running" : ""})`, e);
        s.running = true;
        return;
      case "quantum-retrying":
        if (!s.running || e.attempt !== s.next + 1) fail("quantum-retrying without a running attempt before it", e);
        s.running = false;
        s.next = e.attempt;
        return;
      case "quantum-finished":
        if (!s.running && !(e.noWork && e.durationMs === 0)) fail("quantum-finished without quantum-started (only a no-work quantum may)", e);
        c.ran++;
        if (e.noWork) c.noWork++;
        c.durationMs += e.durationMs;
        widenSpan(c, e);
        break;
      case "quantum-failed":
        // Without quantum-started when the attempt could not even start.
        if (e.attempt !== s.next) fail(`quantum-failed of attempt ${e.attempt}, attempt ${s.next} expected`, e);
        c.failed++;
        c.durationMs += e.durationMs;
        widenSpan(c, e);
        break;
      case "quantum-up-to-date":
      case "quantum-blocked":
        if (s.running || s.next > 1) fail(`${e.event} of a quantum that started`, e);
        if (e.event === "quantum-up-to-date") c.upToDate++;
        else c.blocked++;
        break;
    }
    s.running = false;
    s.settled = true;
  }

  /** The quanta started and never settled (stopped by an interrupt). */
  unsettled(): number[] {
    return [...this.state].filter(([, s]) => s.running).map(([q]) => q);
  }
}

/** `status`'s stream: the preamble, then `status`, whose per-task counts add up to its totals and the graph. */
export function checkStatusStream(events: QuantaEvent[]): Of<"status"> {
  checkTimes(events);
  const { next, graph } = checkPreamble(events, 0);
  const status = events[next];
  if (graph === undefined || status?.event !== "status" || next !== events.length - 1) fail("status expects: ingest, plan warnings, graph-built, status", status);
  for (const t of status.tasks) expectEqual(`status of task ${t.task}: total`, t.willRun + t.mayRun + t.upToDate + t.blocked, t.total);
  const sum = { willRun: 0, mayRun: 0, upToDate: 0, blocked: 0 };
  for (const t of status.tasks) (sum.willRun += t.willRun), (sum.mayRun += t.mayRun), (sum.upToDate += t.upToDate), (sum.blocked += t.blocked);
  expectEqual("status counts (the sums of its tasks)", status.counts, sum);
  expectEqual("status tasks (graph-built's)", status.tasks.map((t) => [t.task, t.total]), graph.tasks.map((t) => [t.task, t.quanta]));
  return status;
}
