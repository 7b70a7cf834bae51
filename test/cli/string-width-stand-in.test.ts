// The CLI bundle's stand-in for string-width (scripts/bundle/string-width.mjs) must measure every
// string as the real module does: printable ASCII by its length, everything else by the real module.
import { createRequire } from "node:module";
import realWidth from "string-width";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const SAMPLES = [
  "",
  "quanta run <pipeline> [targets..]",
  "  --repo     repository directory (default: $QUANTA_REPO)",
  "tab\there",
  "line\nbreak",
  "\u001b[31mred\u001b[39m",
  "données brutes",
  "観測データ",
  "👩‍🔬 science",
  "e\u0301",
  "\u200bzero width",
];

describe("the bundle's string-width stand-in", () => {
  // In the bundle, esbuild resolves the stand-in's `require`; here, Node's does.
  const global = globalThis as { require?: NodeJS.Require };
  const had = global.require;
  beforeAll(() => {
    global.require = createRequire(import.meta.url);
  });
  afterAll(() => {
    global.require = had;
  });

  it("gives the width string-width gives, ASCII or not", async () => {
    // @ts-expect-error: a plain ES module of the build scripts, without types
    const { default: standIn } = (await import("../../scripts/bundle/string-width.mjs")) as { default: (s: string) => number };
    for (const text of SAMPLES) expect([text, standIn(text)]).toEqual([text, realWidth(text)]);
  });
});
