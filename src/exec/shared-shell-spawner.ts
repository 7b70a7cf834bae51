/**
 * Chooses how this process starts its command quanta: the quanta-spawn helper when it was built and
 * answers, Node's `spawn` otherwise, or when the environment says `QUANTA_SPAWNER=node`.
 */
import { fileURLToPath } from "node:url";
import { HelperShellSpawner } from "./helper-shell-spawner.js";
import { NodeShellSpawner } from "./node-shell-spawner.js";
import type { ShellSpawner } from "./shell-spawner.js";

/** Where `npm run build` puts the helper: the same path seen from src/exec (tests) and dist/exec. */
export const HELPER_PATH = fileURLToPath(new URL("../../dist/exec/quanta-spawn", import.meta.url));

let shared: ShellSpawner | undefined;
let choosing: Promise<ShellSpawner> | undefined;

/**
 * The spawner of this process's command quanta: one helper serves every slot, started on first use.
 * A helper that dies is replaced by Node's spawn for the rest of the process (the runs it had in hand,
 * queued there included, fail, as they would if their commands had crashed; runs still waiting for a
 * launch slot in this process are run by the replacement: see `ShellRun.unstarted`).
 */
export function sharedShellSpawner(): ShellSpawner | Promise<ShellSpawner> {
  if (shared instanceof HelperShellSpawner && shared.hasExited) shared = new NodeShellSpawner();
  if (shared !== undefined) return shared;
  choosing ??= chooseShellSpawner({ helperPath: HELPER_PATH, wanted: process.env.QUANTA_SPAWNER }).then((spawner) => (shared = spawner));
  return choosing;
}

/** The helper at `helperPath` if it starts and speaks our protocol (unless `wanted` is "node"), else Node. */
export async function chooseShellSpawner(opts: { helperPath: string; wanted?: string }): Promise<ShellSpawner> {
  if (opts.wanted === "node") return new NodeShellSpawner();
  return (await HelperShellSpawner.start(opts.helperPath)) ?? new NodeShellSpawner();
}
