// Part of `npm run build`: compiles native/quanta-spawn.c, the helper that starts command quanta so the
// CLI's Node process never forks (src/exec/helper-shell-spawner.ts), into dist/exec/quanta-spawn with
// the C compiler named by $CC, else `cc`. Without a compiler, or when it fails, the build goes on and
// says so: commands are then spawned by Node, the same but slower.
import { spawnSync } from "node:child_process";
import { mkdirSync, renameSync, rmSync } from "node:fs";
import { resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const source = resolve(root, "native/quanta-spawn.c");
const target = resolve(root, "dist/exec/quanta-spawn");
// Written beside the target and renamed over it, so a running helper never sees half a file.
const temp = `${target}.${process.pid}.tmp`;

if (process.platform === "win32") {
  console.log("note: no quanta-spawn helper on Windows; commands are spawned by Node");
} else {
  mkdirSync(resolve(root, "dist/exec"), { recursive: true });
  // $CC may carry flags of its own ("ccache cc", "gcc -m64").
  const [cc, ...ccFlags] = (process.env.CC || "cc").trim().split(/\s+/);
  const r = spawnSync(cc, [...ccFlags, "-O2", "-Wall", "-o", temp, source], { encoding: "utf8" });
  if (r.status === 0) {
    renameSync(temp, target);
  } else {
    rmSync(temp, { force: true });
    const why = r.error ? r.error.message : (r.stderr || `${cc} exited with code ${r.status}`).trim();
    console.log(`note: could not build the quanta-spawn helper (${why}); commands will be spawned by Node, which is slower`);
  }
}
