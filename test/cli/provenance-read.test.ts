/**
 * Item 7 of issue 14: `quanta provenance` shows the datasets a quantum read (the digests of its key
 * manifest), not whatever its collection holds under those names after a partial rerun.
 */
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir, PROJECT_ROOT, runCli } from "../helpers/cli.js";

const temp = makeTempDir("quanta-provenance-");
afterAll(() => temp.cleanup());

interface Node {
  dataset: string;
  digest: string;
  replacedBy?: string;
  quantum?: { task: string };
  inputs?: Node[];
}

async function digestsOf(dir: string): Promise<Record<string, string>> {
  const listed = await runCli(["datasets", "--json"], { cwd: dir });
  const out: Record<string, string> = {};
  for (const line of listed.stdout.trim().split("\n")) {
    const d = JSON.parse(line) as { type: string; dataId: Record<string, unknown>; digest: string };
    out[`${d.type}@${Object.entries(d.dataId).map(([k, v]) => `${k}=${v}`).join(",")}`] = d.digest;
  }
  return out;
}

describe("14.7 provenance shows what was read", () => {
  it("14.7 after a partial rerun, the lineage follows the digests the quantum read", async () => {
    const dir = join(temp.dir, "project");
    mkdirSync(join(dir, "data"), { recursive: true });
    cpSync(join(PROJECT_ROOT, "test", "fixtures", "chain", "tasks"), join(dir, "tasks"), { recursive: true });
    cpSync(join(PROJECT_ROOT, "test", "fixtures", "chain", "chain.yaml"), join(dir, "chain.yaml"));
    writeFileSync(join(dir, "data", "raw-1.txt"), "3\n");
    expect((await runCli(["run", "chain.yaml"], { cwd: dir })).code).toBe(0);
    const before = await digestsOf(dir);

    // Only `double` reruns: parity@item=1 still holds what it made from the old doubled@item=1.
    writeFileSync(join(dir, "data", "raw-1.txt"), "5\n");
    expect((await runCli(["run", "chain.yaml", "--tasks", "double"], { cwd: dir })).code).toBe(0);
    const after = await digestsOf(dir);
    expect(after["doubled@item=1"]).not.toBe(before["doubled@item=1"]);
    expect(after["parity@item=1"]).toBe(before["parity@item=1"]);

    const shown = await runCli(["provenance", "parity@item=1", "--json"], { cwd: dir });
    expect(shown.code, shown.stderr).toBe(0);
    const tree = JSON.parse(shown.stdout) as Node;
    expect(tree).toMatchObject({ dataset: "parity@item=1", digest: before["parity@item=1"], quantum: { task: "parity" } });
    const doubled = tree.inputs![0]!;
    expect(doubled).toMatchObject({ dataset: "doubled@item=1", digest: before["doubled@item=1"], replacedBy: after["doubled@item=1"], quantum: { task: "double" } });
    expect(doubled.inputs![0]).toMatchObject({ dataset: "raw@item=1", digest: before["raw@item=1"], replacedBy: after["raw@item=1"] });

    const text = await runCli(["provenance", "parity@item=1"], { cwd: dir });
    expect(text.stdout).toContain(`doubled@item=1  ${before["doubled@item=1"]}  (the version read; the collection now holds ${after["doubled@item=1"]})`);
  });
});
