/**
 * 15.2: the ingest preview that readers plan over is the ingest itself, through a sink that commits
 * nothing: it must find the same datasets, digests, relations and problems as the ingest that follows
 * it, and write nothing; and a reader's registry is one snapshot.
 */
import { mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DimensionUniverse } from "../../src/core/dimensions.js";
import type { InputSpec } from "../../src/core/pipeline.js";
import { ingestInputs, type IngestReport } from "../../src/app/ingest.js";
import { previewIngest } from "../../src/app/ingest-preview.js";
import { openRepository, type Repository } from "../../src/store/repository.js";
import type { Registry } from "../../src/store/registry.js";
import { makeTempDir, runCli } from "../helpers/cli.js";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = makeTempDir("quanta-preview-")));
afterEach(() => cleanup());

const dimensions: DimensionUniverse = { visit: "int", detector: "int", tract: "int" };
const HOUR_AGO = Date.now() / 1000 - 3600;
const COLLECTION = "raw/p";

/** 4 visits × 3 detectors; every third file is larger than 4 KiB (a blob file, not a registry value). */
function writeFile(visit: number, detector: number, text = `${visit}-${detector}`): void {
  const d = join(dir, "raw", `visit${visit}`);
  mkdirSync(d, { recursive: true });
  const f = join(d, `det${detector}.npy`);
  writeFileSync(f, (visit * 3 + detector) % 3 === 0 ? text.padEnd(6000, ".") : text);
  // An edit keeps the size here: a later mtime tells it.
  const mtime = text === `${visit}-${detector}` ? HOUR_AGO : HOUR_AGO + 60;
  utimesSync(f, mtime, mtime);
}

function makeInputs(): InputSpec[] {
  for (let visit = 1; visit <= 4; visit++) for (let detector = 1; detector <= 3; detector++) writeFile(visit, detector);
  writeFileSync(join(dir, "raw", "visit1", "notes.npy"), "not an input"); // fits no template: a problem
  writeFileSync(join(dir, "overlaps.csv"), "visit,tract\n1,7\n2,7\n3,8\n");
  return [
    { kind: "files", type: "raw", path: join(dir, "raw/visit{visit}/det{detector}.npy"), dimensions: ["visit", "detector"], storage: "ndarray", prerequisite: false },
    { kind: "relation", type: "overlaps", path: join(dir, "overlaps.csv"), dimensions: ["visit", "tract"] },
  ];
}

async function withRepo<T>(write: boolean, fn: (repo: Repository) => Promise<T>): Promise<T> {
  const repo = await openRepository(join(dir, "repo"), write ? { write: true } : { write: false, ifMissing: "empty" });
  try {
    return await fn(repo);
  } finally {
    await repo.close();
  }
}

/** What planning reads of an ingest's result. */
function inputsOf(registry: Registry): unknown {
  return {
    datasets: [...registry.listDatasets({ collection: COLLECTION })].map((e) => [e.type, e.key, e.record.digest, e.record.size, e.record.sourcePath]),
    relation: registry.getRelation(`${COLLECTION}/overlaps`),
    collections: registry.listCollections(),
  };
}

function countsOf(r: IngestReport): unknown {
  return { added: r.added, changed: r.changed, unchanged: r.unchanged, removed: r.removed, relations: r.relations, problems: r.problems };
}

function blobFiles(): string[] {
  try {
    return readdirSync(join(dir, "repo", "blobs"), { recursive: true }).map(String).filter((p) => p.includes("/"));
  } catch {
    return [];
  }
}

/** Previews with a reader, then ingests with a writer; returns both. */
async function previewThenIngest(inputs: InputSpec[]) {
  const preview = await withRepo(false, async (repo) => {
    const { report, repo: planned } = await previewIngest({ inputs, dimensions, repo, collection: COLLECTION });
    return { report, seen: inputsOf(planned.registry), stored: inputsOf(repo.registry), blobs: blobFiles() };
  });
  const ingested = await withRepo(true, async (repo) => {
    const report = await ingestInputs({ inputs, dimensions, repo, collection: COLLECTION });
    return { report, stored: inputsOf(repo.registry) };
  });
  return { preview, ingested };
}

describe("15.2 ingest preview", () => {
  it("15.2 a preview finds what the ingest then records, and writes nothing (new, edited, removed files)", async () => {
    const inputs = makeInputs();
    const first = await previewThenIngest(inputs);
    expect(first.preview.stored).toEqual({ datasets: [], relation: undefined, collections: [] });
    expect(first.preview.blobs).toEqual([]);
    expect(first.preview.seen).toEqual(first.ingested.stored);
    expect(countsOf(first.preview.report)).toEqual(countsOf(first.ingested.report));
    expect(first.ingested.report.added).toBe(12);
    expect(first.preview.report.problems).toHaveLength(1);

    // An edited file (a blob file), a removed one, a new one, an edited relation.
    writeFile(1, 3, "edited");
    rmSync(join(dir, "raw", "visit2", "det2.npy"));
    writeFile(5, 1);
    writeFileSync(join(dir, "overlaps.csv"), "visit,tract\n1,7\n2,8\n");
    const blobsBefore = blobFiles();
    const second = await previewThenIngest(inputs);
    expect(second.preview.stored).toEqual(first.ingested.stored);
    expect(second.preview.blobs).toEqual(blobsBefore);
    expect(second.preview.seen).toEqual(second.ingested.stored);
    expect(countsOf(second.preview.report)).toEqual(countsOf(second.ingested.report));
    expect(second.ingested.report).toMatchObject({ added: 1, changed: 1, removed: 1, unchanged: 10 });
    expect(second.ingested.report.relations).toEqual([{ name: "overlaps", rows: 2, status: "changed" }]);

    // Nothing changed: the preview is answered as the ingest is (by its stamp), and sees the registry.
    const third = await previewThenIngest(inputs);
    expect(third.preview.seen).toEqual(second.ingested.stored);
    expect(countsOf(third.preview.report)).toEqual(countsOf(third.ingested.report));
    expect(third.ingested.report.unchanged).toBe(12);
  });

  it("15.2 a reader's registry is one snapshot: a commit made after it opened, by a writer in another process, is not seen", async () => {
    makeInputs();
    writeFileSync(
      join(dir, "p.yaml"),
      'dimensions: { visit: int, detector: int, tract: int }\ninputs:\n  raw: { path: "raw/visit{visit}/det{detector}.npy", storage: ndarray }\n' +
        '  overlaps: { path: "overlaps.csv", relation: [visit, tract] }\ntasks: {}\n',
    );
    const ingest = () => runCli(["ingest", "p.yaml", "--repo", "repo"], { cwd: dir });
    expect((await ingest()).code).toBe(0);
    const reader = await openRepository(join(dir, "repo"), { write: false });
    try {
      const generation = reader.registry.generation();
      const seen = inputsOf(reader.registry);
      expect((seen as { datasets: unknown[] }).datasets).toHaveLength(12);
      writeFile(6, 1);
      const again = await ingest();
      expect(again.stdout).toMatch(/: 1 added, 0 changed, 12 unchanged, 0 removed/);
      // Across turns of the event loop too (lmdb-js renews its shared read transaction on each).
      await new Promise((resolve) => setImmediate(resolve));
      expect(reader.registry.generation()).toBe(generation);
      expect(inputsOf(reader.registry)).toEqual(seen);
      expect(reader.registry.getDataset(COLLECTION, "raw", "detector=1,visit=6")).toBeUndefined();
    } finally {
      await reader.close();
    }
    await withRepo(false, async (repo) => expect(repo.registry.getDataset(COLLECTION, "raw", "detector=1,visit=6")).toBeDefined());
  });
});
