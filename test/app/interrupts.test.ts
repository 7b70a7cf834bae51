/**
 * The signal handling of src/app/interrupts.ts, in a real Node process that signals itself: a watched
 * run sees the first SIGINT as an abort, and the second one ends the process at once, through its exit
 * handlers (where the writer lock is released), with code 130.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../helpers/cli.js";

const MODULE = pathToFileURL(join(PROJECT_ROOT, "dist", "app", "interrupts.js")).href;

function runScript(body: string): { status: number | null; signal: string | null; stdout: string } {
  const script = `import { installInterruptHandlers, stopOnInterrupt } from ${JSON.stringify(MODULE)};\n${body}`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 20_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout };
}

describe("14.12 interrupt handlers", () => {
  it("a second signal during a stopping run exits at once with 130, running the exit handlers", () => {
    const r = runScript(`
      process.on("exit", (code) => console.log("exit handler, code " + code));
      const watch = stopOnInterrupt();
      watch.signal.addEventListener("abort", () => {
        console.log("stopping after " + watch.signal.reason);
        // The run takes its time to stop; a second Ctrl-C does not wait for it.
        process.kill(process.pid, "SIGINT");
      });
      setInterval(() => undefined, 1000);
      process.kill(process.pid, "SIGTERM");
    `);
    expect(r.signal).toBeNull();
    expect(r.status).toBe(130);
    expect(r.stdout).toBe("stopping after SIGTERM\nexit handler, code 130\n");
  });

  it("without a run watching, the first signal exits at once with 130, running the exit handlers", () => {
    const r = runScript(`
      installInterruptHandlers();
      process.on("exit", (code) => console.log("exit handler, code " + code));
      setInterval(() => undefined, 1000);
      process.kill(process.pid, "SIGINT");
    `);
    expect(r.status).toBe(130);
    expect(r.stdout).toBe("exit handler, code 130\n");
  });
});
