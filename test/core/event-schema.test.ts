/**
 * 15.5: the zod schema the tests parse `--json` lines with (test/helpers/event-schema.ts) and the
 * `QuantaEvent` union agree: the file compiles only while each is assignable to the other.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../helpers/cli.js";

describe("15.5 the event schema of the tests", () => {
  it("15.5 agrees with the QuantaEvent union (tsc)", () => {
    const tsc = join(PROJECT_ROOT, "node_modules", "typescript", "bin", "tsc");
    const r = spawnSync(process.execPath, [tsc, "-p", join(PROJECT_ROOT, "test", "tsconfig.event-schema.json")], { encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  }, 60_000);
});
