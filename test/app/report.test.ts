/**
 * 17.11: `quanta report` through the real CLI, and its page in a real headless browser (Debian's
 * chromium; .ci/run installs it). The pipeline: `step` over four items, the one at item 2 failing
 * with a log, `next` after each step (the one after item 2 blocked), `gather` of all nexts (blocked).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir, runCli } from "../helpers/cli.js";

const PIPELINE = `
description: Step through four items, the second failing; then a step after each, and a gather.
dimensions: { item: int }
inputs:
  text: { path: "data/item{item}.txt", storage: file }
tasks:
  step:
    command: "echo reading item {dataId.item}; if [ {dataId.item} = 2 ]; then echo 'boom: <bad> & broken item' >&2; exit 3; fi; cp {inputs.src} {outputs.out}"
    dimensions: [item]
    inputs:  { src: { type: text, dimensions: [item], storage: file } }
    outputs: { out: { type: stepped, dimensions: [item], storage: file } }
  next:
    command: "cp {inputs.src} {outputs.out}"
    dimensions: [item]
    inputs:  { src: { type: stepped, dimensions: [item], storage: file } }
    outputs: { out: { type: nexted, dimensions: [item], storage: file } }
  gather:
    command: "cat {inputs.parts} > {outputs.all}"
    dimensions: []
    inputs:  { parts: { type: nexted, dimensions: [item], storage: file, multiple: true } }
    outputs: { all: { type: gathered, dimensions: [], storage: file } }
`;

let dir: string;
let cleanup: () => void;
beforeAll(() => {
  ({ dir, cleanup } = makeTempDir("quanta-report-"));
  mkdirSync(join(dir, "data"));
  for (let i = 1; i <= 4; i++) writeFileSync(join(dir, "data", `item${i}.txt`), `${i}\n`);
  writeFileSync(join(dir, "steps.yaml"), PIPELINE);
});
afterAll(() => cleanup());

/** Loads a page in headless chromium: the DOM after its scripts ran, and the console messages it logged. */
function openInChromium(file: string): { dom: string; console: string[] } {
  const result = spawnSync(
    "chromium",
    ["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--dump-dom", `file://${file}`],
    { encoding: "utf8", timeout: 90_000 },
  );
  if (result.error) throw new Error(`chromium could not be started (apt-get install chromium): ${result.error.message}`);
  expect(result.status, result.stderr).toBe(0);
  return { dom: result.stdout, console: result.stderr.split("\n").filter((l) => l.includes(":CONSOLE")) };
}

describe("17.11 quanta report", () => {
  it("17.11 writes one self-contained page: the run, the plan, a timeline, the failure with its log, what ran and why", async () => {
    const run = await runCli(["run", "steps.yaml", "--repo", "repo", "-j", "2"], { cwd: dir });
    expect(run.code, run.stderr + run.stdout).toBe(1);
    const report = await runCli(["report", "--repo", "repo", "-o", "report.html"], { cwd: dir });
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toMatch(/^report of run \d{8}-\d{6}-\d{3} \(steps → collection steps\) written to report\.html\n$/);
    const html = readFileSync(join(dir, "report.html"), "utf8");
    // Nothing is loaded from elsewhere: no src or href attributes, no CSS imports or remote URLs.
    expect(html).not.toMatch(/\s(src|href)\s*=|@import|url\((?!#)/i);
    expect(html).toContain("Content-Security-Policy");

    const page = openInChromium(join(dir, "report.html"));
    expect(page.console, page.console.join("\n")).toEqual([]);
    expect(page.dom).toContain('data-report-ready="yes"');
    // The run: its verdict and counts.
    expect(page.dom).toMatch(/<strong class="bad">failed<\/strong> \(exit code 1\)/);
    expect(page.dom).toContain("6 ran, 0 up to date, 1 failed, 2 blocked");
    // The plan as a picture: a node per task and per dataset type, an edge per connection.
    for (const node of ["task:step", "task:next", "task:gather", "type:text", "type:stepped", "type:nexted", "type:gathered"]) {
      expect(page.dom).toContain(`data-node="${node}"`);
    }
    expect(page.dom.match(/class="edge"/g)).toHaveLength(6);
    expect(page.dom).toMatch(/class="node task failed" data-node="task:step"/);
    // The timeline: a row per task that ran, a bar per quantum that ran or failed.
    expect(page.dom.match(/class="task-row"/g)).toHaveLength(2);
    expect(page.dom.match(/class="quantum (succeeded|failed)"/g)).toHaveLength(7);
    expect(page.dom.match(/class="quantum failed"/g)).toHaveLength(1);
    // The failure, with its whole log, escaped.
    expect(page.dom).toContain("✗ step@item=2");
    expect(page.dom).toContain("command exited with code 3");
    expect(page.dom).toContain("reading item 2");
    expect(page.dom).toContain("boom: &lt;bad&gt; &amp; broken item");
    // What ran and why.
    expect(page.dom).toContain("never run with these inputs, config and code");
  }, 180_000);

  it("17.11 a rerun is a new run with its own report; --run picks an older one; an unknown id is a usage error", async () => {
    const first = await runCli(["report", "--repo", "repo", "-o", "first.html"], { cwd: dir });
    const firstId = /run (\S+) /.exec(first.stdout)![1]!;
    writeFileSync(join(dir, "steps.yaml"), PIPELINE.replace("= 2 ]", "= 9 ]"));
    const rerun = await runCli(["run", "steps.yaml", "--repo", "repo", "-j", "2"], { cwd: dir });
    expect(rerun.code, rerun.stderr).toBe(0);
    const latest = await runCli(["report", "--repo", "repo", "-o", "latest.html"], { cwd: dir });
    expect(latest.code, latest.stderr).toBe(0);
    expect(latest.stdout).not.toContain(firstId);
    const html = readFileSync(join(dir, "latest.html"), "utf8");
    expect(html).toContain("<h2 id=\"failures\">Failures</h2><p class=\"note\">None.</p>");
    // step reran (its command changed), and says why.
    expect(html).toContain("task code changed");
    const older = await runCli(["report", "--repo", "repo", "--run", firstId, "-o", "older.html"], { cwd: dir });
    expect(older.code, older.stderr).toBe(0);
    expect(readFileSync(join(dir, "older.html"), "utf8")).toContain("✗ step@item=2");
    const unknown = await runCli(["report", "--repo", "repo", "--run", "20000101-000000-000", "-o", "x.html"], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no run with id "20000101-000000-000"');
    expect(unknown.stderr).toContain(firstId);
    const none = await runCli(["report", "--repo", "empty", "-o", "x.html"], { cwd: dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no run recorded in empty/);
  }, 180_000);

  it("17.11 the browser check sees console errors and blocked loads (the check above is not vacuous)", () => {
    const bad = join(dir, "bad.html");
    writeFileSync(bad, `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'"></head><body><img src="https://example.com/x.png"><script>missing();</script></body></html>`);
    const page = openInChromium(bad);
    expect(page.console.some((l) => l.includes("Content Security Policy"))).toBe(true);
    expect(page.console.some((l) => l.includes("Uncaught ReferenceError"))).toBe(true);
  }, 120_000);
});
