/**
 * The batch script of an array job: runs `slurm-job.js` on the element file of its array index with the
 * Node.js that runs the head (the nodes see the same paths: the project and the repository are on a
 * shared file system).
 */
import { chmodSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** slurm-job.js as built: seen from dist/exec/slurm (and src/exec/slurm in tests) or from the CLI's bundle in dist/bundle. */
export function jobEntryPath(): string {
  const candidates = ["../../../dist/exec/slurm/slurm-job.js", "../../dist/exec/slurm/slurm-job.js"].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) throw new Error(`internal error: the Slurm job runner is not built (looked for ${candidates.join(", ")}): run npm run build`);
  return found;
}

/** Writes `<dir>/job.sh` and returns its path. */
export function writeBatchScript(dir: string, entry: string): string {
  const path = join(dir, "job.sh");
  const script = [
    "#!/bin/sh",
    "# A quanta Slurm job: runs the quanta of element $SLURM_ARRAY_TASK_ID of this batch (see its e<N>.json).",
    `exec ${quote(process.execPath)} ${quote(entry)} ${quote(dir)}/e\${SLURM_ARRAY_TASK_ID:-0}.json`,
    "",
  ].join("\n");
  writeFileSync(path, script);
  chmodSync(path, 0o755);
  return path;
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
