/**
 * Item 16 of issue 14: task bundles live in a private directory of the repository and are imported
 * only when their bytes are the bundle just built; a failing task's stack names its real file.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir, runCli } from "../helpers/cli.js";

const temp = makeTempDir("quanta-task-module-cli-");
afterAll(() => temp.cleanup());
let counter = 0;

const BOOM = `import { defineTask } from "quanta";

function explode(n: number): never {
  // the throw below is on line 6
  const why = "boom " + n;
  throw new Error(why);
}

export default defineTask({
  name: "boom",
  dimensions: ["item"],
  inputs: { raw: { type: "raw", dimensions: ["item"], storage: "text" } },
  outputs: { out: { type: "out", dimensions: ["item"], storage: "json" } },
  run({ raw }) {
    if (raw.trim() === "fail") return explode(1);
    return { out: { text: raw.trim() } };
  },
});
`;

function makeProject(raw: string): string {
  const dir = join(temp.dir, `p-${counter++}`);
  mkdirSync(join(dir, "tasks"), { recursive: true });
  mkdirSync(join(dir, "data"));
  writeFileSync(join(dir, "data", "raw-1.txt"), `${raw}\n`);
  writeFileSync(join(dir, "tasks", "boom.ts"), BOOM);
  writeFileSync(
    join(dir, "p.yaml"),
    ["dimensions: { item: int }", 'inputs: { raw: { path: "data/raw-{item}.txt", storage: text } }', "tasks:", "  boom: { task: ./tasks/boom.ts }"].join("\n") + "\n",
  );
  return dir;
}

describe("14.16 task bundles and their stack frames", () => {
  it("14.16 a file planted where a bundle goes is never imported; the bundle directory is private", async () => {
    const dir = makeProject("fine");
    expect((await runCli(["run", "p.yaml", "-j", "1"], { cwd: dir })).code).toBe(0);
    const bundles = join(dir, "cache", "modules", "quanta-modules");
    expect(statSync(bundles).mode & 0o777).toBe(0o700);
    const names = readdirSync(bundles).filter((n) => n.endsWith(".mjs"));
    expect(names.length).toBeGreaterThan(0);
    const marker = join(dir, "planted-code-ran");
    const planted = `import { writeFileSync } from "node:fs"; writeFileSync(${JSON.stringify(marker)}, "x"); export default {};\n`;
    for (const name of names) writeFileSync(join(bundles, name), planted);

    for (const args of [["graph", "p.yaml"], ["run", "p.yaml", "-j", "2"]]) {
      const r = await runCli(args, { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      expect(existsSync(marker)).toBe(false);
    }
    for (const name of names) expect(readFileSync(join(bundles, name), "utf8")).not.toContain("planted-code-ran");
  });

  it.each([["1"], ["2"]])("16 with -j %s, a failing task's stack frames name tasks/boom.ts:6", async (jobs) => {
    const dir = makeProject("fail");
    const run = await runCli(["run", "p.yaml", "-j", jobs], { cwd: dir });
    expect(run.code).toBe(1);
    const log = await runCli(["log", "boom@item=1"], { cwd: dir });
    expect(log.stdout).toContain("ERROR Error: boom 1");
    expect(log.stdout).toContain(`at explode (${join(dir, "tasks", "boom.ts")}:6:`);
    expect(log.stdout).toContain(`(${join(dir, "tasks", "boom.ts")}:15:`);
  });
});
