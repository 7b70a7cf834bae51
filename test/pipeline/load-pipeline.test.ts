import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadPipeline, type LoadPipelineOptions } from "../../src/app/load-pipeline.js";
import { PipelineError } from "../../src/core/pipeline-error.js";
import { loadHasher } from "../../src/store/hasher.js";
import { makeTempDir } from "../helpers/cli.js";
import { importTaskModule } from "./import-task-module.js";

const FIXTURES = join(import.meta.dirname, "fixtures");
const TASKS = join(FIXTURES, "tasks");
const SKY = join(FIXTURES, "sky.yaml");

const fast = (options: LoadPipelineOptions = {}): LoadPipelineOptions => ({ loadTaskModule: importTaskModule, ...options });

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});

/** Writes `files` (name -> text) into a fresh directory; returns its path. */
function writeFiles(files: Record<string, string>): string {
  const { dir, cleanup } = makeTempDir("quanta-pipeline-");
  cleanups.push(cleanup);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text.replaceAll("$TASKS", TASKS));
  }
  return dir;
}

async function loadError(file: string, options: LoadPipelineOptions = {}): Promise<PipelineError> {
  try {
    await loadPipeline(file, fast(options));
  } catch (err) {
    if (err instanceof PipelineError) return err;
    throw err;
  }
  throw new Error("expected a PipelineError");
}

describe("loadPipeline", () => {
  it("resolves the example pipeline: order, renames, parameters, paths, limits, command digests", async () => {
    const { pipeline } = await loadPipeline(SKY, fast());
    expect(pipeline.name).toBe("sky");
    expect(pipeline.file).toBe(SKY);
    expect(pipeline.tasks.map((t) => t.label)).toEqual(["isr", "calibrate", "coadd", "detect", "sources", "compile"]);
    const byLabel = Object.fromEntries(pipeline.tasks.map((t) => [t.label, t]));
    expect(byLabel.coadd!.outputs.coadd!.type).toBe("deepCoadd");
    expect(byLabel.detect!.inputs.image!.type).toBe("deepCoadd");
    expect(byLabel.coadd!.inputs.images).toMatchObject({ type: "calexp", multiple: true, minimum: 1, prerequisite: false });
    expect(byLabel.calibrate!.config).toEqual({ detection: { threshold: 5.5, minPixels: 3 }, photometry: true });
    expect(byLabel.calibrate!.timeoutMs).toBe(30_000);
    expect(byLabel.detect!.resources).toEqual({ memory: "2GB" });
    expect(byLabel.isr!.modulePath).toBe(join(TASKS, "isr.mjs"));
    const hasher = await loadHasher();
    expect(byLabel.compile!.codeDigest).toBe(hasher.hashString("cc -c {inputs.src} -o {outputs.obj} {config.cflags}"));
    expect(byLabel.compile!.config).toEqual({ cflags: "-O2" });
    expect(pipeline.inputs).toEqual([
      {
        kind: "files",
        type: "raw",
        path: join(FIXTURES, "data/raw/{band}/visit{visit}/det{detector}.npy"),
        dimensions: ["band", "visit", "detector"],
        storage: "ndarray",
        prerequisite: false,
      },
      { kind: "relation", type: "overlaps", path: join(FIXTURES, "data/overlaps.csv"), dimensions: ["visit", "detector", "tract", "patch"] },
    ]);
    expect(pipeline.subsets).toEqual({
      step1: { tasks: ["isr", "calibrate"] },
      step2: { tasks: ["coadd", "detect"], description: "per-patch processing" },
    });
    expect(pipeline.parameters).toEqual({ threshold: 5.5, rawDir: "data/raw" });
  });

  it("loads real task modules with esbuild and lists the files to watch", async () => {
    const { pipeline, files } = await loadPipeline(SKY);
    const isr = pipeline.tasks.find((t) => t.label === "isr")!;
    expect(isr.codeDigest).toMatch(/^[0-9a-f]{32}$/);
    expect(isr.config).toEqual({ gain: 2, bias: { subtract: true, level: 0 } });
    expect(files).toContain(SKY);
    expect(files).toContain(join(TASKS, "isr.mjs"));
  });

  it("keeps file order among tasks that do not depend on each other", async () => {
    const dir = writeFiles({
      "p.yaml": `
dimensions: { visit: int }
tasks:
  late: { command: "x {inputs.a} {outputs.o}", dimensions: [visit], inputs: { a: { type: A, dimensions: [visit], storage: file } }, outputs: { o: { type: L, dimensions: [visit], storage: file } } }
  zeta: { command: "z {outputs.o}", dimensions: [visit], outputs: { o: { type: Z, dimensions: [visit], storage: file } } }
  alpha: { command: "a {outputs.o}", dimensions: [visit], outputs: { o: { type: A, dimensions: [visit], storage: file } } }
`,
    });
    const { pipeline } = await loadPipeline(join(dir, "p.yaml"), fast());
    expect(pipeline.tasks.map((t) => t.label)).toEqual(["zeta", "alpha", "late"]);
  });
});

describe("config precedence", () => {
  // isr's schema defaults: gain 1, bias.subtract true, bias.level 0.
  const files = {
    "lib/base0.yaml": `
dimensions: { visit: int, detector: int }
inputs:
  raw: { path: "raw/{visit}/{detector}.npy", storage: ndarray }
tasks:
  isr: { task: $TASKS/isr.mjs, config: { gain: 1.5, bias: { level: 10, subtract: false } } }
`,
    "lib/base.yaml": `
imports: [{ location: base0.yaml }]
tasks:
  isr: { config: { bias: { level: 20 } } }
`,
    "top.yaml": `
imports: [{ location: lib/base.yaml }]
tasks:
  isr: { config: { gain: 3 } }
`,
  };

  it("goes defaults < imports (deepest first) < this pipeline < --config, value by value", async () => {
    const dir = writeFiles(files);
    const loaded = await loadPipeline(join(dir, "top.yaml"), fast({ cwd: dir, config: ["isr.bias.subtract=true"] }));
    expect(loaded.pipeline.tasks[0]!.config).toEqual({ gain: 3, bias: { level: 20, subtract: true } });
    expect(loaded.configSources.isr).toEqual({
      gain: { value: 3, source: "pipeline" },
      "bias.level": { value: 20, source: "import:lib/base.yaml" },
      "bias.subtract": { value: true, source: "command line" },
    });
  });

  it("names the deepest import and the defaults when nothing overrides them", async () => {
    const dir = writeFiles({ ...files, "top.yaml": "imports: [{ location: lib/base0.yaml }]\n" });
    const loaded = await loadPipeline(join(dir, "top.yaml"), fast({ cwd: dir }));
    expect(loaded.configSources.isr).toEqual({
      gain: { value: 1.5, source: "import:lib/base0.yaml" },
      "bias.level": { value: 10, source: "import:lib/base0.yaml" },
      "bias.subtract": { value: false, source: "import:lib/base0.yaml" },
    });
    const bare = writeFiles({ "p.yaml": files["lib/base0.yaml"].replace(/, config: .*}/, "}") });
    const defaults = await loadPipeline(join(bare, "p.yaml"), fast());
    expect(defaults.configSources.isr).toEqual({
      gain: { value: 1, source: "default" },
      "bias.subtract": { value: true, source: "default" },
      "bias.level": { value: 0, source: "default" },
    });
  });

  it("reads --config values as YAML scalars and the last flag wins", async () => {
    const dir = writeFiles(files);
    const loaded = await loadPipeline(join(dir, "top.yaml"), fast({ config: ["isr.gain=7", "isr.gain=0.25", "isr.bias.subtract=false"] }));
    expect(loaded.pipeline.tasks[0]!.config).toEqual({ gain: 0.25, bias: { level: 20, subtract: false } });
  });

  it("validates --config values with the task's schema", async () => {
    const dir = writeFiles(files);
    const err = await loadError(join(dir, "top.yaml"), { config: ["isr.gain=lots"] });
    expect(err.message).toBe('--config isr.gain=lots: config key "gain" of task "isr": expected a number, got "lots"');
    expect(err.exitCode).toBe(2);
  });

  it("reports a bad value in an imported file at its own position", async () => {
    const dir = writeFiles({ ...files, "lib/base.yaml": files["lib/base.yaml"].replace("level: 20", "level: twenty") });
    const err = await loadError(join(dir, "top.yaml"), { cwd: dir });
    expect(err.message).toBe(
      [
        'lib/base.yaml:4:35: config key "bias.level" of task "isr": expected a number, got "twenty"',
        "   4 |   isr: { config: { bias: { level: twenty } } }",
        "     |                                   ^~~~~~",
      ].join("\n"),
    );
  });
});

describe("imports", () => {
  const base = `
dimensions: { visit: int, detector: int }
inputs:
  raw: { path: "raw/{visit}/{detector}.npy", storage: ndarray }
tasks:
  isr: { task: $TASKS/isr.mjs }
  calibrate: { task: $TASKS/calibrate.mjs }
  stats:
    command: "stats {inputs.c} > {outputs.o}"
    dimensions: [visit, detector]
    inputs: { c: { type: calexp, dimensions: [visit, detector], storage: ndarray } }
    outputs: { o: { type: stats, dimensions: [visit, detector], storage: file } }
subsets:
  step1: [isr, calibrate]
`;

  it("includes by subset and excludes by label", async () => {
    const dir = writeFiles({
      "base.yaml": base,
      "a.yaml": "imports: [{ location: base.yaml, include: [step1] }]\n",
      "b.yaml": "imports: [{ location: base.yaml, exclude: [stats] }]\n",
      "c.yaml": "imports: [{ location: base.yaml, exclude: [step1, stats] }]\n",
    });
    const labels = async (f: string) => (await loadPipeline(join(dir, f), fast())).pipeline.tasks.map((t) => t.label);
    expect(await labels("a.yaml")).toEqual(["isr", "calibrate"]);
    expect(await labels("b.yaml")).toEqual(["isr", "calibrate"]);
    expect(await labels("c.yaml")).toEqual([]);
    expect((await loadPipeline(join(dir, "c.yaml"), fast())).pipeline.subsets).toEqual({});
  });

  it("lets the importing file's settings win: dimensions, inputs, parameters, task module, subsets", async () => {
    const dir = writeFiles({
      "base.yaml": base + "parameters: { p: 1 }\n",
      "top.yaml": `
imports: [{ location: base.yaml }]
parameters: { p: 2 }
dimensions: { detector: int, band: string }
inputs:
  raw: { path: "mine/{band}/{visit}/{detector}.npy", storage: ndarray }
tasks:
  stats: { command: "mystats {inputs.c} > {outputs.o}", timeout: 5m }
subsets:
  step1: [isr]
`,
    });
    const { pipeline } = await loadPipeline(join(dir, "top.yaml"), fast());
    expect(pipeline.parameters).toEqual({ p: 2 });
    expect(pipeline.dimensions).toEqual({ visit: "int", detector: "int", band: "string" });
    expect(pipeline.inputs[0]).toMatchObject({ path: join(dir, "mine/{band}/{visit}/{detector}.npy") });
    const stats = pipeline.tasks.find((t) => t.label === "stats")!;
    expect(stats.command).toBe("mystats {inputs.c} > {outputs.o}");
    expect(stats.inputs.c!.type).toBe("calexp");
    expect(stats.timeoutMs).toBe(300_000);
    expect(pipeline.subsets).toEqual({ step1: { tasks: ["isr"] } });
  });

  it("resolves an imported file's relative paths against its own directory", async () => {
    const dir = writeFiles({ "lib/base.yaml": base, "top.yaml": "imports: [{ location: lib/base.yaml }]\n" });
    const { pipeline } = await loadPipeline(join(dir, "top.yaml"), fast());
    expect(pipeline.inputs[0]!.path).toBe(join(dir, "lib/raw/{visit}/{detector}.npy"));
    expect(pipeline.name).toBe("top");
  });
});

describe("parameters", () => {
  const text = `
parameters: { threshold: 4, dir: data, name: run1 }
dimensions: { visit: int, detector: int }
inputs:
  raw: { path: "\${dir}/{visit}/{detector}.npy", storage: ndarray }
tasks:
  isr: { task: $TASKS/isr.mjs }
  calibrate: { task: $TASKS/calibrate.mjs, config: { detection: { threshold: "\${threshold}" } } }
  note:
    command: "echo {config.label} > {outputs.o}"
    dimensions: [visit]
    outputs: { o: { type: note, dimensions: [visit], storage: file } }
    config: { label: "\${name}-t\${threshold}", literal: "$\${name}", list: ["\${threshold}", 1] }
`;

  it("substitutes typed values, text inside strings, and paths", async () => {
    const dir = writeFiles({ "p.yaml": text });
    const { pipeline } = await loadPipeline(join(dir, "p.yaml"), fast());
    const config = (label: string) => pipeline.tasks.find((t) => t.label === label)!.config;
    expect(config("calibrate")).toMatchObject({ detection: { threshold: 4 } });
    expect(config("note")).toEqual({ label: "run1-t4", literal: "${name}", list: [4, 1] });
    expect(pipeline.inputs[0]!.path).toBe(join(dir, "data/{visit}/{detector}.npy"));
  });

  it("takes values from the command line as YAML scalars", async () => {
    const dir = writeFiles({ "p.yaml": text });
    const { pipeline } = await loadPipeline(join(dir, "p.yaml"), fast({ parameters: { threshold: "6.5", dir: "other" } }));
    expect(pipeline.parameters).toEqual({ threshold: 6.5, dir: "other", name: "run1" });
    expect(pipeline.tasks.find((t) => t.label === "calibrate")!.config).toMatchObject({ detection: { threshold: 6.5 } });
    expect(pipeline.inputs[0]!.path).toBe(join(dir, "other/{visit}/{detector}.npy"));
  });

  it("rejects an undeclared parameter from the command line", async () => {
    const dir = writeFiles({ "p.yaml": text });
    const err = await loadError(join(dir, "p.yaml"), { parameters: { treshold: "1" } });
    expect(err.message).toBe('unknown parameter "treshold"');
    expect(err.hint).toBe('did you mean "threshold"?');
  });
});

describe("--tasks", () => {
  const labels = async (tasks: string) => (await loadPipeline(SKY, fast({ tasks }))).pipeline.tasks.map((t) => t.label);

  it("selects labels and subsets, in pipeline order", async () => {
    expect(await labels("step2")).toEqual(["coadd", "detect"]);
    expect(await labels("compile, isr")).toEqual(["isr", "compile"]);
    expect(await labels("step1,detect")).toEqual(["isr", "calibrate", "detect"]);
  });

  it("adds every ancestor with +", async () => {
    expect(await labels("+detect")).toEqual(["isr", "calibrate", "coadd", "detect"]);
    expect(await labels("+step2")).toEqual(["isr", "calibrate", "coadd", "detect"]);
    expect(await labels("+compile")).toEqual(["sources", "compile"]);
    expect(await labels("+isr")).toEqual(["isr"]);
  });

  it("keeps subsets and config sources of the selected tasks only", async () => {
    const loaded = await loadPipeline(SKY, fast({ tasks: "calibrate,coadd" }));
    expect(loaded.pipeline.subsets).toEqual({
      step1: { tasks: ["calibrate"] },
      step2: { tasks: ["coadd"], description: "per-patch processing" },
    });
    expect(Object.keys(loaded.configSources)).toEqual(["calibrate", "coadd"]);
  });

  it("rejects unknown names and empty items", async () => {
    const err = await loadError(SKY, { tasks: "calibrat" });
    expect(err.message).toBe('--tasks calibrat: no task or subset "calibrat"');
    expect(err.hint).toBe('did you mean "calibrate"?');
    expect((await loadError(SKY, { tasks: "isr,,detect" })).message).toBe(
      "--tasks isr,,detect: expected task labels or subset names separated by commas, found an empty name",
    );
  });
});

describe("errors", () => {
  it("prints paths relative to the current directory", async () => {
    const dir = writeFiles({ "sub/p.yaml": "dimensions: { visit: nope }\n" });
    const err = await loadError(join(dir, "sub/p.yaml"), { cwd: join(dir, "sub") });
    expect(err.message.split("\n")[0]).toBe('p.yaml:1:22: dimensions.visit: expected one of int, string, got "nope"');
    const fromAbove = await loadError(join(dir, "sub/p.yaml"), { cwd: dir });
    expect(fromAbove.file).toBe("sub/p.yaml");
    expect(fromAbove.span).toEqual({ line: 1, column: 22, length: 4 });
  });

  it("says which file is missing", async () => {
    const err = await loadError(resolve("no-such-pipeline.yaml"));
    expect(err.message).toBe("cannot read pipeline file no-such-pipeline.yaml: no such file");
  });
});
