/** A temporary copy of test/fixtures/chain with N raw files, and helpers to run the CLI on it. */
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { QuantaEvent } from "../../src/core/events.js";
import { makeTempDir, PROJECT_ROOT, runCli, type CliResult } from "../helpers/cli.js";

export interface RunOutcome extends CliResult {
  events: QuantaEvent[];
  /** `task@dataId` of every quantum that ran to completion. */
  ran: string[];
  failed: string[];
  blocked: string[];
  upToDate: string[];
  finished: Extract<QuantaEvent, { event: "run-finished" }>;
}

export function makeChainFixture(items: number): { dir: string; repo: string; cleanup: () => void } {
  const { dir, cleanup } = makeTempDir("quanta-chain-");
  cpSync(join(PROJECT_ROOT, "test", "fixtures", "chain"), dir, { recursive: true });
  mkdirSync(join(dir, "data"), { recursive: true });
  for (let i = 1; i <= items; i++) writeFileSync(join(dir, "data", `raw-${i}.txt`), `${i}\n`);
  return { dir, repo: join(dir, "repo"), cleanup };
}

function name(e: { task: string; dataId: string }): string {
  return e.dataId === "" ? e.task : `${e.task}@${e.dataId}`;
}

/** Runs `quanta run chain.yaml --json` in the fixture and sorts its events into sets. */
export async function runChain(dir: string, extra: string[] = []): Promise<RunOutcome> {
  const r = await runCli(["run", "chain.yaml", "--repo", "repo", "--json", ...extra], { cwd: dir });
  const events = r.stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as QuantaEvent);
  const pick = (kind: QuantaEvent["event"]) =>
    events
      .filter((e) => e.event === kind)
      .map((e) => name(e as { task: string; dataId: string }))
      .sort();
  const finished = events.find((e) => e.event === "run-finished") as RunOutcome["finished"];
  if (!finished) throw new Error(`no run-finished event (exit ${r.code}):\n${r.stderr}\n${r.stdout}`);
  return { ...r, events, ran: pick("quantum-finished"), failed: pick("quantum-failed"), blocked: pick("quantum-blocked"), upToDate: pick("quantum-up-to-date"), finished };
}

export function itemsOf(task: string, items: number[]): string[] {
  return items.map((i) => `${task}@item=${i}`);
}
