/**
 * 14.9: `verify` while a run writes reads one consistent snapshot. It takes the registry's references
 * first and lists the blobs after: a run writes each blob before the commit that references it, so
 * a blob committed meanwhile is never reported missing.
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeTempDir, QUANTA_BIN, runCli, type CliResult } from "../helpers/cli.js";

const N = 120; // 2N slow-ish command quanta, each writing a blob file

let cleanup: () => void = () => undefined;
afterEach(() => cleanup());

describe("14.9 verify during a run", () => {
  it("never reports a blob committed meanwhile as missing", async () => {
    const made = makeTempDir("quanta-verify-run-");
    cleanup = made.cleanup;
    const dir = made.dir;
    writeFileSync(
      join(dir, "cmdchain.yaml"),
      [
        "dimensions: { item: int }",
        'inputs: { src: { path: "data/src-{item}.txt", storage: file } }',
        "tasks:",
        "  copy:",
        '    command: "sleep 0.05; cp {inputs.src} {outputs.out}"',
        "    dimensions: [item]",
        "    inputs: { src: { type: src, dimensions: [item], storage: file } }",
        "    outputs: { out: { type: copied, dimensions: [item], storage: file } }",
        "  reverse:",
        '    command: "sleep 0.05; rev < {inputs.text} > {outputs.out}"',
        "    dimensions: [item]",
        "    inputs: { text: { type: copied, dimensions: [item], storage: file } }",
        "    outputs: { out: { type: reversed, dimensions: [item], storage: file } }",
      ].join("\n") + "\n",
    );
    mkdirSync(join(dir, "data"));
    // 64 KB each: verify spends a while hashing the blob files, as it would on a real repository.
    for (let i = 1; i <= N; i++) writeFileSync(join(dir, "data", `src-${i}.txt`), `line ${i} of the source\n`.repeat(2800));
    // The repository exists before the run starts, so that every verify below finds one.
    expect((await runCli(["ingest", "cmdchain.yaml", "--repo", "repo"], { cwd: dir })).code).toBe(0);

    const run = spawn(process.execPath, [QUANTA_BIN, "run", "cmdchain.yaml", "--repo", "repo", "--json", "-j", "2"], {
      cwd: dir,
      env: { ...process.env, CI: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let finished = 0;
    run.stdout.setEncoding("utf8").on("data", (chunk: string) => (finished += chunk.split('"quantum-finished"').length - 1));
    const ended = new Promise<number>((resolve) => run.on("close", (code) => resolve(code ?? -1)));
    let running = true;
    void ended.then(() => (running = false));

    // Verify again and again while the run goes on; keep those that started once quanta were
    // finishing and ended before the run did.
    const during: CliResult[] = [];
    while (running) {
      const started = finished > 0;
      const v = await runCli(["verify", "--repo", "repo"], { cwd: dir });
      if (running && started) during.push(v);
    }
    expect(await ended).toBe(0);
    expect(during.length).toBeGreaterThanOrEqual(3);
    for (const v of during) {
      expect(v.stderr, v.stdout).not.toContain("missing: blob");
      expect(v.code, v.stderr).toBe(0);
    }
    const after = await runCli(["verify", "--repo", "repo"], { cwd: dir });
    expect(after.code, after.stderr).toBe(0);
  });
});
