/**
 * A commit the batcher started in the background and that failed is told at once (`onFailed`), so
 * that a scheduler waiting for quanta stops now, and not only when the next quantum ends (if one does).
 */
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CommitBatcher } from "../../src/exec/commit-batcher.js";
import { openRepository, type Repository } from "../../src/store/repository.js";
import { makeTempDir } from "../helpers/cli.js";

let dir: string;
let cleanup: () => void;
let repo: Repository;
beforeEach(async () => {
  ({ dir, cleanup } = makeTempDir("quanta-batcher-"));
  repo = await openRepository(join(dir, "repo"), { write: true, command: "test" });
});
afterEach(async () => {
  await repo.close();
  cleanup();
});

describe("the commit batcher", () => {
  it("calls onFailed when a commit started in the background fails, and throws its error from then on", async () => {
    let failed!: () => void;
    const told = new Promise<void>((resolve) => (failed = resolve));
    const batcher = new CommitBatcher(repo.registry, async () => undefined, () => failed());
    // A real failure: LMDB refuses a key this long, and the registry says so before writing anything.
    batcher.add((registry) => registry.putDatasetType({ name: "t".repeat(2100), dimensions: [], storage: "file" }));
    batcher.maybeCommit();
    await told;
    expect(() => batcher.maybeCommit()).toThrow(/a registry key is too long \(2100 bytes/);
    await expect(batcher.commit()).rejects.toThrow(/a registry key is too long/);
    expect(repo.registry.getDatasetType("t".repeat(2100))).toBeUndefined();
  });

  it("calls nothing when its commits succeed", async () => {
    let calls = 0;
    const batcher = new CommitBatcher(repo.registry, async () => undefined, () => calls++);
    batcher.add((registry) => registry.putDatasetType({ name: "t", dimensions: [], storage: "file" }));
    batcher.maybeCommit();
    await batcher.commit();
    expect(calls).toBe(0);
    expect(repo.registry.getDatasetType("t")).toMatchObject({ name: "t", storage: "file" });
  });
});
