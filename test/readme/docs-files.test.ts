/**
 * 17.10: the README and docs/ refer only to files that are in the repository: every relative link,
 * every repository path written as code (`src/core/explain.ts`; outputs that git ignores aside), and
 * every Markdown file they name.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../helpers/cli.js";

const DOCS = [join(PROJECT_ROOT, "README.md"), ...readdirSync(join(PROJECT_ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => join(PROJECT_ROOT, "docs", f))];
const REPO_DIRS = ["src", "test", "docs", "bench", "scripts", "native", "pipelines", "bin"];

/** The files a Markdown text refers to, as [what it says, path it must exist at]. */
function referencedFiles(file: string): [string, string][] {
  const text = readFileSync(file, "utf8");
  const out: [string, string][] = [];
  for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1]!.split("#")[0]!;
    if (target === "" || /^[a-z]+:/i.test(target)) continue;
    out.push([m[0], join(dirname(file), target)]);
  }
  for (const m of text.matchAll(/`([^`\s]+)`/g)) {
    const path = m[1]!.replace(/:\d+(:\d+)?$/, "");
    if (!REPO_DIRS.some((d) => path.startsWith(`${d}/`)) || /[<>*{}…]|\.\.\./.test(path)) continue;
    out.push([m[0], join(PROJECT_ROOT, path)]);
  }
  for (const m of text.matchAll(/(?<![\w/.-])([\w-]+\.md)\b/g)) {
    const name = m[1]!;
    if ([dirname(file), PROJECT_ROOT, join(PROJECT_ROOT, "docs")].some((d) => existsSync(join(d, name)))) continue;
    out.push([name, join(dirname(file), name)]);
  }
  return out;
}

/** A path git ignores: an output the docs show being made (`pipelines/sky/out/sky.png`), not a file of the repository. */
function isGenerated(path: string): boolean {
  return spawnSync("git", ["check-ignore", "-q", path], { cwd: PROJECT_ROOT }).status === 0;
}

describe("17.10 docs refer only to files in the repository", () => {
  it.each(DOCS.map((f) => [relative(PROJECT_ROOT, f), f]))("17.10 %s", (_name, file) => {
    const missing = referencedFiles(file!).filter(([, path]) => !existsSync(path) && !isGenerated(path)).map(([what]) => what);
    expect(missing).toEqual([]);
  });
});
