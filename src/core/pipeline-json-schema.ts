/**
 * The JSON Schema of pipeline files, for `quanta schema`. A module of its own, loaded only by that
 * command: zod's JSON Schema generator is not needed to read a pipeline. Imported statically by name
 * (an `await import("zod/mini")` would keep all of zod/mini), so the bundle keeps only that part.
 */
import { toJSONSchema } from "zod/mini";
import { PipelineFileSchema } from "./pipeline-schema.js";

export function pipelineJsonSchema(): Record<string, unknown> {
  return { title: "quanta pipeline", ...toJSONSchema(PipelineFileSchema) };
}
