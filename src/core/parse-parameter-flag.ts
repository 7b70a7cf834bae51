import { UsageError } from "./errors.js";

/**
 * The values of `--param name=value` flags, by name (a later flag wins). The value is text, read as
 * YAML by the pipeline resolver as the pipeline file's own `parameters:` values are.
 */
export function parseParameterFlags(flags: readonly string[]): Record<string, string> {
  const parameters: Record<string, string> = {};
  for (const flag of flags) {
    const eq = flag.indexOf("=");
    const name = eq < 0 ? "" : flag.slice(0, eq).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) {
      throw new UsageError(`--param expects name=value, got ${JSON.stringify(flag)}`, "e.g. --param threshold=4.5");
    }
    parameters[name] = flag.slice(eq + 1);
  }
  return parameters;
}
