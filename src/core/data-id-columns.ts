/**
 * Data IDs over one fixed set of dimensions, held as columns: one typed array per dimension instead of
 * one object per data ID. A task's quanta and an input type's datasets keep their data IDs this way in
 * the graph (see quantum-graph.ts); a data ID object or its canonical key is made only when asked for.
 *
 * A numeric column is an Int32Array when every value fits, else a Float64Array (exact up to 2^53, so
 * 64-bit visit ids of that size stay exact); a string column is a Uint32Array of indices into the
 * column's own dictionary.
 */
import type { DataId, DataIdValue } from "./data-id.js";
import { formatDataIdValue } from "./data-id.js";

export type DataIdColumn =
  | { readonly kind: "i32"; readonly values: Int32Array }
  | { readonly kind: "f64"; readonly values: Float64Array }
  | { readonly kind: "str"; readonly values: Uint32Array; readonly strings: readonly string[] };

/** Per dictionary, the canonical text of each string (quoted where needed); shared by the columns that share it. */
const textsOf = new WeakMap<readonly string[], string[]>();

function canonicalTexts(strings: readonly string[]): string[] {
  let texts = textsOf.get(strings);
  if (texts === undefined) textsOf.set(strings, (texts = strings.map(formatDataIdValue)));
  return texts;
}

export class DataIdColumns {
  private texts?: (readonly string[] | undefined)[];

  /** `names` are sorted (the canonical key's order); `columns[j]` holds dimension `names[j]`. */
  constructor(
    readonly names: readonly string[],
    readonly columns: readonly DataIdColumn[],
    readonly count: number,
  ) {}

  static empty(names: readonly string[]): DataIdColumns {
    return new DataIdColumns([...names].sort(), [...names].map(() => ({ kind: "i32", values: new Int32Array(0) }) as const), 0);
  }

  value(i: number, j: number): DataIdValue {
    const c = this.columns[j]!;
    return c.kind === "str" ? c.strings[c.values[i]!]! : c.values[i]!;
  }

  dataId(i: number): DataId {
    const out: Record<string, DataIdValue> = {};
    for (let j = 0; j < this.names.length; j++) out[this.names[j]!] = this.value(i, j);
    return out;
  }

  /** `encodeDataId(this.dataId(i))`, without the object. */
  key(i: number): string {
    this.texts ??= this.columns.map((c) => (c.kind === "str" ? canonicalTexts(c.strings) : undefined));
    let out = "";
    for (let j = 0; j < this.names.length; j++) {
      const c = this.columns[j]!;
      const text = c.kind === "str" ? this.texts[j]![c.values[i]!]! : String(c.values[i]!);
      out += (j === 0 ? "" : ",") + this.names[j]! + "=" + text;
    }
    return out;
  }

  /** The data IDs at `rows`, in that order. */
  select(rows: ArrayLike<number>): DataIdColumns {
    const columns = this.columns.map((c): DataIdColumn => {
      const values = new (c.values.constructor as { new (n: number): Int32Array | Float64Array | Uint32Array })(rows.length);
      for (let i = 0; i < rows.length; i++) values[i] = c.values[rows[i]!]!;
      return { ...c, values } as DataIdColumn;
    });
    return new DataIdColumns(this.names, columns, rows.length);
  }
}

/** Collects data IDs row by row (values in the order of the sorted `names`), then freezes them into columns. */
export class DataIdColumnsBuilder {
  readonly names: readonly string[];
  private readonly numbers: number[][];
  private readonly strings: (Map<string, number> | undefined)[];
  private count = 0;

  constructor(dimensions: readonly string[]) {
    this.names = [...dimensions].sort();
    this.numbers = this.names.map(() => []);
    this.strings = this.names.map(() => undefined);
  }

  /** Adds one data ID given as its values in `names` order. */
  push(values: ArrayLike<DataIdValue>): void {
    for (let j = 0; j < this.names.length; j++) this.numbers[j]!.push(this.code(j, values[j]!));
    this.count++;
  }

  pushDataId(dataId: DataId): void {
    for (let j = 0; j < this.names.length; j++) this.numbers[j]!.push(this.code(j, dataId[this.names[j]!]!));
    this.count++;
  }

  private code(j: number, v: DataIdValue): number {
    if (this.count === 0 && typeof v === "string") this.strings[j] = new Map();
    const dict = this.strings[j];
    if (dict === undefined) {
      if (typeof v !== "number") throw mixedError(this.names[j]!);
      return v;
    }
    if (typeof v !== "string") throw mixedError(this.names[j]!);
    let code = dict.get(v);
    if (code === undefined) dict.set(v, (code = dict.size));
    return code;
  }

  finish(): DataIdColumns {
    const columns = this.names.map((_, j): DataIdColumn => {
      const values = this.numbers[j]!;
      const dict = this.strings[j];
      if (dict !== undefined) return { kind: "str", values: Uint32Array.from(values), strings: [...dict.keys()] };
      const ints = Int32Array.from(values);
      for (let i = 0; i < values.length; i++) if (ints[i] !== values[i]) return { kind: "f64", values: Float64Array.from(values) };
      return { kind: "i32", values: ints };
    });
    return new DataIdColumns(this.names, columns, this.count);
  }
}

function mixedError(dim: string): Error {
  return new Error(`internal error: data IDs of one task or dataset type disagree on the type of dimension ${dim}`);
}
