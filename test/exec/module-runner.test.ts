import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runModuleQuantum, type ModuleInput } from "../../src/exec/module-runner.js";
import { defineTask, noWork, z, type NdArray } from "../../src/index.js";
import { decodeValue, encodeValue } from "../../src/store/storage-formats.js";

const dir = mkdtempSync(join(tmpdir(), "quanta-module-runner-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const coadd = defineTask({
  name: "coadd",
  dimensions: ["patch"],
  config: z.object({ scale: z.number().default(1) }),
  inputs: {
    warps: { type: "warp", dimensions: ["patch", "visit"], storage: "ndarray", multiple: true },
    meta: { type: "meta", dimensions: ["patch"], storage: "json" },
  },
  outputs: {
    coadd: { type: "coadd", dimensions: ["patch"], storage: "ndarray" },
    summary: { type: "summary", dimensions: ["patch"], storage: "text" },
  },
  run({ warps, meta }, config, ctx) {
    if (warps.length === 0) return noWork("no warps overlap this patch");
    ctx.log.info("coadding %d warps for %s", warps.length, (meta as { name: string }).name);
    const sum = new Float64Array(warps[0]!.value.data.length);
    for (const w of warps) (w.value.data as Float64Array).forEach((v, i) => (sum[i]! += v * config.scale));
    return { coadd: { dtype: "float64", shape: warps[0]!.value.shape, data: sum }, summary: warps.map((w) => w.dataId.visit).join(",") };
  },
});

function warp(visit: number, values: number[]): { dataId: { patch: number; visit: number }; bytes: Uint8Array } {
  return { dataId: { patch: 1, visit }, bytes: encodeValue("ndarray", { dtype: "float64", shape: [values.length], data: new Float64Array(values) }) };
}

function inputsOf(warps: ReturnType<typeof warp>[]): Record<string, ModuleInput> {
  return {
    warps: { storage: "ndarray", multiple: true, items: warps },
    meta: { storage: "json", multiple: false, items: [{ dataId: { patch: 1 }, bytes: encodeValue("json", { name: "p1" }) }] },
  };
}

describe("runModuleQuantum", () => {
  it("decodes inputs (multiple in data ID order), runs, captures the log and encodes outputs", async () => {
    const result = await runModuleQuantum({
      definition: coadd,
      config: { scale: 2 },
      label: "coadd",
      dataId: { patch: 1 },
      inputs: inputsOf([warp(12, [1, 1]), warp(3, [0.5, 2])]),
    });
    expect(result).toMatchObject({ ok: true, noWork: false, log: "INFO coadding 2 warps for p1\n" });
    if (!result.ok) return;
    const array = decodeValue("ndarray", result.outputs.coadd!) as NdArray;
    expect(Array.from(array.data as Float64Array)).toEqual([3, 6]);
    expect(decodeValue("text", result.outputs.summary!)).toBe("3,12");
  });

  it("reports noWork with its reason and no outputs", async () => {
    const result = await runModuleQuantum({ definition: coadd, config: { scale: 1 }, label: "coadd", dataId: { patch: 1 }, inputs: inputsOf([]) });
    expect(result).toEqual({ ok: true, outputs: {}, noWork: true, log: "INFO no work: no warps overlap this patch\n" });
  });

  const plain = (run: () => unknown) =>
    runModuleQuantum({
      definition: defineTask({
        name: "t",
        dimensions: [],
        inputs: {},
        outputs: { a: { type: "a", dimensions: [], storage: "json" }, b: { type: "b", dimensions: [], storage: "ndarray" } },
        run: run as never,
      }),
      config: {},
      label: "t",
      dataId: {},
      inputs: {},
    });

  it("names a missing or an extra output", async () => {
    expect(await plain(() => ({ a: 1 }))).toEqual({ ok: false, error: 'run() did not return declared output "b"', log: "" });
    expect(await plain(() => ({ a: 1, b: { dtype: "uint8", shape: [0], data: new Uint8Array() }, c: 3 }))).toEqual({
      ok: false,
      error: 'run() returned "c", which is not a declared output (declared: a, b)',
      log: "",
    });
    expect(await plain(() => 42)).toEqual({ ok: false, error: 'run() returned 42; expected an object with "a", "b" or noWork()', log: "" });
  });

  it("names an output its storage class cannot hold", async () => {
    expect(await plain(() => ({ a: { x: Number.NaN }, b: { dtype: "uint8", shape: [0], data: new Uint8Array() } }))).toEqual({
      ok: false,
      error: 'output "a" (json): json value at $.x is NaN, which JSON cannot hold',
      log: "",
    });
    expect(await plain(() => ({ a: 1, b: [1, 2] }))).toMatchObject({ ok: false, error: expect.stringMatching(/^output "b" \(ndarray\): /) });
  });

  it("turns a throw into a failure with the message, and the stack's first frames in the log", async () => {
    const result = await runModuleQuantum({
      definition: defineTask({
        name: "thrower",
        dimensions: [],
        inputs: {},
        outputs: {},
        run(_inputs, _config, ctx) {
          ctx.log.warn("about to fail");
          throw new RangeError("threshold must be positive");
        },
      }),
      config: {},
      label: "thrower",
      dataId: {},
      inputs: {},
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBe("run() threw RangeError: threshold must be positive");
    const lines = result.log.trimEnd().split("\n");
    expect(lines.slice(0, 2)).toEqual(["WARN about to fail", "ERROR RangeError: threshold must be positive"]);
    expect(lines[2]).toMatch(/^ {2}at .*module-runner\.test\.ts/);
    expect(lines.length).toBeLessThanOrEqual(2 + 6);
    expect(await plain(() => Promise.reject("plain string"))).toMatchObject({ ok: false, error: 'run() threw "plain string"', log: 'ERROR thrown: "plain string"\n' });
  });

  it("hands file inputs over as paths, and reads file outputs from the path returned", async () => {
    const blob = join(dir, "blob");
    writeFileSync(blob, "raw bytes");
    const produced = join(dir, "produced");
    const seen: string[] = [];
    const definition = defineTask({
      name: "files",
      dimensions: [],
      inputs: { src: { type: "s", dimensions: [], storage: "file" }, other: { type: "o", dimensions: [], storage: "file" } },
      outputs: { out: { type: "x", dimensions: [], storage: "file" } },
      run({ src, other }) {
        seen.push(src, other);
        writeFileSync(produced, readFileSync(src, "utf8").toUpperCase() + readFileSync(other, "utf8"));
        return { out: produced };
      },
    });
    const result = await runModuleQuantum({
      definition,
      config: {},
      label: "files",
      dataId: {},
      inputs: {
        src: { storage: "file", multiple: false, items: [{ dataId: {}, bytes: readFileSync(blob), path: blob }] },
        other: { storage: "file", multiple: false, items: [{ dataId: {}, bytes: new TextEncoder().encode("+scratch") }] },
      },
    });
    expect(result.ok && new TextDecoder().decode(result.outputs.out)).toBe("RAW BYTES+scratch");
    expect(seen[0]).toBe(blob);
    // A file input without a path lives in a scratch file only while run() runs.
    expect(() => statSync(seen[1]!)).toThrow();
  });

  it("runs a run() that returns a value without a promise, and waits for one that returns a promise", async () => {
    const done = plain(() => ({ a: 1, b: { dtype: "uint8", shape: [1], data: new Uint8Array([7]) } }));
    expect(done).not.toBeInstanceOf(Promise);
    expect(done).toMatchObject({ ok: true, noWork: false });
    const later = plain(async () => ({ a: 2, b: { dtype: "uint8", shape: [1], data: new Uint8Array([8]) } }));
    expect(later).toBeInstanceOf(Promise);
    expect(await later).toMatchObject({ ok: true, noWork: false });

    // A scratch file input stays until an asynchronous run() settles, and no longer.
    let scratch = "";
    let readAfterAwait = "";
    const definition = defineTask({
      name: "late",
      dimensions: [],
      inputs: { src: { type: "s", dimensions: [], storage: "file" } },
      outputs: { out: { type: "x", dimensions: [], storage: "text" } },
      async run({ src }) {
        scratch = src;
        await new Promise((resolve) => setTimeout(resolve, 5));
        readAfterAwait = readFileSync(src, "utf8");
        return { out: readAfterAwait };
      },
    });
    const result = await runModuleQuantum({
      definition,
      config: {},
      label: "late",
      dataId: {},
      inputs: { src: { storage: "file", multiple: false, items: [{ dataId: {}, bytes: new TextEncoder().encode("kept") }] } },
    });
    expect(result).toMatchObject({ ok: true });
    expect(readAfterAwait).toBe("kept");
    expect(() => statSync(scratch)).toThrow();
  });

  it("fails on a single input without exactly one dataset, and on undecodable bytes", async () => {
    const missing = await runModuleQuantum({ definition: coadd, config: { scale: 1 }, label: "coadd", dataId: { patch: 1 }, inputs: { warps: { storage: "ndarray", multiple: true, items: [] } } });
    expect(missing).toEqual({ ok: false, error: 'input "meta" needs exactly one dataset, got 0', log: "" });
    const bad = inputsOf([{ dataId: { patch: 1, visit: 4 }, bytes: new Uint8Array([1, 2, 3]) }]);
    expect(await runModuleQuantum({ definition: coadd, config: { scale: 1 }, label: "coadd", dataId: { patch: 1 }, inputs: bad })).toEqual({
      ok: false,
      error: 'cannot read input "warps" (ndarray) at patch=1,visit=4: not a .npy file (bad magic)',
      log: "",
    });
  });
});
