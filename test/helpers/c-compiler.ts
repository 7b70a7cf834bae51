/**
 * Tests that need a C compiler (the quanta-spawn helper, the C build pipeline): without one they are
 * skipped, and the skipped test's title says why, so a run on a bare machine reports the reason rather
 * than passing in silence. CI (.ci/run) installs gcc so that they run.
 */
import { spawnSync } from "node:child_process";
import { describe, it } from "vitest";

/** The C compiler the build uses (scripts/build-spawner.mjs): $CC, which may carry flags, else `cc`. */
export const [CC, ...CC_FLAGS] = (process.env.CC || "cc").trim().split(/\s+/) as [string, ...string[]];
export const hasCompiler = spawnSync("sh", ["-c", 'command -v "$1"', "sh", CC]).status === 0;

/** Why the tests that need a compiler are skipped; undefined when one exists. */
export const NO_COMPILER_REASON = hasCompiler ? undefined : `skipped: no C compiler (${CC} is not on PATH; set CC, or install gcc as .ci/run does)`;

/** `describe`, when a C compiler exists; else one skipped test titled with the reason. */
export function describeWithCompiler(title: string, body: () => void): void {
  if (hasCompiler) describe(title, body);
  else describe(title, () => it.skip(NO_COMPILER_REASON!, () => undefined));
}

/** `it`, when a C compiler exists; else a skipped test whose title ends with the reason. */
export function itWithCompiler(title: string, body: () => Promise<void> | void, timeout?: number): void {
  if (hasCompiler) it(title, body, timeout);
  else it.skip(`${title} (${NO_COMPILER_REASON})`, () => undefined);
}
