/**
 * 17.10: `--output` means one thing, an output collection: a run cannot write into the input
 * collections (`raw`, `raw/<pipeline>`) nor a collection named "", and `get` writes a file with
 * `-o`/`--to`, refusing `--output`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir, runCli } from "../helpers/cli.js";

const temp = makeTempDir("quanta-output-");
const dir = temp.dir;
const cli = (...args: string[]) => runCli(args, { cwd: dir });

beforeAll(() => {
  mkdirSync(join(dir, "data"));
  writeFileSync(join(dir, "data", "1.txt"), "one\n");
  writeFileSync(
    join(dir, "words.yaml"),
    `dimensions: { doc: int }
inputs:
  text: { path: "data/{doc}.txt", storage: text }
tasks:
  copy:
    command: "cp {inputs.text} {outputs.out}"
    dimensions: [doc]
    inputs: { text: { type: text, dimensions: [doc], storage: text } }
    outputs: { out: { type: copied, dimensions: [doc], storage: text } }
`,
  );
});
afterAll(() => temp.cleanup());

describe("17.10 --output names an output collection, and only a writable one", () => {
  it.each([["raw/words"], ["raw"], ["raw/other"]])("17.10 run --output %s is refused: an input collection", async (name) => {
    const r = await cli("run", "words.yaml", "--output", name);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `error: output collection "${name}" (--output) is an input collection: raw and raw/… hold ingested inputs\nhint: choose another name, or leave --output out for the pipeline's name\n`,
    );
    const listed = await cli("datasets", "--type", "copied");
    expect(listed.stdout).toBe("");
  });

  it("17.10 run --output '' is refused", async () => {
    const r = await cli("run", "words.yaml", "--output", "");
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("error: --output names an empty collection\nhint: name the output collection, or leave --output out for the pipeline's name\n");
  });

  it("17.10 run --output with a name too long for the registry's keys is refused before anything runs", async () => {
    const name = "c".repeat(1967);
    const r = await cli("run", "words.yaml", "--output", name, "--repo", "long");
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `error: output collection "${"c".repeat(59)}…" (1967 characters) is 1967 bytes long, more than 512\nhint: choose a shorter name: a collection's name is part of every registry key of its datasets, quanta and stamps\n`,
    );
    expect(r.stdout).not.toContain("ran");
    // At the limit, the run and its stamp are written: the next run is answered by the stamp.
    const longest = "é".repeat(256);
    expect((await cli("run", "words.yaml", "--output", longest, "--repo", "long")).code).toBe(0);
    const again = await cli("run", "words.yaml", "--output", longest, "--repo", "long", "--json");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('"task-up-to-date"');
  });

  it("17.10 get writes a file with -o or --to, and refuses --output", async () => {
    expect((await cli("run", "words.yaml")).code).toBe(0);
    expect((await cli("get", "copied@doc=1", "--to", "a.txt")).code).toBe(0);
    expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("one\n");
    expect((await cli("get", "copied@doc=1", "-o", "b.txt")).code).toBe(0);
    expect(readFileSync(join(dir, "b.txt"), "utf8")).toBe("one\n");
    const r = await cli("get", "copied@doc=1", "--output", "c.txt");
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "error: get takes no --output (in quanta, --output names a collection)\nhint: write to a file with -o FILE (--to FILE); read from a collection with --collection NAME\n",
    );
    expect(existsSync(join(dir, "c.txt"))).toBe(false);
  });
});
