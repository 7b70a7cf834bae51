/**
 * One CLI command: its flags (declared with yargs) and a handler that turns parsed flags into typed
 * options and calls into `app/`. Command files import only yargs types and this module statically; the
 * handler loads the rest with `await import(...)`, so `quanta --help` stays fast.
 */
import type { Argv } from "yargs";

export interface GlobalArgs {
  repo: string;
  debug: boolean;
  json: boolean;
  quiet: boolean;
  plain: boolean;
}

export interface CommandSpec {
  /** yargs command string, e.g. `run <pipeline> [targets..]`. */
  readonly command: string;
  readonly describe: string;
  builder(yargs: Argv): Argv;
  /** Returns the process exit code. Throws QuantaError for user errors. */
  handler(args: GlobalArgs & Record<string, unknown>): Promise<number>;
}
