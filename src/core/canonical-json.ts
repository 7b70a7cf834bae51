/**
 * Canonical JSON: object keys sorted, no whitespace, `undefined` members dropped. Equal values give
 * equal text, which is what makes a config hashable into a quantum key.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    if (value === undefined) return "null";
    if (typeof value === "bigint") return value.toString();
    if (typeof value === "number" && !Number.isFinite(value)) return "null";
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return "[" + value.map(canonicalJson).join(",") + "]";
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of Object.keys(obj).sort()) {
    if (obj[k] === undefined) continue;
    parts.push(JSON.stringify(k) + ":" + canonicalJson(obj[k]));
  }
  return "{" + parts.join(",") + "}";
}

/** Flattens a JSON value into dotted paths → leaf values (`{a: {b: 1}}` → `{"a.b": 1}`). */
export function flattenJson(value: unknown, prefix = "", out: Record<string, unknown> = {}): Record<string, unknown> {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const entries = Object.keys(value as object).sort();
    if (entries.length === 0 && prefix !== "") out[prefix] = {};
    for (const k of entries) flattenJson((value as Record<string, unknown>)[k], prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix !== "") {
    out[prefix] = value;
  }
  return out;
}
