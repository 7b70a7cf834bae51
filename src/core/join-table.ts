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

/**
 * How a join or grouping keys rows on some dimensions. When every key value is an integer and the
 * value ranges multiply to less than 2^30, a key is a small integer (mixed radix over `mins`/`spans`),
 * which costs no allocation; otherwise it is the canonical string. Both sides of a join use one spec.
 */
export interface KeySpec {
  /** The key dimensions, sorted. */
  readonly dims: readonly string[];
  /** Numeric keys: per dimension the smallest value and the range width; absent for string keys. */
  readonly mins?: readonly number[];
  readonly spans?: readonly number[];
}

export type RowKey = string | number;
export type RowKeyEncoder = (values: readonly DataIdValue[], row: number) => RowKey;

const NUMERIC_KEY_LIMIT = 2 ** 30;

/** A key spec for `keyDims` over the rows of `table`. */
export function planKeySpec(table: RowTable, keyDims: readonly string[]): KeySpec {
  const dims = [...keyDims].sort();
  const w = table.dims.length;
  const mins: number[] = [];
  const spans: number[] = [];
  let product = 1;
  for (const d of dims) {
    const c = table.dims.indexOf(d);
    let min = Infinity;
    let max = -Infinity;
    for (let r = 0; r < table.size; r++) {
      const v = table.values[r * w + c];
      if (typeof v !== "number" || !Number.isInteger(v)) return { dims };
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const span = table.size === 0 ? 1 : max - min + 1;
    product *= span;
    if (product >= NUMERIC_KEY_LIMIT) return { dims };
    mins.push(table.size === 0 ? 0 : min);
    spans.push(span);
  }
  return { dims, mins, spans };
}

/** An encoder of `spec` for rows of a table over `tableDims`; numeric keys out of range encode to -1. */
export function makeRowKeyEncoder(spec: KeySpec, tableDims: readonly string[]): RowKeyEncoder {
  if (spec.mins === undefined || spec.spans === undefined) return makeKeyEncoder(tableDims, spec.dims);
  const cols = spec.dims.map((d) => tableDims.indexOf(d));
  const { mins, spans } = spec;
  const w = tableDims.length;
  if (cols.length === 0) return () => 0;
  if (cols.length === 1) {
    const c = cols[0]!;
    const min = mins[0]!;
    const span = spans[0]!;
    return (values, row) => {
      const x = (values[row * w + c] as number) - min;
      return x >= 0 && x < span && Number.isInteger(x) ? x : -1;
    };
  }
  return (values, row) => {
    let key = 0;
    for (let i = 0; i < cols.length; i++) {
      const x = (values[row * w + cols[i]!] as number) - mins[i]!;
      if (!(x >= 0 && x < spans[i]! && Number.isInteger(x))) return -1;
      key = key * spans[i]! + x;
    }
    return key;
  };
}

/** Rows grouped by a key: `head` maps a key to its first row, `next[row]` chains the rows sharing it. */
export interface RowIndex {
  readonly spec: KeySpec;
  readonly head: Map<RowKey, number>;
  /** Absent when every key has one row. */
  readonly next?: Int32Array;
}

/** An index of `table` on `keyDims`; each chain lists its rows in ascending order. */
export function indexRowTable(table: RowTable, keyDims: readonly string[]): RowIndex {
  const spec = planKeySpec(table, keyDims);
  const encode = makeRowKeyEncoder(spec, table.dims);
  const head = new Map<RowKey, number>();
  const next = new Int32Array(table.size);
  for (let r = table.size - 1; r >= 0; r--) {
    const key = encode(table.values, r);
    next[r] = head.get(key) ?? -1;
    head.set(key, r);
  }
  return { spec, head, next };
}

/** A natural join's result: the rows, and for each which left and right row it came from. */
export interface JoinedRows {
  readonly table: RowTable;
  readonly leftRows: number[];
  readonly rightRows: number[];
}

/**
 * The natural join of `left` and `right` on their shared dimensions (all pairs when none are shared).
 * `rightIndex`, when given, may key on part of the shared dimensions; the others are compared per match.
 * Output dims: left's, then right's others; output refs: left's. Rows come in left order, then right order.
 */
export function joinRowTables(left: RowTable, right: RowTable, rightIndex?: RowIndex): JoinedRows {
  const shared = left.dims.filter((d) => right.dims.includes(d));
  if (left.dims.length === 0 && left.size === 1) return selectAll(right, left.refs[0]!);
  const index = rightIndex ?? indexRowTable(right, shared);
  if (!index.spec.dims.every((d) => shared.includes(d))) throw new Error("internal error: join index over the wrong dimensions");
  const checked = shared.filter((d) => !index.spec.dims.includes(d)).map((d) => [left.dims.indexOf(d), right.dims.indexOf(d)] as const);
  const extra = right.dims.filter((d) => !shared.includes(d)).map((d) => right.dims.indexOf(d));
  const dims = [...left.dims, ...extra.map((c) => right.dims[c]!)];
  const encode = makeRowKeyEncoder(index.spec, left.dims);
  const lw = left.dims.length;
  const rw = right.dims.length;
  const values: DataIdValue[] = [];
  const refs: number[] = [];
  const leftRows: number[] = [];
  const rightRows: number[] = [];
  for (let l = 0; l < left.size; l++) {
    let r = index.head.get(encode(left.values, l));
    for (; r !== undefined && r >= 0; r = index.next ? index.next[r] : -1) {
      if (!checked.every(([lc, rc]) => left.values[l * lw + lc] === right.values[r! * rw + rc])) continue;
      for (let j = 0; j < lw; j++) values.push(left.values[l * lw + j]!);
      for (const c of extra) values.push(right.values[r * rw + c]!);
      refs.push(left.refs[l]!);
      leftRows.push(l);
      rightRows.push(r);
    }
  }
  return { table: new RowTable(dims, values, refs), leftRows, rightRows };
}

/** The join of the one-row, no-dimension table with `right`: `right` itself. */
function selectAll(right: RowTable, ref: number): JoinedRows {
  const n = right.size;
  const leftRows: number[] = new Array(n).fill(0);
  const rightRows: number[] = new Array(n);
  for (let i = 0; i < n; i++) rightRows[i] = i;
  return { table: new RowTable(right.dims, right.values, new Array(n).fill(ref)), leftRows, rightRows };
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
