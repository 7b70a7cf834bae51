/**
 * Making what was written to the file system durable: a directory's entries (fsync of the directory),
 * or everything on the file system holding a path at once (syncfs(2), which Node has no binding for:
 * coreutils' `sync -f`, run to its end or in the background). A sync that cannot run is warned about
 * once per process; the run goes on, its recent blobs at the mercy of a power loss.
 */
import { spawn, spawnSync } from "node:child_process";
import { closeSync, fsyncSync, openSync } from "node:fs";

/** syncfs(2) of the file system holding `dir`, waiting for it. */
export function syncFileSystem(dir: string): void {
  const r = spawnSync("sync", ["-f", dir], { stdio: "ignore" });
  if (r.status !== 0) warnNoSync(dir);
}

/** `syncFileSystem`, without blocking the event loop. */
export function syncFileSystemAsync(dir: string): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn("sync", ["-f", dir], { stdio: "ignore" });
    child.on("error", () => resolve(warnNoSync(dir)));
    child.on("close", (code) => resolve(code === 0 ? undefined : warnNoSync(dir)));
  });
}

export function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

let warnedNoSync = false;

function warnNoSync(dir: string): void {
  if (warnedNoSync) return;
  warnedNoSync = true;
  process.stderr.write(`warning: 'sync -f ${dir}' failed; recent blobs may not survive a power loss\n`);
}
