import { spawn } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DimensionUniverse } from "../../src/core/dimensions.js";
import type { InputSpec } from "../../src/core/pipeline.js";
import { ingestInputs } from "../../src/app/ingest.js";
import { openRepository, type Repository } from "../../src/store/repository.js";
import { makeTempDir, PROJECT_ROOT } from "../helpers/cli.js";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = makeTempDir("quanta-ingest-")));
afterEach(() => cleanup());

const dimensions: DimensionUniverse = { band: "string", visit: "int", detector: "int", tract: "int" };
const HOUR_AGO = Date.now() / 1000 - 3600;

/** 3 bands × 10 visits × 10 detectors = 300 files, dated an hour ago (as data on disk usually is). */
/** 300 files; `padTo` bytes each when given (more than 4 KiB makes them blob files, not registry values). */
function makeTree(root: string, padTo = 0): void {
  for (const band of ["g", "r", "i"]) {
    for (let visit = 1; visit <= 10; visit++) {
      const d = join(root, "raw", band, `visit${visit}`);
      mkdirSync(d, { recursive: true });
      for (let det = 1; det <= 10; det++) {
        const f = join(d, `det${det}.npy`);
        writeFileSync(f, `${band}-${visit}-${det}`.padEnd(padTo, "."));
        utimesSync(f, HOUR_AGO, HOUR_AGO);
      }
    }
  }
}

function inputs(root: string): InputSpec[] {
  return [
    {
      kind: "files",
      type: "raw",
      path: join(root, "raw/{band}/visit{visit}/det{detector}.npy"),
      dimensions: ["band", "visit", "detector"],
      storage: "ndarray",
      prerequisite: false,
    },
  ];
}

async function withRepo<T>(fn: (repo: Repository) => Promise<T>): Promise<T> {
  const repo = await openRepository(join(dir, "repo"), { write: true });
  try {
    return await fn(repo);
  } finally {
    await repo.close();
  }
}

function expectNoDanglingReferences(repo: Repository): void {
  for (const digest of repo.registry.referencedDigests()) expect(repo.blobs.has(digest), digest).toBe(true);
}

describe("ingestInputs", () => {
  it("an ingest that finds the same files as the last one is answered by its stamp, reading no file state", async () => {
    const data = join(dir, "data");
    makeTree(data);
    await withRepo((repo) => ingestInputs({ inputs: inputs(data), dimensions, repo }));
    const counted = async () =>
      withRepo(async (repo) => {
        let lookups = 0;
        const get = repo.registry.getFileState.bind(repo.registry);
        repo.registry.getFileState = (path) => (lookups++, get(path));
        const report = await ingestInputs({ inputs: inputs(data), dimensions, repo });
        return { report, lookups };
      });
    const again = await counted();
    expect(again.report).toMatchObject({ added: 0, changed: 0, unchanged: 300, removed: 0, filesHashed: 0 });
    expect(again.lookups).toBe(0);
    // A removed file changes the listing: the walk is compared with the stamped one, file by file,
    // and notices it without reading the state of the 299 files whose entry is the same.
    rmSync(join(data, "raw/i/visit10/det10.npy"));
    const removed = await counted();
    expect(removed.report).toMatchObject({ added: 0, changed: 0, unchanged: 299, removed: 1 });
    expect(removed.lookups).toBe(0);
    // A registry write to the collection since the stamp (here, a dataset removed by hand) voids the
    // stamp and the stamped walk: every file's state is read.
    await withRepo(async (repo) => repo.registry.commit(() => repo.registry.deleteDataset("raw", "raw", "band=g,detector=1,visit=1")));
    const written = await counted();
    expect(written.report).toMatchObject({ added: 1, unchanged: 298 });
    expect(written.lookups).toBe(299);
    expect((await counted()).lookups).toBe(0);
    // New dimensions are part of the listing: they are recorded, not skipped with the walk.
    const more = { ...dimensions, extra: "int" as const };
    await withRepo(async (repo) => {
      await ingestInputs({ inputs: inputs(data), dimensions: more, repo });
      expect(repo.registry.getDimensions()).toMatchObject({ extra: "int" });
    });
  });

  it("the stamp misses when a matched file's path, size, mtime, ctime or inode changes, even with the same data ID", async () => {
    const data = join(dir, "data");
    makeTree(data);
    await withRepo((repo) => ingestInputs({ inputs: inputs(data), dimensions, repo }));
    // Whether the ingest went past the stamp (and read file states), and the stamp it left.
    const missed = async () =>
      withRepo(async (repo) => {
        let lookups = 0;
        const get = repo.registry.getFileState.bind(repo.registry);
        repo.registry.getFileState = (path) => (lookups++, get(path));
        await ingestInputs({ inputs: inputs(data), dimensions, repo });
        return lookups > 0;
      });
    expect(await missed()).toBe(false);
    const file = join(data, "raw/g/visit2/det3.npy");
    const changes: Array<[string, () => void]> = [
      ["size, same mtime", () => (writeFileSync(file, "g-2-3 and more"), utimesSync(file, HOUR_AGO, HOUR_AGO))],
      ["mtime", () => utimesSync(file, HOUR_AGO - 60, HOUR_AGO - 60)],
      ["ctime alone", () => chmodSync(file, 0o600)],
      ["inode: an identical copy put in its place", () => (copyFileSync(file, `${file}.new`, 0), utimesSync(`${file}.new`, HOUR_AGO, HOUR_AGO), renameSync(`${file}.new`, file))],
      // visit01 gives the same data IDs as visit1: only the paths differ.
      ["path, same data ID", () => renameSync(join(data, "raw/g/visit1"), join(data, "raw/g/visit01"))],
    ];
    for (const [what, change] of changes) {
      change();
      expect(await missed(), what).toBe(true);
      expect(await missed(), `${what}, then nothing`).toBe(false);
    }
  });

  it("a stamped ingest reports duplicate data IDs and odd entries as the full walk does", async () => {
    const data = join(dir, "data");
    makeTree(data);
    const visit1 = join(data, "raw/r/visit1");
    writeFileSync(join(data, "raw/r/visit01-det.npy"), "x"); // fits no template
    mkdirSync(join(data, "raw/r/visit01"));
    writeFileSync(join(data, "raw/r/visit01/det1.npy"), "same data ID as visit1/det1"); // a duplicate
    utimesSync(join(data, "raw/r/visit01/det1.npy"), HOUR_AGO, HOUR_AGO);
    mkdirSync(join(visit1, "det20.npy")); // a directory
    symlinkSync(join(dir, "nowhere"), join(visit1, "det21.npy")); // dangling
    symlinkSync(join(visit1, "det22.npy"), join(visit1, "det22.npy")); // a loop of one link
    symlinkSync(join(visit1, "det1.npy"), join(visit1, "det23.npy")); // a file, through a link
    execFileSync("mkfifo", [join(visit1, "det24.npy")]);
    const ingest = () => withRepo((repo) => ingestInputs({ inputs: inputs(data), dimensions, repo }));
    const first = await ingest();
    expect(first).toMatchObject({ added: 301, filesSeen: 303 });
    const second = await ingest();
    expect(second).toMatchObject({ added: 0, unchanged: 301, filesSeen: 303 });
    const template = join(data, "raw/{band}/visit{visit}/det{detector}.npy");
    const expected = [
      { file: join(visit1, "det22.npy"), message: "cannot follow symbolic link: ELOOP" },
      { file: join(visit1, "det20.npy"), message: "is a directory, not a file; input 'raw' skips it" },
      { file: join(visit1, "det21.npy"), message: "is a dangling symbolic link (its target does not exist); input 'raw' skips it" },
      { file: join(visit1, "det24.npy"), message: "is a FIFO (named pipe), not a regular file; not read; input 'raw' skips it" },
      { file: join(data, "raw/r/visit01-det.npy"), message: `does not fit the template '${template}'` },
      { file: join(visit1, "det1.npy"), message: `gives raw@band=r,detector=1,visit=1, as ${join(data, "raw/r/visit01/det1.npy")} does; ignored` },
    ];
    expect(first.problems).toEqual(expected);
    // The file that fits no template is warned about once (ingest.ts quietKnownMisfits).
    expect(second.problems).toEqual(expected.filter((p) => !p.file.endsWith("visit01-det.npy")));
  });

  it("finds a duplicate written in a repeated field, beside a fixed-name input, on full and stamped walks alike", async () => {
    const data = join(dir, "data");
    mkdirSync(join(data, "7"), { recursive: true });
    for (const name of ["7/v7.dat", "7/v007.dat", "truth.json"]) {
      writeFileSync(join(data, name), name);
      utimesSync(join(data, name), HOUR_AGO, HOUR_AGO);
    }
    const specs: InputSpec[] = [
      { kind: "files", type: "frame", path: join(data, "{visit}/v{visit}.dat"), dimensions: ["visit"], storage: "bytes", prerequisite: false },
      { kind: "files", type: "truth", path: join(data, "truth.json"), dimensions: [], storage: "bytes", prerequisite: false },
    ];
    const ingest = () => withRepo((repo) => ingestInputs({ inputs: specs, dimensions, repo }));
    const expected = [{ file: join(data, "7/v7.dat"), message: `gives frame@visit=7, as ${join(data, "7/v007.dat")} does; ignored` }];
    const first = await ingest();
    expect(first).toMatchObject({ added: 2, problems: expected });
    expect(await ingest()).toMatchObject({ added: 0, unchanged: 2, problems: expected });
  });

  it("reads a name that two directory entries read as (one not UTF-8) once, and says so, on full and stamped walks alike", async () => {
    const data = join(dir, "data");
    mkdirSync(data, { recursive: true });
    // g-\xff.x is not UTF-8: Node reads it as g-\ufffd.x, the other file's name.
    const names = [Buffer.from("g-\xff.x", "latin1"), Buffer.from("g-\ufffd.x", "utf8")];
    for (const name of names) {
      const path = Buffer.concat([Buffer.from(data + "/"), name]);
      writeFileSync(path, name);
      utimesSync(path, HOUR_AGO, HOUR_AGO);
    }
    const specs: InputSpec[] = [{ kind: "files", type: "e", path: join(data, "{band}.x"), dimensions: ["band"], storage: "bytes", prerequisite: false }];
    const ingest = () => withRepo((repo) => ingestInputs({ inputs: specs, dimensions, repo }));
    const twice = [{ file: join(data, "g-\ufffd.x"), message: "is the name of two directory entries as read (one name is not UTF-8); only one is read" }];
    expect(await ingest()).toMatchObject({ added: 1, problems: twice });
    expect(await ingest()).toMatchObject({ added: 0, unchanged: 1, problems: twice });
  });

  it("ingests a tree, then on a rerun re-hashes only the edited and touched files", async () => {
    const data = join(dir, "data");
    makeTree(data);
    const first = await withRepo((repo) => ingestInputs({ inputs: inputs(data), dimensions, repo }));
    expect(first).toMatchObject({ added: 300, changed: 0, unchanged: 0, removed: 0, problems: [], filesSeen: 300, filesHashed: 300 });

    writeFileSync(join(data, "raw/r/visit3/det4.npy"), "edited, and longer");
    utimesSync(join(data, "raw/g/visit1/det1.npy"), new Date(), new Date()); // touched: same bytes
    rmSync(join(data, "raw/i/visit10/det10.npy"));

    const second = await withRepo(async (repo) => {
      const report = await ingestInputs({ inputs: inputs(data), dimensions, repo });
      expect(repo.registry.getDataset("raw", "raw", "band=i,detector=10,visit=10")).toBeUndefined();
      const edited = repo.registry.getDataset("raw", "raw", "band=r,detector=4,visit=3")!;
      expect(repo.blobs.readSync(edited.digest).toString()).toBe("edited, and longer");
      expect(edited.sourcePath).toBe(join(data, "raw/r/visit3/det4.npy"));
      expect([...repo.registry.listDatasets({ collection: "raw" })]).toHaveLength(299);
      expect(repo.registry.getDatasetType("raw")).toEqual({ name: "raw", dimensions: ["band", "visit", "detector"], storage: "ndarray" });
      expectNoDanglingReferences(repo);
      return report;
    });
    expect(second).toMatchObject({ added: 0, changed: 1, unchanged: 298, removed: 1, problems: [], filesSeen: 299, filesHashed: 2 });

    const third = await withRepo((repo) => ingestInputs({ inputs: inputs(data), dimensions, repo }));
    expect(third).toMatchObject({ added: 0, changed: 0, unchanged: 299, removed: 0 });
  });

  it("a file two inputs match, held by one as a reference and by the other as a copy, gets one state, the same on every ingest, and the index of references agrees with it", async () => {
    for (const order of [["reference", "copy"], ["copy", "reference"]] as const) {
      const data = join(dir, `data-${order[0]}`);
      mkdirSync(data, { recursive: true });
      const file = join(data, "v1.txt");
      writeFileSync(file, "hello\n");
      utimesSync(file, HOUR_AGO, HOUR_AGO);
      const specs: InputSpec[] = order.map((transfer, k) => ({ kind: "files", type: `t${k}`, path: join(data, "v{visit}.txt"), dimensions: ["visit"], storage: "text", prerequisite: false, transfer }));
      const seen: string[] = [];
      // A new collection each time: every ingest walks and decides every file (no stamp to answer it).
      for (let round = 1; round <= 3; round++) {
        await withRepo(async (repo) => {
          await ingestInputs({ inputs: specs, dimensions, repo, collection: `c${round}` });
          const state = repo.registry.getFileState(file)!;
          seen.push(state.transfer!);
          expect(repo.registry.listReferences(state.digest), `${order.join(" then ")}, ingest ${round}`).toEqual(state.transfer === "reference" ? [file] : []);
          expect([...repo.registry.listDatasets({ collection: `c${round}` })].map((e) => e.type)).toEqual(["t0", "t1"]);
        });
      }
      expect(new Set(seen).size, `${order.join(" then ")}: ${seen.join(", ")}`).toBe(1);
    }
  });

  it("copies and links: two files of one size and mtime swapped by mv are both read again", async () => {
    for (const transfer of ["copy", "link"] as const) {
      const data = join(dir, `data-${transfer}`);
      makeTree(data); // every file dated HOUR_AGO; det1 and det2 hold "g-1-1" and "g-1-2"
      const specs = inputs(data).map((s) => ({ ...s, transfer }));
      await withRepo((repo) => ingestInputs({ inputs: specs, dimensions, repo }));
      const [one, two] = [join(data, "raw/g/visit1/det1.npy"), join(data, "raw/g/visit1/det2.npy")];
      renameSync(one, `${one}.swap`);
      renameSync(two, one);
      renameSync(`${one}.swap`, two);
      const report = await withRepo(async (repo) => {
        const r = await ingestInputs({ inputs: specs, dimensions, repo });
        const bytesOf = (key: string) => repo.blobs.readSync(repo.registry.getDataset("raw", "raw", key)!.digest).toString();
        expect([bytesOf("band=g,detector=1,visit=1"), bytesOf("band=g,detector=2,visit=1")], transfer).toEqual(["g-1-2", "g-1-1"]);
        return r;
      });
      expect(report, transfer).toMatchObject({ added: 0, changed: 2, unchanged: 298, removed: 0, filesHashed: 2 });
    }
  });

  it("a file dated in whole seconds within 2 s of the walk is read again next time, whatever the other files' dates (a coarse file system beside a fine one)", async () => {
    const data = join(dir, "data");
    makeTree(data); // the other 299 files: dated to the millisecond
    const csv = join(data, "groups.csv");
    writeFileSync(csv, "visit,tract\n1,10\n");
    // Copies, whose ctime is not compared: on a coarse file system an edit in the same second keeps
    // the ctime too, which no test can do on this one.
    const specs: InputSpec[] = [...inputs(data).map((s) => ({ ...s, transfer: "copy" as const })), { kind: "relation", type: "groups", path: csv, dimensions: ["visit", "tract"] }];
    const file = join(data, "raw/g/visit1/det1.npy");
    // Dated as a coarse file system dates a file written now: this second, more than 50 ms ago (the
    // window of a fine file system).
    while (Date.now() % 1000 < 200) await new Promise((resolve) => setTimeout(resolve, 20));
    const second = Math.floor(Date.now() / 1000);
    const write = (path: string, text: string) => (writeFileSync(path, text), utimesSync(path, second, second));
    write(file, "AAAAA");
    write(csv, "visit,tract\n1,10\n");
    await withRepo((repo) => ingestInputs({ inputs: specs, dimensions, repo }));
    // Edited again within that second: same size, same mtime, same inode.
    write(file, "BBBBB");
    write(csv, "visit,tract\n1,11\n");
    await withRepo(async (repo) => {
      const report = await ingestInputs({ inputs: specs, dimensions, repo });
      expect(report).toMatchObject({ changed: 1, unchanged: 299 });
      expect(report.relations).toEqual([{ name: "groups", rows: 1, status: "changed" }]);
      expect(repo.blobs.readSync(repo.registry.getDataset("raw", "raw", "band=g,detector=1,visit=1")!.digest).toString()).toBe("BBBBB");
      expect(repo.registry.getRelation("groups")?.rows).toEqual([{ visit: 1, tract: 11 }]);
    });
  });

  it("reports files that do not fit their template, and goes on with the rest", async () => {
    const data = join(dir, "data");
    makeTree(data);
    writeFileSync(join(data, "raw/r/visit1/detX.npy"), "x");
    writeFileSync(join(data, "raw/r/notes.txt"), "x");
    mkdirSync(join(data, "raw/visit2"));
    writeFileSync(join(data, "raw/visit2/det1.npy"), "x");
    const report = await withRepo((repo) => ingestInputs({ inputs: inputs(data), dimensions, repo }));
    const template = join(data, "raw/{band}/visit{visit}/det{detector}.npy");
    expect(report.added).toBe(300);
    expect(report.problems).toEqual([
      { file: join(data, "raw/r/notes.txt"), message: `does not fit the template '${template}'` },
      {
        file: join(data, "raw/r/visit1/detX.npy"),
        message: `dimension 'detector' is an int, got 'X' (input 'raw', template '${template}')`,
      },
      { file: join(data, "raw/visit2/det1.npy"), message: `does not fit the template '${template}'` },
    ]);
  });

  it("ingests a relation file and names file:line for bad rows", async () => {
    const data = join(dir, "data");
    mkdirSync(data);
    const csv = join(data, "overlaps.csv");
    writeFileSync(csv, "visit,tract\n1,10\n2,11\n");
    const specs: InputSpec[] = [{ kind: "relation", type: "overlaps", path: csv, dimensions: ["visit", "tract"] }];
    const first = await withRepo(async (repo) => {
      const report = await ingestInputs({ inputs: specs, dimensions, repo });
      expect(repo.registry.getRelation("overlaps")?.rows).toEqual([{ visit: 1, tract: 10 }, { visit: 2, tract: 11 }]);
      expectNoDanglingReferences(repo);
      return report;
    });
    expect(first.relations).toEqual([{ name: "overlaps", rows: 2, status: "added" }]);

    writeFileSync(csv, "visit,tract\n1,10\n2,eleven\n");
    const second = await withRepo((repo) => ingestInputs({ inputs: specs, dimensions, repo }));
    expect(second.relations).toEqual([{ name: "overlaps", rows: 0, status: "failed" }]);
    expect(second.problems).toEqual([{ file: csv, line: 3, message: "dimension 'tract' is an int, got 'eleven'" }]);
  });

  it("an ingest killed midway leaves no reference to a missing blob, and the next one completes", async () => {
    const data = join(dir, "data");
    makeTree(data, 8192);
    const repoDir = join(dir, "repo");
    const script = `
      import { openRepository } from ${JSON.stringify(join(PROJECT_ROOT, "dist/store/repository.js"))};
      import { ingestInputs } from ${JSON.stringify(join(PROJECT_ROOT, "dist/app/ingest.js"))};
      import { existsSync, readdirSync } from "node:fs";
      const [repoDir, spec] = process.argv.slice(1);
      const repo = await openRepository(repoDir, { write: true });
      const poll = () => {
        const blobs = repoDir + "/blobs";
        const written = existsSync(blobs) && readdirSync(blobs).some((shard) => readdirSync(blobs + "/" + shard).length > 0);
        if (written) process.stdout.write("writing\\n");
        else setImmediate(poll);
      };
      setImmediate(poll);
      await ingestInputs({ ...JSON.parse(spec), repo });
      process.exit(0); // finished before any blob file appeared: stop polling
    `;
    // Copies: inputs held by reference write no blob file to wait for.
    const copied = inputs(data).map((spec) => ({ ...spec, transfer: "copy" as const }));
    const spec = JSON.stringify({ inputs: copied, dimensions });
    const child = spawn(process.execPath, ["--input-type=module", "-e", script, repoDir, spec], { stdio: ["ignore", "pipe", "inherit"] });
    const said = await new Promise<string>((resolve) => {
      child.stdout.setEncoding("utf8").once("data", resolve);
      child.once("close", (code) => resolve(`exited ${code}`));
    });
    expect(said).toBe("writing\n");
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("close", resolve));

    const notes: string[] = [];
    const repo = await openRepository(repoDir, { write: true, onNote: (n) => notes.push(n) });
    try {
      expect(notes).toHaveLength(1); // the killed ingest's lock was taken over
      expectNoDanglingReferences(repo);
      const report = await ingestInputs({ inputs: copied, dimensions, repo });
      expect(report.added + report.unchanged).toBe(300);
      expect([...repo.registry.listDatasets()]).toHaveLength(300);
      expectNoDanglingReferences(repo);
    } finally {
      await repo.close();
    }
  });
});
