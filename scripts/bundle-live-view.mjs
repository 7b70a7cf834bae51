// Part of `npm run build`: bundles the live view (src/ui/live-view.tsx, compiled by tsc) with ink and
// React into one minified module, dist/ui/live-view.bundle.js, with React's production build chosen at
// bundle time. Loading it takes a fifth of the time of loading ink and React module by module, which is
// most of what the live view costs a short run (issue 6: under 5% of a 10,000-quantum run).
// dist/ui/load-live-view.js uses the bundle when it exists, and the unbundled module otherwise.
import * as esbuild from "esbuild";
import { resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const noDevtools = {
  name: "no-devtools",
  setup(build) {
    // ink connects to React DevTools only when DEV=true; the bundle leaves that out.
    build.onResolve({ filter: /^react-devtools-core$/ }, () => ({ path: "react-devtools-core", namespace: "stub" }));
    build.onLoad({ filter: /.*/, namespace: "stub" }, () => ({ contents: "export default { connectToDevTools() {} };" }));
  },
};

await esbuild.build({
  entryPoints: [resolve(root, "dist/ui/live-view.js")],
  outfile: resolve(root, "dist/ui/live-view.bundle.js"),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  minify: true,
  define: { "process.env.NODE_ENV": '"production"' },
  banner: { js: "import { createRequire as __quantaRequire } from 'node:module'; const require = __quantaRequire(import.meta.url);" },
  plugins: [noDevtools],
  logLevel: "warning",
});
