import { describe, expect, it } from "vitest";
import { showPipeline } from "../../src/app/show.js";
import { PROJECT_ROOT, runCli } from "../helpers/cli.js";

const SKY = "test/pipeline/fixtures/sky.yaml";

describe("showPipeline", () => {
  it("prints the effective config with where each value came from", async () => {
    const text = await showPipeline({ what: "config", pipelineFile: SKY, label: "calibrate", config: ["calibrate.photometry=false"], cwd: PROJECT_ROOT });
    expect(text).toBe(
      [
        "calibrate:",
        "  detection.threshold  = 5.5    (pipeline)",
        "  detection.minPixels  = 3      (default)",
        "  photometry           = false  (command line)",
        "",
      ].join("\n"),
    );
  });

  it("lists tasks in order with their dimensions and dataset types", async () => {
    const text = await showPipeline({ what: "tasks", pipelineFile: SKY, cwd: PROJECT_ROOT });
    expect(text.split("\n").slice(0, 4)).toEqual([
      "label      kind     dimensions         inputs -> outputs",
      "isr        module   (visit, detector)  raw -> postIsr",
      "calibrate  module   (visit, detector)  postIsr -> calexp, src",
      "coadd      module   (tract, patch)     calexp[] -> deepCoadd",
    ]);
  });

  it("names an unknown label with a hint", async () => {
    await expect(showPipeline({ what: "tasks", pipelineFile: SKY, label: "calibrat", cwd: PROJECT_ROOT })).rejects.toMatchObject({
      message: 'pipeline "sky" has no task "calibrat"',
      hint: 'did you mean "calibrate"?',
      exitCode: 2,
    });
  });
});

describe("the CLI", () => {
  it("exits 2 on a bad pipeline, with the positioned message and no stack trace", async () => {
    const r = await runCli(["show", "pipeline", "test/pipeline/invalid/unknown-dataset-type.yaml"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      [
        'error: test/pipeline/invalid/unknown-dataset-type.yaml:10:29: task "coadd" reads dataset type "warps", which no task produces',
        "   10 |     inputs: { warp: { type: warps, dimensions: [visit, tract, patch], storage: file, multiple: true } }",
        "      |                             ^~~~~",
        'hint: did you mean "warp"?',
        "",
      ].join("\n"),
    );
  });

  it("exits 2 on a bad --config flag", async () => {
    const r = await runCli(["show", "config", SKY, "--config", "isr.gain=high"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: --config isr.gain=high: config key "gain" of task "isr": expected a number, got "high"\n');
  });

  it("shows the config of a pipeline", async () => {
    const r = await runCli(["show", "config", SKY, "isr"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("isr:\n  gain           = 2     (pipeline)\n  bias.subtract  = true  (default)\n  bias.level     = 0     (default)\n");
  });

  it("prints a JSON Schema generated from the pipeline schema", async () => {
    const r = await runCli(["schema"]);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout) as { type: string; additionalProperties: boolean; properties: Record<string, { additionalProperties?: { properties?: Record<string, unknown> } }> };
    expect(schema.type).toBe("object");
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties).sort()).toEqual(["clusters", "description", "dimensions", "imports", "inputs", "parameters", "subsets", "tasks"]);
    expect(Object.keys(schema.properties.tasks!.additionalProperties!.properties!)).toContain("connections");
  });
});
