/**
 * One task's quanta. For each non-prerequisite input connection, its rows (the datasets it can read, with
 * every dimension known along their lineage) are joined with relations until they have the task's
 * quantum dimensions, then grouped by them: a group is a candidate quantum and the datasets it reads
 * through that connection. The candidates of all connections are joined on shared dimensions (a quantum
 * needs every input), restricted by `--where`, checked against `multiple`/`minimum`, sorted by data ID,
 * and given their prerequisites and outputs.
 *
 * Joining connections after grouping (not before) keeps two `multiple` inputs of one quantum from
 * multiplying into each other's rows.
 */
import type { DataIdValue } from "./data-id.js";
import { encodeDataId } from "./data-id.js";
import { makeGraphError, type GraphError } from "./graph-error.js";
import { formatRef } from "./graph-names.js";
import type { GraphSources, TypeStore } from "./graph-sources.js";
import { countMembers, groupRowTable, groupUniqueRows, listMembers, tabulateGroups } from "./join-groups.js";
import type { JoinStep, TaskReport } from "./join-report.js";
import { RowTable, makeKeyEncoder } from "./join-table.js";
import type { Connection, TaskNode } from "./pipeline.js";
import { TaskQuantaBuilder } from "./graph-assembly.js";
import type { TaskQuanta } from "./quantum-graph.js";
import { makePrerequisiteReader } from "./graph-prerequisites.js";
import {
  chooseLink,
  findCandidatesWhere,
  isGather,
  joinGroupTables,
  joinLink,
  linkCandidates,
  restrictCandidates,
  type Candidates,
  type ConnectionRows,
} from "./graph-relations.js";

export type TaskPlan = { ok: true; quanta: TaskQuanta; report: TaskReport } | { ok: false; error: GraphError };

type Result<T> = { ok: true; value: T } | { ok: false; error: GraphError };

/** Plans the quanta of `task`, numbering them from `firstId`; adds its outputs to `sources`. */
export function planTaskQuanta(sources: GraphSources, task: TaskNode, firstId: number): TaskPlan {
  const steps: JoinStep[] = [];
  const rows: ConnectionRows[] = [];
  for (const connection of Object.values(task.inputs)) {
    if (connection.prerequisite) continue;
    const read = readConnectionRows(sources, task, connection, steps);
    if (!read.ok) return read;
    rows.push(read.value);
  }
  const candidates = linkCandidates(sources, task, joinCandidates(task, rows, steps), steps);
  const missing = task.dimensions.filter((d) => !candidates.table.dims.includes(d));
  if (missing.length > 0) return { ok: false, error: unsuppliedError(task, missing) };
  const kept = restrictCandidates(sources, task, candidates.table, findCandidatesWhere(sources, candidates.table, steps), steps);
  const checked = checkMultiplicity(task, candidates, kept, steps);
  if (!checked.ok) return checked;
  const sorted = sortRows(candidates.table, task.dimensions, checked.value);
  const emitted = emitQuanta(sources, task, candidates, sorted, firstId);
  if (!emitted.ok) return emitted;
  const report: TaskReport = { task: task.label, dimensions: task.dimensions, steps, quanta: emitted.value.count };
  return { ok: true, quanta: emitted.value, report };
}

function readConnectionRows(sources: GraphSources, task: TaskNode, connection: Connection, steps: JoinStep[]): Result<ConnectionRows> {
  const source = sources.readSource(connection, task.label);
  if (!source.ok) return source;
  const { store } = source;
  steps.push({
    kind: "read",
    connection: connection.name,
    type: connection.type,
    dimensions: connection.dimensions,
    ...(store.producerTask === undefined ? {} : { producer: store.producerTask }),
    rows: source.table.size,
  });
  const table = isGather(connection, task) ? linkToDimensions(sources, connection, source.table, task.dimensions, steps) : source.table;
  const groupDims = task.dimensions.filter((d) => table.dims.includes(d));
  const unique = store.producerTask !== undefined && table === source.table && sameDimensions(groupDims, store.dimensions);
  const groups = unique ? groupUniqueRows(table, groupDims) : groupRowTable(table, groupDims);
  steps.push({ kind: "group", connection: connection.name, dimensions: groupDims, groups: groups.firstRows.length });
  return { ok: true, value: { connection, store, table, groups } };
}

function sameDimensions(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((d) => b.includes(d));
}

/**
 * Joins a gathering connection's rows with relations (then input types' data IDs) until they have every
 * dimension of `wanted` (see graph-relations.ts for which link comes first). Stops when no link helps;
 * the rows then cover part of the quantum.
 */
function linkToDimensions(
  sources: GraphSources,
  connection: Connection,
  table: RowTable,
  wanted: readonly string[],
  steps: JoinStep[],
): RowTable {
  const used = new Set([connection.type]);
  const carried = table.dims.filter((d) => !connection.dimensions.includes(d) && !wanted.includes(d));
  let out = table;
  for (;;) {
    const missing = wanted.filter((d) => !out.dims.includes(d));
    const best = missing.length === 0 ? undefined : chooseLink(sources.links(), used, out.dims, missing, wanted);
    if (best === undefined) return out;
    used.add(best.name);
    out = sources.applyWhere(joinLink(out, best.table, carried).table);
    steps.push({ kind: "link", connection: connection.name, via: best.name, viaKind: best.kind, rows: out.size });
  }
}

/** Joins the connections' groups, the ones grouped on most quantum dimensions first. */
function joinCandidates(task: TaskNode, rows: readonly ConnectionRows[], steps: JoinStep[]): Candidates {
  const ordered = [...rows].sort(
    (a, b) => b.groups.groupDims.length - a.groups.groupDims.length || (a.connection.name < b.connection.name ? -1 : 1),
  );
  let table = new RowTable([], [], [0]);
  let groupOf: number[][] = [];
  for (const r of ordered) {
    const grouped = tabulateGroups(r.table, r.groups);
    const shared = table.dims.filter((d) => grouped.table.dims.includes(d));
    const unit = table.dims.length === 0 && table.size === 1;
    const keyed = !unit && r.groups.groupDims.every((d) => shared.includes(d));
    const joined = joinGroupTables(table, grouped.table, task.dimensions, keyed ? grouped.index : undefined);
    groupOf = groupOf.map((of) => joined.leftRows.map((l) => of[l]!));
    groupOf.push(joined.rightRows);
    table = joined.table;
    steps.push({ kind: "join", connection: r.connection.name, rows: table.size });
  }
  return { table, connections: ordered, groupOf };
}

function unsuppliedError(task: TaskNode, missing: readonly string[]): GraphError {
  return makeGraphError(
    "unsupplied-dimension",
    `task "${task.label}" has quantum dimension${missing.length > 1 ? "s" : ""} ${missing.join(", ")}, which none of its inputs has and no relation links to them`,
    "declare a relation under inputs: whose dimensions join its inputs' to the missing ones",
  );
}

/** Drops candidates short of a `minimum`; a non-`multiple` input finding several datasets is an error. */
function checkMultiplicity(task: TaskNode, c: Candidates, kept: number[], steps: JoinStep[]): Result<number[]> {
  const encode = makeKeyEncoder(c.table.dims, task.dimensions);
  let out = kept;
  c.connections.forEach((cr, k) => {
    const of = c.groupOf[k]!;
    if (!cr.connection.multiple) return;
    const next = out.filter((row) => countMembers(cr.groups, of[row]!) >= cr.connection.minimum);
    if (next.length < out.length) {
      const example = out.find((row) => countMembers(cr.groups, of[row]!) < cr.connection.minimum)!;
      const dropped = out.length - next.length;
      steps.push({ kind: "minimum", connection: cr.connection.name, minimum: cr.connection.minimum, dropped, example: formatRef(task.label, encode(c.table.values, example)) });
    }
    out = next;
  });
  for (let k = 0; k < c.connections.length; k++) {
    const cr = c.connections[k]!;
    if (cr.connection.multiple) continue;
    const row = out.find((r) => countMembers(cr.groups, c.groupOf[k]![r]!) > 1);
    if (row === undefined) continue;
    const found = listMembers(cr.groups, c.groupOf[k]![row]!).map((ref) => formatRef(cr.connection.type, refKey(cr.store, ref)));
    const quantum = formatRef(task.label, encode(c.table.values, row));
    return {
      ok: false,
      error: makeGraphError(
        "ambiguous-input",
        `task "${task.label}" reads one "${cr.connection.type}" per quantum (connection "${cr.connection.name}"), but ${quantum} finds ${found.length}: ${found.slice(0, 3).join(", ")}${found.length > 3 ? ", ..." : ""}`,
        `declare the connection multiple, or give the task the dimensions that tell them apart`,
      ),
    };
  }
  return { ok: true, value: out };
}

/** The canonical key of a row ref of a connection's store (a local index if produced, else available). */
function refKey(store: TypeStore, ref: number): string {
  return store.producedDataIds !== undefined ? store.producedDataIds.key(ref) : encodeDataId(store.available![ref]!);
}

/** The rows in data ID order of the quantum dimensions (numbers numerically, strings by code unit). */
function sortRows(table: RowTable, dims: readonly string[], rows: number[]): number[] {
  const cols = [...dims].sort().map((d) => table.dims.indexOf(d));
  const w = table.dims.length;
  const v = table.values;
  return rows.sort((a, b) => {
    for (const c of cols) {
      const x = v[a * w + c]!;
      const y = v[b * w + c]!;
      if (x === y) continue;
      if (typeof x === "number" && typeof y === "number") return x - y;
      return String(x) < String(y) ? -1 : 1;
    }
    return 0;
  });
}

/** Reads one input connection of the quantum at a candidate row: type-local indices, or why not. */
export type InputReader = (row: number, quantumKey: () => string) => number[] | GraphError;

/** Creates the quanta of the sorted candidate rows and their outputs; the outputs' rows feed downstream. */
function emitQuanta(sources: GraphSources, task: TaskNode, c: Candidates, rows: readonly number[], firstId: number): Result<TaskQuanta> {
  const builder = new TaskQuantaBuilder(task, firstId);
  const cols = builder.dataIds.names.map((d) => c.table.dims.indexOf(d));
  const w = c.table.dims.length;
  const encode = makeKeyEncoder(c.table.dims, builder.dataIds.names);
  const readers = makeInputReaders(sources, task, c);
  if (!readers.ok) return readers;
  const stores = Object.values(task.outputs).map((o) => sources.producedStore(o, task.label));
  for (const store of stores) store.producedFirst = firstId;
  const values: DataIdValue[] = new Array(cols.length);
  const inputs: number[][] = new Array(readers.value.length);
  const outputs: number[] = new Array(stores.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    for (let j = 0; j < cols.length; j++) values[j] = c.table.values[row * w + cols[j]!]!;
    const key = (): string => encode(c.table.values, row);
    for (let k = 0; k < readers.value.length; k++) {
      const read = readers.value[k]!(row, key);
      if (!Array.isArray(read)) return { ok: false, error: read };
      inputs[k] = read;
    }
    for (let k = 0; k < stores.length; k++) outputs[k] = stores[k]!.size++;
    builder.add(values, inputs, outputs);
  }
  const quanta = builder.finish();
  const produced = selectProducedRows(c.table, rows);
  for (const store of stores) {
    store.table = produced;
    store.producedDataIds = quanta.dataIds;
  }
  return { ok: true, value: quanta };
}

/** The rows of the quanta, in quantum order, with refs their local output indices (sharing values when nothing moved). */
function selectProducedRows(table: RowTable, rows: readonly number[]): RowTable {
  const refs: number[] = new Array(rows.length);
  let moved = rows.length !== table.size;
  for (let i = 0; i < rows.length; i++) {
    refs[i] = i;
    if (rows[i] !== i) moved = true;
  }
  return moved ? new RowTable(table.dims, table.selectRows(rows).values, refs) : new RowTable(table.dims, table.values, refs);
}

/** One reader per input connection, in declaration order. */
function makeInputReaders(sources: GraphSources, task: TaskNode, c: Candidates): Result<InputReader[]> {
  const readers: InputReader[] = [];
  for (const connection of Object.values(task.inputs)) {
    if (connection.prerequisite) {
      const reader = makePrerequisiteReader(sources, task, connection, c.table);
      if (!reader.ok) return reader;
      readers.push(reader.value);
      continue;
    }
    const k = c.connections.findIndex((cr) => cr.connection.name === connection.name);
    const { store, groups } = c.connections[k]!;
    const of = c.groupOf[k]!;
    if (store.producerTask !== undefined) {
      readers.push((row) => {
        const m = groups.members[of[row]!]!;
        return typeof m === "number" ? [m] : m;
      });
    } else {
      readers.push((row) => {
        const m = groups.members[of[row]!]!;
        return typeof m === "number" ? [sources.useAvailable(store, m)] : m.map((ref) => sources.useAvailable(store, ref));
      });
    }
  }
  return { ok: true, value: readers };
}
