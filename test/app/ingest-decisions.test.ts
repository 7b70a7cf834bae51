import { relative } from "node:path";
import { describe, expect, it } from "vitest";
import type { BlobDigest } from "../../src/core/digest.js";
import { relativeTo } from "../../src/app/ingest-decisions.js";
import type { Repository } from "../../src/store/repository.js";

describe("relativeTo", () => {
  it("gives each file's path relative to the repository, as path.relative does, directory by directory", () => {
    const state = { digest: "00000000000000000000000000000001-1" as BlobDigest, size: 1, mtimeMs: 1, transfer: "reference" as const };
    for (const root of ["/work/p/repo", "/work/p/repo/", "/"]) {
      const repo = { root } as Repository;
      for (const path of ["/work/p/data/a.txt", "/work/p/data/b.txt", "/work/p/repo/x.txt", "/work/p/repo/sub/y.txt", "/work/z.txt", "/a.txt", "/work/p/data/deep/er/c.txt"]) {
        expect(relativeTo(repo, state, path).relPath, `${root} ${path}`).toBe(relative(root, path));
      }
    }
    expect(relativeTo({ root: "/r" } as Repository, { ...state, transfer: "copy" }, "/r/a")).toEqual({});
  });
});
