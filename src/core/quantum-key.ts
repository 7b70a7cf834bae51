/**
 * Quantum keys. A quantum's key is the hash of one typed, ordered, versioned object, the key manifest:
 * the task label, the quantum's own data ID (tasks see it, e.g. a warp's patch, and two quanta may read
 * the very same inputs), the task's code digest, the canonical JSON of its effective config, and the
 * sorted (connection, dataset type, data ID, content digest) of every input. Two quanta with equal manifests
 * produce equal outputs (tasks are assumed deterministic), which is what lets the action cache reuse
 * outputs across runs and collections.
 *
 * Encoding hashed (version 2): the fields joined by "\n", each input as
 * `connection\ttype\tdataId\tdigest`, prefixed by `quanta-key-v2`; then, only for a task that declares
 * `version:` or `tools:`, a line `depends\t<canonical JSON of depends>` (so the keys of every other task
 * are those of before). Bumping KEY_VERSION invalidates every
 * cached result, which is the safe failure mode.
 */
import { canonicalJson } from "./canonical-json.js";
import type { BlobDigest, CodeDigest, Hasher, QuantumKey } from "./digest.js";

export const KEY_VERSION = 2;

/** One input of a quantum, as it fed the quantum key. */
export interface KeyInput {
  connection: string;
  type: string;
  /** Canonical data ID. */
  dataId: string;
  digest: BlobDigest;
}

/** Everything that feeds a quantum key; stored with each result so `quanta why` can diff it. */
export interface KeyManifest {
  version: number;
  task: string;
  /** The quantum's canonical data ID. */
  dataId: string;
  codeDigest: CodeDigest;
  /** Canonical JSON of the effective config. */
  config: string;
  /** Sorted by (connection, type, dataId). */
  inputs: KeyInput[];
  /** What else the task says its key depends on (its `version:`, its `tools:` digests); absent when nothing. */
  depends?: Record<string, string>;
}

function compareInputs(a: KeyInput, b: KeyInput): number {
  if (a.connection !== b.connection) return a.connection < b.connection ? -1 : 1;
  if (a.type !== b.type) return a.type < b.type ? -1 : 1;
  if (a.dataId !== b.dataId) return a.dataId < b.dataId ? -1 : 1;
  return 0;
}

export function buildKeyManifest(opts: { task: string; dataId: string; codeDigest: CodeDigest; config: string; inputs: KeyInput[]; depends?: Readonly<Record<string, string>> }): KeyManifest {
  const inputs = opts.inputs.slice().sort(compareInputs);
  const manifest: KeyManifest = { version: KEY_VERSION, task: opts.task, dataId: opts.dataId, codeDigest: opts.codeDigest, config: opts.config, inputs };
  if (opts.depends !== undefined && Object.keys(opts.depends).length > 0) manifest.depends = { ...opts.depends };
  return manifest;
}

export function computeQuantumKey(manifest: KeyManifest, hasher: Hasher): QuantumKey {
  let text = `quanta-key-v${manifest.version}\n${manifest.task}\n${manifest.dataId}\n${manifest.codeDigest}\n${manifest.config}`;
  for (const i of manifest.inputs) text += `\n${i.connection}\t${i.type}\t${i.dataId}\t${i.digest}`;
  if (manifest.depends !== undefined) text += `\ndepends\t${canonicalJson(manifest.depends)}`;
  return hasher.hashString(text) as QuantumKey;
}
