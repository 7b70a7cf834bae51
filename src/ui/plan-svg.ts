/**
 * The plan as a picture for `quanta report`: an SVG of the task graph, top to bottom. Dataset types
 * that no task writes (the ingested inputs) stand in the first layer; each task stands one layer below
 * the lowest type it reads, and the types it writes one layer below it (a longest-path layering: every
 * edge points down). Each layer is centred. Tasks are boxes coloured by what they did in the run (failed,
 * ran, up to date); dataset types are rounded labels. Plain SVG, no script, no external reference.
 */
import type { TaskCounts } from "../core/events.js";
import type { PlanTask } from "../core/run-journal.js";
import { escapeHtml } from "./escape-html.js";

const COLUMN = 190;
const ROW = 72;
const NODE_WIDTH = 170;
const NODE_HEIGHT = 40;
const MARGIN = 16;

interface PlacedNode {
  id: string;
  kind: "task" | "type";
  label: string;
  detail: string;
  column: number;
  row: number;
  status: "failed" | "ran" | "up-to-date" | "blocked" | "input" | "dataset";
  /** Shifts the node across, to centre its layer. */
  offset?: number;
}

/** The SVG element (as text) of the plan's task graph, with each task's counts from the run. */
export function drawPlanSvg(plan: readonly PlanTask[], counts: readonly TaskCounts[]): string {
  const nodes = placeNodes(plan, counts);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  // `column` is the layer (drawn as a row), `row` the place in it (drawn across).
  const layers = Math.max(1, ...nodes.map((n) => n.column + 1));
  const across = Math.max(1, ...nodes.map((n) => n.row + 1));
  const width = MARGIN * 2 + (across - 1) * COLUMN + NODE_WIDTH;
  const height = MARGIN * 2 + (layers - 1) * ROW + NODE_HEIGHT;
  const inLayer = new Map<number, number>();
  for (const n of nodes) inLayer.set(n.column, Math.max(inLayer.get(n.column) ?? 0, n.row + 1));
  for (const n of nodes) n.offset = ((across - inLayer.get(n.column)!) * COLUMN) / 2;
  const edges = plan.flatMap((t) => [
    ...t.inputs.map((type) => drawEdge(byId.get(`type:${type}`)!, byId.get(`task:${t.task}`)!)),
    ...t.outputs.map((type) => drawEdge(byId.get(`task:${t.task}`)!, byId.get(`type:${type}`)!)),
  ]);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="plan" role="img" aria-label="the plan: tasks and the dataset types they read and write" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#667"/></marker></defs>`,
    ...edges,
    ...nodes.map(drawNode),
    `</svg>`,
  ].join("\n");
}

function placeNodes(plan: readonly PlanTask[], counts: readonly TaskCounts[]): PlacedNode[] {
  const produced = new Set(plan.flatMap((t) => t.outputs));
  const typeColumn = new Map<string, number>();
  for (const t of plan) for (const type of t.inputs) if (!produced.has(type)) typeColumn.set(type, 0);
  const taskColumn = new Map<string, number>();
  // The plan is in dependency order (producers first), so one pass places every node.
  for (const t of plan) {
    const column = 1 + Math.max(-1, ...t.inputs.map((type) => typeColumn.get(type) ?? 0));
    taskColumn.set(t.task, column);
    for (const type of t.outputs) typeColumn.set(type, Math.max(typeColumn.get(type) ?? 0, column + 1));
  }
  const countsOf = new Map(counts.map((c) => [c.task, c]));
  const nodes: PlacedNode[] = [
    ...[...typeColumn].sort(([a], [b]) => (a < b ? -1 : 1)).map(([type, column]): PlacedNode => {
      const status = produced.has(type) ? "dataset" : "input";
      return { id: `type:${type}`, kind: "type", label: type, detail: status === "input" ? "input" : "", column, row: 0, status };
    }),
    ...plan.map((t): PlacedNode => {
      const c = countsOf.get(t.task);
      return { id: `task:${t.task}`, kind: "task", label: t.task, detail: describeCounts(c), column: taskColumn.get(t.task)!, row: 0, status: classify(c) };
    }),
  ];
  const filled = new Map<number, number>();
  for (const n of nodes) {
    n.row = filled.get(n.column) ?? 0;
    filled.set(n.column, n.row + 1);
  }
  return nodes;
}

function classify(c: TaskCounts | undefined): PlacedNode["status"] {
  if (c === undefined) return "up-to-date";
  if (c.failed > 0) return "failed";
  if (c.blocked > 0 && c.ran === 0) return "blocked";
  return c.ran > 0 ? "ran" : "up-to-date";
}

function describeCounts(c: TaskCounts | undefined): string {
  if (c === undefined) return "";
  const parts = [`${c.ran} ran`, `${c.upToDate} up to date`];
  if (c.failed > 0) parts.push(`${c.failed} failed`);
  if (c.blocked > 0) parts.push(`${c.blocked} blocked`);
  return parts.join(" · ");
}

const FILL: Record<PlacedNode["status"], string> = {
  failed: "#fbd5d5",
  ran: "#d4f1dc",
  "up-to-date": "#e8eaf0",
  blocked: "#fdf0c4",
  input: "#ffffff",
  dataset: "#f6f7fb",
};

function position(n: PlacedNode): { x: number; y: number } {
  return { x: MARGIN + (n.offset ?? 0) + n.row * COLUMN, y: MARGIN + n.column * ROW };
}

function drawNode(n: PlacedNode): string {
  const { x, y } = position(n);
  const radius = n.kind === "task" ? 4 : NODE_HEIGHT / 2;
  const stroke = n.status === "failed" ? "#c0392b" : "#667";
  const title = n.detail === "" ? n.label : `${n.label}: ${n.detail}`;
  const lines =
    n.detail === ""
      ? `<text x="${x + NODE_WIDTH / 2}" y="${y + NODE_HEIGHT / 2 + 4}" text-anchor="middle">${escapeHtml(n.label)}</text>`
      : `<text x="${x + NODE_WIDTH / 2}" y="${y + 16}" text-anchor="middle" font-weight="${n.kind === "task" ? "bold" : "normal"}">${escapeHtml(n.label)}</text>` +
        `<text x="${x + NODE_WIDTH / 2}" y="${y + 31}" text-anchor="middle" class="detail">${escapeHtml(n.detail)}</text>`;
  return (
    `<g class="node ${n.kind} ${n.status}" data-node="${escapeHtml(n.id)}"><title>${escapeHtml(title)}</title>` +
    `<rect x="${x}" y="${y}" width="${NODE_WIDTH}" height="${NODE_HEIGHT}" rx="${radius}" fill="${FILL[n.status]}" stroke="${stroke}"/>${lines}</g>`
  );
}

function drawEdge(from: PlacedNode, to: PlacedNode): string {
  const a = position(from);
  const b = position(to);
  const x1 = a.x + NODE_WIDTH / 2;
  const y1 = a.y + NODE_HEIGHT;
  const x2 = b.x + NODE_WIDTH / 2;
  const y2 = b.y;
  const bend = (y2 - y1) / 2;
  return `<path class="edge" d="M${x1},${y1} C${x1},${y1 + bend} ${x2},${y2 - bend} ${x2},${y2}" fill="none" stroke="#667" marker-end="url(#arrow)"/>`;
}
