import { describe, expect, it } from "vitest";
import { narrowKeyInputs, narrowManifest, parseDepfile } from "../../src/core/discovered-inputs.js";
import type { QuantumKey } from "../../src/core/digest.js";
import { buildKeyManifest, type KeyInput } from "../../src/core/quantum-key.js";

describe("17.8.c discovered inputs", () => {
  it("reads the prerequisites of a gcc depfile, continuations and escapes included", () => {
    const text = "main.o: src/main.c /usr/include/stdio.h \\\n include/stats.h \\\n  include/my\\ header.h include/stats.h\n\ninclude/stats.h:\n";
    expect(parseDepfile(text)).toEqual(["src/main.c", "/usr/include/stdio.h", "include/stats.h", "include/my header.h"]);
  });

  it("reads several rules and a target written with a space before its colon", () => {
    expect(parseDepfile("a.o b.o : x.h\nc.o: y.h $$z.h\n")).toEqual(["x.h", "y.h", "$z.h"]);
  });

  const digest = (n: number) => `${String(n).repeat(32)}-1` as KeyInput["digest"];
  const inputs: KeyInput[] = [
    { connection: "headers", type: "header", dataId: "header=a", digest: digest(1) },
    { connection: "headers", type: "header", dataId: "header=b", digest: digest(2) },
    { connection: "src", type: "source", dataId: "file=m", digest: digest(3) },
  ];

  it("keys on every discovered dataset until the quantum has named its own", () => {
    expect(narrowKeyInputs(inputs, ["headers"], undefined)).toEqual(inputs);
    expect(narrowKeyInputs(inputs, ["headers"], new Set(["headers\0header=b"])).map((i) => i.dataId)).toEqual(["header=b", "file=m"]);
  });

  it("narrows a manifest to the named datasets and rekeys it", () => {
    const manifest = buildKeyManifest({ task: "compile", dataId: "file=m", codeDigest: "c" as never, config: "{}", inputs });
    const keyOf = (m: typeof manifest) => m.inputs.map((i) => i.dataId).join("+") as QuantumKey;
    const narrowed = narrowManifest(manifest, { headers: ["header=a"] }, keyOf);
    expect(narrowed.manifest.inputs.map((i) => i.dataId)).toEqual(["header=a", "file=m"]);
    expect(narrowed.key).toBe("header=a+file=m");
  });
});
