import { describe, expect, it } from "vitest";
import { mergeResources, readResources, sbatchArgs } from "../../../src/exec/slurm/sbatch-options.js";
import { UsageError } from "../../../src/core/errors.js";

describe("18.3 a task's resources as sbatch options", () => {
  it("maps cpus, memory, time, partition and extra options", () => {
    const r = readResources("coadd", { cpus: 4, memory: "2G", time: "1:30:00", partition: "short", extra: "--qos=low --exclusive" });
    expect(sbatchArgs(r)).toEqual(["--cpus-per-task=4", "--mem=2048M", "--time=90", "--partition=short", "--qos=low", "--exclusive"]);
    expect(sbatchArgs(readResources("t", { time: "90s", mem: 500 }))).toEqual(["--mem=500M", "--time=2"]);
    expect(sbatchArgs(readResources("t", { time: "2h" }))).toEqual(["--time=120"]);
    expect(sbatchArgs(readResources("t", undefined))).toEqual([]);
  });

  it("a job of several tasks takes the largest of each", () => {
    const merged = mergeResources([readResources("a", { cpus: 2, time: 10 }), readResources("b", { cpus: 1, memory: "1G", time: 30 })]);
    expect(sbatchArgs(merged)).toEqual(["--cpus-per-task=2", "--mem=1024M", "--time=30"]);
  });

  it("a value of the wrong kind is a usage error naming the task", () => {
    expect(() => readResources("coadd", { cpus: "many" })).toThrow(UsageError);
    expect(() => readResources("coadd", { cpus: "many" })).toThrow('task coadd: resources.cpus expects a whole number of at least 1, got "many"');
    expect(() => readResources("coadd", { memory: "lots" })).toThrow("task coadd: resources.memory expects a size such as 500M or 4G");
    expect(() => readResources("coadd", { time: "soon" })).toThrow("task coadd: resources.time expects minutes");
  });
});
