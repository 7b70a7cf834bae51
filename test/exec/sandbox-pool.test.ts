import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SandboxPool } from "../../src/exec/sandbox-pool.js";

const root = mkdtempSync(join(tmpdir(), "quanta-sandboxes-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

function pool(): SandboxPool {
  return new SandboxPool(join(root, `pool-${counter++}`));
}

/** Every path under `dir`, directories ending in `/`, sorted. */
function tree(dir: string, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? [`${prefix}${e.name}/`, ...tree(join(dir, e.name), `${prefix}${e.name}/`)] : [`${prefix}${e.name}`]))
    .sort();
}

describe("SandboxPool", () => {
  it("never empties through a symbolic link a command put in place of a sandbox directory", () => {
    const p = pool();
    const victim = join(root, `victim-${counter++}`);
    mkdirSync(join(victim, "sub"), { recursive: true });
    writeFileSync(join(victim, "precious.txt"), "keep me");
    for (const replaced of ["outputs", "inputs", "inputs/src"]) {
      const sandbox = p.take(["src"]);
      rmSync(join(sandbox.path, replaced), { recursive: true });
      symlinkSync(victim, join(sandbox.path, replaced));
      sandbox.release();
      expect(tree(victim)).toEqual(["precious.txt", "sub/"]);
      // Not handed out again: removed (the link with it, not what it points to).
      expect(existsSync(sandbox.path)).toBe(false);
    }
  });

  it("removes a sandbox released with reuse: false (its command may still be running)", () => {
    const p = pool();
    const first = p.take(["src"]);
    first.release({ reuse: false });
    expect(existsSync(first.path)).toBe(false);
    expect(p.take(["src"]).path).not.toBe(first.path);
  });

  it("makes a sandbox with a directory per input connection, and one for outputs", () => {
    const p = pool();
    expect(tree(p.take(["src", "flats"]).path)).toEqual(["inputs/", "inputs/flats/", "inputs/src/", "outputs/"]);
    expect(tree(p.take([]).path)).toEqual(["outputs/"]);
  });

  it("hands a released sandbox, emptied, to the next quantum with the same inputs", () => {
    const p = pool();
    const first = p.take(["src"]);
    writeFileSync(join(first.path, "inputs/src/a.txt"), "input");
    writeFileSync(join(first.path, "inputs/src.list"), "inputs/src/a.txt\n");
    writeFileSync(join(first.path, "outputs/out.txt"), "output");
    // What a command may leave behind: files and directories anywhere.
    writeFileSync(join(first.path, "stray.o"), "");
    mkdirSync(join(first.path, "cache/deep"), { recursive: true });
    writeFileSync(join(first.path, "cache/deep/file"), "");
    mkdirSync(join(first.path, "outputs/extra"));
    mkdirSync(join(first.path, "inputs/other"));
    first.release();
    const other = p.take(["flats"]);
    expect(other.path).not.toBe(first.path);
    const second = p.take(["src"]);
    expect(second.path).toBe(first.path);
    expect(tree(second.path)).toEqual(["inputs/", "inputs/src/", "outputs/"]);
  });

  it("finds what a command left in a directory it last found clean a while ago", async () => {
    const p = pool();
    const sandbox = p.take(["src"]);
    sandbox.release(); // too fresh to be trusted: read
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(p.take(["src"])).toBe(sandbox);
    sandbox.release(); // read, and its state kept: unchanged from now on, it is not read again
    for (const stray of ["stray.o", "inputs/stray.o"]) {
      expect(p.take(["src"])).toBe(sandbox);
      writeFileSync(join(sandbox.path, stray), "");
      sandbox.release();
      expect(tree(sandbox.path)).toEqual(["inputs/", "inputs/src/", "outputs/"]);
    }
    // Replaced by another directory of its own making: read too.
    expect(p.take(["src"])).toBe(sandbox);
    rmSync(join(sandbox.path, "inputs"), { recursive: true });
    mkdirSync(join(sandbox.path, "inputs/src"), { recursive: true });
    writeFileSync(join(sandbox.path, "inputs/stray.o"), "");
    sandbox.release();
    expect(tree(sandbox.path)).toEqual(["inputs/", "inputs/src/", "outputs/"]);
  });

  it("removes a sandbox that lost one of its directories instead of reusing it", () => {
    const p = pool();
    const broken = p.take(["src"]);
    rmSync(join(broken.path, "inputs"), { recursive: true });
    broken.release();
    expect(existsSync(broken.path)).toBe(false);
    const replaced = p.take(["src"]);
    rmSync(join(replaced.path, "outputs"), { recursive: true, force: true });
    writeFileSync(join(replaced.path, "outputs"), "a file where the directory was");
    replaced.release();
    expect(existsSync(replaced.path)).toBe(false);
    const fresh = p.take(["src"]);
    expect([broken.path, replaced.path]).not.toContain(fresh.path);
    expect(tree(fresh.path)).toEqual(["inputs/", "inputs/src/", "outputs/"]);
  });

  it("on close, removes the idle sandboxes now, the others when they are released, then its root", () => {
    const p = pool();
    const idle = p.take(["src"]);
    const busy = p.take(["src"]);
    idle.release();
    p.close();
    expect(existsSync(idle.path)).toBe(false);
    expect(existsSync(busy.path)).toBe(true);
    busy.release();
    expect(existsSync(p.root)).toBe(false);
  });
});
