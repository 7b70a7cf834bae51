/**
 * `quanta report`'s page: one self-contained HTML file for one run. Sections: the run (what, where,
 * when, the verdict and counts), the plan as a picture (plan-svg.ts), the timeline per task
 * (timeline-svg.ts) with a table of times, the failures with their logs, and what ran and why, per task.
 *
 * Self-contained: styles, the SVGs and the one small script are inline, and a Content-Security-Policy
 * forbids loading anything else, so the page reads the same offline, attached to a mail, years later.
 * The script only formats times in the reader's time zone and marks the page rendered
 * (`<html data-report-ready="yes">`); without it the page reads the same, with UTC times.
 */
import type { JournalQuantum, RunRecord } from "../core/run-journal.js";
import { measureWallTime } from "../core/run-tally.js";
import { escapeHtml } from "./escape-html.js";
import { formatDuration } from "./format-duration.js";
import { drawPlanSvg } from "./plan-svg.js";
import { drawTimelineSvg } from "./timeline-svg.js";

/** What the page shows of one execution record (its full log and why it ran). */
export interface ReportExecution {
  log: string;
  reasons: string[];
  host: string;
}

export interface ReportInput {
  record: RunRecord;
  /** By execution id; quanta whose execution is not there show their log tail and no reasons. */
  executions: ReadonlyMap<string, ReportExecution>;
  /** quanta's version, for the footer. */
  version: string;
}

/** Quanta listed per task under "what ran and why"; the others are counted. */
export const WHY_ROWS_PER_TASK = 500;
/** Log lines shown per failure (the last ones); `quanta log` prints all. */
export const LOG_LINES = 200;

const CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

export function renderRunReport(input: ReportInput): string {
  const { record } = input;
  const title = `quanta run ${record.id}: ${record.pipeline}`;
  return [
    `<!DOCTYPE html>`,
    `<html lang="en">`,
    `<head>`,
    `<meta charset="utf-8">`,
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    `<meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    `</head>`,
    `<body>`,
    `<h1>${escapeHtml(title)}</h1>`,
    renderOverview(record),
    `<h2 id="plan">The plan</h2>`,
    `<p class="note">Tasks (boxes) and the dataset types they read and write; green: ran, grey: up to date, red: failed, yellow: blocked.</p>`,
    `<div class="figure">${drawPlanSvg(record.plan, record.tasks)}</div>`,
    renderTimes(record),
    renderFailures(input),
    renderWhy(input),
    `<footer>Made by quanta ${escapeHtml(input.version)} from the journal of run ${escapeHtml(record.id)}. <span id="report-ready"></span></footer>`,
    `<script>${SCRIPT}</script>`,
    `</body>`,
    `</html>`,
    ``,
  ].join("\n");
}

function renderOverview(r: RunRecord): string {
  const c = r.counts;
  const verdict = r.interrupted ? `interrupted by ${r.interrupted.signal}` : r.exitCode === undefined ? "did not finish" : c && c.failed + c.blocked > 0 ? "failed" : "succeeded";
  const rows: [string, string][] = [
    ["pipeline", escapeHtml(r.pipeline)],
    ["output collection", escapeHtml(r.collection)],
    ["started", formatTime(r.startedAt)],
    ["wall time", r.durationMs === undefined ? "unknown" : formatDuration(r.durationMs)],
    ["executor", `${escapeHtml(r.executor)}, ${r.workers} ${r.workers === 1 ? "worker" : "workers"}`],
    ["result", `<strong class="${verdict === "succeeded" ? "ok" : "bad"}">${escapeHtml(verdict)}</strong>${r.exitCode === undefined ? "" : ` (exit code ${r.exitCode})`}`],
  ];
  if (c) rows.push(["quanta", `${c.ran} ran${c.noWork ? ` (${c.noWork} with no work)` : ""}, ${c.upToDate} up to date, ${c.failed} failed, ${c.blocked} blocked`]);
  if (r.graph) rows.push(["graph", `${r.graph.quanta} quanta, ${r.graph.datasets} datasets`]);
  if (r.ingest) rows.push(["ingest", `${r.ingest.added} added, ${r.ingest.changed} changed, ${r.ingest.unchanged} unchanged, ${r.ingest.removed} removed${r.ingest.errors ? `, ${r.ingest.errors} problems` : ""}`]);
  if (r.interrupted) rows.push(["interrupted", `${r.interrupted.stopped} stopped while running, ${r.interrupted.notStarted} not started`]);
  const table = `<table class="overview">${rows.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join("")}</table>`;
  const warnings = r.warnings.length === 0 ? "" : `<ul class="warnings">${r.warnings.map((w) => `<li>warning: ${escapeHtml(w)}</li>`).join("")}</ul>`;
  return table + warnings;
}

function renderTimes(r: RunRecord): string {
  const timeline = drawTimelineSvg(r);
  const rows = r.tasks
    .map((t) => `<tr><td>${escapeHtml(t.task)}</td><td>${t.total}</td><td>${t.ran}</td><td>${t.upToDate}</td><td>${t.failed}</td><td>${t.blocked}</td><td>${formatDuration(measureWallTime([t]))}</td><td>${formatDuration(t.durationMs)}</td></tr>`)
    .join("");
  return [
    `<h2 id="timeline">Timeline</h2>`,
    timeline === ""
      ? `<p class="note">No quantum ran in this run: everything was up to date.</p>`
      : `<p class="note">One row per task that ran: its band spans the first start to the last end of its quanta; each bar is a quantum (red: failed). Hover for names.</p><div class="figure">${timeline}</div>`,
    `<table class="times"><thead><tr><th>task</th><th>quanta</th><th>ran</th><th>up to date</th><th>failed</th><th>blocked</th><th>wall time</th><th>sum of quanta</th></tr></thead><tbody>${rows}</tbody></table>`,
  ].join("\n");
}

function renderFailures({ record, executions }: ReportInput): string {
  const failed = record.quanta.filter((q) => q.status === "failed");
  if (failed.length === 0) return `<h2 id="failures">Failures</h2><p class="note">None.</p>`;
  const sections = failed.map((q) => {
    const exec = q.executionId === undefined ? undefined : executions.get(q.executionId);
    const lines = exec ? exec.log.replace(/\n$/, "").split("\n") : (q.logTail ?? []);
    const shown = lines.slice(-LOG_LINES);
    const cut = lines.length > shown.length ? `<p class="note">the last ${shown.length} of ${lines.length} lines; <code>quanta log ${escapeHtml(nameOf(q))}</code> prints all</p>` : "";
    const log = shown.join("\n").trim() === "" ? `<p class="note">(no log output)</p>` : `${cut}<pre class="log">${escapeHtml(shown.join("\n"))}</pre>`;
    return (
      `<section class="failure"><h3>✗ ${escapeHtml(nameOf(q))}</h3>` +
      `<p>failed after ${formatDuration(q.durationMs)} (attempt ${q.attempt})${exec ? ` on ${escapeHtml(exec.host)}` : ""}:</p>` +
      `<pre class="error">${escapeHtml(q.error ?? "")}</pre>${log}</section>`
    );
  });
  return `<h2 id="failures">Failures (${failed.length})</h2>\n${sections.join("\n")}`;
}

function renderWhy({ record, executions }: ReportInput): string {
  const parts = [`<h2 id="why">What ran and why</h2>`];
  if (record.quanta.length === 0) parts.push(`<p class="note">Nothing ran.</p>`);
  for (const t of record.tasks) {
    const quanta = record.quanta.filter((q) => q.task === t.task);
    if (quanta.length === 0) continue;
    const rows = quanta.slice(0, WHY_ROWS_PER_TASK).map((q) => {
      const exec = q.executionId === undefined ? undefined : executions.get(q.executionId);
      const why = exec?.reasons.length ? exec.reasons.map((w) => escapeHtml(w)).join("<br>") : `<span class="note">not recorded</span>`;
      return `<tr class="${q.status}"><td>${escapeHtml(q.dataId === "" ? "(no data ID)" : q.dataId)}</td><td>${q.status}</td><td>${formatDuration(q.durationMs)}</td><td>${why}</td></tr>`;
    });
    const more = quanta.length > WHY_ROWS_PER_TASK ? `<p class="note">… and ${quanta.length - WHY_ROWS_PER_TASK} more; <code>quanta log</code> shows any of them.</p>` : "";
    parts.push(
      `<details${record.tasks.length <= 12 ? " open" : ""}><summary><strong>${escapeHtml(t.task)}</strong>: ${quanta.length} ran or failed, ${t.upToDate} up to date</summary>` +
        `<table class="why"><thead><tr><th>data ID</th><th>status</th><th>time</th><th>why it ran</th></tr></thead><tbody>${rows.join("")}</tbody></table>${more}</details>`,
    );
  }
  return parts.join("\n");
}

function nameOf(q: JournalQuantum): string {
  return q.dataId === "" ? q.task : `${q.task}@${q.dataId}`;
}

/** A `<time>` in UTC; the page's script rewrites it in the reader's time zone. */
function formatTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `<time datetime="${iso}" data-ms="${ms}">${iso.replace("T", " ").replace(/\.\d+Z$/, " UTC")}</time>`;
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #1d2330; }
h1 { font-size: 1.5em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #d8dce6; } h3 { margin: 0.6em 0 0.2em; color: #c0392b; }
table { border-collapse: collapse; margin: 0.6em 0; } th, td { padding: 2px 10px; text-align: left; vertical-align: top; }
table.times td:not(:first-child), table.times th:not(:first-child) { text-align: right; }
table.times tbody tr:nth-child(odd), table.why tbody tr:nth-child(odd) { background: #f4f6fa; }
table.overview th { color: #5a6275; font-weight: normal; }
tr.failed td { color: #c0392b; }
.ok { color: #1e7d45; } .bad { color: #c0392b; }
.note { color: #5a6275; } .warnings { color: #9a6a00; }
.figure { overflow-x: auto; border: 1px solid #e1e4ec; padding: 6px; background: #fff; }
svg text { font: 12px system-ui, sans-serif; fill: #1d2330; } svg text.detail, svg text.tick { font-size: 11px; fill: #5a6275; }
pre { background: #f4f6fa; padding: 8px; overflow-x: auto; white-space: pre-wrap; } pre.error { background: #fbecec; }
details { margin: 0.4em 0; } summary { cursor: pointer; }
footer { margin-top: 3em; color: #5a6275; font-size: 0.9em; }
`;

const SCRIPT = `
for (const el of document.querySelectorAll("time[data-ms]")) {
  el.textContent = new Date(Number(el.dataset.ms)).toLocaleString();
  el.title = el.getAttribute("datetime");
}
document.getElementById("report-ready").textContent = "Times are shown in your time zone.";
document.documentElement.dataset.reportReady = "yes";
`;
