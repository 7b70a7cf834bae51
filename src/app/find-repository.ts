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
import { dirname, join, resolve } from "node:path";

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

/** The repository directory a command uses: absolute when found from a project, else as given. */
export function findRepository(options: FindRepositoryOptions): string {
  if (options.flag !== undefined) return options.flag;
  if (options.env !== undefined && options.env !== "") return options.env;
  const start = options.projectFile === undefined ? resolve(options.cwd) : dirname(resolve(options.cwd, options.projectFile));
  for (let dir = start; ; dir = dirname(dir)) {
    if (isProjectRoot(dir)) return join(dir, REPOSITORY_DIR);
    if (dirname(dir) === dir) break;
  }
  return REPOSITORY_DIR;
}

function isProjectRoot(dir: string): boolean {
  if (existsSync(join(dir, REPOSITORY_DIR, "format"))) return true;
  return PROJECT_MARKERS.some((marker) => existsSync(join(dir, marker)));
}
