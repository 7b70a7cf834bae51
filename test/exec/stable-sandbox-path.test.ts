/**
 * A quantum's stable path (stable-sandbox-path.ts) is a link that a run killed outright leaves behind.
 * The next run of the same quantum removes it when the run that made it is gone, and never takes a
 * live run's. The process is read from the pool's directory as command-host.ts names it.
 */
import { spawnSync } from "node:child_process";
import { lstatSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CommandHost } from "../../src/exec/command-host.js";
import { claimStablePath, poolProcess } from "../../src/exec/stable-sandbox-path.js";

const root = mkdtempSync(join(tmpdir(), "quanta-stable-path-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const links = join(root, "links");

/** The pid of a process that has ended. */
function deadPid(): number {
  const child = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" });
  return Number(child.stdout.trim());
}

/** A sandbox directory of a pool named as command-host.ts names it, made. */
function sandboxOf(host: string, pid: number, n: number): string {
  const path = join(root, "repo", "tmp", `sandboxes-${host}-${pid}-0-${n}`, "0");
  mkdirSync(path, { recursive: true });
  return path;
}

describe("the stable path of a quantum", () => {
  it("reads the process of this host from a pool's directory, whatever dashes the host name holds", () => {
    const host = new CommandHost(join(root, "host-tmp"));
    try {
      const sandbox = host.sandboxes.take(["src"]);
      expect(poolProcess(sandbox.path)).toBe(process.pid);
      sandbox.release();
    } finally {
      host.sandboxes.close();
    }
    expect(poolProcess("/r/tmp/sandboxes-node-7-b-123-0-4/2", "node-7-b")).toBe(123);
    expect(poolProcess("/r/tmp/sandboxes-node-7-b-123-0-4/2/", "node-7-b")).toBe(123);
    expect(poolProcess("/r/tmp/sandboxes-other-123-0-4/2", "node-7-b")).toBeUndefined();
    expect(poolProcess("/r/tmp/elsewhere/2", "node-7-b")).toBeUndefined();
  });

  it("takes the place of a link whose run is gone, and leaves a live run's", () => {
    const mine = sandboxOf(hostname(), process.pid, 1);
    // Left by a run killed outright, its sandbox still there.
    const left = join(links, "t.visit=1");
    mkdirSync(links, { recursive: true });
    symlinkSync(sandboxOf(hostname(), deadPid(), 2), left);
    const claimed = claimStablePath("t", { visit: 1 }, mine, links);
    expect(claimed?.path).toBe(left);
    expect(readlinkSync(left)).toBe(mine);
    claimed!.release();
    expect(lstatSync(left, { throwIfNoEntry: false })).toBeUndefined();

    // A live run's (this process stands for it): the quantum runs in its own sandbox path instead.
    const live = join(links, "t.visit=2");
    const theirs = sandboxOf(hostname(), process.pid, 3);
    symlinkSync(theirs, live);
    expect(claimStablePath("t", { visit: 2 }, mine, links)).toBeUndefined();
    expect(readlinkSync(live)).toBe(theirs);

    // Another host's run cannot be asked: its link stays while its sandbox is there, and goes with it.
    const remote = join(links, "t.visit=3");
    const far = sandboxOf("elsewhere.example", deadPid(), 4);
    symlinkSync(far, remote);
    expect(claimStablePath("t", { visit: 3 }, mine, links)).toBeUndefined();
    rmSync(far, { recursive: true });
    expect(claimStablePath("t", { visit: 3 }, mine, links)?.path).toBe(remote);
  });
});
