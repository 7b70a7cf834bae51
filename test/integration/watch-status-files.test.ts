/**
 * `quanta status` answered by an idle watch from its memory checks first that the outputs' blob files
 * are there: one removed by hand (no command can remove one while the watch holds the lock) makes the
 * watch leave the answer to a standalone status, which says what will run.
 */
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeTempDir, runCli } from "../helpers/cli.js";
import { parseEventLines } from "../helpers/event-schema.js";
import { Watch } from "../helpers/watch-process.js";

// Outputs of 20 KB: blob files, not kept in the registry.
const PIPELINE = `
dimensions: { item: int }
inputs:
  src: { path: "data/src-{item}.txt", storage: file }
tasks:
  grow:
    command: "awk '{ for (i = 0; i < 2000; i++) print }' {inputs.src} > {outputs.out}"
    dimensions: [item]
    inputs: { src: { type: src, dimensions: [item], storage: file } }
    outputs: { out: { type: grown, dimensions: [item], storage: file } }
`;

let dir: string;
let cleanup: () => void;
let watch: Watch | undefined;
beforeEach(() => {
  ({ dir, cleanup } = makeTempDir("quanta-watch-status-"));
  writeFileSync(join(dir, "chain.yaml"), PIPELINE);
  mkdirSync(join(dir, "data"));
  for (const i of [1, 2]) writeFileSync(join(dir, "data", `src-${i}.txt`), `item ${i}\n`);
});
afterEach(() => {
  if (watch && watch.child.exitCode === null) watch.child.kill("SIGKILL");
  watch = undefined;
  cleanup();
});

/** The regular files under `root` of `size` bytes. */
function filesOfSize(root: string, size: number): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(root, { recursive: true, encoding: "utf8" })) {
    const path = join(root, entry);
    const st = statSync(path);
    if (st.isFile() && st.size === size) out.push(path);
  }
  return out;
}

describe("status from an idle watch's memory", () => {
  it("is given only while the outputs' blob files are there", async () => {
    watch = new Watch(dir, ["-j", "1"]);
    await watch.nextPass();
    const status = ["status", "chain.yaml", "--repo", "repo", "--json"];
    const fromMemory = await runCli(status, { cwd: dir });
    expect(fromMemory.code, fromMemory.stderr).toBe(0);
    expect(parseEventLines(fromMemory.stdout).map((e) => e.event)).toEqual(["graph-built", "status"]);

    const blobs = filesOfSize(join(dir, "repo"), 2000 * "item 1\n".length);
    expect(blobs).toHaveLength(2);
    rmSync(blobs[0]!);
    const after = await runCli(status, { cwd: dir });
    expect(after.code, after.stderr).toBe(0);
    const events = parseEventLines(after.stdout);
    expect(events.map((e) => e.event)).not.toEqual(["graph-built", "status"]);
    expect(events.at(-1)).toMatchObject({ event: "status", counts: { willRun: 1, upToDate: 1 } });
    watch.child.kill("SIGTERM");
    expect(await watch.exit()).toBe(0);
  }, 60_000);
});
