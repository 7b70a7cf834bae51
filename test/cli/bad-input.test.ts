/**
 * Item 14 of issue 14: bad input is exit 2 (or 3 for repository problems) with a clear message, never
 * exit 70 or a stack trace. Every case runs the real CLI.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir, runCli, type CliResult } from "../helpers/cli.js";

const temp = makeTempDir("quanta-bad-input-");
afterAll(() => temp.cleanup());
let counter = 0;

const TASK = (extra = "") =>
  `  up: { ${extra}command: "tr a-z A-Z < {inputs.src} > {outputs.out}", dimensions: [name], inputs: { src: { type: raw, dimensions: [name], storage: text } }, outputs: { out: { type: upper, dimensions: [name], storage: file } } }`;

function makeProject(task = TASK(), path = "data/{name}.txt"): string {
  const dir = join(temp.dir, `p-${counter++}`);
  mkdirSync(join(dir, "data"), { recursive: true });
  writeFileSync(join(dir, "data", "a.txt"), "alpha\n");
  writeFileSync(join(dir, "p.yaml"), ["dimensions: { group: string, name: string }", `inputs: { raw: { path: ${JSON.stringify(path)}, storage: text } }`, "tasks:", task].join("\n") + "\n");
  return dir;
}

/** Exit `code`, an `error:` line matching `message`, and no stack trace. */
function expectError(r: CliResult, code: number, message: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr).toMatch(/^error: /m);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/^\s+at .*:\d+:\d+\)?$/m);
}

describe("14.14 bad input is exit 2 or 3 with a message", () => {
  it("14.14 a YAML alias bomb and a recursive alias are pipeline errors", async () => {
    const dir = makeProject();
    const layers = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (const n of "bcdefgh") layers.push(`${n}: &${n} [${Array(9).fill(`*${String.fromCharCode(n.charCodeAt(0) - 1)}`).join(", ")}]`);
    writeFileSync(join(dir, "bomb.yaml"), layers.join("\n") + "\ndimensions: { name: string }\n");
    expectError(await runCli(["graph", "bomb.yaml"], { cwd: dir }), 2, /bomb\.yaml:2:\d+: invalid YAML: its aliases expand to too many values/);
    writeFileSync(join(dir, "loop.yaml"), "dimensions: { name: string }\nparameters: &p { x: *p }\n");
    expectError(await runCli(["graph", "loop.yaml"], { cwd: dir }), 2, /loop\.yaml:2:21: invalid YAML: alias \*p is inside the value it names/);
  });

  it("14.14 a truncated, corrupted or old plan file is refused with a hint to make it again", async () => {
    const dir = makeProject();
    expect((await runCli(["graph", "p.yaml", "-o", "plan.qg"], { cwd: dir })).code).toBe(0);
    const bytes = readFileSync(join(dir, "plan.qg"));
    writeFileSync(join(dir, "short.qg"), bytes.subarray(0, bytes.length - 10));
    expectError(await runCli(["exec", "short.qg"], { cwd: dir }), 2, /plan file short\.qg is truncated: \d+ of \d+ bytes\nhint: make it again/);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 20]! ^= 0xff;
    writeFileSync(join(dir, "flipped.qg"), flipped);
    expectError(await runCli(["exec", "flipped.qg"], { cwd: dir }), 2, /plan file flipped\.qg is corrupt: its contents do not match its checksum/);
    const old = Buffer.from(bytes.subarray(0, 40));
    old.writeUInt32LE(1, 8);
    writeFileSync(join(dir, "old.qg"), old);
    expectError(await runCli(["exec", "old.qg"], { cwd: dir }), 2, /plan format 1 found, 2 expected: rebuild it with quanta graph/);
  });

  it("14.14 --repo naming a file, and -o naming a directory or an impossible path", async () => {
    const dir = makeProject();
    writeFileSync(join(dir, "afile"), "");
    expectError(await runCli(["run", "p.yaml", "--repo", "afile"], { cwd: dir }), 2, /the repository afile is not a directory/);
    expectError(await runCli(["datasets", "--repo", "afile"], { cwd: dir }), 2, /the repository afile is not a directory/);
    expect((await runCli(["run", "p.yaml"], { cwd: dir })).code).toBe(0);
    mkdirSync(join(dir, "out"));
    for (const command of [["graph", "p.yaml"], ["get", "upper@name=a"]]) {
      expectError(await runCli([...command, "-o", "out"], { cwd: dir }), 2, /cannot write out: it is a directory/);
      expectError(await runCli([...command, "-o", "no/such/dir/x"], { cwd: dir }), 2, /cannot write no\/such\/dir\/x: directory no\/such\/dir does not exist/);
      expectError(await runCli([...command, "-o", "afile/x"], { cwd: dir }), 2, /cannot write afile\/x: a part of afile is not a directory/);
    }
    expect(readdirSync(dir).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });

  it("14.14 a blob replaced by a directory is a repository error (exit 3) for verify and get", async () => {
    const dir = makeProject();
    expect((await runCli(["run", "p.yaml"], { cwd: dir })).code).toBe(0);
    const listed = await runCli(["datasets", "--type", "upper", "--json"], { cwd: dir });
    const digest = (JSON.parse(listed.stdout.trim().split("\n")[0]!) as { digest: string }).digest;
    const blob = join(dir, "cache", "blobs", digest.slice(0, 2), digest.slice(2));
    rmSync(blob);
    mkdirSync(blob);
    expectError(await runCli(["verify"], { cwd: dir }), 3, /has 1 missing or corrupt blob/);
    expectError(await runCli(["get", "upper@name=a"], { cwd: dir }), 3, /the bytes of p\/upper@name=a .* are missing/);
  });

  it("14.14 a symbolic link loop under an input directory is reported, not followed", async () => {
    const dir = makeProject(TASK(), "data/{group}/{name}.txt");
    mkdirSync(join(dir, "data", "g1"));
    writeFileSync(join(dir, "data", "g1", "b.txt"), "beta\n");
    symlinkSync("..", join(dir, "data", "g1", "back"));
    symlinkSync("self", join(dir, "data", "g1", "self"));
    symlinkSync(".", join(dir, "data", "here"));
    const run = await runCli(["run", "p.yaml"], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`warning: ${join(dir, "data", "here")}: symbolic link loop (a directory inside itself); not followed`);
    expect(run.stderr).toContain(`warning: ${join(dir, "data", "g1", "self")}: cannot follow symbolic link: ELOOP`);
    expect(run.stderr).not.toMatch(/^error/m);
    const got = await runCli(["get", "upper@name=b"], { cwd: dir });
    expect(got.stdout).toBe("BETA\n");
  });

  it.each([
    ["0", /timeout 0 is shorter than 1 ms/],
    ['"0s"', /timeout "0s" is shorter than 1 ms/],
    ['"600h"', /timeout "600h" is longer than a timer can hold \(596 hours\)/],
  ])("14 a timeout of %s is a pipeline error", async (timeout, message) => {
    const dir = makeProject(TASK(`timeout: ${timeout}, `));
    const r = await runCli(["graph", "p.yaml"], { cwd: dir });
    expectError(r, 2, timeout === "0" ? /too small|shorter than 1 ms/ : message);
    expect(r.stderr).toMatch(/p\.yaml:4:\d+: /);
  });

  it("14.14 -j abc and --retries x quote the value given", async () => {
    const dir = makeProject();
    expectError(await runCli(["run", "p.yaml", "-j", "abc"], { cwd: dir }), 2, /-j expects a whole number of at least 1, got "abc"/);
    expectError(await runCli(["run", "p.yaml", "-j", "2.5"], { cwd: dir }), 2, /got "2\.5"/);
    expectError(await runCli(["run", "p.yaml", "--retries", "x"], { cwd: dir }), 2, /--retries expects a whole number, got "x"/);
  });

  it("14.14 malformed --param, --bind, --config, --where and --output make watch exit 2 before it starts, and --bind is checked without --where", async () => {
    const dir = makeProject();
    const cases: [string[], RegExp][] = [
      [["--output", "raw"], /output collection "raw" \(--output\) is an input collection/],
      [["--output", ""], /--output names an empty collection/],
      [["--config", "up.factor"], /--config up\.factor: expected label\.key=value, found no '='/],
      [["--param", "=1"], /--param expects name=value, got "=1"/],
      [["--bind", "v"], /--bind: expected name=value, got 'v'/],
      // The syntax of --where, and its placeholders: no edit of the pipeline could fix them.
      [["--where", "n = 1 AND"], /--where: expected a comparison after 'AND' at column 10/],
      [["--where", "n = :v"], /--where: placeholder ':v' is not bound at column 5\n[^]*hint: pass --bind v=VALUE/],
    ];
    for (const [flags, message] of cases) {
      // A watch that started would wait for changes: the test's timeout would end it.
      expectError(await runCli(["watch", "p.yaml", "--plain", ...flags], { cwd: dir }), 2, message);
    }
    expectError(await runCli(["status", "p.yaml", "--bind", "v"], { cwd: dir }), 2, /--bind: expected name=value, got 'v'/);
  });

  it("14.14 a flag of one value given twice is refused, naming both values; a count's last one wins", async () => {
    const dir = makeProject();
    expectError(await runCli(["run", "p.yaml", "--where", "name = 'a'", "--where", "group = 'g'"], { cwd: dir }), 2, /--where is given 2 times \("name = 'a'", "group = 'g'"\), and takes one value\nhint: give it once, joining the conditions with AND/);
    expectError(await runCli(["datasets", "--repo", "r1", "--repo", "r2"], { cwd: dir }), 2, /--repo is given 2 times \("r1", "r2"\)/);
    expectError(await runCli(["run", "p.yaml", "--output", "a", "--output", "b"], { cwd: dir }), 2, /--output is given 2 times/);
    // As make's -j: the last one given wins.
    const r = await runCli(["run", "p.yaml", "-j", "1", "-j", "2"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    // A --where of Unicode spaces alone is no filter, as it was before its syntax was checked up front.
    const blank = await runCli(["graph", "p.yaml", "--where", "\u00a0\f"], { cwd: dir });
    expect(blank.code, blank.stderr).toBe(0);
  });

  it("14.14 an empty lock file is stale and taken over, with a note", async () => {
    const dir = makeProject();
    expect((await runCli(["ingest", "p.yaml"], { cwd: dir })).code).toBe(0);
    writeFileSync(join(dir, "cache", "lock"), "");
    const run = await runCli(["run", "p.yaml"], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain("note: took over the lock of cache, an empty file left by a crash");
  });

  it("14.14 a lock whose pid now belongs to an unrelated process is stale and taken over", async () => {
    const dir = makeProject();
    expect((await runCli(["ingest", "p.yaml"], { cwd: dir })).code).toBe(0);
    const other = spawn("sleep", ["60"], { stdio: "ignore" });
    try {
      const lock = { format: 1, pid: other.pid, host: hostname(), startedAt: 0, command: "quanta run", token: "t", processStart: "1" };
      writeFileSync(join(dir, "cache", "lock"), JSON.stringify(lock) + "\n");
      const run = await runCli(["run", "p.yaml"], { cwd: dir });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toContain(`left by pid ${other.pid} (quanta run, started 1970-01-01 00:00:00Z), which no longer runs (pid ${other.pid} is now another process)`);
    } finally {
      other.kill();
    }
  });
});
