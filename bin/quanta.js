#!/usr/bin/env node
// The CLI as bundled by the build (scripts/bundle-cli.mjs), else module by module: the modules too when
// they were compiled after the bundle was made (a `tsc` alone), so that a stale bundle never runs.
import { statSync } from "node:fs";

const bundle = new URL("../dist/bundle/main.js", import.meta.url);
const modules = new URL("../dist/cli/main.js", import.meta.url);
const bundled = statSync(bundle, { throwIfNoEntry: false });
const fresh = bundled !== undefined && bundled.mtimeMs >= (statSync(modules, { throwIfNoEntry: false })?.mtimeMs ?? 0);
await import(fresh ? bundle.href : modules.href);
