/**
 * Every command in the README runs, in order, in a fresh copy of the project's pipelines, and prints
 * what the README shows (durations and digests aside; `...` stands for lines left out). The two setup
 * commands at the top (`npm ci && npm run demo`, `npm ci && npm test`) are how this very test is run:
 * the demo is run here as `node pipelines/sky/demo.js`, which is what `npm run demo` does after its build.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir, PROJECT_ROOT, QUANTA_BIN } from "../helpers/cli.js";

interface ReadmeCommand {
  line: string;
  expected: string[];
}

/** `$ ` lines of the console blocks, each with the output lines shown under it. */
function readCommands(markdown: string): ReadmeCommand[] {
  const out: ReadmeCommand[] = [];
  let inConsole = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) {
      inConsole = line.trim() === "```console";
      continue;
    }
    if (!inConsole) continue;
    if (line.startsWith("$ ")) out.push({ line: line.slice(2), expected: [] });
    else out[out.length - 1]?.expected.push(line);
  }
  return out;
}

/** Hides what differs from run to run: durations, timestamps, hosts. */
function normalize(text: string): string {
  return text
    .replace(/\b\d+(\.\d+)?(ms|s)\b/g, "<t>")
    .replace(/ on \S+ at \S+ \(<t>\)/g, " ...")
    .trimEnd();
}

const setup = new Set(["npm ci && npm run demo", "npm ci && npm test"]);
const readme = readFileSync(join(PROJECT_ROOT, "README.md"), "utf8");
const commands = readCommands(readme);
const work = makeTempDir("quanta-readme-");
afterAll(() => work.cleanup());

describe("README", () => {
  it("shows the two setup commands first", () => {
    expect(commands.slice(0, 2).map((c) => c.line)).toEqual([...setup]);
  });

  it("every command runs and prints what the README shows", () => {
    cpSync(join(PROJECT_ROOT, "pipelines"), join(work.dir, "pipelines"), {
      recursive: true,
      filter: (src) => !/[/\\]pipelines[/\\]sky[/\\](data|out)$/.test(src),
    });
    rmSync(join(work.dir, "cache"), { recursive: true, force: true });
    const env = { ...process.env, CI: "true", NO_COLOR: "1", QUANTA_BIN };
    execFileSync(process.execPath, ["pipelines/sky/demo.js"], { cwd: work.dir, env, stdio: "pipe" });
    for (const command of commands) {
      if (setup.has(command.line)) continue;
      const shell = command.line.replace(/^npx quanta /, `${JSON.stringify(process.execPath)} ${JSON.stringify(QUANTA_BIN)} `);
      const r = spawnSync("sh", ["-c", shell], { cwd: work.dir, env, encoding: "utf8" });
      expect(r.status, `${command.line}\n${r.stderr}`).toBe(0);
      const got = normalize(r.stdout).split("\n");
      let at = 0;
      for (const want of command.expected.map(normalize)) {
        if (want === "...") continue;
        const prefix = want.endsWith("...") ? want.slice(0, -3).trimEnd() : undefined;
        const found = got.findIndex((g, i) => i >= at && (prefix !== undefined ? g.startsWith(prefix) : g === want));
        expect(found, `${command.line}: expected the line\n${want}\nin\n${got.join("\n")}`).toBeGreaterThanOrEqual(0);
        at = found + 1;
      }
    }
  });
});
