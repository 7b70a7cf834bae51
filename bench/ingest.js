// Ingest benchmark: 100,000 small files, ingested, then re-ingested unchanged.
// Run: npm run build && node bench/ingest.js [files=100000] [--no-fsync]
// Proves the unchanged re-ingest reads no file contents by counting every file open and read
// that goes through node:fs (patched before quanta is loaded) and the hasher's own counters.
import fs from "node:fs";
import fsp from "node:fs/promises";
import { syncBuiltinESMExports } from "node:module";
import { mkdtempSync, mkdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const count = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 100_000);
const fsync = !process.argv.includes("--no-fsync");

const reads = { opens: 0, readFiles: 0, streams: 0 };
const wrap = (obj, name, counter) => {
  const orig = obj[name];
  obj[name] = function (path, ...rest) {
    if (typeof path === "string" && path.includes("/data/")) reads[counter]++;
    return orig.call(this, path, ...rest);
  };
};
for (const name of ["openSync", "open"]) wrap(fs, name, "opens");
for (const name of ["readFileSync", "readFile"]) wrap(fs, name, "readFiles");
wrap(fs, "createReadStream", "streams");
wrap(fsp, "open", "opens");
wrap(fsp, "readFile", "readFiles");
syncBuiltinESMExports();

const { openRepository } = await import("../dist/store/repository.js");
const { ingestInputs } = await import("../dist/app/ingest.js");

const dir = mkdtempSync(join(tmpdir(), "quanta-bench-ingest-"));
try {
  const data = join(dir, "data");
  let t = performance.now();
  // 100 visits × 1000 detectors; files dated an hour ago, as data on disk usually is (files written in
  // the last few ms before an ingest are "racy" and are re-hashed once more on the next ingest).
  const old = Date.now() / 1000 - 3600;
  const visits = Math.ceil(count / 1000);
  let made = 0;
  for (let v = 0; v < visits && made < count; v++) {
    const d = join(data, `visit${v}`);
    mkdirSync(d, { recursive: true });
    for (let det = 0; det < 1000 && made < count; det++, made++) {
      const f = join(d, `det${det}.bin`);
      writeFileSync(f, `visit ${v} detector ${det} ` + "x".repeat(det % 50));
      utimesSync(f, old, old);
    }
  }
  console.log(`created ${made} files in ${((performance.now() - t) / 1000).toFixed(2)} s`);
  const dimensions = { visit: "int", detector: "int" };
  const inputs = [
    { kind: "files", type: "raw", path: join(data, "visit{visit}/det{detector}.bin"), dimensions: ["visit", "detector"], storage: "bytes", prerequisite: false },
  ];
  const run = async (label) => {
    const before = { ...reads };
    const start = performance.now();
    const repo = await openRepository(join(dir, "repo"), { write: true, fsync });
    const hashed = repo.hasher.stats.bytes;
    const report = await ingestInputs({ inputs, dimensions, repo });
    await repo.close();
    const seconds = (performance.now() - start) / 1000;
    const opened = reads.opens - before.opens + reads.readFiles - before.readFiles + reads.streams - before.streams;
    console.log(
      `${label}: ${seconds.toFixed(2)} s  (added ${report.added}, changed ${report.changed}, unchanged ${report.unchanged}, ` +
        `removed ${report.removed}; files read ${report.filesHashed}, bytes hashed ${repo.hasher.stats.bytes - hashed}, ` +
        `data files opened through node:fs ${opened})`,
    );
    return { seconds, report, opened };
  };
  const first = await run(`first ingest (fsync ${fsync ? "on" : "off"})`);
  const again = await run("unchanged re-ingest");
  if (again.report.filesHashed !== 0 || again.opened !== 0 || again.report.unchanged !== made) {
    console.error("FAIL: the unchanged re-ingest read file contents or miscounted");
    process.exitCode = 1;
  } else {
    console.log(`unchanged re-ingest read no file contents; ${(first.seconds / again.seconds).toFixed(1)}x faster than the first`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
