/**
 * The run's timeline for `quanta report`: an SVG with one row per task that ran something. A row holds
 * a band from the task's first start to its last end (its wall time) and, over it, one bar per quantum
 * from its start to its end, laid in lanes so that quanta that ran side by side are all seen (failed
 * ones red). An axis below counts seconds from the run's start. Every bar has a tooltip (`<title>`).
 * At most `MAX_BARS` quanta are drawn; past that, only the bands.
 */
import type { JournalQuantum, RunRecord } from "../core/run-journal.js";
import { escapeHtml } from "./escape-html.js";
import { formatDuration } from "./format-duration.js";

export const MAX_BARS = 5000;
const LABEL_WIDTH = 180;
const PLOT_WIDTH = 760;
const LANE = 5;
const MAX_LANES = 8;
const ROW_GAP = 10;
const AXIS = 28;

/** The SVG element (as text) of the run's timeline; an empty string when no quantum ran. */
export function drawTimelineSvg(record: RunRecord): string {
  const timed = record.quanta.filter((q): q is JournalQuantum & { startedAt: number } => q.startedAt !== undefined);
  if (timed.length === 0) return "";
  const start = Math.min(record.startedAt, ...timed.map((q) => q.startedAt));
  const end = Math.max(record.finishedAt ?? start, ...timed.map((q) => q.startedAt + q.durationMs));
  const span = Math.max(1, end - start);
  const scale = (t: number) => LABEL_WIDTH + ((t - start) / span) * PLOT_WIDTH;
  const drawBars = timed.length <= MAX_BARS;
  const parts: string[] = [];
  let y = 6;
  for (const task of record.tasks.map((t) => t.task)) {
    const quanta = timed.filter((q) => q.task === task);
    if (quanta.length === 0) continue;
    const lanes = drawBars ? assignLanes(quanta) : quanta.map(() => 0);
    const height = (Math.min(MAX_LANES, Math.max(...lanes) + 1) + 1) * LANE;
    const first = Math.min(...quanta.map((q) => q.startedAt));
    const last = Math.max(...quanta.map((q) => q.startedAt + q.durationMs));
    parts.push(
      `<g class="task-row" data-task="${escapeHtml(task)}">`,
      `<text x="${LABEL_WIDTH - 8}" y="${y + height / 2 + 4}" text-anchor="end">${escapeHtml(task)}</text>`,
      `<rect class="span" x="${scale(first).toFixed(1)}" y="${y}" width="${Math.max(1, scale(last) - scale(first)).toFixed(1)}" height="${height}" fill="#e3e8f4"><title>${escapeHtml(`${task}: ${quanta.length} quanta in ${formatDuration(last - first)} of wall time`)}</title></rect>`,
    );
    if (drawBars) quanta.forEach((q, i) => parts.push(drawBar(q, { x: scale(q.startedAt), width: (q.durationMs / span) * PLOT_WIDTH, y: y + LANE / 2 + (lanes[i]! % MAX_LANES) * LANE })));
    parts.push(`</g>`);
    y += height + ROW_GAP;
  }
  parts.push(...drawAxis(span, y, scale(start)));
  const width = LABEL_WIDTH + PLOT_WIDTH + 24;
  const height = y + AXIS;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img" aria-label="timeline of the run's quanta, per task" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    ...parts,
    `</svg>`,
  ].join("\n");
}

function drawBar(q: JournalQuantum, at: { x: number; width: number; y: number }): string {
  const colour = q.status === "failed" ? "#c0392b" : "#2e8b57";
  const name = q.dataId === "" ? q.task : `${q.task}@${q.dataId}`;
  return `<rect class="quantum ${q.status}" x="${at.x.toFixed(1)}" y="${at.y.toFixed(1)}" width="${Math.max(1, at.width).toFixed(1)}" height="${LANE - 1}" fill="${colour}"><title>${escapeHtml(`${name}: ${q.status}, ${formatDuration(q.durationMs)}`)}</title></rect>`;
}

/** Lanes so that no two quanta in one lane overlap in time (first fit, in start order). */
function assignLanes(quanta: readonly (JournalQuantum & { startedAt: number })[]): number[] {
  const order = quanta.map((_, i) => i).sort((a, b) => quanta[a]!.startedAt - quanta[b]!.startedAt);
  const laneEnds: number[] = [];
  const lanes: number[] = new Array<number>(quanta.length).fill(0);
  for (const i of order) {
    const q = quanta[i]!;
    let lane = laneEnds.findIndex((endsAt) => endsAt <= q.startedAt);
    if (lane < 0) lane = laneEnds.push(0) - 1;
    laneEnds[lane] = q.startedAt + q.durationMs;
    lanes[i] = lane;
  }
  return lanes;
}

function drawAxis(span: number, y: number, x0: number): string[] {
  const step = chooseStep(span);
  const out = [`<line x1="${x0}" y1="${y}" x2="${x0 + PLOT_WIDTH}" y2="${y}" stroke="#667"/>`];
  for (let t = 0; t <= span; t += step) {
    const x = x0 + (t / span) * PLOT_WIDTH;
    out.push(`<line x1="${x.toFixed(1)}" y1="${y}" x2="${x.toFixed(1)}" y2="${y + 4}" stroke="#667"/>`);
    out.push(`<text x="${x.toFixed(1)}" y="${y + 16}" text-anchor="middle" class="tick">${escapeHtml(formatDuration(t))}</text>`);
  }
  return out;
}

/** A round tick step that gives between 4 and 10 ticks. */
function chooseStep(span: number): number {
  for (const step of [100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000]) {
    if (span / step <= 10) return step;
  }
  return Math.ceil(span / 10 / 3_600_000) * 3_600_000;
}
