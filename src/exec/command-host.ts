/**
 * What an executor keeps for the command quanta it starts, for as long as it lives: its pool of
 * sandboxes (under the repository's `tmp/`) and its shell spawner (the quanta-spawn helper when it was
 * built and answers, Node's `spawn` otherwise, or when the environment says `QUANTA_SPAWNER=node`).
 * Nothing of it is shared with another executor of the same process: a run session that closes its
 * executor leaves no sandbox and no helper process behind.
 */
import { join } from "node:path";
import { hostname } from "node:os";
import { threadId } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { HelperShellSpawner } from "./helper-shell-spawner.js";
import { holdingSlot, type Launch } from "./launch-slots.js";
import { NodeShellSpawner } from "./node-shell-spawner.js";
import { SandboxPool } from "./sandbox-pool.js";
import type { ShellRun, ShellRunOptions, ShellSpawner } from "./shell-spawner.js";

/** Where `npm run build` puts the helper: the same path seen from src/exec (tests) and dist/exec. */
export const HELPER_PATH = fileURLToPath(new URL("../../dist/exec/quanta-spawn", import.meta.url));

/** The spawner a command is handed to: the current one (it may be replaced when the helper dies). */
export interface SpawnerSource {
  current(): ShellSpawner | Promise<ShellSpawner>;
}

const HOST = hostname();

/** Makes each host's sandbox directory name unique within the process (with its pid and thread). */
let hostsMade = 0;

export class CommandHost implements SpawnerSource {
  readonly sandboxes: SandboxPool;
  private spawner: ShellSpawner | undefined;
  private choosing: Promise<ShellSpawner> | undefined;

  constructor(
    tmpDir: string,
    private readonly wanted = process.env.QUANTA_SPAWNER,
    private readonly helperPath = HELPER_PATH,
  ) {
    // With the host: Slurm jobs on several hosts share the repository's tmp/.
    this.sandboxes = new SandboxPool(join(tmpDir, `sandboxes-${HOST}-${process.pid}-${threadId}-${hostsMade++}`));
  }

  /**
   * The spawner of this host's commands, started on first use: one helper serves every slot. A helper
   * that dies is replaced by Node's spawn for the rest of the host's life (the runs it had in hand,
   * queued there included, fail, as they would if their commands had crashed; runs still waiting for a
   * launch slot are run by the replacement: see `runShell`).
   */
  current(): ShellSpawner | Promise<ShellSpawner> {
    if (this.spawner instanceof HelperShellSpawner && this.spawner.hasExited) this.spawner = new NodeShellSpawner();
    if (this.spawner !== undefined) return this.spawner;
    this.choosing ??= chooseShellSpawner({ helperPath: this.helperPath, wanted: this.wanted }).then((s) => (this.spawner = s));
    return this.choosing;
  }

  /** Removes the sandboxes (now, or when the ones in use are released) and ends the helper: settles once it has exited. */
  async close(): Promise<void> {
    this.sandboxes.close();
    const spawner = this.spawner ?? (await this.choosing);
    if (spawner instanceof HelperShellSpawner) await spawner.close();
  }
}

/** The helper at `helperPath` if it starts and speaks our protocol (unless `wanted` is "node"), else Node. */
export async function chooseShellSpawner(opts: { helperPath: string; wanted?: string }): Promise<ShellSpawner> {
  if (opts.wanted === "node") return new NodeShellSpawner();
  return (await HelperShellSpawner.start(opts.helperPath)) ?? new NodeShellSpawner();
}

/**
 * Runs a command's shell holding one of `launch`'s `-j` slots (without one, at once): it waits in line
 * with the other quanta, `launch.started` is called when it starts (its timeout counts from then), and
 * the slot comes back when it has ended. The one way exec/ runs a command in a slot: with the
 * quanta-spawn helper, the slot may pass straight from a command that ends to the next one, in the
 * helper (helper-shell-spawner.ts); a command that waited while the helper died starts on the spawner
 * that replaced it. A run cancelled while it waits never starts (its end is `aborted`).
 */
export function runShell(spawners: SpawnerSource, command: string, opts: ShellRunOptions & { launch?: Launch }): Promise<ShellRun> {
  const spawner = spawners.current();
  // Synchronous once the spawner is chosen: a command takes a free slot, or its place in line, at once.
  if (spawner instanceof Promise) return spawner.then(() => runShell(spawners, command, opts));
  const { launch, ...runOptions } = opts;
  if (launch === undefined) return spawner.run(command, runOptions);
  const inLine = () => {
    const start = async () => (await spawners.current()).run(command, runOptions);
    return holdingSlot(launch, start, { signal: opts.signal, cancelled: (): ShellRun => ({ end: { kind: "aborted" }, log: "" }) });
  };
  if (!(spawner instanceof HelperShellSpawner)) return inLine();
  return spawner.runHoldingSlot(command, runOptions, launch).then(({ unstarted, ...run }) => (unstarted ? inLine() : run));
}
