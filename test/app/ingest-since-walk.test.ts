// The walk compared with the stamped one (ingest.ts ingestSinceLastWalk): only the files whose entry
// differs are read, and the collection ends as a walk that reads every file state leaves it.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DimensionUniverse } from "../../src/core/dimensions.js";
import type { InputSpec } from "../../src/core/pipeline.js";
import { ingestInputs, type IngestReport } from "../../src/app/ingest.js";
import { openRepository } from "../../src/store/repository.js";
import { makeTempDir } from "../helpers/cli.js";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = makeTempDir("quanta-ingest-walk-")));
afterEach(() => cleanup());

const dimensions: DimensionUniverse = { band: "string", visit: "int", detector: "int" };
const HOUR_AGO = Math.floor(Date.now() / 1000) - 3600;

/** Raw files held by reference (small: their digests alone), calibrations copied into blob files (over 4 KiB). */
function inputs(data: string): InputSpec[] {
  const spec = { kind: "files" as const, storage: "bytes" as const, prerequisite: false };
  return [
    { ...spec, type: "raw", path: join(data, "raw/{band}/visit{visit}/det{detector}.dat"), dimensions: ["band", "visit", "detector"] },
    { ...spec, type: "cal", path: join(data, "cal/{band}/visit{visit}.dat"), dimensions: ["band", "visit"], transfer: "copy" },
  ];
}

function write(path: string, text: string, mtime: number): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  utimesSync(path, mtime, mtime);
}

function makeTree(data: string): void {
  for (const band of ["g", "r"]) {
    for (let visit = 1; visit <= 6; visit++) {
      for (let det = 1; det <= 5; det++) write(join(data, `raw/${band}/visit${visit}/det${det}.dat`), `${band}${visit}${det}`, HOUR_AGO);
      write(join(data, `cal/${band}/visit${visit}.dat`), `cal ${band}${visit}`.padEnd(5000, "."), HOUR_AGO);
    }
  }
}

/** Ingests `data` into `repo`, counting the file states read; `full` first forgets the stamped walk. */
async function ingest(repo: string, data: string, full = false): Promise<{ report: IngestReport; lookups: number; datasets: Record<string, unknown> }> {
  const r = await openRepository(repo, { write: true });
  try {
    if (full) await r.registry.commit(() => r.registry.putStamp("walk\0raw", null));
    let lookups = 0;
    const get = r.registry.getFileState.bind(r.registry);
    r.registry.getFileState = (path) => (lookups++, get(path));
    const report = await ingestInputs({ inputs: inputs(data), dimensions, repo: r });
    const datasets: Record<string, unknown> = {};
    for (const e of r.registry.listDatasets({ collection: "raw" })) {
      const { digest, size, storage, sourcePath } = e.record;
      datasets[`${e.type} ${e.key}`] = { digest, size, storage, sourcePath };
      if (e.type === "cal") expect(r.blobs.has(digest), `${e.key}: blob ${digest}`).toBe(true);
    }
    return { report, lookups, datasets };
  } finally {
    await r.close();
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

/** A small deterministic generator (mulberry32), so that a failing sequence can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("an ingest after the stamped walk", () => {
  it("reads only the edited file, and a run into another collection leaves the stamp holding", async () => {
    const data = join(dir, "data");
    const repo = join(dir, "repo");
    makeTree(data);
    const first = await ingest(repo, data);
    expect(first.report).toMatchObject({ added: 72, filesHashed: 72 });
    // A run writes datasets of its own collection, quanta and executions: the stamp still holds.
    const r = await openRepository(repo, { write: true });
    await r.registry.commit(() => {
      r.registry.putDataset("out", "calexp", { band: "g", visit: 1 }, { digest: first.datasets["cal band=g,visit=1"]!.digest, size: 5000, storage: "bytes", producer: null } as never);
      r.registry.putQuantum("out", "t", "band=g,visit=1", { status: "succeeded", key: "0".repeat(32) as never, executionId: "e1", time: 1 });
    });
    await r.close();
    const again = await ingest(repo, data);
    expect(again.report).toMatchObject({ unchanged: 72, filesHashed: 0 });
    expect(again.lookups).toBe(0);

    write(join(data, "raw/g/visit3/det2.dat"), "edited", HOUR_AGO + 60);
    write(join(data, "cal/r/visit5.dat"), "edited cal".padEnd(6000, "."), HOUR_AGO + 60);
    const edited = await ingest(repo, data);
    expect(edited.report).toMatchObject({ added: 0, changed: 2, unchanged: 70, removed: 0, filesHashed: 2 });
    expect(edited.report.changedPaths).toEqual([join(data, "raw/g/visit3/det2.dat"), join(data, "cal/r/visit5.dat")].sort());
    expect(edited.lookups).toBe(2);
    expect(edited.datasets).toEqual((await ingest(join(dir, "fresh"), data)).datasets);
    // The edit is stamped in turn.
    expect((await ingest(repo, data)).lookups).toBe(0);
  });

  it("leaves the collection as a walk reading every file state does, through random edits, additions, removals and renames", async () => {
    const data = join(dir, "data");
    makeTree(data);
    const next = random(19);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!;
    const incremental = join(dir, "incremental");
    const full = join(dir, "full");
    await ingest(incremental, data);
    await ingest(full, data, true);
    let lookupsIncremental = 0;
    let lookupsFull = 0;
    for (let round = 1; round <= 25; round++) {
      const mtime = HOUR_AGO + 10 * round;
      for (let n = 1 + Math.floor(next() * 3); n > 0; n--) {
        const files = filesUnder(data);
        const file = pick(files);
        const isCal = file.includes("/cal/");
        const band = pick(["g", "r", "i"]);
        const visit = 1 + Math.floor(next() * 8);
        const elsewhere = isCal ? join(data, `cal/${band}/visit${visit}.dat`) : join(data, `raw/${band}/visit${visit}/det${1 + Math.floor(next() * 6)}.dat`);
        switch (pick(["edit", "same size", "touch", "remove", "add", "rename", "misfit"])) {
          case "edit":
            write(file, `edit ${round}`.padEnd(isCal ? 5000 + round : 0, "."), mtime);
            break;
          case "same size": {
            // Other bytes of the same size, the mtime set back: only the ctime tells.
            const st = statSync(file);
            writeFileSync(file, "#".repeat(st.size));
            utimesSync(file, st.atime, st.mtime);
            break;
          }
          case "touch":
            utimesSync(file, mtime, mtime);
            break;
          case "remove":
            rmSync(file);
            break;
          case "add":
            write(elsewhere, `added ${round}`.padEnd(isCal ? 5000 : 0, "."), mtime);
            break;
          case "rename":
            mkdirSync(dirname(elsewhere), { recursive: true });
            renameSync(file, elsewhere);
            break;
          case "misfit":
            write(join(dirname(file), `notes${round}.txt`), "not an input", mtime);
            break;
        }
      }
      const a = await ingest(incremental, data);
      const b = await ingest(full, data, true);
      lookupsIncremental += a.lookups;
      lookupsFull += b.lookups;
      const counts = (r: IngestReport) => ({ added: r.added, changed: r.changed, unchanged: r.unchanged, removed: r.removed, byType: r.byType, changedPaths: r.changedPaths });
      expect(counts(a.report), `round ${round}`).toEqual(counts(b.report));
      expect(a.datasets, `round ${round}`).toEqual(b.datasets);
    }
    // The incremental walks read a few file states a round; the full ones, every one.
    expect(lookupsIncremental).toBeLessThan(lookupsFull / 10);
  });
});
