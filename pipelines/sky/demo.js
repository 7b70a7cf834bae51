/**
 * `npm run demo`: generates the sky survey's data (once), runs the sky pipeline with the real CLI, then
 * fetches the summary catalog and its picture out of the repository and prints the completeness.
 *
 *   node pipelines/sky/demo.js [quanta run flags…]      e.g. --repo /tmp/repo -j 2 --config summary.magLimit=20
 *
 * Flags are passed to `quanta run`; `--repo` is used for `quanta get` too. The CLI is bin/quanta.js of
 * this checkout, or $QUANTA_BIN. Outputs go to pipelines/sky/out/ (git-ignored).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { generateSkyData } from "./generate.mjs";

const here = import.meta.dirname;
const projectRoot = resolve(here, "..", "..");
const quantaBin = process.env.QUANTA_BIN ?? join(projectRoot, "bin", "quanta.js");
const pipelineFile = join(here, "sky.yaml");
const dataDir = join(here, "data");
const outDir = join(here, "out");

/**
 * Runs the CLI with the terminal attached; exits with its code when it fails.
 * @param {string[]} args
 */
function runQuanta(args) {
  const result = spawnSync(process.execPath, [quantaBin, ...args], { stdio: "inherit" });
  if (result.status !== 0) {
    console.error(`demo: quanta ${args[0]} failed (exit code ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
}

/**
 * The value of `--repo DIR` or `--repo=DIR` among the arguments, as flags for `quanta get`.
 * @param {string[]} args
 * @returns {string[]}
 */
function findRepoFlags(args) {
  const i = args.findIndex((a) => a === "--repo" || a.startsWith("--repo="));
  if (i < 0) return [];
  return args[i].includes("=") ? [args[i]] : ["--repo", args[i + 1]];
}

function main() {
  const passThrough = process.argv.slice(2);
  if (!existsSync(join(dataDir, "truth.json"))) {
    const truth = generateSkyData(dataDir);
    console.log(`demo: generated ${Object.keys(truth.visits).length} visits with ${truth.stars.length} true stars in ${relative(process.cwd(), dataDir) || "."}`);
  }
  runQuanta(["run", pipelineFile, ...passThrough]);
  mkdirSync(outDir, { recursive: true });
  const catalogFile = join(outDir, "summary.json");
  const pictureFile = join(outDir, "sky.png");
  const repoFlags = findRepoFlags(passThrough);
  runQuanta(["get", "summary@", "-o", catalogFile, ...repoFlags]);
  runQuanta(["get", "summaryImage@", "-o", pictureFile, ...repoFlags]);
  const catalog = JSON.parse(readFileSync(catalogFile, "utf8"));
  console.log("");
  console.log(`completeness: ${catalog.recovered} of ${catalog.expected} true stars brighter than magnitude ${catalog.magLimit} recovered (${(100 * catalog.completeness).toFixed(1)}%)`);
  for (const [band, b] of Object.entries(catalog.bands)) {
    console.log(`  band ${band}: ${b.recovered}/${b.expected}, ${b.detections} detections, ${b.spurious} spurious`);
  }
  console.log(`catalog: ${relative(process.cwd(), catalogFile)}`);
  console.log(`figure: ${relative(process.cwd(), pictureFile)}  (each band's coadds; green: detections, red: missed true stars)`);
}

main();
