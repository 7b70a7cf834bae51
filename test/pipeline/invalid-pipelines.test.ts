/**
 * Golden tests of pipeline errors: every `invalid/*.yaml` must fail to load with exactly the text in
 * its `.txt` (as the CLI prints it: `error: …` and `hint: …`). A first line `# options: {json}` passes
 * loadPipeline options (`config`, `tasks`). `UPDATE_GOLDEN=1` rewrites the `.txt` files.
 */
import { readdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadPipeline, type LoadPipelineOptions } from "../../src/app/load-pipeline.js";
import { PipelineError } from "../../src/core/pipeline-error.js";
import { importTaskModule } from "./import-task-module.js";

const ROOT = resolve(import.meta.dirname, "..", "..");
const DIR = join(import.meta.dirname, "invalid");
const CASES = readdirSync(DIR).filter((f) => f.endsWith(".yaml")).sort();

function optionsOf(text: string): LoadPipelineOptions {
  const m = /^# options: (.*)$/m.exec(text.split("\n")[0] ?? "");
  return m === null ? {} : (JSON.parse(m[1]!) as LoadPipelineOptions);
}

async function printError(file: string): Promise<string> {
  const path = join(DIR, file);
  try {
    await loadPipeline(path, { ...optionsOf(readFileSync(path, "utf8")), cwd: ROOT, loadTaskModule: importTaskModule });
  } catch (err) {
    if (!(err instanceof PipelineError)) throw err;
    return `error: ${err.message}\n` + (err.hint ? `hint: ${err.hint}\n` : "");
  }
  throw new Error(`${file} loaded without an error`);
}

describe("invalid pipelines (golden)", () => {
  it("has at least 20 cases", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(20);
  });

  for (const file of CASES) {
    it(file, async () => {
      const printed = await printError(file);
      const golden = join(DIR, file.replace(/\.yaml$/, ".txt"));
      if (process.env.UPDATE_GOLDEN === "1" || !existsSync(golden)) writeFileSync(golden, printed);
      expect(printed).toBe(readFileSync(golden, "utf8"));
    });
  }
});
