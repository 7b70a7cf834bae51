import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UsageError } from "../../src/core/errors.js";
import { loadTaskModule } from "../../src/exec/task-module.js";

const PROJECT_ROOT = join(import.meta.dirname, "..", "..");
const root = mkdtempSync(join(tmpdir(), "quanta-task-module-"));
const cacheDir = join(root, "cache");
afterAll(() => rmSync(root, { recursive: true, force: true }));

beforeAll(() => {
  // Task modules import "quanta" from the built package, as they do in real use.
  if (!existsSync(join(PROJECT_ROOT, "dist", "index.js"))) throw new Error("build first: npx tsc -p .");
});

const TASK = `
import { defineTask, noWork, z } from "quanta";
import { scale } from "./lib/scale.js";

export default defineTask({
  name: "double",
  dimensions: ["visit"],
  config: z.object({ factor: z.number().default(2) }),
  inputs: { values: { type: "raw", dimensions: ["visit"], storage: "json" } },
  outputs: { doubled: { type: "doubled", dimensions: ["visit"], storage: "json" } },
  run({ values }, config, ctx) {
    if (values.length === 0) return noWork("no values");
    ctx.log.info("scaling %d values by %s", values.length, config.factor);
    return { doubled: scale(values as number[], config.factor) };
  },
});
`;
const SCALE = `import { round } from "./round.ts";\nexport function scale(xs: number[], k: number): number[] { return xs.map((x) => round(x * k)); }\n`;
const ROUND = `export const round = (x: number): number => Math.round(x * 1000) / 1000;\n`;

function writeProject(dir: string): string {
  mkdirSync(join(dir, "lib"), { recursive: true });
  writeFileSync(join(dir, "task.ts"), TASK);
  writeFileSync(join(dir, "lib", "scale.ts"), SCALE);
  writeFileSync(join(dir, "lib", "round.ts"), ROUND);
  writeFileSync(join(dir, "lib", "unrelated.ts"), "export const x = 1;\n");
  writeFileSync(join(dir, "notes.txt"), "not code\n");
  return join(dir, "task.ts");
}

describe("loadTaskModule", () => {
  it("loads a .ts task with local imports from a directory without node_modules, sharing the quanta runtime", async () => {
    const dir = join(root, "load");
    const modulePath = writeProject(dir);
    const loaded = await loadTaskModule(modulePath, { cacheDir });
    expect(loaded.definition.name).toBe("double");
    expect(loaded.codeDigest).toMatch(/^[0-9a-f]{32}$/);
    expect(loaded.files).toEqual([join(dir, "lib", "round.ts"), join(dir, "lib", "scale.ts"), join(dir, "task.ts")]);

    const lines: string[] = [];
    const ctx = { label: "double", dataId: { visit: 1 }, log: { info: (f: string, ...a: unknown[]) => lines.push([f, ...a].join("|")), warn() {}, error() {}, debug() {} } };
    const out = await loaded.definition.run({ values: [1, 2.5] }, { factor: 2 }, ctx);
    expect(out).toEqual({ doubled: [2, 5] });
    expect(lines).toEqual(["scaling %d values by %s|2|2"]);

    // noWork comes from the same runtime the engine uses.
    const runtime = (await import(pathToFileURL(join(PROJECT_ROOT, "dist", "index.js")).href)) as typeof import("../../src/index.js");
    const none = await loaded.definition.run({ values: [] }, { factor: 2 }, ctx);
    expect(runtime.isNoWork(none)).toBe(true);
    expect(none).toEqual({ __quantaNoWork: true, reason: "no values" });
    expect(runtime.validateTaskConfig(loaded.definition, {})).toEqual({ ok: true, config: { factor: 2 } });

    // The bundle keeps "quanta" external: it points at the package's dist/index.js.
    const again = await loadTaskModule(modulePath, { cacheDir });
    expect(again.definition).toBe(loaded.definition);
    expect(again.codeDigest).toBe(loaded.codeDigest);
  });

  it("changes the code digest when the task or a local import changes, not when an unrelated file does", async () => {
    const dir = join(root, "digest");
    const modulePath = writeProject(dir);
    const base = (await loadTaskModule(modulePath, { cacheDir })).codeDigest;

    writeFileSync(join(dir, "lib", "unrelated.ts"), "export const x = 2;\n");
    writeFileSync(join(dir, "notes.txt"), "still not code\n");
    writeFileSync(join(dir, "lib", "new-file.ts"), "export const y = 3;\n");
    expect((await loadTaskModule(modulePath, { cacheDir })).codeDigest).toBe(base);

    writeFileSync(join(dir, "lib", "round.ts"), ROUND.replace("1000", "100").replace("1000", "100"));
    const afterImportEdit = await loadTaskModule(modulePath, { cacheDir });
    expect(afterImportEdit.codeDigest).not.toBe(base);
    // The edited transitive import is what runs now.
    const ctx = { label: "t", dataId: {}, log: { info() {}, warn() {}, error() {}, debug() {} } };
    expect(await afterImportEdit.definition.run({ values: [0.1234] }, { factor: 1 }, ctx)).toEqual({ doubled: [0.12] });

    writeFileSync(join(dir, "lib", "round.ts"), ROUND);
    expect((await loadTaskModule(modulePath, { cacheDir })).codeDigest).toBe(base);

    writeFileSync(modulePath, TASK.replace("scaling", "multiplying"));
    expect((await loadTaskModule(modulePath, { cacheDir })).codeDigest).not.toBe(base);
  });

  it("gives the same digest to the same code in another directory", async () => {
    const a = await loadTaskModule(writeProject(join(root, "copy-a")), { cacheDir });
    const b = await loadTaskModule(writeProject(join(root, "copy-b", "nested")), { cacheDir });
    expect(b.codeDigest).toBe(a.codeDigest);
  });

  it("loads plain .mjs modules the same way", async () => {
    const dir = join(root, "plain");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "task.mjs"),
      `import { defineTask } from "quanta";\nimport { readFileSync } from "node:fs";\nexport default defineTask({ name: "plain", dimensions: [], inputs: {}, outputs: { n: { type: "n", dimensions: [], storage: "json" } }, run: () => ({ n: typeof readFileSync }) });\n`,
    );
    const loaded = await loadTaskModule(join(dir, "task.mjs"), { cacheDir });
    expect(loaded.definition.name).toBe("plain");
    expect(await loaded.definition.run({}, {}, { label: "plain", dataId: {}, log: { info() {}, warn() {}, error() {}, debug() {} } })).toEqual({ n: "function" });
  });

  it("rejects a module without a task default export, naming the file", async () => {
    const dir = join(root, "bad");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "none.ts"), "export const task = 1;\n");
    writeFileSync(join(dir, "wrong.ts"), "export default { name: 'x' };\n");
    writeFileSync(join(dir, "broken.ts"), "export default defineTask({ name: \n");
    writeFileSync(join(dir, "throws.ts"), "throw new Error('no config file');\nexport default 1;\n");
    await expect(loadTaskModule(join(dir, "none.ts"), { cacheDir })).rejects.toMatchObject({
      name: "UsageError",
      message: `task module ${join(dir, "none.ts")} does not export a task: it has no default export`,
      hint: 'export default defineTask({ name, dimensions, inputs, outputs, run }) (import { defineTask } from "quanta")',
    });
    await expect(loadTaskModule(join(dir, "wrong.ts"), { cacheDir })).rejects.toThrow(
      `task module ${join(dir, "wrong.ts")} does not export a task: its default export is an object with keys name (a task needs name, dimensions, inputs, outputs and run)`,
    );
    await expect(loadTaskModule(join(dir, "broken.ts"), { cacheDir })).rejects.toThrow(
      `cannot load task module ${join(dir, "broken.ts")}: ${join(dir, "broken.ts")}:2:1: Unexpected end of file`,
    );
    await expect(loadTaskModule(join(dir, "throws.ts"), { cacheDir })).rejects.toThrow(
      `task module ${join(dir, "throws.ts")} failed to load: no config file`,
    );
    await expect(loadTaskModule(join(dir, "missing.ts"), { cacheDir })).rejects.toBeInstanceOf(UsageError);
  });

  it("loads a task module inside a worker thread, with the same digest", async () => {
    const modulePath = writeProject(join(root, "worker"));
    const here = await loadTaskModule(modulePath, { cacheDir });
    // The worker runs the compiled loader: bundle it, leaving esbuild (native binary) external.
    const workerFile = join(root, "worker-entry.mjs");
    await build({
      stdin: {
        contents: `
          import { parentPort, workerData } from "node:worker_threads";
          import { loadTaskModule } from ${JSON.stringify(join(PROJECT_ROOT, "src", "exec", "task-module.ts"))};
          const loaded = await loadTaskModule(workerData.modulePath, workerData.options);
          const ctx = { label: "w", dataId: {}, log: { info() {}, warn() {}, error() {}, debug() {} } };
          const out = await loaded.definition.run({ values: [4] }, { factor: 3 }, ctx);
          parentPort.postMessage({ codeDigest: loaded.codeDigest, out });`,
        resolveDir: PROJECT_ROOT,
        loader: "ts",
      },
      bundle: true,
      platform: "node",
      format: "esm",
      outfile: workerFile,
      logLevel: "silent",
      plugins: [
        {
          name: "external-esbuild",
          setup(b) {
            b.onResolve({ filter: /^esbuild$/ }, () => ({ path: pathToFileURL(join(PROJECT_ROOT, "node_modules", "esbuild", "lib", "main.js")).href, external: true }));
          },
        },
      ],
    });
    const runtimeUrl = pathToFileURL(join(PROJECT_ROOT, "dist", "index.js")).href;
    const worker = new Worker(workerFile, { workerData: { modulePath, options: { cacheDir: join(root, "worker-cache"), runtimeUrl } } });
    const reply = await new Promise<{ codeDigest: string; out: unknown }>((resolvePromise, reject) => {
      worker.once("message", resolvePromise);
      worker.once("error", reject);
    });
    await worker.terminate();
    expect(reply).toEqual({ codeDigest: here.codeDigest, out: { doubled: [12] } });
  });
});
