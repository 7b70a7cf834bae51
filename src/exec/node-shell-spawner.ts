/**
 * Starts each command with Node's own `spawn` (detached: a new session, so its own process group), its
 * stdout and stderr on one pipe. The fallback when the quanta-spawn helper is not available: a spawn
 * forks the whole CLI process, which costs the main thread about 1.5 ms per command.
 */
import { spawn } from "node:child_process";
import { DROPPED_LOG_NOTE, ESCAPED_GRACE_MS, ESCAPED_NOTE, MAX_LOG_BYTES, type ShellEnd, type ShellRun, type ShellRunOptions, type ShellSpawner } from "./shell-spawner.js";

/**
 * The process groups of the commands this process started and that may still run. Detached, they
 * would outlive the CLI: when it exits (an interrupt included, see src/app/interrupts.ts), they are killed.
 *
 * Process-wide by nature: it serves the one `exit` handler a process has, and holds a group only while
 * its command runs (`finish` takes it out), so a closed executor or session leaves nothing in it.
 */
const liveGroups = new Set<number>();
let killsOnExit = false;

function watchGroup(pid: number): void {
  liveGroups.add(pid);
  if (killsOnExit) return;
  killsOnExit = true;
  process.on("exit", () => {
    for (const group of liveGroups) killProcessGroup(group);
  });
}

function killProcessGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // The group is gone already.
  }
}

export class NodeShellSpawner implements ShellSpawner {
  readonly kind = "node" as const;

  run(command: string, opts: ShellRunOptions): Promise<ShellRun> {
    return new Promise((resolvePromise) => {
      if (opts.signal?.aborted) {
        resolvePromise({ end: { kind: "aborted" }, log: "" });
        return;
      }
      // `exec 2>&1` first: stdout and stderr share one pipe, so the log interleaves them as written.
      const child = spawn("/bin/sh", ["-c", `exec 2>&1\n${command}`], {
        cwd: opts.cwd,
        detached: true, // its own process group, so the whole tree can be killed
        stdio: ["ignore", "pipe", "ignore"],
      });
      if (child.pid !== undefined) watchGroup(child.pid);
      const chunks: Buffer[] = [];
      let kept = 0;
      let dropped = false;
      child.stdout!.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        kept += chunk.length;
        while (kept - chunks[0]!.length >= MAX_LOG_BYTES) {
          kept -= chunks.shift()!.length;
          dropped = true;
        }
      });
      let forced: "timeout" | "aborted" | undefined;
      const killGroup = () => {
        if (child.pid !== undefined) killProcessGroup(child.pid);
      };
      const timer =
        opts.timeoutMs !== undefined
          ? setTimeout(() => {
              forced ??= "timeout";
              killGroup();
            }, opts.timeoutMs)
          : undefined;
      const onAbort = () => {
        forced ??= "aborted";
        killGroup();
      };
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      let end: ShellEnd | undefined;
      let settled = false;
      let escaped: NodeJS.Timeout | undefined;
      const finish = (result: ShellEnd, note = "") => {
        if (settled) return;
        settled = true;
        if (child.pid !== undefined) liveGroups.delete(child.pid);
        if (timer !== undefined) clearTimeout(timer);
        if (escaped !== undefined) clearTimeout(escaped);
        opts.signal?.removeEventListener("abort", onAbort);
        let log = Buffer.concat(chunks).toString("utf8") + note;
        if (dropped) log = DROPPED_LOG_NOTE + log;
        resolvePromise({ end: result, log });
      };
      child.on("error", (error) => {
        end ??= { kind: "spawn-error", message: error.message };
        finish(end);
      });
      child.on("exit", (code, signal) => {
        end = forced ? { kind: forced } : signal ? { kind: "signal", signal } : { kind: "exit", code: code ?? -1 };
        // Background processes the command left behind would hold the pipe open: end them.
        killGroup();
        // One that started a session of its own is out of reach: stop waiting for it after a while.
        escaped = setTimeout(() => {
          child.stdout!.destroy();
          finish(end!, ESCAPED_NOTE);
        }, ESCAPED_GRACE_MS);
      });
      // "close" comes once every process holding the pipe is gone: the quantum leaves nothing running.
      child.on("close", () => {
        if (end !== undefined && end.kind !== "spawn-error") finish(end);
      });
    });
  }
}
