// Part of `npm run build`: bundles the CLI (dist/cli/main.js, compiled by tsc) with yargs, zod and yaml
// into dist/bundle/main.js, which bin/quanta.js loads when it exists. Node then reads, resolves and
// compiles a few files instead of about two hundred: a command starts about 0.1 s sooner. What the
// commands load on demand (`await import(...)`) stays on demand: it goes into chunks of its own
// (`splitting`). Packages with native code or files of their own (lmdb, msgpackr, xxhash-wasm,
// esbuild) stay outside, and so do ink and React: the live view loads its own bundle
// (bundle-live-view.mjs) only when it is drawn. Paths the code finds through `import.meta.url` are
// written to hold from dist/bundle/ as from their own directories under dist/.
import * as esbuild from "esbuild";
import { rmSync } from "node:fs";
import { resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const lazyWidth = resolve(root, "scripts/bundle/string-width.mjs");

/** Every import of `string-width` but the stand-in's own goes to the stand-in (scripts/bundle/string-width.mjs). */
const lazyStringWidth = {
  name: "lazy-string-width",
  setup(build) {
    build.onResolve({ filter: /^string-width$/ }, (args) => (args.importer === lazyWidth ? undefined : { path: lazyWidth }));
  },
};
// Chunk names change with their contents: the last build's go first.
rmSync(resolve(root, "dist/bundle"), { recursive: true, force: true });

await esbuild.build({
  entryPoints: [resolve(root, "dist/cli/main.js")],
  outdir: resolve(root, "dist/bundle"),
  entryNames: "[name]",
  chunkNames: "chunk-[hash]",
  splitting: true,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: ["lmdb", "msgpackr", "xxhash-wasm", "esbuild", "ink", "react"],
  banner: { js: "import { createRequire as __quantaRequire } from 'node:module'; const require = __quantaRequire(import.meta.url);" },
  plugins: [lazyStringWidth],
  logLevel: "warning",
});
