// Benchmark: the live view's cost on a real run. The same cold run of 10,001 trivial TypeScript quanta
// (test/fixtures/chain with 5,000 items, -j 1) is made with `--json > /dev/null` and with the live view
// drawn on a pseudo-terminal (util-linux `script`), each from a fresh repository holding only the
// ingested inputs, alternating, `--rounds` times; medians are compared. Target (issue 6): live / json
// under 1.05.
//
//   npm run build && node bench/live-view-e2e.js [--items 5000] [--rounds 3]
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const root = resolve(import.meta.dirname, "..");
const bin = join(root, "bin", "quanta.js");
const { values } = parseArgs({ options: { items: { type: "string", default: "5000" }, rounds: { type: "string", default: "3" }, quick: { type: "boolean" } }, strict: false });
const items = values.quick ? 500 : Number(values.items);
const rounds = Number(values.rounds);

const work = mkdtempSync(join(tmpdir(), "quanta-live-e2e-"));
cpSync(join(root, "test", "fixtures", "chain"), work, { recursive: true });
mkdirSync(join(work, "data"));
const past = new Date(Date.now() - 3600_000);
for (let i = 1; i <= items; i++) {
  writeFileSync(join(work, "data", `raw-${i}.txt`), `${i}\n`);
  utimesSync(join(work, "data", `raw-${i}.txt`), past, past);
}
execFileSync(process.execPath, [bin, "ingest", "chain.yaml", "--repo", "seed"], { cwd: work, stdio: "ignore" });

function timeRun(mode) {
  rmSync(join(work, "repo"), { recursive: true, force: true });
  cpSync(join(work, "seed"), join(work, "repo"), { recursive: true });
  rmSync(join(work, "repo", "lock"), { force: true });
  const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} run chain.yaml --repo repo -j 1`;
  const env = { ...process.env };
  delete env.CI;
  delete env.NO_COLOR;
  const started = performance.now();
  const r =
    mode === "json"
      ? spawnSync("sh", ["-c", `${cmd} --json > /dev/null`], { cwd: work, env })
      : spawnSync("script", ["-qfec", `stty cols 100 rows 40; ${cmd}`, "/dev/null"], { cwd: work, env, stdio: ["ignore", "ignore", "ignore"] });
  const ms = performance.now() - started;
  if (r.status !== 0) throw new Error(`${mode} run failed with ${r.status}`);
  return ms;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const times = { json: [], live: [] };
for (let i = 0; i < rounds; i++) {
  times.json.push(timeRun("json"));
  times.live.push(timeRun("live"));
}
rmSync(work, { recursive: true, force: true });
const json = median(times.json);
const live = median(times.live);
console.log(`live-view-e2e: ${2 * items + 1} quanta, -j 1, ${rounds} rounds each (medians)`);
console.log(`  --json > /dev/null  ${(json / 1000).toFixed(2)} s   [${times.json.map((t) => (t / 1000).toFixed(2)).join(", ")}]`);
console.log(`  live view (pty)     ${(live / 1000).toFixed(2)} s   [${times.live.map((t) => (t / 1000).toFixed(2)).join(", ")}]`);
console.log(`  live / json = ${(live / json).toFixed(3)} (target < 1.05)`);
