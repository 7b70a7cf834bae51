/**
 * 17.7: the live view on a real terminal (tmux), as a person sees it, at 160 and at 80 columns. The
 * pipeline has a task with a long label and a task named `total`; its first task's four quanta each
 * sleep 1 s and run side by side (-j 4), so their durations add up to at least 4 s while the task takes
 * about 1 s of wall time.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { screenOf, showsOn, tmux } from "../helpers/tmux-terminal.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeTempDir, QUANTA_BIN } from "../helpers/cli.js";

const LONG_LABEL = "calibrateEveryDetectorOfTheFocalPlane";
const COLLECTION = "reprocessing-2026-12-06-with-the-new-flats-and-biases";
const PIPELINE = `
description: Sleep and copy four files side by side, then join them in a task named total.
dimensions: { item: int }
inputs:
  text: { path: "data/item{item}.txt", storage: file }
tasks:
  ${LONG_LABEL}:
    command: "sleep 1; cp {inputs.src} {outputs.out}"
    dimensions: [item]
    inputs:  { src: { type: text, dimensions: [item], storage: file } }
    outputs: { out: { type: copied, dimensions: [item], storage: file } }
  total:
    command: "cat {inputs.parts} > {outputs.all}"
    dimensions: []
    inputs:  { parts: { type: copied, dimensions: [item], storage: file, multiple: true } }
    outputs: { all: { type: joined, dimensions: [], storage: file } }
`;

let dir: string;
let cleanup: () => void;
let session: string;
beforeEach(() => {
  ({ dir, cleanup } = makeTempDir("quanta-width-"));
  mkdirSync(join(dir, "data"));
  for (let i = 1; i <= 4; i++) writeFileSync(join(dir, "data", `item${i}.txt`), `${i}\n`);
  writeFileSync(join(dir, "wide.yaml"), PIPELINE);
  session = `quanta-width-${process.pid}-${Date.now()}`;
});
afterEach(() => {
  try {
    execFileSync("tmux", ["kill-session", "-t", session], { stdio: "ignore" });
  } catch {
    // already gone
  }
  cleanup();
});

const screen = () => screenOf(session);
const shows = (text: string | RegExp) => showsOn(session, text);

/** Runs the pipeline in a terminal of `columns`×40; after it ends, the shell prints its exit code. */
function startRun(columns: number): void {
  const env = "env -u CI -u NO_COLOR TERM=xterm-256color";
  const command = `cd ${dir} && ${env} ${process.execPath} ${QUANTA_BIN} run wide.yaml --repo repo -j 4 --output ${COLLECTION}; echo "exited with $?"; sleep 60`;
  tmux("new-session", "-d", "-s", session, "-x", String(columns), "-y", "40", command);
}

/** The summary's row of `label`: its time column, in seconds. */
function readTime(lines: string[], label: string): number {
  const row = lines.find((l) => l.startsWith(`${label} `));
  expect(row, lines.join("\n")).toBeDefined();
  return Number(/(\d+\.\d)s$/.exec(row!)![1]);
}

describe("17.7 the live view uses the terminal it has", () => {
  it("17.7 at 160 columns: whole labels, bars that fill the width, a totals row apart from a task named total, wall times", async () => {
    startRun(160);
    // The rows as drawn while the run goes (the first frame, drawn when the run starts, has them).
    const live = (await shows(/^total +[█░]+.*\n^all tasks +[█░]+/m)).split("\n");
    const rows = live.filter((l) => /[█░]{10,}/.test(l));
    expect(rows, live.join("\n")).toHaveLength(3);
    // The long label is whole, and each row takes the terminal's width (the bar grew past 30 cells).
    expect(rows[0]).toMatch(new RegExp(`^${LONG_LABEL} [█░]+ +\\d/4 `));
    for (const row of rows) expect(row.length, row).toBe(160);
    expect(rows[1]).toMatch(/^total +[█░]+ +\d\/1 /);
    expect(rows[2]).toMatch(/^all tasks +[█░]+ +\d\/5 /);

    const end = (await shows("exited with")).split("\n").map((l) => l.trimEnd());
    expect(end, end.join("\n")).toContain("exited with 0");
    // The task named total and the totals row are two rows with their own counts.
    expect(end).toContainEqual(expect.stringMatching(/^total +1 +0 +0 +0 +\S+$/));
    expect(end).toContainEqual(expect.stringMatching(/^all tasks +5 +0 +0 +0 +\S+$/));
    // Four quanta of 1 s side by side: the task's time is its wall time (about 1 s), not their sum (4 s).
    const wall = readTime(end, LONG_LABEL);
    expect(wall).toBeGreaterThanOrEqual(1);
    expect(wall).toBeLessThan(4);
    expect(readTime(end, "all tasks")).toBeLessThan(4 + readTime(end, "total"));
  }, 120_000);

  it("17.7 at 80 columns: the closing line wraps, whole, and nothing is cut", async () => {
    startRun(80);
    const end = (await shows("exited with")).split("\n").map((l) => l.trimEnd());
    expect(end, end.join("\n")).toContain("exited with 0");
    const closing = end.findIndex((l) => l.startsWith("run finished in "));
    expect(closing, end.join("\n")).toBeGreaterThanOrEqual(0);
    const sentence = end.slice(closing, end.indexOf("exited with 0")).filter((l) => l !== "").join(" ");
    expect(sentence).toMatch(new RegExp(`^run finished in \\S+: 5 ran, 0 up to date, 0 failed, 0 blocked \\(collection ${COLLECTION}\\)$`));
    for (const line of end) {
      expect(line.length, line).toBeLessThanOrEqual(80);
      expect(line, line).not.toContain("…");
    }
  }, 120_000);
});
