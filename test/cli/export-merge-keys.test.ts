/**
 * YAML merge keys in the pipeline file (`<<: *common`, anchors under an `x-` key), and `quanta export`
 * writing many datasets to a folder at once, programs executable: through the real CLI.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir, runCli } from "../helpers/cli.js";

const temp = makeTempDir("quanta-export-merge-");
afterAll(() => temp.cleanup());
let counter = 0;

/** Two per-item tasks sharing their dimensions and input through a merge key, and a program. */
function makeProject(common: string[] = ["  dimensions: [item]", "  inputs: { src: { type: raw, dimensions: [item], storage: text } }"]): string {
  const dir = join(temp.dir, `p${counter++}`);
  mkdirSync(join(dir, "data"), { recursive: true });
  for (const item of ["a", "b"]) writeFileSync(join(dir, "data", `${item}.txt`), `${item}\n`);
  const lines = [
    "dimensions: { item: string }",
    'inputs: { raw: { path: "data/{item}.txt", storage: text } }',
    "x-per-item: &per-item",
    ...common,
    "tasks:",
    "  upper:",
    "    <<: *per-item",
    '    command: "tr a-z A-Z < {inputs.src} > {outputs.out}"',
    "    outputs: { out: { type: upper, dimensions: [item], storage: text } }",
    "  twice:",
    "    <<: *per-item",
    '    command: "cat {inputs.src} {inputs.src} > {outputs.out}"',
    "    outputs: { out: { type: twice, dimensions: [item], storage: text } }",
    "  tool:",
    "    command: \"printf '#!/bin/sh\\\\necho tool\\\\n' > {outputs.exe}\"",
    "    dimensions: []",
    "    outputs: { exe: { type: tool, dimensions: [], storage: file, executable: true } }",
  ];
  writeFileSync(join(dir, "p.yaml"), lines.join("\n") + "\n");
  return dir;
}

describe("17.8.f YAML merge keys", () => {
  it("takes a task's entries from the mapping a merge key names", async () => {
    const dir = makeProject();
    const r = await runCli(["run", "p.yaml", "--repo", "repo"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("5 ran, 0 up to date, 0 failed");
    expect((await runCli(["get", "twice@item=b", "--repo", "repo"], { cwd: dir })).stdout).toBe("b\nb\n");
  });

  it("points an error in a merged value at the anchored mapping that holds it", async () => {
    const dir = makeProject(["  dimensions: [item]", "  timeout: 5 years", "  inputs: { src: { type: raw, dimensions: [item], storage: text } }"]);
    const r = await runCli(["run", "p.yaml", "--repo", "repo"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: p.yaml:5:12: task "upper": timeout "5 years" is not a duration');
    expect(r.stderr).toContain("   5 |   timeout: 5 years");
  });
});

describe("17.8.f quanta export", () => {
  it("writes every dataset of the types named to a folder, a program executable", async () => {
    const dir = makeProject();
    expect((await runCli(["run", "p.yaml", "--repo", "repo"], { cwd: dir })).code).toBe(0);
    const r = await runCli(["export", "upper", "tool", "raw@item=b", "--to", "out", "--repo", "repo"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("exported 4 datasets to out\n");
    expect(readFileSync(join(dir, "out", "upper", "item=a.txt"), "utf8")).toBe("A\n");
    expect(readFileSync(join(dir, "out", "upper", "item=b.txt"), "utf8")).toBe("B\n");
    expect(readFileSync(join(dir, "out", "raw", "item=b.txt"), "utf8")).toBe("b\n");
    expect(existsSync(join(dir, "out", "raw", "item=a.txt"))).toBe(false);
    expect(readFileSync(join(dir, "out", "tool"), "utf8")).toBe("#!/bin/sh\necho tool\n");
    expect(statSync(join(dir, "out", "tool")).mode & 0o777).toBe(0o755);
    expect(statSync(join(dir, "out", "upper", "item=a.txt")).mode & 0o111).toBe(0);
  });

  it("says which type it does not know, with a hint, and exits 2", async () => {
    const dir = makeProject();
    expect((await runCli(["run", "p.yaml", "--repo", "repo"], { cwd: dir })).code).toBe(0);
    const r = await runCli(["export", "uper", "--to", "out", "--repo", "repo"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("error: no dataset type 'uper' in repo\nhint: did you mean \"upper\"?\n");
    expect(existsSync(join(dir, "out"))).toBe(false);
  });
});
