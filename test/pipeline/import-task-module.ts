/**
 * A fast stand-in for the esbuild task loader in pipeline tests: imports a plain `.mjs` module as is,
 * with a code digest derived from its path (the real loader is exercised in load-pipeline.test.ts).
 */
import { pathToFileURL } from "node:url";
import type { CodeDigest } from "../../src/core/digest.js";
import type { TaskDefinition } from "../../src/core/task-definition.js";

export async function importTaskModule(modulePath: string): Promise<{ definition: TaskDefinition; codeDigest: CodeDigest }> {
  const namespace = (await import(pathToFileURL(modulePath).href)) as { default: TaskDefinition };
  const digest = [...modulePath].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7).toString(16).padStart(16, "0");
  return { definition: namespace.default, codeDigest: digest as CodeDigest };
}
