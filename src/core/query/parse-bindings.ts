/**
 * The `--bind name=value` list of the command line, as the placeholder values of a `--where`
 * expression. Values are kept as text: `parseWhere` reads each as the type of the dimension its
 * placeholder is compared with.
 */
import { UsageError } from "../errors.js";

const PLACEHOLDER_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `["visit=12", "band=r"]` → `{visit: "12", band: "r"}`. The value is everything after the first `=`
 * (it may be empty or contain `=`). Throws a UsageError for an entry without `=`, with a name that is
 * not `[A-Za-z_][A-Za-z0-9_]*`, or with a name given twice; the CLI reports it with exit code 2.
 */
export function parseBindings(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of list) {
    const eq = entry.indexOf("=");
    if (eq < 0) throw new UsageError(`--bind: expected name=value, got '${entry}'`, "for example: --bind visit=12");
    const name = entry.slice(0, eq).trim();
    if (!PLACEHOLDER_NAME.test(name)) {
      throw new UsageError(
        `--bind: '${name}' is not a placeholder name in '${entry}'`,
        "names start with a letter or '_' and go on with letters, digits and '_'",
      );
    }
    if (Object.hasOwn(out, name)) throw new UsageError(`--bind: '${name}' is bound twice`);
    out[name] = entry.slice(eq + 1);
  }
  return out;
}
