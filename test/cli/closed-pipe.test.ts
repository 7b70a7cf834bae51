/**
 * `quanta run --json | head`: a reader that closes the pipe ends the run quietly with exit 0, as any
 * Unix tool does, even while a registry commit is in flight (the exit then waits for it:
 * store/writes-in-flight.ts). The real CLI, its stdout a pipe this test closes after the first line.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir, QUANTA_BIN } from "../helpers/cli.js";

const temp = makeTempDir("quanta-closed-pipe-");
afterAll(() => temp.cleanup());

describe("a closed stdout", () => {
  it("ends a run with exit 0 and no stack trace, its lock released", async () => {
    const dir = temp.dir;
    mkdirSync(join(dir, "data"));
    // Enough quanta that the run commits batches while it prints events.
    for (let n = 0; n < 3000; n++) writeFileSync(join(dir, "data", `${n}.txt`), `${n}\n`);
    writeFileSync(
      join(dir, "p.yaml"),
      [
        "dimensions: { n: int }",
        'inputs: { raw: { path: "data/{n}.txt", storage: file } }',
        "tasks:",
        '  copy: { command: "cp {inputs.src} {outputs.out}", dimensions: [n], inputs: { src: { type: raw, dimensions: [n], storage: file } }, outputs: { out: { type: copied, dimensions: [n], storage: file } } }',
      ].join("\n") + "\n",
    );
    const child = spawn(process.execPath, [QUANTA_BIN, "run", "p.yaml", "--repo", "repo", "--json", "-j", "2"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    // A reader that reads nothing and goes away a second later (as `| (sleep 1)`): the run's writes
    // fill the pipe and wait, and fail once it closes, while the run goes on committing.
    child.stdout.pause();
    setTimeout(() => child.stdout.destroy(), 1000);
    const code = await new Promise<number | null>((resolve) => child.once("close", (c) => resolve(c)));
    expect({ code, stderr }).toEqual({ code: 0, stderr: expect.not.stringMatching(/EPIPE|\n\s+at /) });
    expect(existsSync(join(dir, "repo", "lock"))).toBe(false);
  });
});
