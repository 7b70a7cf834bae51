/**
 * `--config label.key.sub=value`: the value is read as a YAML scalar (`5` is a number, `true` a
 * boolean, `abc` a string, `[1, 2]` a list; an empty value is the empty string).
 */
import { parse } from "yaml";
import { PipelineError } from "./pipeline-error.js";

export interface ConfigOverride {
  /** The flag's text, to name it in errors. */
  readonly text: string;
  readonly label: string;
  /** The config key path inside the task's config, e.g. `["detection", "threshold"]`. */
  readonly key: readonly string[];
  readonly value: unknown;
}

export type ConfigOverrideParse = { ok: true; override: ConfigOverride } | { ok: false; error: PipelineError };

export function parseConfigOverride(text: string): ConfigOverrideParse {
  const fail = (summary: string, hint?: string): ConfigOverrideParse => ({
    ok: false,
    error: new PipelineError({ summary: `--config ${text}: ${summary}`, hint }),
  });
  const eq = text.indexOf("=");
  if (eq < 0) return fail("expected label.key=value, found no '='", "for example --config calibrate.detection.threshold=3.5");
  const names = text.slice(0, eq).trim().split(".");
  if (names.length < 2 || names.some((n) => n === "")) {
    return fail(`expected label.key=value, found "${text.slice(0, eq)}" before '='`, "for example --config calibrate.detection.threshold=3.5");
  }
  const raw = text.slice(eq + 1);
  let value: unknown;
  if (raw.trim() === "") value = "";
  else {
    try {
      value = parse(raw);
    } catch (err) {
      return fail(`the value is not valid YAML (${(err as Error).message.split("\n")[0]})`, "quote it: --config 'label.key=\"text\"'");
    }
  }
  return { ok: true, override: { text, label: names[0]!, key: names.slice(1), value } };
}
