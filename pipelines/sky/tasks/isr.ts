/**
 * Instrument signature removal: subtracts the detector's bias and divides by its flat field, giving an
 * image in units of detected sky signal (ADU, gain 1).
 */
import { defineTask, z, type NdArray } from "quanta";

export default defineTask({
  name: "isr",
  dimensions: ["band", "visit", "detector"],
  config: z.object({}),
  inputs: {
    raw: { type: "raw", dimensions: ["band", "visit", "detector"], storage: "ndarray" },
    bias: { type: "bias", dimensions: ["detector"], storage: "ndarray", prerequisite: true },
    flat: { type: "flat", dimensions: ["detector"], storage: "ndarray", prerequisite: true },
  },
  outputs: {
    exposure: { type: "postIsr", dimensions: ["band", "visit", "detector"], storage: "ndarray" },
  },
  run({ raw, bias, flat }, _config, ctx) {
    checkSameShape(raw, bias, "bias");
    checkSameShape(raw, flat, "flat");
    const out = new Float32Array(raw.data.length);
    for (let i = 0; i < out.length; i++) {
      out[i] = (Number(raw.data[i]) - Number(bias.data[i])) / Number(flat.data[i]);
    }
    ctx.log.info("removed bias and flat from a %s exposure", raw.shape.join("×"));
    const exposure: NdArray = { dtype: "float32", shape: [...raw.shape], data: out };
    return { exposure };
  },
});

function checkSameShape(raw: NdArray, calib: NdArray, name: string): void {
  if (raw.shape.join(",") !== calib.shape.join(",")) {
    throw new Error(`the ${name} frame is ${calib.shape.join("×")}, the raw exposure ${raw.shape.join("×")}`);
  }
}
