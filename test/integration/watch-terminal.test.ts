/**
 * 16.5: `quanta watch` on a real terminal (tmux), as a person sees it: the live view says what it
 * watches, the last change and why the last pass ran what it ran; `q` quits with exit 0, and Ctrl-C during a pass stops the pass and quits.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { screenOf, showsOn, tmux } from "../helpers/tmux-terminal.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { QUANTA_BIN } from "../helpers/cli.js";
import { makeChainFixture } from "./chain-fixture.js";

let fx: ReturnType<typeof makeChainFixture>;
let session: string;
beforeEach(() => {
  fx = makeChainFixture(3);
  session = `quanta-watch-${process.pid}-${Date.now()}`;
});
afterEach(() => {
  try {
    execFileSync("tmux", ["kill-session", "-t", session], { stdio: "ignore" });
  } catch {
    // already gone
  }
  fx.cleanup();
});

const screen = () => screenOf(session);
const shows = (text: string | RegExp) => showsOn(session, text);

/** Starts the watch in a terminal of 120x40; after it ends, the shell prints its exit code. */
function startWatch(extra = ""): void {
  const env = "env -u CI -u NO_COLOR TERM=xterm-256color";
  const command = `cd ${fx.dir} && ${env} ${process.execPath} ${QUANTA_BIN} watch chain.yaml --repo repo --debounce 100 ${extra}; echo "exited with $?"; sleep 60`;
  tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", command);
}

describe("16.5 quanta watch on a terminal", () => {
  it("16.5 shows what it watches between passes, the last change and why its quanta ran; q quits with exit 0", async () => {
    startWatch();
    await shows(/watching \d+ paths for changes \(q or Ctrl-C to quit\)/);
    writeFileSync(join(fx.dir, "data", "raw-2.txt"), "7\n");
    await shows(/2 ran, \d+ up to date/);
    await shows(/watching \d+ paths for changes/);
    // The change (relative to where the watch started) and the reasons of what ran, as `quanta why` says them.
    await shows(/last change \d\d:\d\d:\d\d: data\/raw-2\.txt/);
    await shows(/why double@item=2: input raw \(raw@item=2\) changed/);
    tmux("send-keys", "-t", session, "q");
    await shows("exited with 0");
  }, 120_000);

  it("16.5 Ctrl-C during a pass stops it and quits with exit 0", async () => {
    // Item 2's double takes 20 s: the first pass is still running when Ctrl-C comes.
    const double = join(fx.dir, "tasks", "double.ts");
    const { readFileSync } = await import("node:fs");
    writeFileSync(double, readFileSync(double, "utf8").replace("const n = parseNumber(raw);", "const n = parseNumber(raw);\n    if (n === 2) { const until = Date.now() + 20_000; while (Date.now() < until); }"));
    startWatch("-j 2");
    await shows("double");
    const started = Date.now();
    tmux("send-keys", "-t", session, "C-c");
    await shows("exited with 0");
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(screen()).toMatch(/interrupted/);
  }, 120_000);
});
