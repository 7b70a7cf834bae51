/** The command table, in the order `quanta --help` lists them. */
import type { CommandSpec } from "./command-spec.js";
import { notBuiltYet } from "./command-spec.js";
import { ingestCommand } from "./commands/ingest.js";
import { datasetsCommand } from "./commands/datasets.js";
import { getCommand } from "./commands/get.js";
import { verifyCommand } from "./commands/verify.js";
import { gcCommand } from "./commands/gc.js";

export const COMMANDS: readonly CommandSpec[] = [
  notBuiltYet("run <pipeline> [targets..]", "ingest changed inputs, build the graph and run what is stale"),
  notBuiltYet("status <pipeline> [targets..]", "dry run: what would run, what may run, what is up to date"),
  notBuiltYet("why <quantum>", "explain why a quantum would run (e.g. calibrate@visit=12,detector=3)"),
  notBuiltYet("graph <pipeline> [targets..]", "build the quantum graph: save it (-o), summarise it, or draw it"),
  notBuiltYet("exec <plan>", "execute a saved plan (.qg)"),
  notBuiltYet("watch <pipeline>", "rerun what is stale whenever inputs, the pipeline or task code change"),
  notBuiltYet("show <what> <pipeline> [label]", "print the pipeline, config, tasks or dimensions"),
  ingestCommand,
  datasetsCommand,
  getCommand,
  notBuiltYet("provenance <dataset>", "print the lineage of a dataset as a tree"),
  notBuiltYet("log <quantum>", "print the captured log of a quantum's latest execution"),
  verifyCommand,
  gcCommand,
  notBuiltYet("schema", "print the JSON Schema of pipeline files"),
];
