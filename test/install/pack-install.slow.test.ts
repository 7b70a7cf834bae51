/**
 * 17.1: quanta installed as a package into a user's own folder, outside this checkout. Packs the built
 * checkout (`npm test` builds first; packing skips the `prepare` build so that it never rewrites dist/
 * under the tests running beside it), installs the tarball with npm, runs a pipeline with a TypeScript
 * task there through the installed `quanta`, and type-checks the task against the installed types.
 *
 * Slow (an `npm install` from the registry): `npm run test:fast` leaves it out.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir, PROJECT_ROOT } from "../helpers/cli.js";

const temp = makeTempDir("quanta-pack-");
afterAll(() => temp.cleanup());

function run(command: string, args: string[], cwd: string) {
  const r = spawnSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, CI: "true", NO_COLOR: "1" }, timeout: 300_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

const TASK = `import { defineTask, z } from "quanta";

export default defineTask({
  name: "count",
  dimensions: ["doc"],
  config: z.object({ lower: z.boolean().default(true) }),
  inputs: { text: { type: "text", dimensions: ["doc"], storage: "text" } },
  outputs: { words: { type: "words", dimensions: ["doc"], storage: "json" } },
  run({ text }, config) {
    const words: string = config.lower ? text.toLowerCase() : text;
    return { words: words.split(/\\s+/).filter((w) => w.length > 0).length };
  },
});
`;

function writeProject(dir: string): void {
  mkdirSync(join(dir, "tasks"), { recursive: true });
  mkdirSync(join(dir, "data"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "words", private: true, type: "module" }));
  writeFileSync(
    join(dir, "words.yaml"),
    ["dimensions: { doc: int }", "inputs:", '  text: { path: "data/doc{doc}.txt", storage: text }', "tasks:", "  count: { task: ./tasks/count.ts }", ""].join("\n"),
  );
  writeFileSync(join(dir, "tasks", "count.ts"), TASK);
  ["One two three", "four five", "six"].forEach((text, i) => writeFileSync(join(dir, "data", `doc${i + 1}.txt`), `${text}\n`));
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", strict: true, noEmit: true, types: [] }, include: ["tasks"] }),
  );
}

describe("17.1 install and use it anywhere", () => {
  it("packs only what it needs, installs into a folder of its own, runs a pipeline there and type-checks its task", () => {
    const packDir = join(temp.dir, "pack");
    mkdirSync(packDir);
    const packed = run("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", packDir], PROJECT_ROOT);
    expect(packed.code, packed.stderr).toBe(0);
    const tarball = join(packDir, readdirSync(packDir).find((f) => f.endsWith(".tgz"))!);
    const listing = run("tar", ["tzf", tarball], packDir).stdout.split("\n");
    expect(listing).toContain("package/dist/bundle/main.js");
    expect(listing).toContain("package/dist/index.d.ts");
    expect(listing).toContain("package/bin/quanta.js");
    expect(listing.filter((f) => /^package\/(test|bench|pipelines|cache)\//.test(f))).toEqual([]);

    const project = join(temp.dir, "words");
    writeProject(project);
    const installed = run("npm", ["install", "--save-dev", "--prefer-offline", "--no-audit", "--no-fund", tarball], project);
    expect(installed.code, installed.stderr).toBe(0);

    const quanta = join(project, "node_modules", ".bin", "quanta");
    const ran = run(quanta, ["run", "words.yaml", "--json"], project);
    expect(ran.code, ran.stderr).toBe(0);
    const last = JSON.parse(ran.stdout.trim().split("\n").pop()!) as { event: string; counts: { ran: number } };
    expect(last.event).toBe("run-finished");
    expect(last.counts.ran).toBe(3);
    const got = run(quanta, ["get", "words@doc=1"], project);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout.trim()).toBe("3");

    const tsc = join(PROJECT_ROOT, "node_modules", "typescript", "bin", "tsc");
    const checked = run(process.execPath, [tsc, "-p", "."], project);
    expect(checked.stdout + checked.stderr).toBe("");
    expect(checked.code).toBe(0);
    // The types are real, not `any`: a wrong annotation is caught.
    writeFileSync(join(project, "tasks", "count.ts"), TASK.replace("const words: string", "const words: number"));
    const wrong = run(process.execPath, [tsc, "-p", "."], project);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stdout).toContain("tasks/count.ts(10,11): error TS2322");
  }, 600_000);
});
