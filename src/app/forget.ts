/**
 * `quanta forget TASK|QUANTUM…`: drops the cached results and records of quanta (store/forget-quanta.ts)
 * so that the next run recomputes them, for a result that came from an undeclared input or a changed
 * tool. A writer: it takes the repository's writer lock, and commits everything in one transaction.
 */
import { UsageError } from "../core/errors.js";
import { suggestName } from "../core/suggest-name.js";
import { forgetQuanta, type ForgetTarget } from "../store/forget-quanta.js";
import { openRepository } from "../store/repository.js";
import { parseQuantumRef } from "./parse-quantum-ref.js";

export async function forget(opts: { repoRoot: string; quanta: readonly string[]; out: (text: string) => void }): Promise<number> {
  const repo = await openRepository(opts.repoRoot, { write: true, create: false, command: "quanta forget" });
  try {
    const universe = repo.registry.getDimensions();
    const targets: ForgetTarget[] = opts.quanta.map((text) => {
      if (!text.includes("@")) return { task: text };
      const ref = parseQuantumRef(text, universe, "quantum");
      return { task: ref.name, dataId: ref.key };
    });
    let result: ReturnType<typeof forgetQuanta> | undefined;
    const label = (t: ForgetTarget) => (t.dataId === undefined ? t.task : `${t.task}@${t.dataId}`);
    await repo.registry.commit(() => {
      result = forgetQuanta(repo.registry, targets);
      // A name that matches nothing (a typo) forgets nothing at all: the throw aborts the commit.
      const unknown = targets.filter((_, i) => result!.perTarget[i]!.actions + result!.perTarget[i]!.records === 0);
      if (unknown.length > 0) {
        const tasks = new Set([...repo.registry.listActions()].map((a) => a.manifest.task));
        throw new UsageError(
          `nothing is remembered of ${unknown.map(label).join(", ")}; nothing was forgotten`,
          suggestName(unknown[0]!.task, tasks) ?? "name a task label (every quantum of it) or a quantum, e.g. calibrate@visit=12,detector=3",
        );
      }
    });
    targets.forEach((t, i) => {
      const { actions, records } = result!.perTarget[i]!;
      opts.out(`forgot ${label(t)}: ${actions} cached results, ${records} quantum records\n`);
    });
    return 0;
  } finally {
    await repo.close();
  }
}
