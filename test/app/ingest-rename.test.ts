/**
 * A rename that keeps the data ID (det1.txt → det01.txt: an int field reads 1 from both),
 * reported as the watcher reports it (the old path gone, the new one added), must leave the dataset
 * bound to the new file, as the full walk does.
 */
import { mkdirSync, renameSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DimensionUniverse } from "../../src/core/dimensions.js";
import type { InputSpec } from "../../src/core/pipeline.js";
import { ingestInputs } from "../../src/app/ingest.js";
import { ingestChangedPaths } from "../../src/app/ingest-changed-paths.js";
import { openRepository } from "../../src/store/repository.js";
import { makeTempDir } from "../helpers/cli.js";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = makeTempDir("quanta-review-rename-")));
afterEach(() => cleanup());

const dimensions: DimensionUniverse = { visit: "int", detector: "int" };
const COLLECTION = "raw/test";

describe("16 ingest of changed paths, a rename that keeps the data ID", () => {
  it("16 the dataset stays, bound to the new path, as after a full walk", async () => {
    const at = (p: string) => join(dir, p);
    const inputs: InputSpec[] = [{ kind: "files", type: "raw", path: at("data/visit{visit}/det{detector}.txt"), dimensions: ["visit", "detector"], storage: "text" }];
    mkdirSync(at("data/visit1"), { recursive: true });
    writeFileSync(at("data/visit1/det1.txt"), "v1 d1");
    const past = Date.now() / 1000 - 3600;
    utimesSync(at("data/visit1/det1.txt"), past, past);
    const repo = await openRepository(at("repo"), { write: true, command: "test" });
    await ingestInputs({ inputs, dimensions, repo, collection: COLLECTION });

    renameSync(at("data/visit1/det1.txt"), at("data/visit1/det01.txt"));
    await ingestChangedPaths({ inputs, dimensions, repo, collection: COLLECTION, paths: [at("data/visit1/det1.txt"), at("data/visit1/det01.txt")] });
    const after = [...repo.registry.listDatasets({ collection: COLLECTION })].map((e) => [e.key, e.record.sourcePath]);
    expect(after).toEqual([["detector=1,visit=1", at("data/visit1/det01.txt")]]);
    await repo.close();
  });

  it("16 a renamed directory (visit1 -> visit01) keeps its datasets, bound to the new paths", async () => {
    const at = (p: string) => join(dir, p);
    const inputs: InputSpec[] = [{ kind: "files", type: "raw", path: at("data/visit{visit}/det{detector}.txt"), dimensions: ["visit", "detector"], storage: "text" }];
    mkdirSync(at("data/visit1"), { recursive: true });
    const past = Date.now() / 1000 - 3600;
    for (const d of [1, 2]) {
      writeFileSync(at(`data/visit1/det${d}.txt`), `v1 d${d}`);
      utimesSync(at(`data/visit1/det${d}.txt`), past, past);
    }
    const repo = await openRepository(at("repo"), { write: true, command: "test" });
    await ingestInputs({ inputs, dimensions, repo, collection: COLLECTION });

    renameSync(at("data/visit1"), at("data/visit01"));
    const report = await ingestChangedPaths({ inputs, dimensions, repo, collection: COLLECTION, paths: [at("data/visit1"), at("data/visit01")] });
    expect(report.removed).toBe(0);
    const after = [...repo.registry.listDatasets({ collection: COLLECTION })].map((e) => [e.key, e.record.sourcePath]);
    expect(after).toEqual([1, 2].map((d) => [`detector=${d},visit=1`, at(`data/visit01/det${d}.txt`)]));
    expect(repo.registry.getFileState(at("data/visit1/det1.txt"))).toBeUndefined();
    await repo.close();
  });
});
