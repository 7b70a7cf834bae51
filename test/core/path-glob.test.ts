import { describe, expect, it } from "vitest";
import { compilePathGlob, pathGlobProblem } from "../../src/core/path-glob.js";

describe("path globs", () => {
  it("a '[' with no ']' after it, and every other character a RegExp treats specially, match themselves", () => {
    for (const glob of ["/d/a-[1.txt", "/d/a(1).txt", "/d/a+b.txt", "/d/$x^{1}|y.txt", "/d/a]b.txt", "/d/a\\b.txt", "/d/[.txt"]) {
      expect(pathGlobProblem(glob), glob).toBeUndefined();
      expect(compilePathGlob(glob).test(glob), glob).toBe(true);
      expect(compilePathGlob(glob).test(`${glob}x`), glob).toBe(false);
    }
  });

  it("reads a set's ranges left to right, as a RegExp does, and names one whose ends are out of order", () => {
    expect(compilePathGlob("/d/[a-c-e].txt").test("/d/-.txt")).toBe(true);
    expect(compilePathGlob("/d/[a-c-e].txt").test("/d/d.txt")).toBe(false);
    expect(compilePathGlob("/d/[!0-4]").test("/d/7")).toBe(true);
    expect(pathGlobProblem("/d/[z-z-a]")).toBeUndefined();
    expect(pathGlobProblem("/d/[9-1].txt")).toBe("its set [9-1] has the range 9-1, whose ends are out of order");
    expect(pathGlobProblem("/d/[!a-cz-x]")).toBe("its set [!a-cz-x] has the range z-x, whose ends are out of order");
    expect(() => compilePathGlob("/d/[9-1].txt")).toThrow('glob "/d/[9-1].txt": its set [9-1] has the range 9-1, whose ends are out of order');
  });
});
