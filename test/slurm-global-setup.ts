/**
 * Stops the one-host Slurm after the test run when one of its tests started it (test/helpers/slurm.ts);
 * a Slurm that was running before the tests is left running.
 */
import { existsSync, rmSync } from "node:fs";
import { STARTED_MARKER, stopSlurm } from "./helpers/slurm.js";

export default function setup(): () => void {
  return () => {
    if (!existsSync(STARTED_MARKER)) return;
    rmSync(STARTED_MARKER, { force: true });
    stopSlurm();
  };
}
