/**
 * 16: the sky demo under `quanta watch`: the raw files of one more visit (and its rows in the overlaps
 * relation) rerun only that visit's quanta and the coadds, detections and summary that include it.
 */
import { spawn } from "node:child_process";
import { appendFileSync, cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { QuantaEvent } from "../../src/core/events.js";
import { makeTempDir, PROJECT_ROOT, QUANTA_BIN } from "../helpers/cli.js";
import { parseEventLine } from "../helpers/event-schema.js";
// @ts-expect-error: a JavaScript module without types
import { generateSkyData } from "../../pipelines/sky/generate.mjs";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe("16 the sky demo under watch", () => {
  it("16 a new visit reruns that visit's quanta and the coadds, detections and summary that include it, nothing else", async () => {
    const { dir, cleanup } = makeTempDir("quanta-watch-sky-");
    cleanups.push(cleanup);
    const sky = join(PROJECT_ROOT, "pipelines", "sky");
    for (const entry of readdirSync(sky).filter((e) => e !== "data" && e !== "out")) cpSync(join(sky, entry), join(dir, entry), { recursive: true });
    generateSkyData(join(dir, "data"));

    const child = spawn(process.execPath, [QUANTA_BIN, "watch", "sky.yaml", "--repo", "repo", "--json", "--debounce", "500"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    cleanups.push(() => child.exitCode === null && child.kill("SIGKILL"));
    const events: QuantaEvent[] = [];
    let buffered = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      const lines = (buffered + chunk.toString("utf8")).split("\n");
      buffered = lines.pop()!;
      for (const line of lines) if (line.trim() !== "") events.push(parseEventLine(line));
    });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const waits = () => events.filter((e) => e.event === "watch-waiting").length;
    const until = async (done: () => boolean) => {
      const deadline = Date.now() + 40_000;
      while (!done()) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`watch: ${stderr} ${JSON.stringify(events.slice(-8))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await until(() => waits() === 1);
    const firstPass = events.length;

    // Visit 7 in band r: visit 4's detectors, each with one pixel changed, over visit 4's patches.
    const from = join(dir, "data", "raw", "r", "visit4");
    mkdirSync(join(dir, "data", "raw", "r", "visit7"));
    for (const file of readdirSync(from)) {
      const bytes = readFileSync(join(from, file));
      bytes[bytes.length - 1] ^= 0x01;
      writeFileSync(join(dir, "data", "raw", "r", "visit7", file), bytes);
    }
    const overlaps = readFileSync(join(dir, "data", "overlaps.csv"), "utf8").trim().split("\n");
    appendFileSync(join(dir, "data", "overlaps.csv"), overlaps.filter((l) => l.startsWith("4,")).map((l) => `7${l.slice(1)}\n`).join(""));
    // One pass or two (the files and the relation may come in separate batches): until visit 7's warps and the summary are settled.
    await until(() => waits() >= 2 && events.slice(firstPass).some((e) => e.event === "run-finished" && e.counts.ran > 0) && !pendingAfter(events, firstPass));

    const ran = events
      .slice(firstPass)
      .filter((e): e is Extract<QuantaEvent, { event: "quantum-finished" }> => e.event === "quantum-finished")
      .map((e) => `${e.task}@${e.dataId}`);
    const visit7 = ran.filter((q) => q.includes("visit=7"));
    expect(visit7.filter((q) => q.startsWith("isr@"))).toHaveLength(4);
    expect(visit7.filter((q) => q.startsWith("calibrate@"))).toHaveLength(4);
    expect(visit7.filter((q) => q.startsWith("makeWarp@"))).toHaveLength(4);
    const rest = ran.filter((q) => !q.includes("visit=7"));
    expect(rest.filter((q) => q.startsWith("coadd@")).sort()).toEqual([0, 1, 2, 3].map((p) => `coadd@band=r,patch=${p},tract=0`));
    // Nothing of band g, and nothing per visit but visit 7's.
    for (const q of rest) expect(q, q).toMatch(/^(coadd|detect)@band=r,|^summary@$/);
    child.kill("SIGINT");
    await new Promise((r) => child.once("exit", r));
    expect(child.exitCode).toBe(0);
  }, 300_000);
});

/** Whether a pass after `from` is still to come: the last event is not a `watch-waiting`. */
function pendingAfter(events: QuantaEvent[], from: number): boolean {
  return events.length <= from || events.at(-1)!.event !== "watch-waiting";
}
