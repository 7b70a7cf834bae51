/**
 * Stops the one-host Slurm after the test run when one of its tests started it (test/helpers/slurm.ts);
 * a Slurm that was running before the tests is left running, and so is one that another test run
 * started and still lives (a single test file run while the whole suite runs must not stop the
 * suite's Slurm under it). A marker of a run that is gone (killed before its teardown) is this run's
 * to clean up.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { isDead } from "./exec/process-state.js";
import { STARTED_MARKER, stopSlurm } from "./helpers/slurm.js";

export default function setup(): () => void {
  return () => {
    if (!existsSync(STARTED_MARKER)) return;
    const starter = Number(readFileSync(STARTED_MARKER, "utf8").trim());
    if (starter !== process.pid && !isDead(starter)) return;
    rmSync(STARTED_MARKER, { force: true });
    stopSlurm();
  };
}
