/**
 * Item 3 of issue 15: the ingest of "these paths changed" (a watch mode's) leaves the registry as a full
 * ingest after the same edits would, while looking at the given paths alone.
 */
import { mkdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DimensionUniverse } from "../../src/core/dimensions.js";
import type { InputSpec } from "../../src/core/pipeline.js";
import { ingestInputs } from "../../src/app/ingest.js";
import { ingestChangedPaths } from "../../src/app/ingest-changed-paths.js";
import { openRepository, type Repository } from "../../src/store/repository.js";
import { makeTempDir } from "../helpers/cli.js";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = makeTempDir("quanta-ingest-changed-")));
afterEach(() => cleanup());

const dimensions: DimensionUniverse = { visit: "int", detector: "int", tract: "int" };
const COLLECTION = "raw/test";
let clock = Date.now() / 1000 - 7200;

/** Writes a file dated in the past (each write a second later than the last: never racily new). */
function put(path: string, text: string): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
  clock += 1;
  utimesSync(path, clock, clock);
}

function inputs(): InputSpec[] {
  return [
    { kind: "files", type: "raw", path: join(dir, "data/visit{visit}/det{detector}.txt"), dimensions: ["visit", "detector"], storage: "text" },
    { kind: "files", type: "flat", path: join(dir, "calib/flat-{detector}.txt"), dimensions: ["detector"], storage: "text" },
    { kind: "relation", type: "overlaps", path: join(dir, "tables/overlaps.csv"), dimensions: ["visit", "tract"] },
  ];
}

async function open(name: string): Promise<Repository> {
  return openRepository(join(dir, name), { write: true, command: "test" });
}

/** Everything an ingest writes: the collection's datasets, the relations, and the file states of `paths`. */
function contents(repo: Repository, paths: readonly string[]): unknown {
  const datasets = [...repo.registry.listDatasets({ collection: COLLECTION })].map((e) => [e.type, e.key, e.record]);
  const relations = repo.registry.listRelations().map((r) => [r.name, r.rows, r.digest]);
  const states = paths.map((p) => [p, repo.registry.getFileState(p) ?? null]);
  return { datasets, relations, states };
}

describe("15.3 ingest of changed paths", () => {
  it("15.3 leaves the registry as a full ingest does: an edited, a deleted and a touched file, a new file in a new directory, a relation edit", async () => {
    const at = (p: string) => join(dir, p);
    for (const v of [1, 2]) for (const d of [1, 2]) put(at(`data/visit${v}/det${d}.txt`), `v${v} d${d}`);
    for (const d of [1, 2]) put(at(`calib/flat-${d}.txt`), `flat ${d}`);
    put(at("tables/overlaps.csv"), "visit,tract\n1,10\n2,10\n");
    const partial = await open("partial");
    const first = await ingestInputs({ inputs: inputs(), dimensions, repo: partial, collection: COLLECTION });
    expect(first.added).toBe(6);

    put(at("data/visit1/det2.txt"), "v1 d2, edited");
    rmSync(at("data/visit2/det1.txt"));
    put(at("data/visit3/det1.txt"), "v3 d1, new"); // in a directory that did not exist
    put(at("calib/flat-1.txt"), "flat 1"); // touched: same bytes, a new mtime
    put(at("tables/overlaps.csv"), "visit,tract\n1,10\n2,10\n3,11\n");
    put(at("data/visit1/notes.md"), "fits no template"); // reported, not ingested, as by the walk
    const changed = ["data/visit1/det2.txt", "data/visit2/det1.txt", "data/visit3", "calib/flat-1.txt", "tables/overlaps.csv", "data/visit1/notes.md"].map(at);

    const report = await ingestChangedPaths({ inputs: inputs(), dimensions, repo: partial, collection: COLLECTION, paths: changed });
    expect({ added: report.added, changed: report.changed, unchanged: report.unchanged, removed: report.removed }).toEqual({ added: 1, changed: 1, unchanged: 1, removed: 1 });
    expect(report.relations).toEqual([{ name: "overlaps", rows: 3, status: "changed" }]);
    expect(report.problems.map((p) => p.file)).toEqual([at("data/visit1/notes.md")]);
    // Only the changed files were read: the edited one, the new one, the touched one (its mtime moved), the relation.
    expect(report.filesHashed).toBe(4);

    const full = await open("full");
    await ingestInputs({ inputs: inputs(), dimensions, repo: full, collection: COLLECTION });
    const every = [1, 2, 3].flatMap((v) => [1, 2].map((d) => at(`data/visit${v}/det${d}.txt`))).concat([1, 2].map((d) => at(`calib/flat-${d}.txt`)), at("tables/overlaps.csv"));
    expect(contents(partial, every)).toEqual(contents(full, every));
    expect((contents(partial, every) as { datasets: unknown[] }).datasets).toHaveLength(6);

    // And a walk of the same repository afterwards finds nothing left to do.
    const again = await ingestInputs({ inputs: inputs(), dimensions, repo: partial, collection: COLLECTION });
    expect({ added: again.added, changed: again.changed, removed: again.removed, hashed: again.filesHashed }).toEqual({ added: 0, changed: 0, removed: 0, hashed: 0 });
    expect(again.relations).toEqual([{ name: "overlaps", rows: 3, status: "unchanged" }]);
    await partial.close();
    await full.close();
  });

  it("15.3 a deleted directory drops the datasets of the files it held; the stamp of the last walk does not answer the next one", async () => {
    const at = (p: string) => join(dir, p);
    for (const v of [1, 2]) for (const d of [1, 2]) put(at(`data/visit${v}/det${d}.txt`), `v${v} d${d}`);
    put(at("tables/overlaps.csv"), "visit,tract\n1,10\n");
    const repo = await open("repo");
    await ingestInputs({ inputs: inputs(), dimensions, repo, collection: COLLECTION });
    // A second walk is answered by the ingest stamp (nothing read, nothing looked up).
    expect((await ingestInputs({ inputs: inputs(), dimensions, repo, collection: COLLECTION })).unchanged).toBe(4);

    rmSync(at("data/visit2"), { recursive: true });
    const report = await ingestChangedPaths({ inputs: inputs(), dimensions, repo, collection: COLLECTION, paths: [at("data/visit2")] });
    expect(report.removed).toBe(2);
    expect([...repo.registry.listDatasets({ collection: COLLECTION })].map((e) => e.key).sort()).toEqual(["detector=1,visit=1", "detector=2,visit=1"]);
    // The walk after it sees the listing the partial ingest left, not the stamped one: nothing is re-added.
    const walk = await ingestInputs({ inputs: inputs(), dimensions, repo, collection: COLLECTION });
    expect({ added: walk.added, removed: walk.removed, unchanged: walk.unchanged }).toEqual({ added: 0, removed: 0, unchanged: 2 });
    await repo.close();
  });
});
