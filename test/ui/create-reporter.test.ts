import "./without-ci-env.js";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { createReporter, shouldDrawLiveView } from "../../src/ui/create-reporter.js";
import { PROJECT_ROOT } from "../helpers/cli.js";
import { collectOutput } from "./collect-output.js";
import { FakeTerminal } from "./fake-terminal.js";
import { runFinished, runStarted } from "./sample-events.js";

describe("shouldDrawLiveView", () => {
  const tty = new FakeTerminal().asStream();
  const pipe = collectOutput().out as unknown as NodeJS.WriteStream;
  const base = { stdout: tty, env: { TERM: "xterm-256color" }, plain: false, quiet: false };

  it("draws on a terminal when nothing asks for plain output", () => {
    expect(shouldDrawLiveView(base)).toBe(true);
    expect(shouldDrawLiveView({ ...base, env: { CI: "false" } })).toBe(true);
    expect(shouldDrawLiveView({ ...base, env: { NO_COLOR: "" } })).toBe(true);
  });

  it("prints plain lines off a terminal, in CI, with NO_COLOR, TERM=dumb, --plain or --quiet", () => {
    expect(shouldDrawLiveView({ ...base, stdout: pipe })).toBe(false);
    expect(shouldDrawLiveView({ ...base, env: { CI: "true" } })).toBe(false);
    expect(shouldDrawLiveView({ ...base, env: { CI: "1" } })).toBe(false);
    expect(shouldDrawLiveView({ ...base, env: { NO_COLOR: "1" } })).toBe(false);
    expect(shouldDrawLiveView({ ...base, env: { TERM: "dumb" } })).toBe(false);
    expect(shouldDrawLiveView({ ...base, plain: true })).toBe(false);
    expect(shouldDrawLiveView({ ...base, quiet: true })).toBe(false);
  });
});

describe("createReporter", () => {
  it("--json writes JSON lines, even on a terminal", async () => {
    const terminal = new FakeTerminal();
    const reporter = await createReporter({ json: true, quiet: false, plain: false, stdout: terminal.asStream(), env: {} });
    reporter.onEvent(runStarted);
    await reporter.close();
    expect(JSON.parse(terminal.text)).toEqual(runStarted);
  });

  it("off a terminal, writes plain lines", async () => {
    const output = collectOutput();
    const stdout = output.out as unknown as NodeJS.WriteStream;
    const reporter = await createReporter({ json: false, quiet: false, plain: false, stdout, env: {} });
    reporter.onEvent(runStarted);
    await reporter.close();
    expect(output.lines()).toEqual(["run sky: 8 quanta in 2 tasks, output collection sky, pool executor with 4 workers"]);
  });

  it("on a terminal, draws the live view and leaves the summary", async () => {
    const terminal = new FakeTerminal();
    const reporter = await createReporter({ json: false, quiet: false, plain: false, stdout: terminal.asStream(), env: { TERM: "xterm" } });
    reporter.onEvent(runStarted);
    reporter.onEvent(runFinished());
    await reporter.close();
    expect(terminal.text).toContain("run failed in 5.1s: 3 ran, 2 up to date, 1 failed, 2 blocked (collection sky)");
    expect(terminal.text).toMatch(/\u001b\[/);
  });
});

describe("loading ink", () => {
  /** Relative imports of a source file, split into static `import … from` and dynamic `import(…)`. */
  function readImports(file: string): { statics: string[]; dynamics: string[] } {
    const source = readFileSync(file, "utf8");
    const statics = [...source.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+"([^"]+)"/gms)].map((m) => m[1]);
    const dynamics = [...source.matchAll(/(?<!typeof )\bimport\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1]);
    return { statics, dynamics };
  }

  function resolveSource(from: string, specifier: string): string {
    const js = resolve(dirname(from), specifier);
    const candidates = [js.replace(/\.js$/, ".ts"), js.replace(/\.js$/, ".tsx")];
    const found = candidates.find((c) => {
      try {
        readFileSync(c);
        return true;
      } catch {
        return false;
      }
    });
    if (!found) throw new Error(`cannot resolve ${specifier} from ${from}`);
    return found;
  }

  it("the static import graph of create-reporter reaches neither ink nor react", () => {
    const start = join(PROJECT_ROOT, "src", "ui", "create-reporter.ts");
    const seen = new Set<string>();
    const packages = new Set<string>();
    const queue = [start];
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const specifier of readImports(file).statics) {
        if (specifier.startsWith(".")) queue.push(resolveSource(file, specifier));
        else packages.add(specifier.split("/")[0]);
      }
    }
    expect([...packages].filter((p) => !p.startsWith("node:"))).toEqual([]);
    expect([...seen].some((f) => f.endsWith("live-view.tsx"))).toBe(false);
    // The live view is imported by URL (load-live-view.ts), so that the CLI's bundle leaves it out.
    expect([...seen].flatMap((f) => readImports(f).dynamics)).toEqual([]);
  });

  it("the CLI's bundle imports neither ink nor react, and the live view only on demand", () => {
    const bundle = join(PROJECT_ROOT, "dist", "bundle");
    const files = readdirSync(bundle).filter((f) => f.endsWith(".js"));
    expect(files).toContain("main.js");
    for (const file of files) {
      const text = readFileSync(join(bundle, file), "utf8");
      expect(text, file).not.toMatch(/from\s*["'](ink|react)["']/);
      expect(text, file).not.toMatch(/function\s+LiveView\b/);
    }
  });

  it("at run time (dist/), a plain and a JSON reporter load no ink and no react; the live one does (bundled)", () => {
    // A resolve hook, on Node's loader thread, appends every resolved URL to a file the script reads back.
    const hooks = `
      import { appendFileSync } from "node:fs";
      let log;
      export function initialize(data) { log = data.log; }
      export async function resolve(specifier, context, next) {
        const result = await next(specifier, context);
        appendFileSync(log, result.url + "\\n");
        return result;
      }`;
    const script = `
      import { register } from "node:module";
      import { readFileSync, mkdtempSync, rmSync } from "node:fs";
      import { tmpdir } from "node:os";
      import { join } from "node:path";
      import { Writable } from "node:stream";
      const logDir = mkdtempSync(join(tmpdir(), "quanta-hooks-"));
      const log = join(logDir, "resolved.txt");
      register("data:text/javascript," + encodeURIComponent(${JSON.stringify(hooks)}), { data: { log } });
      const loaded = () => { try { return readFileSync(log, "utf8"); } catch { return ""; } };
      const isUi = (text) => /node_modules\\/(ink|react)\\/|live-view\\.bundle\\.js/.test(text);
      const sink = Object.assign(new Writable({ write(c, e, cb) { cb(); } }), { isTTY: false });
      const { createReporter } = await import(${JSON.stringify(join(PROJECT_ROOT, "dist", "ui", "create-reporter.js"))});
      const results = {};
      for (const json of [false, true]) {
        const reporter = await createReporter({ json, quiet: false, plain: false, stdout: sink, env: {} });
        reporter.onEvent({ v: 1, time: 0, event: "watch-waiting", paths: 1 });
        await reporter.close();
        results[json ? "json" : "plain"] = isUi(loaded());
      }
      results.createReporterLoaded = loaded().includes("create-reporter.js");
      const tty = Object.assign(new Writable({ write(c, e, cb) { cb(); } }), { isTTY: true, columns: 80, rows: 24 });
      const live = await createReporter({ json: false, quiet: false, plain: false, stdout: tty, env: {} });
      await live.close();
      results.live = isUi(loaded());
      // React was loaded in its production build, and NODE_ENV was put back as it was (unset).
      const { createRequire } = await import("node:module");
      const cjs = Object.keys(createRequire(import.meta.url).cache);
      // The build bundles the view with React's production build (scripts/bundle-live-view.mjs).
      results.reactBuild = loaded().includes("live-view.bundle.js") ? "production" : cjs.some((k) => k.includes("react.production")) ? "production" : cjs.some((k) => k.includes("react.development")) ? "development" : "none";
      results.nodeEnv = process.env.NODE_ENV ?? null;
      rmSync(logDir, { recursive: true, force: true });
      console.log(JSON.stringify(results));`;
    const env = { ...process.env };
    delete env.NODE_ENV;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", cwd: PROJECT_ROOT, env });
    expect(child.stderr).toBe("");
    expect(JSON.parse(child.stdout.trim().split("\n").at(-1)!)).toEqual({
      plain: false,
      json: false,
      createReporterLoaded: true,
      live: true,
      reactBuild: "production",
      nodeEnv: null,
    });
  });
});
