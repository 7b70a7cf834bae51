/** The command table, in the order `quanta --help` lists them. */
import type { CommandSpec } from "./command-spec.js";
import { showCommand } from "./commands/show.js";
import { schemaCommand } from "./commands/schema.js";
import { ingestCommand } from "./commands/ingest.js";
import { datasetsCommand } from "./commands/datasets.js";
import { getCommand } from "./commands/get.js";
import { exportCommand } from "./commands/export.js";
import { verifyCommand } from "./commands/verify.js";
import { gcCommand } from "./commands/gc.js";
import { runCommand } from "./commands/run.js";
import { statusCommand } from "./commands/status.js";
import { whyCommand } from "./commands/why.js";
import { graphCommand } from "./commands/graph.js";
import { execCommand } from "./commands/exec.js";
import { provenanceCommand } from "./commands/provenance.js";
import { logCommand } from "./commands/log.js";
import { watchCommand } from "./commands/watch.js";
import { forgetCommand } from "./commands/forget.js";
import { reportCommand } from "./commands/report.js";

export const COMMANDS: readonly CommandSpec[] = [
  runCommand,
  statusCommand,
  whyCommand,
  graphCommand,
  execCommand,
  watchCommand,
  showCommand,
  ingestCommand,
  datasetsCommand,
  getCommand,
  exportCommand,
  provenanceCommand,
  logCommand,
  reportCommand,
  verifyCommand,
  forgetCommand,
  gcCommand,
  schemaCommand,
];
