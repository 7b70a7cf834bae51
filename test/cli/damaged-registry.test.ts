/**
 * 14.13 A damaged registry file (truncated, zero-filled, overwritten) gives exit 3 and "the registry
 * is damaged" with what to do, for every command, instead of SIGBUS, SIGSEGV or an assertion; a
 * repository whose creation stopped early is finished by readers as by writers.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { open } from "lmdb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir, runCli } from "../helpers/cli.js";
import { REGISTRY_FORMAT } from "../../src/store/lmdb-registry.js";

let dir: string;
let cleanup: () => void;
let pristine: string;
let copies = 0;

beforeAll(async () => {
  ({ dir, cleanup } = makeTempDir("quanta-damaged-"));
  mkdirSync(join(dir, "data"));
  for (let i = 1; i <= 20; i++) writeFileSync(join(dir, "data", `${i}.txt`), `item ${i}\n`.repeat(i * 40));
  writeFileSync(
    join(dir, "p.yaml"),
    [
      "dimensions: { item: int }",
      'inputs: { raw: { path: "data/{item}.txt", storage: text } }',
      "tasks:",
      "  copy:",
      '    command: "cp {inputs.src} {outputs.out}"',
      "    dimensions: [item]",
      "    inputs: { src: { type: raw, dimensions: [item], storage: text } }",
      "    outputs: { out: { type: copied, dimensions: [item], storage: text } }",
    ].join("\n") + "\n",
  );
  pristine = join(dir, "pristine");
  const ingest = await runCli(["ingest", "p.yaml", "--repo", pristine], { cwd: dir });
  expect(ingest.code, ingest.stderr).toBe(0);
});
afterAll(() => cleanup());

/** A copy of the ingested repository, its data.mdb changed by `damage`. */
function damagedCopy(damage: (file: string, bytes: Buffer) => void): string {
  const repo = join(dir, `repo-${copies++}`);
  cpSync(pristine, repo, { recursive: true });
  const file = join(repo, "registry", "data.mdb");
  damage(file, readFileSync(file));
  return repo;
}

/** Bytes that look like nothing (a fixed pseudo-random sequence). */
function garbage(length: number): Buffer {
  const out = Buffer.alloc(length);
  let x = 0x2545f491;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const COMMANDS: string[][] = [["run", "p.yaml"], ["status", "p.yaml"], ["datasets"], ["get", "raw@item=3"], ["verify"]];

const DAMAGES: [string, (file: string, bytes: Buffer) => void][] = [
  ["truncated to half", (file, bytes) => truncateSync(file, Math.floor(bytes.length / 2 / 4096) * 4096)],
  ["zero-filled", (file, bytes) => writeFileSync(file, Buffer.alloc(bytes.length))],
  ["overwritten with garbage", (file, bytes) => writeFileSync(file, garbage(bytes.length))],
  ["with garbage after its meta pages", (file, bytes) => writeFileSync(file, Buffer.concat([bytes.subarray(0, 8192), garbage(bytes.length - 8192)]))],
];

describe("14.13 a damaged registry", () => {
  it.each(DAMAGES)("14.13 a data.mdb %s: every command exits 3 with 'the registry is damaged' and a hint", async (_, damage) => {
    const repo = damagedCopy(damage);
    // Readers at once; the writers (run, status) one after the other, as each takes the lock.
    const readers = Promise.all(COMMANDS.slice(2).map((args) => runCli([...args, "--repo", repo], { cwd: dir })));
    const writers = [];
    for (const args of COMMANDS.slice(0, 2)) writers.push(await runCli([...args, "--repo", repo], { cwd: dir }));
    const results = [...writers, ...(await readers)];
    results.forEach((r, i) => {
      const what = `${COMMANDS[i]!.join(" ")}: ${r.stderr}`;
      expect(r.code, what).toBe(3);
      expect(r.stderr, what).toMatch(/^error: the registry is damaged: .+ \(.*data\.mdb\)\nhint: restore .* from a backup, or delete .* and ingest again/m);
    });
  });

  it("14.13 the pristine copy is sound, so the damage above is what the commands saw", async () => {
    const r = await runCli(["get", "raw@item=3", "--repo", pristine], { cwd: dir });
    expect(r).toMatchObject({ code: 0, stdout: "item 3\n".repeat(120) });
    expect(statSync(join(pristine, "registry", "data.mdb")).size).toBeGreaterThan(8192);
  });
});

describe("14.13 an interrupted creation", () => {
  const READERS: [string[], number, RegExp][] = [
    [["datasets"], 0, /^no datasets\n$/],
    [["verify"], 0, /./],
    [["get", "raw@item=1"], 2, /^$/],
    [["status", "p.yaml"], 0, /: 20 will run, 0 may run, 0 up to date\n$/],
  ];
  const STOPS: [string, (repo: string) => Promise<void>][] = [
    ["before the registry's directory", async (repo) => rmSync(join(repo, "registry"), { recursive: true })],
    ["with an empty data.mdb", async (repo) => truncateSync(join(repo, "registry", "data.mdb"), 0)],
    [
      "before the format marker",
      async (repo) => {
        rmSync(join(repo, "registry"), { recursive: true });
        const env = open({ path: join(repo, "registry"), maxDbs: 16 });
        await env.openDB("meta", { encoding: "msgpack" }).put("created", 1);
        await env.close();
      },
    ],
    [
      // A fault-injection kill found this: a reader then met a sub-database that did not exist.
      "after the format marker, before its sub-databases",
      async (repo) => {
        rmSync(join(repo, "registry"), { recursive: true });
        const env = open({ path: join(repo, "registry"), maxDbs: 16 });
        await env.openDB("meta", { encoding: "msgpack" }).put("format", REGISTRY_FORMAT);
        await env.close();
      },
    ],
  ];
  it.each(STOPS)("14.13 stopped %s: readers finish it and read an empty repository", async (_, stop) => {
    const repo = join(dir, `unfinished-${copies++}`);
    mkdirSync(join(repo, "registry"), { recursive: true });
    writeFileSync(join(repo, "format"), "quanta repository 1\n");
    writeFileSync(join(repo, "registry", "data.mdb"), "");
    await stop(repo);
    for (const [args, code, stdout] of READERS) {
      const r = await runCli([...args, "--repo", repo], { cwd: dir });
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(code);
      expect(r.stdout).toMatch(stdout);
      if (code === 2) expect(r.stderr).toMatch(/^error: no dataset type 'raw'/);
    }
  });
});
