/**
 * Why a quantum runs, as data. `decideQuantum` compares what would feed the quantum's key now with what
 * the repository remembers, and returns a decision with its reasons; `formatReason` prints one reason
 * for `quanta why`, `quanta status --list` and the execution log.
 */
import { flattenJson } from "./canonical-json.js";
import type { BlobDigest, CodeDigest, QuantumKey } from "./digest.js";
import type { KeyInput, KeyManifest } from "./quantum-key.js";

export type Reason =
  | { kind: "up-to-date" }
  /** Not recorded in this collection (or recorded with another key), but the action cache has its outputs. */
  | { kind: "cached" }
  | { kind: "new" }
  | { kind: "code-changed"; before: CodeDigest; after: CodeDigest }
  | { kind: "config-changed"; key: string; before: unknown; after: unknown }
  /** The task's `version:` or a `tools:` executable changed (`name`: `version`, `tool cc`). */
  | { kind: "depends-changed"; name: string; before?: string; after?: string }
  /** `--force`: the task's quanta run whatever the cache holds. */
  | { kind: "forced" }
  /** A temp output of it was dropped, and `consumer` must run (empty: nothing in the plan reads it, it was asked for). */
  | { kind: "temp-needed"; type: string; dataId: string; consumer: string }
  | { kind: "input-changed"; connection: string; type: string; dataId: string; before: BlobDigest; after: BlobDigest }
  | { kind: "input-added"; connection: string; type: string; dataId: string; digest: BlobDigest }
  | { kind: "input-removed"; connection: string; type: string; dataId: string; digest: BlobDigest }
  | { kind: "output-missing"; connection: string; type: string; digest: BlobDigest }
  | { kind: "upstream-pending"; connection: string; type: string; dataId: string; producer: string }
  | { kind: "previous-failure"; error: string }
  /** Nothing to do: a required input was not produced, or a gather found too few. */
  | { kind: "no-work"; reason: string }
  /** A required input that no quantum produces is not in the repository: the quantum would fail. */
  | { kind: "missing-input"; error: string }
  /** An upstream quantum would fail: this one cannot run. */
  | { kind: "upstream-failed"; producer: string };

export type Decision =
  /** Up to date: outputs known and present. `rebind` when this collection must (re)record them. */
  | { action: "skip"; key: QuantumKey; rebind: boolean; reasons: Reason[] }
  | { action: "run"; key: QuantumKey; reasons: Reason[] }
  /** An upstream quantum is about to run: this one runs unless that one reproduces its outputs. */
  | { action: "maybe"; reasons: Reason[] };

/** What the repository remembers about a quantum, looked up by the caller. */
export interface QuantumMemory {
  /** This collection's record of the quantum: its key and status. */
  record?: { key: QuantumKey; status: "succeeded" | "failed" | "no-work" };
  /** The manifest behind `record.key`, if known. */
  previous?: KeyManifest;
  /** The error of the previous attempt, when it failed. */
  previousError?: string;
  /** The action cache entry for the current key, if any. */
  cached?: { outputs: Record<string, { type: string; digest: BlobDigest }>; noWork: boolean };
}

export function decideQuantum(opts: {
  key: QuantumKey;
  manifest: KeyManifest;
  memory: QuantumMemory;
  blobExists: (digest: BlobDigest) => boolean;
}): Decision {
  const { key, manifest, memory } = opts;
  if (memory.cached) {
    const missing: Reason[] = [];
    for (const [connection, out] of Object.entries(memory.cached.outputs)) {
      if (!opts.blobExists(out.digest)) missing.push({ kind: "output-missing", connection, type: out.type, digest: out.digest });
    }
    if (missing.length > 0) return { action: "run", key, reasons: missing };
    const recorded = memory.record?.key === key && memory.record.status !== "failed";
    return { action: "skip", key, rebind: !recorded, reasons: [recorded ? { kind: "up-to-date" } : { kind: "cached" }] };
  }
  const reasons: Reason[] = [];
  if (memory.record?.status === "failed") reasons.push({ kind: "previous-failure", error: memory.previousError ?? "unknown error" });
  if (memory.previous) reasons.push(...diffManifests(memory.previous, manifest));
  else if (!memory.record) reasons.push({ kind: "new" });
  if (reasons.length === 0) reasons.push({ kind: "new" });
  return { action: "run", key, reasons };
}

/** What changed between two key manifests of the same quantum, in a stable order. */
export function diffManifests(before: KeyManifest, after: KeyManifest): Reason[] {
  const reasons: Reason[] = [];
  if (before.codeDigest !== after.codeDigest) reasons.push({ kind: "code-changed", before: before.codeDigest, after: after.codeDigest });
  if (before.config !== after.config) reasons.push(...diffConfigs(before.config, after.config));
  reasons.push(...diffDepends(before.depends ?? {}, after.depends ?? {}));
  reasons.push(...diffInputs(before.inputs, after.inputs));
  return reasons;
}

function diffConfigs(beforeText: string, afterText: string): Reason[] {
  const before = flattenJson(JSON.parse(beforeText));
  const after = flattenJson(JSON.parse(afterText));
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const out: Reason[] = [];
  for (const key of keys) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) out.push({ kind: "config-changed", key, before: before[key], after: after[key] });
  }
  return out;
}

function diffDepends(before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>): Reason[] {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return names.filter((n) => before[n] !== after[n]).map((name) => ({ kind: "depends-changed" as const, name, before: before[name], after: after[name] }));
}

function inputId(i: KeyInput): string {
  return `${i.connection}\0${i.type}\0${i.dataId}`;
}

function diffInputs(before: readonly KeyInput[], after: readonly KeyInput[]): Reason[] {
  const out: Reason[] = [];
  // Most manifests list the same inputs in the same order: compared in step, no id made, until they part.
  let same = 0;
  for (const end = Math.min(before.length, after.length); same < end; same++) {
    const b = before[same]!;
    const a = after[same]!;
    if (b.connection !== a.connection || b.type !== a.type || b.dataId !== a.dataId) break;
    if (b.digest !== a.digest) out.push({ kind: "input-changed", connection: a.connection, type: a.type, dataId: a.dataId, before: b.digest, after: a.digest });
  }
  const old = new Map(before.slice(same).map((i) => [inputId(i), i]));
  for (const i of after.slice(same)) {
    const prev = old.get(inputId(i));
    old.delete(inputId(i));
    if (!prev) out.push({ kind: "input-added", connection: i.connection, type: i.type, dataId: i.dataId, digest: i.digest });
    else if (prev.digest !== i.digest) {
      out.push({ kind: "input-changed", connection: i.connection, type: i.type, dataId: i.dataId, before: prev.digest, after: i.digest });
    }
  }
  for (const i of old.values()) out.push({ kind: "input-removed", connection: i.connection, type: i.type, dataId: i.dataId, digest: i.digest });
  return out;
}

function showValue(v: unknown): string {
  return v === undefined ? "(unset)" : JSON.stringify(v);
}

function ref(type: string, dataId: string): string {
  return dataId === "" ? type : `${type}@${dataId}`;
}

export function formatReason(r: Reason): string {
  switch (r.kind) {
    case "up-to-date":
      return "up to date: inputs, config and code unchanged, outputs present";
    case "cached":
      return "up to date: the action cache has outputs for exactly these inputs, config and code";
    case "new":
      return "never run with these inputs, config and code";
    case "code-changed":
      return `task code changed: ${r.before} -> ${r.after}`;
    case "config-changed":
      return `config ${r.key} changed: ${showValue(r.before)} -> ${showValue(r.after)}`;
    case "depends-changed":
      return `${r.name} changed: ${r.before ?? "(unset)"} -> ${r.after ?? "(unset)"}`;
    case "forced":
      return "forced (--force)";
    case "temp-needed":
      return r.consumer === "" ? `its temp output ${ref(r.type, r.dataId)} was dropped and is asked for` : `its temp output ${ref(r.type, r.dataId)} was dropped and ${r.consumer} must run`;
    case "input-changed":
      return `input ${r.connection} (${ref(r.type, r.dataId)}) changed: ${r.before} -> ${r.after}`;
    case "input-added":
      return `input ${r.connection} gained ${ref(r.type, r.dataId)} (${r.digest})`;
    case "input-removed":
      return `input ${r.connection} lost ${ref(r.type, r.dataId)} (${r.digest})`;
    case "output-missing":
      return `output ${r.connection} (${r.type}) blob ${r.digest} is missing from the blob store`;
    case "upstream-pending":
      return `input ${r.connection} (${ref(r.type, r.dataId)}) is about to be recomputed by ${r.producer}`;
    case "previous-failure":
      return `the previous attempt failed: ${r.error}`;
    case "no-work":
      return `nothing to do: ${r.reason}`;
    case "missing-input":
      return `cannot run: ${r.error}`;
    case "upstream-failed":
      return `blocked: upstream quantum ${r.producer} cannot run`;
    default: {
      const never: never = r;
      throw new Error(`internal error: unknown reason ${JSON.stringify(never)}`);
    }
  }
}
