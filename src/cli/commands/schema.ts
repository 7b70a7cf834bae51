import type { CommandSpec } from "../command-spec.js";

export const schemaCommand: CommandSpec = {
  command: "schema",
  describe: "print the JSON Schema of pipeline files",
  builder: (y) => y,
  async handler() {
    const { pipelineJsonSchema } = await import("../../core/pipeline-json-schema.js");
    process.stdout.write(JSON.stringify(pipelineJsonSchema(), null, 2) + "\n");
    return 0;
  },
};
