#!/usr/bin/env node
// The CLI as bundled by the build (scripts/bundle-cli.mjs) when it is there, else module by module.
import { existsSync } from "node:fs";

const bundle = new URL("../dist/bundle/main.js", import.meta.url);
await import(existsSync(bundle) ? bundle.href : new URL("../dist/cli/main.js", import.meta.url).href);
