/**
 * Loads a pipeline file: reads it and its imports, loads the task modules, resolves everything into a
 * `Pipeline` (src/core/pipeline.ts) and applies `--tasks`. Every problem is a PipelineError (exit 2)
 * whose message names the file, line and column, relative to the current directory.
 */
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, delimiter, dirname, extname, join, relative, resolve } from "node:path";
import { QuantaError, RepositoryError } from "../core/errors.js";
import { suggestName } from "../core/suggest-name.js";
import { mergePipelineFiles, type MergedTask, type PipelineFileTree } from "../core/merge-pipeline-files.js";
import { parsePipelineFile } from "../core/parse-pipeline-file.js";
import { PipelineError } from "../core/pipeline-error.js";
import type { Pipeline } from "../core/pipeline.js";
import { resolvePipeline } from "../core/pipeline-resolver.js";
import type { TaskModuleInfo } from "../core/resolve-task.js";
import { selectTasks } from "../core/select-tasks.js";
import type { ConfigValueSource } from "../core/task-config.js";
import type { YamlSource } from "../core/yaml-source.js";
import { loadTaskModule as loadTaskModuleFromDisk } from "../exec/task-module.js";
import { loadHasher } from "../store/hasher.js";

export type { ConfigValueSource } from "../core/task-config.js";

export interface LoadPipelineOptions {
  /** `--config label.key.sub=value` flags; values are read as YAML scalars. */
  readonly config?: readonly string[];
  /** `--tasks a,b,step2` or `+step2` (with the tasks it needs). */
  readonly tasks?: string;
  /** Parameter values (read as YAML scalars) replacing the file's. */
  readonly parameters?: Readonly<Record<string, string>>;
  /** Paths in messages are relative to this directory (default: the current directory). */
  readonly cwd?: string;
  /** How module tasks are loaded (default: bundling with esbuild, src/exec/task-module.ts). */
  readonly loadTaskModule?: (modulePath: string) => Promise<Omit<TaskModuleInfo, "modulePath"> & { files?: string[] }>;
  /** Where the default loader writes task bundles: the repository's `modules/` when there is one. */
  readonly moduleCacheDir?: string;
  /**
   * Hears each file the load is about to read (pipeline files, task modules, whether they exist or
   * not) and the modules' local files: when the load fails, what it got to, which a watch watches for
   * the fix.
   */
  readonly onFile?: (path: string) => void;
}

export interface LoadedPipeline {
  /** The resolved pipeline; with `tasks`, only the selected tasks. */
  readonly pipeline: Pipeline;
  /** By task label, by dotted config key (leaves of the effective config). */
  readonly configSources: Readonly<Record<string, Readonly<Record<string, ConfigValueSource>>>>;
  /** Absolute paths of the pipeline file, its imports and the task modules' local files: what to watch. */
  readonly files: readonly string[];
}

export async function loadPipeline(file: string, options: LoadPipelineOptions = {}): Promise<LoadedPipeline> {
  const cwd = options.cwd ?? process.cwd();
  const path = resolve(cwd, file);
  const display = (p: string): string => relative(cwd, p) || p;
  const onFile = options.onFile ?? (() => undefined);
  const tree = await readTree(path, { display, onFile }, []);
  const merged = mergePipelineFiles(tree);
  if (!merged.ok) throw merged.error;

  const files = new Set<string>(listTreeFiles(tree));
  const load = options.loadTaskModule ?? ((p: string) => loadTaskModuleFromDisk(p, { cacheDir: options.moduleCacheDir }));
  const modules = new Map<string, TaskModuleInfo>();
  await Promise.all(
    [...merged.merged.tasks.values()]
      .filter((t) => t.definer.value.task !== undefined && t.definer.value.command === undefined)
      .map(async (task) => {
        const modulePath = resolve(dirname(task.definer.file), task.definer.value.task!);
        onFile(modulePath);
        const loaded = await loadModule(task, modulePath, load);
        modules.set(task.label, { modulePath, definition: loaded.definition, codeDigest: loaded.codeDigest });
        for (const f of loaded.files ?? [modulePath]) {
          files.add(f);
          onFile(f);
        }
      }),
  );

  const hasher = await loadHasher();
  const resolution = resolvePipeline(merged.merged, {
    name: basename(path, extname(path)),
    file: path,
    modules,
    hashString: (text) => hasher.hashString(text),
    digestTool: (name, fromFile) => digestTool(name, fromFile, hasher),
    // Absolute or not, a path comes out normal (no `//`, `.` or `..`): the ingest walk builds paths by
    // concatenation from a template's root (collect-candidates.ts).
    resolvePath: (from, p) => resolve(dirname(from), p),
    configOverrides: options.config,
    parameters: options.parameters,
  });
  if (!resolution.ok) throw resolution.error;
  let { pipeline } = resolution.resolved;
  let configSources = resolution.resolved.configSources;
  if (options.tasks !== undefined) {
    const selection = selectTasks(pipeline, options.tasks);
    if (!selection.ok) throw selection.error;
    pipeline = selection.pipeline;
    configSources = Object.fromEntries(selection.labels.map((l) => [l, configSources[l]!]));
  }
  return { pipeline, configSources, files: [...files].sort() };
}

/** Reads a pipeline file and, recursively, the files it imports; `chain` detects import cycles. */
async function readTree(path: string, how: TreeReading, chain: readonly string[], importedBy?: ImportSite): Promise<PipelineFileTree> {
  const { display } = how;
  how.onFile(path);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "no such file" : (err as Error).message;
    const summary = code === "EISDIR" ? `${display(path)} is a directory, not a pipeline file` : `cannot read pipeline file ${display(path)}: ${reason}`;
    const hint = code === "EISDIR" ? pipelinesInHint(path) : nearestFileHint(path);
    if (importedBy === undefined) throw new PipelineError({ summary, hint });
    throw importedBy.source.errorAt(importedBy.path, summary, { hint });
  }
  const parsed = parsePipelineFile(display(path), text);
  if (!parsed.ok) throw parsed.error;
  const { source, data } = parsed.file;
  const imports: PipelineFileTree[] = [];
  for (const [index, spec] of (data.imports ?? []).entries()) {
    const target = resolve(dirname(path), spec.location);
    const site: ImportSite = { source, path: ["imports", index, "location"] };
    if (target === path || chain.includes(target)) {
      const cycle = [...chain.slice(chain.indexOf(target) < 0 ? chain.length : chain.indexOf(target)), path, target].map(display);
      throw source.errorAt(site.path, `pipeline imports form a cycle: ${cycle.join(" -> ")}`);
    }
    imports.push(await readTree(target, how, [...chain, path], site));
  }
  return { path, parsed: parsed.file, imports };
}

interface TreeReading {
  /** A path as messages show it. */
  readonly display: (p: string) => string;
  readonly onFile: (path: string) => void;
}

interface ImportSite {
  readonly source: YamlSource;
  readonly path: readonly (string | number)[];
}

function listTreeFiles(tree: PipelineFileTree): string[] {
  return [tree.path, ...tree.imports.flatMap(listTreeFiles)];
}

async function loadModule(
  task: MergedTask,
  modulePath: string,
  load: NonNullable<LoadPipelineOptions["loadTaskModule"]>,
): Promise<Omit<TaskModuleInfo, "modulePath"> & { files?: string[] }> {
  const { source, path, value } = task.definer;
  if (!existsSync(modulePath)) {
    throw source.errorAt([...path, "task"], `task "${task.label}": module ${JSON.stringify(value.task)} does not exist`, {
      hint: nearestFileHint(modulePath),
    });
  }
  try {
    return await load(modulePath);
  } catch (err) {
    // A repository problem (its modules/ cannot be written) is not the pipeline file's.
    if (!(err instanceof QuantaError) || err instanceof RepositoryError) throw err;
    throw source.errorAt([...path, "task"], `task "${task.label}": ${err.message}`, { hint: err.hint });
  }
}

/** `did you mean "isr.ts"?` from the files next to a missing one. */
/**
 * The content digest of a task's `tools:` executable: a name with a `/` is a path relative to the
 * declaring pipeline file, any other name is looked up on PATH as a shell would.
 */
function digestTool(name: string, fromFile: string, hasher: { hashBytes(bytes: Uint8Array): string }): { ok: true; digest: string; path: string } | { ok: false; message: string } {
  const candidates = name.includes("/") ? [resolve(dirname(fromFile), name)] : (process.env.PATH ?? "").split(delimiter).filter((d) => d !== "").map((d) => join(d, name));
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      if (!statSync(path).isFile()) continue;
      return { ok: true, digest: hasher.hashBytes(readFileSync(path)), path };
    } catch {
      // not this one
    }
  }
  return { ok: false, message: name.includes("/") ? `is not an executable file (${resolve(dirname(fromFile), name)})` : "is not an executable on PATH" };
}

/** For a directory named as a pipeline: the YAML files in it. */
function pipelinesInHint(dir: string): string {
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  if (files.length === 0) return "name a pipeline file (YAML); this directory holds none";
  return `name a pipeline file (YAML) in it: ${files.slice(0, 5).join(", ")}${files.length > 5 ? ", …" : ""}`;
}

function nearestFileHint(path: string): string | undefined {
  try {
    return suggestName(basename(path), readdirSync(dirname(path)));
  } catch {
    return undefined;
  }
}
