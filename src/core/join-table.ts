/**
 * The row tables the graph builder joins: rows of dimension values stored flat (no object per row), so a
 * join over a million rows costs a few arrays, not a million objects.
 *
 * A `RowTable` over `dims` of width w holds row i's value of `dims[j]` at `values[i * w + j]`, and
 * `refs[i]`: what the row stands for (a dataset's index for dataset tables, -1 for relation rows).
 * Keys are canonical data ID encodings (`encodeDataId`) of a projection of a row, so a key computed here
 * equals the key of the projected data ID everywhere else.
 */
import type { DataId, DataIdValue } from "./data-id.js";
import { formatDataIdValue } from "./data-id.js";

export class RowTable {
  constructor(
    readonly dims: readonly string[],
    readonly values: DataIdValue[],
    readonly refs: number[],
  ) {}

  get size(): number {
    return this.refs.length;
  }

  /** A table of the given data IDs, each over (at least) `dims`; `refs[i]` is `i`. */
  static fromDataIds(dims: readonly string[], dataIds: readonly DataId[]): RowTable {
    const values: DataIdValue[] = [];
    const refs: number[] = [];
    for (let i = 0; i < dataIds.length; i++) {
      const dataId = dataIds[i]!;
      for (const d of dims) {
        const v = dataId[d];
        if (v === undefined) throw new Error(`internal error: data ID has no dimension ${d}`);
        values.push(v);
      }
      refs.push(i);
    }
    return new RowTable(dims, values, refs);
  }

  /** Row `row` as a data ID over `dims` (all of them when omitted). */
  dataIdOf(row: number, dims: readonly string[] = this.dims): DataId {
    const out: Record<string, DataIdValue> = {};
    const w = this.dims.length;
    for (const d of dims) out[d] = this.values[row * w + this.dims.indexOf(d)]!;
    return out;
  }

  /** The rows `keep` (in that order), with their refs. */
  selectRows(keep: readonly number[]): RowTable {
    const w = this.dims.length;
    const values: DataIdValue[] = new Array(keep.length * w);
    const refs: number[] = new Array(keep.length);
    for (let i = 0; i < keep.length; i++) {
      const r = keep[i]!;
      for (let j = 0; j < w; j++) values[i * w + j] = this.values[r * w + j]!;
      refs[i] = this.refs[r]!;
    }
    return new RowTable(this.dims, values, refs);
  }
}

/** Computes the canonical key of a row's projection onto some of a table's dimensions. */
export type KeyEncoder = (values: readonly DataIdValue[], row: number) => string;

const formatted = new Map<string, string>();

function formatValue(v: DataIdValue): string {
  if (typeof v === "number") return String(v);
  let f = formatted.get(v);
  if (f === undefined) {
    f = formatDataIdValue(v);
    if (formatted.size < 100_000) formatted.set(v, f);
  }
  return f;
}

/** An encoder of `keyDims` (each one of `tableDims`) for rows of a table over `tableDims`. */
export function makeKeyEncoder(tableDims: readonly string[], keyDims: readonly string[]): KeyEncoder {
  const names = [...keyDims].sort();
  const cols = names.map((n) => {
    const c = tableDims.indexOf(n);
    if (c < 0) throw new Error(`internal error: no dimension ${n} in (${tableDims.join(", ")})`);
    return c;
  });
  const prefixes = names.map((n, i) => (i === 0 ? `${n}=` : `,${n}=`));
  const w = tableDims.length;
  if (cols.length === 0) return () => "";
  if (cols.length === 1) {
    const c = cols[0]!;
    const p = prefixes[0]!;
    return (values, row) => p + formatValue(values[row * w + c]!);
  }
  return (values, row) => {
    const base = row * w;
    let out = "";
    for (let i = 0; i < cols.length; i++) out += prefixes[i]! + formatValue(values[base + cols[i]!]!);
    return out;
  };
}

/** Rows grouped by a key: `head` maps a key to its first row, `next[row]` chains the rows sharing it. */
export interface RowIndex {
  readonly keyDims: readonly string[];
  readonly head: Map<string, number>;
  /** Absent when every key has one row. */
  readonly next?: Int32Array;
}

export function indexRowTable(table: RowTable, keyDims: readonly string[]): RowIndex {
  const encode = makeKeyEncoder(table.dims, keyDims);
  const head = new Map<string, number>();
  const next = new Int32Array(table.size).fill(-1);
  const last = new Map<string, number>();
  for (let r = 0; r < table.size; r++) {
    const key = encode(table.values, r);
    const prev = last.get(key);
    if (prev === undefined) head.set(key, r);
    else next[prev] = r;
    last.set(key, r);
  }
  return { keyDims, head, next };
}

/** A natural join's result: the rows, and for each which left and right row it came from. */
export interface JoinedRows {
  readonly table: RowTable;
  readonly leftRows: number[];
  readonly rightRows: number[];
}

/**
 * The natural join of `left` and `right` on their shared dimensions (all pairs when none are shared).
 * Output dims: left's, then right's others; output refs: left's. Rows come in left order, then right order.
 */
export function joinRowTables(left: RowTable, right: RowTable, rightIndex?: RowIndex): JoinedRows {
  const shared = left.dims.filter((d) => right.dims.includes(d));
  const index = rightIndex ?? indexRowTable(right, shared);
  if (index.keyDims.length !== shared.length || !shared.every((d) => index.keyDims.includes(d))) {
    throw new Error("internal error: join index over the wrong dimensions");
  }
  const extra = right.dims.filter((d) => !shared.includes(d)).map((d) => right.dims.indexOf(d));
  const dims = [...left.dims, ...extra.map((c) => right.dims[c]!)];
  const encode = makeKeyEncoder(left.dims, shared);
  const lw = left.dims.length;
  const rw = right.dims.length;
  const values: DataIdValue[] = [];
  const refs: number[] = [];
  const leftRows: number[] = [];
  const rightRows: number[] = [];
  for (let l = 0; l < left.size; l++) {
    let r = index.head.get(encode(left.values, l));
    while (r !== undefined && r >= 0) {
      for (let j = 0; j < lw; j++) values.push(left.values[l * lw + j]!);
      for (const c of extra) values.push(right.values[r * rw + c]!);
      refs.push(left.refs[l]!);
      leftRows.push(l);
      rightRows.push(r);
      r = index.next ? index.next[r] : -1;
    }
  }
  return { table: new RowTable(dims, values, refs), leftRows, rightRows };
}

/** The indices of the rows for which `keep(dataId)` holds, the data ID holding only those of `dims` the table has. */
export function findRowsWhere(table: RowTable, dims: readonly string[], keep: (dataId: DataId) => boolean): number[] {
  const present = dims.filter((d) => table.dims.includes(d));
  const cols = present.map((d) => table.dims.indexOf(d));
  const w = table.dims.length;
  const kept: number[] = [];
  for (let r = 0; r < table.size; r++) {
    const dataId: Record<string, DataIdValue> = {};
    for (let i = 0; i < present.length; i++) dataId[present[i]!] = table.values[r * w + cols[i]!]!;
    if (keep(dataId)) kept.push(r);
  }
  return kept;
}

/** The table restricted to the rows for which `keep` holds (see `findRowsWhere`). */
export function filterRowTable(table: RowTable, dims: readonly string[], keep: (dataId: DataId) => boolean): RowTable {
  const kept = findRowsWhere(table, dims, keep);
  return kept.length === table.size ? table : table.selectRows(kept);
}
