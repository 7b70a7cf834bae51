/**
 * 17.2: the repository belongs to the pipeline's project, not to the working directory. A pipeline in
 * a folder of its own (a project marker, or a repository already there) uses that folder's `cache/`
 * from wherever it is run; `--repo` and `QUANTA_REPO` override it; the header line names it.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeTempDir, runCli } from "../helpers/cli.js";

const PIPELINE = `dimensions: { doc: int }
inputs:
  text: { path: "data/{doc}.txt", storage: text }
tasks:
  copy:
    command: "cp {inputs.text} {outputs.copy}"
    dimensions: [doc]
    inputs: { text: { type: text, dimensions: [doc], storage: text } }
    outputs: { copy: { type: copy, dimensions: [doc], storage: text } }
`;

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = makeTempDir("quanta-find-repo-"));
  mkdirSync(join(dir, "mine", "data"), { recursive: true });
  writeFileSync(join(dir, "mine", "words.yaml"), PIPELINE);
  for (const i of [1, 2]) writeFileSync(join(dir, "mine", "data", `${i}.txt`), `doc ${i}\n`);
});
afterEach(() => cleanup());

function ranCount(stdout: string): number {
  const last = JSON.parse(stdout.trim().split("\n").pop()!) as { event: string; counts: { ran: number } };
  expect(last.event).toBe("run-finished");
  return last.counts.ran;
}

describe("17.2 the repository is found from the pipeline's project", () => {
  it("17.2 a run from a parent folder uses the project's repository, not a new ./cache", async () => {
    writeFileSync(join(dir, "mine", "package.json"), "{}\n");
    const first = await runCli(["run", "words.yaml", "--plain"], { cwd: join(dir, "mine") });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain("output collection words in repository cache,");
    const again = await runCli(["run", "mine/words.yaml", "--plain"], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain("output collection words in repository mine/cache,");
    expect(again.stdout).toContain("0 ran, 2 up to date");
    expect(existsSync(join(dir, "cache"))).toBe(false);
    // Readers without a pipeline find it from the working directory, in any folder of the project.
    const listed = await runCli(["datasets", "--type", "copy"], { cwd: join(dir, "mine", "data") });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain("copy@doc=2");
    const status = await runCli(["status", "../words.yaml"], { cwd: join(dir, "mine", "data") });
    expect(status.stdout).toContain(`status of words (collection words, repository ${join(dir, "mine", "cache")}): 0 will run, 0 may run, 2 up to date`);
  });

  it("17.2 a repository already beside the pipeline is found without any project marker", async () => {
    expect((await runCli(["run", "words.yaml", "--json"], { cwd: join(dir, "mine") })).code).toBe(0);
    const again = await runCli(["run", join("mine", "words.yaml"), "--json"], { cwd: dir });
    expect(ranCount(again.stdout)).toBe(0);
    const started = again.stdout.split("\n").find((l) => l.includes('"run-started"'))!;
    expect(JSON.parse(started).repository).toBe(join(dir, "mine", "cache"));
  });

  it("17.2 QUANTA_REPO overrides the project's repository, and --repo overrides both", async () => {
    writeFileSync(join(dir, "mine", "package.json"), "{}\n");
    const viaEnv = await runCli(["run", "mine/words.yaml", "--plain"], { cwd: dir, env: { QUANTA_REPO: join(dir, "env-repo") } });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    expect(viaEnv.stdout).toContain("in repository env-repo,");
    expect(existsSync(join(dir, "env-repo", "format"))).toBe(true);
    expect(existsSync(join(dir, "mine", "cache"))).toBe(false);
    const viaFlag = await runCli(["run", "mine/words.yaml", "--plain", "--repo", "flag-repo"], { cwd: dir, env: { QUANTA_REPO: join(dir, "env-repo") } });
    expect(viaFlag.stdout).toContain("in repository flag-repo,");
    expect(viaFlag.stdout).toContain("2 ran, 0 up to date");
    expect(existsSync(join(dir, "flag-repo", "format"))).toBe(true);
  });
});
