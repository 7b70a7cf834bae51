#!/usr/bin/env node
/**
 * Ingest at scale (issue 19): N small raw files, ingested by the real CLI, beside the anchors of the
 * same run:
 *   first ingest      vs  `find DIR -type f | xargs cat > /dev/null`      (read every file once)
 *   re-ingest, same   vs  `find DIR -type f -printf '%s %T@\n' > /dev/null` (stat every file)
 * Every command (quanta's and the anchors') is started the same way, in a session of its own
 * (bench/lib/measure.js `timeProcess`), after the files were just written: the page cache is warm for
 * all of them alike. The re-ingest's "files read" (quanta's own count) shows it only stats.
 *
 * Usage: npm run build && node bench/ingest.js [--n 100000] [--transfer reference|link|copy] [--reps 3] [--quick] [--keep-dir]
 *   --n         how many files (1,000 per directory; default 100,000; the issue's figure is 333,334)
 *   --transfer  the input's `transfer:` (default reference, quanta's default)
 *   --reps      runs of each command; the median is shown (default 1; each quanta run gets a fresh repository)
 *   --quick     2,000 files: a smoke run of the harness, not a measurement
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatMs, formatRatio, markdownTable, median, parseArgs, QUANTA_BIN, timeProcess } from "./lib/measure.js";

const args = parseArgs(process.argv.slice(2));
const n = args.quick ? 2000 : Number(args.n ?? 100_000);
const reps = Math.max(1, Number(args.reps ?? 1));
const transfer = typeof args.transfer === "string" ? args.transfer : "reference";
if (!Number.isInteger(n) || n < 1 || !["reference", "link", "copy"].includes(transfer)) {
  console.error("usage: node bench/ingest.js [--n FILES] [--transfer reference|link|copy] [--reps R] [--quick]");
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), "quanta-bench-ingest-"));
try {
  const data = join(dir, "data");
  const started = performance.now();
  // Files dated an hour ago, as data on disk usually is (files written in the last few ms before an
  // ingest are "racy", and hashed again by the next one).
  const old = Date.now() / 1000 - 3600;
  for (let made = 0, v = 0; made < n; v++) {
    const d = join(data, `visit${v}`);
    mkdirSync(d, { recursive: true });
    for (let det = 0; det < 1000 && made < n; det++, made++) {
      const f = join(d, `det${det}.bin`);
      writeFileSync(f, `visit ${v} detector ${det} ` + "x".repeat(det % 50));
      utimesSync(f, old, old);
    }
  }
  console.log(`created ${n} files in ${formatMs(performance.now() - started)} (${dir})`);
  writeFileSync(
    join(dir, "p.yaml"),
    [
      "dimensions: { visit: int, detector: int }",
      `inputs: { raw: { path: "data/visit{visit}/det{detector}.bin", storage: bytes, transfer: ${transfer} } }`,
      "tasks: {}",
    ].join("\n") + "\n",
  );

  const sh = (script) => timeProcess("/bin/sh", ["-c", script], { cwd: dir });
  const quanta = async (repo) => {
    let line = "";
    const r = await timeProcess(process.execPath, [QUANTA_BIN, "ingest", "p.yaml", "--repo", repo], { cwd: dir, onLine: (l) => (line = l.includes("ingested") ? l : line) });
    if (r.code !== 0) throw new Error(`quanta ingest exited ${r.code}: ${line}`);
    return { ...r, filesRead: Number(/(\d+) files read/.exec(line)?.[1] ?? NaN) };
  };

  const first = { quanta: [], anchor: [], rss: [] };
  const again = { quanta: [], anchor: [], rss: [], filesRead: 0 };
  for (let rep = 0; rep < reps; rep++) {
    const repo = join(dir, `repo-${rep}`);
    first.anchor.push((await sh("find data -type f | xargs cat > /dev/null")).wallMs);
    const q1 = await quanta(repo);
    first.quanta.push(q1.wallMs);
    first.rss.push(q1.peakRssKb ?? NaN);
    again.anchor.push((await sh("find data -type f -printf '%s %T@\\n' > /dev/null")).wallMs);
    const q2 = await quanta(repo);
    again.quanta.push(q2.wallMs);
    again.rss.push(q2.peakRssKb ?? NaN);
    again.filesRead = Math.max(again.filesRead, q2.filesRead);
    rmSync(repo, { recursive: true, force: true });
  }
  const row = (figure, m, anchor, target) => [figure, formatMs(median(m.quanta)), `${Math.round(median(m.rss) / 1024)} MB`, `${anchor}: ${formatMs(median(m.anchor))}`, formatRatio(median(m.quanta), median(m.anchor)), target];
  console.log(`\ningest of ${n} small files, transfer: ${transfer}, median of ${reps} run${reps === 1 ? "" : "s"}, every command in its own session, page cache warm\n`);
  console.log(
    markdownTable(
      ["figure", "quanta", "quanta peak RSS", "anchor, same run", "ratio", "target"],
      [
        row("first ingest", first, "find … xargs cat", "≤ 2×"),
        row(`re-ingest, nothing changed (${again.filesRead} files read)`, again, "find -printf '%s %T@'", "≤ 3×"),
      ],
    ),
  );
} finally {
  if (args["keep-dir"]) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
