/**
 * Which repository a command uses, found the way Bazel finds its workspace and DVC its `.dvc/`: from
 * the project the pipeline file belongs to, not from the working directory.
 *
 * In order:
 * 1. `--repo DIR`, as given (relative to the working directory);
 * 2. `$QUANTA_REPO`, likewise;
 * 3. from the folder of the pipeline file (or saved plan; the working directory for commands without
 *    one), the nearest folder at or above it that holds a repository (`cache/` with its `format` file)
 *    or a project marker (`package.json`, `.git`): its `cache/`;
 * 4. with neither anywhere above (a pipeline in a folder of no project), `cache/` in the working
 *    directory.
 * So `quanta run mine/words.yaml` from a parent folder uses `mine/cache`, as `cd mine && quanta run
 * words.yaml` does, instead of starting a new repository in the parent.
 */
import { existsSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";

/** The folder name of a project's repository. */
export const REPOSITORY_DIR = "cache";
const PROJECT_MARKERS = ["package.json", ".git"];

export interface FindRepositoryOptions {
  /** `--repo`, when given. */
  flag?: string;
  /** `$QUANTA_REPO`, when set (an empty value counts as unset). */
  env?: string;
  /** The pipeline file or saved plan the command reads, when it reads one. */
  projectFile?: string;
  cwd: string;
}

/** The repository directory a command uses: as given, or found (relative to `cwd` when inside it). */
export function findRepository(options: FindRepositoryOptions): string {
  if (options.flag !== undefined) return options.flag;
  if (options.env !== undefined && options.env !== "") return options.env;
  const start = options.projectFile === undefined ? resolve(options.cwd) : dirname(resolve(options.cwd, options.projectFile));
  for (let dir = start; ; dir = dirname(dir)) {
    if (isProjectRoot(dir)) return shortened(join(dir, REPOSITORY_DIR), options.cwd);
    if (dirname(dir) === dir) break;
  }
  return REPOSITORY_DIR;
}

/** Relative to the working directory when inside it (`cache`, `mine/cache`), as messages show it; else absolute. */
function shortened(path: string, cwd: string): string {
  const rel = relative(resolve(cwd), path);
  return rel === "" || rel.startsWith("..") || isAbsolute(rel) ? path : rel;
}

function isProjectRoot(dir: string): boolean {
  if (existsSync(join(dir, REPOSITORY_DIR, "format"))) return true;
  return PROJECT_MARKERS.some((marker) => existsSync(join(dir, marker)));
}
