/**
 * What a loaded pipeline makes `quanta watch` watch: the root directory of every input template (the
 * directory part before its first field, watched with everything below it), relation files, the
 * pipeline file and its imports, and each TypeScript task module with the local modules it imports.
 */
import { parsePathTemplate } from "../core/path-template.js";
import type { LoadedPipeline } from "../app/load-pipeline.js";
import type { WatchTargets } from "./file-watcher.js";

export function watchTargets(loaded: LoadedPipeline): WatchTargets {
  const { pipeline } = loaded;
  const directories = new Set<string>();
  const files = new Set<string>(loaded.files);
  for (const input of pipeline.inputs) {
    if (input.kind === "relation") {
      files.add(input.path);
      continue;
    }
    // The loader has checked every template: it parses.
    const parsed = parsePathTemplate(input.path, pipeline.dimensions);
    if (parsed.ok) directories.add(parsed.template.root || "/");
  }
  return { directories: [...directories].sort(), files: [...files].sort() };
}
