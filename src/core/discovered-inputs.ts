/**
 * Discovered inputs, as ninja's `deps = gcc`: a command task that declares `depfile: deps.d` writes a
 * Makefile-style dependency file (`gcc -MD -MF deps.d`), and its `discovered: true` input connections
 * (a gather of headers, say) are placed whole in the sandbox, but only the datasets the depfile names
 * join the quantum's key. A header edit then reruns exactly the quanta whose command read it.
 *
 * How the key is kept: a quantum that has never run keys on every dataset of its discovered
 * connections (the safe guess); once it has run, its key and key manifest (the action record, what
 * `quanta why` diffs) are recomputed with only the named datasets and their digests
 * (`narrowManifest`). The next run keys on the datasets the quantum's latest record named
 * (`discoveredLast`), with their current digests: one edited, or gone, changes the key, and the quantum
 * runs again and names its inputs anew. A dataset it did not name (a header it does not include) is
 * not in its key, so editing it changes nothing.
 */
import type { QuantumKey } from "./digest.js";
import type { TaskNode } from "./pipeline.js";
import { buildKeyManifest, type KeyInput, type KeyManifest } from "./quantum-key.js";

/** The names of a task's discovered input connections (empty for most tasks). */
export function discoveredConnections(task: TaskNode): string[] {
  return Object.values(task.inputs)
    .filter((c) => c.discovered === true)
    .map((c) => c.name);
}

/**
 * The key inputs with the discovered connections' datasets narrowed to those `named` holds (entries
 * `connection\0dataId`); `named` undefined keeps them all (the quantum has not run yet).
 */
export function narrowKeyInputs(inputs: readonly KeyInput[], discovered: readonly string[], named: ReadonlySet<string> | undefined): KeyInput[] {
  if (named === undefined || discovered.length === 0) return [...inputs];
  return inputs.filter((i) => !discovered.includes(i.connection) || named.has(`${i.connection}\0${i.dataId}`));
}

/** The datasets of discovered connections a key manifest holds, as `connection\0dataId` entries. */
export function discoveredIn(manifest: KeyManifest, discovered: readonly string[]): Set<string> {
  return new Set(manifest.inputs.filter((i) => discovered.includes(i.connection)).map((i) => `${i.connection}\0${i.dataId}`));
}

/**
 * The manifest of a quantum that ran, its discovered connections narrowed to the datasets its depfile
 * named (`named`, per connection, canonical data IDs); the key is recomputed from it.
 */
export function narrowManifest(
  manifest: KeyManifest,
  named: Readonly<Record<string, readonly string[]>>,
  computeKey: (manifest: KeyManifest) => QuantumKey,
): { manifest: KeyManifest; key: QuantumKey } {
  const keep = new Set(Object.entries(named).flatMap(([connection, ids]) => ids.map((id) => `${connection}\0${id}`)));
  const inputs = manifest.inputs.filter((i) => !(i.connection in named) || keep.has(`${i.connection}\0${i.dataId}`));
  const narrowed = buildKeyManifest({ ...manifest, inputs });
  return { manifest: narrowed, key: computeKey(narrowed) };
}

/**
 * The paths a Makefile-style dependency file names as prerequisites (`obj.o: a.c include/b.h \`),
 * in order, without repeats: the targets before each rule's `:` are dropped, `\` line continuations
 * joined, `\ ` and `$$` unescaped.
 */
export function parseDepfile(text: string): string[] {
  const joined = text.replace(/\\\r?\n/g, " ");
  const found: string[] = [];
  for (const line of joined.split(/\r?\n/)) {
    const words = splitWords(line);
    const colon = words.findIndex((w) => w.endsWith(":"));
    for (const w of colon < 0 ? [] : words.slice(colon + 1)) if (w !== "" && !found.includes(w)) found.push(w);
  }
  return found;
}

function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = "";
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "\\" && (line[i + 1] === " " || line[i + 1] === "#")) word += line[++i];
    else if (c === "$" && line[i + 1] === "$") word += line[++i];
    else if (c === " " || c === "\t") {
      if (word !== "") words.push(word);
      word = "";
    } else word += c;
  }
  if (word !== "") words.push(word);
  return words;
}
