/**
 * The `quanta` command line: global flags, the command table, and the one place where errors become
 * messages and exit codes (0 success, 1 some quanta failed, 2 usage or pipeline error, 3 repository error).
 */
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { COMMANDS } from "./commands.js";
import type { GlobalArgs } from "./command-spec.js";
import { QuantaError, UsageError } from "../core/errors.js";
import { findNearestName } from "../core/suggest-name.js";
import { asRegistryDamage } from "../store/registry-file.js";
import { QUANTA_VERSION } from "../exec/version.js";
import { installInterruptHandlers } from "../app/interrupts.js";
import { exitBetweenWrites } from "../store/writes-in-flight.js";
import { findRepository } from "../app/find-repository.js";
import { failIfAbandoned } from "../exec/abandoned-process.js";

async function main(argv: string[]): Promise<number> {
  process.setSourceMapsEnabled(true);
  // Ctrl-C and SIGTERM end every command through its exit handlers (the writer lock is released).
  installInterruptHandlers();
  // `quanta datasets | head`: a closed pipe ends the output quietly, as in any Unix tool (once a
  // registry commit in flight has ended: `quanta run --json | head`).
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
    exitBetweenWrites(0);
  });
  let exitCode = 0;
  const debug = argv.includes("--debug");
  const parser = yargs(argv)
    .scriptName("quanta")
    .usage("quanta <command> [options]\n\nAn incremental pipeline executor for scientific datasets.")
    .option("repo", { type: "string", describe: "repository directory (default: $QUANTA_REPO, else cache/ of the pipeline's project)", global: true })
    .option("debug", { type: "boolean", default: false, describe: "print stack traces", global: true })
    .option("json", { type: "boolean", default: false, describe: "newline-delimited JSON on stdout", global: true })
    .option("quiet", { type: "boolean", default: false, describe: "print only failures and the summary", global: true })
    .option("plain", { type: "boolean", default: false, describe: "plain lines, never the live view", global: true })
    .strict()
    .demandCommand(1, "name a command")
    .recommendCommands()
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((msg, err, y) => {
      if (err) throw err;
      process.stderr.write(`${y.help() && ""}error: ${msg}\nhint: ${hintForFlags(msg, parser) ?? "see 'quanta --help'"}\n`);
      exitCode = 2;
      throw new ParseFailure();
    })
    .middleware((args) => {
      refuseRepeatedFlags(args, parser);
      // The repository of the pipeline's project (app/find-repository.ts), once for every command.
      const projectFile = [args.pipeline, args.plan].find((f): f is string => typeof f === "string");
      args.repo = findRepository({ flag: args.repo, env: process.env.QUANTA_REPO, cwd: process.cwd(), ...(projectFile !== undefined && { projectFile }) });
    })
    .completion("completion", "print a shell completion script (bash, zsh): quanta completion >> ~/.bashrc")
    .version(QUANTA_VERSION)
    .help();
  skipHelpCache(parser);
  for (const spec of COMMANDS) {
    parser.command(spec.command, spec.describe, spec.builder, async (args) => {
      exitCode = await spec.handler(args as unknown as GlobalArgs & Record<string, unknown>);
    });
  }
  try {
    await parser.parseAsync();
  } catch (err) {
    if (err instanceof ParseFailure) return 2;
    return reportError(err, debug);
  }
  return exitCode;
}

class ParseFailure extends Error {}

/**
 * For yargs' `Unknown argument: confg`: the nearest flag of the command (`did you mean --config?`),
 * when one is near enough to be a typo. `parser` holds the options of the command being parsed.
 */
function hintForFlags(msg: string, parser: object): string | undefined {
  const unknown = /^Unknown arguments?: (.+)$/.exec(msg)?.[1]?.split(", ");
  type Options = { key: Record<string, unknown>; alias: Record<string, string[]> };
  const options = (parser as { getOptions?: () => Options }).getOptions?.();
  if (unknown === undefined || options === undefined) return undefined;
  const flags = new Set([...Object.keys(options.key), ...Object.values(options.alias).flat()].filter((f) => f.length > 1));
  const hints = unknown.flatMap((word) => {
    const near = findNearestName(word.replace(/^-+/, ""), flags);
    return near === undefined ? [] : [`--${word.replace(/^-+/, "")}: did you mean --${near}?`];
  });
  return hints.length === 0 ? undefined : hints.join("; ");
}

/** The counts of which the last one given wins, as make's `-j` (run-flags.ts `readWholeNumber`). */
const LAST_ONE_WINS = new Set(["jobs", "j", "retries", "cluster-size"]);

/**
 * A flag of one value given twice (`--where a --where b`): yargs hands the command an array, which
 * no command reads (taking the last `--where` would drop a condition without a word). Refused here
 * for every such flag of every command, with a hint.
 */
function refuseRepeatedFlags(args: Record<string, unknown>, parser: object): void {
  type Options = { string: string[]; array: string[] };
  const options = (parser as { getOptions?: () => Options }).getOptions?.();
  if (options === undefined) return;
  const many = new Set(options.array);
  for (const flag of options.string) {
    const value = args[flag];
    if (many.has(flag) || LAST_ONE_WINS.has(flag) || !Array.isArray(value)) continue;
    const hint = flag === "where" ? 'give it once, joining the conditions with AND: --where "A AND B"' : `give --${flag} once`;
    throw new UsageError(`--${flag} is given ${value.length} times (${value.map((v) => JSON.stringify(String(v))).join(", ")}), and takes one value`, hint);
  }
}

/**
 * yargs formats the whole help text of the command it runs, in case the handler asks for it later:
 * about 30 ms of every `quanta run`. quanta's handlers never do, and `--help` formats it afresh.
 */
function skipHelpCache(parser: object): void {
  type Internals = { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } };
  const usage = (parser as Internals).getInternalMethods?.().getUsageInstance?.();
  if (typeof usage?.cacheHelpMessage === "function") usage.cacheHelpMessage = () => undefined;
}

function reportError(thrown: unknown, debug: boolean): number {
  const err = asRegistryDamage(thrown) ?? thrown;
  if (err instanceof QuantaError) {
    process.stderr.write(`error: ${err.message}\n`);
    if (err.hint) process.stderr.write(`hint: ${err.hint}\n`);
    if (debug && err.stack) process.stderr.write(err.stack + "\n");
    return err.exitCode;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(`error: ${e.message}\n`);
  if (debug) process.stderr.write((e.stack ?? "") + "\n");
  else process.stderr.write("hint: run again with --debug for a stack trace\n");
  return 70;
}

const command = main(hideBin(process.argv)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.exitCode = reportError(err, true);
  },
);
failIfAbandoned(command);
