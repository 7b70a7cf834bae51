/**
 * Command tasks as real tools want their files, through the real CLI: a connection's `name:` puts a
 * file where the tool looks (companions side by side, as bwa's index beside its genome and samtools'
 * `.bai` beside its `.bam`), an output keeps its extension, and a program an upstream task declared
 * executable runs as it is. Without a C compiler or bwa: the commands stand in for them with sh.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir, runCli } from "../helpers/cli.js";

const temp = makeTempDir("quanta-sandbox-names-");
afterAll(() => temp.cleanup());
let counter = 0;

function makeProject(pipeline: string[]): string {
  const dir = join(temp.dir, `p${counter++}`);
  mkdirSync(join(dir, "data"), { recursive: true });
  mkdirSync(join(dir, "ref"));
  writeFileSync(join(dir, "ref", "genome.fa"), ">chr1\nACGT\n");
  for (const sample of ["A", "B"]) writeFileSync(join(dir, "data", `${sample}.fastq`), `@${sample}\nACGT\n`);
  writeFileSync(join(dir, "p.yaml"), pipeline.join("\n") + "\n");
  return dir;
}

const GENOMICS = [
  "dimensions: { sample: string }",
  "inputs:",
  '  genome: { path: "ref/genome.fa", storage: file }',
  '  reads: { path: "data/{sample}.fastq", storage: file }',
  "tasks:",
  // Like `bwa index genome.fa`: writes its companions beside the file it is given.
  "  index:",
  '    command: "for e in bwt amb; do echo $e > genome.fa.$e; done"',
  "    dimensions: []",
  '    inputs: { genome: { type: genome, dimensions: [], storage: file, name: "genome.fa" } }',
  "    outputs:",
  '      bwt: { type: genome_bwt, dimensions: [], storage: file, name: "genome.fa.bwt" }',
  '      amb: { type: genome_amb, dimensions: [], storage: file, name: "genome.fa.amb" }',
  // Like `bwa mem ref/genome.fa X.fastq`: finds the companions by the genome's name.
  "  align:",
  '    command: "test -f ref/genome.fa.bwt && test -f ref/genome.fa.amb && cat ref/genome.fa {inputs.reads} > {outputs.bam}"',
  "    dimensions: [sample]",
  "    inputs:",
  '      genome: { type: genome, dimensions: [], storage: file, name: "ref/genome.fa" }',
  '      bwt: { type: genome_bwt, dimensions: [], storage: file, name: "ref/genome.fa.bwt" }',
  '      amb: { type: genome_amb, dimensions: [], storage: file, name: "ref/genome.fa.amb" }',
  '      reads: { type: reads, dimensions: [sample], storage: file, name: "{sample}.fastq" }',
  '    outputs: { bam: { type: bam, dimensions: [sample], storage: file, name: "{sample}.bam" } }',
  // Like `samtools index X.bam`: writes X.bam.bai.
  "  bamindex:",
  '    command: "cp {inputs.bam} {inputs.bam}.bai"',
  "    dimensions: [sample]",
  '    inputs: { bam: { type: bam, dimensions: [sample], storage: file, name: "sorted/{sample}.bam" } }',
  '    outputs: { bai: { type: bai, dimensions: [sample], storage: file, name: "sorted/{sample}.bam.bai" } }',
  // Like `bcftools mpileup A.bam B.bam`: wants each .bai beside its .bam; like matplotlib, writes quals.svg.
  "  call:",
  '    command: "for b in {inputs.bams}; do test -f $b.bai || exit 9; done; echo \\"<svg>$(ls bams | tr \'\\\\n\' \' \')</svg>\\" > quals.svg; ./plot.sh > {outputs.table}"',
  "    dimensions: []",
  "    inputs:",
  '      bams: { type: bam, dimensions: [sample], storage: file, multiple: true, name: "bams/{sample}.bam" }',
  '      bais: { type: bai, dimensions: [sample], storage: file, multiple: true, name: "bams/{sample}.bam.bai" }',
  '      plot: { type: plotter, dimensions: [], storage: file, name: "plot.sh" }',
  "    outputs:",
  '      svg: { type: plot, dimensions: [], storage: file, name: "quals.svg" }',
  '      table: { type: table, dimensions: [], storage: text, name: "calls.tsv" }',
  // A program made by the pipeline, declared executable: its readers run it as it is.
  "  mkplot:",
  '    command: "printf \'#!/bin/sh\\\\necho plotted\\\\n\' > {outputs.tool}"',
  "    dimensions: []",
  '    outputs: { tool: { type: plotter, dimensions: [], storage: file, name: "plot.sh", executable: true } }',
];

describe("17.8.a connections name their files in the sandbox", () => {
  it("keeps companion files together, an output's extension, and a program executable", async () => {
    const dir = makeProject(GENOMICS);
    const run = await runCli(["run", "p.yaml", "--repo", "repo"], { cwd: dir });
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toContain("7 ran, 0 up to date, 0 failed");
    const svg = await runCli(["get", "plot@", "--repo", "repo"], { cwd: dir });
    expect(svg.stdout).toBe("<svg>A.bam A.bam.bai B.bam B.bam.bai </svg>\n");
    const table = await runCli(["get", "table@", "--repo", "repo"], { cwd: dir });
    expect(table.stdout).toBe("plotted\n");
    const bam = await runCli(["get", "bam@sample=B", "--repo", "repo"], { cwd: dir });
    expect(bam.stdout).toBe(">chr1\nACGT\n@B\nACGT\n");
  });

  it("refuses a name outside the sandbox, and a gather whose datasets would share one file", async () => {
    const absolute = makeProject(GENOMICS.map((l) => l.replace('name: "genome.fa" }', 'name: "/tmp/genome.fa" }')));
    let r = await runCli(["run", "p.yaml", "--repo", "repo"], { cwd: absolute });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the name "/tmp/genome.fa" of connection "genome" of task "index" is absolute');
    expect(r.stderr).toContain('hint: give a path relative to the sandbox, e.g. "tmp/genome.fa"');

    const shared = makeProject(GENOMICS.map((l) => l.replace('name: "bams/{sample}.bam" }', 'name: "bams/all.bam" }')));
    r = await runCli(["run", "p.yaml", "--repo", "repo"], { cwd: shared });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the name "bams/all.bam" of connection "bams" of task "call" gives every dataset it gathers the same file');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("fails a quantum whose input and output take the same name, saying which", async () => {
    const dir = makeProject(GENOMICS.map((l) => l.replace('name: "calls.tsv" }', 'name: "plot.sh" }')));
    const r = await runCli(["run", "p.yaml", "--repo", "repo"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain('output "table" and input "plot" are both named "plot.sh" in the sandbox');
  });
});
