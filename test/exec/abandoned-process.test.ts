/**
 * A command whose promise is still pending when Node's event loop runs dry (it waits for work that can
 * no longer end) exits 70 with an internal error, not 0 as Node would have it.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../helpers/cli.js";

function runGuarded(command: string, exitCode?: number): { status: number | null; stderr: string } {
  const script = `
    import { failIfAbandoned } from ${JSON.stringify(join(PROJECT_ROOT, "dist/exec/abandoned-process.js"))};
    failIfAbandoned(${command}${exitCode === undefined ? "" : `, ${exitCode}`});
  `;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 20_000 });
  return { status: r.status, stderr: r.stderr };
}

describe("a command abandoned by the event loop", () => {
  it("exits 70 with an internal error while its promise is still pending", () => {
    const r = runGuarded("new Promise(() => undefined)");
    expect(r.status).toBe(70);
    expect(r.stderr).toMatch(/^error: internal error: quanta stopped waiting for work that can no longer end, before the command finished\nhint: this is a bug in quanta, please report it; run the command again/);
    // A Slurm job's: 1, which Slurm reports as FAILED.
    expect(runGuarded("new Promise(() => undefined)", 1).status).toBe(1);
  });

  it("leaves the exit code of a command that settled, even one that settled late", () => {
    expect(runGuarded("new Promise((resolve) => setTimeout(() => { process.exitCode = 3; resolve(); }, 50))")).toEqual({ status: 3, stderr: "" });
    expect(runGuarded("Promise.reject(new Error('x')).catch(() => { process.exitCode = 2; })")).toEqual({ status: 2, stderr: "" });
  });
});
