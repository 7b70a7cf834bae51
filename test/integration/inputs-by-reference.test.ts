/**
 * Raw inputs by reference (issue 19.1), through the real CLI: by default ingest leaves the files where
 * they are (no copy in the blob store, none in the registry), and every reader (`get`, `verify`, a
 * command task, a TypeScript task) reads the file itself and notices when it changed since it was
 * hashed, even with its size kept and its mtime set back. `transfer: copy` still snapshots, and
 * `transfer: link` hard-links.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir, runCli } from "../helpers/cli.js";

const temp = makeTempDir("quanta-by-reference-");
afterAll(() => temp.cleanup());
let counter = 0;
const WHOLE_SECOND = Math.floor(Date.now() / 1000) - 100;

/** A TypeScript task that writes the length and first byte of its raw input. */
const MEASURE = `import { defineTask } from "quanta";
export default defineTask({
  name: "measure",
  dimensions: ["visit"],
  inputs: { raw: { type: "raw", dimensions: ["visit"], storage: "bytes" } },
  outputs: { out: { type: "measured", dimensions: ["visit"], storage: "json" } },
  run({ raw }) {
    return { out: { length: raw.length, first: raw[0] } };
  },
});
`;

/**
 * A project: raw/v1.bin and raw/v2.bin of 20,000 random bytes (too big to be kept in the registry),
 * raw/v3.bin and raw/v4.bin of 100 (small ones); a command task (`size`) and a TypeScript task
 * (`measure`) read each.
 */
function makeProject(extra: { transfer?: string; tasks?: string[] } = {}): { dir: string; raw: Map<string, Buffer> } {
  const dir = join(temp.dir, `p-${counter++}`);
  mkdirSync(join(dir, "raw"), { recursive: true });
  mkdirSync(join(dir, "tasks"), { recursive: true });
  const raw = new Map<string, Buffer>();
  for (const [visit, size] of [[1, 20_000], [2, 20_000], [3, 100], [4, 100]] as const) {
    const bytes = randomBytes(size);
    const path = join(dir, "raw", `v${visit}.bin`);
    writeFileSync(path, bytes);
    // A whole second: an mtime set back by utimes (a double, in seconds) is then the very same.
    utimesSync(path, WHOLE_SECOND, WHOLE_SECOND);
    raw.set(path, bytes);
  }
  writeFileSync(join(dir, "tasks", "measure.ts"), MEASURE);
  const transfer = extra.transfer === undefined ? "" : `, transfer: ${extra.transfer}`;
  writeFileSync(
    join(dir, "p.yaml"),
    [
      "dimensions: { visit: int }",
      `inputs: { raw: { path: "raw/v{visit}.bin", storage: bytes${transfer} } }`,
      "tasks:",
      "  size:",
      '    command: "wc -c < {inputs.raw} > {outputs.n}; head -c 1 {inputs.raw} | od -An -tu1 >> {outputs.n}"',
      "    dimensions: [visit]",
      "    inputs: { raw: { type: raw, dimensions: [visit], storage: bytes } }",
      "    outputs: { n: { type: n, dimensions: [visit], storage: text } }",
      "  measure: { task: ./tasks/measure.ts }",
      ...(extra.tasks ?? []),
    ].join("\n") + "\n",
  );
  return { dir, raw };
}

/** The visit of an event's data ID. */
function visitOf(dataId: unknown): string {
  return /visit=(\d+)/.exec(typeof dataId === "string" ? dataId : JSON.stringify(dataId).replace(/"visit":/, "visit="))?.[1] ?? "?";
}

/** Every regular file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** Overwrites the file with other bytes of the same size and sets its mtime back (its ctime still moves). */
function editKeepingSizeAndMtime(path: string): void {
  const before = statSync(path);
  const bytes = readFileSync(path);
  bytes[0] = bytes[0]! ^ 0xff;
  writeFileSync(path, bytes);
  utimesSync(path, WHOLE_SECOND, WHOLE_SECOND);
  expect(statSync(path).mtimeMs).toBe(before.mtimeMs);
  expect(statSync(path).size).toBe(before.size);
}

describe("19.1 raw inputs by reference", () => {
  it("19.1 a run with inputs by reference never copies a raw file into the repository, big or small", async () => {
    const { dir, raw } = makeProject();
    const run = await runCli(["run", "p.yaml", "-j", "2"], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const repoFiles = filesUnder(join(dir, "cache"));
    // No file of the repository holds a raw file's bytes (the registry's LMDB file included: the
    // small ones are not kept there either), and the blob store holds only the outputs, all small.
    for (const file of repoFiles) {
      const bytes = readFileSync(file);
      for (const [path, content] of raw) expect(bytes.includes(content), `${file} holds ${path}`).toBe(false);
    }
    const blobFiles = repoFiles.filter((f) => f.includes("/blobs/"));
    for (const f of blobFiles) expect(statSync(f).size).toBeLessThan(100);
    // Every reader still gets the bytes.
    for (const [visit, path] of [[1, "v1.bin"], [3, "v3.bin"]] as const) {
      const got = await runCli(["get", `raw@visit=${visit}`, "--to", join(dir, `got-${visit}`)], { cwd: dir });
      expect(got.code, got.stderr).toBe(0);
      expect(readFileSync(join(dir, `got-${visit}`)).equals(raw.get(join(dir, "raw", path))!)).toBe(true);
    }
    const measured = await runCli(["get", "measured@visit=1"], { cwd: dir });
    expect(JSON.parse(measured.stdout)).toEqual({ length: 20_000, first: raw.get(join(dir, "raw", "v1.bin"))![0] });
    const counted = await runCli(["get", "n@visit=3"], { cwd: dir });
    expect(counted.stdout.split(/\s+/).filter(Boolean)).toEqual(["100", String(raw.get(join(dir, "raw", "v3.bin"))![0])]);
    const verify = await runCli(["verify"], { cwd: dir });
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toContain("4 raw files read by reference");
  });

  it("19.1 a raw file edited after ingest, its size kept and its mtime set back, is noticed by get, verify and the next run", async () => {
    const { dir } = makeProject();
    expect((await runCli(["run", "p.yaml", "-j", "2"], { cwd: dir })).code).toBe(0);
    const big = join(dir, "raw", "v1.bin");
    const small = join(dir, "raw", "v3.bin");
    editKeepingSizeAndMtime(big);
    editKeepingSizeAndMtime(small);
    for (const visit of [1, 3]) {
      const got = await runCli(["get", `raw@visit=${visit}`, "--to", join(dir, "out.bin")], { cwd: dir });
      expect(got.code).toBe(3);
      expect(got.stderr).toContain(`input file ${visit === 1 ? big : small} changed since it was ingested`);
      expect(got.stderr).toContain("hint: run the pipeline again");
    }
    const verify = await runCli(["verify"], { cwd: dir });
    expect(verify.code).toBe(3);
    expect(verify.stderr).toContain(`changed: raw file ${big}`);
    expect(verify.stderr).toContain(`changed: raw file ${small}`);
    expect(verify.stdout).toContain("2 changed");
    // The run's ingest notices the ctime, hashes both again, and reruns what reads them.
    const rerun = await runCli(["run", "p.yaml", "-j", "2", "--json"], { cwd: dir });
    expect(rerun.code, rerun.stderr).toBe(0);
    const ran = rerun.stdout.split("\n").filter((l) => l.includes('"quantum-finished"')).map((l) => JSON.parse(l) as { task: string; dataId: unknown });
    expect(ran.map((e) => `${e.task}@${visitOf(e.dataId)}`).sort()).toEqual(["measure@1", "measure@3", "size@1", "size@3"]);
    const measured = await runCli(["get", "measured@visit=1"], { cwd: dir });
    expect(JSON.parse(measured.stdout)).toEqual({ length: 20_000, first: readFileSync(big)[0] });
    expect((await runCli(["verify"], { cwd: dir })).code).toBe(0);
    // A plain edit (another size) and a removed file, likewise.
    writeFileSync(big, "shorter\n");
    const got = await runCli(["get", "raw@visit=1"], { cwd: dir });
    expect(got.code).toBe(3);
    expect(got.stderr).toContain(`input file ${big} changed since it was ingested`);
    const gone = join(dir, "raw", "v2.bin");
    await import("node:fs").then((fs) => fs.rmSync(gone));
    const missing = await runCli(["get", "raw@visit=2"], { cwd: dir });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(`input file ${gone}, ingested by reference`);
    expect(missing.stderr).toContain("is missing");
    const after = await runCli(["run", "p.yaml", "-j", "2"], { cwd: dir });
    expect(after.code, after.stderr).toBe(0);
    expect((await runCli(["get", "n@visit=1"], { cwd: dir })).stdout.trim().split(/\s+/)[0]).toBe("8");
  });

  it("19.1 a raw file changed during a run, size and mtime kept, fails the quanta that read it afterwards, naming it", async () => {
    // `spoil` runs first (`size` and `measure` read its output) and edits raw/v1.bin behind the run's back.
    const spoil = [
      "  spoil:",
      '    command: "touch -r RAW stamp && printf X | dd of=RAW bs=1 count=1 conv=notrunc 2>/dev/null && touch -r stamp RAW && echo done > {outputs.o}"',
      "    dimensions: []",
      "    inputs: {}",
      "    outputs: { o: { type: spoiled, dimensions: [], storage: text } }",
    ];
    const { dir } = makeProject({ tasks: spoil });
    const raw = join(dir, "raw", "v1.bin");
    // The bytes are random: one in 256 would already start with the X the spoiler writes.
    const bytes = readFileSync(raw);
    bytes[0] = 0;
    writeFileSync(raw, bytes);
    utimesSync(raw, WHOLE_SECOND, WHOLE_SECOND);
    const text = readFileSync(join(dir, "p.yaml"), "utf8")
      .replaceAll("RAW", raw)
      .replace("inputs: { raw: { type: raw, dimensions: [visit], storage: bytes } }", "inputs: { raw: { type: raw, dimensions: [visit], storage: bytes }, after: { type: spoiled, dimensions: [], storage: text } }");
    writeFileSync(join(dir, "p.yaml"), text);
    writeFileSync(
      join(dir, "tasks", "measure.ts"),
      MEASURE.replace('inputs: { raw: { type: "raw", dimensions: ["visit"], storage: "bytes" } }', 'inputs: { raw: { type: "raw", dimensions: ["visit"], storage: "bytes" }, after: { type: "spoiled", dimensions: [], storage: "text" } }'),
    );
    const run = await runCli(["run", "p.yaml", "-j", "2", "--json"], { cwd: dir });
    expect(run.code).toBe(1);
    const failed = run.stdout.split("\n").filter((l) => l.includes('"quantum-failed"')).map((l) => JSON.parse(l) as { task: string; dataId: unknown; error: string });
    expect(failed.map((e) => `${e.task}@${visitOf(e.dataId)}`).sort()).toEqual(["measure@1", "size@1"]);
    for (const f of failed) expect(f.error).toContain(`the file ${raw} changed since it was ingested: run again`);
    // The file is the user's: still there, never set aside.
    expect(statSync(raw).size).toBe(20_000);
    const again = await runCli(["run", "p.yaml", "-j", "2"], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
  });

  it("19.1 transfer: copy snapshots the file: editing it afterwards does not change what get gives", async () => {
    const { dir, raw } = makeProject({ transfer: "copy" });
    expect((await runCli(["ingest", "p.yaml"], { cwd: dir })).code).toBe(0);
    const path = join(dir, "raw", "v1.bin");
    const before = raw.get(path)!;
    editKeepingSizeAndMtime(path);
    writeFileSync(join(dir, "raw", "v3.bin"), "edited\n");
    const got = await runCli(["get", "raw@visit=1", "--to", join(dir, "got")], { cwd: dir });
    expect(got.code, got.stderr).toBe(0);
    expect(readFileSync(join(dir, "got")).equals(before)).toBe(true);
    const small = await runCli(["get", "raw@visit=3", "--to", join(dir, "got3")], { cwd: dir });
    expect(readFileSync(join(dir, "got3")).equals(raw.get(join(dir, "raw", "v3.bin"))!)).toBe(true);
    expect(small.code).toBe(0);
    expect((await runCli(["verify"], { cwd: dir })).code).toBe(0);
  });

  it("19.1 transfer: link hard-links each file into the blob store", async () => {
    const { dir } = makeProject({ transfer: "link" });
    const ingest = await runCli(["ingest", "p.yaml"], { cwd: dir });
    expect(ingest.code, ingest.stderr).toBe(0);
    const blobs = filesUnder(join(dir, "cache", "blobs"));
    for (const visit of [1, 2, 3, 4]) {
      const st = statSync(join(dir, "raw", `v${visit}.bin`));
      expect(st.nlink).toBe(2);
      expect(blobs.some((b) => statSync(b).ino === st.ino)).toBe(true);
    }
    const run = await runCli(["run", "p.yaml", "-j", "2"], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect((await runCli(["verify"], { cwd: dir })).code).toBe(0);
  });

  it("19.1 a transfer that is none of reference, link and copy is a located error (exit 2)", async () => {
    const { dir } = makeProject({ transfer: "move" });
    const r = await runCli(["ingest", "p.yaml"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/p\.yaml:2:\d+: /);
    expect(r.stderr).toContain("move");
    expect(r.stderr).toMatch(/hint: .*reference.*link.*copy/);
  });
});
