/**
 * Chooses the reporter for a command (docs/commands.md, "Output modes"): `--json` → JSON lines; a
 * terminal, without `CI`, `NO_COLOR`, `TERM=dumb`, `--plain` or `--quiet` → the live view; anything
 * else → plain lines.
 * `--quiet` means "only failures and the summary", which the plain reporter does on a terminal too.
 *
 * The live view is loaded with a dynamic `import()` (in `loadLiveView`): this module and the plain and
 * JSON reporters import nothing from ink or React, so `quanta status`, piped runs and `--json` start fast.
 */
import type { Reporter } from "../core/events.js";
import { createJsonReporter } from "./json-reporter.js";
import { loadLiveView } from "./load-live-view.js";
import { createPlainReporter } from "./plain-reporter.js";

export interface CreateReporterOptions {
  json: boolean;
  quiet: boolean;
  plain: boolean;
  stdout: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

export async function createReporter(options: CreateReporterOptions): Promise<Reporter> {
  const { stdout } = options;
  if (options.json) return createJsonReporter({ out: stdout });
  if (shouldDrawLiveView(options)) {
    const { createLiveReporter } = await loadLiveView();
    return createLiveReporter({ stdout });
  }
  return createPlainReporter({ out: stdout, quiet: options.quiet });
}

/** A terminal, and nothing asks for plain output. `CI=false` / `CI=0` do not count as CI. */
export function shouldDrawLiveView(options: Omit<CreateReporterOptions, "json">): boolean {
  const { env } = options;
  const ci = env.CI !== undefined && env.CI !== "" && env.CI !== "false" && env.CI !== "0";
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== "";
  return Boolean(options.stdout.isTTY) && !ci && !noColor && env.TERM !== "dumb" && !options.plain && !options.quiet;
}
