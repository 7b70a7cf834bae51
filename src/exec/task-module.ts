/**
 * Loads a task module (`.ts`, `.mts`, `.js`, `.mjs`) straight from the user's source: users never
 * compile their tasks.
 *
 * The module is bundled with esbuild (ESM, platform node). The bare import `"quanta"` stays external,
 * rewritten to the file URL of this package's `dist/index.js`, so every task in a process shares one
 * copy of the runtime; node built-ins stay external; everything else (local modules and packages) is
 * bundled, so a task in any directory loads without a `node_modules` next to it.
 *
 * Code digest, format 1: the 128-bit hash (32 hex, core/digest.ts) of the text
 *
 *     quanta-code 1\n
 *     <path relative to the module's directory>\t<blob digest of its bytes>\n   (one line per file)
 *
 * over the bundle's inputs that are not under a `node_modules` directory (the module and the local
 * modules it imports, transitively), sorted by path. An unrelated file never changes it; neither does
 * moving the task's directory. A format change changes every digest, which only makes quanta stale.
 *
 * The bundle is written (atomically) to `<cacheDir>/quanta-modules/<code digest>-<bundle hash>.mjs`
 * and imported from there; the bundle hash covers what the digest does not (bundled packages, the
 * runtime's location), so a file name always stands for one content. The cache directory is the
 * repository's `modules/` when there is one, else `quanta-modules-<uid>` in the OS temp directory;
 * `quanta-modules/` is made private (mode 0700, owned by this user, not a symbolic link) and a bundle
 * already there is imported only if its bytes are exactly the bundle just built, else it is written
 * again: code is never imported from a file someone else could have put in its place. The bundle
 * carries an inline source map whose sources are the task's real files, so with source maps enabled
 * (the CLI and the pool's workers enable them) a failing task's stack frames name
 * `…/tasks/boom.ts:6`. Loaded modules are cached in the process by that name. Works the same inside
 * a worker thread. A bundle that cannot be written (a full disk) is, in a repository, the
 * RepositoryError of every failed repository write (exit 3), and leaves no temporary file behind.
 */
import { randomBytes } from "node:crypto";
import { readFile, rename, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BuildFailure, Message, Plugin } from "esbuild";
import type { CodeDigest } from "../core/digest.js";
import { isTaskDefinition } from "../core/define-task.js";
import { QuantaError, UsageError } from "../core/errors.js";
import type { TaskDefinition } from "../core/task-definition.js";
import { loadHasher } from "../store/hasher.js";
import { describeWriteError, writeFailure } from "../store/write-failure.js";
import { preparePrivateDirectory } from "../store/private-directory.js";

export interface LoadedTaskModule {
  readonly definition: TaskDefinition;
  readonly codeDigest: CodeDigest;
  /** The local files that make up the code (absolute, sorted): watch these. */
  readonly files: string[];
}

export interface LoadTaskModuleOptions {
  /** Where bundles are written (under `quanta-modules/`); default: `quanta-modules-<uid>` in the OS temp directory. */
  readonly cacheDir?: string;
  /**
   * The file URL that `import … from "quanta"` resolves to; default: this package's `dist/index.js`.
   * Only tests that run this module from a bundle need it.
   */
  readonly runtimeUrl?: string;
}

const CODE_DIGEST_FORMAT = "quanta-code 1";

/** This package's root: the module lives at `src/exec/` (tests) or `dist/exec/` (built). */
const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Bundles imported by this thread, by content (code digest and bundle digest). Process-wide (per
 * thread) by nature: Node's module loader keeps what it imported for the thread's life whatever this
 * map does, and content names mean an edited module never finds the old code here, but its new bundle.
 */
const loaded = new Map<string, Promise<TaskDefinition>>();

/**
 * Bundles, digests and imports the task module at `modulePath`. Throws a UsageError naming the file
 * when it does not build, throws while loading, or has no `defineTask` default export.
 */
export async function loadTaskModule(modulePath: string, options: LoadTaskModuleOptions = {}): Promise<LoadedTaskModule> {
  const entry = resolve(modulePath);
  const moduleDir = dirname(entry);
  const runtimeUrl = options.runtimeUrl ?? pathToFileURL(join(PACKAGE_ROOT, "dist", "index.js")).href;
  const bundle = await bundleTaskModule(entry, runtimeUrl, options.cacheDir);
  const local = Object.keys(bundle.inputs)
    .filter((p) => !p.split(/[\\/]/).includes("node_modules"))
    .map((p) => resolve(moduleDir, p))
    .sort();
  const hasher = await loadHasher();
  const lines = [CODE_DIGEST_FORMAT];
  const entries = await Promise.all(
    local.map(async (file) => [toPortablePath(relative(moduleDir, file)), hasher.hashBytes(await readFile(file))] as const),
  );
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [path, digest] of entries) lines.push(`${path}\t${digest}`);
  const codeDigest = hasher.hashString(lines.join("\n") + "\n") as CodeDigest;

  const name = `${codeDigest}-${hasher.hashString(bundle.text)}.mjs`;
  let definition = loaded.get(name);
  if (definition === undefined) {
    definition = importBundle(entry, bundle.text, join(bundle.outDir, name), options.cacheDir !== undefined);
    loaded.set(name, definition);
    definition.catch(() => loaded.delete(name));
  }
  return { definition: await definition, codeDigest, files: local };
}

interface Bundle {
  text: string;
  /** The metafile's inputs: paths relative to the module's directory. */
  inputs: Record<string, unknown>;
  outDir: string;
}

async function bundleTaskModule(entry: string, runtimeUrl: string, cacheDir: string | undefined): Promise<Bundle> {
  // Absolute: esbuild would take a relative outfile relative to the module's directory, and the source
  // map's paths (relative to the bundle) would then name files that do not exist.
  const outDir = resolve(cacheDir ?? join(tmpdir(), `quanta-modules-${process.getuid?.() ?? "user"}`), "quanta-modules");
  // Loaded here, not with this module: a run of command tasks only, or one whose task bundles are all
  // cached, never starts esbuild (about 95 KB of JavaScript and a child process).
  const { build } = await import("esbuild");
  try {
    const result = await build({
      entryPoints: [entry],
      absWorkingDir: dirname(entry),
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      write: false,
      metafile: true,
      // Source maps point stack frames of a failing task at its own files (with --enable-source-maps).
      outfile: join(outDir, "bundle.mjs"),
      sourcemap: "inline",
      sourcesContent: false,
      logLevel: "silent",
      // Bundled CommonJS packages may `require` node built-ins; ESM output has no `require` of its own.
      banner: {
        js: 'import { createRequire as __quantaCreateRequire } from "node:module"; const require = __quantaCreateRequire(import.meta.url);',
      },
      // A task outside this package may still import the packages quanta itself depends on.
      nodePaths: [join(PACKAGE_ROOT, "node_modules")],
      plugins: [externalRuntimePlugin(runtimeUrl)],
    });
    const output = result.outputFiles.find((f) => f.path.endsWith(".mjs"));
    if (output === undefined) throw new Error("internal error: esbuild produced no bundle");
    return { text: output.text, inputs: result.metafile.inputs, outDir };
  } catch (error) {
    if (isBuildFailure(error)) {
      const first = error.errors[0];
      const more = error.errors.length > 1 ? ` (and ${error.errors.length - 1} more)` : "";
      throw new UsageError(`cannot load task module ${entry}: ${formatBuildMessage(first, entry)}${more}`);
    }
    throw error;
  }
}

/** Resolves the bare `quanta` import to the shared runtime, left external. */
function externalRuntimePlugin(runtimeUrl: string): Plugin {
  return {
    name: "quanta-runtime",
    setup(b) {
      b.onResolve({ filter: /^quanta$/ }, () => ({ path: runtimeUrl, external: true }));
    },
  };
}

async function importBundle(entry: string, text: string, file: string, inRepository: boolean): Promise<TaskDefinition> {
  try {
    await preparePrivateDirectory(dirname(file), "load task modules from");
    await writeVerified(file, text);
  } catch (err) {
    throw bundleWriteFailure(file, err, inRepository);
  }
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(`task module ${entry} failed to load: ${message}`);
  }
  const definition = namespace.default;
  if (isTaskDefinition(definition)) return definition;
  const found = definition === undefined ? "it has no default export" : `its default export is ${describe(definition)}`;
  throw new UsageError(
    `task module ${entry} does not export a task: ${found}`,
    'export default defineTask({ name, dimensions, inputs, outputs, run }) (import { defineTask } from "quanta")',
  );
}

/**
 * Leaves exactly `text` in `file`: a file already there is kept only if it holds those bytes (the same
 * bundle written by another process), else it is replaced, through a temporary name and a rename, so
 * readers never see half.
 */
async function writeVerified(file: string, text: string): Promise<void> {
  if ((await readExisting(file)) === text) return;
  const temp = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await writeFile(temp, text, { flag: "wx", mode: 0o600 });
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/**
 * A bundle that cannot be written: in a repository's `modules/`, the RepositoryError of any failed
 * repository write (exit 3, write-failure.ts); in the OS temporary directory, an error saying so.
 */
function bundleWriteFailure(file: string, err: unknown, inRepository: boolean): unknown {
  if (err instanceof QuantaError) return err;
  if (inRepository) return writeFailure(file, err);
  return new UsageError(
    `cannot write the task bundle ${file}: ${describeWriteError(err)}`,
    "free space in the temporary directory (or point TMPDIR at one with space)",
  );
}

async function readExisting(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch {
    return undefined;
  }
}

function isBuildFailure(error: unknown): error is BuildFailure {
  return error instanceof Error && Array.isArray((error as Partial<BuildFailure>).errors);
}

function formatBuildMessage(message: Message | undefined, entry: string): string {
  if (message === undefined) return "the build failed";
  const loc = message.location;
  if (loc === null) return message.text;
  const file = resolve(dirname(entry), loc.file);
  return `${file}:${loc.line}:${loc.column + 1}: ${message.text}`;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "function") return "a function";
  if (typeof value === "object") {
    const keys = Object.keys(value as object);
    return `an object with ${keys.length === 0 ? "no keys" : `keys ${keys.join(", ")}`} (a task needs name, dimensions, inputs, outputs and run)`;
  }
  return `a ${typeof value}`;
}

function toPortablePath(path: string): string {
  return sep === "/" ? path : path.split(sep).join("/");
}
