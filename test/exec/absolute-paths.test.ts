import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { absolutePaths } from "../../src/exec/absolute-paths.js";

describe("absolutePaths", () => {
  it("gives what path.resolve gives, for paths of every shape, asked in any order and again", () => {
    const paths = [
      "repo/blobs/ab/cdef-12",
      "repo/blobs/ab/0123-4",
      "./repo/blobs/ab/cdef-12",
      "repo//blobs/ab/x",
      "repo/blobs/../blobs/ab/y",
      "/abs/dir/file",
      "/abs/dir/../other/file",
      "/file",
      "/",
      "file",
      "dir/",
      "dir/.",
      "dir/..",
      "a/b/c/..",
      "../up/file",
      "..",
      ".",
      "/a//b///c",
    ];
    const absolute = absolutePaths();
    for (const path of [...paths, ...paths.slice().reverse()]) expect(absolute(path), path).toBe(resolve(path));
  });
});
