import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RepositoryError } from "../../src/core/errors.js";
import { openRepository } from "../../src/store/repository.js";
import { makeTempDir, PROJECT_ROOT, runCli } from "../helpers/cli.js";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = makeTempDir("quanta-lock-")));
afterEach(() => cleanup());

/** A child that opens the repository for writing, prints "locked", and then does what `then` says. */
function startWriter(repo: string, then: "wait-for-stdin" | "exit-without-close"): ChildProcess {
  const script = `
    import { openRepository } from ${JSON.stringify(join(PROJECT_ROOT, "dist/store/repository.js"))};
    const repo = await openRepository(process.argv[1], { write: true, command: "quanta run" });
    process.stdout.write("locked\\n");
    if (process.argv[2] === "exit-without-close") process.exit(0);
    process.stdin.resume();
    process.stdin.on("end", async () => { await repo.close(); process.stdout.write("released\\n"); });
  `;
  return spawn(process.execPath, ["--input-type=module", "-e", script, repo, then], { stdio: ["pipe", "pipe", "inherit"] });
}

function nextLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    child.stdout!.setEncoding("utf8").once("data", (d: string) => resolve(d.trim()));
    child.once("close", (code) => resolve(`exited ${code}`));
  });
}

describe("the writer lock", () => {
  it("lets one of two writer processes in; the other exits 3 naming the holder", async () => {
    const repo = join(dir, "repo");
    const first = startWriter(repo, "wait-for-stdin");
    expect(await nextLine(first)).toBe("locked");

    const second = await runCli(["gc", "--repo", repo]);
    expect(second.code).toBe(3);
    expect(second.stderr).toMatch(
      new RegExp(`^error: repository ${repo} is locked by pid ${first.pid} \\(quanta run, started \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ\\)\\n`),
    );
    // A reader does not need the lock.
    const reader = await runCli(["datasets", "--repo", repo]);
    expect(reader).toMatchObject({ code: 0, stdout: "no datasets\n" });

    first.stdin!.end();
    expect(await nextLine(first)).toBe("released");
    await new Promise((resolve) => first.once("close", resolve));
    expect(existsSync(join(repo, "lock"))).toBe(false);
    const third = await runCli(["gc", "--repo", repo]);
    expect(third.code).toBe(0);
  });

  it("is released when the process exits without closing", async () => {
    const repo = join(dir, "repo");
    const child = startWriter(repo, "exit-without-close");
    expect(await nextLine(child)).toBe("locked");
    await new Promise((resolve) => child.once("close", resolve));
    expect(existsSync(join(repo, "lock"))).toBe(false);
  });

  it("takes over a lock left by a killed process, with a note", async () => {
    const repo = join(dir, "repo");
    const child = startWriter(repo, "wait-for-stdin");
    expect(await nextLine(child)).toBe("locked");
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("close", resolve));
    const stale = JSON.parse(readFileSync(join(repo, "lock"), "utf8")) as { pid: number };
    expect(stale.pid).toBe(child.pid);

    const notes: string[] = [];
    const handle = await openRepository(repo, { write: true, command: "quanta ingest", onNote: (n) => notes.push(n) });
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(new RegExp(`^note: took over the lock of ${repo} left by pid ${child.pid} \\(quanta run, started .*\\), which no longer runs$`));
    expect(JSON.parse(readFileSync(join(repo, "lock"), "utf8")).pid).toBe(process.pid);
    await handle.close();
    expect(existsSync(join(repo, "lock"))).toBe(false);
  });

  it("respects a lock held from another host", async () => {
    const repo = join(dir, "repo");
    await (await openRepository(repo, { write: true })).close();
    const info = { format: 1, pid: 999999, host: hostname() + "-elsewhere", startedAt: 0, command: "quanta run", token: "t" };
    writeFileSync(join(repo, "lock"), JSON.stringify(info));
    const err = await openRepository(repo, { write: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RepositoryError);
    expect((err as Error).message).toBe(
      `repository ${repo} is locked by pid 999999 on ${info.host} (quanta run, started 1970-01-01 00:00:00Z)`,
    );
  });

  it("a read of a missing repository is an error with a hint", async () => {
    const err = await openRepository(join(dir, "nothing"), { write: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RepositoryError);
    expect((err as RepositoryError).message).toBe(`no repository at ${join(dir, "nothing")}`);
    expect((err as RepositoryError).hint).toMatch(/quanta ingest PIPELINE/);
  });
});
