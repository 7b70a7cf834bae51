/**
 * Grouping a joined table by a task's quantum dimensions: each group is one candidate quantum, its members
 * the datasets (row refs) a connection reads there. Dimensions that are not grouped on but take one value
 * in every group (`band` when grouping calexps by visit) are "carried": they are implied by the grouped
 * ones in this data, so they travel with the quantum and its outputs to the tasks downstream.
 */
import type { DataIdValue } from "./data-id.js";
import { RowTable, makeKeyEncoder, type RowIndex } from "./join-table.js";

export interface RowGroups {
  /** The grouped dimensions. */
  readonly groupDims: readonly string[];
  /** Group number by the canonical key of the grouped dimensions. */
  readonly index: Map<string, number>;
  /** Per group, its first row in the grouped table. */
  readonly firstRows: number[];
  /** Per group, the distinct refs of its rows, in row order. */
  readonly members: number[][];
  /** The other dimensions of the table that take one value in every group. */
  readonly carriedDims: readonly string[];
}

/** Groups `table` by `groupDims` (each a dimension of the table). */
export function groupRowTable(table: RowTable, groupDims: readonly string[]): RowGroups {
  const encode = makeKeyEncoder(table.dims, groupDims);
  const otherCols: number[] = [];
  table.dims.forEach((d, c) => {
    if (!groupDims.includes(d)) otherCols.push(c);
  });
  const consistent = otherCols.map(() => true);
  const index = new Map<string, number>();
  const firstRows: number[] = [];
  const members: number[][] = [];
  const w = table.dims.length;
  const { values, refs } = table;
  for (let r = 0; r < table.size; r++) {
    const key = encode(values, r);
    const g = index.get(key);
    if (g === undefined) {
      index.set(key, firstRows.length);
      firstRows.push(r);
      members.push([refs[r]!]);
      continue;
    }
    const first = firstRows[g]!;
    for (let i = 0; i < otherCols.length; i++) {
      if (consistent[i] && values[r * w + otherCols[i]!] !== values[first * w + otherCols[i]!]) consistent[i] = false;
    }
    const list = members[g]!;
    if (list[list.length - 1] !== refs[r]) list.push(refs[r]!);
  }
  const carriedDims = otherCols.filter((_, i) => consistent[i]).map((c) => table.dims[c]!);
  return { groupDims, index, firstRows, members, carriedDims };
}

/**
 * One row per group, over the grouped and carried dimensions; `refs[g] = g`. With the index it can be
 * joined on exactly the grouped dimensions without building another index.
 */
export function tabulateGroups(table: RowTable, groups: RowGroups): { table: RowTable; index: RowIndex } {
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
  return { table: new RowTable(dims, values, refs), index: { keyDims: groups.groupDims, head: groups.index } };
}
