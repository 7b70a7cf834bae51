/**
 * The peak memory that provenance records is the quantum's own (the command's process tree, as the
 * quanta-spawn helper measures it), not the CLI's high-water mark. Through the real CLI.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeTempDir, runCli } from "../helpers/cli.js";
import { hasCompiler } from "../exec/spawners.js";
import { describeWithCompiler } from "../helpers/c-compiler.js";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

const MB = 1024 * 1024;

/** `big` runs dd with a 200 MiB buffer (filled, so resident) in a subshell the shell waits for; `small` copies. */
const PIPELINE = `description: commands of very different sizes
dimensions:
  n: int
inputs:
  src: { path: "data/src-{n}.txt", storage: file }
tasks:
  big:
    command: "(dd if=/dev/zero of=/dev/null bs=200M count=1 2>/dev/null); cp {inputs.src} {outputs.out}"
    dimensions: [n]
    inputs: { src: { type: src, dimensions: [n], storage: file } }
    outputs: { out: { type: big, dimensions: [n], storage: file } }
  small:
    command: "cp {inputs.src} {outputs.out}"
    dimensions: [n]
    inputs: { src: { type: src, dimensions: [n], storage: file } }
    outputs: { out: { type: small, dimensions: [n], storage: file } }
`;

async function peakOf(dir: string, quantum: string): Promise<number | undefined> {
  const r = await runCli(["log", quantum, "--repo", "repo", "--json"], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { peakRssBytes?: number }).peakRssBytes;
}

describeWithCompiler("14.11 peak memory of a command quantum", () => {
  it("is the command's own: a 200 MiB command records at least 150 MiB, a copy a few MiB", async () => {
    const { dir, cleanup } = makeTempDir("quanta-peak-");
    cleanups.push(cleanup);
    mkdirSync(join(dir, "data"));
    writeFileSync(join(dir, "p.yaml"), PIPELINE);
    writeFileSync(join(dir, "data", "src-1.txt"), "one\n");
    const r = await runCli(["run", "p.yaml", "--repo", "repo", "-j", "2"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(await peakOf(dir, "big@n=1")).toBeGreaterThanOrEqual(150 * MB);
    const small = await peakOf(dir, "small@n=1");
    expect(small).toBeGreaterThan(0);
    expect(small).toBeLessThan(20 * MB);
  });
});
