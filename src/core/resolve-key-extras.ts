/**
 * What else a task says its quanta's keys depend on, besides code, config and inputs (pipeline file
 * `version:` and `tools:`), as the `depends` of its TaskNode: `version` → the version as text, and
 * `tool NAME` → the content digest of the tool's executable. A later entry of the task (an importing
 * pipeline) replaces an earlier one's `version` or `tools`.
 */
import type { MergedTask } from "./merge-pipeline-files.js";

/** The digest of a tool's executable, found as `name` is by a shell (or relative to `fromFile` when it holds a `/`). */
export type DigestTool = (name: string, fromFile: string) => { ok: true; digest: string; path: string } | { ok: false; message: string };

export function resolveKeyExtras(task: MergedTask, digestTool: DigestTool | undefined): { depends?: Readonly<Record<string, string>> } {
  const depends: Record<string, string> = {};
  const versioned = [...task.entries].reverse().find((e) => e.value.version !== undefined);
  if (versioned !== undefined) depends.version = String(versioned.value.version);
  const tooled = [...task.entries].reverse().find((e) => e.value.tools !== undefined);
  for (const [i, name] of (tooled?.value.tools ?? []).entries()) {
    const found = digestTool?.(name, tooled!.file) ?? { ok: false as const, message: "tools cannot be looked up here" };
    if (!found.ok) {
      throw tooled!.source.errorAt([...tooled!.path, "tools", i], `task "${task.label}": tool "${name}" ${found.message}`, {
        hint: "name an executable on PATH (cc), or a path relative to the pipeline file (./bin/tool)",
      });
    }
    depends[`tool ${name}`] = found.digest;
  }
  return Object.keys(depends).length === 0 ? {} : { depends };
}
