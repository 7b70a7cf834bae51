/**
 * A `quanta watch` in a child process (the real CLI, `--json`), as the integration tests of watch mode
 * drive it, and what they check in the process table after it ends.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import type { QuantaEvent } from "../../src/core/events.js";
import { QUANTA_BIN } from "./cli.js";
import { parseEventLine } from "./event-schema.js";

/** A running `quanta watch`, with every event it printed so far. */
export class Watch {
  readonly events: QuantaEvent[] = [];
  readonly child: ChildProcess;
  stderr = "";
  /** Index of the first event not yet taken by `nextPass`. */
  private taken = 0;

  constructor(dir: string, args: string[], pipeline = "chain.yaml") {
    this.child = spawn(process.execPath, [QUANTA_BIN, "watch", pipeline, "--repo", "repo", "--json", "--debounce", "100", ...args], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let buffered = "";
    this.child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) if (line.trim() !== "") this.events.push(parseEventLine(line));
    });
    this.child.stderr!.on("data", (chunk: Buffer) => (this.stderr += chunk.toString("utf8")));
  }

  /** Waits for the next pass to end (its `watch-waiting`, after a `watch-error` if it failed); its events. */
  async nextPass(): Promise<QuantaEvent[]> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const end = this.events.findIndex((e, i) => i >= this.taken && e.event === "watch-waiting");
      if (end >= 0) {
        const pass = this.events.slice(this.taken, end + 1);
        this.taken = end + 1;
        return pass;
      }
      if (this.child.exitCode !== null) throw new Error(`watch exited with ${this.child.exitCode}: ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`no pass ended; events: ${JSON.stringify(this.events.slice(this.taken))}\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async exit(): Promise<number> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    return new Promise((resolve) => this.child.once("exit", (code) => resolve(code ?? 128)));
  }
}

export function ran(events: QuantaEvent[]): string[] {
  return events
    .filter((e): e is Extract<QuantaEvent, { event: "quantum-finished" }> => e.event === "quantum-finished")
    .map((e) => (e.dataId === "" ? e.task : `${e.task}@${e.dataId}`))
    .sort();
}

export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export function isGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

export function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "(gone)";
  }
}

/** Waits until `done()` holds (30 s at most), looking every 10 ms. */
export async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error("gave up waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
}
