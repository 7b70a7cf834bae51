import type { CommandSpec } from "../command-spec.js";

export const schemaCommand: CommandSpec = {
  command: "schema",
  describe: "print the JSON Schema of pipeline files",
  builder: (y) => y,
  async handler() {
    const { z } = await import("zod");
    const { PipelineFileSchema } = await import("../../core/pipeline-schema.js");
    const schema = { title: "quanta pipeline", ...z.toJSONSchema(PipelineFileSchema) };
    process.stdout.write(JSON.stringify(schema, null, 2) + "\n");
    return 0;
  },
};
