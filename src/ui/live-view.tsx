/**
 * The live terminal view (ink). Loaded only by `createReporter` when stdout is a terminal, so plain and
 * JSON runs never pay for ink and React.
 *
 * Two parts. Above, ink's `<Static>` log: the first `FAILURES_SHOWN` failures of a run (quantum, error
 * and log tail; a line at the end of the run counts the others) and each run's summary table, printed
 * once and left in the scrollback. Below, the redrawn part: a header, one row per
 * task with a bar and counts, the longest-running quanta, and the watch state. Events only fold into
 * the model; a timer redraws at most `fps` times a second, and less often when drawing is slow (see
 * RENDER_BUDGET), so the cost of the view does not grow with the number of quanta. A run's start is
 * drawn at once, and `close()` draws the final state.
 */
import { relative } from "node:path";
import { Box, Static, Text, render, type Instance } from "ink";
import type { QuantaEvent, Reporter } from "../core/events.js";
import { FailureLimit } from "./failure-limit.js";
import { formatDuration } from "./format-duration.js";
import { formatQuantumName } from "./format-quantum-name.js";
import { formatSummary } from "./format-summary.js";
import { formatStatus } from "./format-status.js";
import { layoutTaskRows, type TaskRow } from "./layout-task-rows.js";
import { createRunState, foldRunState, listRunning, sumTasks, type RunState } from "./run-state.js";
import { stripEscapes } from "./strip-escapes.js";
import { truncateText } from "./truncate-text.js";
import { systemClock, type UiClock } from "./ui-clock.js";
import { waitForDrain } from "./wait-for-drain.js";
import { wrapText } from "./wrap-text.js";

/** Something printed once above the live area and kept in the scrollback. */
export type StaticEntry =
  | { kind: "failure"; event: Extract<QuantaEvent, { event: "quantum-failed" }> }
  | { kind: "summary"; event: Extract<QuantaEvent, { event: "run-finished" }> }
  | { kind: "status"; event: Extract<QuantaEvent, { event: "status" }> }
  | { kind: "message"; text: string }
  /** The closing line of a run with more failures than shown: wrapped, not cut (it names a command). */
  | { kind: "note"; text: string };

export interface LiveViewProps {
  state: RunState;
  /** Append-only: ink's `<Static>` prints each entry once, when it first appears. */
  entries: readonly StaticEntry[];
  now: number;
  columns: number;
  /** Running quanta shown at most (default 5). */
  maxRunning?: number;
  /** Log lines shown per failure (default 8). */
  logLines?: number;
}

/** The whole screen: the static log, then the live area while a run is going (or watch mode waits). */
export function LiveView(props: LiveViewProps) {
  const { entries, columns } = props;
  return (
    <Box flexDirection="column" width={columns}>
      <Static items={entries.map((entry, index) => ({ entry, index }))}>
        {({ entry, index }) => (
          <Box key={index} flexDirection="column" width={columns}>
            <StaticEntryView entry={entry} columns={columns} logLines={props.logLines ?? 8} />
          </Box>
        )}
      </Static>
      <LiveArea {...props} />
    </Box>
  );
}

function LiveArea({ state, now, columns, maxRunning = 5 }: LiveViewProps) {
  const watchLines = formatWatchLines(state);
  if (state.phase !== "running") {
    if (watchLines.length === 0) return null;
    return (
      <Box flexDirection="column">
        {watchLines.map((line, i) => (
          <Text key={i} dimColor>
            {truncateText(line, columns)}
          </Text>
        ))}
      </Box>
    );
  }
  const table = layoutTaskRows(state, now, columns);
  const running = listRunning(state);
  return (
    <Box flexDirection="column">
      <Text bold>{truncateText(formatHeader(state, now), columns)}</Text>
      <Text dimColor>{table.header}</Text>
      {table.rows.map((row, i) => (
        <TaskRowView key={i} row={row} />
      ))}
      <TaskRowView row={table.total} bold />
      {running.length > 0 && <Text dimColor>{`running (${running.length}):`}</Text>}
      {running.slice(0, maxRunning).map((r) => {
        const elapsed = formatDuration(now - r.startedAt).padStart(7);
        const name = truncateText(formatQuantumName(r), columns - 2 - elapsed.length - 1);
        return <Text key={r.quantum}>{`  ${name.padEnd(columns - 3 - elapsed.length)} ${elapsed}`}</Text>;
      })}
      {running.length > maxRunning && <Text dimColor>{`  … and ${running.length - maxRunning} more`}</Text>}
      {state.failures.length > 0 && wrapText(formatFailedLine(state), columns).map((line, i) => <Text key={`failed-${i}`} color="red">{line}</Text>)}
    </Box>
  );
}

function TaskRowView({ row, bold = false }: { row: TaskRow; bold?: boolean }) {
  return (
    <Text bold={bold}>
      {row.name} <Text color={row.hasFailed ? "red" : "green"}>{row.barDone}</Text>
      <Text dimColor>{row.barTodo}</Text> {row.progress}
      {row.slurm && <Text color="cyan">{` ${row.slurm.queued}`}</Text>}
      {row.slurm && ` ${row.slurm.running}`} <Text dimColor>{row.upToDate}</Text> {row.ran}{" "}
      <Text color={row.hasFailed ? "red" : undefined}>{row.failed}</Text>{" "}
      <Text color={row.hasBlocked ? "yellow" : undefined}>{row.blocked}</Text> {row.eta}
      {row.slurm && <Text dimColor>{` ${row.slurm.jobs}`}</Text>}
    </Text>
  );
}

function StaticEntryView({ entry, columns, logLines }: { entry: StaticEntry; columns: number; logLines: number }) {
  switch (entry.kind) {
    case "failure": {
      const e = entry.event;
      const [head, ...rest] = stripEscapes(e.error).split("\n");
      const tail = [...rest, ...e.logTail.map(stripEscapes)].slice(-logLines);
      const title = `✗ ${formatQuantumName(e)} failed after ${formatDuration(e.durationMs)}:`;
      // The error matters more than the data ID: when both do not fit on one line, the error wraps below.
      const fits = title.length + 1 + head.length <= columns;
      return (
        <>
          <Text color="red" bold>
            {fits ? `${title} ${head}` : truncateText(title, columns)}
          </Text>
          {!fits && (
            <Box paddingLeft={2} width={columns}>
              <Text color="red">{head}</Text>
            </Box>
          )}
          {tail.map((line, i) => (
            <Text key={i} dimColor>
              {truncateText(`    ${line}`.trimEnd(), columns)}
            </Text>
          ))}
        </>
      );
    }
    case "summary":
      return (
        <>
          {formatSummary(entry.event, columns).map((line, i) => (
            <Text key={i} bold={i === 0}>
              {line}
            </Text>
          ))}
        </>
      );
    case "status":
      return (
        <>
          {formatStatus(entry.event, columns).map((line, i) => (
            <Text key={i}>{line}</Text>
          ))}
        </>
      );
    case "message":
      return <Text>{truncateText(entry.text, columns)}</Text>;
    case "note":
      return <Text wrap="wrap">{entry.text}</Text>;
    default: {
      const unknown: never = entry;
      return unknown;
    }
  }
}

/** `3 failed (logs above)`, or, past the failures shown, `9980 failed (the first 20 above; …)`. */
export function formatFailedLine(state: RunState): string {
  const failed = sumTasks(state).failed;
  const shown = state.failures.length;
  if (failed <= shown) return `${failed} failed (logs above)`;
  return `${failed} failed (the first ${shown} above; \`quanta log QUANTUM\` shows any other)`;
}

/** `sky → collection sky · pool, 8 workers · 1m02s`. */
export function formatHeader(state: RunState, now: number): string {
  const workers = state.workers === 1 ? "1 worker" : `${state.workers} workers`;
  const elapsed = formatDuration(now - (state.startedAt ?? now));
  return `${state.pipeline ?? "?"} → collection ${state.collection ?? "?"} · ${state.executor ?? "?"}, ${workers} · ${elapsed}`;
}

/** A path as typed from the working directory, when it is under it. */
function shortPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === "" || rel.startsWith("..") ? path : rel;
}

/** What watch mode shows below the last summary: what it watches, the last change, why the last pass ran what it ran. */
export function formatWatchLines(state: RunState): string[] {
  const w = state.watch;
  if (w === undefined || (state.phase === "running" && w.time < (state.startedAt ?? 0))) return [];
  switch (w.state) {
    case "waiting": {
      const lines = [`watching ${w.paths} paths for changes (q or Ctrl-C to quit)`];
      const c = w.lastChange;
      if (c !== undefined) lines.push(`last change ${new Date(c.time).toTimeString().slice(0, 8)}: ${c.paths.map(shortPath).join(", ")}${c.more > 0 ? ` and ${c.more} more` : ""}`);
      for (const why of w.why ?? []) lines.push(`  why ${why}`);
      return lines;
    }
    case "changed":
      return [`changed: ${w.paths.join(", ")}`];
    case "error":
      return [`waiting for a valid pipeline: ${w.message.split("\n")[0]}`];
    default: {
      const unknown: never = w;
      return unknown;
    }
  }
}

/** The static entry an event adds, if any. */
export function toStaticEntry(event: QuantaEvent): StaticEntry | undefined {
  switch (event.event) {
    case "quantum-failed":
      return { kind: "failure", event };
    case "run-finished":
      return { kind: "summary", event };
    case "status":
      return { kind: "status", event };
    case "watch-error":
      return { kind: "message", text: `watch: error: ${stripEscapes(event.message)}` };
    case "plan-warning":
      return { kind: "message", text: `warning: ${stripEscapes(event.message)}` };
    default:
      return undefined;
  }
}

/** The largest share of the wall time the live view may spend drawing. */
export const RENDER_BUDGET = 0.02;

/**
 * The longest the view waits between two draws. The first draw (ink warming up) costs far more than
 * the steady ones; without a bound, one slow draw would freeze the rows for many seconds.
 */
export const MAX_DRAW_GAP_MS = 2000;

export interface LiveReporterOptions {
  stdout: NodeJS.WriteStream;
  clock?: UiClock;
  /** Redraws per second at most (default 10). */
  fps?: number;
}

/** Renders the live view to `stdout` (a terminal) until `close()`, which leaves the static log on screen. */
export function createLiveReporter(options: LiveReporterOptions): Reporter {
  const { stdout, clock = systemClock } = options;
  const fps = options.fps ?? 10;
  let state = createRunState();
  // Events wait here until the next draw, which folds them in one go (see foldRunState).
  let pending: QuantaEvent[] = [];
  const entries: StaticEntry[] = [];
  // Each failure laid out costs the view more than the engine spends on a quantum: the first few are shown.
  const failures = new FailureLimit();
  let closed = false;

  const view = () => {
    if (pending.length > 0) {
      state = foldRunState(state, pending);
      pending = [];
    }
    return <LiveView state={state} entries={entries.slice()} now={clock.now()} columns={Math.max(40, stdout.columns || 80)} />;
  };
  // maxFps 0: ink draws on every rerender; our timer is the throttle (ink's own runs on real time, not `clock`).
  const instance: Instance = render(view(), { stdout, patchConsole: false, exitOnCtrlC: false, maxFps: 0 });
  // Drawing is not free (ink lays out and measures every character): after a draw that took d ms, the
  // next waits d / RENDER_BUDGET ms (at most MAX_DRAW_GAP_MS), so steady drawing takes no more than
  // that share of the run, however slow the machine or busy the CPU. A draw that printed new static
  // entries is not held against the next: laying out a failure is a one-off cost (FAILURES_SHOWN a run).
  let nextDrawAt = -Infinity;
  let entriesDrawn = 0;
  const redraw = () => {
    const start = clock.now();
    instance.rerender(view());
    const end = clock.now();
    const printed = entries.length > entriesDrawn;
    entriesDrawn = entries.length;
    nextDrawAt = printed ? end : end + Math.min(MAX_DRAW_GAP_MS, (end - start) / RENDER_BUDGET);
  };
  // While a run is going, redraw every tick even without events: elapsed times move.
  const stopTimer = clock.every(Math.ceil(1000 / fps), () => {
    if (!closed && (pending.length > 0 || state.phase === "running") && clock.now() >= nextDrawAt) redraw();
  });

  return {
    onEvent(event: QuantaEvent) {
      if (closed) return;
      pending.push(event);
      const shown = failures.admit(event);
      if (event.event === "run-finished") {
        const hidden = failures.formatHidden(event);
        if (hidden !== undefined) entries.push({ kind: "note", text: hidden });
      }
      const entry = event.event === "quantum-failed" && !shown ? undefined : toStaticEntry(event);
      if (entry) entries.push(entry);
      // Draw the table as soon as a run starts, so even a run shorter than one tick shows it.
      if (event.event === "run-started") redraw();
    },
    async close() {
      if (closed) return;
      closed = true;
      stopTimer();
      instance.rerender(view());
      instance.unmount();
      await instance.waitUntilExit();
      await waitForDrain(stdout);
    },
  };
}
