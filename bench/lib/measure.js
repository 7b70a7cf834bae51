/**
 * Shared bits for the benchmark scripts: timing a child process (wall time measured here, peak RSS
 * through GNU time when it is installed), medians, formatting, and writing results files.
 *
 * Peak RSS: `/usr/bin/time -f %M` reports the child's ru_maxrss as returned by wait4, which on
 * Linux is the largest resident set of any process in the child's tree (the tool itself, or one
 * of the commands it ran, whichever was bigger). For make, ninja and snakemake that is the tool;
 * for quanta it is the CLI process (worker threads included).
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { tmpdir } from "node:os";

export const PROJECT_ROOT = resolve(import.meta.dirname, "..", "..");
/**
 * The CLI under test: this checkout's `bin/quanta.js`, or `$QUANTA_BENCH_BIN` (e.g. a copy of bin/,
 * dist/ and package.json taken with a finished build, so that a rebuild during a long benchmark
 * cannot change the code being measured).
 */
export const QUANTA_BIN = process.env.QUANTA_BENCH_BIN ? resolve(process.env.QUANTA_BENCH_BIN) : join(PROJECT_ROOT, "bin", "quanta.js");
export const RESULTS_DIR = join(PROJECT_ROOT, "bench", "results");

const GNU_TIME = "/usr/bin/time";
export const HAS_GNU_TIME = existsSync(GNU_TIME) && spawnSync(GNU_TIME, ["-f", "%M", "true"]).status === 0;

/** Whether `name` is an executable on PATH (`command -v`). */
export function findTool(name) {
  const r = spawnSync("/bin/sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** The first line a tool prints for `--version`, or "". */
export function toolVersion(cmd, args = ["--version"]) {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return `${r.stdout ?? ""}${r.stderr ?? ""}`.split("\n")[0].trim();
}

/**
 * Runs `cmd args` in `cwd` and waits. Every output line (stdout and stderr) goes to `onLine`; the
 * process is killed after `timeoutMs`. Resolves { code, wallMs, peakRssKb, cpuMs, timedOut } (cpuMs:
 * user + system time of the tree, from GNU time).
 */
export function timeProcess(cmd, args, { cwd, env, onLine = () => {}, timeoutMs = 0 } = {}) {
  const rssFile = join(tmpdir(), `quanta-bench-rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const [file, argv] = HAS_GNU_TIME ? [GNU_TIME, ["-f", "%M %U %S", "-o", rssFile, cmd, ...args]] : [cmd, args];
  return new Promise((resolvePromise, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(file, argv, {
      cwd,
      env: { ...process.env, CI: "true", NO_COLOR: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let timedOut = false;
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            try {
              process.kill(-child.pid, "SIGKILL");
            } catch {
              /* already gone */
            }
          }, timeoutMs)
        : undefined;
    for (const stream of [child.stdout, child.stderr]) {
      let rest = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk) => {
        const lines = (rest + chunk).split("\n");
        rest = lines.pop();
        for (const line of lines) onLine(line);
      });
      stream.on("end", () => {
        if (rest !== "") onLine(rest);
      });
    }
    child.on("error", reject);
    child.on("close", (code) => {
      const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
      if (timer) clearTimeout(timer);
      let peakRssKb;
      let cpuMs;
      if (HAS_GNU_TIME && existsSync(rssFile)) {
        const lines = readFileSync(rssFile, "utf8").trim().split("\n");
        const [kb, user, sys] = lines[lines.length - 1].split(" ").map(Number);
        if (Number.isFinite(kb)) peakRssKb = kb;
        if (Number.isFinite(user) && Number.isFinite(sys)) cpuMs = (user + sys) * 1000;
        rmSync(rssFile, { force: true });
      }
      resolvePromise({ code: code ?? -1, wallMs, peakRssKb, cpuMs, timedOut });
    });
  });
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function formatMs(ms) {
  if (ms === undefined) return "–";
  if (ms < 1000) return `${ms.toFixed(0)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export function formatRss(kb) {
  return kb === undefined ? "–" : `${(kb / 1024).toFixed(0)} MB`;
}

export function formatRatio(a, b) {
  if (a === undefined || b === undefined || b === 0) return "–";
  return `${(a / b).toFixed(2)}x`;
}

/** A timestamp usable in a file name: 2025-01-31_142501. */
export function fileStamp(date = new Date()) {
  const p = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}_${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}`;
}

/** Writes `<name>-<stamp>.md` and `.json` under bench/results/ and returns their paths. */
export function writeResults(name, markdown, data) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = fileStamp();
  const md = join(RESULTS_DIR, `${name}-${stamp}.md`);
  const json = join(RESULTS_DIR, `${name}-${stamp}.json`);
  writeFileSync(md, markdown);
  writeFileSync(json, `${JSON.stringify(data, null, 2)}\n`);
  return { md, json };
}

/** A markdown table from a header row and body rows (arrays of cell strings). */
export function markdownTable(header, rows) {
  const line = (cells) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** Parses `--flag`, `--key value` and `--key=value` into an object; repeated keys keep the last. */
export function parseArgs(argv) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) {
      out._.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    if (eq > 0) out[a.slice(2, eq)] = a.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith("--") && VALUE_FLAGS.has(a.slice(2))) out[a.slice(2)] = argv[++i];
    else out[a.slice(2)] = true;
  }
  return out;
}

const VALUE_FLAGS = new Set(["only", "n", "tools", "jobs", "reps", "timeout", "keep-dir", "skip", "peer-session", "transfer"]);
