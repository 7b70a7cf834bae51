/** The public API for task authors: `import { defineTask, z } from "quanta"`. */
export { z } from "zod";
export type { DataId, DataIdValue } from "./core/data-id.js";
export type { NdArray, NdDtype, StorageClass } from "./core/storage-class.js";
export type { ConnectionSpec, TaskContext, TaskLog, NoWork, GatheredValue } from "./core/task-definition.js";
