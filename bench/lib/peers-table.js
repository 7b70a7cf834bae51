/** The chain workload's scenarios and its comparison table (shared by peers.js and peers-merge.js). */
import { formatMs, formatRatio, formatRss, markdownTable } from "./measure.js";

export const SCENARIOS = ["cold", "no-op", "change", "touch"];

/** One result as "wall (steps ran, peak RSS)"; ⚠ marks a step count other than expected. */
function cell(result) {
  if (!result) return "–";
  if (!result.ok) return result.timedOut ? "timeout" : "failed";
  const mark = result.unexpected ? " ⚠" : "";
  return `${formatMs(result.wallMs)} (${result.ran} ran${mark}, ${formatRss(result.peakRssKb)})`;
}

/** A markdown table for one N: a column per tool, then quanta's time over each peer's. */
export function peersTable(n, byTool, tools) {
  const peers = tools.filter((t) => t !== "quanta");
  const header = ["scenario", ...tools, ...(tools.includes("quanta") ? peers.map((p) => `quanta/${p}`) : [])];
  const rows = SCENARIOS.map((s) => {
    const q = byTool.quanta?.[s];
    return [
      s,
      ...tools.map((t) => cell(byTool[t]?.[s])),
      ...(tools.includes("quanta") ? peers.map((p) => (q?.ok && byTool[p]?.[s]?.ok ? formatRatio(q.wallMs, byTool[p][s].wallMs) : "–")) : []),
    ];
  });
  return `### N = ${n.toLocaleString("en-US")} chains (${(3 * n + 1).toLocaleString("en-US")} steps)\n\n${markdownTable(header, rows)}\n`;
}
