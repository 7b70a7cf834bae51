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

/**
 * Every import of `string-width` goes to a stand-in (scripts/bundle/string-width.mjs) for the version
 * its importer resolves to. The stand-in `require`s that version: esbuild then bundles it so that it is
 * set up on the stand-in's first call, not when the CLI starts.
 */
const lazyStringWidth = {
  name: "lazy-string-width",
  setup(build) {
    build.onResolve({ filter: /^string-width$/ }, async (args) => {
      if (args.pluginData?.real) return undefined;
      const real = await build.resolve("string-width", { kind: args.kind, resolveDir: args.resolveDir, pluginData: { real: true } });
      if (real.errors.length > 0) return { errors: real.errors };
      return { path: real.path, namespace: "string-width-stand-in" };
    });
    build.onLoad({ filter: /.*/, namespace: "string-width-stand-in" }, (args) => ({
      contents: `import { lazyStringWidth } from ${JSON.stringify(lazyWidth)};\nexport default lazyStringWidth(() => require(${JSON.stringify(args.path)}).default);\n`,
      resolveDir: root,
      loader: "js",
    }));
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
  minifyWhitespace: true,
  logLevel: "warning",
});
