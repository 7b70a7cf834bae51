/**
 * The shell spawners that command-quantum tests run against: the helper as built, the helper built
 * with fork() instead of posix_spawn (the code path of systems without posix_spawn's extensions), and
 * Node's spawn. Without a C compiler there is no helper, and those entries are undefined.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { HelperShellSpawner } from "../../src/exec/helper-shell-spawner.js";
import { NodeShellSpawner } from "../../src/exec/node-shell-spawner.js";
import { HELPER_PATH } from "../../src/exec/command-host.js";
import type { ShellSpawner } from "../../src/exec/shell-spawner.js";
import { PROJECT_ROOT } from "../helpers/cli.js";

import { CC, CC_FLAGS, hasCompiler } from "../helpers/c-compiler.js";

export { hasCompiler };

/** Compiles the helper with fork() into a temporary directory (the caller removes it); undefined without a compiler. */
export function buildForkingHelper(): string | undefined {
  if (!hasCompiler) return undefined;
  const path = join(mkdtempSync(join(tmpdir(), "quanta-spawn-fork-")), "quanta-spawn");
  const r = spawnSync(CC, [...CC_FLAGS, "-O2", "-DQUANTA_SPAWN_FORK", "-o", path, join(PROJECT_ROOT, "native", "quanta-spawn.c")], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`cannot build the helper with fork(): ${r.stderr}`);
  return path;
}

export interface TestSpawners {
  list: [string, ShellSpawner | undefined][];
  close(): void;
}

export async function startTestSpawners(): Promise<TestSpawners> {
  const built = await HelperShellSpawner.start(HELPER_PATH);
  const forkPath = buildForkingHelper();
  const forking = forkPath === undefined ? undefined : await HelperShellSpawner.start(forkPath);
  return {
    list: [
      ["the quanta-spawn helper", built],
      ["the quanta-spawn helper built with fork()", forking],
      ["Node's spawn", new NodeShellSpawner()],
    ],
    close() {
      built?.close();
      forking?.close();
      if (forkPath !== undefined) rmSync(dirname(forkPath), { recursive: true, force: true });
    },
  };
}
