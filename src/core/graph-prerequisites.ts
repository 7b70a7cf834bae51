/**
 * Prerequisite inputs: datasets that must exist before the run (calibrations, reference catalogues).
 * They do not take part in the join that makes quanta; each quantum looks its own up, by the quantum's
 * full row (carried dimensions included). A missing one is an error naming the quantum and the dataset.
 */
import { makeGraphError, type GraphError } from "./graph-error.js";
import { formatRef } from "./graph-names.js";
import type { GraphSources, TypeStore } from "./graph-sources.js";
import type { InputReader } from "./graph-task-planner.js";
import { RowTable, indexRowTable, makeKeyEncoder } from "./join-table.js";
import type { Connection, TaskNode } from "./pipeline.js";

type Result<T> = { ok: true; value: T } | { ok: false; error: GraphError };

/**
 * A reader of `connection` (a prerequisite of `task`) for the candidate rows of `table`. When the
 * prerequisite's dimensions are all in the row it reads the one dataset at the row's projection;
 * otherwise it gathers those matching on the shared dimensions.
 */
export function makePrerequisiteReader(sources: GraphSources, task: TaskNode, connection: Connection, table: RowTable): Result<InputReader> {
  const got = sources.availableStore(connection, task.label);
  if (!got.ok) return got;
  const store = got.store;
  const shared = store.dimensions.filter((d) => table.dims.includes(d));
  const encode = makeKeyEncoder(table.dims, shared);
  if (shared.length === store.dimensions.length) {
    return {
      ok: true,
      value: (row, quantumKey) => {
        const key = encode(table.values, row);
        const index = sources.findAvailable(store, key);
        if (index === undefined) return missingError(sources, task, store, quantumKey(), key);
        return [sources.useAvailable(store, index)];
      },
    };
  }
  const available = RowTable.fromDataIds(store.dimensions, store.available ?? []);
  const index = indexRowTable(available, shared);
  const fewest = connection.multiple ? Math.max(connection.minimum, 1) : 1;
  return {
    ok: true,
    value: (row, quantumKey) => {
      const key = encode(table.values, row);
      const found: number[] = [];
      for (let r = index.head.get(key); r !== undefined && r >= 0; r = index.next![r]) found.push(r);
      if (found.length < fewest) return missingError(sources, task, store, quantumKey(), key);
      if (!connection.multiple && found.length > 1) return ambiguousError(task, connection, quantumKey(), found.length);
      return found.map((i) => sources.useAvailable(store, i));
    },
  };
}

function missingError(sources: GraphSources, task: TaskNode, store: TypeStore, quantumKey: string, key: string): GraphError {
  const spec = sources.pipeline.inputs.find((i) => i.type === store.type);
  const hint = spec?.kind === "files" ? `its files are found by the path template ${spec.path}; ingest them with 'quanta ingest'` : undefined;
  return makeGraphError(
    "missing-prerequisite",
    `quantum ${formatRef(task.label, quantumKey)} needs prerequisite ${formatRef(store.type, key)}, which does not exist in collection "${sources.inputCollection}"`,
    hint,
  );
}

function ambiguousError(task: TaskNode, connection: Connection, quantumKey: string, count: number): GraphError {
  return makeGraphError(
    "ambiguous-input",
    `task "${task.label}" reads one "${connection.type}" per quantum (connection "${connection.name}"), but ${formatRef(task.label, quantumKey)} finds ${count}`,
    "declare the connection multiple, or give the task the dimensions that tell them apart",
  );
}
