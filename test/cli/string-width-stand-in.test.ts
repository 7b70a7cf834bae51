// The CLI bundle's stand-in for string-width (scripts/bundle/string-width.mjs) must measure every
// string as the version of string-width it stands in for does: printable ASCII by its length,
// everything else by that version itself.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../helpers/cli.js";

const SAMPLES = [
  "",
  "quanta run <pipeline> [targets..]",
  "  --repo     repository directory (default: $QUANTA_REPO)",
  "tab\there",
  "line\nbreak",
  "\u001b[31mred\u001b[39m",
  "données brutes",
  "観測データ",
  "ｶﾞ",
  "❤ love",
  "👩‍🔬 science",
  "e\u0301",
  "\u200bzero width",
];

// The copies the bundle holds: yargs's own, and the ones cliui and wrap-ansi depend on.
const VERSIONS = ["node_modules/string-width", "node_modules/cliui/node_modules/string-width", "node_modules/wrap-ansi/node_modules/string-width"]
  .map((dir) => join(PROJECT_ROOT, dir))
  .filter((dir) => existsSync(dir));

describe("the bundle's string-width stand-in", () => {
  it.each(VERSIONS)("gives the width %s gives, ASCII or not", async (dir) => {
    const { default: realWidth } = (await import(pathToFileURL(join(dir, "index.js")).href)) as { default: (s: string) => number };
    // @ts-expect-error: a plain ES module of the build scripts, without types
    const { lazyStringWidth } = (await import("../../scripts/bundle/string-width.mjs")) as { lazyStringWidth: (load: () => (s: string) => number) => (s: string) => number };
    let loaded = 0;
    const standIn = lazyStringWidth(() => {
      loaded++;
      return realWidth;
    });
    for (const text of SAMPLES) expect([text, standIn(text)]).toEqual([text, realWidth(text)]);
    // Loaded once, by the first string that is not printable ASCII.
    expect(loaded).toBe(1);
  });
});
