import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir, PROJECT_ROOT, runCli } from "../helpers/cli.js";

// One repository, built up step by step: ingest, look, corrupt, verify, gc.
let dir: string;
let cleanup: () => void;
let repo: string;
let pipeline: string;
beforeAll(() => {
  ({ dir, cleanup } = makeTempDir("quanta-cli-store-"));
  repo = join(dir, "cache");
  pipeline = join(dir, "sky.yaml");
  for (const band of ["g", "r"]) {
    for (let visit = 1; visit <= 2; visit++) {
      mkdirSync(join(dir, "data/raw", band, `visit${visit}`), { recursive: true });
      for (let det = 1; det <= 3; det++) writeFileSync(join(dir, "data/raw", band, `visit${visit}`, `det${det}.npy`), `${band}${visit}${det}`);
    }
  }
  writeFileSync(join(dir, "data/raw/g/visit1/det9x.npy"), "bad");
  writeFileSync(join(dir, "data/overlaps.csv"), "visit,tract\n1,100\n2,100\n");
  writeFileSync(
    pipeline,
    [
      "parameters: { raw: data/raw }",
      "dimensions: { visit: int, detector: int, band: string, tract: int }",
      "inputs:",
      // Copies: verify and gc below count the raw files' blobs (by reference, the default, they have none).
      '  raw: { path: "${raw}/{band}/visit{visit}/det{detector}.npy", storage: ndarray, transfer: copy }',
      "  overlaps: { path: data/overlaps.csv, relation: [visit, tract] }",
    ].join("\n"),
  );
});
afterAll(() => cleanup());

describe("ingest, datasets, get, verify, gc", () => {
  it("ingest reports counts and names the file that does not fit", async () => {
    const r = await runCli(["ingest", pipeline, "--repo", repo]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ingested 12 datasets into raw\/sky: 12 added, 0 changed, 0 unchanged, 0 removed; relations: overlaps \(2 rows, added\); 1 problem \(see above\) \[/);
    expect(r.stderr).toBe(
      `warning: ${join(dir, "data/raw/g/visit1/det9x.npy")}: dimension 'detector' is an int, got '9x' ` +
        `(input 'raw', template '${join(dir, "data/raw/{band}/visit{visit}/det{detector}.npy")}')\n`,
    );
    const again = await runCli(["ingest", pipeline, "--repo", repo, "--json"]);
    const last = JSON.parse(again.stdout.trim().split("\n").at(-1)!);
    expect(last).toMatchObject({ event: "ingest-finished", added: 0, changed: 0, unchanged: 12, removed: 0 });
  });

  it("datasets --json prints one object per dataset, filtered by --where", async () => {
    const r = await runCli(["datasets", "--repo", repo, "--json", "--where", "visit = 2 AND band = 'r' AND detector IN (1, 3)"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.type, l.dataId, l.collection, l.size])).toEqual([
      ["raw", { band: "r", visit: 2, detector: 1 }, "raw/sky", 3],
      ["raw", { band: "r", visit: 2, detector: 3 }, "raw/sky", 3],
    ]);
    expect(lines[0].digest).toMatch(/^[0-9a-f]{32}-3$/);
    const bad = await runCli(["datasets", "--repo", repo, "--where", "visit = 'x'"]);
    expect(bad.code).toBe(2);
    const plain = await runCli(["datasets", "--repo", repo, "--type", "raw"]);
    expect(plain.stdout.split("\n")[0]).toMatch(/^COLLECTION\s+DATASET\s+SIZE\s+DIGEST$/);
    expect(plain.stdout).toMatch(/\n12 datasets\n$/);
  });

  it("get writes a dataset's bytes to stdout or a file", async () => {
    const r = await runCli(["get", "raw@visit=2,detector=3,band=r", "--repo", repo]);
    expect(r).toMatchObject({ code: 0, stdout: "r23" });
    const out = join(dir, "out.npy");
    expect((await runCli(["get", "raw@band=g,visit=1,detector=2", "-o", out, "--repo", repo])).code).toBe(0);
    expect(readFileSync(out, "utf8")).toBe("g12");
    const missing = await runCli(["get", "raw@visit=2,detector=3", "--repo", repo]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe("error: raw@visit=2,detector=3: raw has dimensions (band, visit, detector); missing band\n");
    const noRepo = await runCli(["datasets", "--repo", join(dir, "nope")]);
    expect(noRepo.code).toBe(3);
    expect(noRepo.stderr).toMatch(/^error: no repository at .*nope\nhint: /);
  });

  it("verify catches a blob whose bytes changed on disk, and gc reports the bytes it frees", async () => {
    expect((await runCli(["verify", "--repo", repo])).code).toBe(0);
    // More than 4 KiB: a blob file (smaller blobs live in the registry).
    writeFileSync(join(dir, "data/raw/g/visit2/det1.npy"), "g-2-1".padEnd(5000, "."));
    expect((await runCli(["ingest", pipeline, "--repo", repo])).code).toBe(0);
    const listed = await runCli(["datasets", "--repo", repo, "--json", "--where", "band = 'g' AND visit = 2 AND detector = 1"]);
    const digest = JSON.parse(listed.stdout).digest as string;
    const blob = join(repo, "blobs", digest.slice(0, 2), digest.slice(2));
    writeFileSync(blob, "XXX");
    const v = await runCli(["verify", "--repo", repo]);
    expect(v.code).toBe(3);
    expect(v.stdout).toBe("verified 14 blobs (63 bytes): 0 missing, 1 corrupt\n");
    expect(v.stderr.split("\n")[0]).toBe(`corrupt: blob ${digest} (${blob}), referenced by raw/sky/raw@band=g,detector=1,visit=2`);

    // Re-ingest after an edit: the old blobs of the two edited files are unreferenced; gc frees them.
    writeFileSync(join(dir, "data/raw/r/visit1/det1.npy"), "a longer new content");
    await runCli(["ingest", pipeline, "--repo", repo]);
    writeFileSync(join(dir, "cache/tmp/leftover.tmp"), "12345");
    // A killed run's sandbox pool, with a link a command made to a file outside the repository.
    const outside = join(dir, "outside.txt");
    writeFileSync(outside, "keep me");
    const pool = join(dir, "cache/tmp/sandboxes-999999-0-0");
    mkdirSync(join(pool, "0/inputs/src"), { recursive: true });
    writeFileSync(join(pool, "0/inputs/src/item=1"), "x");
    symlinkSync(outside, join(pool, "0/escape"));
    const gc = await runCli(["gc", "--repo", repo]);
    expect(gc.code).toBe(0);
    expect(gc.stdout).toBe("deleted 2 unreferenced blobs and 2 temporary files, freed 11 bytes; kept 13 blobs\n");
    expect(existsSync(pool)).toBe(false);
    expect(readFileSync(outside, "utf8")).toBe("keep me");
    const again = await runCli(["gc", "--repo", repo, "--json"]);
    expect(JSON.parse(again.stdout)).toMatchObject({ v: 1, event: "gc-finished", blobsDeleted: 0, blobsKept: 13, tempFilesDeleted: 0, bytesFreed: 0 });
  });
});

describe("the command line itself", () => {
  it("--version prints the package's version; no command is a usage error with a hint", async () => {
    const version = await runCli(["--version"], { cwd: dir });
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe((JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as { version: string }).version);
    const bare = await runCli([], { cwd: dir });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toBe("error: name a command\nhint: see 'quanta --help'\n");
  });
});
