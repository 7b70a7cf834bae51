/**
 * quanta's own version, read once from its package.json (a file read: not in src/core/, which stays
 * pure): two directories up from this module, whether it runs from src/exec/, dist/exec/ or a chunk of
 * the CLI's bundle in dist/bundle/. The engine records it in each execution's provenance; the CLI
 * prints it for --version.
 */
import { readFileSync } from "node:fs";

export const QUANTA_VERSION: string = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
