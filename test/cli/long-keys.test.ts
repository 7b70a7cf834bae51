/**
 * 14.1 through the real CLI: data IDs of six dimensions with 200-character values, and dataset type,
 * task and collection names of 100 characters, make registry keys of about 1,400 bytes.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { open } from "lmdb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir, runCli } from "../helpers/cli.js";

const DIMS = ["band", "detector", "exposure", "instrument", "physical_filter", "visit"];
const RAW = "raw" + "w".repeat(97);
const UPPER = "upper" + "u".repeat(95);
const COLLECTION = "run" + "c".repeat(97);
const value = (dim: string, i: number) => `${dim}${i}`.padEnd(200, "v");
const dataIdText = (i: number) => DIMS.map((d) => `${d}=${value(d, i)}`).join(",");

let dir: string;
let cleanup: () => void;
beforeAll(() => {
  ({ dir, cleanup } = makeTempDir("quanta-long-keys-"));
  for (let i = 0; i < 3; i++) {
    const folder = join(dir, "data", ...DIMS.slice(0, -1).map((d) => value(d, i)));
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `${value("visit", i)}.txt`), `item ${i}\n`);
  }
  mkdirSync(join(dir, "tasks"));
  const conn = (type: string, extra = "") => `{ type: "${type}", dimensions: ${JSON.stringify(DIMS)}, storage: "text"${extra} }`;
  writeFileSync(
    join(dir, "tasks", "upper.ts"),
    `import { defineTask } from "quanta";
export default defineTask({
  name: "upper", dimensions: ${JSON.stringify(DIMS)},
  inputs: { raw: ${conn(RAW)} }, outputs: { out: ${conn(UPPER)} },
  run({ raw }) { return { out: raw.toUpperCase() }; },
});
`,
  );
  writeFileSync(
    join(dir, "tasks", "count.ts"),
    `import { defineTask } from "quanta";
export default defineTask({
  name: "count", dimensions: [],
  inputs: { all: ${conn(UPPER, ", multiple: true")} }, outputs: { n: { type: "n", dimensions: [], storage: "text" } },
  run({ all }) { return { n: String(all.length) }; },
});
`,
  );
  writeFileSync(
    join(dir, "p.yaml"),
    [
      `dimensions: { ${DIMS.map((d) => `${d}: string`).join(", ")} }`,
      `inputs: { ${RAW}: { path: "data/${DIMS.map((d) => `{${d}}`).join("/")}.txt", storage: text } }`,
      "tasks:",
      `  ${"t".repeat(100)}: { task: ./tasks/upper.ts }`,
      "  count: { task: ./tasks/count.ts }",
    ].join("\n") + "\n",
  );
});
afterAll(() => cleanup());

describe("14.1 long registry keys, end to end", () => {
  it("14.1 run builds every quantum, and datasets, get, verify and a rerun read the long keys back", async () => {
    const run = await runCli(["run", "p.yaml", "--repo", "repo", "--output", COLLECTION, "--json"], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const finished = JSON.parse(run.stdout.trim().split("\n").at(-1)!);
    expect(finished).toMatchObject({ event: "run-finished", counts: { ran: 4, upToDate: 0, failed: 0, blocked: 0 } });

    const listed = await runCli(["datasets", "--repo", "repo", "--json"], { cwd: dir });
    expect(listed.code, listed.stderr).toBe(0);
    const rows = listed.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; collection: string; dataId: Record<string, string> });
    expect(rows.map((r) => `${r.collection.length} ${r.type}`).sort()).toEqual([
      "100 n",
      ...Array(3).fill(`100 ${UPPER}`),
      ...Array(3).fill(`5 ${RAW}`), // in the pipeline's input collection, raw/p
    ].sort());
    expect(rows.find((r) => r.type === UPPER)?.dataId.physical_filter).toBe(value("physical_filter", 0));

    const got = await runCli(["get", `${UPPER}@${dataIdText(2)}`, "--repo", "repo", "--collection", COLLECTION], { cwd: dir });
    expect(got, got.stderr).toMatchObject({ code: 0, stdout: "ITEM 2\n" });
    const count = await runCli(["get", "n", "--repo", "repo", "--collection", COLLECTION], { cwd: dir });
    expect(count).toMatchObject({ code: 0, stdout: "3" });

    const verified = await runCli(["verify", "--repo", "repo"], { cwd: dir });
    expect(verified.code, verified.stderr).toBe(0);

    const again = await runCli(["run", "p.yaml", "--repo", "repo", "--output", COLLECTION, "--json"], { cwd: dir });
    expect(JSON.parse(again.stdout.trim().split("\n").at(-1)!)).toMatchObject({ counts: { ran: 0, upToDate: 4 } });
  });
});

describe("14.1 a registry key longer than LMDB allows, end to end", () => {
  it("14.1 ingest refuses it with exit 2, naming the key, and writes nothing", async () => {
    const dims = Array.from({ length: 8 }, (_, i) => `d${i}`);
    const values = dims.map((d) => d.padEnd(250, "v"));
    const folder = join(dir, "huge", ...values.slice(0, -1));
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `${values.at(-1)}.txt`), "x\n");
    writeFileSync(
      join(dir, "huge.yaml"),
      `dimensions: { ${dims.map((d) => `${d}: string`).join(", ")} }\ninputs: { raw: { path: "huge/${dims.map((d) => `{${d}}`).join("/")}.txt", storage: text } }\n`,
    );
    const r = await runCli(["ingest", "huge.yaml", "--repo", "huge-repo"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: a registry key is too long \(\d{4} bytes, at most 1978\): raw\/huge\/raw\/d0=d0v+…\nhint: use shorter data ID values/);
    const listed = await runCli(["datasets", "--repo", "huge-repo"], { cwd: dir });
    expect(listed).toMatchObject({ code: 0, stdout: "no datasets\n" });
  });
});

describe("a registry key too long for the output collection only, found by the run's commit", () => {
  // The data ID fits the input collection's keys, so ingest takes it; with an output collection of 500
  // bytes, the first commit of results fails. The run stops there: the command still running is
  // killed (it never writes "end"), whichever spawner runs it, and the run exits 2 with the key.
  for (const spawner of ["helper", "node"] as const) {
    it(`stops the run and its running commands (${spawner === "node" ? "Node's spawn" : "the quanta-spawn helper"})`, async () => {
      const dims = ["a", "b", "c", "d", "e", "f"];
      const value = "v".repeat(245);
      const base = join(dir, `commit-fails-${spawner}`);
      mkdirSync(join(base, "in", ...dims.slice(1).map(() => value)), { recursive: true });
      writeFileSync(join(base, "in", ...dims.map(() => value)) + ".txt", "x\n");
      const log = join(base, "log");
      const conn = (type: string) => `{ type: ${type}, dimensions: [${dims.join(", ")}], storage: file }`;
      const task = (label: string, command: string, type: string) =>
        [`  ${label}:`, `    command: "${command}"`, `    dimensions: [${dims.join(", ")}]`, `    inputs: { src: ${conn("raw")} }`, `    outputs: { dst: ${conn(type)} }`];
      writeFileSync(
        join(base, "p.yaml"),
        [
          `dimensions: { ${dims.map((d) => `${d}: string`).join(", ")} }`,
          `inputs: { raw: { path: "in/${dims.map((d) => `{${d}}`).join("/")}.txt", storage: file } }`,
          "tasks:",
          ...task("quick", "cp {inputs.src} {outputs.dst}", "copied"),
          ...task("slow", `echo start >> ${log}; sleep 20; echo end >> ${log}; cp {inputs.src} {outputs.dst}`, "slowcopy"),
        ].join("\n") + "\n",
      );
      const env = spawner === "node" ? { QUANTA_SPAWNER: "node" } : {};
      const r = await runCli(["run", "p.yaml", "--repo", "repo", "-j", "2", "--output", "o".repeat(500)], { cwd: base, env });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error: a registry key is too long \(\d{4} bytes, at most 1978\): o+…\/copied\/a=v+…/m);
      expect(readFileSync(log, "utf8")).toBe("start\n");
    });
  }
});

describe("14.1 a repository of the previous registry format", () => {
  const refuse = async (format: number, why: string) => {
    const repo = join(dir, `old-repo-${format}`);
    mkdirSync(join(repo, "registry"), { recursive: true });
    writeFileSync(join(repo, "format"), "quanta repository 1\n");
    const env = open({ path: join(repo, "registry"), maxDbs: 16 });
    await env.openDB("meta", { encoding: "msgpack" }).put("format", format);
    await env.close();
    for (const args of [["datasets"], ["run", "p.yaml"]]) {
      const r = await runCli([...args, "--repo", repo], { cwd: dir });
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toBe(
        `error: registry format ${format} found in ${repo}, 5 expected\n` +
          `hint: delete ${repo} and ingest again (the next run recomputes every result), or keep using the version of quanta that wrote it (format ${format}: ${why})\n`,
      );
    }
  };

  it("14.1 is refused by readers and writers with exit 3, what was found, what is expected and what to do", async () => {
    await refuse(3, "quanta 0.1 before 128-bit digests and binary registry keys");
  });

  it("19.1 a repository of registry format 4 (every raw file copied) is refused likewise", async () => {
    await refuse(4, "quanta 0.1 before raw inputs by reference");
  });
});
