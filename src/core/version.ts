/**
 * quanta's own version, read once from its package.json: two directories up from this module, whether
 * it runs from src/core/, dist/core/ or a chunk of the CLI's bundle in dist/bundle/.
 */
import { readFileSync } from "node:fs";

export const QUANTA_VERSION: string = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
