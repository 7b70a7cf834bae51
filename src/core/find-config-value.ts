/**
 * Looks up a dotted key (`opt.level`, as `["opt", "level"]`) in a task's config, for `{config.Z}`
 * template fields and `--config` flags of command tasks.
 */
import { findNearestName } from "./suggest-name.js";

export type ConfigLookup =
  | { ok: true; value: unknown }
  /** `depth`: index of the first key not found; `nearest`: the nearest key at that level, if any. */
  | { ok: false; depth: number; nearest?: string };

export function findConfigValue(config: unknown, path: readonly string[]): ConfigLookup {
  let value = config;
  for (let depth = 0; depth < path.length; depth++) {
    const key = path[depth]!;
    if (!isMapping(value) || !Object.hasOwn(value, key)) {
      const nearest = isMapping(value) ? findNearestName(key, Object.keys(value)) : undefined;
      return nearest === undefined ? { ok: false, depth } : { ok: false, depth, nearest };
    }
    value = value[key];
  }
  return { ok: true, value };
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
