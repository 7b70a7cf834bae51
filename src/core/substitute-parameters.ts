/**
 * `${name}` substitution of pipeline parameters in config values and paths. A string that is exactly
 * `${name}` takes the parameter's typed value (a number stays a number); inside a longer string the
 * value is written as text. `$${` writes a literal `${`.
 */
import type { YamlPath } from "./yaml-source.js";

export type Substitution =
  | { ok: true; value: unknown }
  /** `path` is relative to the substituted value; `index` is where `${name}` starts in that string. */
  | { ok: false; name: string; path: YamlPath; index: number; length: number };

const EXACT = /^\$\{([^}]*)\}$/;
const REFERENCE = /\$\$\{|\$\{([^}]*)\}/g;

/** Substitutes recursively through mappings and lists; an unknown name fails with its position. */
export function substituteParameters(value: unknown, parameters: Readonly<Record<string, unknown>>): Substitution {
  return substitute(value, parameters, []);
}

function substitute(value: unknown, parameters: Readonly<Record<string, unknown>>, path: YamlPath): Substitution {
  if (typeof value === "string") return substituteString(value, parameters, path);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      const r = substitute(value[i], parameters, [...path, i]);
      if (!r.ok) return r;
      out.push(r.value);
    }
    return { ok: true, value: out };
  }
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const r = substitute(item, parameters, [...path, key]);
      if (!r.ok) return r;
      out[key] = r.value;
    }
    return { ok: true, value: out };
  }
  return { ok: true, value };
}

function substituteString(text: string, parameters: Readonly<Record<string, unknown>>, path: YamlPath): Substitution {
  const exact = EXACT.exec(text);
  if (exact !== null) {
    const name = exact[1]!;
    if (!Object.hasOwn(parameters, name)) return { ok: false, name, path, index: 0, length: text.length };
    return { ok: true, value: parameters[name] };
  }
  let failure: Substitution | undefined;
  const out = text.replace(REFERENCE, (match, name: string | undefined, index: number) => {
    if (name === undefined) return "${";
    if (!Object.hasOwn(parameters, name)) {
      failure ??= { ok: false, name, path, index, length: match.length };
      return match;
    }
    const v = parameters[name];
    return typeof v === "string" ? v : JSON.stringify(v);
  });
  return failure ?? { ok: true, value: out };
}
