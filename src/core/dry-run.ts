/**
 * A run that runs nothing: the walk the engine makes (the same GraphWalker, the same QuantumResolver),
 * with every quantum that would run taken as running and its outputs as not known yet. `quanta
 * status` and `why` report it. A quantum will run (stale now), may run (an upstream quantum will run
 * first and may or may not reproduce its inputs), is up to date, or is blocked (a required input is
 * missing, so it would fail, and everything downstream of it with it).
 */
import type { Reason } from "./explain.js";
import { GraphWalker } from "./graph-walker.js";
import type { QuantumGraph } from "./quantum-graph.js";
import type { QuantumResolver } from "./quantum-resolver.js";

export type QuantumStatus = "will-run" | "may-run" | "up-to-date" | "blocked";

export interface QuantumVerdict {
  status: QuantumStatus;
  reasons: Reason[];
}

/**
 * The verdict on every quantum, by id; with `until`, the walk stops once that quantum is decided (the
 * quanta it depends on are decided before it, the others may be left undecided).
 */
export function dryRun(graph: QuantumGraph, resolver: QuantumResolver, until?: number): (QuantumVerdict | undefined)[] {
  const walker = new GraphWalker(graph);
  const verdicts: (QuantumVerdict | undefined)[] = new Array(graph.quantumCount);
  for (let id = walker.takeOne(); id >= 0 && (until === undefined || !verdicts[until]); id = walker.takeOne()) {
    const r = resolver.resolve(id);
    switch (r.kind) {
      case "skip":
        if (r.cached.noWork) resolver.setAbsent(id);
        else resolver.setOutputs(id, r.cached.outputs);
        verdicts[id] = { status: "up-to-date", reasons: r.decision.reasons };
        break;
      case "run":
        resolver.setPending(id);
        verdicts[id] = { status: "will-run", reasons: r.decision.reasons };
        break;
      case "maybe":
        resolver.setPending(id);
        verdicts[id] = { status: r.reasons.some((x) => x.kind === "forced" || x.kind === "temp-needed") ? "will-run" : "may-run", reasons: r.reasons };
        break;
      case "no-work":
        resolver.setAbsent(id);
        verdicts[id] = { status: "up-to-date", reasons: [{ kind: "no-work", reason: r.reason }] };
        break;
      case "missing-input":
        resolver.setAbsent(id);
        verdicts[id] = { status: "blocked", reasons: [{ kind: "missing-input", error: r.error }] };
        for (const b of walker.fail(id)) {
          resolver.setAbsent(b);
          verdicts[b] = { status: "blocked", reasons: [{ kind: "upstream-failed", producer: graph.quantumName(id) }] };
        }
        continue;
      default: {
        const never: never = r;
        throw new Error(`internal error: ${JSON.stringify(never)}`);
      }
    }
    walker.finish(id);
  }
  return verdicts;
}
