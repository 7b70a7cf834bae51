/**
 * Grouping a joined table by a task's quantum dimensions: each group is one candidate quantum, its members
 * the datasets (row refs) a connection reads there. Dimensions that are not grouped on but take one value
 * in every group (`band` when grouping calexps by visit) are "carried": they are implied by the grouped
 * ones in this data, so they travel with the quantum and its outputs to the tasks downstream.
 */
import type { DataIdValue } from "./data-id.js";
import { RowTable, makeRowKeyEncoder, planKeySpec, type KeySpec, type RowIndex, type RowKey } from "./join-table.js";

export interface RowGroups {
  /** The grouped dimensions. */
  readonly groupDims: readonly string[];
  /** How `index` keys the grouped dimensions. */
  readonly spec: KeySpec;
  /** Group number by key. */
  readonly index: Map<RowKey, number>;
  /** Per group, its first row in the grouped table. */
  readonly firstRows: number[];
  /** Per group, the distinct refs of its rows, in row order: a number for a group of one (most are). */
  readonly members: (number | number[])[];
  /** The other dimensions of the table that take one value in every group. */
  readonly carriedDims: readonly string[];
  /** Set when group g is row g of the grouped table and that row's ref is g (see `groupUniqueRows`). */
  readonly rowsAreGroups?: boolean;
}

/** Groups `table` by `groupDims` (each a dimension of the table). */
export function groupRowTable(table: RowTable, groupDims: readonly string[]): RowGroups {
  const spec = planKeySpec(table, groupDims);
  const encode = makeRowKeyEncoder(spec, table.dims);
  const otherCols: number[] = [];
  table.dims.forEach((d, c) => {
    if (!groupDims.includes(d)) otherCols.push(c);
  });
  const consistent = otherCols.map(() => true);
  const index = new Map<RowKey, number>();
  const firstRows: number[] = [];
  const members: (number | number[])[] = [];
  const w = table.dims.length;
  const { values, refs } = table;
  for (let r = 0; r < table.size; r++) {
    const key = encode(values, r);
    const g = index.get(key);
    if (g === undefined) {
      index.set(key, firstRows.length);
      firstRows.push(r);
      members.push(refs[r]!);
      continue;
    }
    const first = firstRows[g]!;
    for (let i = 0; i < otherCols.length; i++) {
      if (consistent[i] && values[r * w + otherCols[i]!] !== values[first * w + otherCols[i]!]) consistent[i] = false;
    }
    const list = members[g]!;
    if (typeof list === "number") {
      if (list !== refs[r]) members[g] = [list, refs[r]!];
    } else if (list[list.length - 1] !== refs[r]) list.push(refs[r]!);
  }
  const carriedDims = otherCols.filter((_, i) => consistent[i]).map((c) => table.dims[c]!);
  return { groupDims, spec, index, firstRows, members, carriedDims };
}

/** The number of members of group `g`. */
export function countMembers(groups: RowGroups, g: number): number {
  const m = groups.members[g]!;
  return typeof m === "number" ? 1 : m.length;
}

/** The members of group `g`, as a new array. */
export function listMembers(groups: RowGroups, g: number): number[] {
  const m = groups.members[g]!;
  return typeof m === "number" ? [m] : m.slice();
}

/**
 * The groups of a table whose rows are already unique on `groupDims` and whose refs are their row
 * numbers: a task's outputs, read by a task with the same dimensions. One group per row; nothing is
 * hashed until a join asks for the index.
 */
export function groupUniqueRows(table: RowTable, groupDims: readonly string[]): RowGroups {
  const n = table.size;
  const firstRows: number[] = new Array(n);
  for (let i = 0; i < n; i++) firstRows[i] = i;
  let built: { spec: KeySpec; index: Map<RowKey, number> } | undefined;
  const build = (): { spec: KeySpec; index: Map<RowKey, number> } => {
    if (built !== undefined) return built;
    const spec = planKeySpec(table, groupDims);
    const encode = makeRowKeyEncoder(spec, table.dims);
    const index = new Map<RowKey, number>();
    for (let r = 0; r < n; r++) index.set(encode(table.values, r), r);
    return (built = { spec, index });
  };
  return {
    groupDims,
    get spec() {
      return build().spec;
    },
    get index() {
      return build().index;
    },
    firstRows,
    members: table.refs,
    carriedDims: table.dims.filter((d) => !groupDims.includes(d)),
    rowsAreGroups: true,
  };
}

/**
 * One row per group, over the grouped and carried dimensions; `refs[g] = g`. With the index it can be
 * joined on exactly the grouped dimensions without building another index.
 */
export function tabulateGroups(table: RowTable, groups: RowGroups): { table: RowTable; index: RowIndex } {
  if (groups.rowsAreGroups) {
    return {
      table,
      get index() {
        return { spec: groups.spec, head: groups.index };
      },
    };
  }
  const dims = [...groups.groupDims, ...groups.carriedDims];
  const cols = dims.map((d) => table.dims.indexOf(d));
  const w = table.dims.length;
  const n = groups.firstRows.length;
  const values: DataIdValue[] = new Array(n * dims.length);
  const refs: number[] = new Array(n);
  for (let g = 0; g < n; g++) {
    const base = groups.firstRows[g]! * w;
    for (let j = 0; j < cols.length; j++) values[g * dims.length + j] = table.values[base + cols[j]!]!;
    refs[g] = g;
  }
  return { table: new RowTable(dims, values, refs), index: { spec: groups.spec, head: groups.index } };
}
