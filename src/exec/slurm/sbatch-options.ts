/**
 * A task's `resources:` as `sbatch` options: `cpus` → `--cpus-per-task`, `memory` (or `mem`) →
 * `--mem`, `time` → `--time`, `partition` → `--partition`, `extra` (a string or a list) → as written.
 * A job running several tasks' quanta takes the largest cpus, memory and time among them.
 */
import { UsageError } from "../../core/errors.js";

export interface SbatchResources {
  cpus?: number;
  /** In megabytes. */
  memoryMb?: number;
  /** In minutes. */
  timeMinutes?: number;
  partition?: string;
  extra: string[];
}

/** Reads a task's `resources:`; a value of the wrong kind is a usage error naming the task. */
export function readResources(label: string, resources: Readonly<Record<string, unknown>> | undefined): SbatchResources {
  const out: SbatchResources = { extra: [] };
  if (resources === undefined) return out;
  const cpus = resources.cpus;
  if (cpus !== undefined) {
    if (typeof cpus !== "number" || !Number.isInteger(cpus) || cpus < 1) throw new UsageError(`task ${label}: resources.cpus expects a whole number of at least 1, got ${JSON.stringify(cpus)}`);
    out.cpus = cpus;
  }
  const memory = resources.memory ?? resources.mem;
  if (memory !== undefined) out.memoryMb = parseMemory(label, memory);
  if (resources.time !== undefined) out.timeMinutes = parseTime(label, resources.time);
  if (resources.partition !== undefined) out.partition = String(resources.partition);
  const extra = resources.extra;
  if (typeof extra === "string") out.extra = extra.split(/\s+/).filter((s) => s !== "");
  else if (Array.isArray(extra)) out.extra = extra.map(String);
  return out;
}

/** The largest of each; partitions and extra options must agree (they are the job's). */
export function mergeResources(all: readonly SbatchResources[]): SbatchResources {
  const out: SbatchResources = { extra: [] };
  for (const r of all) {
    if (r.cpus !== undefined) out.cpus = Math.max(out.cpus ?? 0, r.cpus);
    if (r.memoryMb !== undefined) out.memoryMb = Math.max(out.memoryMb ?? 0, r.memoryMb);
    if (r.timeMinutes !== undefined) out.timeMinutes = Math.max(out.timeMinutes ?? 0, r.timeMinutes);
    out.partition ??= r.partition;
    for (const e of r.extra) if (!out.extra.includes(e)) out.extra.push(e);
  }
  return out;
}

export function sbatchArgs(r: SbatchResources): string[] {
  const args: string[] = [];
  if (r.cpus !== undefined) args.push(`--cpus-per-task=${r.cpus}`);
  if (r.memoryMb !== undefined) args.push(`--mem=${Math.ceil(r.memoryMb)}M`);
  if (r.timeMinutes !== undefined) args.push(`--time=${Math.max(1, Math.ceil(r.timeMinutes))}`);
  if (r.partition !== undefined) args.push(`--partition=${r.partition}`);
  return [...args, ...r.extra];
}

/** `4G`, `500M`, `1024` (megabytes). */
function parseMemory(label: string, value: unknown): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)B?$/i.exec(String(value).trim());
  if (m === null) throw new UsageError(`task ${label}: resources.memory expects a size such as 500M or 4G, got ${JSON.stringify(value)}`);
  const scale: Record<string, number> = { K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024, "": 1 };
  return Number(m[1]) * scale[m[2]!.toUpperCase()]!;
}

/** Minutes (a number), or `90s`, `10m`, `2h`, `1d`, or `MM:SS`, `HH:MM:SS` as Slurm reads them. */
function parseTime(label: string, value: unknown): number {
  if (typeof value === "number" && value > 0) return value;
  const text = String(value).trim();
  const unit = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)$/.exec(text);
  if (unit) return Number(unit[1]) * { s: 1 / 60, m: 1, h: 60, d: 1440 }[unit[2] as "s" | "m" | "h" | "d"];
  const clock = /^(?:(\d+):)?(\d+):(\d+)$/.exec(text);
  if (clock) return Number(clock[1] ?? 0) * 60 + Number(clock[2]) + Number(clock[3]) / 60;
  throw new UsageError(`task ${label}: resources.time expects minutes or a time such as 10m, 2h or 1:30:00, got ${JSON.stringify(value)}`);
}
