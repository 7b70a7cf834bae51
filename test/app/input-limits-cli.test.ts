/**
 * An input's path template limited by `include`/`exclude` globs, and files that fit no template warned
 * about once (by the first ingest that finds them), not by every run: through the real CLI.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compilePathGlob } from "../../src/core/path-glob.js";
import { makeTempDir, runCli } from "../helpers/cli.js";

const temp = makeTempDir("quanta-input-limits-");
afterAll(() => temp.cleanup());
let counter = 0;

/** A folder of C sources beside the files such a folder holds (a Makefile, a header, a man page). */
function makeProject(limits: string): string {
  const dir = join(temp.dir, `p${counter++}`);
  mkdirSync(join(dir, "src"), { recursive: true });
  for (const name of ["mdb.c", "midl.c", "mtest.c", "lmdb.h", "Makefile", "mdb_stat.1"]) writeFileSync(join(dir, "src", name), `${name}\n`);
  writeFileSync(
    join(dir, "p.yaml"),
    [
      "dimensions: { file: string }",
      "inputs:",
      `  source: { path: "src/{file}.c", storage: file${limits} }`,
      "tasks:",
      "  copy:",
      '    command: "cp {inputs.s} {outputs.o}"',
      "    dimensions: [file]",
      "    inputs: { s: { type: source, dimensions: [file], storage: file } }",
      "    outputs: { o: { type: copied, dimensions: [file], storage: file } }",
    ].join("\n") + "\n",
  );
  return dir;
}

/** The warning lines, with the project's folder written as `P`. */
function warnings(stderr: string, dir: string): string[] {
  return stderr.split("\n").filter((l) => l.startsWith("warning:")).map((l) => l.replaceAll(dir, "P"));
}

describe("17.8.d limited path templates, and files that fit no template", () => {
  it("warns about a file that fits no template in the first run that finds it, not in every run", async () => {
    const dir = makeProject("");
    let r = await runCli(["run", "p.yaml", "--repo", "repo"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(warnings(r.stderr, dir)).toEqual([
      "warning: P/src/Makefile: does not fit the template 'P/src/{file}.c'",
      "warning: P/src/lmdb.h: does not fit the template 'P/src/{file}.c'",
      "warning: P/src/mdb_stat.1: does not fit the template 'P/src/{file}.c'",
    ]);
    r = await runCli(["run", "p.yaml", "--repo", "repo"], { cwd: dir });
    expect(warnings(r.stderr, dir)).toEqual([]);
    writeFileSync(join(dir, "src", "NOTES"), "new\n");
    r = await runCli(["run", "p.yaml", "--repo", "repo"], { cwd: dir });
    expect(warnings(r.stderr, dir)).toEqual(["warning: P/src/NOTES: does not fit the template 'P/src/{file}.c'"]);
  });

  it("takes only the files an input's include globs match, and warns about no other", async () => {
    const dir = makeProject(', include: ["src/mdb.c", "src/midl.c"]');
    const r = await runCli(["run", "p.yaml", "--repo", "repo", "--json"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(warnings(r.stderr, dir)).toEqual([]);
    const last = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { counts: { ran: number } };
    expect(last.counts.ran).toBe(2);
  });

  it("leaves out the files an input's exclude globs match, without a warning", async () => {
    const dir = makeProject(', exclude: ["src/mtest.c", "src/*.h", "src/Makefile", "src/*.[0-9]"]');
    const r = await runCli(["run", "p.yaml", "--repo", "repo"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(warnings(r.stderr, dir)).toEqual([]);
    const listed = await runCli(["datasets", "--repo", "repo", "--type", "source", "--json"], { cwd: dir });
    expect(listed.stdout.trim().split("\n").map((l) => (JSON.parse(l) as { dataId: { file: string } }).dataId.file)).toEqual(["mdb", "midl"]);
  });

  it("compiles globs: * and ? within a folder, ** across folders, [sets]", () => {
    expect(compilePathGlob("/p/src/*.c").test("/p/src/a.c")).toBe(true);
    expect(compilePathGlob("/p/src/*.c").test("/p/src/sub/a.c")).toBe(false);
    expect(compilePathGlob("/p/src/**/*.c").test("/p/src/a.c")).toBe(true);
    expect(compilePathGlob("/p/src/**/*.c").test("/p/src/x/y/a.c")).toBe(true);
    expect(compilePathGlob("/p/src/m?.c").test("/p/src/mb.c")).toBe(true);
    expect(compilePathGlob("/p/src/*.[!ch]").test("/p/src/a.o")).toBe(true);
    expect(compilePathGlob("/p/src/*.[!ch]").test("/p/src/a.c")).toBe(false);
    expect(compilePathGlob("/p/a+b(1).c").test("/p/a+b(1).c")).toBe(true);
  });
});
