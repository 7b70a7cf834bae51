/**
 * 17.5: `log`, `provenance` and `why` in a repository shared by several pipelines read a quantum or
 * dataset name with the dimensions of the collection asked for (the pipeline that last wrote it), not
 * with those of the latest run.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir, runCli } from "../helpers/cli.js";

const copyPipeline = (opts: { dim: string; type: string; input: string; folder: string; task: string; out: string }) => `dimensions: { ${opts.dim}: ${opts.type} }
inputs:
  ${opts.input}: { path: "${opts.folder}/{${opts.dim}}.txt", storage: text }
tasks:
  ${opts.task}:
    command: "cp {inputs.src} {outputs.out}"
    dimensions: [${opts.dim}]
    inputs: { src: { type: ${opts.input}, dimensions: [${opts.dim}], storage: text } }
    outputs: { out: { type: ${opts.out}, dimensions: [${opts.dim}], storage: text } }
`;

const temp = makeTempDir("quanta-two-pipelines-");
const dir = temp.dir;
const cli = (...args: string[]) => runCli(args, { cwd: dir });

beforeAll(async () => {
  for (const folder of ["docs", "samples"]) mkdirSync(join(dir, folder));
  writeFileSync(join(dir, "docs", "1.txt"), "doc one\n");
  writeFileSync(join(dir, "samples", "s1.txt"), "sample one\n");
  writeFileSync(join(dir, "words.yaml"), copyPipeline({ dim: "doc", type: "int", input: "text", folder: "docs", task: "copyText", out: "textCopy" }));
  writeFileSync(join(dir, "reads.yaml"), copyPipeline({ dim: "sample", type: "string", input: "seq", folder: "samples", task: "copySeq", out: "seqCopy" }));
  for (const p of ["words.yaml", "reads.yaml"]) expect((await cli("run", p)).code).toBe(0);
});
afterAll(() => temp.cleanup());

describe("17.5 log, provenance and why with several pipelines in one repository", () => {
  it("17.5 log reads the quantum with the dimensions of the collection asked for", async () => {
    const r = await cli("log", "copyText@doc=1", "--collection", "words");
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^copyText@doc=1: succeeded \(attempt 1\)/);
    expect((await cli("log", "copySeq@sample=s1")).stdout).toMatch(/^copySeq@sample=s1: succeeded/);
  });

  it("17.5 provenance reads the dataset with the collection's dimensions and finds that pipeline's inputs", async () => {
    const r = await cli("provenance", "textCopy@doc=1", "--collection", "words");
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain(`└─ text@doc=1  `);
    expect(r.stdout).toContain(`from ${join(dir, "docs", "1.txt")}`);
  });

  it("17.5 why --output COLLECTION plans with the pipeline that wrote that collection", async () => {
    const r = await cli("why", "copyText@doc=1", "--output", "words");
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("copyText@doc=1 up to date:\n  - up to date: inputs, config and code unchanged, outputs present\n");
  });
});
