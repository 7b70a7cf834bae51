/**
 * The public API for task authors: `import { defineTask, noWork, z } from "quanta"`.
 *
 * Task modules are bundled with this file left external, so every task of a process shares this one
 * copy of the runtime (and of zod). Keep it light: it is imported by every task module.
 */
export { z } from "zod";
export {
  defineTask,
  noWork,
  makeTestContext,
  validateTaskConfig,
} from "./core/define-task.js";
export type { TaskSpec, ConfigSchema, ConfigIssue, ConfigValidation, TestContext } from "./core/define-task.js";
export { isNoWork } from "./core/task-definition.js";
export type { DataId, DataIdValue } from "./core/data-id.js";
export type { NdArray, NdDtype, StorageClass } from "./core/storage-class.js";
export type {
  ConnectionSpec,
  TaskContext,
  TaskLog,
  NoWork,
  GatheredValue,
  TaskDefinition,
  InputValues,
  OutputValues,
  StorageValue,
} from "./core/task-definition.js";
