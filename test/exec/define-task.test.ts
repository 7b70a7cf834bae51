import { describe, expect, expectTypeOf, it } from "vitest";
import { defineTask, isNoWork, makeTestContext, noWork, validateTaskConfig, z, type GatheredValue, type NdArray } from "../../src/index.js";

const calibrate = defineTask({
  name: "calibrate",
  dimensions: ["visit", "detector"],
  config: z.object({
    detection: z.object({ threshold: z.number().default(5), method: z.enum(["peak", "psf"]).default("peak") }).default({ threshold: 5, method: "peak" }),
    label: z.string().optional(),
  }),
  inputs: {
    exposure: { type: "postIsr", dimensions: ["visit", "detector"], storage: "ndarray" },
    flats: { type: "flat", dimensions: ["detector", "band"], storage: "json", multiple: true },
  },
  outputs: {
    calexp: { type: "calexp", dimensions: ["visit", "detector"], storage: "ndarray" },
    sources: { type: "src", dimensions: ["visit", "detector"], storage: "json" },
  },
  run({ exposure, flats }, config, ctx) {
    expectTypeOf(exposure).toEqualTypeOf<NdArray>();
    expectTypeOf(flats).toEqualTypeOf<GatheredValue<unknown>[]>();
    expectTypeOf(config.detection.threshold).toEqualTypeOf<number>();
    if (flats.length === 0) return noWork("no flats");
    ctx.log.info("detecting above %s sigma (%s), %d flats, %j", config.detection.threshold, config.detection.method, flats.length, { ok: true });
    const data = Float32Array.from(exposure.data as Float32Array, (v) => (v > config.detection.threshold ? v : 0));
    return { calexp: { dtype: "float32", shape: exposure.shape, data }, sources: { count: data.filter((v) => v > 0).length } };
  },
});

describe("defineTask", () => {
  it("returns a task whose run() is an ordinary function a unit test calls", async () => {
    const ctx = makeTestContext({ visit: 1, detector: 2 });
    const exposure: NdArray = { dtype: "float32", shape: [2, 2], data: new Float32Array([1, 6, 7, 2]) };
    const config = calibrate.config!.parse({});
    const out = await calibrate.run({ exposure, flats: [{ dataId: { detector: 2, band: "r" }, value: {} }] }, config, ctx);
    expect(isNoWork(out)).toBe(false);
    expect(out).toEqual({ calexp: { dtype: "float32", shape: [2, 2], data: new Float32Array([0, 6, 7, 0]) }, sources: { count: 2 } });
    expect(ctx.lines).toEqual(['INFO detecting above 5 sigma (peak), 1 flats, {"ok":true}']);
    expect(ctx.dataId).toEqual({ visit: 1, detector: 2 });

    const none = await calibrate.run({ exposure, flats: [] }, config, ctx);
    expect(isNoWork(none) && none.reason).toBe("no flats");
  });

  it("types config, inputs and outputs from their schemas and storage classes", () => {
    defineTask({
      name: "typed",
      dimensions: [],
      config: z.object({ n: z.number() }),
      inputs: { text: { type: "t", dimensions: [], storage: "text" } },
      outputs: { out: { type: "o", dimensions: [], storage: "bytes" } },
      // @ts-expect-error: a text input is a string, and config.n is a number
      run: ({ text }, config) => ({ out: text.toFixed(config.n.length) }),
    });
    defineTask({
      name: "wrong-output",
      dimensions: [],
      inputs: {},
      outputs: { out: { type: "o", dimensions: [], storage: "text" } },
      // @ts-expect-error: a text output must be a string
      run: () => ({ out: 42 }),
    });
    const noConfig = defineTask({ name: "plain", dimensions: [], inputs: {}, outputs: {}, run: () => ({}) });
    expect(noConfig.name).toBe("plain");
  });

  it("formats log lines with %s %d %j and a level prefix", () => {
    const ctx = makeTestContext();
    ctx.log.warn("%s of %d done, 100%%", "3", 7.0);
    ctx.log.error("failed:", new Error("boom"), 42);
    ctx.log.debug("value %j and %s", [1, "a"], { b: 2 });
    expect(ctx.lines).toEqual(["WARN 3 of 7 done, 100%", "ERROR failed: boom 42", 'DEBUG value [1,"a"] and {"b":2}']);
  });
});

describe("validateTaskConfig", () => {
  it("fills in defaults", () => {
    expect(validateTaskConfig(calibrate, undefined)).toEqual({ ok: true, config: { detection: { threshold: 5, method: "peak" } } });
    expect(validateTaskConfig(calibrate, { detection: { threshold: 3 }, label: "x" })).toEqual({
      ok: true,
      config: { detection: { threshold: 3, method: "peak" }, label: "x" },
    });
  });

  it("rejects unknown keys at any depth, though the schema is not strict, with the nearest key as hint", () => {
    expect(validateTaskConfig(calibrate, { detection: { treshold: 3 } })).toEqual({
      ok: false,
      issues: [{ path: ["detection", "treshold"], message: 'unknown config key "treshold" in "detection"', hint: 'did you mean "threshold"?' }],
    });
    expect(validateTaskConfig(calibrate, { colour: "red" })).toEqual({
      ok: false,
      issues: [{ path: ["colour"], message: 'unknown config key "colour"', hint: "known keys: detection, label" }],
    });
  });

  it("walks arrays, records, unions and wrappers; loose objects admit extra keys", () => {
    const def = {
      config: z.object({
        stages: z.array(z.object({ name: z.string() })).default([]),
        byBand: z.record(z.string(), z.object({ zp: z.number() })).optional(),
        mode: z.union([z.object({ kind: z.literal("fixed"), value: z.number() }), z.object({ kind: z.literal("auto") })]).optional(),
        extra: z.looseObject({}).optional(),
        piped: z.object({ a: z.number() }).transform((v) => v.a).optional(),
      }),
    };
    expect(validateTaskConfig(def, { stages: [{ name: "a" }, { name: "b", nmae: "c" }] })).toMatchObject({
      ok: false,
      issues: [{ path: ["stages", 1, "nmae"], hint: 'did you mean "name"?' }],
    });
    expect(validateTaskConfig(def, { byBand: { r: { zp: 1, zpp: 2 } } })).toMatchObject({ ok: false, issues: [{ path: ["byBand", "r", "zpp"] }] });
    expect(validateTaskConfig(def, { mode: { kind: "auto", value: 3 } })).toMatchObject({ ok: false, issues: [{ path: ["mode", "value"] }] });
    expect(validateTaskConfig(def, { mode: { kind: "fixed", value: 3 }, extra: { anything: 1 } })).toEqual({
      ok: true,
      config: { stages: [], mode: { kind: "fixed", value: 3 }, extra: { anything: 1 } },
    });
    expect(validateTaskConfig(def, { piped: { a: 1, b: 2 } })).toMatchObject({ ok: false, issues: [{ path: ["piped", "b"] }] });
    expect(validateTaskConfig(def, { piped: { a: 4 } })).toEqual({ ok: true, config: { stages: [], piped: 4 } });
  });

  it("reports the schema's own issues with their paths", () => {
    const result = validateTaskConfig(calibrate, { detection: { threshold: "high" } });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]!.path).toEqual(["detection", "threshold"]);
    expect(result.issues[0]!.message).toMatch(/expected number/);
  });

  it("accepts no config for a task without a schema, and rejects any key", () => {
    expect(validateTaskConfig({}, undefined)).toEqual({ ok: true, config: {} });
    expect(validateTaskConfig({}, { x: 1 })).toEqual({ ok: false, issues: [{ path: ["x"], message: 'unknown config key "x" (this task takes no config)' }] });
  });
});
