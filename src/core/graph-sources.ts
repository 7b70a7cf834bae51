/**
 * Where the graph builder's rows come from, and the datasets it has put in the graph so far.
 *
 * Each dataset type in the graph has a `TypeStore` holding its datasets by a type-local index (assembly
 * renumbers them into graph ids). A type is either produced by a selected task (its rows are the full rows
 * of the producing quanta, carried dimensions included, so `band` travels downstream with `visit`), or read
 * from `AvailableInputs` (its rows are the available data IDs under `--where`; a dataset enters the graph
 * only when a quantum reads it).
 */
import type { DataId } from "./data-id.js";
import { formatDataIdValue } from "./data-id.js";
import type { DataIdColumns } from "./data-id-columns.js";
import { makeGraphError, type GraphError } from "./graph-error.js";
import { RowTable, filterRowTable } from "./join-table.js";
import type { SourceReport } from "./join-report.js";
import type { Connection, Pipeline, TaskNode } from "./pipeline.js";
import type { StorageClass } from "./storage-class.js";

/** What the repository holds, as the builder sees it (the app fills it from the registry). */
export interface AvailableInputs {
  /** Data IDs of the existing datasets of a type; undefined when the type is unknown to the repository. */
  datasetIds(type: string): readonly DataId[] | undefined;
  /** Rows of a relation; undefined when it was never ingested. */
  relationRows(name: string): readonly DataId[] | undefined;
}

/**
 * The compiled `--where`: `predicate` must hold for a row; it is called with data IDs holding only the
 * referenced `dimensions` that a row has, and must return true when a dimension it needs is absent.
 */
export interface WhereFilter {
  readonly predicate: (dataId: DataId) => boolean;
  readonly dimensions: readonly string[];
  /** The query text, for display. */
  readonly text?: string;
  readonly bind?: Readonly<Record<string, string>>;
}

export interface TypeStore {
  readonly type: string;
  readonly storage: StorageClass;
  /** The dimensions of its data IDs. */
  readonly dimensions: readonly string[];
  /** How many of its datasets the graph holds so far (their type-local indices are 0 .. size - 1). */
  size: number;
  /** Available types: the data IDs of the graph's datasets, by type-local index. Produced types: empty. */
  readonly dataIds: DataId[];
  /** The selected task that produces it; undefined for a type read from `AvailableInputs`. */
  readonly producerTask?: string;
  /** Produced types: the id of the producing task's first quantum (local index i is its quantum first + i). */
  producedFirst?: number;
  /** Produced types, once the producer is planned: the data IDs by local index (its quanta's). */
  producedDataIds?: DataIdColumns;
  /** Available types: the available data IDs; `localOf[i]` is the local index of available i, or -1. */
  readonly available?: readonly DataId[];
  readonly localOf?: Int32Array;
  /** Rows to join. Produced types: refs are local indices; available types: refs are available indices. */
  table?: RowTable;
  /** Available types: available index by canonical key (built on first use). */
  keyIndex?: Map<string, number>;
}

/**
 * `encodeDataId` for data IDs over exactly `dims`, with the sort done once: what a type's million
 * datasets are keyed with.
 */
function makeDataIdEncoder(dims: readonly string[]): (dataId: DataId) => string {
  const names = [...dims].sort();
  return (dataId) => {
    let out = "";
    for (let i = 0; i < names.length; i++) out += (i === 0 ? "" : ",") + names[i]! + "=" + formatDataIdValue(dataId[names[i]!]!);
    return out;
  };
}

/** A table that can supply missing dimensions: a relation, or an input type's data IDs. */
export interface LinkTable {
  readonly name: string;
  readonly kind: "relation" | "dataset";
  readonly table: RowTable;
}

export type SourceResult = { ok: true; store: TypeStore; table: RowTable } | { ok: false; error: GraphError };

export class GraphSources {
  private readonly stores = new Map<string, TypeStore>();
  private readonly reports = new Map<string, SourceReport>();
  private linkTables?: LinkTable[];
  /** Type → label of the selected task that produces it. */
  private readonly selectedProducers = new Map<string, string>();
  /** Type → label of any task of the pipeline that produces it. */
  private readonly pipelineProducers = new Map<string, string>();

  constructor(
    readonly pipeline: Pipeline,
    selected: readonly TaskNode[],
    readonly available: AvailableInputs,
    readonly where: WhereFilter | undefined,
    readonly inputCollection: string,
  ) {
    for (const t of pipeline.tasks) for (const c of Object.values(t.outputs)) this.pipelineProducers.set(c.type, t.label);
    for (const t of selected) for (const c of Object.values(t.outputs)) this.selectedProducers.set(c.type, t.label);
  }

  allStores(): TypeStore[] {
    return [...this.stores.values()];
  }

  sourceReports(): SourceReport[] {
    return [...this.reports.values()];
  }

  /** The rows a (non-prerequisite) input connection of `reader` joins. */
  readSource(connection: Connection, reader: string): SourceResult {
    const producer = this.selectedProducers.get(connection.type);
    if (producer !== undefined) {
      const store = this.stores.get(connection.type);
      if (store?.table === undefined) {
        return { ok: false, error: makeGraphError("producer-order", `task "${reader}" reads "${connection.type}", produced by task "${producer}", which comes after it in the pipeline`) };
      }
      return { ok: true, store, table: store.table };
    }
    const store = this.availableStore(connection, reader);
    if (!store.ok) return store;
    return { ok: true, store: store.store, table: this.availableTable(store.store) };
  }

  /** The store of a type read from `AvailableInputs`, or why it cannot be read. */
  availableStore(connection: Connection, reader: string): { ok: true; store: TypeStore } | { ok: false; error: GraphError } {
    const known = this.stores.get(connection.type);
    if (known !== undefined) return { ok: true, store: known };
    const ids = this.available.datasetIds(connection.type);
    const spec = this.pipeline.inputs.find((i) => i.type === connection.type);
    const producer = this.pipelineProducers.get(connection.type);
    if (producer !== undefined && (ids === undefined || ids.length === 0)) {
      return {
        ok: false,
        error: makeGraphError(
          "unselected-producer",
          `task "${reader}" reads "${connection.type}", produced by task "${producer}", which is not selected, and no "${connection.type}" datasets exist yet`,
          `select it too (--tasks +${reader} selects a task with everything it needs)`,
        ),
      };
    }
    if (producer === undefined && spec === undefined && ids === undefined && !connection.prerequisite) {
      return {
        ok: false,
        error: makeGraphError("unknown-input-type", `task "${reader}" reads dataset type "${connection.type}", which no task produces and no input declares`),
      };
    }
    const storage = spec?.kind === "files" ? spec.storage : connection.storage;
    const available = ids ?? [];
    const store: TypeStore = {
      type: connection.type,
      storage,
      dimensions: available.length > 0 ? Object.keys(available[0]!) : (spec?.dimensions ?? connection.dimensions),
      size: 0,
      dataIds: [],
      available,
      localOf: new Int32Array(available.length).fill(-1),
    };
    this.stores.set(connection.type, store);
    return { ok: true, store };
  }

  private availableTable(store: TypeStore): RowTable {
    if (store.table !== undefined) return store.table;
    const available = store.available ?? [];
    const dims = store.dimensions;
    const all = RowTable.fromDataIds(dims, available);
    store.table = this.applyWhere(all);
    const producer = this.pipelineProducers.get(store.type);
    this.reports.set(store.type, {
      kind: "dataset",
      name: store.type,
      dimensions: dims,
      total: all.size,
      kept: store.table.size,
      ...(producer === undefined ? {} : { producer }),
    });
    return store.table;
  }

  /** The table restricted by `--where` (the table itself without one). */
  applyWhere(table: RowTable): RowTable {
    if (this.where === undefined) return table;
    return filterRowTable(table, this.where.dimensions, this.where.predicate);
  }

  /** Relations, then non-prerequisite file inputs: the tables that can supply missing dimensions. */
  links(): LinkTable[] {
    if (this.linkTables !== undefined) return this.linkTables;
    const out: LinkTable[] = [];
    for (const spec of this.pipeline.inputs) {
      if (spec.kind !== "relation") continue;
      const rows = this.available.relationRows(spec.type) ?? [];
      const all = RowTable.fromDataIds(spec.dimensions, rows);
      const table = this.applyWhere(all);
      out.push({ name: spec.type, kind: "relation", table });
      this.reports.set(spec.type, { kind: "relation", name: spec.type, dimensions: spec.dimensions, total: all.size, kept: table.size });
    }
    for (const spec of this.pipeline.inputs) {
      if (spec.kind !== "files" || spec.prerequisite || this.selectedProducers.has(spec.type)) continue;
      const connection = { type: spec.type, dimensions: spec.dimensions, storage: spec.storage, prerequisite: false } as Connection;
      const store = this.availableStore(connection, "");
      if (store.ok) out.push({ name: spec.type, kind: "dataset", table: this.availableTable(store.store) });
    }
    this.linkTables = out;
    return out;
  }

  /** The local index of available dataset `index` of an available type, adding it to the graph on first use. */
  useAvailable(store: TypeStore, index: number): number {
    const localOf = store.localOf!;
    let local = localOf[index]!;
    if (local < 0) {
      const dataId = store.available![index]!;
      local = store.size++;
      localOf[index] = local;
      store.dataIds.push(dataId);
    }
    return local;
  }

  private readonly encoders = new Map<TypeStore, (dataId: DataId) => string>();

  private encoderOf(store: TypeStore): (dataId: DataId) => string {
    let encode = this.encoders.get(store);
    if (encode === undefined) this.encoders.set(store, (encode = makeDataIdEncoder(store.dimensions)));
    return encode;
  }

  /** The available index of the dataset with canonical key `key`, if it exists. */
  findAvailable(store: TypeStore, key: string): number | undefined {
    if (store.keyIndex === undefined) {
      store.keyIndex = new Map();
      const ids = store.available ?? [];
      const encode = this.encoderOf(store);
      for (let i = 0; i < ids.length; i++) store.keyIndex.set(encode(ids[i]!), i);
    }
    return store.keyIndex.get(key);
  }

  /** The store of a type produced by the selected task `task` (created on first call). */
  producedStore(connection: Connection, task: string): TypeStore {
    let store = this.stores.get(connection.type);
    if (store === undefined) {
      store = {
        type: connection.type,
        storage: connection.storage,
        dimensions: connection.dimensions,
        size: 0,
        dataIds: [],
        producerTask: task,
      };
      this.stores.set(connection.type, store);
    }
    return store;
  }
}
