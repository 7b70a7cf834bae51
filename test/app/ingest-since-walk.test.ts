// The walk compared with the stamped one (ingest.ts ingestSinceLastWalk): only the files whose entry
// differs are read, and the repository ends as a walk that reads every file state leaves it: the
// collection's datasets, the file states, and whether each dataset's bytes can be read.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DimensionUniverse } from "../../src/core/dimensions.js";
import type { InputSpec } from "../../src/core/pipeline.js";
import { collectGarbage } from "../../src/app/gc.js";
import { ingestInputs, type IngestReport } from "../../src/app/ingest.js";
import { openRepository, type Repository } from "../../src/store/repository.js";
import { makeTempDir } from "../helpers/cli.js";
import { seeded } from "../helpers/seeded-random.js";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = makeTempDir("quanta-ingest-walk-")));
afterEach(() => cleanup());

const dimensions: DimensionUniverse = { band: "string", visit: "int", detector: "int", name: "string" };
const HOUR_AGO = Math.floor(Date.now() / 1000) - 3600;
const file = { kind: "files" as const, storage: "bytes" as const, prerequisite: false };

/** Raw files held by reference (small: their digests alone), calibrations copied into blob files (over 4 KiB), notes hard-linked. */
function inputs(data: string): InputSpec[] {
  return [
    { ...file, type: "raw", path: join(data, "raw/{band}/visit{visit}/det{detector}.dat"), dimensions: ["band", "visit", "detector"] },
    { ...file, type: "cal", path: join(data, "cal/{band}/visit{visit}.dat"), dimensions: ["band", "visit"], transfer: "copy" },
    { ...file, type: "note", path: join(data, "note/{band}/v{visit}.txt"), dimensions: ["band", "visit"], transfer: "link" },
  ];
}

function write(path: string, text: string | Buffer, mtime: number): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  utimesSync(path, mtime, mtime);
}

function makeTree(data: string): void {
  for (const band of ["g", "r"]) {
    for (let visit = 1; visit <= 4; visit++) {
      for (let det = 1; det <= 3; det++) write(join(data, `raw/${band}/visit${visit}/det${det}.dat`), `${band}${visit}${det}`, HOUR_AGO);
      write(join(data, `cal/${band}/visit${visit}.dat`), `cal ${band}${visit}`.padEnd(5000, "."), HOUR_AGO);
      write(join(data, `note/${band}/v${visit}.txt`), `note ${band}${visit}`.padEnd(6000, "."), HOUR_AGO);
    }
  }
}

interface Ingested {
  report: IngestReport;
  /** File states read while deciding. */
  lookups: number;
  /** Per dataset of the collection: its record, and whether its bytes can be read. */
  datasets: Record<string, unknown>;
  /** The state of each of `paths` the registry holds. */
  states: Record<string, unknown>;
}

/**
 * Ingests `inputs` into `collection` of the repository at `root`. `full` first drops the collection's
 * ingest stamp and stamped walk, so that every file state is read; `before` writes something first.
 */
async function ingest(root: string, specs: InputSpec[], options: { collection?: string; full?: boolean; paths?: readonly string[]; before?: (repo: Repository) => Promise<unknown> } = {}): Promise<Ingested> {
  const collection = options.collection ?? "raw";
  const repo = await openRepository(root, { write: true });
  try {
    await options.before?.(repo);
    if (options.full) {
      await repo.registry.commit(() => {
        repo.registry.putStamp(`walk\0${collection}`, null);
        repo.registry.putStamp(`ingest\0${collection}`, null);
      });
    }
    let lookups = 0;
    const get = repo.registry.getFileState.bind(repo.registry);
    repo.registry.getFileState = (path) => (lookups++, get(path));
    const report = await ingestInputs({ inputs: specs, dimensions, repo, collection });
    repo.registry.getFileState = get;
    const datasets: Record<string, unknown> = {};
    for (const e of repo.registry.listDatasets({ collection })) {
      const { digest, size, storage, sourcePath } = e.record;
      datasets[`${e.type} ${e.key}`] = { digest, size, storage, sourcePath, readable: repo.blobs.exists(digest) };
    }
    const states: Record<string, unknown> = {};
    for (const path of options.paths ?? []) {
      const st = repo.registry.getFileState(path);
      if (st !== undefined) states[path] = { digest: st.digest, transfer: st.transfer, mtimeMs: st.mtimeMs };
    }
    return { report, lookups, datasets, states };
  } finally {
    await repo.close();
  }
}

/** Every regular file under `root`. */
function filesUnder(root: string): string[] {
  const out: string[] = [];
  const visit = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) visit(join(d, e.name));
      else out.push(join(d, e.name));
    }
  };
  if (existsSync(root)) visit(root);
  return out.sort();
}

const counts = (r: IngestReport) => ({
  ...{ added: r.added, changed: r.changed, unchanged: r.unchanged, removed: r.removed, byType: r.byType, changedPaths: r.changedPaths },
  problems: r.problems.map((p) => `${p.file}: ${p.message}`).sort(),
});

describe("an ingest after the stamped walk", () => {
  it("reads only the edited files, and a run into another collection leaves the stamp holding", async () => {
    const data = join(dir, "data");
    const repo = join(dir, "repo");
    makeTree(data);
    const first = await ingest(repo, inputs(data));
    expect(first.report).toMatchObject({ added: 40, filesHashed: 40 });
    // The hard links into the blob store changed the notes' ctime: the next walk reads those 8 alone.
    expect((await ingest(repo, inputs(data))).lookups).toBe(8);
    // A run writes datasets of its own collection, quanta and executions: the stamp still holds.
    const run = async (r: Repository) =>
      r.registry.commit(() => {
        r.registry.putDataset("out", "calexp", { band: "g", visit: 1 }, { digest: "00000000000000000000000000000001-1" as never, size: 1, storage: "bytes", producer: null });
        r.registry.putQuantum("out", "t", "band=g,visit=1", { status: "succeeded", key: "0".repeat(32) as never, executionId: "e1", time: 1 });
      });
    const again = await ingest(repo, inputs(data), { before: run });
    expect(again.report).toMatchObject({ unchanged: 40, filesHashed: 0 });
    expect(again.lookups).toBe(0);

    write(join(data, "raw/g/visit3/det2.dat"), "edited", HOUR_AGO + 60);
    write(join(data, "cal/r/visit4.dat"), "edited cal".padEnd(6000, "."), HOUR_AGO + 60);
    const edited = await ingest(repo, inputs(data));
    expect(edited.report).toMatchObject({ added: 0, changed: 2, unchanged: 38, removed: 0, filesHashed: 2 });
    expect(edited.report.changedPaths).toEqual([join(data, "cal/r/visit4.dat"), join(data, "raw/g/visit3/det2.dat")]);
    expect(edited.lookups).toBe(2);
    // The edit is stamped in turn.
    expect((await ingest(repo, inputs(data))).lookups).toBe(0);
    expect(edited.datasets).toEqual((await ingest(join(dir, "fresh"), inputs(data))).datasets);
  });

  it("leaves what a walk reading every file state leaves, through random edits, additions, removals, renames, duplicates, gc and other writes", async () => {
    const data = join(dir, "data");
    makeTree(data);
    const seen = new Set<string>(filesUnder(data));
    const since = join(dir, "since");
    const full = join(dir, "full");
    await ingest(since, inputs(data));
    await ingest(full, inputs(data), { full: true });
    let lookupsSince = 0;
    let lookupsFull = 0;
    for (const seed of [1, 2, 3, 4]) {
      const next = seeded(seed);
      const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!;
      for (let round = 1; round <= 12; round++) {
        const mtime = HOUR_AGO + 1000 * seed + 10 * round;
        let before: ((repo: Repository) => Promise<unknown>) | undefined;
        for (let n = 1 + Math.floor(next() * 3); n > 0; n--) {
          const path = pick(filesUnder(data));
          const kind = path.includes("/cal/") ? "cal" : path.includes("/note/") ? "note" : "raw";
          const band = pick(["g", "r"]);
          // `visit02` gives the data ID `visit2` gives: a duplicate, which the walk settles.
          const visit = pick(["1", "2", "5", "02"]);
          const elsewhere = { cal: `cal/${band}/visit${visit}.dat`, note: `note/${band}/v${visit}.txt`, raw: `raw/${band}/visit${visit}/det${1 + Math.floor(next() * 3)}.dat` }[kind];
          const pad = kind === "raw" ? 0 : 5000 + round;
          switch (pick(["edit", "same size", "touch", "remove", "add", "rename", "not text", "misfit", "gc", "other collection"])) {
            case "edit":
              write(path, `edit ${seed} ${round}`.padEnd(pad, "."), mtime);
              break;
            case "same size": {
              // Other bytes of the same size, the mtime set back: only the ctime tells.
              const st = statSync(path);
              writeFileSync(path, "#".repeat(st.size));
              utimesSync(path, st.atime, st.mtime);
              break;
            }
            case "touch":
              utimesSync(path, mtime, mtime);
              break;
            case "remove":
              rmSync(path);
              break;
            case "add":
              write(join(data, elsewhere), `added ${seed} ${round}`.padEnd(pad, "."), mtime);
              break;
            case "rename":
              mkdirSync(dirname(join(data, elsewhere)), { recursive: true });
              renameSync(path, join(data, elsewhere));
              break;
            case "not text":
              write(path, Buffer.concat([Buffer.from("x".repeat(pad)), Buffer.from([0xff, 0xfe])]), mtime);
              break;
            case "misfit":
              write(join(dirname(path), `notes${round}.md`), "not an input", mtime);
              break;
            case "gc":
              before = (repo) => collectGarbage(repo);
              break;
            case "other collection":
              before = (repo) => repo.registry.commit(() => repo.registry.putDataset("out", "x", { visit: round }, { digest: "00000000000000000000000000000001-1" as never, size: 1, storage: "bytes", producer: null }));
              break;
          }
        }
        for (const f of filesUnder(data)) seen.add(f);
        const a = await ingest(since, inputs(data), { before, paths: [...seen] });
        const b = await ingest(full, inputs(data), { before, full: true, paths: [...seen] });
        lookupsSince += a.lookups;
        lookupsFull += b.lookups;
        const at = `seed ${seed}, round ${round}`;
        expect(counts(a.report), at).toEqual(counts(b.report));
        expect(a.datasets, at).toEqual(b.datasets);
        expect(Object.values(a.datasets).every((d) => (d as { readable: boolean }).readable), at).toBe(true);
        // The states of files still there (the walk of every file keeps the state of a file gone by a rename, as this one does).
        const present = (states: Record<string, unknown>) => Object.fromEntries(Object.entries(states).filter(([p]) => existsSync(p)));
        expect(present(a.states), at).toEqual(present(b.states));
      }
    }
    // The walks compared with the stamped one read a few file states a round (more after a round that
    // moved what every collection depends on, or left a file unreadable); the full ones, every one.
    expect(lookupsSince).toBeLessThan(lookupsFull / 2);
  }, 60_000);

  it("keeps another input's dataset when a duplicate takes the file's data ID for one input only, edited or not, text or not", async () => {
    const data = join(dir, "data");
    // a's files must be text: a duplicate that is not is left out, and so is the data ID it took.
    const specs: InputSpec[] = [
      { ...file, type: "a", path: join(data, "visit{visit}.dat"), dimensions: ["visit"], storage: "text" },
      { ...file, type: "b", path: join(data, "visit{name}.dat"), dimensions: ["name"] },
    ];
    for (const edit of ["none", "edited", "not text"]) {
      rmSync(data, { recursive: true, force: true });
      write(join(data, "visit2.dat"), "two", HOUR_AGO);
      const repo = join(dir, `repo-${edit}`);
      await ingest(repo, specs);
      // `visit02.dat` sorts first: it takes a's visit=2; visit2.dat stays b's name=2.
      write(join(data, "visit02.dat"), edit === "not text" ? Buffer.from([0x41, 0xff, 0xfe]) : "zero two", HOUR_AGO + 10);
      if (edit === "edited") write(join(data, "visit2.dat"), "two edited", HOUR_AGO + 20);
      const paths = [join(data, "visit2.dat"), join(data, "visit02.dat")];
      const a = await ingest(repo, specs, { paths });
      const b = await ingest(join(dir, `fresh-${edit}`), specs, { paths });
      expect(a.datasets, `edited: ${edit}`).toEqual(b.datasets);
      expect(a.states, `edited: ${edit}`).toEqual(b.states);
      expect(a.datasets["b name='2'"]).toMatchObject({ sourcePath: join(data, "visit2.dat"), readable: true });
      expect((await ingest(repo, specs)).datasets).toEqual(b.datasets);
    }
  });

  it("keeps the state of a file another collection reads when this one drops it, or a duplicate takes its data ID, or the pipeline gives it another", async () => {
    const data = join(dir, "data");
    const repo = join(dir, "repo");
    const byVisit = (extra: object = {}): InputSpec[] => [{ ...file, type: "a", path: join(data, "visit{visit}.dat"), dimensions: ["visit"], ...extra }];
    const byName = (extra: object = {}): InputSpec[] => [{ ...file, type: "b", path: join(data, "visit{name}.dat"), dimensions: ["name"], ...extra }];
    for (const v of [1, 2]) write(join(data, `visit${v}.dat`), `bytes ${v}`, HOUR_AGO);
    const readable = async (collection: string, specs: InputSpec[]) => Object.values((await ingest(repo, specs, { collection })).datasets).every((d) => (d as { readable: boolean }).readable);
    await ingest(repo, byVisit(), { collection: "raw/A" });
    await ingest(repo, byName(), { collection: "raw/B" });
    // Stamped again after B's first ingest, which added a dataset type (shared by every collection).
    expect((await ingest(repo, byVisit(), { collection: "raw/A" })).report.unchanged).toBe(2);
    // B leaves visit2.dat out, and drops its state: A's stamp must not be taken at its word.
    expect((await ingest(repo, byName({ exclude: [join(data, "visit2.dat")] }), { collection: "raw/B" })).report.removed).toBe(1);
    expect(await readable("raw/A", byVisit())).toBe(true);
    expect(await readable("raw/A", byVisit())).toBe(true);
    // In A, visit02.dat takes visit2.dat's data ID; B still reads visit2.dat by its name.
    await ingest(repo, byName(), { collection: "raw/B" });
    await ingest(repo, byVisit(), { collection: "raw/A" });
    write(join(data, "visit02.dat"), "zero two", HOUR_AGO + 10);
    await ingest(repo, byVisit(), { collection: "raw/A" });
    expect(await readable("raw/B", byName())).toBe(true);
    // A's pipeline now calls the same files by another dimension: their datasets change keys, not files.
    const byDetector: InputSpec[] = [{ ...file, type: "a", path: join(data, "visit{detector}.dat"), dimensions: ["detector"] }];
    await ingest(repo, byDetector, { collection: "raw/A" });
    expect(await readable("raw/A", byDetector)).toBe(true);
    expect(await readable("raw/B", byName())).toBe(true);
  });
});
