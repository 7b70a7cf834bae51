/**
 * A connection's `name:`, the path of its file in a command's sandbox: `{sample}.bam`,
 * `include/stats.h`, `quals.svg`, `ref/genome.fa`. It is relative to the sandbox (the command's working
 * directory), made of `/`-separated segments that are neither empty, `.` nor `..`; a `{dimension}` field
 * takes the value of that dimension in the dataset's data ID, with every character outside
 * `[A-Za-z0-9._,=+-]` replaced by `_` (so a value never makes a new directory or needs quoting).
 * Companion files stay together by naming them side by side: `genome.fa` and `genome.fa.bwt`.
 */
import type { DataId } from "./data-id.js";

const FIELD = /\{([^{}]*)\}/g;

/** The first problem with `name` for a connection of these dimensions, with a hint; undefined when fine. */
export function checkSandboxName(name: string, dimensions: readonly string[]): { problem: string; hint: string } | undefined {
  if (name.startsWith("/")) return { problem: `is absolute`, hint: `give a path relative to the sandbox, e.g. "${name.replace(/^\/+/, "")}"` };
  const segments = name.split("/");
  if (segments.some((s) => s === "" || s === "." || s === "..")) {
    return { problem: `has an empty, "." or ".." segment`, hint: 'give a path inside the sandbox, e.g. "include/stats.h"' };
  }
  for (const m of name.matchAll(FIELD)) {
    const dim = m[1]!;
    if (!dimensions.includes(dim)) {
      const known = dimensions.length > 0 ? `its fields are the connection's dimensions: ${dimensions.map((d) => `{${d}}`).join(", ")}` : "the connection has no dimensions: write a plain file name";
      return { problem: `uses {${dim}}, which is not a dimension of the connection`, hint: known };
    }
  }
  if (/[{}]/.test(name.replace(FIELD, ""))) return { problem: "has an unmatched brace", hint: 'write fields like "{sample}.bam"' };
  return undefined;
}

/** `name` with each `{dimension}` field replaced by its value in `dataId` (made safe as a file name). */
export function renderSandboxName(name: string, dataId: DataId): string {
  return name.replace(FIELD, (_, dim: string) => String(dataId[dim] ?? "").replace(/[^A-Za-z0-9._,=+-]/g, "_"));
}

/** Whether two data IDs can get the same file from `name`: no field, or only some dimensions named. */
export function namesEveryDimension(name: string, dimensions: readonly string[]): boolean {
  const used = new Set([...name.matchAll(FIELD)].map((m) => m[1]!));
  return dimensions.every((d) => used.has(d));
}
