/**
 * How relations (and input types' data IDs) take part in one task's join. The rule, in the order the
 * planner applies it (docs/how-it-works.md, "How dimensions flow through relations"):
 *
 * 1. A connection with dimensions the task does not have (a gather: calexps per (visit, detector) read by
 *    a task per (visit, tract, patch)) is linked to the task's dimensions: a relation then says which of
 *    its datasets belong to which quantum. A connection within the task's dimensions is not linked: it
 *    reads the one dataset at the quantum's projection, and no relation restricts it.
 * 2. Quantum dimensions that no connection supplies are linked in once, on the joined candidates.
 * 3. Linking picks, each time, the table that supplies the most missing dimensions, then the one that
 *    brings the fewest dimensions the task does not need, then the first declared (relations first).
 * 4. A relation whose dimensions are all the task's restricts its quanta (a sample list), and so does a
 *    relation holding a `--where` dimension the task lacks (`patch = 2` keeps the visits that overlap
 *    patch 2), each on the dimensions it shares with the quanta.
 * 5. A carried dimension (one a row holds because it took one value along its lineage, `role` of an
 *    archive's members) is never a join key when another shared dimension can key the join; where two
 *    inputs carry different values of it, the quantum does not carry it.
 */
import type { DataIdValue } from "./data-id.js";
import type { GraphSources, LinkTable } from "./graph-sources.js";
import { groupRowTable, tabulateGroups, type RowGroups } from "./join-groups.js";
import type { JoinStep } from "./join-report.js";
import { RowTable, findRowsWhere, joinRowTables, makeKeyEncoder, type JoinedRows } from "./join-table.js";
import type { Connection, TaskNode } from "./pipeline.js";
import type { TypeStore } from "./graph-sources.js";

/** A connection's rows, grouped by the quantum dimensions they have. */
export interface ConnectionRows {
  readonly connection: Connection;
  readonly store: TypeStore;
  readonly table: RowTable;
  readonly groups: RowGroups;
}

/** The candidate quanta: one row each, and per connection (in `connections` order) the group each reads. */
export interface Candidates {
  readonly table: RowTable;
  readonly connections: readonly ConnectionRows[];
  readonly groupOf: readonly number[][];
}

/** Whether `connection` has a dimension the task does not: then relations say which datasets a quantum reads. */
export function isGather(connection: Connection, task: TaskNode): boolean {
  return connection.dimensions.some((d) => !task.dimensions.includes(d));
}

/**
 * The link to join next to a table over `dims`: one sharing a dimension with it that supplies the most of
 * `missing`, then brings the fewest dimensions outside `wanted`, then comes first.
 */
export function chooseLink(links: readonly LinkTable[], used: ReadonlySet<string>, dims: readonly string[], missing: readonly string[], wanted: readonly string[]): LinkTable | undefined {
  let best: LinkTable | undefined;
  let bestCount = 0;
  let bestExtra = 0;
  for (const link of links) {
    if (used.has(link.name) || !link.table.dims.some((d) => dims.includes(d))) continue;
    const count = missing.filter((d) => link.table.dims.includes(d)).length;
    const extra = link.table.dims.filter((d) => !wanted.includes(d) && !dims.includes(d)).length;
    if (count > bestCount || (count === bestCount && count > 0 && extra < bestExtra)) {
      best = link;
      bestCount = count;
      bestExtra = extra;
    }
  }
  return best;
}

/** `table` without the dimensions `drop` (same rows and refs). */
function dropDims(table: RowTable, drop: readonly string[]): RowTable {
  const keep = table.dims.filter((d) => !drop.includes(d));
  const cols = keep.map((d) => table.dims.indexOf(d));
  const w = table.dims.length;
  const values: DataIdValue[] = new Array(table.size * keep.length);
  for (let r = 0; r < table.size; r++) for (let j = 0; j < cols.length; j++) values[r * keep.length + j] = table.values[r * w + cols[j]!]!;
  return new RowTable(keep, values, table.refs);
}

/** The carried dimensions of `table` shared with `other` that must not key a join with it (rule 5). */
function unkeyedCarried(table: RowTable, other: readonly string[], carried: readonly string[]): string[] {
  const shared = table.dims.filter((d) => other.includes(d));
  const loose = shared.filter((d) => carried.includes(d));
  return loose.length < shared.length ? loose : [];
}

/** Joins `table` with a link table; carried dimensions shared with it take the link's values (rule 5). */
export function joinLink(table: RowTable, link: RowTable, carried: readonly string[]): JoinedRows {
  const loose = unkeyedCarried(table, link.dims, carried);
  return joinRowTables(loose.length === 0 ? table : dropDims(table, loose), link);
}

/**
 * Joins the grouped candidates so far (`left`) with one connection's groups (`right`): on the shared
 * dimensions, except carried ones (rule 5); a shared carried dimension stays only where both agree on
 * every joined row.
 */
export function joinGroupTables(left: RowTable, right: RowTable, keyDims: readonly string[], rightIndex: Parameters<typeof joinRowTables>[2]): JoinedRows {
  const loose = left.dims.filter((d) => right.dims.includes(d) && !keyDims.includes(d));
  if (loose.length === 0) return joinRowTables(left, right, rightIndex);
  const joined = joinRowTables(left, dropDims(right, loose), rightIndex);
  const t = joined.table;
  const disagree = loose.filter((d) => {
    const lc = t.dims.indexOf(d);
    const rc = right.dims.indexOf(d);
    for (let i = 0; i < t.size; i++) if (t.values[i * t.dims.length + lc] !== right.values[joined.rightRows[i]! * right.dims.length + rc]) return true;
    return false;
  });
  return disagree.length === 0 ? joined : { ...joined, table: dropDims(t, disagree) };
}

/**
 * Rule 2: links the candidates to the quantum dimensions none of their connections supplied, then keeps
 * one row per quantum. Returns the candidates unchanged when nothing is missing or nothing links.
 */
export function linkCandidates(sources: GraphSources, task: TaskNode, c: Candidates, steps: JoinStep[]): Candidates {
  if (task.dimensions.every((d) => c.table.dims.includes(d))) return c;
  const used = new Set(c.connections.map((cr) => cr.connection.type));
  const carried = c.table.dims.filter((d) => !task.dimensions.includes(d));
  let table = c.table;
  let origin: number[] = Array.from({ length: table.size }, (_, i) => i);
  for (;;) {
    const missing = task.dimensions.filter((d) => !table.dims.includes(d));
    const link = missing.length === 0 ? undefined : chooseLink(sources.links(), used, table.dims, missing, task.dimensions);
    if (link === undefined) break;
    used.add(link.name);
    const joined = joinLink(table, link.table, carried);
    origin = joined.leftRows.map((l) => origin[l]!);
    table = joined.table;
    steps.push({ kind: "link-quanta", via: link.name, viaKind: link.kind, rows: table.size });
  }
  if (table === c.table) return c;
  const groups = groupRowTable(table, task.dimensions.filter((d) => table.dims.includes(d)));
  const grouped = tabulateGroups(table, groups).table;
  const groupOf = c.groupOf.map((of) => groups.firstRows.map((r) => of[origin[r]!]!));
  return { table: grouped, connections: c.connections, groupOf };
}

/**
 * Rule 4: the candidate rows `kept` that relations restrict: those whose dimensions are all the task's,
 * and those holding a `--where` dimension the candidates lack.
 */
export function restrictCandidates(sources: GraphSources, task: TaskNode, table: RowTable, kept: number[], steps: JoinStep[]): number[] {
  const whereDims = sources.where?.dimensions.filter((d) => !table.dims.includes(d)) ?? [];
  const carried = table.dims.filter((d) => !task.dimensions.includes(d));
  let out = kept;
  for (const link of sources.links()) {
    if (link.kind !== "relation") continue;
    const dims = link.table.dims;
    const own = dims.length > 0 && dims.every((d) => task.dimensions.includes(d) && table.dims.includes(d));
    if (!own && !whereDims.some((d) => dims.includes(d))) continue;
    const shared = table.dims.filter((d) => dims.includes(d));
    const loose = unkeyedCarried(table, dims, carried);
    const keyDims = shared.filter((d) => !loose.includes(d));
    if (keyDims.length === 0) continue;
    const linkKey = makeKeyEncoder(dims, keyDims);
    const present = new Set<string>();
    for (let r = 0; r < link.table.size; r++) present.add(linkKey(link.table.values, r));
    const rowKey = makeKeyEncoder(table.dims, keyDims);
    out = out.filter((r) => present.has(rowKey(table.values, r)));
    steps.push({ kind: "restrict", via: link.name, dimensions: keyDims, rows: out.length });
  }
  return out;
}

/** The candidate rows under `--where` (all of them without one). */
export function findCandidatesWhere(sources: GraphSources, table: RowTable, steps: JoinStep[]): number[] {
  if (sources.where === undefined) return Array.from({ length: table.size }, (_, i) => i);
  const kept = findRowsWhere(table, sources.where.dimensions, sources.where.predicate);
  steps.push({ kind: "where", rows: kept.length });
  return kept;
}
